/*
 * End to end: render short videos through the public API from generated
 * solid-colour images, decode them with libavcodec and compare frames with
 * what SPEC.md says they must show.
 *
 * Tolerance: the pixel tests encode losslessly (CRF 0), so the only error
 * is gridvid's own rounding: interpolation weights quantised to 1/256
 * (at most 0.5 code values for a step of 255) plus one rounding of the
 * result, so a sample may differ from the exact formula by at most 1, and
 * the test's own conversion of a colour to Y'CbCr may round the other way:
 * TOL = 2. The default-settings test (CRF 23) checks the stream, not pixels.
 *
 * Every file is written in a fresh folder of its own under $TMPDIR (or
 * /tmp), removed at the end.
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "check.h"
#include "gridvid/gridvid.h"

#define TOL 2
#define NCOL 12

static const uint8_t palette[NCOL][3] = {
    { 255, 0, 0 },     { 0, 255, 0 },     { 0, 0, 255 },     { 255, 255, 0 },
    { 0, 255, 255 },   { 255, 0, 255 },   { 255, 255, 255 }, { 40, 40, 40 },
    { 128, 64, 0 },    { 0, 128, 64 },    { 64, 0, 128 },    { 200, 150, 100 },
};

static char top[256]; /* the test's own folder */
static char dir[300];  /* the images, in top */

/* name in top */
static const char *in_top(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", top, name);
    return buf;
}

/* Y'CbCr of an sRGB colour, BT.709 limited range, written out here again
 * rather than taken from the library so that the test checks it. */
static void yuv_of(const uint8_t c[3], double out[3])
{
    const double r = c[0] / 255.0, g = c[1] / 255.0, b = c[2] / 255.0;
    const double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    out[0] = 16 + 219 * y;
    out[1] = 128 + 224 * (b - y) / 1.8556;
    out[2] = 128 + 224 * (r - y) / 1.5748;
}

/* n flat images of 120x90 (4:3, so the square crop is exercised), in a
 * new folder */
static int make_images(int n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(top, sizeof(top), "%s/gv_test_render_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(top)) {
        perror(top);
        return -1;
    }
    in_top(dir, sizeof(dir), "imgs");
    if (mkdir(dir, 0755) < 0) {
        perror(dir);
        rmdir(top);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        char path[400];
        snprintf(path, sizeof(path), "%s/img%d.ppm", dir, k);
        FILE *f = fopen(path, "wb");
        fprintf(f, "P6\n120 90\n255\n");
        for (int i = 0; i < 120 * 90; i++)
            fwrite(palette[k % NCOL], 1, 3, f);
        fclose(f);
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* top and everything in it */
static void remove_all(void)
{
    nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

typedef struct Video {
    int frames, w, h;
    enum AVPixelFormat fmt;
    AVCodecParameters par;
    AVRational rate;
    int64_t duration; /* stream duration in its time base */
    AVRational tb;
    uint8_t *yuv[64]; /* copies of the first 64 frames, planes packed */
} Video;

static int decode_video(const char *path, Video *v)
{
    memset(v, 0, sizeof(*v));
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0) {
        /* leave an all-black frame to compare with, so checks fail cleanly */
        for (int i = 0; i < 64; i++)
            v->yuv[i] = calloc(1, 4096 * 4096 * 3 / 2);
        v->w = 4096;
        v->h = 4096;
        return -1;
    }
    avformat_find_stream_info(fmt, NULL);
    const int si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    AVStream *const st = fmt->streams[si];
    v->par = *st->codecpar;
    v->rate = st->avg_frame_rate;
    v->duration = st->duration;
    v->tb = st->time_base;
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(dec, st->codecpar);
    avcodec_open2(dec, codec, NULL);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    int eof = 0;
    while (!eof) {
        int r = av_read_frame(fmt, pkt);
        if (r < 0) {
            eof = 1;
            avcodec_send_packet(dec, NULL);
        } else if (pkt->stream_index == si) {
            avcodec_send_packet(dec, pkt);
        }
        av_packet_unref(pkt);
        while (avcodec_receive_frame(dec, frame) == 0) {
            v->w = frame->width;
            v->h = frame->height;
            v->fmt = frame->format;
            if (v->frames < 64) {
                const int w = frame->width, h = frame->height;
                uint8_t *p = malloc((size_t)w * h * 3 / 2);
                for (int y = 0; y < h; y++)
                    memcpy(p + y * w, frame->data[0] + y * frame->linesize[0], (size_t)w);
                for (int c = 1; c <= 2; c++)
                    for (int y = 0; y < h / 2; y++)
                        memcpy(p + w * h + (c - 1) * (w / 2) * (h / 2) + y * (w / 2),
                               frame->data[c] + y * frame->linesize[c], (size_t)w / 2);
                v->yuv[v->frames] = p;
            }
            v->frames++;
            av_frame_unref(frame);
        }
    }
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return 0;
}

static void free_video(Video *v)
{
    for (int i = 0; i < 64; i++)
        free(v->yuv[i]);
}

static int sample(const Video *v, int f, int plane, int x, int y)
{
    const uint8_t *p = v->yuv[f];
    if (plane == 0)
        return p[y * v->w + x];
    return p[v->w * v->h + (plane - 1) * (v->w / 2) * (v->h / 2) + (y / 2) * (v->w / 2) + x / 2];
}

/* Checks Y, U and V at luma (x, y) (x, y even) against a flat colour. */
#define CHECK_COLOUR(v, f, x, y, col)                                              \
    do {                                                                           \
        double e_[3];                                                              \
        yuv_of(col, e_);                                                           \
        for (int p_ = 0; p_ < 3; p_++)                                             \
            CHECK_NEAR(sample(v, f, p_, x, y), e_[p_], TOL);                       \
    } while (0)

static int render(GvSettings *s, const char *out)
{
    const char *inputs[] = { dir };
    s->inputs = inputs;
    s->n_inputs = 1;
    s->output = out;
    s->gpu = GV_GPU_FALSE;
    GvContext *ctx;
    int ret = gv_open(&ctx, s);
    if (ret < 0)
        return ret;
    ret = gv_run(ctx);
    gv_close(&ctx);
    return ret;
}

/* Top-level MP4 boxes: is moov before mdat? */
static int moov_first(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    unsigned char h[16];
    int moov = -1, mdat = -1, i = 0;
    long pos = 0;
    while (fseek(f, pos, SEEK_SET) == 0 && fread(h, 1, 8, f) == 8) {
        uint64_t size = (uint64_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
        if (!memcmp(h + 4, "moov", 4))
            moov = i;
        if (!memcmp(h + 4, "mdat", 4))
            mdat = i;
        if (size == 1) {
            unsigned char l[8];
            if (fread(l, 1, 8, f) != 8)
                break;
            size = 0;
            for (int b = 0; b < 8; b++)
                size = size << 8 | l[b];
        }
        if (size < 8)
            break;
        pos += (long)size;
        i++;
    }
    fclose(f);
    return moov >= 0 && mdat >= 0 && moov < mdat;
}

static void test_default_stream(void)
{
    /* defaults but small: 320x240, tiles 80, 10 fps for 2 s */
    GvSettings s;
    gv_default_settings(&s);
    s.width = 320;
    s.height = 240;
    s.tile_height = 80;
    s.fps_num = 10;
    s.duration = 2;
    char buf[300];
    const char *out = in_top(buf, sizeof(buf), "default.mp4");
    CHECK_INT(render(&s, out), 0);
    Video v;
    CHECK_INT(decode_video(out, &v), 0);
    CHECK_INT(v.frames, 20);
    CHECK_INT(v.w, 320);
    CHECK_INT(v.h, 240);
    CHECK_INT(v.fmt, AV_PIX_FMT_YUV420P);
    CHECK_INT(v.par.codec_id, AV_CODEC_ID_H264);
    CHECK_INT(v.par.profile, FF_PROFILE_H264_HIGH);
    CHECK_INT(v.par.color_primaries, AVCOL_PRI_BT709);
    CHECK_INT(v.par.color_trc, AVCOL_TRC_BT709);
    CHECK_INT(v.par.color_space, AVCOL_SPC_BT709);
    CHECK_INT(v.par.color_range, AVCOL_RANGE_MPEG);
    CHECK_INT(v.rate.num * 1, 10 * v.rate.den);
    CHECK(moov_first(out));
    free_video(&v);
    unlink(out);
}

static void test_fractional_rate(void)
{
    GvSettings s;
    gv_default_settings(&s);
    s.width = 160;
    s.height = 160;
    s.tile_height = 80;
    s.fps_num = 30000;
    s.fps_den = 1001;
    s.duration = 1; /* 29.97 frames round to 30 */
    char buf[300];
    const char *out = in_top(buf, sizeof(buf), "ntsc.mp4");
    CHECK_INT(render(&s, out), 0);
    Video v;
    CHECK_INT(decode_video(out, &v), 0);
    CHECK_INT(v.frames, 30);
    CHECK_INT(v.rate.num, 30000);
    CHECK_INT(v.rate.den, 1001);
    /* 30 frames of 1001/30000 s */
    CHECK_NEAR(v.duration * av_q2d(v.tb), 30 * 1001 / 30000.0, 1e-6);
    free_video(&v);
    unlink(out);
}

/* Expected luma at (x, y) of a rows layout of flat images, straight from
 * the SPEC's formulas (no gap, linear easing). */
static double expected_luma(int n, int h, int t, int R, int dir_alt, int frames, int f,
                            int x, int y)
{
    const int y0 = (int)floor((h - R * t) / 2.0);
    const int r = (y - y0) / t;
    const int nr = (n - r + R - 1) / R;
    const double period = nr * t;
    const double p = (double)f / frames;
    const int sign = dir_alt && (r & 1) ? -1 : 1;
    const double s = x + sign * period * p;
    const double s0 = floor(s), fr = s - s0;
    double val[2];
    for (int i = 0; i < 2; i++) {
        double pos = fmod(s0 + i, period);
        if (pos < 0)
            pos += period;
        const int col = (int)(pos / t);
        double yuv[3];
        yuv_of(palette[(col * R + r) % NCOL], yuv);
        val[i] = yuv[0];
    }
    return val[0] * (1 - fr) + val[1] * fr;
}

static void test_pixels_rows(void)
{
    /* 320x240, tiles 80: R = 3, 4 images per row, P = 320; 30 frames:
     * u = 10.67 i, fractional */
    GvSettings s;
    gv_default_settings(&s);
    s.width = 320;
    s.height = 240;
    s.tile_height = 80;
    s.fps_num = 15;
    s.duration = 2;
    s.crf = 0;
    s.direction = GV_DIRECTION_ALTERNATE;
    char buf[300];
    const char *out = in_top(buf, sizeof(buf), "rows.mp4");
    CHECK_INT(render(&s, out), 0);
    Video v;
    CHECK_INT(decode_video(out, &v), 0);
    CHECK_INT(v.frames, 30);
    /* frame 0: row 0 shows images 0 3 6 9, row 1 1 4 7 10 */
    CHECK_COLOUR(&v, 0, 40, 40, palette[0]);
    CHECK_COLOUR(&v, 0, 120, 40, palette[3]);
    CHECK_COLOUR(&v, 0, 280, 120, palette[10]);
    CHECK_COLOUR(&v, 0, 40, 200, palette[2]);
    /* frame 3: u = 32; row 0 position 40 + 32 = 72 (image 0), row 1 moves
     * right: 40 - 32 = 8 (image 1), 0 - 32 -> 288 (image 10) */
    CHECK_COLOUR(&v, 3, 40, 40, palette[0]);
    CHECK_COLOUR(&v, 3, 50, 40, palette[3]);
    CHECK_COLOUR(&v, 3, 40, 120, palette[1]);
    CHECK_COLOUR(&v, 3, 2, 120, palette[10]);
    /* fractional: every luma sample of a few lines in frames 1, 2, 7 */
    double worst = 0;
    const int frames_to_check[] = { 1, 2, 7, 29 };
    for (int fi = 0; fi < 4; fi++) {
        const int f = frames_to_check[fi];
        for (int y = 10; y < 240; y += 80)
            for (int x = 0; x < 320; x++) {
                const double e = expected_luma(12, 240, 80, 3, 1, 30, f, x, y);
                const double d = fabs(sample(&v, f, 0, x, y) - e);
                if (d > worst)
                    worst = d;
            }
    }
    printf("rows, alternate, fractional offsets: max luma error %.2f\n", worst);
    CHECK(worst <= TOL);
    free_video(&v);
    unlink(out);
}

static void test_columns_and_gap(void)
{
    /* portrait 240x320, columns of 80 with gap 8 on red: C = ceil(248 / 88)
     * = 3, block 256, x0 = -8; column 0 covers x -8..71, gap 72..79 */
    static const uint8_t red[3] = { 255, 0, 0 };
    GvSettings s;
    gv_default_settings(&s);
    s.width = 240;
    s.height = 320;
    s.tile_height = 80;
    s.layout = GV_LAYOUT_COLUMNS;
    s.gap = 8;
    memcpy(s.background, red, 3);
    s.fps_num = 11;
    s.duration = 2; /* 22 frames, P = 4 * 88 = 352, u = 16 i */
    s.crf = 0;
    char buf[300];
    const char *out = in_top(buf, sizeof(buf), "columns.mp4");
    CHECK_INT(render(&s, out), 0);
    Video v;
    CHECK_INT(decode_video(out, &v), 0);
    CHECK_INT(v.frames, 22);
    CHECK_INT(v.w, 240);
    CHECK_INT(v.h, 320);
    /* frame 0: column 0 shows images 0 3 6 9 down the frame */
    CHECK_COLOUR(&v, 0, 30, 40, palette[0]);
    CHECK_COLOUR(&v, 0, 30, 130, palette[3]);
    CHECK_COLOUR(&v, 0, 110, 40, palette[1]);
    /* gaps are BACKGROUND: between columns and between images */
    CHECK_COLOUR(&v, 0, 74, 40, red);
    CHECK_COLOUR(&v, 0, 30, 82, red);
    /* frame 2: u = 32, column 0 at y = 60 reads 92: image 3 */
    CHECK_COLOUR(&v, 2, 30, 60, palette[3]);
    CHECK_COLOUR(&v, 2, 30, 50, red); /* 82 */
    free_video(&v);
    unlink(out);
}

static void test_no_images(void)
{
    /* a folder with no image: exit code 3 (bad input), nothing written */
    char empty[300], none[300];
    in_top(empty, sizeof(empty), "empty");
    mkdir(empty, 0755);
    char junk[400];
    snprintf(junk, sizeof(junk), "%s/notes.jpg", empty);
    FILE *f = fopen(junk, "w");
    fputs("not an image\n", f);
    fclose(f);
    GvSettings s;
    gv_default_settings(&s);
    const char *inputs[] = { empty };
    s.inputs = inputs;
    s.n_inputs = 1;
    s.output = in_top(none, sizeof(none), "none.mp4");
    s.gpu = GV_GPU_FALSE;
    GvContext *ctx;
    CHECK_INT(gv_open(&ctx, &s), 0);
    CHECK_INT(gv_run(ctx), GV_ERR_BAD_INPUT);
    gv_close(&ctx);
    CHECK(access(s.output, F_OK) != 0);
    unlink(junk);
    rmdir(empty);
}

typedef struct Lines {
    char text[4096];
} Lines;

static void collect_line(void *opaque, const char *line)
{
    Lines *const l = opaque;
    strncat(l->text, line, sizeof(l->text) - strlen(l->text) - 2);
    strcat(l->text, "\n");
}

static void test_dry_run_matches_render(void)
{
    /* the dry run describes the layout the render then uses */
    Lines dry = { "" }, real = { "" };
    GvSettings s;
    gv_default_settings(&s);
    s.width = 320;
    s.height = 240;
    s.tile_height = 80;
    s.fps_num = 10;
    s.duration = 1;
    s.direction = GV_DIRECTION_ALTERNATE;
    s.crf = 0;
    s.plan = collect_line;
    s.plan_opaque = &dry;
    s.dry_run = 1;
    char out[300];
    in_top(out, sizeof(out), "dry.mp4");
    CHECK_INT(render(&s, out), 0);
    CHECK(access(out, F_OK) != 0); /* nothing written */
    s.dry_run = 0;
    s.plan_opaque = &real;
    CHECK_INT(render(&s, out), 0);
    CHECK(access(out, F_OK) == 0);
    CHECK(strcmp(dry.text, real.text) == 0);
    CHECK(strstr(dry.text, "inputs: 12 images used, 0 skipped") != NULL);
    CHECK(strstr(dry.text, "row 1: y 80, 4 images, period 320 px, travel 320.0 px, 320.0 px/s, right") != NULL);
    CHECK(strstr(dry.text, "encoder: libx264") != NULL);
    /* and the video shows that layout: row 1 starts at y 80 and holds
     * images 1 4 7 10 (column-major), one period across the frame */
    Video v;
    CHECK_INT(decode_video(out, &v), 0);
    CHECK_INT(v.frames, 10);
    CHECK_COLOUR(&v, 0, 40, 78, palette[0]);
    CHECK_COLOUR(&v, 0, 40, 81, palette[1]);
    CHECK_COLOUR(&v, 0, 120, 120, palette[4]);
    CHECK_COLOUR(&v, 0, 200, 120, palette[7]);
    CHECK_COLOUR(&v, 0, 280, 120, palette[10]);
    free_video(&v);
    printf("%s", dry.text);
    unlink(out);
}

int main(void)
{
    if (make_images(NCOL) < 0)
        return 1;
    test_default_stream();
    test_fractional_rate();
    test_pixels_rows();
    test_columns_and_gap();
    test_no_images();
    test_dry_run_matches_render();
    remove_all();
    CHECK(access(top, F_OK) != 0);
    return check_report("test_render");
}
