#include "preview.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "framequeue.h"
#include "png.h"
#include "render/compositor.h"

typedef struct Shown {
    int *ks;
    int n;
} Shown;

static void collect_image(void *opaque, int k)
{
    Shown *const sh = opaque;
    sh->ks[sh->n++] = k;
}

int64_t gv_preview_frame(const GvSettings *s)
{
    /* p = 1 (the end) is a valid frame too */
    return (int64_t)floor(s->preview_at * s->fps_num / s->fps_den + 0.5);
}

int gv_preview_write(const GvSettings *s, const GvLayout *l, GvTileStore *ts,
                     const uint8_t bg_yuv[3], const GvOverlays *ov, atomic_int *cancel,
                     const GvLog *log)
{
    int ret = 0;
    Shown shown = { calloc((size_t)l->p.n_images + 1, sizeof(int)), 0 };
    GvOffset *const offs = calloc((size_t)l->n_lanes * (size_t)l->p.motion_blur, sizeof(*offs));
    GvPicPool pool = { 0 };
    GvPoolPic *pp = NULL;
    if (!shown.ks || !offs || gv_picpool_init(&pool, s->width, s->height, 1, s->transparent) < 0 ||
        !(pp = gv_picpool_get(&pool, cancel))) {
        ret = -ENOMEM;
        goto end;
    }
    const int64_t frame = gv_preview_frame(s);
    if (gv_frame_images(l, frame, collect_image, &shown) < 0) {
        ret = -ENOMEM;
        goto end;
    }
    ret = gv_tilestore_load(ts, shown.ks, shown.n);
    if (atomic_load(cancel))
        ret = GV_ERR_CANCELLED;
    if (ret < 0)
        goto end;
    gv_frame_offsets(l, frame, offs);
    if ((ret = gv_cpu_render(l, bg_yuv, gv_tilestore_tiles(ts), offs, &pp->pic, 0, s->height)) < 0)
        goto end;
    /* a transparent background, as the video's frames: over white too */
    static const uint8_t white[3] = GV_UNDER_WHITE;
    if (s->transparent && (ret = gv_cpu_render(l, white, gv_tilestore_tiles(ts), offs,
                                               &pp->over, 0, s->height)) < 0)
        goto end;
    gv_overlays_finish(ov, frame, &pp->pic, s->transparent ? &pp->over : NULL);
    char reason[256] = "";
    if ((ret = gv_picture_write_png(&pp->pic, s->preview, reason, sizeof(reason))) < 0) {
        /* out of memory is not an I/O error, and leaves no reason text */
        if (ret != -ENOMEM)
            gv_log(log, GV_LOG_ERROR, "%s: %s", s->preview, reason);
        goto end;
    }
end:
    /* the tiles go with the store */
    free(shown.ks);
    free(offs);
    gv_picpool_free(&pool);
    return ret;
}
