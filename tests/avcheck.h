/*
 * Reading a rendered file back for tests: what its streams say (codec, tag,
 * pixel format, colour tags, timestamps) and what they decode to (frames
 * counted and handed to a callback, audio samples counted and kept); and
 * writing a WAV file to render with.
 */
#ifndef GV_TEST_AVCHECK_H
#define GV_TEST_AVCHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

typedef struct AvStreamInfo {
    int present;
    enum AVCodecID codec_id;
    uint32_t codec_tag;
    AVRational rate;     /* video: average frame rate */
    int width, height;
    int format;          /* of the decoded frames */
    enum AVColorPrimaries primaries;
    enum AVColorTransferCharacteristic trc;
    enum AVColorSpace space;
    enum AVColorRange range;
    int sample_rate, channels;
    int64_t frames;      /* decoded video frames */
    int64_t samples;     /* decoded audio samples (per channel) */
    double start, end;   /* packets: first pts, last pts + duration, in seconds */
    int spanned;         /* start and end are set */
    double first;        /* timestamp of the first decoded frame, in seconds: where
                          * it starts once priming is trimmed */
} AvStreamInfo;

typedef struct AvFile {
    AvStreamInfo video, audio;
    float *pcm; /* the decoded audio's first channel, samples long */
} AvFile;

/* Called with each decoded video frame, in order. */
typedef void (*AvFrameFn)(void *opaque, const AVFrame *frame, int64_t index);

static inline double avcheck_sample(const AVFrame *f, int i)
{
    const uint8_t *const d = f->extended_data[0];
    const int step = av_sample_fmt_is_planar(f->format) ? 1 : f->ch_layout.nb_channels;
    switch (av_get_packed_sample_fmt(f->format)) {
    case AV_SAMPLE_FMT_FLT: return ((const float *)d)[i * step];
    case AV_SAMPLE_FMT_DBL: return ((const double *)d)[i * step];
    case AV_SAMPLE_FMT_S16: return ((const int16_t *)d)[i * step] / 32768.0;
    case AV_SAMPLE_FMT_S32: return ((const int32_t *)d)[i * step] / 2147483648.0;
    default: return 0;
    }
}

static inline void avcheck_span(AvStreamInfo *s, const AVPacket *pkt, AVRational tb)
{
    if (pkt->pts == AV_NOPTS_VALUE)
        return;
    const double a = pkt->pts * av_q2d(tb), b = (pkt->pts + pkt->duration) * av_q2d(tb);
    if (!s->spanned) {
        s->start = a;
        s->end = b;
        s->spanned = 1;
    }
    if (a < s->start)
        s->start = a;
    if (b > s->end)
        s->end = b;
}

static inline void avcheck_take(AvFile *out, AvStreamInfo *s, const AVFrame *fr, int video,
                                AVRational tb, AvFrameFn fn, void *opaque)
{
    /* pts, not best_effort_timestamp: only pts is moved past trimmed priming */
    if (!s->frames && !s->samples && fr->pts != AV_NOPTS_VALUE)
        s->first = fr->pts * av_q2d(tb);
    if (video) {
        s->width = fr->width;
        s->height = fr->height;
        s->format = fr->format;
        if (fn)
            fn(opaque, fr, s->frames);
        s->frames++;
        return;
    }
    s->format = fr->format;
    float *const p = realloc(out->pcm, (size_t)(s->samples + fr->nb_samples) * sizeof(float));
    if (!p)
        return;
    out->pcm = p;
    for (int i = 0; i < fr->nb_samples; i++)
        p[s->samples + i] = (float)avcheck_sample(fr, i);
    s->samples += fr->nb_samples;
}

/* Returns 0, or -1 when the file cannot be opened (out is then zeroed). */
static inline int avcheck_decode(const char *path, AvFile *out, AvFrameFn fn, void *opaque)
{
    memset(out, 0, sizeof(*out));
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return -1;
    if (avformat_find_stream_info(fmt, NULL) < 0) {
        avformat_close_input(&fmt);
        return -1;
    }
    int idx[2] = { av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0),
                   av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0) };
    AvStreamInfo *info[2] = { &out->video, &out->audio };
    AVCodecContext *dec[2] = { NULL, NULL };
    for (int k = 0; k < 2; k++) {
        if (idx[k] < 0)
            continue;
        const AVStream *const st = fmt->streams[idx[k]];
        const AVCodecParameters *const par = st->codecpar;
        AvStreamInfo *const s = info[k];
        s->present = 1;
        s->codec_id = par->codec_id;
        s->codec_tag = par->codec_tag;
        s->rate = st->avg_frame_rate;
        s->primaries = par->color_primaries;
        s->trc = par->color_trc;
        s->space = par->color_space;
        s->range = par->color_range;
        s->sample_rate = par->sample_rate;
        s->channels = par->ch_layout.nb_channels;
        const AVCodec *const c = avcodec_find_decoder(par->codec_id);
        if (!c || !(dec[k] = avcodec_alloc_context3(c)) ||
            avcodec_parameters_to_context(dec[k], par) < 0)
            avcodec_free_context(&dec[k]);
        if (!dec[k])
            continue;
        /* lets the decoder move timestamps past the priming it drops */
        dec[k]->pkt_timebase = st->time_base;
        if (avcodec_open2(dec[k], c, NULL) < 0)
            avcodec_free_context(&dec[k]);
    }
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    for (int eof = 0; !eof;) {
        int k = -1;
        if (av_read_frame(fmt, pkt) < 0) {
            eof = 1;
        } else {
            k = pkt->stream_index == idx[0] ? 0 : pkt->stream_index == idx[1] ? 1 : -1;
            if (k >= 0)
                avcheck_span(info[k], pkt, fmt->streams[pkt->stream_index]->time_base);
        }
        for (int j = 0; j < 2; j++) {
            if (!dec[j] || (!eof && j != k))
                continue;
            avcodec_send_packet(dec[j], eof ? NULL : pkt);
            while (avcodec_receive_frame(dec[j], frame) == 0) {
                avcheck_take(out, info[j], frame, j == 0, fmt->streams[idx[j]]->time_base, fn,
                             opaque);
                av_frame_unref(frame);
            }
        }
        av_packet_unref(pkt);
    }
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec[0]);
    avcodec_free_context(&dec[1]);
    avformat_close_input(&fmt);
    return 0;
}

static inline void avcheck_free(AvFile *f)
{
    free(f->pcm);
    f->pcm = NULL;
}

/* Root mean square of pcm[from, to), clamped to what there is. */
static inline double avcheck_rms(const AvFile *f, int64_t from, int64_t to)
{
    if (from < 0)
        from = 0;
    if (to > f->audio.samples)
        to = f->audio.samples;
    if (to <= from)
        return 0;
    double sum = 0;
    for (int64_t i = from; i < to; i++)
        sum += (double)f->pcm[i] * f->pcm[i];
    return sqrt(sum / (double)(to - from));
}

/* Writes a 16-bit PCM WAV file of a sine of the given amplitude (1 = full scale). */
static inline void avcheck_write_wav(const char *path, int rate, int channels, double seconds,
                                     double hz, double amplitude)
{
    const uint32_t n = (uint32_t)lround(rate * seconds);
    const uint32_t bytes = n * (uint32_t)channels * 2;
    uint8_t h[44];
    memcpy(h, "RIFF", 4);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
#define LE32(p, v) ((p)[0] = (uint8_t)(v), (p)[1] = (uint8_t)((v) >> 8), \
                    (p)[2] = (uint8_t)((v) >> 16), (p)[3] = (uint8_t)((v) >> 24))
#define LE16(p, v) ((p)[0] = (uint8_t)(v), (p)[1] = (uint8_t)((v) >> 8))
    LE32(h + 4, 36 + bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    LE32(h + 16, 16u);
    LE16(h + 20, 1u); /* PCM */
    LE16(h + 22, (unsigned)channels);
    LE32(h + 24, (uint32_t)rate);
    LE32(h + 28, (uint32_t)(rate * channels * 2));
    LE16(h + 32, (unsigned)(channels * 2));
    LE16(h + 34, 16u);
    memcpy(h + 36, "data", 4);
    LE32(h + 40, bytes);
    fwrite(h, 1, sizeof(h), f);
    for (uint32_t i = 0; i < n; i++) {
        const int v = (int)lround(amplitude * 32767 * sin(2 * M_PI * hz * i / rate));
        uint8_t s[2];
        LE16(s, (unsigned)(v & 0xffff));
        for (int c = 0; c < channels; c++)
            fwrite(s, 1, 2, f);
    }
#undef LE32
#undef LE16
    fclose(f);
}

#endif
