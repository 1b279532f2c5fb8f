/*
 * GPU JPEG decoding (GPU_DECODE): the JPEG engine (nvJPEG's hardware
 * backend, then the Lanczos-3 kernels of src/gpu/resample.cu) against
 * libvips, on generated photos: baseline and progressive, 4:2:0 and
 * 4:4:4, upright and with EXIF orientations 3, 6 and 8.
 *
 * Everywhere:
 * - gv_run() with GPU_DECODE=require fails with GV_ERR_GPU when there is
 *   no engine, and never leaves the output behind; auto renders with
 *   libvips (no file counted on the engine).
 * Where an engine opens (an A100/H100/H200 class GPU with libnvjpeg):
 * - the kernels' tile equals the CPU reference (gv_jpeg_engine_reference)
 *   of the same decoded pixels, byte for byte (the decoded pixels are read
 *   back through a job at scale 1, which Lanczos-3 leaves as they are);
 * - the engine's tile is within PSNR 40 dB of the libvips path's on every
 *   plane, and flat colours within one code value;
 * - progressive files are refused and decoded by libvips; a render with
 *   GPU_DECODE=require counts every baseline file on the engine.
 * Without an engine those parts print SKIP.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

#include "check.h"
#include "color.h"
#include "gpu/jpegengine.h"
#include "gridvid/gridvid.h"
#include "jpeginfo.h"
#include "tiles.h"

#define TILE_W 480
#define TILE_H 360

static void log_cb(void *opaque, GvLogLevel level, const char *msg)
{
    (void)opaque;
    static const char *const names[] = { "error", "warning", "info", "debug" };
    fprintf(stderr, "[%s] %s\n", names[level], msg);
}

static GvLog info_log = { log_cb, NULL, GV_LOG_INFO };

typedef struct Photo {
    const char *name;
    int w, h, orientation, progressive, subsample_444, flat;
} Photo;

static const Photo photos[] = {
    { "baseline.jpg", 2400, 1600, 1, 0, 0, 0 },
    { "portrait.jpg", 1500, 2200, 1, 0, 1, 0 },
    { "rot6.jpg", 2200, 1500, 6, 0, 0, 0 },
    { "rot3.jpg", 2000, 1400, 3, 0, 0, 0 },
    { "rot8.jpg", 1900, 1300, 8, 0, 1, 0 },
    { "flat.jpg", 1600, 1200, 1, 0, 0, 1 },
    { "progressive.jpg", 2400, 1600, 1, 1, 0, 0 },
};
#define N_PHOTOS (int)(sizeof(photos) / sizeof(photos[0]))

static uint32_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

/* Photo-like: smooth light, edges of shapes, and grain. */
static uint8_t *make_pixels(const Photo *p, uint64_t seed)
{
    uint8_t *const px = malloc((size_t)p->w * p->h * 3);
    for (int y = 0; px && y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            uint8_t *const o = px + ((size_t)y * p->w + x) * 3;
            if (p->flat) {
                o[0] = 200, o[1] = 90, o[2] = 40;
                continue;
            }
            const double fx = (double)x / p->w, fy = (double)y / p->h;
            const int disc = (fx - 0.6) * (fx - 0.6) + (fy - 0.4) * (fy - 0.4) < 0.04;
            const int bar = ((x / 97) % 5) == 0;
            const int grain = (int)(next_rand(&seed) % 17) - 8;
            const double r = 60 + 150 * fx + (disc ? 40 : 0) + grain;
            const double g = 40 + 120 * fy + 50 * sin(fx * 9) + (bar ? -30 : 0) + grain;
            const double b = 90 + 80 * (1 - fx) * fy + (disc ? -50 : 0) + grain;
            o[0] = (uint8_t)fmin(255, fmax(0, r));
            o[1] = (uint8_t)fmin(255, fmax(0, g));
            o[2] = (uint8_t)fmin(255, fmax(0, b));
        }
    return px;
}

/* Writes the photo as it is stored: a camera turned by orientation o
 * stores the upright scene turned back, so the upright views of all
 * files show the same kind of scene. */
static int write_photo(const char *dir, const Photo *p, uint64_t seed)
{
    uint8_t *const px = make_pixels(p, seed);
    if (!px)
        return -1;
    VipsImage *img = vips_image_new_from_memory(px, (size_t)p->w * p->h * 3, p->w, p->h, 3,
                                                VIPS_FORMAT_UCHAR);
    VipsImage *copy = NULL;
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, p->name);
    int ret = -1;
    if (img && !vips_copy(img, &copy, NULL)) {
        vips_image_set_int(copy, VIPS_META_ORIENTATION, p->orientation);
        ret = vips_jpegsave(copy, path, "Q", 92, "interlace", p->progressive,
                            "subsample_mode",
                            p->subsample_444 ? VIPS_FOREIGN_SUBSAMPLE_OFF
                                             : VIPS_FOREIGN_SUBSAMPLE_ON,
                            NULL);
    }
    if (copy)
        g_object_unref(copy);
    if (img)
        g_object_unref(img);
    free(px);
    return ret;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *const f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *const d = malloc(*len);
    if (d && fread(d, 1, *len, f) != *len) {
        free(d);
        fclose(f);
        return NULL;
    }
    fclose(f);
    return d;
}

static double psnr(const uint8_t *a, const uint8_t *b, size_t n, int *maxdiff)
{
    double se = 0;
    *maxdiff = 0;
    for (size_t i = 0; i < n; i++) {
        const int d = a[i] - b[i];
        se += (double)d * d;
        if (abs(d) > *maxdiff)
            *maxdiff = abs(d);
    }
    return se == 0 ? 99.0 : 10 * log10(255.0 * 255.0 * n / se);
}

static const GvTileSpec spec = { .w = TILE_W, .h = TILE_H, .crop = GV_CROP_CENTER,
                                 .background = { 0, 0, 0 }, .max_pixels = 200000000 };

/* One file through the engine: the tile, and the decoded crop at scale 1. */
static void check_file(GvJpegEngine *e, const char *dir, const Photo *p)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, p->name);
    size_t len = 0;
    uint8_t *const data = read_all(path, &len);
    GvJpegInfo info;
    CHECK(data && gv_jpeg_info(data, len, &info) == 0);
    if (!data)
        return;
    CHECK_INT(info.orientation, p->orientation);
    const char *why = NULL;
    const int ok = gv_jpeg_engine_ok(&info, 0, &why);
    CHECK_INT(ok, !p->progressive);
    const int o = info.orientation;
    const int uw = o >= 5 ? info.height : info.width, uh = o >= 5 ? info.width : info.height;
    int rect[4];
    CHECK_INT(gv_tile_crop_rect(uw, uh, &spec, rect), 0);
    uint8_t *const rgb = malloc((size_t)TILE_W * TILE_H * 3);
    uint8_t *const full = malloc((size_t)rect[2] * rect[3] * 3);
    uint8_t *const ref = malloc((size_t)TILE_W * TILE_H * 3);
    GvTile *eng = gv_tile_alloc(TILE_W, TILE_H), *conv = gv_tile_alloc(TILE_W, TILE_H);
    const GvJpegJob job = { .data = data, .len = len, .width = info.width, .height = info.height,
                            .orientation = o, .crop_x = rect[0], .crop_y = rect[1],
                            .crop_w = rect[2], .crop_h = rect[3], .dw = TILE_W, .dh = TILE_H };
    GvJpegJob jobs[3] = { job, job, job };
    jobs[0].out = rgb;
    jobs[1].dw = rect[2];
    jobs[1].dh = rect[3];
    jobs[1].out = full;
    jobs[2].planes = 1;
    jobs[2].out = eng->y;
    CHECK_INT(gv_jpeg_engine_run(e, jobs, 3), 0);
    if (!ok) {
        /* the engine's own check refuses what the header check refuses */
        CHECK(jobs[0].status < 0);
        goto end;
    }
    CHECK_INT(jobs[0].status, 0);
    CHECK_INT(jobs[1].status, 0);
    CHECK_INT(jobs[2].status, 0);
    if (jobs[0].status || jobs[1].status || jobs[2].status)
        goto end;
    CHECK_INT(gv_jpeg_engine_reference(full, rect[2], rect[3], 1, 0, 0, rect[2], rect[3], ref,
                                       TILE_W, TILE_H),
              0);
    int maxdiff;
    psnr(rgb, ref, (size_t)TILE_W * TILE_H * 3, &maxdiff);
    printf("%s: kernel against the CPU reference: max difference %d\n", p->name, maxdiff);
    CHECK_INT(maxdiff, 0);
    /* the kernel's Y'CbCr planes are gv_rgb_to_yuv_n()'s */
    const size_t n = (size_t)TILE_W * TILE_H;
    gv_rgb_to_yuv_n(rgb, n, conv->y, conv->u, conv->v);
    psnr(conv->y, eng->y, 3 * n, &maxdiff);
    printf("%s: kernel Y'CbCr against gv_rgb_to_yuv_n: max difference %d\n", p->name, maxdiff);
    CHECK_INT(maxdiff, 0);

    GvTile *vips = NULL;
    char reason[256] = "";
    CHECK_INT(gv_tile_load(path, &spec, &vips, reason, sizeof(reason)), 0);
    if (vips) {
        int dy, du, dv;
        const double py = psnr(vips->y, eng->y, n, &dy), pu = psnr(vips->u, eng->u, n, &du),
                     pv = psnr(vips->v, eng->v, n, &dv);
        printf("%s: engine against libvips: PSNR Y %.1f dB, Cb %.1f dB, Cr %.1f dB "
               "(max differences %d %d %d)\n", p->name, py, pu, pv, dy, du, dv);
        CHECK(py >= 40 && pu >= 40 && pv >= 40);
        if (p->flat)
            CHECK(dy <= 1 && du <= 1 && dv <= 1);
    }
    gv_tile_free(&vips);
end:
    gv_tile_free(&eng);
    gv_tile_free(&conv);
    free(data);
    free(rgb);
    free(full);
    free(ref);
}

/* A render of the folder: GPU_DECODE=mode; returns gv_run()'s result. */
static int render(const char *dir, const char *out, GvGpuMode mode, GvSummary *sum)
{
    GvSettings s;
    gv_default_settings(&s);
    const char *inputs[] = { dir };
    s.inputs = inputs;
    s.n_inputs = 1;
    s.output = out;
    s.duration = 1;
    s.width = 640;
    s.height = 360;
    s.tile_height = 180;
    s.gpu = GV_GPU_FALSE;
    s.gpu_decode = mode;
    s.log = log_cb;
    s.log_level = GV_LOG_WARNING;
    GvContext *ctx = NULL;
    int ret = gv_open(&ctx, &s);
    if (ret == 0)
        ret = gv_run(ctx);
    gv_get_summary(ctx, sum);
    gv_close(&ctx);
    return ret;
}

int main(void)
{
    /* the renders' files all wait for the engine, the first frames' too */
    setenv("GV_TEST_ENGINE_WAIT", "1", 1);
    if (VIPS_INIT("test_engine"))
        return 1;
    const char *const tmp = getenv("TMPDIR");
    char tdir[4096];
    snprintf(tdir, sizeof(tdir), "%s/gv-engine-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *const top = mkdtemp(tdir);
    CHECK(top != NULL);
    if (!top)
        return check_report("engine");
    char photos_dir[4200], out[4300];
    snprintf(photos_dir, sizeof(photos_dir), "%s/photos", top);
    snprintf(out, sizeof(out), "%s/wall.mp4", top);
    CHECK(mkdir(photos_dir, 0755) == 0);
    for (int i = 0; i < N_PHOTOS; i++)
        CHECK_INT(write_photo(photos_dir, &photos[i], 0x9e3779b97f4a7c15ull + (uint64_t)i), 0);

    GvJpegEngine *e = NULL;
    const GvJpegEngineConfig cfg = { .memory_bytes = 256 << 20, .max_batch = 8, .log = &info_log };
    const int open = gv_jpeg_engine_open(&e, &cfg);
    CHECK(open == 0 || open == -ENODEV);

    GvSummary sum;
    const int req = render(photos_dir, out, GV_GPU_REQUIRE, &sum);
    struct stat st;
    if (open < 0) {
        printf("no JPEG engine here: require must fail\n");
        CHECK_INT(req, GV_ERR_GPU);
        CHECK(stat(out, &st) != 0);
        CHECK_INT(render(photos_dir, out, GV_GPU_AUTO, &sum), 0);
        CHECK_INT(sum.tiles_engine, 0);
        CHECK_INT(sum.images_used, N_PHOTOS);
        printf("SKIP: engine checks (no JPEG engine)\n");
    } else {
        printf("JPEG engine on %s\n", gv_jpeg_engine_device(e));
        for (int i = 0; i < N_PHOTOS; i++)
            check_file(e, photos_dir, &photos[i]);
        CHECK_INT(req, 0);
        CHECK_INT(sum.tiles_engine, N_PHOTOS - 1);
        CHECK_INT(sum.tiles_engine_refused, 1);
        CHECK(stat(out, &st) == 0 && st.st_size > 0);
        gv_jpeg_engine_close(&e);
    }

    /* Openings that end at once (no CUDA here, or a fast failure) while
     * the set is still starting its threads: waiting must not hang (an
     * alarm ends the test if it does). */
    alarm(120);
    static const GvLog quiet_log = { log_cb, NULL, GV_LOG_ERROR };
    GvJpegEngineConfig quiet = cfg;
    quiet.log = &quiet_log;
    for (int round = 0; round < 200 && open < 0; round++) {
        GvJpegEngineSet *quick = NULL;
        CHECK_INT(gv_jpeg_engines_start(&quick, &quiet, GV_JPEG_ENGINES_MAX), 0);
        GvJpegEngine *all[GV_JPEG_ENGINES_MAX];
        CHECK_INT(gv_jpeg_engines_wait(quick, all), GV_JPEG_ENGINES_MAX);
        for (int k = 0; k < GV_JPEG_ENGINES_MAX; k++)
            CHECK(all[k] == NULL);
        gv_jpeg_engines_close(&quick);
    }
    alarm(0);

    /* A set of three: the first opens nvJPEG, the others share its handle
     * with states of their own; each decodes as the single engine did, the
     * later ones while the first is in use. */
    GvJpegEngineSet *set = NULL;
    CHECK_INT(gv_jpeg_engines_start(&set, &cfg, 3), 0);
    if (set) {
        GvJpegEngine *first = gv_jpeg_engines_get(set, 0);
        CHECK((first != NULL) == (open == 0));
        for (int k = 1; k < 3; k++) {
            GvJpegEngine *const other = gv_jpeg_engines_get(set, k);
            CHECK((other != NULL) == (open == 0));
            if (!other)
                continue;
            CHECK(other != first);
            CHECK(!strcmp(gv_jpeg_engine_device(other), gv_jpeg_engine_device(first)));
            for (int i = 0; i < N_PHOTOS; i++)
                check_file(other, photos_dir, &photos[i]);
        }
        CHECK(gv_jpeg_engines_get(set, 3) == NULL);
        if (first)
            check_file(first, photos_dir, &photos[0]);
        gv_jpeg_engines_close(&set);
        CHECK(set == NULL);
    }
    for (int i = 0; i < N_PHOTOS; i++) {
        char p[4400];
        snprintf(p, sizeof(p), "%s/%s", photos_dir, photos[i].name);
        unlink(p);
    }
    unlink(out);
    rmdir(photos_dir);
    rmdir(top);
    vips_shutdown();
    return check_report("engine");
}
