/*
 * The soundtrack: an audio file decoded, resampled, cut to the video's
 * length with a fade-out, padded with silence, and re-encoded (AAC, Opus
 * in WebM).
 *
 * The audio is encoded in step with the video: after each picture, the
 * audio up to that picture's end is encoded, so neither the file nor the
 * muxer's interleaving queue holds more than a few frames of it.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
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

/* Per channel: transparent for music at these rates. */
#define AAC_BITRATE_PER_CHANNEL 96000
#define OPUS_BITRATE_PER_CHANNEL 64000
#define FADE_SECONDS 0.5

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
    int64_t lead;    /* added to the encoder's timestamps: see gv_enc_audio_open() */
    int64_t skip;    /* samples at the start of the file left out: idem; the
                      * encoder's sample k plays at sample k + skip */
    int64_t to_drop; /* of those, still to drop */
    int file_done;   /* the file is read, decoded and resampled to its end */
};

void gv_enc_audio_free(Audio **const pa)
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
               gv_enc_reason(e, ret, 1, why, sizeof(why)));
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
               dec->name, gv_enc_reason(e, ret, 0, why, sizeof(why)));
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
               gv_enc_reason(e, ret, 0, why, sizeof(why)));
        return gv_enc_codec_error(ret);
    }
    const int variable = c->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE;
    a->frame_size = cc->frame_size > 0 && !variable ? cc->frame_size : 1024;
    a->small_last = variable || (c->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME);
    return 0;
}

/*
 * Everything but the output stream, which gv_enc_audio_add_stream() adds:
 * the file is checked before the output is created.
 */
int gv_enc_audio_open(GvEncoder *const e, const GvEncodeParams *const p, const Container *const ct)
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
        return GV_ERR_ENCODE; /* gv_enc_choose() checked */
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

int gv_enc_audio_add_stream(GvEncoder *const e)
{
    Audio *const a = e->audio;
    if (!(a->st = avformat_new_stream(e->fmt, NULL)))
        return -ENOMEM;
    const int ret = avcodec_parameters_from_context(a->st->codecpar, a->enc);
    if (ret < 0)
        return gv_enc_codec_error(ret);
    a->st->time_base = a->enc->time_base;
    if (a->skip)
        a->st->codecpar->initial_padding = 0; /* no CodecDelay: see gv_enc_audio_open() */
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
            return gv_enc_codec_error(ret);
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
                       gv_enc_reason(e, ret, 0, why, sizeof(why)));
                return gv_enc_codec_error(ret);
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
        return gv_enc_codec_error(room);
    if (room == 0)
        return 0;
    if ((ret = audio_scratch(a, room)) < 0)
        return ret;
    const int n = swr_convert(a->swr, a->scratch, room,
                              f ? (const uint8_t **)f->extended_data : NULL, in_samples);
    if (n < 0)
        return gv_enc_codec_error(n);
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
                   gv_enc_reason(e, ret, 0, why, sizeof(why)));
            return gv_enc_codec_error(ret);
        }
        ret = av_read_frame(a->in, a->in_pkt);
        if (ret == AVERROR_EOF) {
            avcodec_send_packet(a->dec, NULL);
            continue;
        }
        if (ret < 0) {
            gv_log(e->log, GV_LOG_ERROR, "AUDIO: '%s': reading: %s", a->path,
                   gv_enc_reason(e, ret, 1, why, sizeof(why)));
            return gv_enc_io_error(ret);
        }
        if (a->in_pkt->stream_index == a->index) {
            ret = avcodec_send_packet(a->dec, a->in_pkt);
            /* a damaged packet is a moment of silence, as players have it */
            if (ret < 0 && ret != AVERROR(EAGAIN))
                gv_log(e->log, GV_LOG_DEBUG, "AUDIO: '%s': packet skipped: %s", a->path,
                       gv_enc_reason(e, ret, 0, why, sizeof(why)));
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
        if ((ret = gv_enc_write_packet(e)) < 0)
            return ret;
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    gv_log(e->log, GV_LOG_ERROR, "encoding audio: %s",
           gv_enc_reason(e, ret, 0, why, sizeof(why)));
    return gv_enc_codec_error(ret);
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
        gv_log(e->log, GV_LOG_ERROR, "encoding audio: %s",
               gv_enc_reason(e, ret, 0, why, sizeof(why)));
        return gv_enc_codec_error(ret);
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
            return gv_enc_codec_error(ret);
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

int gv_enc_audio_until_frame(GvEncoder *const e, const int64_t frames)
{
    const AVRational tb = e->cc->time_base;
    return audio_encode_until(
        e, av_rescale(frames, (int64_t)tb.num * e->audio->enc->sample_rate, tb.den), 0);
}

int gv_enc_audio_finish(GvEncoder *const e)
{
    return audio_encode_until(e, e->audio->total, 1);
}
