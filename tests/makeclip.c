/*
 * Writes test clips with libavcodec and libavformat whose frame number
 * can be read back from the pixels: frame n shows 8 full-width horizontal
 * bands, top to bottom bits 7..0 of n (mod 256), white for 1 and black
 * for 0 (tests/clipbits.h reads them).
 *
 *   makeclip OUT W H FPS FRAMES CODEC [OPTION...]
 *
 *   W H              the picture as shown: upright, in coded pixels
 *   FPS              num/den or num: 24, 30000/1001
 *   CODEC            an encoder: libx264, mpeg4, gif, mjpeg, png, ...
 *   --rotate R       90, 180 or 270: the stream says "turn R degrees
 *                    clockwise to show" (display matrix, as phones write);
 *                    the picture is stored turned the other way, so the
 *                    bands read right only once the rotation is applied
 *   --sar N:D        pixel aspect ratio, written in the stream
 *   --10bit          yuv420p10le (exit 77 when the encoder lacks it)
 *   --range R        full or limited (default limited; mjpeg is full)
 *   --matrix M       601 or 709: tagged, and used to make the pixels
 *                    (default: untagged, pixels made with BT.601 below
 *                    720 lines and BT.709 from 720 on, as players guess)
 *   --color R,G,B    every frame flat in this colour instead of the bands
 *   --ramp           every frame a smooth picture instead of the bands: red
 *                    rises left to right, green top to bottom, blue 128
 *                    (tests/clipbits.h clipbits_ramp() gives it)
 *   --delays A,B,..  GIF: frame delays in centiseconds, repeated
 *   --transparent    GIF: the black bands transparent
 *   --gop N          key frame interval (default 12), no scene-cut key frames
 *   --faststart      MP4/MOV: the index (moov) before the media
 *   --lossless       libx264 at qp 0
 *
 * Exit status: 0, 1 on an error, 77 when this FFmpeg lacks the encoder,
 * the muxer or the pixel format.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>

#include "clipbits.h"

#define SKIP 77
#define MAX_DELAYS 64

typedef struct Opts {
    const char *out, *codec;
    int w, h;          /* upright */
    AVRational fps;
    int frames;
    int rotate;        /* clockwise degrees to show */
    AVRational sar;
    int ten_bit, full_range, matrix; /* matrix: 0 untagged, 601, 709 */
    int flat, rgb[3], ramp;
    int delays[MAX_DELAYS], n_delays;
    int gop, faststart, lossless, transparent;
} Opts;

static int usage(void)
{
    fprintf(stderr, "usage: makeclip OUT W H FPS FRAMES CODEC [--rotate R] [--sar N:D] [--10bit]\n"
                    "  [--range full|limited] [--matrix 601|709] [--color R,G,B]\n"
                    "  [--delays A,B,...] [--gop N] [--faststart] [--lossless]\n");
    return 1;
}

static int parse_list(const char *s, int *v, const int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        v[n++] = (int)strtol(s, &end, 10);
        if (end == s)
            return -1;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static int parse_option(Opts *o, const char *k, const char *v)
{
    if (!strcmp(k, "--rotate"))
        o->rotate = atoi(v);
    else if (!strcmp(k, "--sar"))
        return sscanf(v, "%d:%d", &o->sar.num, &o->sar.den) == 2 ? 0 : -1;
    else if (!strcmp(k, "--range"))
        o->full_range = !strcmp(v, "full");
    else if (!strcmp(k, "--matrix"))
        o->matrix = atoi(v);
    else if (!strcmp(k, "--color"))
        return (o->flat = parse_list(v, o->rgb, 3) == 3) ? 0 : -1;
    else if (!strcmp(k, "--delays"))
        return (o->n_delays = parse_list(v, o->delays, MAX_DELAYS)) > 0 ? 0 : -1;
    else if (!strcmp(k, "--gop"))
        o->gop = atoi(v);
    else
        return -1;
    return 0;
}

static int parse(Opts *o, const int argc, char **argv)
{
    if (argc < 7)
        return -1;
    *o = (Opts){ .out = argv[1], .w = atoi(argv[2]), .h = atoi(argv[3]), .frames = atoi(argv[5]),
                 .codec = argv[6], .sar = { 1, 1 }, .gop = 12 };
    if (sscanf(argv[4], "%d/%d", &o->fps.num, &o->fps.den) < 1)
        return -1;
    if (o->fps.den <= 0)
        o->fps.den = 1;
    for (int i = 7; i < argc; i++) {
        if (!strcmp(argv[i], "--10bit"))
            o->ten_bit = 1;
        else if (!strcmp(argv[i], "--faststart"))
            o->faststart = 1;
        else if (!strcmp(argv[i], "--lossless"))
            o->lossless = 1;
        else if (!strcmp(argv[i], "--ramp"))
            o->ramp = 1;
        else if (!strcmp(argv[i], "--transparent"))
            o->transparent = 1;
        else if (i + 1 >= argc || parse_option(o, argv[i], argv[i + 1]) < 0)
            return -1;
        else
            i++;
    }
    if (o->w < 2 || o->h < 8 || o->frames < 1 || o->fps.num <= 0 || o->gop < 1 ||
        (o->rotate != 0 && o->rotate != 90 && o->rotate != 180 && o->rotate != 270))
        return -1;
    return 0;
}

/* ---- pixels ---- */

/* The upright picture of frame n: 8 bands, the flat colour or the ramp. */
static void draw_upright(const Opts *o, const int n, uint8_t *rgb)
{
    if (o->ramp) {
        clipbits_ramp(rgb, o->w, o->h);
        return;
    }
    for (int y = 0; y < o->h; y++) {
        const int band = y * 8 / o->h;
        const uint8_t v = ((n & 255) >> (7 - band)) & 1 ? 255 : 0;
        for (int x = 0; x < o->w; x++) {
            uint8_t *const p = rgb + ((size_t)y * o->w + x) * 3;
            for (int c = 0; c < 3; c++)
                p[c] = o->flat ? (uint8_t)o->rgb[c] : v;
        }
    }
}

/* The stored picture (cw x ch) at (x, y): the upright one turned back
 * by the rotation, so that turning it clockwise shows it upright. */
static const uint8_t *stored_pixel(const Opts *o, const uint8_t *up, const int cw, const int ch,
                                   const int x, const int y)
{
    int u = x, v = y;
    if (o->rotate == 90) {
        u = ch - 1 - y;
        v = x;
    } else if (o->rotate == 180) {
        u = cw - 1 - x;
        v = ch - 1 - y;
    } else if (o->rotate == 270) {
        u = y;
        v = cw - 1 - x;
    }
    return up + ((size_t)v * o->w + u) * 3;
}

/* Y'CbCr of an sRGB colour with the matrix of kr, kb, rounded. */
static void to_yuv(const uint8_t *p, const double kr, const double kb, const int full,
                   const int depth, int yuv[3])
{
    const double r = p[0] / 255.0, g = p[1] / 255.0, b = p[2] / 255.0;
    const double y = kr * r + (1.0 - kr - kb) * g + kb * b;
    const double pb = (b - y) / (2.0 * (1.0 - kb)), pr = (r - y) / (2.0 * (1.0 - kr));
    const double s = (double)(1 << (depth - 8)), mid = 128.0 * s;
    const double ys = full ? 255.0 * s : 219.0 * s, yo = full ? 0.0 : 16.0 * s;
    const double cs = full ? 255.0 * s : 224.0 * s, max = 255.0 * s;
    const double v[3] = { yo + ys * y, mid + cs * pb, mid + cs * pr };
    for (int i = 0; i < 3; i++)
        yuv[i] = (int)(v[i] < 0 ? 0 : v[i] > max ? max : v[i] + 0.5);
}

static void put_sample(AVFrame *f, const int plane, const int x, const int y, const int v)
{
    uint8_t *const row = f->data[plane] + (ptrdiff_t)y * f->linesize[plane];
    if (f->format == AV_PIX_FMT_YUV420P10LE) {
        row[2 * x] = (uint8_t)(v & 255);
        row[2 * x + 1] = (uint8_t)(v >> 8);
    } else {
        row[x] = (uint8_t)v;
    }
}

static void fill_frame(const Opts *o, const uint8_t *up, AVFrame *f)
{
    const int cw = f->width, ch = f->height;
    const int fmt = f->format;
    if (fmt == AV_PIX_FMT_RGB24 || fmt == AV_PIX_FMT_PAL8) {
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++) {
                const uint8_t *const p = stored_pixel(o, up, cw, ch, x, y);
                uint8_t *const d = f->data[0] + (ptrdiff_t)y * f->linesize[0];
                if (fmt == AV_PIX_FMT_RGB24)
                    memcpy(d + 3 * x, p, 3);
                else
                    d[x] = o->flat || o->ramp ? 0 : p[0] > 127;
            }
        if (fmt == AV_PIX_FMT_PAL8) {
            uint32_t *const pal = (uint32_t *)f->data[1];
            memset(pal, 0, 256 * 4);
            pal[0] = o->flat ? 0xFF000000u | (uint32_t)o->rgb[0] << 16 |
                                   (uint32_t)o->rgb[1] << 8 | (uint32_t)o->rgb[2]
                             : o->transparent ? 0 : 0xFF000000u;
            pal[1] = 0xFFFFFFFFu;
        }
        return;
    }
    const int full = o->full_range || fmt == AV_PIX_FMT_YUVJ420P;
    const int m = o->matrix ? o->matrix : ch >= 720 || cw >= 1280 ? 709 : 601;
    const double kr = m == 709 ? 0.2126 : 0.299, kb = m == 709 ? 0.0722 : 0.114;
    const int depth = fmt == AV_PIX_FMT_YUV420P10LE ? 10 : 8;
    /* Y' of every pixel, Cb and Cr the mean of each 2 x 2 block's */
    for (int y = 0; y < ch; y += 2)
        for (int x = 0; x < cw; x += 2) {
            int sum[3] = { 0, 0, 0 }, n = 0;
            for (int j = y; j < y + 2 && j < ch; j++)
                for (int i = x; i < x + 2 && i < cw; i++) {
                    int v[3];
                    to_yuv(stored_pixel(o, up, cw, ch, i, j), kr, kb, full, depth, v);
                    put_sample(f, 0, i, j, v[0]);
                    sum[1] += v[1];
                    sum[2] += v[2];
                    n++;
                }
            put_sample(f, 1, x / 2, y / 2, (sum[1] + n / 2) / n);
            put_sample(f, 2, x / 2, y / 2, (sum[2] + n / 2) / n);
        }
}

/* ---- encoding ---- */

typedef struct Out {
    AVFormatContext *oc;
    AVStream *st;
    AVCodecContext *cc;
    AVPacket *pkt;
    int64_t packets;
    const Opts *o;
} Out;

static int pick_format(const Opts *o, const AVCodec *codec)
{
    const enum AVPixelFormat want[] = { AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_PAL8,
                                        AV_PIX_FMT_RGB24 };
    const enum AVPixelFormat *p = NULL;
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(61, 13, 100)
    int n = 0;
    if (avcodec_get_supported_config(NULL, codec, AV_CODEC_CONFIG_PIX_FORMAT, 0,
                                     (const void **)&p, &n) < 0)
        p = NULL;
#else
    p = codec->pix_fmts;
#endif
    if (codec->id == AV_CODEC_ID_MJPEG && !o->ten_bit)
        return AV_PIX_FMT_YUVJ420P;
    if (!p)
        return o->ten_bit ? AV_PIX_FMT_YUV420P10LE : AV_PIX_FMT_YUV420P;
    for (const enum AVPixelFormat *q = p; *q != AV_PIX_FMT_NONE; q++)
        if (o->ten_bit ? *q == AV_PIX_FMT_YUV420P10LE : *q == want[0])
            return *q;
    if (o->ten_bit)
        return AV_PIX_FMT_NONE;
    for (size_t i = 1; i < sizeof(want) / sizeof(want[0]); i++)
        for (const enum AVPixelFormat *q = p; *q != AV_PIX_FMT_NONE; q++)
            if (*q == want[i])
                return *q;
    return AV_PIX_FMT_NONE;
}

static void encoder_options(const Opts *o, AVCodecContext *cc)
{
    if (!strcmp(o->codec, "libx264")) {
        av_opt_set(cc->priv_data, "preset", "veryfast", 0);
        av_opt_set(cc->priv_data, "x264-params", "scenecut=0:open-gop=0", 0);
        av_opt_set(cc->priv_data, o->lossless ? "qp" : "crf", o->lossless ? "0" : "18", 0);
    } else if (!strcmp(o->codec, "mpeg4") || !strcmp(o->codec, "mjpeg")) {
        cc->flags |= AV_CODEC_FLAG_QSCALE;
        cc->global_quality = FF_QP2LAMBDA * 2;
        av_opt_set_int(cc, "sc_threshold", 1000000000, AV_OPT_SEARCH_CHILDREN);
    }
}

static int add_rotation(const Opts *o, AVStream *st)
{
    if (!o->rotate)
        return 0;
    int32_t m[9];
    /* The matrix says how to turn the picture to show it: FFmpeg's tools
     * turn it clockwise by minus av_display_rotation_get(). Which sign
     * av_display_rotation_set() takes has been documented both ways, so
     * the result is checked. */
    av_display_rotation_set(m, (double)o->rotate);
    if (lrint(av_display_rotation_get(m)) != -o->rotate &&
        lrint(av_display_rotation_get(m)) != 360 - o->rotate)
        av_display_rotation_set(m, -(double)o->rotate);
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 30, 100)
    AVPacketSideData *const sd = av_packet_side_data_new(
        &st->codecpar->coded_side_data, &st->codecpar->nb_coded_side_data,
        AV_PKT_DATA_DISPLAYMATRIX, sizeof(m), 0);
    if (!sd)
        return AVERROR(ENOMEM);
    memcpy(sd->data, m, sizeof(m));
#else
    uint8_t *const sd = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, sizeof(m));
    if (!sd)
        return AVERROR(ENOMEM);
    memcpy(sd, m, sizeof(m));
#endif
    return 0;
}

static int open_encoder(const Opts *o, Out *e)
{
    const AVCodec *const codec = avcodec_find_encoder_by_name(o->codec);
    if (!codec) {
        fprintf(stderr, "makeclip: no encoder %s\n", o->codec);
        return SKIP;
    }
    const int gif = codec->id == AV_CODEC_ID_GIF;
    const int fmt = pick_format(o, codec);
    if (fmt == AV_PIX_FMT_NONE) {
        fprintf(stderr, "makeclip: %s takes none of the pixel formats wanted\n", o->codec);
        return SKIP;
    }
    if (avformat_alloc_output_context2(&e->oc, NULL, NULL, o->out) < 0 || !e->oc) {
        fprintf(stderr, "makeclip: no muxer for %s\n", o->out);
        return SKIP;
    }
    if (!(e->st = avformat_new_stream(e->oc, NULL)) || !(e->cc = avcodec_alloc_context3(codec)))
        return 1;
    AVCodecContext *const cc = e->cc;
    const int turned = o->rotate == 90 || o->rotate == 270;
    cc->width = turned ? o->h : o->w;
    cc->height = turned ? o->w : o->h;
    cc->pix_fmt = fmt;
    cc->framerate = o->fps;
    cc->time_base = gif && o->n_delays ? (AVRational){ 1, 100 } : av_inv_q(o->fps);
    cc->gop_size = o->gop;
    cc->sample_aspect_ratio = o->sar;
    cc->color_range = o->full_range || fmt == AV_PIX_FMT_YUVJ420P ? AVCOL_RANGE_JPEG
                                                                 : AVCOL_RANGE_MPEG;
    if (o->matrix)
        cc->colorspace = o->matrix == 709 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
    if (e->oc->oformat->flags & AVFMT_GLOBALHEADER)
        cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    encoder_options(o, cc);
    int ret = avcodec_open2(cc, codec, NULL);
    if (ret < 0) {
        fprintf(stderr, "makeclip: cannot open %s: %s\n", o->codec, av_err2str(ret));
        return 1;
    }
    if (avcodec_parameters_from_context(e->st->codecpar, cc) < 0 || add_rotation(o, e->st) < 0)
        return 1;
    e->st->time_base = cc->time_base;
    e->st->sample_aspect_ratio = o->sar;
    return 0;
}

static int write_packets(Out *e, const AVFrame *f)
{
    int ret = avcodec_send_frame(e->cc, f);
    while (ret >= 0) {
        ret = avcodec_receive_packet(e->cc, e->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            break;
        const Opts *const o = e->o;
        if (o->n_delays && e->cc->codec_id == AV_CODEC_ID_GIF)
            e->pkt->duration = o->delays[e->packets % o->n_delays];
        else if (e->pkt->duration <= 0)
            e->pkt->duration = 1;
        e->packets++;
        av_packet_rescale_ts(e->pkt, e->cc->time_base, e->st->time_base);
        e->pkt->stream_index = e->st->index;
        ret = av_interleaved_write_frame(e->oc, e->pkt);
    }
    fprintf(stderr, "makeclip: encoding failed: %s\n", av_err2str(ret));
    return 1;
}

static int open_output(const Opts *o, Out *e)
{
    AVDictionary *mux = NULL;
    if (o->faststart)
        av_dict_set(&mux, "movflags", "+faststart", 0);
    if (!strcmp(e->oc->oformat->name, "image2"))
        av_dict_set(&mux, "update", "1", 0);
    /* The GIF muxer takes each delay from the next frame's time stamp,
     * and the last frame's from this option. */
    if (o->n_delays && !strcmp(e->oc->oformat->name, "gif"))
        av_dict_set_int(&mux, "final_delay", o->delays[(o->frames - 1) % o->n_delays], 0);
    int ret = 0;
    if (!(e->oc->oformat->flags & AVFMT_NOFILE))
        ret = avio_open(&e->oc->pb, o->out, AVIO_FLAG_WRITE);
    if (ret >= 0)
        ret = avformat_write_header(e->oc, &mux);
    av_dict_free(&mux);
    if (ret < 0) {
        fprintf(stderr, "makeclip: cannot write %s: %s\n", o->out, av_err2str(ret));
        return 1;
    }
    return 0;
}

static int encode(const Opts *o)
{
    Out e = { .o = o };
    AVFrame *f = NULL;
    uint8_t *const up = malloc((size_t)o->w * o->h * 3);
    int ret = 1;
    if (!up || !(e.pkt = av_packet_alloc()) || !(f = av_frame_alloc()))
        goto end;
    if ((ret = open_encoder(o, &e)) != 0 || (ret = open_output(o, &e)) != 0)
        goto end;
    ret = 1;
    f->width = e.cc->width;
    f->height = e.cc->height;
    f->format = e.cc->pix_fmt;
    int64_t pts = 0;
    for (int n = 0; n < o->frames; n++) {
        if (av_frame_get_buffer(f, 0) < 0)
            goto end;
        draw_upright(o, n, up);
        fill_frame(o, up, f);
        f->pts = pts;
        pts += o->n_delays && e.cc->codec_id == AV_CODEC_ID_GIF ? o->delays[n % o->n_delays] : 1;
        if (write_packets(&e, f))
            goto end;
        av_frame_unref(f);
        f->width = e.cc->width;
        f->height = e.cc->height;
        f->format = e.cc->pix_fmt;
    }
    if (write_packets(&e, NULL) || av_write_trailer(e.oc) < 0)
        goto end;
    ret = 0;
end:
    if (e.oc && e.oc->pb && !(e.oc->oformat->flags & AVFMT_NOFILE))
        avio_closep(&e.oc->pb);
    avformat_free_context(e.oc);
    avcodec_free_context(&e.cc);
    av_packet_free(&e.pkt);
    av_frame_free(&f);
    free(up);
    return ret;
}

int main(int argc, char **argv)
{
    Opts o;
    if (parse(&o, argc, argv) < 0)
        return usage();
    av_log_set_level(AV_LOG_ERROR);
    return encode(&o);
}
