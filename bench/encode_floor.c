/*
 * encode_floor: the encoder's share of a gridvid run, measured alone.
 *
 *   encode_floor decode VIDEO RAW
 *       decodes VIDEO (gridvid's output) into RAW, yuv420p frames back to
 *       back, and prints "WIDTH HEIGHT FPS FRAMES" (FPS as num/den).
 *   encode_floor encode RAW WIDTH HEIGHT FPS OUT.mp4 [--crf N] [--preset P]
 *                [--threads N] [--encoder NAME]
 *       encodes RAW with the encoder settings gridvid uses for software
 *       H.264 (libx264 through libavcodec, CRF 23, preset faster, High
 *       profile, yuv420p, BT.709 limited range tags, left chroma siting,
 *       encoder threads chosen by x264, MP4 with moov moved to the front) and
 *       prints on stderr how long the reading took beside the whole.
 *
 * Why two steps and a file: the floor is "the same frames encoded with the
 * same settings, nothing else". Decoding gridvid's video while encoding
 * would take cores from the encoder; holding all frames in memory would
 * make the floor's peak memory (the number gridvid's is compared with)
 * 0.9 GB larger at 1080p30 for 10 s. So the frames are first written to a
 * file (not timed), and the timed run reads each frame from it, which the
 * page cache serves as a memory copy, into a frame the encoder takes, as
 * gridvid hands over the frames it composes. Its peak memory is then the
 * encoder's own plus a few frames. The frames are gridvid's output after one
 * lossy round, so they are slightly smoother than gridvid's own; at CRF 23
 * this changes the encoding time by a few percent at most.
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/parseutils.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *const what, const int err)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, buf, sizeof(buf));
    fprintf(stderr, "encode_floor: %s: %s\n", what, buf);
    return 1;
}

static int write_frame(FILE *const out, const AVFrame *const f)
{
    for (int p = 0; p < 3; p++) {
        const int w = p ? (f->width + 1) / 2 : f->width, h = p ? (f->height + 1) / 2 : f->height;
        for (int y = 0; y < h; y++)
            if (fwrite(f->data[p] + (ptrdiff_t)y * f->linesize[p], 1, (size_t)w, out) != (size_t)w)
                return -1;
    }
    return 0;
}

static int decode(const char *const in, const char *const raw)
{
    AVFormatContext *fc = NULL;
    AVCodecContext *cc = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    FILE *out = NULL;
    long frames = 0;
    int ret = 1, err;

    if (!pkt || !frame)
        goto end;
    if ((err = avformat_open_input(&fc, in, NULL, NULL)) < 0 ||
        (err = avformat_find_stream_info(fc, NULL)) < 0) {
        fail(in, err);
        goto end;
    }
    const int si = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (si < 0) {
        fail(in, si);
        goto end;
    }
    const AVStream *const st = fc->streams[si];
    const AVCodec *const codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec || !(cc = avcodec_alloc_context3(codec)))
        goto end;
    if ((err = avcodec_parameters_to_context(cc, st->codecpar)) < 0 ||
        (err = avcodec_open2(cc, codec, NULL)) < 0) {
        fail("decoder", err);
        goto end;
    }
    if (!(out = fopen(raw, "wb"))) {
        fprintf(stderr, "encode_floor: %s: %s\n", raw, strerror(errno));
        goto end;
    }
    for (int eof = 0; !eof;) {
        err = av_read_frame(fc, pkt);
        if (err == AVERROR_EOF) {
            eof = 1;
            err = avcodec_send_packet(cc, NULL);
        } else if (err >= 0) {
            if (pkt->stream_index == si)
                err = avcodec_send_packet(cc, pkt);
            av_packet_unref(pkt);
        }
        if (err < 0) {
            fail(in, err);
            goto end;
        }
        while ((err = avcodec_receive_frame(cc, frame)) >= 0) {
            if (frame->format != AV_PIX_FMT_YUV420P && frame->format != AV_PIX_FMT_YUVJ420P) {
                fprintf(stderr, "encode_floor: %s: frames are %s, only yuv420p is handled\n", in,
                        av_get_pix_fmt_name(frame->format));
                goto end;
            }
            if (write_frame(out, frame)) {
                fprintf(stderr, "encode_floor: %s: %s\n", raw, strerror(errno));
                goto end;
            }
            frames++;
            av_frame_unref(frame);
        }
        if (err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
            fail("decoding", err);
            goto end;
        }
    }
    if (fclose(out)) {
        out = NULL;
        fprintf(stderr, "encode_floor: %s: %s\n", raw, strerror(errno));
        goto end;
    }
    out = NULL;
    AVRational fps = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
    printf("%d %d %d/%d %ld\n", cc->width, cc->height, fps.num, fps.den, frames);
    ret = 0;
end:
    if (out)
        fclose(out);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&cc);
    avformat_close_input(&fc);
    return ret;
}

static int drain(AVCodecContext *const cc, AVFormatContext *const fc, AVStream *const st,
                 AVPacket *const pkt)
{
    int err;
    while ((err = avcodec_receive_packet(cc, pkt)) >= 0) {
        av_packet_rescale_ts(pkt, cc->time_base, st->time_base);
        pkt->stream_index = st->index;
        if ((err = av_interleaved_write_frame(fc, pkt)) < 0)
            return err;
    }
    return err == AVERROR(EAGAIN) || err == AVERROR_EOF ? 0 : err;
}

typedef struct EncodeArgs {
    const char *raw, *out, *preset, *encoder;
    int width, height, crf, threads;
    AVRational fps;
} EncodeArgs;

static int encode(const EncodeArgs *const a)
{
    AVFormatContext *fc = NULL;
    AVCodecContext *cc = NULL;
    AVDictionary *opts = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    FILE *in = NULL;
    int ret = 1, err;
    long frames = 0;
    double read_s = 0;
    const double t_start = now_s();

    if (!pkt || !frame)
        goto end;
    const AVCodec *const codec = avcodec_find_encoder_by_name(a->encoder);
    if (!codec) {
        fprintf(stderr, "encode_floor: no encoder %s\n", a->encoder);
        goto end;
    }
    if ((err = avformat_alloc_output_context2(&fc, NULL, NULL, a->out)) < 0) {
        fail(a->out, err);
        goto end;
    }
    AVStream *const st = avformat_new_stream(fc, NULL);
    if (!st || !(cc = avcodec_alloc_context3(codec)))
        goto end;
    cc->width = a->width;
    cc->height = a->height;
    cc->time_base = av_inv_q(a->fps);
    cc->framerate = a->fps;
    cc->sample_aspect_ratio = (AVRational){ 1, 1 };
    cc->pix_fmt = AV_PIX_FMT_YUV420P;
    cc->color_primaries = AVCOL_PRI_BT709;
    cc->color_trc = AVCOL_TRC_BT709;
    cc->colorspace = AVCOL_SPC_BT709;
    cc->color_range = AVCOL_RANGE_MPEG;
    cc->chroma_sample_location = AVCHROMA_LOC_LEFT;
    cc->thread_count = a->threads;
    if (fc->oformat->flags & AVFMT_GLOBALHEADER)
        cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    char num[16];
    snprintf(num, sizeof(num), "%d", a->crf);
    av_dict_set(&opts, "crf", num, 0);
    av_dict_set(&opts, "preset", a->preset, 0);
    av_dict_set(&opts, "profile", "high", 0);
    if ((err = avcodec_open2(cc, codec, &opts)) < 0) {
        fail(a->encoder, err);
        goto end;
    }
    if ((err = avcodec_parameters_from_context(st->codecpar, cc)) < 0)
        goto end;
    st->time_base = cc->time_base;
    st->avg_frame_rate = a->fps;
    if ((err = avio_open(&fc->pb, a->out, AVIO_FLAG_WRITE)) < 0) {
        fail(a->out, err);
        goto end;
    }
    AVDictionary *mux = NULL;
    av_dict_set(&mux, "movflags", "+faststart", 0);
    err = avformat_write_header(fc, &mux);
    av_dict_free(&mux);
    if (err < 0) {
        fail(a->out, err);
        goto end;
    }
    if (!(in = fopen(a->raw, "rb"))) {
        fprintf(stderr, "encode_floor: %s: %s\n", a->raw, strerror(errno));
        goto end;
    }
    frame->format = cc->pix_fmt;
    frame->width = cc->width;
    frame->height = cc->height;
    if ((err = av_frame_get_buffer(frame, 0)) < 0)
        goto end;
    for (;;) {
        /* the encoder may still hold the last frame: then this gives a new buffer */
        if ((err = av_frame_make_writable(frame)) < 0)
            goto end;
        const double t0 = now_s();
        int got = 1;
        for (int p = 0; p < 3 && got; p++) {
            const int w = p ? (a->width + 1) / 2 : a->width, h = p ? (a->height + 1) / 2 : a->height;
            for (int y = 0; y < h && got; y++)
                got = fread(frame->data[p] + (ptrdiff_t)y * frame->linesize[p], 1, (size_t)w, in) ==
                      (size_t)w;
        }
        read_s += now_s() - t0;
        if (!got)
            break;
        frame->pts = frames++;
        frame->color_primaries = cc->color_primaries;
        frame->color_trc = cc->color_trc;
        frame->colorspace = cc->colorspace;
        frame->color_range = cc->color_range;
        frame->chroma_location = cc->chroma_sample_location;
        if ((err = avcodec_send_frame(cc, frame)) < 0 || (err = drain(cc, fc, st, pkt)) < 0) {
            fail("encoding", err);
            goto end;
        }
    }
    if (ferror(in)) {
        fprintf(stderr, "encode_floor: %s: read error\n", a->raw);
        goto end;
    }
    if ((err = avcodec_send_frame(cc, NULL)) < 0 || (err = drain(cc, fc, st, pkt)) < 0) {
        fail("encoding", err);
        goto end;
    }
    if ((err = av_write_trailer(fc)) < 0) {
        fail(a->out, err);
        goto end;
    }
    fprintf(stderr, "encode_floor: %ld frames, %.2f s, of which reading frames %.2f s\n", frames,
            now_s() - t_start, read_s);
    ret = frames > 0 ? 0 : 1;
end:
    if (in)
        fclose(in);
    av_dict_free(&opts);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&cc);
    if (fc && fc->pb)
        avio_closep(&fc->pb);
    avformat_free_context(fc);
    return ret;
}

static int int_arg(const char *const s, const char *const name)
{
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 65536) {
        fprintf(stderr, "encode_floor: bad %s '%s'\n", name, s);
        exit(2);
    }
    return (int)v;
}

static int usage(void)
{
    fprintf(stderr, "usage: encode_floor decode VIDEO RAW\n"
                    "       encode_floor encode RAW WIDTH HEIGHT FPS OUT.mp4 [--crf N]"
                    " [--preset P] [--threads N] [--encoder NAME]\n");
    return 2;
}

int main(int argc, char **argv)
{
    av_log_set_level(AV_LOG_ERROR);
    if (argc == 4 && !strcmp(argv[1], "decode"))
        return decode(argv[2], argv[3]);
    if (argc < 7 || strcmp(argv[1], "encode"))
        return usage();
    EncodeArgs a = { .raw = argv[2], .out = argv[6], .preset = "faster", .encoder = "libx264",
                     .crf = 23 };
    a.width = int_arg(argv[3], "WIDTH");
    a.height = int_arg(argv[4], "HEIGHT");
    if (av_parse_video_rate(&a.fps, argv[5]) < 0 || a.fps.num <= 0) {
        fprintf(stderr, "encode_floor: bad FPS '%s'\n", argv[5]);
        return 2;
    }
    for (int i = 7; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--crf"))
            a.crf = int_arg(argv[++i], "CRF");
        else if (!strcmp(argv[i], "--preset"))
            a.preset = argv[++i];
        else if (!strcmp(argv[i], "--threads"))
            a.threads = int_arg(argv[++i], "threads");
        else if (!strcmp(argv[i], "--encoder"))
            a.encoder = argv[++i];
        else
            return usage();
    }
    return encode(&a);
}
