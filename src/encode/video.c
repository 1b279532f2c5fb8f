/*
 * The video encoder: opening the one that works, pictures in, packets out.
 *
 * Pictures reach the encoder without a copy: each GvPicture is wrapped in an
 * AVFrame whose buffer's free callback hands the planes back to the caller,
 * so an encoder that keeps frames for lookahead returns them when it is done.
 * Only an encoder that cannot take yuv420p (ProRes, Quick Sync, VAAPI) gets
 * a converted copy, and then the caller's planes go back at once.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/avstring.h>

#include "color.h"
#include <libavutil/dict.h>
#include <libavutil/hwcontext.h>
#include <libavutil/mathematics.h>

#define DEFAULT_BITRATE 5000000

/* x264's preset names, fastest first; other encoders' speed knobs are
 * mapped from the position in this list. */
static const char *const preset_names[] = {
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium",    "slow",      "slower",   "veryslow", "placebo",
};
#define N_PRESETS ((int)(sizeof(preset_names) / sizeof(preset_names[0])))
static const int svtav1_preset[N_PRESETS] = { 12, 11, 10, 9, 8, 7, 6, 5, 4, 2 };
static const int aom_cpu_used[N_PRESETS] = { 8, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
static const int vpx_cpu_used[N_PRESETS] = { 5, 5, 5, 4, 4, 3, 2, 1, 0, 0 };

/* ---------------------------------------------------------------- */
/* Opening an encoder                                                 */

static int preset_index(const char *const preset)
{
    for (int i = 0; i < N_PRESETS; i++)
        if (!strcmp(preset, preset_names[i]))
            return i;
    return -1;
}

/* An encoder's speed setting from PRESET: x264's names, or the encoder's
 * own number. Returns 0 and the text, or GV_ERR_SETTING. */
static int speed_option(const GvEncoder *const e, const char *const preset, const int table[],
                        char *const out, const size_t len)
{
    const int i = preset_index(preset);
    if (i >= 0) {
        snprintf(out, len, "%d", table[i]);
        return 0;
    }
    char *end;
    const long v = strtol(preset, &end, 10);
    if (end != preset && !*end && v >= -16 && v <= 16) {
        snprintf(out, len, "%ld", v);
        return 0;
    }
    gv_log(e->log, GV_LOG_ERROR,
           "PRESET: '%s' is not valid: ultrafast ... placebo, or a number for %s", preset,
           e->name);
    return GV_ERR_SETTING;
}

/* av_dict_set that remembers the first failure in *err: an option lost
 * to a failed allocation would silently change the encoding (preset,
 * CRF, profile, fast start), so it fails the encoder instead. */
static void set_opt(AVDictionary **const d, const char *const key, const char *const value,
                    int *const err)
{
    const int r = av_dict_set(d, key, value, 0);
    if (r < 0 && *err >= 0)
        *err = r;
}

/*
 * libx264's threads and look-ahead sized to p->memory_bytes. Nothing is
 * set where x264's own choices fit, so that a run within its limit
 * encodes exactly as it would without one.
 */
static void x264_memory(const GvEncoder *const e, const GvEncodeParams *const p,
                        AVCodecContext *const cc, const char *const preset,
                        AVDictionary **const opts, int *const err)
{
    if (p->memory_bytes <= 0)
        return;
    const GvX264Memory m = gv_x264_memory(p->width, p->height, preset, p->threads,
                                          gv_x264_cores(), p->memory_bytes);
    const int64_t mib = INT64_C(1) << 20;
    const long long need = (long long)((m.bytes + mib - 1) / mib);
    const long long left = (long long)(p->memory_bytes / mib);
    char params[160];
    if (m.own) {
        gv_log(e->log, GV_LOG_INFO,
               "memory: libx264 with its own %d threads and rc-lookahead %d, about %lld MiB "
               "of the %lld MiB MEMORY_LIMIT leaves it", m.threads, m.lookahead, need, left);
        return;
    }
    snprintf(params, sizeof(params), "threads=%d:rc-lookahead=%d:sync-lookahead=%d:bframes=%d%s",
             m.threads, m.lookahead, m.sync_lookahead, m.bframes,
             m.lookahead ? "" : ":mbtree=0"); /* mb-tree needs a look-ahead */
    cc->thread_count = m.threads;
    set_opt(opts, "x264-params", params, err);
    if (m.fits)
        gv_log(e->log, GV_LOG_INFO, "memory: libx264 with %s, about %lld MiB of the %lld MiB "
               "MEMORY_LIMIT leaves it", params, need, left);
    else
        gv_log(e->log, GV_LOG_WARNING, "memory: MEMORY_LIMIT leaves libx264 %lld MiB, less than "
               "the %lld MiB of its smallest settings: encoding with %s", left, need, params);
}

/* Options of the software encoders: constant quality at CRF, speed from
 * PRESET. Unknown encoders get the bitrate, their defaults being poor. */
static int software_options(const GvEncoder *const e, const GvEncodeParams *const p,
                            AVCodecContext *const cc, AVDictionary **const opts)
{
    const char *const n = cc->codec->name;
    const char *const preset = p->preset && *p->preset ? p->preset : "faster";
    char num[32];
    int ret = 0, set = 0;

    snprintf(num, sizeof(num), "%d", p->crf);
    if (!strcmp(n, "libx264") || !strcmp(n, "libx265")) {
        if (preset_index(preset) < 0) {
            gv_log(e->log, GV_LOG_ERROR, "PRESET: '%s' is not valid: accepted are ultrafast, "
                   "superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo",
                   preset);
            return GV_ERR_SETTING;
        }
        cc->bit_rate = 0;
        set_opt(opts, "preset", preset, &set);
        set_opt(opts, "crf", num, &set);
        if (!strcmp(n, "libx264")) {
            /* lossless (CRF 0) needs High 4:4:4 Predictive, which x264 picks itself */
            if (p->crf > 0)
                set_opt(opts, "profile", "high", &set);
            x264_memory(e, p, cc, preset, opts, &set);
        } else {
            set_opt(opts, "profile", "main", &set);
            /* x265 prints its banner to stderr itself, not through av_log */
            set_opt(opts, "x265-params", "log-level=error", &set);
        }
    } else if (!strcmp(n, "libsvtav1")) {
        cc->bit_rate = 0;
        set_opt(opts, "crf", num, &set);
        if ((ret = speed_option(e, preset, svtav1_preset, num, sizeof(num))) < 0)
            return ret;
        set_opt(opts, "preset", num, &set);
    } else if (!strcmp(n, "libaom-av1") || !strcmp(n, "libvpx-vp9")) {
        cc->bit_rate = 0;
        set_opt(opts, "crf", num, &set);
        set_opt(opts, "row-mt", "1", &set);
        const int *const table = n[3] == 'a' ? aom_cpu_used : vpx_cpu_used;
        if ((ret = speed_option(e, preset, table, num, sizeof(num))) < 0)
            return ret;
        set_opt(opts, "cpu-used", num, &set);
    } else if (!strcmp(n, "prores_ks")) {
        /* alpha needs ProRes 4444 (with 16-bit alpha, prores_ks' default) */
        set_opt(opts, "profile", e->alpha ? "4444" : "hq", &set);
    } else if (!strcmp(n, "libwebp_anim")) {
        /* CRF 23 gives libwebp's own default quality, 75; CRF 0 is lossless */
        cc->bit_rate = 0;
        const int q = 121 - 2 * p->crf;
        snprintf(num, sizeof(num), "%d", q < 0 ? 0 : q > 100 ? 100 : q);
        set_opt(opts, p->crf == 0 ? "lossless" : "quality", p->crf == 0 ? "1" : num, &set);
    } else {
        cc->bit_rate = p->bitrate > 0 ? p->bitrate : DEFAULT_BITRATE;
    }
    return set;
}

/* yuv420p where the encoder takes it, so the caller's planes go in as
 * they are; else the formats we convert to. With alpha: yuva420p, whose
 * planes also go in as they are, else yuva444p10 (ProRes 4444). */
static enum AVPixelFormat input_format(const AVCodec *const c, const int alpha)
{
    /* WebP has no colour tags and players read its Y'CbCr as BT.601: it
     * gets RGB, which libwebp converts as WebP expects (and keeps exactly
     * when lossless) */
    if (c->id == AV_CODEC_ID_WEBP)
        return AV_PIX_FMT_RGB32;
    /* a GIF's frames are remapped to its palette by gif.c */
    if (c->id == AV_CODEC_ID_GIF)
        return AV_PIX_FMT_PAL8;
    static const enum AVPixelFormat wanted[2][3] = {
        { AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV422P10, AV_PIX_FMT_NV12 },
        { AV_PIX_FMT_YUVA420P, AV_PIX_FMT_YUVA444P10, AV_PIX_FMT_NONE },
    };
    if (!c->pix_fmts)
        return alpha ? AV_PIX_FMT_NONE : AV_PIX_FMT_YUV420P;
    for (size_t i = 0; i < 3 && wanted[!!alpha][i] != AV_PIX_FMT_NONE; i++)
        for (const enum AVPixelFormat *f = c->pix_fmts; *f != AV_PIX_FMT_NONE; f++)
            if (*f == wanted[!!alpha][i])
                return wanted[!!alpha][i];
    return AV_PIX_FMT_NONE;
}

static enum AVHWDeviceType device_type(const HwKind hw)
{
    switch (hw) {
    case HW_NVENC: return AV_HWDEVICE_TYPE_CUDA;
    case HW_VAAPI: return AV_HWDEVICE_TYPE_VAAPI;
    case HW_QSV: return AV_HWDEVICE_TYPE_QSV;
    default: return AV_HWDEVICE_TYPE_NONE;
    }
}

static int vaapi_frames(AVCodecContext *const cc, AVBufferRef *const dev)
{
    AVBufferRef *ref = av_hwframe_ctx_alloc(dev);
    if (!ref)
        return AVERROR(ENOMEM);
    AVHWFramesContext *const fc = (AVHWFramesContext *)ref->data;
    fc->format = AV_PIX_FMT_VAAPI;
    fc->sw_format = AV_PIX_FMT_NV12;
    fc->width = cc->width;
    fc->height = cc->height;
    fc->initial_pool_size = 20;
    int ret = av_hwframe_ctx_init(ref);
    if (ret >= 0)
        cc->hw_frames_ctx = av_buffer_ref(ref);
    if (ret >= 0 && !cc->hw_frames_ctx)
        ret = AVERROR(ENOMEM);
    av_buffer_unref(&ref);
    return ret;
}

/*
 * Opens codec into e->cc. Returns 0, an AVERROR (the encoder would not open:
 * the caller may try another), or GV_ERR_SETTING (already logged).
 */
static int open_codec(GvEncoder *const e, const GvEncodeParams *const p,
                      const AVCodec *const codec, const HwKind hw, AVBufferRef *const dev)
{
    AVDictionary *opts = NULL;
    int ret = 0;
    AVCodecContext *const cc = avcodec_alloc_context3(codec);
    if (!cc)
        return AVERROR(ENOMEM);
    av_strlcpy(e->name, codec->name, sizeof(e->name));

    cc->width = p->width;
    cc->height = p->height;
    av_reduce(&cc->time_base.num, &cc->time_base.den, p->fps_den, p->fps_num, INT_MAX);
    cc->framerate = av_inv_q(cc->time_base);
    cc->sample_aspect_ratio = (AVRational){ 1, 1 };
    cc->color_primaries = AVCOL_PRI_BT709;
    cc->color_trc = AVCOL_TRC_BT709;
    cc->colorspace = AVCOL_SPC_BT709;
    cc->color_range = AVCOL_RANGE_MPEG;
    cc->chroma_sample_location = AVCHROMA_LOC_LEFT;
    cc->thread_count = p->threads > 0 ? p->threads : 0;
    if (e->fmt->oformat->flags & AVFMT_GLOBALHEADER)
        cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    e->sw_format = input_format(codec, e->alpha);
    if (hw == HW_VAAPI) {
        cc->pix_fmt = AV_PIX_FMT_VAAPI;
        e->sw_format = AV_PIX_FMT_NV12;
        if ((ret = vaapi_frames(cc, dev)) < 0)
            goto end;
    } else if (e->sw_format == AV_PIX_FMT_NONE) {
        snprintf(e->av_error, sizeof(e->av_error),
                 e->alpha ? "it takes none of the formats with alpha gridvid gives (yuva420p, "
                            "yuva444p10)"
                          : "it takes none of the pixel formats gridvid gives (yuv420p, "
                            "yuv422p10, nv12)");
        ret = AVERROR(ENOSYS);
        goto end;
    } else {
        cc->pix_fmt = e->sw_format;
        if (dev && !(cc->hw_device_ctx = av_buffer_ref(dev))) {
            ret = AVERROR(ENOMEM);
            goto end;
        }
    }

    if (hw != HW_NONE) {
        /* hardware encoders have no CRF worth the name: rate by bitrate */
        cc->bit_rate = p->bitrate > 0 ? p->bitrate : DEFAULT_BITRATE;
        if (codec->id == AV_CODEC_ID_H264) {
            cc->profile = FF_PROFILE_H264_HIGH;
            set_opt(&opts, "profile", "high", &ret);
        } else if (codec->id == AV_CODEC_ID_HEVC) {
            cc->profile = FF_PROFILE_HEVC_MAIN;
            set_opt(&opts, "profile", "main", &ret);
        }
        if (ret < 0)
            goto end;
    } else if ((ret = software_options(e, p, cc, &opts)) < 0) {
        goto end;
    }

    if ((ret = avcodec_open2(cc, codec, &opts)) < 0)
        goto end;
    const AVDictionaryEntry *t = NULL;
    while ((t = av_dict_get(opts, "", t, AV_DICT_IGNORE_SUFFIX)))
        gv_log(e->log, GV_LOG_DEBUG, "%s: option %s not used", codec->name, t->key);

end:
    av_dict_free(&opts);
    if (ret < 0) {
        AVCodecContext *tmp = cc;
        avcodec_free_context(&tmp);
    } else {
        e->cc = cc;
    }
    return ret;
}

/*
 * Tries one encoder. Returns 0 when it opened; an AVERROR with *present set
 * when it failed where it might have worked (a device was found, or it was
 * named); GV_ERR_SETTING when the settings are at fault.
 */
static int try_encoder(GvEncoder *const e, const GvEncodeParams *const p,
                       const AVCodec *const codec, const int named, int *const present)
{
    const HwKind hw = gv_enc_hw_kind(codec);
    AVBufferRef *dev = NULL;
    int ret = 0;

    e->av_error[0] = 0;
    *present = 1;
    const enum AVHWDeviceType type = device_type(hw);
    if (type != AV_HWDEVICE_TYPE_NONE &&
        (ret = av_hwdevice_ctx_create(&dev, type, NULL, NULL, 0)) < 0) {
        /* no such device here: auto passes on quietly */
        char why[256];
        gv_enc_reason(e, ret, 0, why, sizeof(why));
        snprintf(e->av_error, sizeof(e->av_error), "no %s device: ",
                 av_hwdevice_get_type_name(type));
        av_strlcat(e->av_error, why, sizeof(e->av_error));
        *present = named;
        goto end;
    }
    e->hw = hw;
    ret = open_codec(e, p, codec, hw, dev);

end:
    av_buffer_unref(&dev);
    return ret;
}

static int open_encoder(GvEncoder *const e, const GvEncodeParams *const p, const Choice *const ch)
{
    const AVCodec *list[8];
    int n = 0;
    char why[256], failed[64] = "", failed_why[256] = "";

    if (p->software || p->alpha) {
        /* the restart after a hardware encoder was lost: no second try;
         * and alpha, which no hardware encoder here keeps */
        list[n++] = ch->named && gv_enc_hw_kind(ch->named) == HW_NONE
                        ? ch->named
                        : gv_enc_software_encoder(ch->ci);
    } else if (ch->named) {
        list[n++] = ch->named;
    } else {
        for (int i = 0; i < 4; i++) {
            const char *const name = ch->ci->hardware[i];
#if defined(__APPLE__)
            if (i == 0 && !p->videotoolbox)
                continue;
#else
            if (i == 0)
                continue;
#endif
            const AVCodec *const c = name ? avcodec_find_encoder_by_name(name) : NULL;
            if (c)
                list[n++] = c;
        }
    }
    if (!p->software && !p->alpha && (!ch->named || gv_enc_hw_kind(ch->named) != HW_NONE))
        list[n++] = gv_enc_software_encoder(ch->ci);

    for (int i = 0; i < n; i++) {
        const AVCodec *const c = list[i];
        int present;
        const int ret = try_encoder(e, p, c, c == ch->named, &present);
        if (ret == 0)
            break;
        if (ret == GV_ERR_SETTING)
            return ret;
        gv_enc_reason(e, ret, 0, why, sizeof(why));
        if (gv_enc_hw_kind(c) == HW_NONE) {
            gv_log(e->log, GV_LOG_ERROR, "cannot open the %s encoder: %s", c->name, why);
            return gv_enc_codec_error(ret);
        }
        gv_log(e->log, GV_LOG_DEBUG, "%s unavailable: %s", c->name, why);
        /* one warning, for the first hardware encoder that should have worked */
        if (present && !failed[0]) {
            av_strlcpy(failed, c->name, sizeof(failed));
            av_strlcpy(failed_why, why, sizeof(failed_why));
        }
    }
    if (failed[0])
        gv_log(e->log, GV_LOG_WARNING, "%s unavailable (%s): using %s", failed, failed_why,
               e->name);
    gv_log(e->log, GV_LOG_DEBUG, "encoder: %s", e->name);
    return 0;
}

/* Pool for pictures converted to e->sw_format, 64-byte aligned lines. */
static int init_pool(GvEncoder *const e)
{
    const size_t w = (size_t)e->width, h = (size_t)e->height;
    size_t ls[4], rows[4];
    int planes;
    if (e->sw_format == AV_PIX_FMT_YUVA444P10) {
        ls[0] = ls[1] = ls[2] = ls[3] = (w * 2 + 63) & ~(size_t)63;
        rows[0] = rows[1] = rows[2] = rows[3] = h;
        planes = 4;
    } else if (e->sw_format == AV_PIX_FMT_YUV422P10) {
        ls[0] = (w * 2 + 63) & ~(size_t)63;
        ls[1] = ls[2] = (w + 63) & ~(size_t)63; /* w / 2 samples of 2 bytes */
        rows[0] = rows[1] = rows[2] = h;
        planes = 3;
    } else if (e->sw_format == AV_PIX_FMT_RGB32) {
        ls[0] = (w * 4 + 63) & ~(size_t)63;
        rows[0] = h;
        planes = 1;
    } else {
        ls[0] = ls[1] = (w + 63) & ~(size_t)63;
        rows[0] = h;
        rows[1] = h / 2;
        planes = 2;
    }
    /* av_image_check_size() bounded w * h well below INT_MAX / 8, so
     * none of this overflows even with a 32-bit size_t. */
    size_t size = 0;
    for (int i = 0; i < planes; i++) {
        e->conv_linesize[i] = (int)ls[i];
        e->conv_offset[i] = size;
        size += ls[i] * rows[i];
    }
    e->pool = av_buffer_pool_init(size, NULL);
    return e->pool ? 0 : -ENOMEM;
}

int gv_enc_video_open(GvEncoder *const e, const GvEncodeParams *const p, const Choice *const ch)
{
    int ret = open_encoder(e, p, ch);
    if (ret < 0)
        return ret;
    if (e->sw_format == AV_PIX_FMT_PAL8)
        return gv_enc_gif_open(e, p);
    if (e->sw_format != AV_PIX_FMT_YUV420P && e->sw_format != AV_PIX_FMT_YUVA420P &&
        (ret = init_pool(e)) < 0)
        return ret;
    if (e->hw == HW_VAAPI && !(e->hw_frame = av_frame_alloc()))
        return -ENOMEM;
    return 0;
}

/* ---------------------------------------------------------------- */
/* Pictures in, packets out                                           */

int gv_encoder_pictures_held(const GvEncoder *const e)
{
    /* libx264 copies a picture into its own frames as it is sent, and
     * libavcodec may keep one sent while its packet waits to be read */
    if (e->pool || e->gif || !strcmp(e->name, "libx264"))
        return GV_ENCODER_PICTURES_COPIED;
    return GV_ENCODER_PICTURES_KEPT;
}

typedef struct Release {
    void (*fn)(void *opaque);
    void *opaque;
} Release;

static void release_planes(void *const opaque, uint8_t *const data)
{
    (void)data;
    Release *const r = opaque;
    r->fn(r->opaque);
    free(r);
}

/* Wraps the caller's planes in f. On failure release has been called. */
static int wrap_picture(const GvPicture *const pic, AVFrame *const f,
                        void (*const release)(void *opaque), void *const opaque)
{
    Release *const r = malloc(sizeof(*r));
    if (!r) {
        release(opaque);
        return -ENOMEM;
    }
    r->fn = release;
    r->opaque = opaque;
    /* The size is nominal: the buffer only carries the release. */
    f->buf[0] = av_buffer_create(pic->data[0], (size_t)pic->linesize[0] * (size_t)pic->height,
                                 release_planes, r, 0);
    if (!f->buf[0]) {
        free(r);
        release(opaque);
        return -ENOMEM;
    }
    for (int i = 0; i < 3; i++) {
        f->data[i] = pic->data[i];
        f->linesize[i] = pic->linesize[i];
    }
    f->format = AV_PIX_FMT_YUV420P;
    if (pic->alpha) {
        f->data[3] = pic->alpha;
        f->linesize[3] = pic->alpha_linesize;
        f->format = AV_PIX_FMT_YUVA420P;
    }
    return 0;
}

/* Luma widened to 10 bits, exactly (Y << 2). */
static void luma_10(const GvPicture *const pic, AVFrame *const f)
{
    for (int y = 0; y < pic->height; y++) {
        const uint8_t *const src = pic->data[0] + (ptrdiff_t)y * pic->linesize[0];
        uint16_t *const dst = (uint16_t *)(f->data[0] + (ptrdiff_t)y * f->linesize[0]);
        for (int x = 0; x < pic->width; x++)
            dst[x] = (uint16_t)(src[x] << 2);
    }
}

/* The two 4:2:0 chroma lines of plane p that make output line y, with
 * weights 3 and 1 (see to_yuv422p10). */
static void chroma_lines(const GvPicture *const pic, const int p, const int y,
                         const uint8_t **const a, const uint8_t **const b)
{
    const int ch = pic->height / 2, j = y / 2;
    const int k = y & 1 ? (j + 1 < ch ? j + 1 : j) : (j > 0 ? j - 1 : 0);
    *a = pic->data[p] + (ptrdiff_t)j * pic->linesize[p];
    *b = pic->data[p] + (ptrdiff_t)k * pic->linesize[p];
}

/*
 * 4:2:0 to 4:2:2 at 10 bits. With left (MPEG-2) siting a 4:2:0 chroma
 * sample lies half a luma row below the top of its pair, so output rows
 * 2j and 2j + 1 are 3/4 of sample j plus 1/4 of its neighbour above or
 * below; at 10 bits that is exactly 3a + b, no rounding.
 */
static void to_yuv422p10(const GvPicture *const pic, AVFrame *const f)
{
    luma_10(pic, f);
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < pic->height; y++) {
            const uint8_t *a, *b;
            chroma_lines(pic, p, y, &a, &b);
            uint16_t *const dst = (uint16_t *)(f->data[p] + (ptrdiff_t)y * f->linesize[p]);
            for (int x = 0; x < pic->width / 2; x++)
                dst[x] = (uint16_t)(3 * a[x] + b[x]);
        }
}

/* 10 bits from 8: 0 stays 0 and 255 becomes 1023 */
static uint16_t ten_bits(const unsigned v)
{
    return (uint16_t)(v << 2 | v >> 6);
}

/*
 * 4:2:0 with alpha to 4:4:4 with alpha at 10 bits (ProRes 4444): luma and
 * alpha widened; chroma lines as for 4:2:2, and each odd column halfway
 * between the samples of its two neighbours (left siting puts sample cx
 * on luma column 2 cx).
 */
static void to_yuva444p10(const GvPicture *const pic, AVFrame *const f)
{
    const int w = pic->width, cw = w / 2;
    luma_10(pic, f);
    for (int y = 0; y < pic->height; y++) {
        const uint8_t *const a = pic->alpha + (ptrdiff_t)y * pic->alpha_linesize;
        uint16_t *const da = (uint16_t *)(f->data[3] + (ptrdiff_t)y * f->linesize[3]);
        for (int x = 0; x < w; x++)
            da[x] = ten_bits(a[x]);
    }
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < pic->height; y++) {
            const uint8_t *a, *b;
            chroma_lines(pic, p, y, &a, &b);
            uint16_t *const dst = (uint16_t *)(f->data[p] + (ptrdiff_t)y * f->linesize[p]);
            for (int x = 0; x < cw; x++) {
                const int n = x + 1 < cw ? x + 1 : x;
                const unsigned here = 3u * a[x] + b[x], next = 3u * a[n] + b[n];
                dst[2 * x] = (uint16_t)here;
                dst[2 * x + 1] = (uint16_t)((here + next + 1) / 2);
            }
        }
}

static void to_nv12(const GvPicture *const pic, AVFrame *const f)
{
    const int w = pic->width, h = pic->height;
    for (int y = 0; y < h; y++)
        memcpy(f->data[0] + (ptrdiff_t)y * f->linesize[0],
               pic->data[0] + (ptrdiff_t)y * pic->linesize[0], (size_t)w);
    for (int y = 0; y < h / 2; y++) {
        const uint8_t *const u = pic->data[1] + (ptrdiff_t)y * pic->linesize[1];
        const uint8_t *const v = pic->data[2] + (ptrdiff_t)y * pic->linesize[2];
        uint8_t *const dst = f->data[1] + (ptrdiff_t)y * f->linesize[1];
        for (int x = 0; x < w / 2; x++) {
            dst[2 * x] = u[x];
            dst[2 * x + 1] = v[x];
        }
    }
}

/* BT.709 limited-range 4:2:0 to packed RGB (native-endian ARGB words),
 * through color.c's inverse of the tiles' conversion; each chroma sample
 * serves its 2 x 2 block. */
static void to_rgb32(const GvPicture *const pic, AVFrame *const f)
{
    for (int y = 0; y < pic->height; y++) {
        const uint8_t *const yl = pic->data[0] + (ptrdiff_t)y * pic->linesize[0];
        const uint8_t *const u = pic->data[1] + (ptrdiff_t)(y / 2) * pic->linesize[1];
        const uint8_t *const v = pic->data[2] + (ptrdiff_t)(y / 2) * pic->linesize[2];
        uint32_t *const dst = (uint32_t *)(f->data[0] + (ptrdiff_t)y * f->linesize[0]);
        const uint8_t *const al = pic->alpha ? pic->alpha + (ptrdiff_t)y * pic->alpha_linesize
                                             : NULL;
        for (int x = 0; x < pic->width; x++) {
            uint8_t r, g, b;
            gv_yuv_to_rgb(yl[x], u[x / 2], v[x / 2], &r, &g, &b);
            dst[x] = (uint32_t)(al ? al[x] : 255) << 24 | (uint32_t)r << 16 | (uint32_t)g << 8 | b;
        }
    }
}

static int convert_picture(const GvEncoder *const e, const GvPicture *const pic,
                           AVFrame *const f)
{
    f->buf[0] = av_buffer_pool_get(e->pool);
    if (!f->buf[0])
        return -ENOMEM;
    for (int i = 0; i < 4; i++) {
        f->data[i] = e->conv_linesize[i] ? f->buf[0]->data + e->conv_offset[i] : NULL;
        f->linesize[i] = e->conv_linesize[i];
    }
    f->format = e->sw_format;
    if (e->sw_format == AV_PIX_FMT_YUVA444P10)
        to_yuva444p10(pic, f);
    else if (e->sw_format == AV_PIX_FMT_YUV422P10)
        to_yuv422p10(pic, f);
    else if (e->sw_format == AV_PIX_FMT_RGB32)
        to_rgb32(pic, f);
    else
        to_nv12(pic, f);
    return 0;
}

/*
 * A failure of the video encoder itself (not of the file). A hardware
 * encoder's is reported once, as the warning of GV_ENCODE_LOST, so here it
 * only goes to the debug log.
 */
static int encoder_failed(GvEncoder *const e, const char *const what, const int err)
{
    char why[256];
    gv_enc_reason(e, err, 0, why, sizeof(why));
    e->codec_failed = 1;
    av_strlcpy(e->failure, why, sizeof(e->failure));
    gv_log(e->log, e->hw != HW_NONE ? GV_LOG_DEBUG : GV_LOG_ERROR, "%s: %s", what, why);
    return gv_enc_codec_error(err);
}

static int write_packets(GvEncoder *const e, const char *const what)
{
    int ret;
    while ((ret = avcodec_receive_packet(e->cc, e->pkt)) >= 0) {
        e->pkt->stream_index = e->st->index;
        /* Every picture lasts one frame; saying so gives the last sample
         * its duration, so the file is exactly frames / fps long. */
        e->pkt->duration = 1;
        av_packet_rescale_ts(e->pkt, e->cc->time_base, e->st->time_base);
        if ((ret = gv_enc_write_packet(e)) < 0)
            return ret;
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    return encoder_failed(e, what, ret);
}

int gv_enc_video_encode(GvEncoder *const e, const AVFrame *const f, const char *const what)
{
    int ret = avcodec_send_frame(e->cc, f);
    if (ret == AVERROR(EAGAIN)) {
        /* the encoder wants its output read before it takes more */
        if ((ret = write_packets(e, what)) < 0)
            return ret;
        ret = avcodec_send_frame(e->cc, f);
    }
    if (ret < 0)
        return encoder_failed(e, what, ret);
    return write_packets(e, what);
}

/* The one warning of a hardware encoder lost mid-stream. */
static int lost(GvEncoder *const e, const char *const when, const char *const why)
{
    const AVCodec *const sw = gv_enc_software_encoder(e->ci);
    gv_log(e->log, GV_LOG_WARNING, "%s failed %s (%s): encoding again from the first frame with %s",
           e->name, when, why, sw ? sw->name : "the software encoder");
    return GV_ENCODE_LOST;
}

int gv_encoder_send(GvEncoder *const e, const GvPicture *const pic, const int64_t index,
                    void (*const release)(void *opaque), void *const opaque)
{
    char what[64], why[256];
    int ret = 0;
    GvEncoder *const prev = gv_enc_enter(e);
    AVFrame *const f = e->frame;
    AVFrame *in = f;

    snprintf(what, sizeof(what), "encoding frame %lld", (long long)index);
    e->codec_failed = 0;
    if (e->state != ST_OPEN) {
        release(opaque);
        ret = GV_ERR_ENCODE;
        goto end;
    }
    if (e->fail_at && index == e->fail_at) {
        release(opaque);
        snprintf(why, sizeof(why), "at frame %lld", (long long)index);
        ret = lost(e, why, "test switch fail_at_frame");
        goto end;
    }
    if (index != e->next || (e->frames && index >= e->frames)) {
        gv_log(e->log, GV_LOG_ERROR, "%s: out of order, frame %lld of %lld was due", what,
               (long long)e->next, (long long)e->frames);
        release(opaque);
        ret = -EINVAL;
        goto end;
    }
    if (pic->width != e->width || pic->height != e->height) {
        gv_log(e->log, GV_LOG_ERROR, "%s: %dx%d given to an encoder of %dx%d", what,
               pic->width, pic->height, e->width, e->height);
        release(opaque);
        ret = -EINVAL;
        goto end;
    }
    if (e->gif) {
        /* kept until the palette is made: encoded by gv_enc_video_flush() */
        ret = gv_enc_gif_add(e, pic);
        release(opaque);
        if (ret == 0)
            e->next++;
        goto end;
    } else if (e->pool) {
        ret = convert_picture(e, pic, f);
        release(opaque); /* the copy is all the encoder needs */
    } else {
        ret = wrap_picture(pic, f, release, opaque);
    }
    if (ret < 0)
        goto end;
    f->width = e->width;
    f->height = e->height;
    f->pts = index;
    f->sample_aspect_ratio = e->cc->sample_aspect_ratio;
    f->color_primaries = e->cc->color_primaries;
    f->color_trc = e->cc->color_trc;
    f->colorspace = e->cc->colorspace;
    f->color_range = e->cc->color_range;
    f->chroma_location = e->cc->chroma_sample_location;

    if (e->hw_frame) {
        in = e->hw_frame;
        if ((ret = av_hwframe_get_buffer(e->cc->hw_frames_ctx, in, 0)) < 0 ||
            (ret = av_hwframe_transfer_data(in, f, 0)) < 0 ||
            (ret = av_frame_copy_props(in, f)) < 0) {
            snprintf(why, sizeof(why), "%s: upload to %s", what, e->name);
            ret = encoder_failed(e, why, ret);
            goto end;
        }
    }
    if ((ret = gv_enc_video_encode(e, in, what)) < 0)
        goto end;
    e->next++;
    /* the audio that plays until this picture ends */
    if (e->audio && (ret = gv_enc_audio_until_frame(e, e->next)) < 0)
        goto end;

end:
    /* drops our reference: the encoder keeps its own while it needs one */
    av_frame_unref(f);
    if (e->hw_frame)
        av_frame_unref(e->hw_frame);
    if (ret < 0 && ret != GV_ENCODE_LOST && e->codec_failed && e->hw != HW_NONE) {
        snprintf(what, sizeof(what), "at frame %lld", (long long)index);
        ret = lost(e, what, e->failure);
    }
    if (ret < 0)
        e->state = ST_FAILED;
    gv_enc_leave(prev);
    return ret;
}

int gv_enc_video_flush(GvEncoder *const e)
{
    e->codec_failed = 0;
    int ret = e->gif ? gv_enc_gif_finish(e) : 0;
    if (ret == 0)
        ret = gv_enc_video_encode(e, NULL, "flushing the encoder");
    if (ret < 0 && e->codec_failed && e->hw != HW_NONE)
        ret = lost(e, "at the end", e->failure);
    return ret;
}
