/*
 * Codecs, containers and encoders: every combination gridvid writes decodes
 * with the right codec, tag, pixel format, colour tags and frame count; an
 * impossible one is refused before anything is written; a hardware encoder
 * that is missing or lost mid-stream gives way to the software one with one
 * warning; STREAM_PROCESSING=false keeps a PNG per frame that shows the
 * frame the encoder was given; libx264's threads and look-ahead follow
 * MEMORY_LIMIT, and a limit too small for anything still renders.
 *
 * Most of it goes through the public API; the mid-stream loss is driven
 * both at the encoder's own interface (src/encode/encode.h), where the switch
 * lives, and through the pipeline (GV_TEST_ENCODER_FAIL_AT).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/pixdesc.h>

#include "avcheck.h"
#include "check.h"
#include "encode/encode.h"
#include "gridvid/gridvid.h"

#define W 160
#define H 120
#define FPS 30

static char dir[256];

typedef struct Log {
    /* probes: warnings that a hardware encoder ENCODER=auto tried could
     * not open ("h264_nvenc unavailable (...): using libx264"), which a
     * machine with such an encoder in libavcodec but not in hardware (a
     * CUDA GPU without NVENC) gives on every run */
    int warnings, probes, errors;
    char last[512];
} Log;

static void log_cb(void *opaque, GvLogLevel level, const char *msg)
{
    Log *const l = opaque;
    if (level == GV_LOG_WARNING) {
        l->warnings++;
        l->probes += strstr(msg, " unavailable (") && strstr(msg, "): using ");
    }
    if (level == GV_LOG_ERROR)
        l->errors++;
    if (level <= GV_LOG_WARNING)
        snprintf(l->last, sizeof(l->last), "%s", msg);
}

static void demo_settings(GvSettings *s, const char *out, Log *log)
{
    gv_default_settings(s);
    s->demo = 1;
    s->width = W;
    s->height = H;
    s->tile_height = 40;
    s->fps_num = FPS;
    s->fps_den = 1;
    s->duration = 1;
    s->gpu = GV_GPU_FALSE;
    s->output = out;
    s->log = log_cb;
    s->log_opaque = log;
    s->log_level = GV_LOG_WARNING;
    memset(log, 0, sizeof(*log));
}

static int run(const GvSettings *s, GvSummary *summary)
{
    GvContext *ctx;
    int ret = gv_open(&ctx, s);
    if (ret < 0)
        return ret;
    ret = gv_run(ctx);
    if (summary)
        gv_get_summary(ctx, summary);
    gv_close(&ctx);
    return ret;
}

static int count_entries(const char *path, const char *prefix)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && (!prefix || !strncmp(e->d_name, prefix, strlen(prefix))))
            n++;
    closedir(d);
    return n;
}

/* ---- every codec in every container ---- */

typedef struct Combo {
    const char *ext, *codec;
    enum AVCodecID id;
    uint32_t tag; /* 0: Matroska and WebM name most codecs by a string, no tag */
    enum AVPixelFormat format;
} Combo;

static void test_combo(const Combo *c)
{
    char out[300];
    snprintf(out, sizeof(out), "%s/%s.%s", dir, c->codec, c->ext);
    GvSettings s;
    Log log;
    GvSummary sum;
    demo_settings(&s, out, &log);
    s.codec = c->codec;
    CHECK_INT(run(&s, &sum), 0);
    CHECK_INT(log.warnings - log.probes, 0);
    AvFile f;
    CHECK_INT(avcheck_decode(out, &f, NULL, NULL), 0);
    char tag[AV_FOURCC_MAX_STRING_SIZE];
    av_fourcc_make_string(tag, f.video.codec_tag);
    printf("%-6s %-4s: %s by %s, tag %s, %s, %lld frames\n", c->codec, c->ext,
           avcodec_get_name(f.video.codec_id), sum.encoder, tag,
           av_get_pix_fmt_name(f.video.format) ? av_get_pix_fmt_name(f.video.format) : "?",
           (long long)f.video.frames);
    CHECK(!f.audio.present);
    CHECK_INT(f.video.codec_id, c->id);
    CHECK_INT(f.video.codec_tag, c->tag);
    CHECK_INT(f.video.format, c->format);
    CHECK_INT(f.video.width, W);
    CHECK_INT(f.video.height, H);
    CHECK_INT(f.video.frames, FPS);
    CHECK_INT(f.video.rate.num, FPS * f.video.rate.den);
    CHECK_INT(f.video.primaries, AVCOL_PRI_BT709);
    CHECK_INT(f.video.trc, AVCOL_TRC_BT709);
    CHECK_INT(f.video.space, AVCOL_SPC_BT709);
    CHECK_INT(f.video.range, AVCOL_RANGE_MPEG);
    CHECK_NEAR(f.video.end - f.video.start, 1.0, 1e-3);
    avcheck_free(&f);
    unlink(out);
}

/* ---- refused before any work ---- */

static void test_impossible(const char *ext, const char *codec)
{
    char out[300];
    snprintf(out, sizeof(out), "%s/impossible.%s", dir, ext);
    GvSettings s;
    Log log;
    demo_settings(&s, out, &log);
    s.codec = codec;
    CHECK_INT(run(&s, NULL), GV_ERR_SETTING);
    printf("%s in .%s: %s\n", codec, ext, log.last);
    CHECK(strstr(log.last, "CODEC: '") == log.last);
    CHECK_INT(count_entries(dir, NULL), 0); /* no output, no temporary */
}

/* ---- a transparent background: the codecs that keep alpha ---- */

/* BACKGROUND=transparent into .ext with codec (NULL: auto): id written,
 * in a pixel format with alpha (VP9's alpha is a Matroska block addition,
 * which libavcodec's decoder leaves aside: there the stream is tagged
 * AlphaMode); or, id NONE, refused before any work naming BACKGROUND. */
static void test_alpha(const char *ext, const char *codec, enum AVCodecID id)
{
    char out[300];
    snprintf(out, sizeof(out), "%s/alpha.%s", dir, ext);
    GvSettings s;
    Log log;
    demo_settings(&s, out, &log);
    s.codec = codec;
    s.transparent = 1;
    const int ret = run(&s, NULL);
    printf("transparent %s in .%s: %s\n", codec ? codec : "auto", ext,
           ret ? log.last : avcodec_get_name(id));
    if (id == AV_CODEC_ID_NONE) {
        CHECK_INT(ret, GV_ERR_SETTING);
        CHECK(strstr(log.last, "BACKGROUND: 'transparent' needs") == log.last);
        CHECK_INT(count_entries(dir, NULL), 0);
        return;
    }
    CHECK_INT(ret, 0);
    AvFile f;
    CHECK_INT(avcheck_decode(out, &f, NULL, NULL), 0);
    CHECK_INT(f.video.codec_id, id);
    CHECK_INT(f.video.frames, FPS);
    if (id == AV_CODEC_ID_PRORES) {
        const AVPixFmtDescriptor *const d = av_pix_fmt_desc_get(f.video.format);
        CHECK(d && (d->flags & AV_PIX_FMT_FLAG_ALPHA));
    } else {
        AVFormatContext *fmt = NULL;
        CHECK_INT(avformat_open_input(&fmt, out, NULL, NULL), 0);
        const AVDictionaryEntry *const t =
            fmt && fmt->nb_streams ? av_dict_get(fmt->streams[0]->metadata, "alpha_mode", NULL, 0)
                                   : NULL;
        CHECK(t && !strcmp(t->value, "1"));
        avformat_close_input(&fmt);
    }
    avcheck_free(&f);
    unlink(out);
}

/* ---- a hardware encoder that is not there ---- */

static void test_missing_hardware(void)
{
    char out[300];
    snprintf(out, sizeof(out), "%s/nvenc.mp4", dir);
    GvSettings s;
    Log log;
    GvSummary sum;
    demo_settings(&s, out, &log);
    s.encoder = "h264_nvenc";
    CHECK_INT(run(&s, &sum), 0);
    printf("ENCODER=h264_nvenc: encoded by %s; %d warning(s): %s\n", sum.encoder, log.warnings,
           log.last);
    if (!strcmp(sum.encoder, "h264_nvenc")) {
        /* this machine has NVENC: then nothing to warn about */
        CHECK_INT(log.warnings, 0);
    } else {
        CHECK(!strcmp(sum.encoder, "libx264"));
        CHECK_INT(log.warnings, 1);
        CHECK(strstr(log.last, "h264_nvenc") && strstr(log.last, "libx264"));
    }
    AvFile f;
    CHECK_INT(avcheck_decode(out, &f, NULL, NULL), 0);
    CHECK_INT(f.video.codec_id, AV_CODEC_ID_H264);
    CHECK_INT(f.video.frames, FPS);
    avcheck_free(&f);
    unlink(out);
}

/* ---- an encoder lost mid-stream (test switch) ---- */

#define LOST_FRAMES 12
#define LOST_AT 5

typedef struct Frames {
    uint8_t *planes[LOST_FRAMES];
    int released[LOST_FRAMES];
    int mismatches, decoded;
} Frames;

static void release_cb(void *opaque)
{
    (*(int *)opaque)++;
}

/* Frame i: a gradient that moves with i, so frames differ and order shows. */
static uint8_t *make_frame(int i)
{
    uint8_t *const p = malloc(W * H * 3 / 2);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            p[y * W + x] = (uint8_t)(16 + (x + y + 7 * i) % 220);
    for (int k = 0; k < 2; k++)
        for (int y = 0; y < H / 2; y++)
            for (int x = 0; x < W / 2; x++)
                p[W * H + k * (W / 2) * (H / 2) + y * (W / 2) + x] =
                    (uint8_t)(64 + (k ? x : y) + 3 * i);
    return p;
}

static GvPicture picture_of(uint8_t *p)
{
    GvPicture pic = { W, H, { p, p + W * H, p + W * H + (W / 2) * (H / 2) },
                      { W, W / 2, W / 2 } };
    return pic;
}

static void compare_frame(void *opaque, const AVFrame *fr, int64_t i)
{
    Frames *const fs = opaque;
    fs->decoded++;
    if (i >= LOST_FRAMES || fr->format != AV_PIX_FMT_YUV420P) {
        fs->mismatches++;
        return;
    }
    const GvPicture pic = picture_of(fs->planes[i]);
    for (int p = 0; p < 3; p++) {
        const int w = p ? W / 2 : W, h = p ? H / 2 : H;
        for (int y = 0; y < h; y++)
            if (memcmp(fr->data[p] + y * fr->linesize[p], pic.data[p] + y * pic.linesize[p],
                       (size_t)w)) {
                fs->mismatches++;
                return;
            }
    }
}

static int encode_all(GvEncodeParams *p, Frames *fs, int *sent)
{
    GvEncoder *e;
    int ret = gv_encoder_open(&e, p);
    if (ret < 0)
        return ret;
    *sent = 0;
    for (int i = 0; i < LOST_FRAMES && ret == 0; i++) {
        const GvPicture pic = picture_of(fs->planes[i]);
        ret = gv_encoder_send(e, &pic, i, release_cb, &fs->released[i]);
        (*sent)++;
    }
    if (ret == 0)
        ret = gv_encoder_finish(e);
    gv_encoder_close(&e);
    return ret;
}

static void test_lost_mid_stream(void)
{
    char out[300], wav[300];
    snprintf(out, sizeof(out), "%s/lost.mp4", dir);
    snprintf(wav, sizeof(wav), "%s/lost.wav", dir);
    avcheck_write_wav(wav, 48000, 2, 1.0, 440, 0.5);
    Frames fs = { 0 };
    for (int i = 0; i < LOST_FRAMES; i++)
        fs.planes[i] = make_frame(i);
    Log log = { 0 };
    const GvLog glog = { log_cb, &log, GV_LOG_WARNING };
    GvEncodeParams p = {
        .path = out,
        .name = out,
        .width = W,
        .height = H,
        .fps_num = FPS,
        .fps_den = 1,
        .frames = LOST_FRAMES,
        .encoder = "auto",
        .codec = "h264",
        .crf = 0, /* lossless: the decoded frames are the ones sent */
        .preset = "ultrafast",
        .log = &glog,
        .audio = wav, /* restarts with the rest */
        .fail_at_frame = LOST_AT,
    };
    /* first attempt: lost at frame LOST_AT, which is released all the same */
    int sent;
    CHECK_INT(encode_all(&p, &fs, &sent), GV_ENCODE_LOST);
    CHECK_INT(sent, LOST_AT + 1);
    for (int i = 0; i < LOST_FRAMES; i++)
        CHECK_INT(fs.released[i], i <= LOST_AT);
    CHECK_INT(log.warnings - log.probes, 1);
    CHECK_INT(log.errors, 0);
    printf("lost: %s\n", log.last);
    unlink(out);

    /* the restart: software only, even where ENCODER names hardware */
    memset(fs.released, 0, sizeof(fs.released));
    memset(&log, 0, sizeof(log));
    p.fail_at_frame = 0;
    p.software = 1;
    p.encoder = "h264_nvenc";
    CHECK_INT(encode_all(&p, &fs, &sent), 0);
    CHECK_INT(sent, LOST_FRAMES);
    for (int i = 0; i < LOST_FRAMES; i++)
        CHECK_INT(fs.released[i], 1);
    CHECK_INT(log.warnings, 0);
    AvFile f;
    CHECK_INT(avcheck_decode(out, &f, compare_frame, &fs), 0);
    CHECK_INT(f.video.frames, LOST_FRAMES);
    CHECK_INT(fs.decoded, LOST_FRAMES);
    CHECK_INT(fs.mismatches, 0);
    CHECK_INT(f.audio.codec_id, AV_CODEC_ID_AAC);
    CHECK_NEAR(f.audio.end, f.video.end, 1.0 / FPS);
    avcheck_free(&f);
    unlink(out);
    unlink(wav);
    for (int i = 0; i < LOST_FRAMES; i++)
        free(fs.planes[i]);
}

/*
 * The same through gv_run(): the pipeline's test switch loses the encoder
 * at frame 10 of 30; the run encodes again from frame 0 and the video,
 * with its audio, is the one a run without the loss makes.
 */
typedef struct Planes {
    uint8_t *frame[FPS];
    int n, mismatches;
} Planes;

static void keep_frame(void *opaque, const AVFrame *fr, int64_t i)
{
    Planes *const p = opaque;
    if (i >= FPS || fr->format != AV_PIX_FMT_YUV420P)
        return;
    uint8_t *const d = p->frame[i] = malloc(W * H * 3 / 2);
    for (int y = 0; y < H; y++)
        memcpy(d + y * W, fr->data[0] + y * fr->linesize[0], W);
    for (int k = 1; k < 3; k++)
        for (int y = 0; y < H / 2; y++)
            memcpy(d + W * H + (k - 1) * (W / 2) * (H / 2) + y * (W / 2),
                   fr->data[k] + y * fr->linesize[k], W / 2);
    p->n++;
}

static void same_frame(void *opaque, const AVFrame *fr, int64_t i)
{
    Planes *const p = opaque;
    Planes one = { .n = 0 };
    keep_frame(&one, fr, 0);
    if (i >= FPS || !one.frame[0] || !p->frame[i] ||
        memcmp(one.frame[0], p->frame[i], W * H * 3 / 2))
        p->mismatches++;
    free(one.frame[0]);
}

static void test_lost_end_to_end(void)
{
    char ref[300], out[300], wav[300];
    snprintf(ref, sizeof(ref), "%s/reference.mp4", dir);
    snprintf(out, sizeof(out), "%s/restarted.mp4", dir);
    snprintf(wav, sizeof(wav), "%s/music.wav", dir);
    avcheck_write_wav(wav, 44100, 2, 2.0, 440, 0.5);
    GvSettings s;
    Log log;
    GvSummary sum;
    demo_settings(&s, ref, &log);
    s.crf = 0;
    s.audio = wav;
    CHECK_INT(run(&s, NULL), 0);
    Planes planes = { .n = 0 };
    AvFile f;
    CHECK_INT(avcheck_decode(ref, &f, keep_frame, &planes), 0);
    CHECK_INT(planes.n, FPS);
    avcheck_free(&f);

    demo_settings(&s, out, &log);
    s.crf = 0;
    s.audio = wav;
    setenv("GV_TEST_ENCODER_FAIL_AT", "10", 1);
    CHECK_INT(run(&s, &sum), 0);
    unsetenv("GV_TEST_ENCODER_FAIL_AT");
    printf("GV_TEST_ENCODER_FAIL_AT=10: encoded by %s; %d warning(s): %s\n", sum.encoder,
           log.warnings, log.last);
    CHECK_INT(log.warnings - log.probes, 1);
    CHECK(strstr(log.last, "failed at frame 10") != NULL);
    CHECK_INT(sum.frames, FPS);
    CHECK_INT(avcheck_decode(out, &f, same_frame, &planes), 0);
    CHECK_INT(f.video.frames, FPS);
    CHECK_INT(planes.mismatches, 0);
    CHECK_INT(f.audio.codec_id, AV_CODEC_ID_AAC);
    CHECK_NEAR(f.audio.end, f.video.end, 1.0 / FPS);
    avcheck_free(&f);
    for (int i = 0; i < FPS; i++)
        free(planes.frame[i]);
    unlink(ref);
    unlink(out);
    unlink(wav);
    CHECK_INT(count_entries(dir, NULL), 0); /* the lost attempt's file is gone */
}

/* ---- STREAM_PROCESSING=false: the PNG sequence ---- */

/*
 * The PNGs are RGB made from the yuv420p frame given to the encoder; the
 * video is encoded losslessly (CRF 0), so decoding it gives that frame
 * back exactly, and converting it here the way the PNG writer does (BT.709
 * limited range, each chroma sample used for its 2x2 luma block) must give
 * the PNG's pixels. The conversion is written out again here rather than
 * taken from the library so that the formula is checked too; the two may
 * round a value lying within floating-point noise of .5 differently, hence
 * a tolerance of 1 code value.
 */
#define PNG_TOL 1

static uint8_t to_u8(double v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)lround(v);
}

static void rgb_of(int y, int u, int v, uint8_t rgb[3])
{
    const double yf = (y - 16) / 219.0, pb = (u - 128) / 224.0, pr = (v - 128) / 224.0;
    const double r = yf + 1.5748 * pr, b = yf + 1.8556 * pb;
    const double g = (yf - 0.2126 * r - 0.0722 * b) / 0.7152;
    rgb[0] = to_u8(r * 255);
    rgb[1] = to_u8(g * 255);
    rgb[2] = to_u8(b * 255);
}

typedef struct PngCheck {
    char dir[600];
    int worst, missing, bad_format;
} PngCheck;

/* Decodes a PNG into rgb (W x H x 3); 0 or -1. */
static int read_png(const char *path, uint8_t *rgb)
{
    AVFormatContext *fmt = NULL;
    int ret = -1;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return -1;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    if (avformat_find_stream_info(fmt, NULL) < 0 || fmt->nb_streams < 1)
        goto end;
    const AVCodec *c = avcodec_find_decoder(fmt->streams[0]->codecpar->codec_id);
    if (!c || !(dec = avcodec_alloc_context3(c)) ||
        avcodec_parameters_to_context(dec, fmt->streams[0]->codecpar) < 0 ||
        avcodec_open2(dec, c, NULL) < 0 || av_read_frame(fmt, pkt) < 0 ||
        avcodec_send_packet(dec, pkt) < 0 || avcodec_receive_frame(dec, fr) < 0)
        goto end;
    if (fr->format != AV_PIX_FMT_RGB24 || fr->width != W || fr->height != H)
        goto end;
    for (int y = 0; y < H; y++)
        memcpy(rgb + y * W * 3, fr->data[0] + y * fr->linesize[0], W * 3);
    ret = 0;
end:
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return ret;
}

static void compare_png(void *opaque, const AVFrame *fr, int64_t i)
{
    PngCheck *const pc = opaque;
    char path[700];
    uint8_t rgb[W * H * 3];
    snprintf(path, sizeof(path), "%s/frame_%06lld.png", pc->dir, (long long)i);
    if (read_png(path, rgb) < 0) {
        pc->missing++;
        return;
    }
    if (fr->format != AV_PIX_FMT_YUV420P || fr->width != W || fr->height != H) {
        pc->bad_format++;
        return;
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t e[3];
            rgb_of(fr->data[0][y * fr->linesize[0] + x],
                   fr->data[1][y / 2 * fr->linesize[1] + x / 2],
                   fr->data[2][y / 2 * fr->linesize[2] + x / 2], e);
            for (int k = 0; k < 3; k++) {
                const int d = abs(e[k] - rgb[(y * W + x) * 3 + k]);
                if (d > pc->worst)
                    pc->worst = d;
            }
        }
}

static void test_png_sequence(void)
{
    char out[300], temp[300];
    snprintf(out, sizeof(out), "%s/frames.mp4", dir);
    snprintf(temp, sizeof(temp), "%s/temp", dir);
    mkdir(temp, 0755);
    GvSettings s;
    Log log;
    demo_settings(&s, out, &log);
    s.stream = 0;
    s.temp_dir = temp;
    s.crf = 0;
    CHECK_INT(run(&s, NULL), 0);
    /* one folder of frames in TEMP_DIR, holding exactly frame_000000.png ... */
    PngCheck pc = { .worst = 0 };
    DIR *d = opendir(temp);
    int folders = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') {
            snprintf(pc.dir, sizeof(pc.dir), "%s/%s", temp, e->d_name);
            folders++;
        }
    if (d)
        closedir(d);
    CHECK_INT(folders, 1);
    CHECK_INT(count_entries(pc.dir, NULL), FPS);
    CHECK_INT(count_entries(pc.dir, "frame_"), FPS);
    char last[700];
    snprintf(last, sizeof(last), "%s/frame_%06d.png", pc.dir, FPS - 1);
    CHECK(access(last, F_OK) == 0);

    AvFile f;
    CHECK_INT(avcheck_decode(out, &f, compare_png, &pc), 0);
    CHECK_INT(f.video.frames, FPS);
    printf("PNG sequence: %d files, max difference from the decoded lossless video %d\n",
           count_entries(pc.dir, "frame_"), pc.worst);
    CHECK_INT(pc.missing, 0);
    CHECK_INT(pc.bad_format, 0);
    CHECK(pc.worst <= PNG_TOL);
    avcheck_free(&f);
    unlink(out);

    for (int i = 0; i < FPS; i++) {
        char p[700];
        snprintf(p, sizeof(p), "%s/frame_%06d.png", pc.dir, i);
        unlink(p);
    }
    rmdir(pc.dir);
    rmdir(temp);
}

/* ---- libx264 sized to MEMORY_LIMIT ---- */

static void check_x264(const int w, const int h, const char *preset, const int threads,
                       const int cores, const int64_t budget, const int want_threads,
                       const int want_lookahead, const int want_sync, const int want_bframes,
                       const int own, const int fits)
{
    const GvX264Memory m = gv_x264_memory(w, h, preset, threads, cores, budget);
    printf("x264 %dx%d %s, threads %d, %d cores, %lld MiB: threads %d, rc-lookahead %d, "
           "sync-lookahead %d, bframes %d, %s, about %lld MiB\n", w, h, preset, threads, cores,
           (long long)(budget >> 20), m.threads, m.lookahead, m.sync_lookahead, m.bframes,
           m.own ? "x264's own" : m.fits ? "fits" : "over", (long long)(m.bytes >> 20));
    CHECK_INT(m.threads, want_threads);
    CHECK_INT(m.lookahead, want_lookahead);
    CHECK_INT(m.sync_lookahead, want_sync);
    CHECK_INT(m.bframes, want_bframes);
    CHECK_INT(m.own, own);
    CHECK_INT(m.fits, fits);
    CHECK(budget <= 0 || !fits || m.bytes <= budget);
    CHECK_INT(m.bytes, gv_x264_bytes(w, h, &m));
}

/*
 * The model (src/encode/memory.c): bytes = P (6 + 4.25 B + 5.75 T +
 * 2 (max(L, B) + S)) with P = (w + 64)(h + 64) 3/2, S counted only with
 * more than one thread. The choices below follow from it exactly.
 */
static void test_x264_memory(void)
{
    const int64_t mib = INT64_C(1) << 20;
    /* 1080p at faster on 2 cores: x264's own 3 threads, 84 P */
    GvX264Memory m = { .threads = 3, .lookahead = 20, .sync_lookahead = 4, .bframes = 3 };
    CHECK_INT(gv_x264_bytes(1920, 1080, &m), INT64_C(1984) * 1144 * 3 / 2 * 84);
    check_x264(1920, 1080, "faster", 0, 2, 2048 * mib, 3, 20, 4, 3, 1, 1);
    /* 1080p on 16 cores: x264's own 24 threads fit in 1800 MiB */
    check_x264(1920, 1080, "faster", 0, 16, 1800 * mib, 24, 20, 4, 3, 1, 1);
    /* no bound: x264's own, whatever they hold */
    check_x264(3840, 2160, "faster", 0, 16, 0, 24, 20, 4, 3, 1, 1);
    /* 4K on 16 cores: threads down to the cores, look-ahead to 10, threads
     * to what fits (about what 2048 MiB leaves on the GPU machine) */
    check_x264(3840, 2160, "faster", 0, 16, 1600 * mib, 14, 10, 4, 3, 0, 1);
    check_x264(3840, 2160, "medium", 0, 16, 1600 * mib, 14, 10, 4, 3, 0, 1);
    check_x264(3840, 2160, "faster", 0, 16, 1000 * mib, 5, 10, 4, 3, 0, 1);
    /* a second thread before look-ahead beyond the B-frames */
    check_x264(3840, 2160, "faster", 0, 16, 700 * mib, 2, 9, 4, 3, 0, 1);
    /* then two threads without B-frames before one thread with them */
    check_x264(3840, 2160, "faster", 0, 16, 400 * mib, 2, 6, 1, 0, 0, 1);
    /* THREAD_COUNT 8: never more threads than that, look-ahead first */
    check_x264(3840, 2160, "faster", 8, 16, 1200 * mib, 8, 11, 4, 3, 0, 1);
    /* ultrafast has no look-ahead and no B-frames to give up */
    check_x264(3840, 2160, "ultrafast", 0, 16, 300 * mib, 2, 0, 1, 0, 0, 1);
    /* a tiny budget: the smallest, over it */
    check_x264(3840, 2160, "faster", 0, 16, 1, 1, 0, 0, 0, 0, 0);
    /* x264's automatic count: at most one thread per two macroblock rows */
    check_x264(64, 48, "faster", 0, 16, 100 * mib, 1, 20, 4, 3, 1, 1);
}

/* A limit far below what anything needs still renders: libx264 at its
 * smallest, with one warning saying so. */
static void test_tiny_memory_limit(void)
{
    char out[300];
    snprintf(out, sizeof(out), "%s/tiny-limit.mp4", dir);
    GvSettings s;
    Log log;
    demo_settings(&s, out, &log);
    char err[256];
    CHECK_INT(gv_settings_set(&s, "MEMORY_LIMIT", "1", err, sizeof(err)), 0);
    CHECK_INT(run(&s, NULL), 0);
    printf("MEMORY_LIMIT 1: %s\n", log.last);
    CHECK_INT(log.warnings - log.probes, 1);
    CHECK(strstr(log.last, "threads=1:rc-lookahead=0:sync-lookahead=0:bframes=0:mbtree=0") &&
          strstr(log.last, "its smallest"));
    AvFile f;
    CHECK_INT(avcheck_decode(out, &f, NULL, NULL), 0);
    CHECK_INT(f.video.codec_id, AV_CODEC_ID_H264);
    CHECK_INT(f.video.frames, FPS);
    avcheck_free(&f);
    unlink(out);
}

int main(void)
{
    /* a fresh folder of the test's own, under $TMPDIR or /tmp */
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gv_test_codecs_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    const uint32_t avc1 = MKTAG('a', 'v', 'c', '1'), hvc1 = MKTAG('h', 'v', 'c', '1'),
                   av01 = MKTAG('a', 'v', '0', '1'), vp09 = MKTAG('v', 'p', '0', '9'),
                   apch = MKTAG('a', 'p', 'c', 'h');
    const Combo combos[] = {
        { "mp4", "h264", AV_CODEC_ID_H264, avc1, AV_PIX_FMT_YUV420P },
        { "mov", "h264", AV_CODEC_ID_H264, avc1, AV_PIX_FMT_YUV420P },
        { "mkv", "h264", AV_CODEC_ID_H264, 0, AV_PIX_FMT_YUV420P },
        { "mp4", "hevc", AV_CODEC_ID_HEVC, hvc1, AV_PIX_FMT_YUV420P },
        { "mov", "hevc", AV_CODEC_ID_HEVC, hvc1, AV_PIX_FMT_YUV420P },
        { "mkv", "hevc", AV_CODEC_ID_HEVC, 0, AV_PIX_FMT_YUV420P },
        { "mkv", "av1", AV_CODEC_ID_AV1, 0, AV_PIX_FMT_YUV420P },
        { "mp4", "av1", AV_CODEC_ID_AV1, av01, AV_PIX_FMT_YUV420P },
        { "webm", "av1", AV_CODEC_ID_AV1, 0, AV_PIX_FMT_YUV420P },
        { "webm", "vp9", AV_CODEC_ID_VP9, 0, AV_PIX_FMT_YUV420P },
        { "mp4", "vp9", AV_CODEC_ID_VP9, vp09, AV_PIX_FMT_YUV420P },
        { "mkv", "vp9", AV_CODEC_ID_VP9, 0, AV_PIX_FMT_YUV420P },
        { "mov", "prores", AV_CODEC_ID_PRORES, apch, AV_PIX_FMT_YUV422P10LE },
        /* Matroska keeps ProRes's fourcc, the profile */
        { "mkv", "prores", AV_CODEC_ID_PRORES, apch, AV_PIX_FMT_YUV422P10LE },
    };
    for (size_t i = 0; i < sizeof(combos) / sizeof(combos[0]); i++)
        test_combo(&combos[i]);
    test_impossible("webm", "h264");
    test_impossible("mp4", "prores");
    test_impossible("webm", "prores");
    test_alpha("mov", NULL, AV_CODEC_ID_PRORES);
    test_alpha("webm", NULL, AV_CODEC_ID_VP9);
    test_alpha("mkv", NULL, AV_CODEC_ID_VP9);
    test_alpha("mkv", "prores", AV_CODEC_ID_PRORES);
    test_alpha("mp4", NULL, AV_CODEC_ID_NONE);
    test_alpha("mp4", "vp9", AV_CODEC_ID_NONE);
    test_alpha("mov", "h264", AV_CODEC_ID_NONE);
    test_alpha("gif", NULL, AV_CODEC_ID_NONE);
    test_missing_hardware();
    test_lost_mid_stream();
    test_lost_end_to_end();
    test_png_sequence();
    test_x264_memory();
    test_tiny_memory_limit();
    CHECK_INT(count_entries(dir, NULL), 0);
    rmdir(dir);
    return check_report("test_codecs");
}
