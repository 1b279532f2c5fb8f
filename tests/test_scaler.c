/*
 * The GPU tile scaler against its CPU reference, gv_resample(): random
 * and smooth sources, RGB and RGBA (flattened over a background), shrink
 * factors from 1.1 to 12, enlarging, one-pixel and odd sizes, and four
 * threads scaling at once through the scaler's two slots. Both run the
 * same float operations in the same order (the shader's sums are
 * `precise`), so the expected difference is 0; TOL = 1 leaves room for a
 * driver that fuses a multiply-add anyway. Then the refusals: an image
 * over the memory limit (-E2BIG) and bad arguments (-EINVAL).
 *
 * GV_SCALER_BENCH=1 adds the measurement behind GV_GPU_SCALE_MIN_RATIO:
 * whole tiles from photo-like PNGs, prepared by gv_tile_load_buffer()
 * with and without the scaler, CPU time (of the process: libvips' and the
 * driver's threads count) and wall time per tile.
 *
 * The device: GV_TEST_GPU_DEVICE (default "llvmpipe"), else any GPU;
 * without one the test prints SKIP and exits 77.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <vips/vips.h>

#include "check.h"
#include "gpu/scaler.h"
#include "resample.h"
#include "tiles.h"

#define TOL 1

static void log_cb(void *opaque, GvLogLevel level, const char *msg)
{
    (void)opaque;
    static const char *const names[] = { "error", "warning", "info", "debug" };
    fprintf(stderr, "[%s] %s\n", names[level], msg);
}

static GvLog info_log = { log_cb, NULL, GV_LOG_INFO };

static uint32_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

/* noise (kind 0), a smooth gradient with grain (1), or flat (2) */
static uint8_t *make_image(int w, int h, int bands, int kind, uint64_t seed)
{
    uint8_t *const p = malloc((size_t)w * h * bands);
    if (!p)
        return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < bands; c++) {
                const uint32_t r = next_rand(&seed);
                int v;
                if (kind == 0)
                    v = (int)(r & 255);
                else if (kind == 1)
                    v = (x * 255 / (w > 1 ? w - 1 : 1) + y * 97 / (h > 1 ? h : 1) * (c + 1) +
                         (int)(r % 9) - 4) & 255;
                else
                    v = c == 3 ? 128 : 40 + 60 * c;
                p[((size_t)y * w + x) * bands + c] = (uint8_t)v;
            }
    return p;
}

static int max_seen;

/* Scales one case both ways; returns the largest difference, or -1. */
static int compare(GvScaler *sc, int sw, int sh, int bands, int dw, int dh, int kind,
                   uint64_t seed)
{
    static const uint8_t bg[3] = { 10, 200, 77 };
    uint8_t *const src = make_image(sw, sh, bands, kind, seed);
    uint8_t *const want = malloc((size_t)dw * dh * 3), *const got = malloc((size_t)dw * dh * 3);
    int diff = -1;
    if (src && want && got && gv_resample(src, sw, sh, bands, bg, want, dw, dh) == 0) {
        const int ret = gv_scaler_run(sc, src, sw, sh, bands, bg, got, dw, dh);
        if (ret != 0) {
            fprintf(stderr, "%dx%dx%d -> %dx%d: gv_scaler_run returned %d\n", sw, sh, bands, dw,
                    dh, ret);
        } else {
            diff = 0;
            for (size_t i = 0; i < (size_t)dw * dh * 3; i++) {
                const int d = abs(want[i] - got[i]);
                diff = d > diff ? d : diff;
            }
            if (kind == 2) {
                /* flat stays exact: over bg by alpha 128 where RGBA */
                for (int c = 0; c < 3; c++) {
                    const int v = bands == 4 ? gv_flatten_px(40 + 60 * c, 128, bg[c]) : 40 + 60 * c;
                    CHECK_INT(got[c], v);
                    CHECK_INT(got[(size_t)dw * dh * 3 - 3 + c], v);
                }
            }
        }
    }
    free(src);
    free(want);
    free(got);
    return diff;
}

typedef struct Case {
    int sw, sh, bands, dw, dh, kind;
} Case;

static const Case cases[] = {
    { 1600, 1200, 3, 360, 360, 1 }, { 1600, 1200, 4, 360, 360, 1 }, { 1203, 907, 3, 301, 199, 0 },
    { 1203, 907, 4, 301, 199, 0 },  { 4000, 100, 3, 400, 60, 0 },   { 100, 4000, 4, 30, 333, 0 },
    { 800, 450, 3, 720, 405, 1 },   { 90, 60, 3, 150, 100, 0 },     { 7, 5, 4, 3, 2, 0 },
    { 1, 1, 3, 4, 4, 0 },           { 5, 1, 3, 1, 1, 0 },           { 640, 480, 4, 64, 48, 2 },
    { 641, 479, 3, 64, 48, 2 },     { 3000, 2000, 3, 250, 250, 1 }, { 333, 333, 4, 333, 333, 0 },
};

static void test_cases(GvScaler *sc)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *const c = &cases[i];
        const int d = compare(sc, c->sw, c->sh, c->bands, c->dw, c->dh, c->kind, 1000 + i);
        CHECK(d >= 0 && d <= TOL);
        if (d > max_seen)
            max_seen = d;
    }
}

typedef struct Worker {
    GvScaler *sc;
    int index, worst;
} Worker;

static void *worker_main(void *arg)
{
    Worker *const w = arg;
    w->worst = 0;
    for (int i = 0; i < 6; i++) {
        const int sw = 500 + 37 * w->index + 11 * i, sh = 400 + 13 * i;
        const int d = compare(w->sc, sw, sh, 3 + (i & 1), 120 + i, 90 + w->index, i % 2,
                              (uint64_t)(77 + 10 * w->index + i));
        if (d < 0 || d > w->worst)
            w->worst = d < 0 ? 1000 : d;
    }
    return NULL;
}

static void test_threads(GvScaler *sc)
{
    Worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (Worker){ .sc = sc, .index = i };
        CHECK_INT(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].worst <= TOL);
        if (w[i].worst > max_seen && w[i].worst <= 255)
            max_seen = w[i].worst;
    }
}

static void test_refusals(const char *device)
{
    GvScaler *small = NULL;
    CHECK_INT(gv_scaler_open(&small, &(GvScalerConfig){ device, 2 << 20, 1, 3, &info_log }), 0);
    if (!small)
        return;
    uint8_t *const src = make_image(1000, 1000, 3, 0, 5);
    uint8_t dst[64 * 64 * 3];
    static const uint8_t bg[3] = { 0, 0, 0 };
    /* 3 MB of source alone is over a 1 MiB slot */
    CHECK_INT(gv_scaler_run(small, src, 1000, 1000, 3, bg, dst, 64, 64), -E2BIG);
    CHECK_INT(gv_scaler_run(small, src, 100, 100, 2, bg, dst, 64, 64), -EINVAL);
    CHECK_INT(gv_scaler_run(small, src, 100, 100, 4, NULL, dst, 64, 64), -EINVAL);
    CHECK_INT(gv_scaler_run(small, src, 0, 100, 3, bg, dst, 64, 64), -EINVAL);
    /* a small one still goes through */
    CHECK_INT(gv_scaler_run(small, src, 100, 100, 3, bg, dst, 64, 64), 0);
    CHECK_INT(gv_scaler_count(small), 1);
    /* the test switch fails the third call that reached a slot (the
     * refused one counts), and the scaler stays closed to later calls */
    CHECK_INT(gv_scaler_run(small, src, 100, 100, 3, bg, dst, 64, 64), GV_ERR_GPU);
    CHECK_INT(gv_scaler_run(small, src, 100, 100, 3, bg, dst, 64, 64), -ENODEV);
    CHECK_INT(gv_scaler_count(small), 1);
    free(src);
    gv_scaler_close(&small);
    CHECK(small == NULL);
    CHECK_INT(gv_scaler_run(NULL, dst, 1, 1, 3, bg, dst, 1, 1), -ENODEV);
}

/* ---- measurement ---- */

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A PNG with a photo's structure: gradients, edges and grain. */
static void *make_png(int w, int h, int bands, size_t *len)
{
    uint8_t *const px = make_image(w, h, bands, 1, 42);
    if (!px)
        return NULL;
    uint64_t seed = 9;
    for (int i = 0; i < 400; i++) {
        const int x0 = (int)(next_rand(&seed) % (uint32_t)w), y0 = (int)(next_rand(&seed) % (uint32_t)h);
        const int bw = 20 + (int)(next_rand(&seed) % 200), bh = 20 + (int)(next_rand(&seed) % 200);
        const uint8_t v = (uint8_t)next_rand(&seed);
        for (int y = y0; y < y0 + bh && y < h; y++)
            for (int x = x0; x < x0 + bw && x < w; x++)
                px[((size_t)y * w + x) * bands] = v;
    }
    VipsImage *const img = vips_image_new_from_memory(px, (size_t)w * h * bands, w, h, bands,
                                                      VIPS_FORMAT_UCHAR);
    void *buf = NULL;
    if (img && vips_pngsave_buffer(img, &buf, len, NULL))
        buf = NULL;
    if (img)
        g_object_unref(img);
    free(px);
    return buf;
}

static void bench(GvScaler *sc)
{
    static const struct { int sw, sh, bands, tw, th; } b[] = {
        { 4000, 3000, 3, 360, 360 }, { 4000, 3000, 3, 720, 720 }, { 4000, 3000, 4, 360, 360 },
        { 2000, 1500, 3, 360, 360 }, { 1000, 750, 3, 640, 360 },  { 800, 600, 3, 540, 540 },
    };
    printf("per tile, from PNG (CPU s of the process / wall s):\n");
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
        size_t len = 0;
        void *const png = make_png(b[i].sw, b[i].sh, b[i].bands, &len);
        if (!png)
            continue;
        double cpu[2], wall[2];
        const int reps = 4;
        for (int gpu = 0; gpu < 2; gpu++) {
            GvTileSpec spec = { .w = b[i].tw, .h = b[i].th, .crop = GV_CROP_CENTER,
                                .max_pixels = 200000000, .scaler = gpu ? sc : NULL,
                                .gpu_min_ratio = 0.01 };
            GvTile *t = NULL;
            char reason[256];
            /* one untimed: the scaler's buffers grow on first use */
            if (gv_tile_load_buffer(png, len, &spec, &t, reason, sizeof(reason)) == 0)
                gv_tile_free(&t);
            const double c0 = cpu_s(), w0 = wall_s();
            for (int r = 0; r < reps; r++)
                if (gv_tile_load_buffer(png, len, &spec, &t, reason, sizeof(reason)) == 0)
                    gv_tile_free(&t);
            cpu[gpu] = (cpu_s() - c0) / reps;
            wall[gpu] = (wall_s() - w0) / reps;
        }
        const double ratio = (double)b[i].sw * b[i].sh / ((double)b[i].tw * b[i].th);
        printf("  %dx%d %s -> %dx%d (%.1fx the tile's pixels): cpu %.4f / %.4f, gpu %.4f / %.4f,"
               " CPU time %.2fx\n",
               b[i].sw, b[i].sh, b[i].bands == 4 ? "RGBA" : "RGB", b[i].tw, b[i].th, ratio,
               cpu[0], wall[0], cpu[1], wall[1], cpu[0] > 0 ? cpu[1] / cpu[0] : 0);
        g_free(png);
    }
}

int main(void)
{
    const char *device = getenv("GV_TEST_GPU_DEVICE");
    if (!device)
        device = "llvmpipe";
    if (!*device)
        device = NULL;
    if (gv_tiles_init() < 0)
        return 1;
    GvScaler *sc = NULL;
    int ret = gv_scaler_open(&sc, &(GvScalerConfig){ device, 512 << 20, 1, 0, &info_log });
    if (ret == -ENODEV && device) {
        printf("no Vulkan device named like \"%s\": trying any GPU\n", device);
        device = NULL;
        ret = gv_scaler_open(&sc, &(GvScalerConfig){ device, 512 << 20, 1, 0, &info_log });
    }
    if (ret == -ENODEV) {
        printf("SKIP: no Vulkan device (or built without Vulkan)\n");
        return 77;
    }
    CHECK_INT(ret, 0);
    if (!sc)
        return check_report("scaler");
    test_cases(sc);
    test_threads(sc);
    CHECK(gv_scaler_count(sc) == (int)(sizeof(cases) / sizeof(cases[0])) + 24);
    printf("%d scalings, max difference %d (tolerance %d)\n", gv_scaler_count(sc), max_seen, TOL);
    test_refusals(device);
    if (getenv("GV_SCALER_BENCH"))
        bench(sc);
    gv_scaler_close(&sc);
    return check_report("scaler");
}
