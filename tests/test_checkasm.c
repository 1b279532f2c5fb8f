/*
 * checkasm for the compositors, in the spirit of dav1d's: the Vulkan
 * backend renders the same frames as the CPU reference (gv_cpu_render)
 * from random tiles over many layouts (rows and columns, every direction
 * and easing, gaps with a background colour, motion blur 1, 2 and 8, odd
 * lane positions, fewer images than lanes, rows shorter than the frame,
 * small frames) and no sample may differ by more than TOL. Both follow the
 * integer contract of compositor.h, so the expected difference is 0; TOL
 * = 1 leaves room for nothing but a rounding slip and is reported as such.
 * Then the test-only failure switch.
 *
 * A timing of both runs only when asked for, as checkasm's --bench: with
 * the argument --bench (640x360, motion blur 4, 24 frames), or with
 * GV_CHECKASM_BENCH=WxH[:BLUR[:FRAMES]] (docs/PERFORMANCE.md), which also
 * sets the size of a --bench run. GV_CHECKASM_BENCH empty or 0 asks for
 * nothing; a value of another form is a failure.
 *
 * The device: GV_TEST_GPU_DEVICE (default "llvmpipe", the software driver
 * that CI has), else any GPU. Without a Vulkan loader or device, or in a
 * build without Vulkan, the test prints SKIP and exits 77.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "layout.h"
#include "render/compositor.h"
#include "view.h"

#define TOL 1
#define MAX_DEPTH 8

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static int rnd_in(int lo, int hi)
{
    return lo + (int)(rnd() % (uint32_t)(hi - lo + 1));
}

static const char *device;
static int max_diff_seen;
static int verbose;

static void log_cb(void *opaque, GvLogLevel level, const char *msg)
{
    (void)opaque;
    static const char *const names[] = { "error", "warning", "info", "debug" };
    fprintf(stderr, "[%s] %s\n", names[level], msg);
}

static GvLog quiet_log = { log_cb, NULL, GV_LOG_WARNING };
static GvLog info_log = { log_cb, NULL, GV_LOG_INFO };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct Pic {
    GvPicture pic;
    uint8_t *buf;
} Pic;

/* Padded strides, so that a backend that assumes linesize == width shows. */
static int pic_alloc(Pic *p, int w, int h)
{
    const int ly = w + 32, lc = w / 2 + 16;
    p->buf = malloc((size_t)ly * h + 2 * (size_t)lc * (h / 2));
    if (!p->buf)
        return -ENOMEM;
    memset(p->buf, 0xA5, (size_t)ly * h + 2 * (size_t)lc * (h / 2));
    p->pic = (GvPicture){ .width = w, .height = h };
    p->pic.data[0] = p->buf;
    p->pic.data[1] = p->buf + (size_t)ly * h;
    p->pic.data[2] = p->pic.data[1] + (size_t)lc * (h / 2);
    p->pic.linesize[0] = ly;
    p->pic.linesize[1] = lc;
    p->pic.linesize[2] = lc;
    return 0;
}

static void pic_free(Pic *p)
{
    free(p->buf);
    p->buf = NULL;
}

/*
 * Largest difference between two pictures; reports the first sample over
 * TOL. The padding of b's lines (pic_alloc's 0xA5) must be left alone.
 */
static int compare(const GvPicture *a, const GvPicture *b, const char *what, int64_t frame)
{
    int worst = 0, reported = 0;
    for (int plane = 0; plane < 3; plane++) {
        const int w = plane ? a->width / 2 : a->width, h = plane ? a->height / 2 : a->height;
        for (int y = 0; y < h; y++) {
            int padding_ok = 1;
            for (int x = w; x < b->linesize[plane]; x++)
                padding_ok &= b->data[plane][(size_t)y * b->linesize[plane] + x] == 0xA5;
            if (!padding_ok && !reported) {
                fprintf(stderr, "%s frame %lld: plane %d line %d: written past the width\n",
                        what, (long long)frame, plane, y);
                reported = 1;
                worst = 255;
            }
            for (int x = 0; x < w; x++) {
                const int va = a->data[plane][(size_t)y * a->linesize[plane] + x];
                const int vb = b->data[plane][(size_t)y * b->linesize[plane] + x];
                const int d = abs(va - vb);
                if (d > worst)
                    worst = d;
                if (d > TOL && !reported) {
                    fprintf(stderr, "%s frame %lld: plane %d (%d, %d): vulkan %d, cpu %d\n", what,
                            (long long)frame, plane, x, y, vb, va);
                    reported = 1;
                }
            }
        }
    }
    return worst;
}

typedef struct Residency {
    const GvCompositorOps *ops;
    void *priv;
    GvTile **tiles;
    int *refs; /* in-flight frames (and the one being submitted) showing image k */
    int err;
} Residency;

static void acquire(void *opaque, int k)
{
    Residency *const r = opaque;
    if (r->refs[k]++ == 0 && !r->err)
        r->err = r->ops->tile_add(r->priv, k, r->tiles[k]);
}

static void release(void *opaque, int k)
{
    Residency *const r = opaque;
    if (--r->refs[k] == 0)
        r->ops->tile_remove(r->priv, k);
}

/*
 * Renders `frames` with the Vulkan backend, keeping its ring full and
 * adding each tile when a frame first needs it and removing it when no
 * frame in flight shows it (as the pipeline does), and compares every
 * frame with the CPU reference. Returns the largest difference, or -1.
 */
static int run_frames(const GvLayout *l, const uint8_t bg[3], GvTile **tiles,
                      const int64_t *frames, int n_frames, int staged, const char *what)
{
    const GvCompositorOps *const ops = gv_compositor_vulkan;
    const int w = l->p.width, h = l->p.height;
    const int depth = ops->depth < MAX_DEPTH ? ops->depth : MAX_DEPTH;
    GvCompositorConfig cfg = {
        .layout = l,
        .threads = 4, /* the backend may copy large frames out in bands */
        .gpu_device = device,
        .gpu_memory_bytes = 256 << 20,
        .fail_at_frame = -1,
        .force_staging = staged,
        .log = &quiet_log,
    };
    memcpy(cfg.bg_yuv, bg, 3);
    void *priv = NULL;
    int worst = -1, ret;
    Pic pics[MAX_DEPTH] = { { { 0 }, NULL } }, ref = { { 0 }, NULL };
    int64_t in_flight[MAX_DEPTH];
    int head = 0, count = 0;
    GvOffset *const offs = malloc(sizeof(*offs) * (size_t)l->n_lanes * (size_t)l->p.motion_blur);
    Residency res = { ops, NULL, tiles, calloc((size_t)l->p.n_images + 1, sizeof(int)), 0 };
    if (!offs || !res.refs || pic_alloc(&ref, w, h) < 0)
        goto end;
    for (int i = 0; i < depth; i++)
        if (pic_alloc(&pics[i], w, h) < 0)
            goto end;
    if ((ret = ops->open(&priv, &cfg)) < 0) {
        fprintf(stderr, "%s: open failed (%d)\n", what, ret);
        goto end;
    }
    res.priv = priv;
    worst = 0;
    for (int i = 0, acquired = -1; i < n_frames || count > 0;) {
        if (i < n_frames && acquired != i) {
            /* tiles for the next frame may go in while the ring is full */
            gv_frame_images(l, frames[i], acquire, &res);
            CHECK_INT(res.err, 0);
            acquired = i;
        }
        if (i < n_frames && count < depth) {
            Pic *const p = &pics[(head + count) % depth];
            ret = ops->submit(priv, frames[i], &p->pic);
            CHECK_INT(ret, 0);
            in_flight[(head + count) % depth] = frames[i];
            count++;
            i++;
            if (ret < 0 || res.err) {
                worst = -1;
                goto end;
            }
            continue;
        }
        ret = ops->wait(priv);
        CHECK_INT(ret, 0);
        if (ret < 0) {
            worst = -1;
            goto end;
        }
        const int64_t f = in_flight[head];
        gv_frame_offsets(l, f, offs);
        gv_cpu_render(l, bg, (const GvTile *const *)tiles, offs, &ref.pic, 0, h);
        const int d = compare(&ref.pic, &pics[head].pic, what, f);
        CHECK(d <= TOL);
        if (d > worst)
            worst = d;
        gv_frame_images(l, f, release, &res);
        head = (head + 1) % depth;
        count--;
    }
end:
    if (priv)
        ops->close(&priv);
    CHECK(priv == NULL);
    for (int i = 0; i < MAX_DEPTH; i++)
        pic_free(&pics[i]);
    pic_free(&ref);
    free(offs);
    free(res.refs);
    return worst;
}

static GvTile **random_tiles(int n, int tw, int th)
{
    GvTile **const t = calloc((size_t)n + 1, sizeof(*t));
    for (int k = 0; t && k < n; k++) {
        t[k] = gv_tile_alloc(tw, th);
        if (!t[k])
            continue;
        const size_t plane = (size_t)tw * th;
        /* noise over the full range, with 0 and 255 sprinkled in */
        for (size_t i = 0; i < 3 * plane; i++)
            t[k]->y[i] = (uint8_t)(i % 97 == 0 ? 255 : i % 89 == 0 ? 0 : rnd());
    }
    return t;
}

static void free_tiles(GvTile **t, int n)
{
    for (int k = 0; t && k < n; k++)
        gv_tile_free(&t[k]);
    free(t);
}

static const char *const kind_names[] = { "rows", "columns" };
static const char *const dir_names[] = { "left", "right", "alternate" };
static const char *const ease_names[] = { "linear", "ease-in-out", "ease-in", "ease-out" };

static int n_cases, staged_cases;

/*
 * Renders the ends, the middle (fractional offsets nearly everywhere) and
 * two random frames of layout l, in order as a video goes, with jumps,
 * every other case through the staging path that discrete GPUs use, and
 * checks them against the CPU reference.
 */
static void run_case(const GvLayout *l, const uint8_t bg[3], GvTile **tiles, const char *what)
{
    int64_t frames[10];
    int n = 0;
    const int64_t F = l->frames;
    const int64_t cand[] = { 0, 1, F / 3, F / 2, F / 2 + 1, (2 * F) / 3, F - 1 };
    for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
        if (cand[i] >= 0 && cand[i] < F && (n == 0 || cand[i] > frames[n - 1]))
            frames[n++] = cand[i];
    for (int i = 0; i < 2; i++)
        frames[n++] = (int64_t)(rnd() % (uint32_t)F);
    const int staged = n_cases++ & 1;
    staged_cases += staged;
    const int d = run_frames(l, bg, tiles, frames, n, staged, what);
    if (verbose)
        printf("%s%s: max diff %d\n", what, staged ? " (staged)" : "", d);
    if (d > max_diff_seen)
        max_diff_seen = d;
    CHECK(d >= 0);
}

static void check_case(const GvLayoutParams *p, const uint8_t bg[3])
{
    GvLayout l;
    char what[256];
    snprintf(what, sizeof(what),
             "%s %dx%d tile %dx%d gap %d lanes %d images %d %s %s blur %d speed %g fps %d/%d",
             kind_names[p->kind], p->width, p->height, p->tile_w, p->tile_h, p->gap, p->lanes,
             p->n_images, dir_names[p->direction], ease_names[p->easing], p->motion_blur,
             p->speed, p->fps_num, p->fps_den);
    if (gv_layout_init(&l, p) < 0) {
        fprintf(stderr, "%s: layout refused\n", what);
        CHECK(0);
        gv_layout_free(&l);
        return;
    }
    GvTile **const tiles = random_tiles(p->n_images, p->tile_w, p->tile_h);
    CHECK(tiles != NULL);

    run_case(&l, bg, tiles, what);
    free_tiles(tiles, p->n_images);
    gv_layout_free(&l);
}

static GvLayoutParams random_params(GvLayoutKind kind, GvDirection dir, GvEasing ease, int gap,
                                    int blur)
{
    static const int sizes[][2] = { { 64, 48 }, { 96, 64 }, { 128, 72 }, { 160, 120 },
                                    { 200, 150 }, { 320, 240 }, { 48, 96 }, { 90, 160 } };
    const int s = rnd_in(0, sizeof(sizes) / sizeof(sizes[0]) - 1);
    GvLayoutParams p = {
        .width = sizes[s][0],
        .height = sizes[s][1],
        .kind = kind,
        .tile_h = rnd_in(9, 41),
        .gap = gap,
        .n_images = rnd_in(1, 30),
        .direction = dir,
        .easing = ease,
        .duration = rnd_in(5, 30) / 10.0,
        .fps_num = rnd_in(5, 30),
        .fps_den = 1,
        .motion_blur = blur,
    };
    p.tile_w = gv_tile_width(p.tile_h, rnd_in(1, 4), rnd_in(1, 3));
    if (p.tile_w < 2)
        p.tile_w = 2;
    if (rnd() % 4 == 0)
        p.lanes = rnd_in(1, 6); /* may be fewer or more than fill the frame */
    if (rnd() % 4 == 0)
        p.speed = rnd_in(1, 400) + 0.37;
    if (rnd() % 3 == 0) {
        p.fps_num = 30000;
        p.fps_den = 1001;
        p.duration = 0.2 + rnd_in(0, 10) / 10.0;
    }
    return p;
}

/*
 * The view path (src/view.h): random Ken Burns zooms and cameras over
 * random layouts, motion blur included; tiles at the view's source size.
 */
static void check_view_case(GvLayoutParams p, const GvViewParams *vp, const uint8_t bg[3])
{
    GvView v;
    GvLayout l;
    char what[320];
    snprintf(what, sizeof(what),
             "view %s %dx%d tile %dx%d gap %d images %d %s %s blur %d, ken burns %g, camera %d "
             "tilt %g turn %g fov %g distance %g fade %g",
             kind_names[p.kind], p.width, p.height, p.tile_w, p.tile_h, p.gap, p.n_images,
             dir_names[p.direction], ease_names[p.easing], p.motion_blur, vp->ken_burns,
             vp->camera, vp->tilt, vp->turn, vp->fov, vp->distance, vp->depth_fade);
    if (gv_view_init(&v, vp) < 0) {
        fprintf(stderr, "%s: view refused\n", what);
        CHECK(0);
        gv_view_free(&v);
        return;
    }
    p.view_cross = gv_view_cross(&v, p.kind == GV_LAYOUT_ROWS ? p.tile_h : p.tile_w, p.gap);
    if (gv_layout_init(&l, &p) < 0) {
        fprintf(stderr, "%s: layout refused\n", what);
        CHECK(0);
        gv_layout_free(&l);
        gv_view_free(&v);
        return;
    }
    gv_view_attach(&v, &l);
    GvTile **const tiles = random_tiles(p.n_images, v.src_w, v.src_h);
    CHECK(tiles != NULL);
    /* points of interest and panoramas, as tile preparation finds them */
    static const float aspects[] = { 0, 1, 2.5f, 0.4f, 1.4f };
    for (int k = 0; tiles && k < p.n_images; k++)
        if (tiles[k]) {
            tiles[k]->aspect = aspects[rnd() % 5];
            if (rnd() % 2) {
                tiles[k]->focus_x = (float)(rnd() % 1001) / 1000;
                tiles[k]->focus_y = (float)(rnd() % 1001) / 1000;
            }
        }
    run_case(&l, bg, tiles, what);
    free_tiles(tiles, p.n_images);
    gv_layout_free(&l);
    gv_view_free(&v);
}

static void test_view_combinations(void)
{
    static const int blurs[] = { 1, 2, 4 };
    static const GvCrop crops[] = { GV_CROP_CENTER, GV_CROP_TOP, GV_CROP_RIGHT };
    for (int i = 0; i < 36; i++) {
        const GvLayoutKind kind = (GvLayoutKind)(i & 1);
        GvLayoutParams p = random_params(kind, (GvDirection)(i % 3), (GvEasing)(i % 4),
                                         i % 5 == 0 ? rnd_in(1, 6) : 0, blurs[i % 3]);
        p.lanes = 0;
        GvViewParams vp = {
            .width = p.width,
            .height = p.height,
            .kind = kind,
            .tile_w = p.tile_w,
            .tile_h = p.tile_h,
            .crop = crops[i % 3],
            .ken_burns = i % 4 == 3 ? 0 : rnd_in(1, 30),
            .camera = i % 4 != 0,
            .fov = rnd_in(20, 90),
            .distance = rnd_in(5, 30) / 10.0,
            .depth_fade = i % 3 == 0 ? rnd_in(0, 100) : 0,
        };
        if (vp.camera) {
            vp.tilt = rnd_in(-60, 60);
            vp.turn = rnd_in(-45, 45);
        }
        const uint8_t bg[3] = { (uint8_t)rnd(), (uint8_t)rnd(), (uint8_t)rnd() };
        check_view_case(p, &vp, bg);
    }
}

static void test_combinations(void)
{
    static const int gaps[] = { 0, 5 };
    static const int blurs[] = { 1, 2, 8 };
    for (int kind = 0; kind < 2; kind++)
        for (int dir = 0; dir < 3; dir++)
            for (int ease = 0; ease < 4; ease++)
                for (int g = 0; g < 2; g++)
                    for (int b = 0; b < 3; b++) {
                        const GvLayoutParams p =
                            random_params((GvLayoutKind)kind, (GvDirection)dir, (GvEasing)ease,
                                          gaps[g] ? gaps[g] + rnd_in(0, 6) : 0, blurs[b]);
                        const uint8_t bg[3] = { (uint8_t)rnd(), (uint8_t)rnd(), (uint8_t)rnd() };
                        check_case(&p, bg);
                    }
}

/* Params for a kind given along the motion (main) and across it (cross). */
static GvLayoutParams oriented(GvLayoutKind kind, int main_len, int cross_len, int step,
                               int thick, int gap, int n_images)
{
    const int rows = kind == GV_LAYOUT_ROWS;
    return (GvLayoutParams){
        .width = rows ? main_len : cross_len,
        .height = rows ? cross_len : main_len,
        .kind = kind,
        .tile_w = rows ? step : thick,
        .tile_h = rows ? thick : step,
        .gap = gap,
        .n_images = n_images,
        .direction = GV_DIRECTION_ALTERNATE,
        .duration = 1,
        .fps_num = 7,
        .fps_den = 1,
        .motion_blur = 2,
    };
}

/* Cases that random choice may miss. */
static void test_edge_cases(void)
{
    const uint8_t black[3] = { 16, 128, 128 }, odd[3] = { 235, 16, 240 };
    for (int kind = 0; kind < 2; kind++) {
        const GvLayoutKind k = (GvLayoutKind)kind;
        /* lanes at odd cross positions: floor((48 - (4 * 12 + 3 * 3)) / 2) = -5 */
        GvLayoutParams p = oriented(k, 64, 48, 12, 12, 3, 5);
        check_case(&p, odd);
        /* odd thickness, lanes cut at both ends of the frame */
        p = oriented(k, 64, 48, 14, 13, 3, 7);
        check_case(&p, odd);
        /* fewer images than lanes: empty lanes are background */
        p = oriented(k, 64, 48, 14, 13, 3, 2);
        p.lanes = 4;
        check_case(&p, black);
        /* one image in a long lane: it shows several times */
        p = oriented(k, 320, 48, 16, 16, 2, 1);
        p.lanes = 1;
        check_case(&p, odd);
        /* no image at all */
        p = oriented(k, 64, 48, 16, 16, 2, 0);
        check_case(&p, odd);
        /* many images, big blur, speed set, NTSC rate */
        p = oriented(k, 96, 64, 10, 8, 1, 200);
        p.motion_blur = 8;
        p.speed = 333.3;
        p.fps_num = 30000;
        p.fps_den = 1001;
        p.duration = 0.5;
        check_case(&p, black);
        /* a width that is no multiple of 8 (partial output words) */
        p = oriented(k, kind ? 42 : 70, kind ? 70 : 42, 12, 10, 0, 9);
        p.direction = GV_DIRECTION_RIGHT;
        check_case(&p, odd);
        /* tiny tiles with a gap wider than they are */
        p = oriented(k, 64, 48, 1, 2, 7, 9);
        p.easing = GV_EASING_EASE_IN_OUT;
        check_case(&p, odd);
        /* a frame large enough to be copied out in bands */
        p = oriented(k, kind ? 720 : 1280, kind ? 1280 : 720, 160, 90, 4, 40);
        p.motion_blur = 1;
        check_case(&p, black);
    }
}

/* The test-only switch fails exactly the frame it names, as a Vulkan
 * error would, and the frames before it render. */
static void test_fail_at_frame(void)
{
    GvLayout l;
    const GvLayoutParams p = {
        .width = 64, .height = 48, .kind = GV_LAYOUT_ROWS, .tile_w = 16, .tile_h = 16,
        .n_images = 4, .duration = 1, .fps_num = 10, .fps_den = 1, .motion_blur = 1,
    };
    CHECK_INT(gv_layout_init(&l, &p), 0);
    GvTile **const tiles = random_tiles(p.n_images, p.tile_w, p.tile_h);
    GvCompositorConfig cfg = {
        .layout = &l, .gpu_device = device, .gpu_memory_bytes = 64 << 20,
        .fail_at_frame = 3, .log = &quiet_log,
    };
    GvLog silent = { NULL, NULL, GV_LOG_ERROR };
    cfg.log = &silent;
    void *priv = NULL;
    Pic pic;
    CHECK_INT(pic_alloc(&pic, p.width, p.height), 0);
    CHECK_INT(gv_compositor_vulkan->open(&priv, &cfg), 0);
    if (priv) {
        for (int k = 0; k < p.n_images; k++)
            CHECK_INT(gv_compositor_vulkan->tile_add(priv, k, tiles[k]), 0);
        for (int64_t f = 0; f < 3; f++) {
            CHECK_INT(gv_compositor_vulkan->submit(priv, f, &pic.pic), 0);
            CHECK_INT(gv_compositor_vulkan->wait(priv), 0);
        }
        CHECK_INT(gv_compositor_vulkan->submit(priv, 3, &pic.pic), GV_ERR_GPU);
        gv_compositor_vulkan->close(&priv);
        CHECK(priv == NULL);
    }

    /* a memory limit too small for the frame buffers: open fails cleanly */
    cfg.fail_at_frame = -1;
    cfg.gpu_memory_bytes = 4096;
    CHECK_INT(gv_compositor_vulkan->open(&priv, &cfg), GV_ERR_GPU);
    CHECK(priv == NULL);
    pic_free(&pic);
    free_tiles(tiles, p.n_images);
    gv_layout_free(&l);
}

/* Frames per second of a backend over `n` consecutive frames. */
static double time_backend(const GvCompositorOps *ops, const GvCompositorConfig *cfg,
                           GvTile **tiles, int n)
{
    const GvLayout *const l = cfg->layout;
    void *priv = NULL;
    Pic pics[MAX_DEPTH] = { { { 0 }, NULL } };
    const int depth = ops->depth < MAX_DEPTH ? ops->depth : MAX_DEPTH;
    double fps = 0;
    for (int i = 0; i < depth; i++)
        if (pic_alloc(&pics[i], l->p.width, l->p.height) < 0)
            goto end;
    if (ops->open(&priv, cfg) < 0)
        goto end;
    for (int k = 0; k < l->p.n_images; k++)
        if (ops->tile_add(priv, k, tiles[k]) < 0)
            goto end;
    /* one frame to warm up (shader compilation, first touch of memory) */
    if (ops->submit(priv, 0, &pics[0].pic) < 0 || ops->wait(priv) < 0)
        goto end;
    const double t0 = now();
    int count = 0;
    for (int i = 0; i < n || count > 0;) {
        if (i < n && count < depth) {
            if (ops->submit(priv, i, &pics[i % depth].pic) < 0)
                goto end;
            i++;
            count++;
            continue;
        }
        if (ops->wait(priv) < 0)
            goto end;
        count--;
    }
    fps = n / (now() - t0);
end:
    if (priv)
        ops->close(&priv);
    for (int i = 0; i < MAX_DEPTH; i++)
        pic_free(&pics[i]);
    return fps;
}

/* GV_CHECKASM_BENCH asks for the timing: set, and neither empty nor 0. */
static int bench_env_set(const char *env)
{
    return env && *env && strcmp(env, "0");
}

static void bench(void)
{
    const char *const env = getenv("GV_CHECKASM_BENCH");
    int w = 640, h = 360, blur = 4, frames = 24;
    if (bench_env_set(env) && sscanf(env, "%dx%d:%d:%d", &w, &h, &blur, &frames) < 2) {
        fprintf(stderr, "GV_CHECKASM_BENCH: '%s' is not WxH[:BLUR[:FRAMES]]\n", env);
        CHECK(!"GV_CHECKASM_BENCH is WxH[:BLUR[:FRAMES]]");
        return;
    }
    GvLayout l;
    const GvLayoutParams p = {
        .width = w, .height = h, .kind = GV_LAYOUT_ROWS, .tile_w = h / 6 * 16 / 9 & ~1,
        .tile_h = h / 6, .gap = 4, .n_images = 60, .duration = 10, .fps_num = 30,
        .fps_den = 1, .motion_blur = blur,
    };
    if (gv_layout_init(&l, &p) < 0)
        return;
    GvTile **const tiles = random_tiles(p.n_images, p.tile_w, p.tile_h);
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    GvCompositorConfig cfg = {
        .layout = &l, .bg_yuv = { 16, 128, 128 }, .threads = 1, .gpu_device = device,
        .gpu_memory_bytes = 1024 << 20, .fail_at_frame = -1, .log = &quiet_log,
    };
    const double cpu1 = time_backend(&gv_compositor_cpu, &cfg, tiles, frames);
    cfg.threads = cores > 0 ? (int)cores : 1;
    const double cpun = time_backend(&gv_compositor_cpu, &cfg, tiles, frames);
    const double gpu = time_backend(gv_compositor_vulkan, &cfg, tiles, frames);
    printf("timing %dx%d, motion blur %d, %d frames:\n", w, h, blur, frames);
    printf("  cpu, 1 thread    %8.1f frames/s\n", cpu1);
    printf("  cpu, %2d threads  %8.1f frames/s\n", cfg.threads, cpun);
    printf("  vulkan           %8.1f frames/s  (%.2fx the threaded cpu)\n", gpu,
           cpun > 0 ? gpu / cpun : 0);
    free_tiles(tiles, p.n_images);
    gv_layout_free(&l);
}

/* Finds a device: the one named, else any GPU. 0, or 77 to skip. */
static int probe(void)
{
    if (!gv_compositor_vulkan) {
        printf("SKIP: built without Vulkan\n");
        return 77;
    }
    GvLayout l;
    const GvLayoutParams p = {
        .width = 16, .height = 16, .tile_w = 8, .tile_h = 8, .n_images = 1, .duration = 1,
        .fps_num = 1, .fps_den = 1, .motion_blur = 1,
    };
    if (gv_layout_init(&l, &p) < 0)
        return 1;
    GvCompositorConfig cfg = {
        .layout = &l, .gpu_device = device, .gpu_memory_bytes = 64 << 20, .fail_at_frame = -1,
        .log = &info_log,
    };
    void *priv = NULL;
    int ret = gv_compositor_vulkan->open(&priv, &cfg);
    if (ret == -ENODEV && device) {
        printf("no Vulkan device named like \"%s\": trying any GPU\n", device);
        device = cfg.gpu_device = NULL;
        ret = gv_compositor_vulkan->open(&priv, &cfg);
    }
    if (ret == 0) {
        printf("device: %s\n", gv_compositor_vulkan->device_name(priv));
        gv_compositor_vulkan->close(&priv);
    }
    gv_layout_free(&l);
    if (ret == -ENODEV) {
        printf("SKIP: no Vulkan device\n");
        return 77;
    }
    return ret == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int want_bench = bench_env_set(getenv("GV_CHECKASM_BENCH"));
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench")) {
            want_bench = 1;
        } else {
            fprintf(stderr, "usage: %s [--bench]\n", argv[0]);
            return 2;
        }
    }
    device = getenv("GV_TEST_GPU_DEVICE");
    if (!device)
        device = "llvmpipe";
    if (!*device)
        device = NULL;
    verbose = getenv("GV_TEST_VERBOSE") != NULL;
    const int p = probe();
    if (p != 0)
        return p;

    const double t0 = now();
    test_combinations();
    test_view_combinations();
    test_edge_cases();
    test_fail_at_frame();
    printf("%d layouts (%d through staging) in %.1f s, max difference %d (tolerance %d)\n",
           n_cases, staged_cases, now() - t0, max_diff_seen, TOL);
    if (want_bench)
        bench();
    return check_report("checkasm");
}
