/*
 * Video encoding and muxing: the only module that includes libav*.
 *
 * Pictures reach the encoder without a copy: each GvPicture is wrapped in an
 * AVFrame whose buffer's free callback hands the planes back to the caller,
 * so an encoder that keeps frames for lookahead returns them when it is done.
 * Only an encoder that cannot take yuv420p (ProRes, Quick Sync, VAAPI) gets
 * a converted copy, and then the caller's planes go back at once.
 *
 * An audio file, when given, is decoded, resampled and re-encoded in step
 * with the video: after each picture, the audio up to that picture's end
 * is encoded, so neither the file nor the muxer's interleaving queue holds
 * more than a few frames of it.
 */
#include "encode.h"

#include "cputime.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/avstring.h>
#include <libavutil/buffer.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/mathematics.h>
#include <libavutil/samplefmt.h>

/* libswresample is an optional dependency: without it AUDIO is refused. */
#if defined(__has_include)
#  if __has_include(<libswresample/swresample.h>)
#    include <libswresample/swresample.h>
#    define HAVE_SWRESAMPLE 1
#  endif
#endif
#ifndef HAVE_SWRESAMPLE
#  define HAVE_SWRESAMPLE 0
#endif

#define DEFAULT_BITRATE 5000000
/* Per channel: transparent for music at these rates. */
#define AAC_BITRATE_PER_CHANNEL 96000
#define OPUS_BITRATE_PER_CHANNEL 64000
#define FADE_SECONDS 0.5

typedef enum HwKind {
    HW_NONE = 0,
    HW_VIDEOTOOLBOX,
    HW_NVENC,
    HW_VAAPI,
    HW_QSV,
    HW_OTHER, /* another hardware wrapper, named explicitly: no device set up */
} HwKind;

typedef struct CodecInfo {
    const char *name; /* as CODEC spells it */
    enum AVCodecID id;
    const char *software[2]; /* first available one is used */
    /* in the order auto tries them: VideoToolbox, NVENC, VAAPI, Quick Sync */
    const char *hardware[4];
} CodecInfo;

static const CodecInfo codecs[] = {
    { "h264", AV_CODEC_ID_H264, { "libx264" },
      { "h264_videotoolbox", "h264_nvenc", "h264_vaapi", "h264_qsv" } },
    { "hevc", AV_CODEC_ID_HEVC, { "libx265" },
      { "hevc_videotoolbox", "hevc_nvenc", "hevc_vaapi", "hevc_qsv" } },
    { "av1", AV_CODEC_ID_AV1, { "libsvtav1", "libaom-av1" },
      { NULL, "av1_nvenc", "av1_vaapi", "av1_qsv" } },
    { "prores", AV_CODEC_ID_PRORES, { "prores_ks" }, { "prores_videotoolbox" } },
    { "vp9", AV_CODEC_ID_VP9, { "libvpx-vp9" }, { NULL, NULL, "vp9_vaapi", "vp9_qsv" } },
};
#define N_CODECS ((int)(sizeof(codecs) / sizeof(codecs[0])))

typedef struct Container {
    const char *ext;
    const char *muxer;
    const char *codecs[6]; /* what it may hold; the first is the default */
    int isobmff;           /* MP4/MOV: moov to the front, HEVC tagged hvc1 */
} Container;

static const Container containers[] = {
    { "mp4", "mp4", { "h264", "hevc", "av1", "vp9" }, 1 },
    { "mov", "mov", { "h264", "hevc", "prores" }, 1 },
    { "mkv", "matroska", { "h264", "hevc", "av1", "vp9", "prores" }, 0 },
    { "webm", "webm", { "vp9", "av1" }, 0 },
};
#define N_CONTAINERS ((int)(sizeof(containers) / sizeof(containers[0])))

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

enum { ST_OPEN = 0, ST_FINISHED, ST_FAILED };

typedef struct Audio Audio;

struct GvEncoder {
    const GvLog *log;
    /* For messages: the output's own name, not the temporary written to,
     * which the user never sees ("writing out.mp4: No space left"). */
    char *path;
    AVFormatContext *fmt;
    AVStream *st;
    AVCodecContext *cc;
    AVPacket *pkt;
    AVFrame *frame;    /* shell reused for each picture */
    AVFrame *hw_frame; /* VAAPI surface the picture is uploaded to */
    HwKind hw;
    /* Set when the encoder takes another format than yuv420p: the
     * converted pictures come from this pool, laid out as below. */
    AVBufferPool *pool;
    enum AVPixelFormat sw_format;
    int conv_linesize[3];
    size_t conv_offset[3];
    int width, height;
    int64_t frames; /* announced, 0 = unknown */
    int64_t next;   /* index the next picture must have */
    int state;
    char name[64];
    /* The first error libav logged during the current call: it usually says
     * more than the AVERROR code (e.g. "Cannot load libcuda.so.1"). */
    char av_error[256];
    const CodecInfo *ci;
    Audio *audio;          /* NULL without an audio file */
    int64_t fail_at;       /* test switch, see GvEncodeParams.fail_at_frame */
    int codec_failed;      /* the last error came from the encoder, not the file */
    char failure[256];     /* and what it was */
};

/* ---------------------------------------------------------------- */
/* libav's log                                                        */

/*
 * libav logs through one process-wide callback. Messages from a thread that
 * is inside a gv_encoder_* call go to that encoder's GvLog (at debug level:
 * what matters is reported by us, with context), so libav prints nothing
 * on its own (SVT-AV1 and x265 write to stderr without libav: see
 * software_options()). Messages from other threads (encoder worker threads,
 * or another user of libav in the process) take libav's default path, whose
 * level is set to errors only: otherwise libx264 and friends would print
 * their banners and statistics at info level on stderr.
 */
static _Thread_local GvEncoder *current;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void av_log_cb(void *const avcl, const int level, const char *const fmt, va_list vl)
{
    GvEncoder *const e = current;
    if (!e) {
        av_log_default_callback(avcl, level, fmt, vl);
        return;
    }
    if (level > AV_LOG_INFO)
        return;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, vl);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' || msg[len - 1] == ' '))
        msg[--len] = 0;
    if (!len)
        return;
    if (level <= AV_LOG_ERROR && !e->av_error[0])
        av_strlcpy(e->av_error, msg, sizeof(e->av_error));
    const AVClass *const cls = avcl ? *(const AVClass *const *)avcl : NULL;
    const char *const who = cls && cls->item_name ? cls->item_name(avcl) : "libav";
    gv_log(e->log, GV_LOG_DEBUG, "%s: %s", who, msg);
}

static void install_log(void)
{
    av_log_set_level(AV_LOG_ERROR);
    av_log_set_callback(av_log_cb);
}

static GvEncoder *enter(GvEncoder *const e)
{
    GvEncoder *const prev = current;
    current = e;
    e->av_error[0] = 0;
    return prev;
}

static void leave(GvEncoder *const prev)
{
    current = prev;
}

/* ---------------------------------------------------------------- */
/* Errors                                                             */

/* AVERROR(errno) values are small; libav's own codes are negated tags. */
static int is_errno(const int err)
{
    return err < 0 && err > -4096;
}

/* A failure of the file or the system (disk full, permission) is passed on
 * as -errno so that the caller can tell it apart from an encoder failure. */
static int io_error(const int err)
{
    if (is_errno(err) && err != AVERROR(EINVAL) && err != AVERROR(EAGAIN) &&
        err != AVERROR(ENOSYS))
        return err;
    return GV_ERR_ENCODE;
}

static int codec_error(const int err)
{
    return err == AVERROR(ENOMEM) ? -ENOMEM : GV_ERR_ENCODE;
}

/*
 * Text for err. A file error reads best as strerror's text ("No space left
 * on device"); for an encoder or a device, the first error libav logged
 * during the call usually names the cause where the code does not.
 */
static const char *reason(const GvEncoder *const e, const int err, const int io, char *const buf,
                          const size_t len)
{
    if (e->av_error[0] && !(io && is_errno(err)))
        av_strlcpy(buf, e->av_error, len);
    else if (av_strerror(err, buf, len) < 0)
        snprintf(buf, len, "error %d", err);
    return buf;
}

/* ---------------------------------------------------------------- */
/* Choosing container, codec and encoder                              */

static const Container *find_container(const char *const name)
{
    const char *const slash = strrchr(name, '/');
    const char *const dot = strrchr(slash ? slash + 1 : name, '.');
    if (!dot)
        return NULL;
    for (int i = 0; i < N_CONTAINERS; i++)
        if (!av_strcasecmp(dot + 1, containers[i].ext))
            return &containers[i];
    return NULL;
}

static const CodecInfo *codec_by_name(const char *const name)
{
    for (int i = 0; i < N_CODECS; i++)
        if (!av_strcasecmp(name, codecs[i].name))
            return &codecs[i];
    return NULL;
}

static const CodecInfo *codec_by_id(const enum AVCodecID id)
{
    for (int i = 0; i < N_CODECS; i++)
        if (codecs[i].id == id)
            return &codecs[i];
    return NULL;
}

static int container_holds(const Container *const ct, const CodecInfo *const ci)
{
    for (int i = 0; i < (int)(sizeof(ct->codecs) / sizeof(ct->codecs[0])) && ct->codecs[i]; i++)
        if (!strcmp(ct->codecs[i], ci->name))
            return 1;
    return 0;
}

static int ends_with(const char *const s, const char *const suffix)
{
    const size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static HwKind hw_kind(const AVCodec *const c)
{
    static const struct {
        const char *suffix;
        HwKind kind;
    } wrappers[] = {
        { "_videotoolbox", HW_VIDEOTOOLBOX }, { "_nvenc", HW_NVENC },   { "_vaapi", HW_VAAPI },
        { "_qsv", HW_QSV },                   { "_amf", HW_OTHER },     { "_v4l2m2m", HW_OTHER },
        { "_omx", HW_OTHER },                 { "_mf", HW_OTHER },      { "_mediacodec", HW_OTHER },
    };
    for (size_t i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++)
        if (ends_with(c->name, wrappers[i].suffix))
            return wrappers[i].kind;
    if (c->capabilities & (AV_CODEC_CAP_HARDWARE | AV_CODEC_CAP_HYBRID))
        return HW_OTHER;
    return HW_NONE;
}

static const AVCodec *software_encoder(const CodecInfo *const ci)
{
    for (int i = 0; i < 2 && ci->software[i]; i++) {
        const AVCodec *const c = avcodec_find_encoder_by_name(ci->software[i]);
        if (c)
            return c;
    }
    return NULL;
}

static int is_auto(const char *const encoder)
{
    return !encoder || !*encoder || !strcmp(encoder, "auto");
}

typedef struct Choice {
    const Container *ct;
    const CodecInfo *ci;
    const AVCodec *named; /* the encoder asked for by name, NULL for auto */
} Choice;

static void list_codecs(const Container *const ct, char *const buf, const size_t len)
{
    buf[0] = 0;
    for (int i = 0; i < (int)(sizeof(ct->codecs) / sizeof(ct->codecs[0])) && ct->codecs[i]; i++)
        av_strlcatf(buf, len, "%s%s", i ? ", " : "", ct->codecs[i]);
}

static int choose(const char *const name, const char *const codec, const char *const encoder,
                  Choice *const ch, char *const err, const size_t errlen)
{
    char list[128];
    memset(ch, 0, sizeof(*ch));

    ch->ct = name ? find_container(name) : NULL;
    if (!ch->ct) {
        snprintf(err, errlen,
                 "OUTPUT_FILENAME: '%s' is not valid: the name must end in .mp4, .mov, .mkv or "
                 ".webm",
                 name ? name : "");
        return GV_ERR_SETTING;
    }
    if (!is_auto(encoder)) {
        ch->named = avcodec_find_encoder_by_name(encoder);
        if (!ch->named || ch->named->type != AVMEDIA_TYPE_VIDEO) {
            snprintf(err, errlen,
                     "ENCODER: '%s' is not valid: not a video encoder of this FFmpeg "
                     "(auto, or a name such as libx264 or h264_nvenc)",
                     encoder);
            return GV_ERR_SETTING;
        }
        const CodecInfo *const own = codec_by_id(ch->named->id);
        if (!own) {
            snprintf(err, errlen,
                     "ENCODER: '%s' is not valid: it encodes %s; accepted are encoders of h264, "
                     "hevc, av1, prores or vp9",
                     encoder, avcodec_get_name(ch->named->id));
            return GV_ERR_SETTING;
        }
        ch->ci = own;
    }
    if (codec && *codec) {
        const CodecInfo *const ci = codec_by_name(codec);
        if (!ci) {
            snprintf(err, errlen,
                     "CODEC: '%s' is not valid: accepted are h264, hevc, av1, prores, vp9", codec);
            return GV_ERR_SETTING;
        }
        if (ch->ci && ch->ci != ci) {
            snprintf(err, errlen, "ENCODER: '%s' is not valid: it encodes %s, but CODEC is %s",
                     encoder, ch->ci->name, ci->name);
            return GV_ERR_SETTING;
        }
        ch->ci = ci;
    }
    if (!ch->ci)
        ch->ci = codec_by_name(ch->ct->codecs[0]);
    if (!container_holds(ch->ct, ch->ci)) {
        list_codecs(ch->ct, list, sizeof(list));
        snprintf(err, errlen, "CODEC: '%s' cannot be written to .%s: accepted there: %s",
                 ch->ci->name, ch->ct->ext, list);
        return GV_ERR_SETTING;
    }
    /* auto, and a hardware encoder that fails, end with the software one */
    if ((!ch->named || hw_kind(ch->named) != HW_NONE) && !software_encoder(ch->ci)) {
        snprintf(err, errlen, "CODEC: '%s' is not valid: this FFmpeg has no %s%s%s encoder",
                 ch->ci->name, ch->ci->software[0], ch->ci->software[1] ? " or " : "",
                 ch->ci->software[1] ? ch->ci->software[1] : "");
        return GV_ERR_SETTING;
    }
    if (!av_guess_format(ch->ct->muxer, NULL, NULL)) {
        snprintf(err, errlen, "OUTPUT_FILENAME: '%s' is not valid: this FFmpeg cannot write %s",
                 name, ch->ct->muxer);
        return GV_ERR_SETTING;
    }
    return 0;
}

int gv_encoder_check(const char *const name, const char *const codec, const char *const encoder,
                     char *const err, const size_t errlen)
{
    char buf[512];
    Choice ch;
    const int ret = choose(name, codec, encoder, &ch, buf, sizeof(buf));
    if (ret < 0 && err && errlen)
        av_strlcpy(err, buf, errlen);
    return ret;
}

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
        set_opt(opts, "profile", "hq", &set);
    } else {
        cc->bit_rate = p->bitrate > 0 ? p->bitrate : DEFAULT_BITRATE;
    }
    return set;
}

/* yuv420p where the encoder takes it, so the caller's planes go in as
 * they are; else the formats we convert to. */
static enum AVPixelFormat input_format(const AVCodec *const c)
{
    static const enum AVPixelFormat wanted[] = {
        AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV422P10, AV_PIX_FMT_NV12,
    };
    if (!c->pix_fmts)
        return AV_PIX_FMT_YUV420P;
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
        for (const enum AVPixelFormat *f = c->pix_fmts; *f != AV_PIX_FMT_NONE; f++)
            if (*f == wanted[i])
                return wanted[i];
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

    e->sw_format = input_format(codec);
    if (hw == HW_VAAPI) {
        cc->pix_fmt = AV_PIX_FMT_VAAPI;
        e->sw_format = AV_PIX_FMT_NV12;
        if ((ret = vaapi_frames(cc, dev)) < 0)
            goto end;
    } else if (e->sw_format == AV_PIX_FMT_NONE) {
        snprintf(e->av_error, sizeof(e->av_error),
                 "it takes none of the pixel formats gridvid gives (yuv420p, yuv422p10, nv12)");
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
    const HwKind hw = hw_kind(codec);
    AVBufferRef *dev = NULL;
    int ret = 0;

    e->av_error[0] = 0;
    *present = 1;
    const enum AVHWDeviceType type = device_type(hw);
    if (type != AV_HWDEVICE_TYPE_NONE &&
        (ret = av_hwdevice_ctx_create(&dev, type, NULL, NULL, 0)) < 0) {
        /* no such device here: auto passes on quietly */
        char why[256];
        reason(e, ret, 0, why, sizeof(why));
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

    if (p->software) {
        /* the restart after a hardware encoder was lost: no second try */
        list[n++] = ch->named && hw_kind(ch->named) == HW_NONE ? ch->named
                                                                : software_encoder(ch->ci);
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
    if (!p->software && (!ch->named || hw_kind(ch->named) != HW_NONE))
        list[n++] = software_encoder(ch->ci);

    for (int i = 0; i < n; i++) {
        const AVCodec *const c = list[i];
        int present;
        const int ret = try_encoder(e, p, c, c == ch->named, &present);
        if (ret == 0)
            break;
        if (ret == GV_ERR_SETTING)
            return ret;
        reason(e, ret, 0, why, sizeof(why));
        if (hw_kind(c) == HW_NONE) {
            gv_log(e->log, GV_LOG_ERROR, "cannot open the %s encoder: %s", c->name, why);
            return codec_error(ret);
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

/* ---------------------------------------------------------------- */
/* Audio                                                              */

struct Audio {
    char *path;
    AVFormatContext *in;
    int index; /* of the audio stream in `in` */
    AVCodecContext *dec;
    AVCodecContext *enc;
    AVStream *st;
    AVPacket *in_pkt;
    AVFrame *in_frame;
    AVFrame *out_frame;
#if HAVE_SWRESAMPLE
    SwrContext *swr;
#endif
    /* what swr was set up for: a decoder may change it mid-stream */
    AVChannelLayout swr_layout;
    int swr_rate, swr_format;
    /* resampled samples in the encoder's format, waiting for a whole frame */
    AVAudioFifo *fifo;
    uint8_t **scratch;
    int scratch_samples;
    int frame_size;
    int small_last;  /* the encoder takes a short last frame */
    int64_t total;   /* samples of output: the video's length */
    int64_t fade;    /* samples of fade-out before total */
    int64_t sent;    /* samples given to the encoder so far */
    int64_t lead;    /* added to the encoder's timestamps: see audio_open() */
    int64_t skip;    /* samples at the start of the file left out: idem; the
                      * encoder's sample k plays at sample k + skip */
    int64_t to_drop; /* of those, still to drop */
    int file_done;   /* the file is read, decoded and resampled to its end */
};

static void audio_free(Audio **const pa)
{
    Audio *const a = *pa;
    if (!a)
        return;
    if (a->enc && avcodec_is_open(a->enc))
        avcodec_send_frame(a->enc, NULL);
    avcodec_free_context(&a->enc);
    avcodec_free_context(&a->dec);
    avformat_close_input(&a->in);
    av_packet_free(&a->in_pkt);
    av_frame_free(&a->in_frame);
    av_frame_free(&a->out_frame);
#if HAVE_SWRESAMPLE
    swr_free(&a->swr);
#endif
    av_channel_layout_uninit(&a->swr_layout);
    if (a->fifo)
        av_audio_fifo_free(a->fifo);
    if (a->scratch)
        av_freep(&a->scratch[0]);
    av_freep(&a->scratch);
    av_freep(&a->path);
    free(a);
    *pa = NULL;
}

/* The encoder's rate nearest to the file's, rounding up (no loss of
 * bandwidth) where it can: 44.1 kHz stays 44.1 kHz. */
static int pick_rate(const AVCodec *const c, const int want)
{
    if (!c->supported_samplerates)
        return want;
    int above = 0, highest = 0;
    for (const int *r = c->supported_samplerates; *r; r++) {
        if (*r == want)
            return want;
        if (*r > want && (!above || *r < above))
            above = *r;
        if (*r > highest)
            highest = *r;
    }
    return above ? above : highest;
}

/* Formats fade() handles, best first. */
static enum AVSampleFormat pick_format(const AVCodec *const c)
{
    static const enum AVSampleFormat wanted[] = {
        AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_FLT, AV_SAMPLE_FMT_S16P, AV_SAMPLE_FMT_S16,
        AV_SAMPLE_FMT_S32P, AV_SAMPLE_FMT_S32, AV_SAMPLE_FMT_DBLP, AV_SAMPLE_FMT_DBL,
    };
    if (!c->sample_fmts)
        return AV_SAMPLE_FMT_FLTP;
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
        for (const enum AVSampleFormat *f = c->sample_fmts; *f != AV_SAMPLE_FMT_NONE; f++)
            if (*f == wanted[i])
                return wanted[i];
    return AV_SAMPLE_FMT_NONE;
}

/*
 * Opens the file and its decoder: every way it can be unusable is a bad
 * AUDIO setting, found before anything is written.
 */
static int audio_open_input(GvEncoder *const e, Audio *const a)
{
    char why[256];
    const AVCodec *dec = NULL;
    int ret = avformat_open_input(&a->in, a->path, NULL, NULL);
    if (ret >= 0)
        ret = avformat_find_stream_info(a->in, NULL);
    if (ret < 0) {
        gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': cannot read it: %s", a->path,
               reason(e, ret, 1, why, sizeof(why)));
        return ret == AVERROR(ENOMEM) ? -ENOMEM : GV_ERR_SETTING;
    }
    a->index = av_find_best_stream(a->in, AVMEDIA_TYPE_AUDIO, -1, -1, &dec, 0);
    if (a->index == AVERROR_STREAM_NOT_FOUND) {
        gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': no audio stream", a->path);
        return GV_ERR_SETTING;
    }
    if (a->index < 0 || !dec) {
        /* there is a stream, but no decoder for it: name its codec */
        const int i = av_find_best_stream(a->in, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
        gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': this FFmpeg cannot decode its %s audio",
               a->path, i >= 0 ? avcodec_get_name(a->in->streams[i]->codecpar->codec_id) : "");
        return GV_ERR_SETTING;
    }
    for (unsigned i = 0; i < a->in->nb_streams; i++)
        if ((int)i != a->index)
            a->in->streams[i]->discard = AVDISCARD_ALL;
    if (!(a->dec = avcodec_alloc_context3(dec)))
        return -ENOMEM;
    if ((ret = avcodec_parameters_to_context(a->dec, a->in->streams[a->index]->codecpar)) < 0 ||
        (ret = avcodec_open2(a->dec, dec, NULL)) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': cannot decode its %s audio: %s", a->path,
               dec->name, reason(e, ret, 0, why, sizeof(why)));
        return ret == AVERROR(ENOMEM) ? -ENOMEM : GV_ERR_SETTING;
    }
    if (a->dec->ch_layout.nb_channels <= 0 || a->dec->sample_rate <= 0) {
        gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': no channels or sample rate", a->path);
        return GV_ERR_SETTING;
    }
    return 0;
}

/* AAC, or Opus for WebM, at the file's rate, mono or stereo. */
static int audio_open_encoder(GvEncoder *const e, Audio *const a, const Container *const ct,
                              const AVOutputFormat *const of)
{
    char why[256];
    const int webm = !strcmp(ct->muxer, "webm");
    const char *const name = webm ? "libopus" : "aac";
    const AVCodec *const c = avcodec_find_encoder_by_name(name);
    if (!c) {
        gv_log(e->log, GV_LOG_ERROR,
               "AUDIO: cannot be written to .%s: this FFmpeg has no %s encoder", ct->ext, name);
        return GV_ERR_SETTING;
    }
    AVCodecContext *const cc = a->enc = avcodec_alloc_context3(c);
    if (!cc)
        return -ENOMEM;
    /* music on a photo wall: more than two channels is folded to stereo */
    av_channel_layout_default(&cc->ch_layout, a->dec->ch_layout.nb_channels == 1 ? 1 : 2);
    /* Opus works at 48 kHz whatever it is given, and its delays (pre-skip,
     * Matroska's CodecDelay) are counted at that rate */
    cc->sample_rate = c->id == AV_CODEC_ID_OPUS ? 48000 : pick_rate(c, a->dec->sample_rate);
    cc->sample_fmt = pick_format(c);
    if (cc->sample_fmt == AV_SAMPLE_FMT_NONE) {
        gv_log(e->log, GV_LOG_ERROR, "AUDIO: the %s encoder takes no sample format gridvid gives",
               name);
        return GV_ERR_ENCODE;
    }
    cc->time_base = (AVRational){ 1, cc->sample_rate };
    cc->bit_rate = (int64_t)cc->ch_layout.nb_channels *
                   (webm ? OPUS_BITRATE_PER_CHANNEL : AAC_BITRATE_PER_CHANNEL);
    if (of->flags & AVFMT_GLOBALHEADER)
        cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int ret = avcodec_open2(cc, c, NULL);
    if (ret < 0) {
        gv_log(e->log, GV_LOG_ERROR, "cannot open the %s audio encoder: %s", name,
               reason(e, ret, 0, why, sizeof(why)));
        return codec_error(ret);
    }
    const int variable = c->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE;
    a->frame_size = cc->frame_size > 0 && !variable ? cc->frame_size : 1024;
    a->small_last = variable || (c->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME);
    return 0;
}

/*
 * Everything but the output stream, which start_stream() adds: the file is
 * checked before the output is created.
 */
static int audio_open(GvEncoder *const e, const GvEncodeParams *const p, const Container *const ct)
{
    Audio *const a = e->audio = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    if (!(a->path = av_strdup(p->audio)))
        return -ENOMEM;
#if !HAVE_SWRESAMPLE
    gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': this gridvid was built without libswresample",
           a->path);
    return GV_ERR_SETTING;
#else
    if (p->frames <= 0) {
        gv_log(e->log, GV_LOG_ERROR, "AUDIO: the video's length must be known to cut the audio");
        return GV_ERR_ENCODE;
    }
    int ret = audio_open_input(e, a);
    if (ret < 0)
        return ret;
    const AVOutputFormat *const of = av_guess_format(ct->muxer, NULL, NULL);
    if (!of)
        return GV_ERR_ENCODE; /* choose() checked */
    if ((ret = audio_open_encoder(e, a, ct, of)) < 0)
        return ret;
    const AVCodecContext *const cc = a->enc;
    /* frames * fps_den / fps_num seconds; fps_den * rate < 2^49 */
    a->total = av_rescale_rnd(p->frames, (int64_t)p->fps_den * cc->sample_rate, p->fps_num,
                              AV_ROUND_NEAR_INF);
    /* half a second, or a quarter of a very short video */
    a->fade = FFMIN((int64_t)llrint(FADE_SECONDS * cc->sample_rate), a->total / 4);
    /*
     * An encoder's first output is priming (AAC 1024 samples, Opus 312),
     * stamped below zero. MP4 and MOV hide it with an edit list. Matroska
     * has CodecDelay, which players subtract from the timestamps, but the
     * muxer of libavformat 59 (FFmpeg 5) writes it for Opus only, and gets
     * rid of negative timestamps by moving every stream later: the video
     * would start late, and in WebM the audio, its delay counted twice,
     * early. So in Matroska and WebM:
     * - Opus, libavformat 59: the timestamps are offset here by the
     *   CodecDelay the muxer writes (later muxers do that themselves);
     * - AAC: no CodecDelay; the encoder starts `skip` samples into the
     *   file, the priming playing in their place.
     * Both streams then start at zero, in sync.
     */
    const int matroska = !strcmp(ct->muxer, "matroska") || !strcmp(ct->muxer, "webm");
    if (matroska && cc->codec_id == AV_CODEC_ID_OPUS) {
        if (avformat_version() < AV_VERSION_INT(60, 0, 0))
            a->lead = cc->initial_padding;
    } else if (matroska && cc->initial_padding > 0 && cc->initial_padding < a->total) {
        a->lead = a->skip = a->to_drop = cc->initial_padding;
    }
    a->in_pkt = av_packet_alloc();
    a->in_frame = av_frame_alloc();
    a->out_frame = av_frame_alloc();
    a->fifo = av_audio_fifo_alloc(cc->sample_fmt, cc->ch_layout.nb_channels, a->frame_size);
    if (!a->in_pkt || !a->in_frame || !a->out_frame || !a->fifo)
        return -ENOMEM;
    gv_log(e->log, GV_LOG_DEBUG, "audio: %s %d Hz, %d channels -> %s %d Hz, %d channels",
           a->dec->codec->name, a->dec->sample_rate, a->dec->ch_layout.nb_channels,
           cc->codec->name, cc->sample_rate, cc->ch_layout.nb_channels);
    return 0;
#endif
}

static int audio_add_stream(GvEncoder *const e)
{
    Audio *const a = e->audio;
    if (!(a->st = avformat_new_stream(e->fmt, NULL)))
        return -ENOMEM;
    const int ret = avcodec_parameters_from_context(a->st->codecpar, a->enc);
    if (ret < 0)
        return codec_error(ret);
    a->st->time_base = a->enc->time_base;
    if (a->skip)
        a->st->codecpar->initial_padding = 0; /* no CodecDelay: see audio_open() */
    return 0;
}

#if HAVE_SWRESAMPLE
/* Room for n samples in the scratch buffer. */
static int audio_scratch(Audio *const a, const int n)
{
    if (n <= a->scratch_samples)
        return 0;
    if (a->scratch)
        av_freep(&a->scratch[0]);
    av_freep(&a->scratch);
    a->scratch_samples = 0;
    if (av_samples_alloc_array_and_samples(&a->scratch, NULL, a->enc->ch_layout.nb_channels, n,
                                           a->enc->sample_fmt, 0) < 0)
        return -ENOMEM;
    a->scratch_samples = n;
    return 0;
}

/* Resamples f (NULL: what the resampler still holds) into the FIFO. */
static int audio_resample(GvEncoder *const e, const AVFrame *const f)
{
    Audio *const a = e->audio;
    int ret;
    if (f) {
        AVChannelLayout in = { 0 };
        /* a WAV without a channel mask says only how many there are */
        if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
            av_channel_layout_default(&in, f->ch_layout.nb_channels);
        else if ((ret = av_channel_layout_copy(&in, &f->ch_layout)) < 0)
            return codec_error(ret);
        if (a->swr && (av_channel_layout_compare(&in, &a->swr_layout) ||
                       f->sample_rate != a->swr_rate || f->format != a->swr_format)) {
            /* the stream changed: keep what the old set-up still holds */
            if ((ret = audio_resample(e, NULL)) < 0) {
                av_channel_layout_uninit(&in);
                return ret;
            }
            swr_free(&a->swr);
        }
        if (!a->swr) {
            ret = swr_alloc_set_opts2(&a->swr, &a->enc->ch_layout, a->enc->sample_fmt,
                                      a->enc->sample_rate, &in, f->format, f->sample_rate, 0,
                                      NULL);
            if (ret >= 0)
                ret = swr_init(a->swr);
            if (ret < 0) {
                char why[256];
                av_channel_layout_uninit(&in);
                gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': cannot resample it: %s", a->path,
                       reason(e, ret, 0, why, sizeof(why)));
                return codec_error(ret);
            }
            av_channel_layout_uninit(&a->swr_layout);
            a->swr_layout = in;
            a->swr_rate = f->sample_rate;
            a->swr_format = f->format;
        } else {
            av_channel_layout_uninit(&in);
        }
    }
    if (!a->swr)
        return 0;
    const int in_samples = f ? f->nb_samples : 0;
    const int room = swr_get_out_samples(a->swr, in_samples);
    if (room < 0)
        return codec_error(room);
    if (room == 0)
        return 0;
    if ((ret = audio_scratch(a, room)) < 0)
        return ret;
    const int n = swr_convert(a->swr, a->scratch, room,
                              f ? (const uint8_t **)f->extended_data : NULL, in_samples);
    if (n < 0)
        return codec_error(n);
    if (n > 0 && av_audio_fifo_write(a->fifo, (void **)a->scratch, n) < n)
        return -ENOMEM;
    return 0;
}
#endif

/*
 * Decodes the next piece of the file into the FIFO; at the end of the file
 * drains decoder and resampler and sets file_done.
 */
static int audio_decode_more(GvEncoder *const e)
{
#if HAVE_SWRESAMPLE
    char why[256];
    Audio *const a = e->audio;
    for (;;) {
        int ret = avcodec_receive_frame(a->dec, a->in_frame);
        if (ret >= 0) {
            ret = audio_resample(e, a->in_frame);
            av_frame_unref(a->in_frame);
            return ret;
        }
        if (ret == AVERROR_EOF) {
            a->file_done = 1;
            return audio_resample(e, NULL);
        }
        if (ret != AVERROR(EAGAIN)) {
            gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': decoding: %s", a->path,
                   reason(e, ret, 0, why, sizeof(why)));
            return codec_error(ret);
        }
        ret = av_read_frame(a->in, a->in_pkt);
        if (ret == AVERROR_EOF) {
            avcodec_send_packet(a->dec, NULL);
            continue;
        }
        if (ret < 0) {
            gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': reading: %s", a->path,
                   reason(e, ret, 1, why, sizeof(why)));
            return io_error(ret);
        }
        if (a->in_pkt->stream_index == a->index) {
            ret = avcodec_send_packet(a->dec, a->in_pkt);
            /* a damaged packet is a moment of silence, as players have it */
            if (ret < 0 && ret != AVERROR(EAGAIN))
                gv_log(e->log, GV_LOG_DEBUG, "AUDIO: '%s': packet skipped: %s", a->path,
                       reason(e, ret, 0, why, sizeof(why)));
        }
        av_packet_unref(a->in_pkt);
    }
#else
    (void)e;
    return GV_ERR_ENCODE;
#endif
}

static double fade_gain(const int64_t s, const int64_t total, const int64_t len)
{
    if (s < total - len)
        return 1.0;
    if (s >= total || len <= 0)
        return 0.0;
    /* raised cosine from 1 to 0: no corner where it starts */
    const double x = (double)(total - s) / (double)len;
    return 0.5 - 0.5 * cos(M_PI * x);
}

/* Applies the fade-out to f, whose first sample is sample `first`. */
static void fade(AVFrame *const f, const int64_t first, const int64_t total, const int64_t len)
{
    if (first + f->nb_samples <= total - len)
        return;
    const int planar = av_sample_fmt_is_planar(f->format);
    const int planes = planar ? f->ch_layout.nb_channels : 1;
    const int step = planar ? 1 : f->ch_layout.nb_channels;
    const enum AVSampleFormat packed = av_get_packed_sample_fmt(f->format);
    for (int i = 0; i < f->nb_samples; i++) {
        const double g = fade_gain(first + i, total, len);
        if (g >= 1.0)
            continue;
        for (int p = 0; p < planes; p++) {
            uint8_t *const d = f->extended_data[p];
            for (int c = 0; c < step; c++) {
                const size_t k = (size_t)i * (size_t)step + (size_t)c;
                switch (packed) {
                case AV_SAMPLE_FMT_FLT: ((float *)d)[k] = (float)(((float *)d)[k] * g); break;
                case AV_SAMPLE_FMT_DBL: ((double *)d)[k] *= g; break;
                case AV_SAMPLE_FMT_S16:
                    ((int16_t *)d)[k] = (int16_t)lrint(((int16_t *)d)[k] * g);
                    break;
                case AV_SAMPLE_FMT_S32:
                    ((int32_t *)d)[k] = (int32_t)lrint(((int32_t *)d)[k] * g);
                    break;
                default: break; /* pick_format() offers no other */
                }
            }
        }
    }
}

static int audio_write_packets(GvEncoder *const e)
{
    char why[256];
    Audio *const a = e->audio;
    int ret;
    while ((ret = avcodec_receive_packet(a->enc, e->pkt)) >= 0) {
        e->pkt->stream_index = a->st->index;
        if (e->pkt->pts != AV_NOPTS_VALUE)
            e->pkt->pts += a->lead;
        if (e->pkt->dts != AV_NOPTS_VALUE)
            e->pkt->dts += a->lead;
        av_packet_rescale_ts(e->pkt, a->enc->time_base, a->st->time_base);
        if ((ret = av_interleaved_write_frame(e->fmt, e->pkt)) < 0) {
            gv_log(e->log, GV_LOG_ERROR, "writing %s: %s", e->path,
                   reason(e, ret, 1, why, sizeof(why)));
            return io_error(ret);
        }
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    gv_log(e->log, GV_LOG_ERROR, "encoding audio: %s", reason(e, ret, 0, why, sizeof(why)));
    return codec_error(ret);
}

static int audio_send(GvEncoder *const e, const AVFrame *const f)
{
    char why[256];
    Audio *const a = e->audio;
    int ret = avcodec_send_frame(a->enc, f);
    if (ret == AVERROR(EAGAIN)) {
        if ((ret = audio_write_packets(e)) < 0)
            return ret;
        ret = avcodec_send_frame(a->enc, f);
    }
    if (ret < 0) {
        gv_log(e->log, GV_LOG_ERROR, "encoding audio: %s", reason(e, ret, 0, why, sizeof(why)));
        return codec_error(ret);
    }
    return audio_write_packets(e);
}

/*
 * Encodes the audio that plays until sample `until` in whole frames; `last`
 * encodes the rest of the video's length too and flushes the encoder.
 * After the end of the file comes silence.
 */
static int audio_encode_until(GvEncoder *const e, int64_t until, const int last)
{
    Audio *const a = e->audio;
    int ret = 0;
    if (last || until > a->total)
        until = a->total;
    until -= a->skip; /* in the encoder's samples */
    for (;;) {
        const int64_t left = until - a->sent;
        int n = a->frame_size;
        if (left < n) {
            if (!last || left <= 0)
                break;
            n = (int)left;
        }
        while (av_audio_fifo_size(a->fifo) < n + a->to_drop && !a->file_done)
            if ((ret = audio_decode_more(e)) < 0)
                return ret;
        if (a->to_drop) {
            const int d = (int)FFMIN(a->to_drop, av_audio_fifo_size(a->fifo));
            av_audio_fifo_drain(a->fifo, d);
            a->to_drop -= d;
        }
        AVFrame *const f = a->out_frame;
        f->nb_samples = a->small_last ? n : a->frame_size;
        f->format = a->enc->sample_fmt;
        f->sample_rate = a->enc->sample_rate;
        if ((ret = av_channel_layout_copy(&f->ch_layout, &a->enc->ch_layout)) < 0 ||
            (ret = av_frame_get_buffer(f, 0)) < 0) {
            av_frame_unref(f);
            return codec_error(ret);
        }
        const int got = FFMIN(av_audio_fifo_size(a->fifo), n);
        if (got > 0 && av_audio_fifo_read(a->fifo, (void **)f->extended_data, got) < got) {
            av_frame_unref(f);
            return GV_ERR_ENCODE;
        }
        if (f->nb_samples > got)
            av_samples_set_silence(f->extended_data, got, f->nb_samples - got,
                                   f->ch_layout.nb_channels, f->format);
        fade(f, a->sent + a->skip, a->total, a->fade);
        f->pts = a->sent;
        ret = audio_send(e, f);
        av_frame_unref(f);
        if (ret < 0)
            return ret;
        a->sent += n;
    }
    return last ? audio_send(e, NULL) : 0;
}

/* ---------------------------------------------------------------- */
/* Output file                                                        */

static int open_output(GvEncoder *const e, const GvEncodeParams *const p, const Container *const ct)
{
    char why[256];
    const AVOutputFormat *const of = av_guess_format(ct->muxer, NULL, NULL);
    if (!of) {
        gv_log(e->log, GV_LOG_ERROR, "this FFmpeg cannot write %s", ct->muxer);
        return GV_ERR_ENCODE;
    }
    int ret = avformat_alloc_output_context2(&e->fmt, of, NULL, p->path);
    if (ret < 0) {
        gv_log(e->log, GV_LOG_ERROR, "cannot set up the %s muxer: %s", ct->muxer,
               reason(e, ret, 0, why, sizeof(why)));
        return codec_error(ret);
    }
    if ((ret = avio_open(&e->fmt->pb, p->path, AVIO_FLAG_WRITE)) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "cannot write %s: %s", p->name ? p->name : p->path,
               reason(e, ret, 1, why, sizeof(why)));
        return io_error(ret);
    }
    return 0;
}

static int start_stream(GvEncoder *const e, const Container *const ct, const CodecInfo *const ci)
{
    char why[256];
    AVDictionary *opts = NULL;
    int ret = 0;

    e->st = avformat_new_stream(e->fmt, NULL);
    if (!e->st)
        return -ENOMEM;
    if ((ret = avcodec_parameters_from_context(e->st->codecpar, e->cc)) < 0)
        return codec_error(ret);
    if (ct->isobmff && ci->id == AV_CODEC_ID_HEVC)
        e->st->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1'); /* Apple plays only hvc1 */
    e->st->time_base = e->cc->time_base;
    e->st->avg_frame_rate = e->cc->framerate;
    e->st->r_frame_rate = e->cc->framerate;
    if (e->audio && (ret = audio_add_stream(e)) < 0)
        return ret;
    if (ct->isobmff && (ret = av_dict_set(&opts, "movflags", "+faststart", 0)) < 0) {
        av_dict_free(&opts);
        return codec_error(ret);
    }
    ret = avformat_write_header(e->fmt, &opts);
    av_dict_free(&opts);
    if (ret < 0) {
        gv_log(e->log, GV_LOG_ERROR, "writing %s: %s", e->path,
               reason(e, ret, 1, why, sizeof(why)));
        return io_error(ret);
    }
    return 0;
}

/* Pool for pictures converted to e->sw_format, 64-byte aligned lines. */
static int init_pool(GvEncoder *const e)
{
    const size_t w = (size_t)e->width, h = (size_t)e->height;
    size_t ls[3], rows[3];
    int planes;
    if (e->sw_format == AV_PIX_FMT_YUV422P10) {
        ls[0] = (w * 2 + 63) & ~(size_t)63;
        ls[1] = ls[2] = (w + 63) & ~(size_t)63; /* w / 2 samples of 2 bytes */
        rows[0] = rows[1] = rows[2] = h;
        planes = 3;
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

static int encoder_open(GvEncoder **const out, const GvEncodeParams *const p)
{
    char err[512];
    Choice ch;
    int ret = 0;

    *out = NULL;
    pthread_once(&log_once, install_log);
    GvEncoder *const e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    GvEncoder *const prev = enter(e);
    e->log = p->log;
    e->width = p->width;
    e->height = p->height;
    e->frames = p->frames > 0 ? p->frames : 0;
    e->sw_format = AV_PIX_FMT_YUV420P;
    e->fail_at = p->fail_at_frame > 0 ? p->fail_at_frame : 0;

    if (!p->path) {
        ret = -EINVAL;
        goto end;
    }
    if ((ret = choose(p->name, p->codec, p->encoder, &ch, err, sizeof(err))) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "%s", err);
        goto end;
    }
    if (p->width <= 0 || p->height <= 0 || (p->width | p->height) & 1 ||
        av_image_check_size((unsigned)p->width, (unsigned)p->height, 0, NULL) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "cannot encode %dx%d: the size must be even and positive",
               p->width, p->height);
        ret = GV_ERR_SETTING;
        goto end;
    }
    if (p->fps_num <= 0 || p->fps_den <= 0) {
        gv_log(e->log, GV_LOG_ERROR, "FPS: '%d/%d' is not valid", p->fps_num, p->fps_den);
        ret = GV_ERR_SETTING;
        goto end;
    }
    e->ci = ch.ci;
    /* a bad audio file is a bad setting: found before the output exists */
    if (p->audio && *p->audio && (ret = audio_open(e, p, ch.ct)) < 0)
        goto end;
    e->path = av_strdup(p->name ? p->name : p->path);
    e->pkt = av_packet_alloc();
    e->frame = av_frame_alloc();
    if (!e->path || !e->pkt || !e->frame) {
        ret = -ENOMEM;
        goto end;
    }
    if ((ret = open_output(e, p, ch.ct)) < 0)
        goto end;
    if ((ret = open_encoder(e, p, &ch)) < 0)
        goto end;
    if (e->sw_format != AV_PIX_FMT_YUV420P && (ret = init_pool(e)) < 0)
        goto end;
    if (e->hw == HW_VAAPI && !(e->hw_frame = av_frame_alloc())) {
        ret = -ENOMEM;
        goto end;
    }
    if ((ret = start_stream(e, ch.ct, ch.ci)) < 0)
        goto end;

end:
    leave(prev);
    if (ret < 0) {
        GvEncoder *tmp = e;
        gv_encoder_close(&tmp);
    } else {
        *out = e;
    }
    return ret;
}

int gv_encoder_open(GvEncoder **const out, const GvEncodeParams *const p)
{
    /* The encoder's threads start in avcodec_open2 and take the name of
     * the thread that starts them: their CPU time can then be told apart
     * from gridvid's own (cputime.h). */
    char old[16];
    gv_thread_name_set(old, GV_ENCODER_THREAD);
    const int ret = encoder_open(out, p);
    gv_thread_name_restore(old);
    return ret;
}

/* ---------------------------------------------------------------- */
/* Pictures in, packets out                                           */

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
    return 0;
}

/*
 * 4:2:0 to 4:2:2 at 10 bits. With left (MPEG-2) siting a 4:2:0 chroma
 * sample lies half a luma row below the top of its pair, so output rows
 * 2j and 2j + 1 are 3/4 of sample j plus 1/4 of its neighbour above or
 * below; at 10 bits that is exactly 3a + b, no rounding.
 */
static void to_yuv422p10(const GvPicture *const pic, AVFrame *const f)
{
    const int w = pic->width, h = pic->height, cw = w / 2, ch = h / 2;
    for (int y = 0; y < h; y++) {
        const uint8_t *const src = pic->data[0] + (ptrdiff_t)y * pic->linesize[0];
        uint16_t *const dst = (uint16_t *)(f->data[0] + (ptrdiff_t)y * f->linesize[0]);
        for (int x = 0; x < w; x++)
            dst[x] = (uint16_t)(src[x] << 2);
    }
    for (int p = 1; p < 3; p++) {
        for (int y = 0; y < h; y++) {
            const int j = y / 2;
            const int k = y & 1 ? (j + 1 < ch ? j + 1 : j) : (j > 0 ? j - 1 : 0);
            const uint8_t *const a = pic->data[p] + (ptrdiff_t)j * pic->linesize[p];
            const uint8_t *const b = pic->data[p] + (ptrdiff_t)k * pic->linesize[p];
            uint16_t *const dst = (uint16_t *)(f->data[p] + (ptrdiff_t)y * f->linesize[p]);
            for (int x = 0; x < cw; x++)
                dst[x] = (uint16_t)(3 * a[x] + b[x]);
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

static int convert_picture(const GvEncoder *const e, const GvPicture *const pic,
                           AVFrame *const f)
{
    f->buf[0] = av_buffer_pool_get(e->pool);
    if (!f->buf[0])
        return -ENOMEM;
    for (int i = 0; i < 3; i++) {
        f->data[i] = e->conv_linesize[i] ? f->buf[0]->data + e->conv_offset[i] : NULL;
        f->linesize[i] = e->conv_linesize[i];
    }
    f->format = e->sw_format;
    if (e->sw_format == AV_PIX_FMT_YUV422P10)
        to_yuv422p10(pic, f);
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
    reason(e, err, 0, why, sizeof(why));
    e->codec_failed = 1;
    av_strlcpy(e->failure, why, sizeof(e->failure));
    gv_log(e->log, e->hw != HW_NONE ? GV_LOG_DEBUG : GV_LOG_ERROR, "%s: %s", what, why);
    return codec_error(err);
}

static int write_packets(GvEncoder *const e, const char *const what)
{
    char why[256];
    int ret;
    while ((ret = avcodec_receive_packet(e->cc, e->pkt)) >= 0) {
        e->pkt->stream_index = e->st->index;
        /* Every picture lasts one frame; saying so gives the last sample
         * its duration, so the file is exactly frames / fps long. */
        e->pkt->duration = 1;
        av_packet_rescale_ts(e->pkt, e->cc->time_base, e->st->time_base);
        if ((ret = av_interleaved_write_frame(e->fmt, e->pkt)) < 0) {
            gv_log(e->log, GV_LOG_ERROR, "writing %s: %s", e->path,
                   reason(e, ret, 1, why, sizeof(why)));
            return io_error(ret);
        }
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    return encoder_failed(e, what, ret);
}

/* Sends f (NULL: flush) and writes what comes out. */
static int encode(GvEncoder *const e, const AVFrame *const f, const char *const what)
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
    const AVCodec *const sw = software_encoder(e->ci);
    gv_log(e->log, GV_LOG_WARNING, "%s failed %s (%s): encoding again from the first frame with %s",
           e->name, when, why, sw ? sw->name : "the software encoder");
    return GV_ENCODE_LOST;
}

int gv_encoder_send(GvEncoder *const e, const GvPicture *const pic, const int64_t index,
                    void (*const release)(void *opaque), void *const opaque)
{
    char what[64], why[256];
    int ret = 0;
    GvEncoder *const prev = enter(e);
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
    if (e->pool) {
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
    if ((ret = encode(e, in, what)) < 0)
        goto end;
    e->next++;
    /* the audio that plays until this picture ends */
    if (e->audio &&
        (ret = audio_encode_until(e, av_rescale(e->next, (int64_t)e->cc->time_base.num *
                                                             e->audio->enc->sample_rate,
                                                 e->cc->time_base.den),
                                  0)) < 0)
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
    leave(prev);
    return ret;
}

int gv_encoder_finish(GvEncoder *const e)
{
    char why[256];
    int ret = 0;
    GvEncoder *const prev = enter(e);

    if (e->state != ST_OPEN) {
        ret = GV_ERR_ENCODE;
        goto end;
    }
    if (e->frames && e->next != e->frames) {
        gv_log(e->log, GV_LOG_ERROR, "finishing %s: %lld of %lld frames were given", e->path,
               (long long)e->next, (long long)e->frames);
        ret = GV_ERR_ENCODE;
        goto end;
    }
    e->codec_failed = 0;
    if ((ret = encode(e, NULL, "flushing the encoder")) < 0) {
        if (e->codec_failed && e->hw != HW_NONE)
            ret = lost(e, "at the end", e->failure);
        goto end;
    }
    if (e->audio && (ret = audio_encode_until(e, e->audio->total, 1)) < 0)
        goto end;
    /* with faststart this also rewrites the file to put moov first */
    if ((ret = av_write_trailer(e->fmt)) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "finishing %s: %s", e->path,
               reason(e, ret, 1, why, sizeof(why)));
        ret = io_error(ret);
        goto end;
    }
    if ((ret = avio_closep(&e->fmt->pb)) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "closing %s: %s", e->path,
               reason(e, ret, 1, why, sizeof(why)));
        ret = io_error(ret);
        goto end;
    }
    e->state = ST_FINISHED;

end:
    if (ret < 0)
        e->state = ST_FAILED;
    leave(prev);
    return ret;
}

const char *gv_encoder_name(const GvEncoder *const e)
{
    return e ? e->name : "";
}

void gv_encoder_close(GvEncoder **const pe)
{
    if (!pe || !*pe)
        return;
    GvEncoder *const e = *pe;
    GvEncoder *const prev = enter(e);
    /* An unfinished encoder is told the stream ended so that it stops
     * cleanly (SVT-AV1 complains on stderr otherwise); frames it still
     * holds are released as it is freed. */
    if (e->cc && e->state != ST_FINISHED && avcodec_is_open(e->cc))
        avcodec_send_frame(e->cc, NULL);
    avcodec_free_context(&e->cc);
    audio_free(&e->audio);
    av_frame_free(&e->frame);
    av_frame_free(&e->hw_frame);
    av_packet_free(&e->pkt);
    if (e->fmt) {
        if (e->fmt->pb)
            avio_closep(&e->fmt->pb);
        avformat_free_context(e->fmt);
    }
    /* converted pictures still in flight keep the pool alive until they return */
    av_buffer_pool_uninit(&e->pool);
    av_freep(&e->path);
    leave(prev);
    free(e);
    *pe = NULL;
}
