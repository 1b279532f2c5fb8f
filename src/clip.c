/*
 * Clips: video files and animated GIFs read with libavformat, decoded with
 * libavcodec (in software, or where asked and possible on an NVDEC or
 * VAAPI device), and turned into tiles with libswscale. See clip.h.
 *
 * A clip holds the frame gv_clip_next() returned last (c->frame) and the
 * tile of the one before it (c->prev_tile); after opening and seeking, c->frame is the one
 * it returns next (c->pending). Every call runs inside a GvAvLogScope, so
 * that libav's messages go to the clip's log at debug level and the first
 * error's text can explain a failure.
 */
#include "clip.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/display.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "color.h"
#include "encode/encode.h"

/*
 * The demuxers of video files. Anything else is not a clip: still images
 * (which libavformat reads through image2 and the *_pipe demuxers),
 * playlists that would open other files, text, audio-only formats.
 */
static const char video_formats[] = "mov,matroska,webm,avi,gif,apng,mpegts,mpeg,mpegvideo,flv,"
                                    "asf,ogg,rm,wtv,ivf,mxf,nut,m4v,h264,hevc,yuv4mpegpipe,dv";

enum {
    PROBE_BYTES = 1 << 20,      /* read to recognise the container */
    INFO_BYTES = 1000000,       /* read to find the stream's parameters */
    INFO_USECONDS = 1000000,    /* of media looked at for them */
    MAX_STREAMS = 64,
    MAX_BAD_PACKETS = 64,       /* packets in a row that fail to decode: the clip ends */
    MAX_SCAN_PACKETS = 4000000, /* read to measure a clip whose header has no duration */
    SEEK_TRIES = 8,
    BUF_PAD = 64,               /* bytes after each buffer libswscale reads */
};

/* The parameters a conversion context was made for. */
typedef struct ConvKey {
    int sw, sh, sfmt, dw, dh, dfmt, matrix, full;
} ConvKey;

typedef struct Conv {
    struct SwsContext *ctx;
    ConvKey key;
} Conv;

/* A buffer of packed pixels, reused from frame to frame. */
typedef struct Buf {
    uint8_t *data;
    size_t size;
} Buf;

struct GvClip {
    GvClipInfo info;
    GvTileSpec spec;
    const GvLog *log;
    char *path;
    GvAvLogScope scope;

    AVIOContext *pb; /* ours: libavformat reads through it */
    AVFormatContext *fmt;
    int stream;
    AVRational tb;
    int64_t frame_ticks; /* one frame at the average rate, in tb; 0 unknown */

    AVCodecContext *dec;
    AVPacket *pkt;
    int pkt_held;        /* pkt still to be sent */
    AVFrame *raw;        /* from the decoder, maybe a hardware surface */
    AVFrame *spare;      /* a surface's copy in memory, before it replaces frame */
    AVBufferPool *readback; /* spare's buffers, of readback_size bytes each */
    size_t readback_size;
    AVFrame *frame;      /* the current frame, in memory */
    GvTile *prev_tile;   /* the tile of the frame gv_clip_next() returned before */
    int have_frame;      /* frame is the one gv_clip_next() returned last */
    int have_prev;       /* prev_tile (or the page before) holds one, since the last seek */
    int pending;         /* frame is decoded; gv_clip_next() returns it next */
    double cur_pts;      /* frame's time */
    double floor_pts;    /* times never go below this, until the next seek */
    int flushed, ended;  /* the decoder was sent the end; the clip ended */
    int64_t decoded;     /* frames since the file was opened */
    int bad;             /* packets in a row that failed to decode */
    int64_t first_ts;    /* the first frame's time stamp, in tb */
    int64_t last_ts;     /* the current frame's */
    int64_t skip_before; /* frames before this are dropped (AV_NOPTS_VALUE: none) */

    int hw, hw_logged;   /* frames come from a hardware decoder; said why not */
    AVBufferRef *hw_device;
    enum AVPixelFormat hw_fmt;

    /* an animated WebP, read with libvips (tiles.h) instead of all the above */
    GvAnim *anim;
    int page, pages;     /* the page gv_clip_next() returned last; of how many */

    AVRational sar;
    int smart;           /* smart_rect is the crop, on an upright smart_w x smart_h */
    int smart_rect[4], smart_w, smart_h;
    Conv conv[2];        /* the frame to RGB; for alpha, flattened RGB to the size */
    Buf buf[3];          /* RGBA at the crop's size, RGB at the tile's, upright */
};

/* ---------------------------------------------------------------- */
/* Reasons                                                            */

static void set_reason(char *reason, size_t len, const char *fmt, ...) GV_PRINTF(3, 4);

static void set_reason(char *const reason, const size_t len, const char *const fmt, ...)
{
    if (!reason || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, len, fmt, ap);
    va_end(ap);
}

/* "what: " and the first error libav logged in this call, or err's text. */
static int av_reason(const GvClip *const c, const char *const what, const int err,
                     char *const reason, const size_t len)
{
    if (err == AVERROR(ENOMEM))
        return -ENOMEM;
    char text[256];
    if (c->scope.error[0])
        av_strlcpy(text, c->scope.error, sizeof(text));
    else if (av_strerror(err, text, sizeof(text)) < 0)
        snprintf(text, sizeof(text), "error %d", err);
    if (what)
        set_reason(reason, len, "%s: %s", what, text);
    else
        set_reason(reason, len, "%s", text);
    return GV_ERR_DECODE;
}

static int not_a_video(char *const reason, const size_t len)
{
    set_reason(reason, len, "not a video");
    return GV_ERR_DECODE;
}

/* Says once, at info level, why this clip is decoded in software. */
static void software_because(GvClip *const c, const char *const why)
{
    c->hw = 0;
    if (c->hw_logged)
        return;
    c->hw_logged = 1;
    gv_log(c->log, GV_LOG_INFO, "%s: decoding in software: %s", c->path, why);
}

/* ---------------------------------------------------------------- */
/* Limits                                                             */

/*
 * What a decoder may allocate a frame for. Decoders count the coded size,
 * rounded up to whole blocks (up to 128 pixels a side), so this leaves
 * room for that; the pictures themselves are held to the limits exactly
 * by check_size().
 */
static int64_t decoder_pixel_limit(const GvTileSpec *const spec)
{
    const uint64_t side = (uint64_t)GV_CLIP_MAX_SIDE * GV_CLIP_MAX_SIDE;
    const uint64_t px = spec->max_pixels && spec->max_pixels < side ? spec->max_pixels : side;
    return (int64_t)(px + px / 4 + 2 * 128 * (uint64_t)GV_CLIP_MAX_SIDE);
}

static int check_size(const GvClip *const c, const int w, const int h, char *const reason,
                      const size_t len)
{
    if (w <= 0 || h <= 0) {
        set_reason(reason, len, "no picture size");
        return GV_ERR_DECODE;
    }
    if (w > GV_CLIP_MAX_SIDE || h > GV_CLIP_MAX_SIDE) {
        set_reason(reason, len, "%dx%d is over the %d-pixel limit on a side", w, h,
                   GV_CLIP_MAX_SIDE);
        return GV_ERR_DECODE;
    }
    if (c->spec.max_pixels && (uint64_t)w * (uint64_t)h > c->spec.max_pixels) {
        set_reason(reason, len, "%dx%d is over the %" PRIu64 "-pixel limit", w, h,
                   c->spec.max_pixels);
        return GV_ERR_DECODE;
    }
    return 0;
}

static int check_duration(const double d, char *const reason, const size_t len)
{
    if (d <= GV_CLIP_MAX_SECONDS)
        return 0;
    const long s = d < 1e9 ? (long)d : 999999999L;
    set_reason(reason, len, "%ld:%02ld:%02ld is over the %d-hour clip limit", s / 3600,
               s / 60 % 60, s % 60, (int)(GV_CLIP_MAX_SECONDS / 3600));
    return GV_ERR_DECODE;
}

/* ---------------------------------------------------------------- */
/* The file                                                           */

/* A regular, non-empty file (a FIFO would block the reader). */
static int check_file(const char *const path, char *const reason, const size_t len)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        gv_errno_reason(reason, len, "cannot open", errno);
        return GV_ERR_DECODE;
    }
    if (S_ISDIR(st.st_mode))
        set_reason(reason, len, "is a directory");
    else if (!S_ISREG(st.st_mode))
        set_reason(reason, len, "not a regular file");
    else if (st.st_size == 0)
        set_reason(reason, len, "empty file");
    else
        return 0;
    return GV_ERR_DECODE;
}

static void close_input(GvClip *const c)
{
    avformat_close_input(&c->fmt);
    avio_closep(&c->pb);
}

/*
 * The stream's parameters (decoding a few frames, one thread, within the
 * pixel limit), and the best video stream. Other streams are skipped.
 */
static int find_stream(GvClip *const c, char *const reason, const size_t len)
{
    AVFormatContext *const f = c->fmt;
    const unsigned n = f->nb_streams;
    AVDictionary **const opts = calloc(n ? n : 1, sizeof(*opts));
    if (!opts)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        av_dict_set(&opts[i], "threads", "1", 0);
        av_dict_set_int(&opts[i], "max_pixels", decoder_pixel_limit(&c->spec), 0);
    }
    int ret = avformat_find_stream_info(f, opts);
    for (unsigned i = 0; i < n; i++)
        av_dict_free(&opts[i]);
    free(opts);
    if (ret < 0)
        return av_reason(c, NULL, ret, reason, len);
    ret = av_find_best_stream(f, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (ret < 0 || (f->streams[ret]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return not_a_video(reason, len);
    c->stream = ret;
    for (unsigned i = 0; i < f->nb_streams; i++)
        if ((int)i != c->stream)
            f->streams[i]->discard = AVDISCARD_ALL;
    const AVStream *const st = f->streams[c->stream];
    c->tb = st->time_base;
    if (c->tb.num <= 0 || c->tb.den <= 0)
        return not_a_video(reason, len);
    const AVRational r = st->avg_frame_rate;
    c->frame_ticks = r.num > 0 && r.den > 0 ? av_rescale_q(1, av_inv_q(r), c->tb) : 0;
    return 0;
}

/*
 * Opens the file through our own reader, recognises the container (only
 * the demuxers of video_formats are let read it, with bounded probing and
 * only the file protocol) and finds the video stream.
 */
static int open_input(GvClip *const c, char *const reason, const size_t len)
{
    int ret = check_file(c->path, reason, len);
    if (ret < 0)
        return ret;
    /* "file:" so that a colon in the name is not taken for a protocol */
    char *const url = av_asprintf("file:%s", c->path);
    if (!url)
        return -ENOMEM;
    ret = avio_open2(&c->pb, url, AVIO_FLAG_READ, NULL, NULL);
    av_free(url);
    if (ret < 0) {
        if (ret == AVERROR(ENOMEM))
            return -ENOMEM;
        gv_errno_reason(reason, len, "cannot open", ret > -4096 ? AVUNERROR(ret) : EIO);
        return GV_ERR_DECODE;
    }
    const AVInputFormat *ifmt = NULL;
    ret = av_probe_input_buffer2(c->pb, &ifmt, c->path, NULL, 0, PROBE_BYTES);
    if (ret == AVERROR(ENOMEM))
        return -ENOMEM;
    if (ret < 0 || !ifmt || av_match_list(ifmt->name, video_formats, ',') <= 0)
        return not_a_video(reason, len);
    if (!(c->fmt = avformat_alloc_context()))
        return -ENOMEM;
    c->fmt->pb = c->pb;
    AVDictionary *opts = NULL;
    av_dict_set_int(&opts, "probesize", INFO_BYTES, 0);
    av_dict_set_int(&opts, "analyzeduration", INFO_USECONDS, 0);
    av_dict_set_int(&opts, "max_streams", MAX_STREAMS, 0);
    av_dict_set(&opts, "format_whitelist", video_formats, 0);
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    ret = avformat_open_input(&c->fmt, c->path, ifmt, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return av_reason(c, NULL, ret, reason, len);
    return find_stream(c, reason, len);
}

/* The stream's length from the header, 0 when it has none worth trusting. */
static double header_duration(const AVFormatContext *const f, const AVStream *const st)
{
    if (f->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
        return 0;
    if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
        return (double)st->duration * av_q2d(st->time_base);
    if (f->duration <= 0 || f->duration == AV_NOPTS_VALUE)
        return 0;
    /* The container's spans all its streams from its own start. */
    double d = (double)f->duration / AV_TIME_BASE;
    if (st->start_time != AV_NOPTS_VALUE && f->start_time != AV_NOPTS_VALUE)
        d -= (double)st->start_time * av_q2d(st->time_base) - (double)f->start_time / AV_TIME_BASE;
    return d > 0 ? d : 0;
}

/*
 * The length from the packets themselves, for a header without one:
 * first start to last end, read until the clip limit is passed. The file
 * is opened again afterwards.
 */
static int scan_duration(GvClip *const c, double *const d, char *const reason, const size_t len)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int n = 0; n < MAX_SCAN_PACKETS && av_read_frame(c->fmt, c->pkt) >= 0; n++) {
        const AVPacket *const p = c->pkt;
        const int64_t ts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
        if (p->stream_index == c->stream && ts != AV_NOPTS_VALUE && ts > INT64_MIN / 4 &&
            ts < INT64_MAX / 4) {
            const int64_t dur = p->duration > 0 && p->duration < INT64_MAX / 4 ? p->duration
                                                                              : c->frame_ticks;
            lo = ts < lo ? ts : lo;
            hi = ts + dur > hi ? ts + dur : hi;
        }
        av_packet_unref(c->pkt);
        if (hi > lo && (double)(hi - lo) * av_q2d(c->tb) > GV_CLIP_MAX_SECONDS)
            break;
    }
    *d = hi > lo ? (double)(hi - lo) * av_q2d(c->tb) : 0;
    close_input(c);
    return open_input(c, reason, len);
}

/* ---------------------------------------------------------------- */
/* Decoding                                                           */

static enum AVPixelFormat get_format(AVCodecContext *const dec, const enum AVPixelFormat *fmts)
{
    GvClip *const c = dec->opaque;
    for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == c->hw_fmt && c->hw)
            return *p;
    /* Not offered: a profile the hardware lacks, or its set-up failed. */
    if (c->hw)
        software_because(c, "the hardware decoder does not take this stream");
    return avcodec_default_get_format(dec, fmts);
}

/* libavutil's AV_CUDA_USE_PRIMARY_CONTEXT: its header needs CUDA's. */
#define GV_CUDA_USE_PRIMARY_CONTEXT (1 << 0)

/*
 * The process's device of each type, made at the first clip that asks
 * (a CUDA context costs a few hundred milliseconds and hundreds of MB of
 * GPU memory: one for all clips, not one each) and kept, as the Vulkan
 * loader is; one that failed to open is not tried again. Returns a new
 * reference or NULL.
 */
static AVBufferRef *shared_device(enum AVHWDeviceType type)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static AVBufferRef *devices[2];
    static int tried[2];
    const int i = type == AV_HWDEVICE_TYPE_CUDA ? 0 : 1;
    AVBufferRef *ref = NULL;
    pthread_mutex_lock(&lock);
    if (!tried[i]) {
        tried[i] = 1;
        /* CUDA: the device's primary context, which the JPEG engines use
         * too, rather than a context of its own (over 100 MB of host
         * memory each with NVIDIA's driver); a context of its own where
         * the primary one is active with other flags */
        if (type != AV_HWDEVICE_TYPE_CUDA ||
            av_hwdevice_ctx_create(&devices[i], type, NULL, NULL,
                                   GV_CUDA_USE_PRIMARY_CONTEXT) < 0) {
            devices[i] = NULL;
            if (av_hwdevice_ctx_create(&devices[i], type, NULL, NULL, 0) < 0)
                devices[i] = NULL;
        }
    }
    if (devices[i])
        ref = av_buffer_ref(devices[i]);
    pthread_mutex_unlock(&lock);
    return ref;
}

/*
 * A hardware decoder for codec: CUDA (NVDEC), then VAAPI, on the device
 * shared by all clips. Returns 1 when dec will try it, 0 for software.
 */
static int setup_hw(GvClip *const c, const AVCodec *const codec)
{
    static const enum AVHWDeviceType types[] = { AV_HWDEVICE_TYPE_CUDA, AV_HWDEVICE_TYPE_VAAPI };
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        enum AVPixelFormat pix = AV_PIX_FMT_NONE;
        for (int i = 0; pix == AV_PIX_FMT_NONE; i++) {
            const AVCodecHWConfig *const hc = avcodec_get_hw_config(codec, i);
            if (!hc)
                break;
            if ((hc->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) &&
                hc->device_type == types[t])
                pix = hc->pix_fmt;
        }
        if (pix == AV_PIX_FMT_NONE)
            continue;
        if (c->hw_device && c->hw_fmt != pix)
            continue;
        if (!c->hw_device && !(c->hw_device = shared_device(types[t])))
            continue;
        if (!(c->dec->hw_device_ctx = av_buffer_ref(c->hw_device)))
            break;
        c->hw_fmt = pix;
        c->dec->opaque = c;
        c->dec->get_format = get_format;
        return 1;
    }
    software_because(c, "no NVDEC or VAAPI device decodes it");
    return 0;
}

static void reset_state(GvClip *const c)
{
    av_packet_unref(c->pkt);
    c->pkt_held = 0;
    c->flushed = c->ended = 0;
    c->bad = 0;
    c->floor_pts = 0;
    c->skip_before = AV_NOPTS_VALUE;
}

/* A decoder for the stream, on one thread: the caller runs many at once. */
static int open_decoder(GvClip *const c, const int hw, char *const reason, const size_t len)
{
    avcodec_free_context(&c->dec);
    reset_state(c);
    const AVCodecParameters *const par = c->fmt->streams[c->stream]->codecpar;
    const AVCodec *const codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        set_reason(reason, len, "no decoder for %s", avcodec_get_name(par->codec_id));
        return GV_ERR_DECODE;
    }
    if (!(c->dec = avcodec_alloc_context3(codec)))
        return -ENOMEM;
    int ret = avcodec_parameters_to_context(c->dec, par);
    if (ret < 0)
        return av_reason(c, "cannot decode", ret, reason, len);
    c->dec->pkt_timebase = c->tb;
    c->dec->thread_count = 1;
    c->dec->max_pixels = decoder_pixel_limit(&c->spec);
    c->hw = hw && setup_hw(c, codec);
    if ((ret = avcodec_open2(c->dec, codec, NULL)) < 0 && c->hw) {
        software_because(c, "the hardware decoder would not open");
        return open_decoder(c, 0, reason, len);
    }
    if (ret < 0)
        return av_reason(c, "cannot decode", ret, reason, len);
    return 0;
}

/*
 * The hardware failed to hand a frame over: the same place again in
 * software, from the key frame before it, dropping the frames before.
 */
static int hw_fallback(GvClip *const c, const int64_t ts, char *const reason, const size_t len)
{
    software_because(c, "a frame could not be read back from the hardware");
    int ret = open_decoder(c, 0, reason, len);
    if (ret < 0)
        return ret;
    if (av_seek_frame(c->fmt, c->stream, ts, AVSEEK_FLAG_BACKWARD) < 0) {
        close_input(c);
        if ((ret = open_input(c, reason, len)) < 0)
            return ret;
    }
    c->skip_before = ts;
    return 0;
}

/* Whether libswscale takes this frame, and its size is within the limits. */
static int check_frame(const GvClip *const c, const AVFrame *const f, char *const reason,
                       const size_t len)
{
    const int ret = check_size(c, f->width, f->height, reason, len);
    if (ret < 0)
        return ret;
    if (f->format < 0 || !sws_isSupportedInput(f->format)) {
        set_reason(reason, len, "pixel format %s is not supported",
                   f->format < 0 ? "none" : av_get_pix_fmt_name(f->format));
        return GV_ERR_DECODE;
    }
    return 0;
}

static int tile_of(GvClip *c, const AVFrame *f, GvTile **out);

/*
 * The new frame got replaces the current one. A current frame that
 * gv_clip_next() returned becomes the previous one as its tile, made
 * now: holding it at full size instead would pin one more of the
 * decoder's (or the hardware read-back's) pictures for every clip open,
 * 3 MB at 1080p. Returns 0, or tile_of()'s error (got replaces it still).
 */
static int replace_frame(GvClip *const c, AVFrame *const got)
{
    int ret = 0;
    if (c->have_frame) {
        GvTile *t = NULL;
        ret = tile_of(c, c->frame, &t);
        gv_tile_free(&c->prev_tile);
        c->prev_tile = t;
        c->have_prev = ret == 0;
        c->have_frame = 0;
    }
    av_frame_unref(c->frame);
    av_frame_move_ref(c->frame, got);
    return ret;
}

/*
 * The hardware surface raw copied into c->spare, in a buffer from the
 * clip's own pool. The pool holds the two or three buffers a clip has in
 * use (the current frame, the copy that replaces it) and hands them back
 * frame after frame, instead of a new 3 MB allocation for every 1080p
 * frame, freed on whichever tile worker next decodes the clip.
 */
static int read_back(GvClip *const c, const AVFrame *const raw)
{
    AVFrame *const dst = c->spare;
    av_frame_unref(dst);
    if (!raw->hw_frames_ctx)
        return AVERROR(EINVAL);
    const AVHWFramesContext *const fc = (const AVHWFramesContext *)raw->hw_frames_ctx->data;
    const int size = av_image_get_buffer_size(fc->sw_format, raw->width, raw->height, 64);
    if (size < 0)
        return size;
    if (!c->readback || c->readback_size != (size_t)size) {
        av_buffer_pool_uninit(&c->readback);
        if (!(c->readback = av_buffer_pool_init((size_t)size, NULL)))
            return AVERROR(ENOMEM);
        c->readback_size = (size_t)size;
    }
    if (!(dst->buf[0] = av_buffer_pool_get(c->readback)))
        return AVERROR(ENOMEM);
    dst->format = fc->sw_format;
    dst->width = raw->width;
    dst->height = raw->height;
    int ret = av_image_fill_arrays(dst->data, dst->linesize, dst->buf[0]->data, fc->sw_format,
                                   raw->width, raw->height, 64);
    if (ret >= 0)
        ret = av_hwframe_transfer_data(dst, raw, 0);
    if (ret >= 0)
        ret = av_frame_copy_props(dst, raw);
    if (ret < 0)
        av_frame_unref(dst);
    return ret;
}

/* c->raw becomes the current frame. Returns 0, 1 when it is dropped, or an error. */
static int take_frame(GvClip *const c, char *const reason, const size_t len)
{
    AVFrame *const raw = c->raw;
    int64_t ts = raw->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE)
        ts = raw->pts;
    if (ts == AV_NOPTS_VALUE)
        ts = c->decoded ? c->last_ts + c->frame_ticks
                        : c->first_ts != AV_NOPTS_VALUE ? c->first_ts : 0;
    if (c->skip_before != AV_NOPTS_VALUE && ts < c->skip_before) {
        av_frame_unref(raw);
        return 1;
    }
    c->skip_before = AV_NOPTS_VALUE;
    int ret;
    if (c->hw && raw->format == c->hw_fmt) {
        if ((ret = read_back(c, raw)) < 0) {
            av_frame_unref(raw);
            if (ret == AVERROR(ENOMEM))
                return -ENOMEM;
            ret = hw_fallback(c, ts, reason, len);
            return ret < 0 ? ret : 1;
        }
        av_frame_unref(raw);
        ret = replace_frame(c, c->spare);
    } else {
        ret = replace_frame(c, raw);
    }
    if (ret < 0) {
        if (ret != -ENOMEM)
            set_reason(reason, len, "a picture could not be scaled to its tile");
        return ret;
    }
    ret = check_frame(c, c->frame, reason, len);
    if (ret < 0)
        return ret;
    if (c->first_ts == AV_NOPTS_VALUE)
        c->first_ts = ts;
    c->decoded++;
    c->last_ts = ts;
    double pts = (double)(ts - c->first_ts) * av_q2d(c->tb);
    if (!(pts >= c->floor_pts))
        pts = c->floor_pts;
    c->cur_pts = c->floor_pts = pts;
    return 0;
}

/* A packet that failed to decode: skipped, unless too many fail in a row. */
static int bad_packet(GvClip *const c, const int err, char *const reason, const size_t len)
{
    if (err == AVERROR(ENOMEM))
        return -ENOMEM;
    if (++c->bad < MAX_BAD_PACKETS)
        return 0;
    if (c->decoded)
        return 1;
    return av_reason(c, "cannot decode", err, reason, len);
}

/* The next packet of the stream into c->pkt: 0, or 1 at the end of what can be read. */
static int read_packet(GvClip *const c)
{
    for (;;) {
        const int ret = av_read_frame(c->fmt, c->pkt);
        if (ret < 0) {
            if (ret != AVERROR_EOF)
                gv_log(c->log, GV_LOG_DEBUG, "%s: read error, the clip ends here", c->path);
            return 1;
        }
        if (c->pkt->stream_index == c->stream)
            return 0;
        av_packet_unref(c->pkt);
    }
}

/* Sends the decoder its next packet, or the end. 0, 1 at the end, 2 when
 * the decoder wants its frames taken first, or an error. */
static int feed(GvClip *const c, char *const reason, const size_t len)
{
    if (!c->pkt_held) {
        if (read_packet(c)) {
            c->flushed = 1;
            const int ret = avcodec_send_packet(c->dec, NULL);
            return ret == AVERROR(ENOMEM) ? -ENOMEM : 0;
        }
        c->pkt_held = 1;
    }
    const int ret = avcodec_send_packet(c->dec, c->pkt);
    if (ret == AVERROR(EAGAIN))
        return 2;
    av_packet_unref(c->pkt);
    c->pkt_held = 0;
    return ret < 0 ? bad_packet(c, ret, reason, len) : 0;
}

/* The next frame into c->frame: 0, 1 at the end of the clip, or an error. */
static int decode_frame(GvClip *const c, char *const reason, const size_t len)
{
    int stalled = 0;
    for (;;) {
        int ret = avcodec_receive_frame(c->dec, c->raw);
        if (ret >= 0) {
            c->bad = 0;
            if ((ret = take_frame(c, reason, len)) != 1)
                return ret;
            continue;
        }
        if (ret == AVERROR_EOF)
            return 1;
        if (ret != AVERROR(EAGAIN)) {
            if ((ret = bad_packet(c, ret, reason, len)) != 0)
                return ret;
            continue;
        }
        if (c->flushed)
            return 1;
        ret = feed(c, reason, len);
        if (ret == 2 && ++stalled > 2)
            ret = bad_packet(c, AVERROR_BUG, reason, len);
        else if (ret != 2)
            stalled = 0;
        if (ret < 0 || ret == 1)
            return ret;
    }
}

/* ---------------------------------------------------------------- */
/* Opening                                                            */

static int stream_rotation(const AVStream *const st)
{
    const int32_t *m = NULL;
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 30, 100)
    const AVPacketSideData *const sd =
        av_packet_side_data_get(st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data,
                                AV_PKT_DATA_DISPLAYMATRIX);
    if (sd && sd->size >= 9 * sizeof(int32_t))
        m = (const int32_t *)sd->data;
#else
    size_t size = 0;
    const uint8_t *const sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (sd && size >= 9 * sizeof(int32_t))
        m = (const int32_t *)sd;
#endif
    if (!m)
        return 0;
    /* What shows the picture upright is a turn clockwise by minus
     * av_display_rotation_get(), as FFmpeg's own players do: a phone's
     * portrait video says -90, turned 90 degrees clockwise. */
    const double a = av_display_rotation_get(m);
    if (!isfinite(a))
        return 0;
    const long q = lrint(-a / 90.0) % 4;
    return (int)((q + 4) % 4) * 90;
}

static void display_size(const GvClip *const c, const int fw, const int fh, int *const dw,
                         int *const dh)
{
    *dw = fw;
    *dh = fh;
    if (c->sar.num != c->sar.den) {
        const long w = lrint((double)fw * c->sar.num / c->sar.den);
        *dw = w < 1 ? 1 : (int)w;
    }
}

static int turned(const GvClip *const c)
{
    return c->info.rotation == 90 || c->info.rotation == 270;
}

static void upright_size(const GvClip *const c, const int fw, const int fh, int *const uw,
                         int *const uh)
{
    int dw, dh;
    display_size(c, fw, fh, &dw, &dh);
    *uw = turned(c) ? dh : dw;
    *uh = turned(c) ? dw : dh;
}

static void fill_info(GvClip *const c, const double duration)
{
    const AVStream *const st = c->fmt->streams[c->stream];
    GvClipInfo *const i = &c->info;
    i->width = c->frame->width;
    i->height = c->frame->height;
    i->rotation = stream_rotation(st);
    AVRational sar = av_guess_sample_aspect_ratio(c->fmt, (AVStream *)st, c->frame);
    if (sar.num <= 0 || sar.den <= 0 || av_q2d(sar) < 1.0 / 16 || av_q2d(sar) > 16)
        sar = (AVRational){ 1, 1 };
    av_reduce(&c->sar.num, &c->sar.den, sar.num, sar.den, INT_MAX);
    upright_size(c, i->width, i->height, &i->upright_w, &i->upright_h);
    i->duration = duration;
    /* Frames over time where the header counts them (a GIF's rate is
     * only an average of its delays), else the stream's rates. */
    AVRational r = st->avg_frame_rate;
    if (r.num <= 0 || r.den <= 0)
        r = st->r_frame_rate;
    i->fps = st->nb_frames > 0 ? (double)st->nb_frames / duration
             : r.num > 0 && r.den > 0 ? av_q2d(r)
                                      : 0;
    av_strlcpy(i->codec, avcodec_get_name(st->codecpar->codec_id), sizeof(i->codec));
    av_strlcpy(i->format, c->fmt->iformat->name, sizeof(i->format));
}

/*
 * Opens the file and the decoder, checks the limits, and decodes the
 * first frame, which the first gv_clip_next() returns.
 */
static int start(GvClip *const c, const int hw, char *const reason, const size_t len)
{
    int ret = open_input(c, reason, len);
    if (ret < 0)
        return ret;
    /* The header's size, where it has one, before anything is decoded;
     * each frame's is checked as it comes. */
    const AVCodecParameters *par = c->fmt->streams[c->stream]->codecpar;
    if ((par->width > 0 || par->height > 0) &&
        (ret = check_size(c, par->width, par->height, reason, len)) < 0)
        return ret;
    double duration = header_duration(c->fmt, c->fmt->streams[c->stream]);
    if (!(duration > 0) && (ret = scan_duration(c, &duration, reason, len)) < 0)
        return ret;
    if ((ret = check_duration(duration, reason, len)) < 0)
        return ret;
    if (!(duration > 0)) {
        set_reason(reason, len, "no duration");
        return GV_ERR_DECODE;
    }
    if ((ret = open_decoder(c, hw, reason, len)) < 0)
        return ret;
    if ((ret = decode_frame(c, reason, len)) == 1) {
        set_reason(reason, len, "no frames");
        return GV_ERR_DECODE;
    }
    if (ret < 0)
        return ret;
    fill_info(c, duration);
    c->pending = 1;
    return 0;
}

static int clip_new(GvClip **const out, const char *const path, const GvTileSpec *const spec,
                    const GvLog *const log)
{
    GvClip *const c = calloc(1, sizeof(*c));
    *out = c;
    if (!c)
        return -ENOMEM;
    c->spec = *spec;
    c->log = log;
    c->scope.log = log;
    c->first_ts = AV_NOPTS_VALUE;
    c->skip_before = AV_NOPTS_VALUE;
    c->hw_fmt = AV_PIX_FMT_NONE;
    if (!(c->path = strdup(path)) || !(c->pkt = av_packet_alloc()) ||
        !(c->raw = av_frame_alloc()) || !(c->spare = av_frame_alloc()) ||
        !(c->frame = av_frame_alloc()))
        return -ENOMEM;
    return 0;
}

/*
 * A still image is not a clip. The image demuxers are never let read; an
 * image codec (a GIF, an animated PNG, Motion JPEG...) of one frame is
 * refused here, with decode set by decoding a second frame where the
 * header does not count them.
 */
static int check_still(GvClip *const c, const int decode, char *const reason, const size_t len)
{
    const AVStream *const st = c->fmt->streams[c->stream];
    const AVCodecDescriptor *const d = avcodec_descriptor_get(st->codecpar->codec_id);
    int image = d && (d->props & AV_CODEC_PROP_INTRA_ONLY);
    for (const char *const *m = d ? d->mime_types : NULL; m && *m && !image; m++)
        image = !strncmp(*m, "image/", 6);
    if (!image || st->nb_frames > 1)
        return 0;
    if (st->nb_frames == 1)
        return not_a_video(reason, len);
    if (!decode)
        return 0;
    const int ret = decode_frame(c, reason, len);
    return ret == 1 ? not_a_video(reason, len) : ret < 0 ? ret : 0;
}

/* ---------------------------------------------------------------- */
/* Animated WebP                                                      */

/* Whether path holds a WebP (RIFF....WEBP): libvips reads its pages. */
static int is_webp(const char *const path)
{
    uint8_t head[12];
    FILE *const f = fopen(path, "rb");
    const int n = f ? (int)fread(head, 1, sizeof(head), f) : 0;
    if (f)
        fclose(f);
    return n == 12 && !memcmp(head, "RIFF", 4) && !memcmp(head + 8, "WEBP", 4);
}

static int anim_start(GvClip *const c, char *const reason, const size_t len)
{
    int ret = gv_anim_open(&c->anim, c->path, &c->spec, reason, len);
    if (ret < 0)
        return ret;
    int w, h;
    c->pages = gv_anim_size(c->anim, &w, &h);
    const double d = gv_anim_time(c->anim, c->pages);
    if (d > GV_CLIP_MAX_SECONDS) {
        const int s = (int)d;
        set_reason(reason, len, "%d:%02d:%02d is over the 1-hour clip limit", s / 3600,
                   s / 60 % 60, s % 60);
        return GV_ERR_DECODE;
    }
    c->info = (GvClipInfo){ .width = w, .height = h, .upright_w = w, .upright_h = h,
                            .duration = d, .fps = d > 0 ? c->pages / d : 0 };
    snprintf(c->info.codec, sizeof(c->info.codec), "webp");
    snprintf(c->info.format, sizeof(c->info.format), "webp");
    c->page = -1;
    return 0;
}

static int anim_seek(GvClip *const c, const double t)
{
    int p = 0;
    while (p + 1 < c->pages && gv_anim_time(c->anim, p + 1) <= t + 1e-6)
        p++;
    c->page = p - 1;
    return 0;
}

static int anim_next(GvClip *const c, double *const pts)
{
    if (c->page + 1 >= c->pages)
        return 1;
    c->have_prev = c->page >= 0 && c->have_frame;
    c->page++;
    c->have_frame = 1;
    *pts = gv_anim_time(c->anim, c->page);
    return 0;
}

int gv_clip_probe(const char *const path, const GvTileSpec *const spec, GvClipInfo *const info,
                  char *const reason, const size_t reason_len)
{
    if (!path || !spec || !info)
        return -EINVAL;
    memset(info, 0, sizeof(*info));
    GvClip *c;
    int ret = clip_new(&c, path, spec, NULL);
    if (ret == 0 && is_webp(path)) {
        if ((ret = anim_start(c, reason, reason_len)) == 0)
            *info = c->info;
    } else if (ret == 0) {
        GvAvLogScope *const prev = gv_av_log_enter(&c->scope);
        ret = start(c, 0, reason, reason_len);
        if (ret == 0)
            ret = check_still(c, 1, reason, reason_len);
        if (ret == 0)
            *info = c->info;
        gv_av_log_leave(prev);
    }
    gv_clip_close(&c);
    return ret;
}

/* ---------------------------------------------------------------- */
/* Frames to pixels                                                   */

static uint8_t *buffer(Buf *const b, const size_t size)
{
    if (b->size >= size)
        return b->data;
    av_freep(&b->data);
    b->size = 0;
    if (size > SIZE_MAX - BUF_PAD || !(b->data = av_malloc(size + BUF_PAD)))
        return NULL;
    b->size = size;
    return b->data;
}

/* Row stride of packed pixels, aligned for libswscale's vector code. */
static size_t row_bytes(const int w, const int bpp)
{
    return ((size_t)w * (size_t)bpp + 63) & ~(size_t)63;
}

/* libswscale's matrix for the frame: its tag, or where it has none, what
 * players guess (BT.709 for HD sizes, BT.601 below). */
static int frame_matrix(const AVFrame *const f)
{
    switch (f->colorspace) {
    case AVCOL_SPC_BT709:
        return SWS_CS_ITU709;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
        return SWS_CS_ITU601;
    case AVCOL_SPC_FCC:
        return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M:
        return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
        return SWS_CS_BT2020;
    default:
        return f->height >= 720 || f->width >= 1280 ? SWS_CS_ITU709 : SWS_CS_ITU601;
    }
}

/* The JPEG formats are their plain ones in full range. */
static enum AVPixelFormat plain_format(const enum AVPixelFormat fmt, int *const full)
{
    switch (fmt) {
    case AV_PIX_FMT_YUVJ420P:
        *full = 1;
        return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
        *full = 1;
        return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P:
        *full = 1;
        return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P:
        *full = 1;
        return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P:
        *full = 1;
        return AV_PIX_FMT_YUV411P;
    default:
        return fmt;
    }
}

typedef struct Src {
    const uint8_t *plane[4];
    int stride[4];
    int w, h;
    enum AVPixelFormat fmt;
    int matrix, full;
} Src;

/* Converts src to dst (packed, dw x dh, dfmt) through conversion v. */
static int convert(Conv *const v, const Src *const s, uint8_t *const dst, const int dstride,
                   const int dw, const int dh, const enum AVPixelFormat dfmt)
{
    const ConvKey key = { s->w, s->h, s->fmt, dw, dh, dfmt, s->matrix, s->full };
    if (!v->ctx || memcmp(&key, &v->key, sizeof(key))) {
        v->ctx = sws_getCachedContext(v->ctx, s->w, s->h, s->fmt, dw, dh, dfmt,
                                      SWS_LANCZOS | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL,
                                      NULL, NULL);
        if (!v->ctx)
            return -ENOMEM;
        const AVPixFmtDescriptor *const d = av_pix_fmt_desc_get(s->fmt);
        if (d && !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)))
            sws_setColorspaceDetails(v->ctx, sws_getCoefficients(s->matrix), s->full,
                                     sws_getCoefficients(SWS_CS_ITU709), 1, 0, 1 << 16, 1 << 16);
        v->key = key;
    }
    uint8_t *const d[4] = { dst, NULL, NULL, NULL };
    const int ds[4] = { dstride, 0, 0, 0 };
    return sws_scale(v->ctx, s->plane, s->stride, 0, s->h, d, ds) == dh ? 0 : -EINVAL;
}

/*
 * The planes of window win (x, y, w, h) of frame f, through pointer
 * offsets: the window's origin moves back to a whole chroma sample (a
 * whole byte for formats of 1 bit a pixel), its far edge stays.
 */
static void crop_source(const AVFrame *const f, int win[4], Src *const s)
{
    const AVPixFmtDescriptor *const d = av_pix_fmt_desc_get(f->format);
    const int bits = (d->flags & AV_PIX_FMT_FLAG_BITSTREAM) != 0;
    const int ax = bits ? 8 : 1 << d->log2_chroma_w, ay = 1 << d->log2_chroma_h;
    const int right = win[0] + win[2], bottom = win[1] + win[3];
    win[0] -= win[0] % ax;
    win[1] -= win[1] % ay;
    win[2] = right - win[0];
    win[3] = bottom - win[1];
    int steps[4];
    av_image_fill_max_pixsteps(steps, NULL, d);
    for (int p = 0; p < 4; p++) {
        s->plane[p] = f->data[p];
        s->stride[p] = f->linesize[p];
        if (!f->data[p] || ((d->flags & AV_PIX_FMT_FLAG_PAL) && p == 1))
            continue;
        const int sub = d->nb_components >= 3 && p != d->comp[0].plane &&
                        (p == d->comp[1].plane || p == d->comp[2].plane);
        const int x = sub ? win[0] >> d->log2_chroma_w : win[0];
        const int y = sub ? win[1] >> d->log2_chroma_h : win[1];
        const ptrdiff_t xb = bits ? (ptrdiff_t)x * steps[p] / 8 : (ptrdiff_t)x * steps[p];
        s->plane[p] += (ptrdiff_t)y * f->linesize[p] + xb;
    }
    s->w = win[2];
    s->h = win[3];
    s->full = f->color_range == AVCOL_RANGE_JPEG;
    s->fmt = plain_format(f->format, &s->full);
    s->matrix = frame_matrix(f);
}

/* The window of frame f, in coded pixels, that shows window r of the
 * upright picture: r turned back by the rotation, then the pixel aspect
 * undone. */
static void coded_window(const GvClip *const c, const AVFrame *const f, const int r[4],
                         int win[4])
{
    int dw, dh;
    display_size(c, f->width, f->height, &dw, &dh);
    int x = r[0], y = r[1], w = r[2], h = r[3];
    if (c->info.rotation == 90) {
        x = r[1];
        y = dh - r[0] - r[2];
        w = r[3];
        h = r[2];
    } else if (c->info.rotation == 180) {
        x = dw - r[0] - r[2];
        y = dh - r[1] - r[3];
    } else if (c->info.rotation == 270) {
        x = dw - r[1] - r[3];
        y = r[0];
        w = r[3];
        h = r[2];
    }
    const double sx = (double)f->width / dw;
    long left = lrint(x * sx), right = lrint((x + w) * sx);
    long top = y, bottom = (long)y + h;
    left = left < 0 ? 0 : left >= f->width ? f->width - 1 : left;
    right = right <= left ? left + 1 : right > f->width ? f->width : right;
    top = top < 0 ? 0 : top >= f->height ? f->height - 1 : top;
    bottom = bottom <= top ? top + 1 : bottom > f->height ? f->height : bottom;
    win[0] = (int)left;
    win[1] = (int)top;
    win[2] = (int)(right - left);
    win[3] = (int)(bottom - top);
}

/* Alpha over the background, RGBA to RGB in place, rounded as photos are. */
static void flatten(uint8_t *const px, const int w, const int h, const uint8_t bg[3])
{
    const size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++) {
        const unsigned a = px[4 * i + 3];
        for (int k = 0; k < 3; k++)
            px[3 * i + k] = (uint8_t)((px[4 * i + k] * a + bg[k] * (255 - a) + 127) / 255);
    }
}

/* Picture s (w x h, row stride ss) turned clockwise by rot into packed d. */
static void turn(const uint8_t *const s, const size_t ss, const int w, const int h,
                 const int rot, uint8_t *const d)
{
    const int uw = rot == 90 || rot == 270 ? h : w, uh = rot == 90 || rot == 270 ? w : h;
    for (int v = 0; v < uh; v++) {
        uint8_t *const row = d + (size_t)v * uw * 3;
        if (rot == 0) {
            memcpy(row, s + v * ss, (size_t)uw * 3);
            continue;
        }
        for (int u = 0; u < uw; u++) {
            const int x = rot == 90 ? v : rot == 180 ? w - 1 - u : w - 1 - v;
            const int y = rot == 90 ? h - 1 - u : rot == 180 ? h - 1 - v : u;
            memcpy(row + 3 * u, s + y * ss + 3 * (size_t)x, 3);
        }
    }
}

/*
 * Window r of frame f's upright picture, scaled to ow x oh: packed RGB in
 * *rgb (one of c's buffers). Scaled before it is turned, so the turn
 * moves few pixels; an image with alpha is flattened at its own size
 * first, as photos are.
 */
static int frame_to_rgb(GvClip *const c, const AVFrame *const f, const int r[4], const int ow,
                        const int oh, const uint8_t **const rgb)
{
    int win[4];
    coded_window(c, f, r, win);
    Src s;
    crop_source(f, win, &s);
    const int dw = turned(c) ? oh : ow, dh = turned(c) ? ow : oh;
    const size_t stride = row_bytes(dw, 3);
    if ((size_t)dh > SIZE_MAX / stride || (size_t)ow * 3 > SIZE_MAX / (size_t)oh)
        return -ENOMEM;
    uint8_t *const scaled = buffer(&c->buf[1], stride * (size_t)dh);
    uint8_t *const up = buffer(&c->buf[2], (size_t)ow * 3 * (size_t)oh);
    if (!scaled || !up)
        return -ENOMEM;
    const AVPixFmtDescriptor *const d = av_pix_fmt_desc_get(s.fmt);
    int ret;
    if (d->flags & (AV_PIX_FMT_FLAG_ALPHA | AV_PIX_FMT_FLAG_PAL)) {
        const size_t astride = row_bytes(s.w, 4);
        uint8_t *const rgba = buffer(&c->buf[0], astride * (size_t)s.h);
        if (!rgba)
            return -ENOMEM;
        if ((ret = convert(&c->conv[0], &s, rgba, (int)astride, s.w, s.h, AV_PIX_FMT_RGBA)) < 0)
            return ret;
        for (int y = 0; y < s.h; y++)
            flatten(rgba + y * astride, s.w, 1, c->spec.background);
        const Src flat = { { rgba }, { (int)astride }, s.w, s.h, AV_PIX_FMT_RGB24, 0, 1 };
        ret = convert(&c->conv[1], &flat, scaled, (int)stride, dw, dh, AV_PIX_FMT_RGB24);
    } else {
        ret = convert(&c->conv[0], &s, scaled, (int)stride, dw, dh, AV_PIX_FMT_RGB24);
    }
    if (ret < 0)
        return ret;
    turn(scaled, stride, dw, dh, c->info.rotation, up);
    *rgb = up;
    return 0;
}

/* The crop window of frame f, on its upright picture. */
static void crop_rect(const GvClip *const c, const AVFrame *const f, int r[4])
{
    int uw, uh;
    upright_size(c, f->width, f->height, &uw, &uh);
    GvTileSpec s = c->spec;
    if (!c->smart && gv_tile_crop_rect(uw, uh, &s, r) == 0)
        return;
    s.crop = GV_CROP_CENTER;
    gv_tile_crop_rect(uw, uh, &s, r);
    if (!c->smart)
        return;
    /* the window chosen on the first frame, at this frame's scale */
    const long x = lrint(c->smart_rect[0] * (double)uw / c->smart_w);
    const long y = lrint(c->smart_rect[1] * (double)uh / c->smart_h);
    r[0] = (int)(x < 0 ? 0 : x > uw - r[2] ? uw - r[2] : x);
    r[1] = (int)(y < 0 ? 0 : y > uh - r[3] ? uh - r[3] : y);
}

/*
 * For CROP_POSITION attention or entropy: where libvips puts the window
 * on the first frame, scaled (as photos are before their smart crop) to
 * just cover the tile. Should that fail, the centre is used.
 */
static int find_smart_crop(GvClip *const c)
{
    if (c->spec.crop != GV_CROP_ATTENTION && c->spec.crop != GV_CROP_ENTROPY)
        return 0;
    int uw, uh;
    upright_size(c, c->frame->width, c->frame->height, &uw, &uh);
    double s = fmax((double)c->spec.w / uw, (double)c->spec.h / uh);
    s = s > 1 ? 1 : s;
    const int sw = (int)fmax(1, lrint(uw * s)), sh = (int)fmax(1, lrint(uh * s));
    const int all[4] = { 0, 0, uw, uh };
    const uint8_t *rgb;
    int r[4];
    const int ret = frame_to_rgb(c, c->frame, all, sw, sh, &rgb);
    if (ret == -ENOMEM)
        return ret;
    if (ret == 0 && gv_tile_smart_rect(rgb, sw, sh, &c->spec, r) == 0) {
        c->smart = 1;
        memcpy(c->smart_rect, r, sizeof(r));
        c->smart_w = sw;
        c->smart_h = sh;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* The API                                                            */

int gv_clip_open(GvClip **const out, const char *const path, const GvClipConfig *const cfg,
                 char *const reason, const size_t reason_len)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!path || !cfg || !gv_tile_spec_ok(cfg->spec))
        return -EINVAL;
    GvClip *c;
    int ret = clip_new(&c, path, cfg->spec, cfg->log);
    if (ret == 0 && is_webp(path)) {
        ret = anim_start(c, reason, reason_len);
    } else if (ret == 0) {
        GvAvLogScope *const prev = gv_av_log_enter(&c->scope);
        ret = start(c, cfg->hwaccel, reason, reason_len);
        if (ret == 0)
            ret = check_still(c, 0, reason, reason_len);
        if (ret == 0)
            ret = find_smart_crop(c);
        gv_av_log_leave(prev);
    }
    if (ret < 0)
        gv_clip_close(&c);
    *out = c;
    return ret;
}

const GvClipInfo *gv_clip_info(const GvClip *const c)
{
    return c ? &c->info : NULL;
}

int gv_clip_hw(const GvClip *const c)
{
    return c && c->hw;
}

/*
 * To the key frame at or before target (stream time base) by the
 * container's index. An index can place a key frame by its decoding
 * time, a little before it shows: a frame that lands after the target
 * sends the search further back. Returns 0 with the frame decoded, 1
 * where seeking does not get there (the caller starts over), or an error.
 */
static int seek_to(GvClip *const c, const int64_t target, char *const reason, const size_t len)
{
    int64_t ts = target, back = c->frame_ticks > 0 ? c->frame_ticks : 1;
    for (int i = 0; i < SEEK_TRIES; i++) {
        if (av_seek_frame(c->fmt, c->stream, ts, AVSEEK_FLAG_BACKWARD) < 0)
            return 1;
        avcodec_flush_buffers(c->dec);
        reset_state(c);
        const int ret = decode_frame(c, reason, len);
        if (ret < 0 && ret != GV_ERR_DECODE)
            return ret;
        if (ret == 0 && c->last_ts <= target)
            return 0;
        if (ts <= c->first_ts || ret == GV_ERR_DECODE)
            return 1;
        int64_t from = ret == 0 ? c->last_ts : ts;
        if (ret == 0 && c->frame->pkt_dts != AV_NOPTS_VALUE && c->frame->pkt_dts < from)
            from = c->frame->pkt_dts;
        ts = (from < ts ? from : ts) - back;
        back = back < INT64_MAX / 4 ? back * 2 : back;
    }
    return 1;
}

/*
 * From the first frame again, with a new decoder (a GIF's decoder keeps
 * the picture it paints frames onto): by seeking to the start, or where
 * that does not reach the first frame, by opening the file again.
 */
static int restart(GvClip *const c, char *const reason, const size_t len)
{
    int ret;
    for (int reopen = 0; reopen < 2; reopen++) {
        if (reopen || !c->fmt ||
            av_seek_frame(c->fmt, c->stream, c->first_ts, AVSEEK_FLAG_BACKWARD) < 0) {
            avcodec_free_context(&c->dec);
            close_input(c);
            if ((ret = open_input(c, reason, len)) < 0)
                return ret;
            reopen = 1;
        }
        if ((ret = open_decoder(c, c->hw, reason, len)) < 0)
            return ret;
        ret = decode_frame(c, reason, len);
        if (ret < 0)
            return ret;
        if (ret == 0 && c->last_ts <= c->first_ts)
            return 0;
    }
    set_reason(reason, len, "no frames from the start");
    return GV_ERR_DECODE;
}

int gv_clip_seek(GvClip *const c, double t, char *const reason, const size_t reason_len)
{
    if (!c)
        return -EINVAL;
    if (c->anim) {
        c->have_frame = c->have_prev = 0;
        return anim_seek(c, t);
    }
    GvAvLogScope *const prev = gv_av_log_enter(&c->scope);
    t = t > 0 ? (t < 2 * GV_CLIP_MAX_SECONDS ? t : 2 * GV_CLIP_MAX_SECONDS) : 0;
    const int64_t target = c->first_ts + (int64_t)floor(t / av_q2d(c->tb) + 1e-3);
    c->pending = c->have_frame = c->have_prev = 0;
    gv_tile_free(&c->prev_tile);
    /* A GIF's frames paint over each other: only the first stands alone. */
    int ret = 1;
    if (c->fmt && c->dec && c->dec->codec_id != AV_CODEC_ID_GIF &&
        c->dec->codec_id != AV_CODEC_ID_APNG)
        ret = seek_to(c, target, reason, reason_len);
    if (ret == 1)
        ret = restart(c, reason, reason_len);
    if (ret == 0)
        c->pending = 1;
    gv_av_log_leave(prev);
    return ret;
}

int gv_clip_next(GvClip *const c, double *const pts, char *const reason, const size_t reason_len)
{
    if (!c || !pts)
        return -EINVAL;
    if (c->anim)
        return anim_next(c, pts);
    if (c->pending) {
        c->pending = 0;
        c->have_frame = 1;
        *pts = c->cur_pts;
        return 0;
    }
    if (c->ended)
        return 1;
    if (!c->fmt || !c->dec) {
        set_reason(reason, reason_len, "the clip failed to seek");
        return GV_ERR_DECODE;
    }
    GvAvLogScope *const prev = gv_av_log_enter(&c->scope);
    const int ret = decode_frame(c, reason, reason_len);
    gv_av_log_leave(prev);
    if (ret == 0) {
        c->have_frame = 1;
        *pts = c->cur_pts;
    } else if (ret == 1) {
        c->ended = 1;
    }
    return ret;
}

static int tile_of(GvClip *const c, const AVFrame *const f, GvTile **const out)
{
    GvAvLogScope *const prev = gv_av_log_enter(&c->scope);
    int r[4];
    crop_rect(c, f, r);
    const uint8_t *rgb = NULL;
    GvTile *t = NULL;
    int ret = frame_to_rgb(c, f, r, c->spec.w, c->spec.h, &rgb);
    if (ret == 0 && !(t = gv_tile_alloc(c->spec.w, c->spec.h)))
        ret = -ENOMEM;
    if (ret == 0) {
        gv_rgb_to_yuv_n(rgb, (size_t)t->w * (size_t)t->h, t->y, t->u, t->v);
        *out = t;
    }
    gv_av_log_leave(prev);
    return ret;
}

int gv_clip_tile(GvClip *const c, GvTile **const out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!c || !c->have_frame)
        return -EINVAL;
    if (c->anim)
        return gv_anim_tile(c->anim, c->page, out, NULL, 0);
    return tile_of(c, c->frame, out);
}

int gv_clip_tile_previous(GvClip *const c, GvTile **const out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!c || !c->have_prev)
        return -EINVAL;
    if (c->anim)
        return gv_anim_tile(c->anim, c->page - 1, out, NULL, 0);
    const GvTile *const p = c->prev_tile;
    GvTile *const t = p ? gv_tile_alloc(p->w, p->h) : NULL;
    if (!t)
        return p ? -ENOMEM : -EINVAL;
    memcpy(t->y, p->y, (size_t)p->w * (size_t)p->h * 3);
    t->focus_x = p->focus_x;
    t->focus_y = p->focus_y;
    t->aspect = p->aspect;
    *out = t;
    return 0;
}

void gv_clip_close(GvClip **const pc)
{
    GvClip *const c = pc ? *pc : NULL;
    if (!c)
        return;
    *pc = NULL;
    GvAvLogScope *const prev = gv_av_log_enter(&c->scope);
    avcodec_free_context(&c->dec);
    close_input(c);
    av_buffer_unref(&c->hw_device);
    gv_anim_close(&c->anim);
    av_packet_free(&c->pkt);
    av_frame_free(&c->raw);
    av_frame_free(&c->spare);
    av_frame_free(&c->frame);
    av_buffer_pool_uninit(&c->readback); /* freed as the last frame lets go */
    gv_tile_free(&c->prev_tile);
    for (int i = 0; i < 2; i++)
        sws_freeContext(c->conv[i].ctx);
    for (int i = 0; i < 3; i++)
        av_freep(&c->buf[i].data);
    gv_av_log_leave(prev);
    free(c->path);
    free(c);
}
