/*
 * Animated GIF: one palette for the whole loop.
 *
 * A GIF shows at most 256 colours. A palette made per frame flickers as
 * the wall slides (a colour moves between entries from frame to frame),
 * so every frame is kept (as the compositor made it, Y'CbCr 4:2:0) and
 * added to libimagequant's histogram as it arrives; when the last one is
 * in, libimagequant makes one palette from all of them, and each frame is
 * remapped to it (Floyd-Steinberg dithering) and given to libavcodec's GIF
 * encoder, which writes the palette once and each frame's changed part.
 * What the kept frames may take is checked against MEMORY_LIMIT before
 * anything is rendered (gv_enc_gif_check()).
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libimagequant.h>

#include "color.h"

struct GvGif {
    liq_attr *attr;
    liq_histogram *hist;
    int w, h;
    int64_t n, cap;
    uint8_t **frames; /* w x h luma, then w/2 x h/2 Cb and Cr */
};

/* Bytes one kept frame takes. */
static size_t frame_bytes(const int w, const int h)
{
    return (size_t)w * (size_t)h * 3 / 2;
}

int gv_enc_gif_check(const GvEncodeParams *const p, char *const err, const size_t len)
{
    /* a GIF's delays are in hundredths of a second, and browsers show
     * delays under 2 of them as 10: 50 frames a second at most */
    if ((int64_t)p->fps_num > INT64_C(50) * p->fps_den) {
        snprintf(err, len, "FPS: %.3g is too fast for a GIF, which shows at most 50 frames a "
                 "second (--fps 15 to 25 suits the web)", (double)p->fps_num / p->fps_den);
        return GV_ERR_SETTING;
    }
    if (p->width > 4096 || p->height > 4096) {
        snprintf(err, len, "SIZE: %dx%d is too large for a GIF: at most 4096 a side "
                 "(--size 640x360 to 720p suits the web)", p->width, p->height);
        return GV_ERR_SETTING;
    }
    const int64_t need = p->frames * (int64_t)frame_bytes(p->width, p->height);
    if (p->memory_bytes > 0 && need > p->memory_bytes) {
        const int64_t mib = INT64_C(1) << 20;
        snprintf(err, len, "a GIF keeps every frame until its palette is made: %lld frames of "
                 "%dx%d take %lld MiB, more than the %lld MiB that MEMORY_LIMIT leaves "
                 "(--size 640x360, --fps 15 or a shorter --duration fit)",
                 (long long)p->frames, p->width, p->height, (long long)((need + mib - 1) / mib),
                 (long long)(p->memory_bytes / mib));
        return GV_ERR_SETTING;
    }
    return 0;
}

int gv_enc_gif_open(GvEncoder *const e, const GvEncodeParams *const p)
{
    GvGif *const g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    e->gif = g;
    g->w = p->width;
    g->h = p->height;
    g->cap = p->frames > 0 ? p->frames : 64;
    g->frames = calloc((size_t)g->cap, sizeof(*g->frames));
    if (!g->frames || !(g->attr = liq_attr_create()))
        return -ENOMEM;
    /* CRF as for WebP: 23 asks for libimagequant's quality 75, 10 or less
     * for 100 (the fewest colours that reach it, up to 256) */
    const int q = 121 - 2 * p->crf;
    if (liq_set_quality(g->attr, 0, q < 0 ? 0 : q > 100 ? 100 : q) != LIQ_OK ||
        !(g->hist = liq_histogram_create(g->attr)))
        return -ENOMEM;
    return 0;
}

/* A kept frame, read by libimagequant a row at a time. */
typedef struct Rows {
    const uint8_t *f;
    int w, h;
} Rows;

static void frame_row(liq_color out[], const int row, const int width, void *const user)
{
    const Rows *const r = user;
    const size_t luma = (size_t)r->w * (size_t)r->h;
    const uint8_t *const y = r->f + (size_t)row * (size_t)r->w;
    const uint8_t *const u = r->f + luma + (size_t)(row / 2) * (size_t)(r->w / 2);
    const uint8_t *const v = u + luma / 4;
    for (int x = 0; x < width; x++) {
        uint8_t cr, cg, cb;
        gv_yuv_to_rgb(y[x], u[x / 2], v[x / 2], &cr, &cg, &cb);
        out[x] = (liq_color){ cr, cg, cb, 255 };
    }
}

/* The picture's planes copied into a kept frame, or NULL. */
static uint8_t *keep(const GvGif *const g, const GvPicture *const pic)
{
    const size_t luma = (size_t)g->w * (size_t)g->h;
    uint8_t *const f = malloc(frame_bytes(g->w, g->h));
    if (!f)
        return NULL;
    for (int y = 0; y < g->h; y++)
        memcpy(f + (size_t)y * (size_t)g->w, pic->data[0] + (size_t)y * (size_t)pic->linesize[0],
               (size_t)g->w);
    for (int p = 1; p < 3; p++) {
        uint8_t *const dst = f + luma + (size_t)(p - 1) * (luma / 4);
        for (int y = 0; y < g->h / 2; y++)
            memcpy(dst + (size_t)y * (size_t)(g->w / 2),
                   pic->data[p] + (size_t)y * (size_t)pic->linesize[p], (size_t)(g->w / 2));
    }
    return f;
}

/* rows must outlive the image. */
static liq_image *frame_image(const GvGif *const g, Rows *const rows, const uint8_t *const f)
{
    *rows = (Rows){ f, g->w, g->h };
    return liq_image_create_custom(g->attr, frame_row, rows, g->w, g->h, 0);
}

int gv_enc_gif_add(GvEncoder *const e, const GvPicture *const pic)
{
    GvGif *const g = e->gif;
    if (g->n == g->cap) {
        uint8_t **const more = realloc(g->frames, sizeof(*more) * (size_t)g->cap * 2);
        if (!more)
            return -ENOMEM;
        memset(more + g->cap, 0, sizeof(*more) * (size_t)g->cap);
        g->frames = more;
        g->cap *= 2;
    }
    uint8_t *const f = keep(g, pic);
    if (!f)
        return -ENOMEM;
    g->frames[g->n++] = f;
    Rows rows;
    liq_image *const img = frame_image(g, &rows, f);
    if (!img)
        return -ENOMEM;
    const liq_error err = liq_histogram_add_image(g->hist, g->attr, img);
    liq_image_destroy(img);
    return err == LIQ_OK ? 0 : -ENOMEM;
}

/* Frame i remapped to the palette, into the PAL8 frame f. */
static int remap(GvEncoder *const e, liq_result *const res, const liq_palette *const pal,
                 uint8_t *const idx, const int64_t i, AVFrame *const f)
{
    GvGif *const g = e->gif;
    Rows rows;
    liq_image *const img = frame_image(g, &rows, g->frames[i]);
    if (!img)
        return -ENOMEM;
    const liq_error err = liq_write_remapped_image(res, img, idx, (size_t)g->w * (size_t)g->h);
    liq_image_destroy(img);
    free(g->frames[i]);
    g->frames[i] = NULL;
    if (err != LIQ_OK)
        return -ENOMEM;
    f->format = AV_PIX_FMT_PAL8;
    f->width = g->w;
    f->height = g->h;
    int ret = av_frame_get_buffer(f, 0);
    if (ret < 0)
        return ret;
    for (int y = 0; y < g->h; y++)
        memcpy(f->data[0] + (size_t)y * (size_t)f->linesize[0], idx + (size_t)y * (size_t)g->w,
               (size_t)g->w);
    uint32_t *const argb = (uint32_t *)f->data[1];
    memset(argb, 0, AVPALETTE_SIZE);
    for (unsigned c = 0; c < pal->count && c < 256; c++)
        argb[c] = (uint32_t)pal->entries[c].a << 24 | (uint32_t)pal->entries[c].r << 16 |
                  (uint32_t)pal->entries[c].g << 8 | pal->entries[c].b;
    f->pts = i;
    return 0;
}

int gv_enc_gif_finish(GvEncoder *const e)
{
    GvGif *const g = e->gif;
    if (g->n == 0)
        return 0;
    liq_result *res = NULL;
    if (liq_histogram_quantize(g->hist, g->attr, &res) != LIQ_OK) {
        gv_log(e->log, GV_LOG_ERROR, "libimagequant could not make the GIF's palette");
        return GV_ERR_ENCODE;
    }
    liq_set_dithering_level(res, 1.0f);
    /* The palette as quantised, for every frame: remapping refines its own
     * copy of it to each image, which would give each frame a palette of
     * its own. */
    const liq_palette pal_copy = *liq_get_palette(res);
    const liq_palette *const pal = &pal_copy;
    uint8_t *const idx = malloc((size_t)g->w * (size_t)g->h);
    int ret = idx ? 0 : -ENOMEM;
    for (int64_t i = 0; ret == 0 && i < g->n; i++) {
        ret = remap(e, res, pal, idx, i, e->frame);
        if (ret == 0) {
            char what[64];
            snprintf(what, sizeof(what), "encoding frame %lld", (long long)i);
            ret = gv_enc_video_encode(e, e->frame, what);
        }
        av_frame_unref(e->frame);
    }
    gv_log(e->log, GV_LOG_DEBUG, "GIF: %u colours for %lld frames, quantisation error %.2f",
           pal->count, (long long)g->n, liq_get_quantization_error(res));
    free(idx);
    liq_result_destroy(res);
    return ret;
}

void gv_enc_gif_free(GvGif **const pg)
{
    GvGif *const g = *pg;
    if (!g)
        return;
    for (int64_t i = 0; i < g->n; i++)
        free(g->frames[i]);
    free(g->frames);
    if (g->hist)
        liq_histogram_destroy(g->hist);
    if (g->attr)
        liq_attr_destroy(g->attr);
    free(g);
    *pg = NULL;
}
