/* Clips (src/clip.c) on clips written by tests/makeclip (its path is the
 * first argument), in a folder of their own removed at the end: what the
 * probe says, every frame in order at its time at 24, 25, 30000/1001 and
 * 60 fps, each tile reading back its frame number, seeking to key frames,
 * rotation, pixel aspect, 10 bits, colour matrices and ranges, crops as
 * photos are cropped, GIF delays, and what is refused. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "clip.h"
#include "clipbits.h"
#include "color.h"
#include "tiles.h"

#define MAX_FRAMES 256
#define SKIPPED 77

static const char *makeclip;
static char dir[512];

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* Runs makeclip to write name; 0, SKIPPED (this FFmpeg lacks something), or another failure. */
static int make(const char *name, const char *fmt, ...)
{
    char args[512], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "'%s' '%s/%s' %s", makeclip, dir, name, args);
    const int st = system(cmd);
    const int ret = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (ret == SKIPPED)
        printf("skipped: %s (makeclip %s)\n", name, args);
    else if (ret != 0)
        fprintf(stderr, "makeclip failed (%d): %s\n", ret, args);
    return ret;
}

static GvTileSpec spec_of(int w, int h, GvCrop crop)
{
    GvTileSpec s = { .w = w, .h = h, .crop = crop, .max_pixels = 200000000 };
    return s;
}

typedef struct Seen {
    int n;
    double pts[MAX_FRAMES];
    int bits[MAX_FRAMES];
    int prev_bits[MAX_FRAMES]; /* gv_clip_tile_previous() at each frame, -2 when refused */
    int end;                   /* what ended it: 1, or an error */
} Seen;

static int tile_bits(GvClip *c, int previous)
{
    GvTile *t = NULL;
    const int ret = previous ? gv_clip_tile_previous(c, &t) : gv_clip_tile(c, &t);
    if (ret < 0)
        return -2;
    const int n = clipbits_read(t->y, t->w, t->h, t->w);
    gv_tile_free(&t);
    return n;
}

/* Every frame of path: its time, its number, and the previous frame's. */
static int read_all(const char *name, const GvTileSpec *spec, Seen *s)
{
    char p[1024], why[256] = "";
    path_of(p, sizeof(p), name);
    memset(s, 0, sizeof(*s));
    const GvClipConfig cfg = { .spec = spec };
    GvClip *c = NULL;
    int ret = gv_clip_open(&c, p, &cfg, why, sizeof(why));
    if (ret < 0) {
        fprintf(stderr, "%s: %s\n", name, why);
        return ret;
    }
    double pts;
    while (s->n < MAX_FRAMES && (ret = gv_clip_next(c, &pts, why, sizeof(why))) == 0) {
        s->pts[s->n] = pts;
        s->bits[s->n] = tile_bits(c, 0);
        s->prev_bits[s->n] = tile_bits(c, 1);
        s->n++;
    }
    s->end = ret;
    if (ret == 1)
        CHECK_INT(gv_clip_next(c, &pts, why, sizeof(why)), 1);
    gv_clip_close(&c);
    return 0;
}

/* Every frame is there, in order, at its time, and reads back its number. */
static void check_frames(const char *name, const GvTileSpec *spec, int frames, double fps)
{
    Seen s;
    if (read_all(name, spec, &s) < 0) {
        CHECK(!"opened");
        return;
    }
    CHECK_INT(s.end, 1);
    CHECK_INT(s.n, frames);
    int wrong = 0;
    for (int i = 0; i < s.n; i++) {
        if (fabs(s.pts[i] - i / fps) > 1e-4 || s.bits[i] != (i & 255) ||
            s.prev_bits[i] != (i ? (i - 1) & 255 : -2)) {
            if (wrong++ < 3)
                fprintf(stderr, "%s frame %d: pts %.6f bits %d previous %d\n", name, i,
                        s.pts[i], s.bits[i], s.prev_bits[i]);
        }
    }
    CHECK_INT(wrong, 0);
}

static int probe(const char *name, const GvTileSpec *spec, GvClipInfo *info, char *why,
                 size_t len)
{
    char p[1024];
    path_of(p, sizeof(p), name);
    memset(info, 0, sizeof(*info));
    why[0] = 0;
    return gv_clip_probe(p, spec, info, why, len);
}

/* ---- the tests ---- */

static void test_rates(void)
{
    static const struct {
        const char *arg;
        double fps;
    } rates[] = { { "24", 24.0 }, { "25/1", 25.0 }, { "30000/1001", 30000.0 / 1001 },
                  { "60", 60.0 } };
    const GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        char name[64], why[256];
        snprintf(name, sizeof(name), "rate%zu.mp4", i);
        if (make(name, "160 90 %s 40 libx264", rates[i].arg)) {
            CHECK(!"makeclip");
            continue;
        }
        GvClipInfo info;
        CHECK_INT(probe(name, &spec, &info, why, sizeof(why)), 0);
        CHECK_INT(info.width, 160);
        CHECK_INT(info.height, 90);
        CHECK_INT(info.rotation, 0);
        CHECK_INT(info.upright_w, 160);
        CHECK_INT(info.upright_h, 90);
        CHECK_NEAR(info.duration, 40 / rates[i].fps, 1e-3);
        CHECK_NEAR(info.fps, rates[i].fps, 1e-6);
        CHECK(!strcmp(info.codec, "h264"));
        CHECK(strstr(info.format, "mp4") != NULL);
        check_frames(name, &spec, 40, rates[i].fps);
    }
}

/* seek(t), then forward to t: the first frame is the last key frame at or
 * before t (makeclip puts one every gop frames), and t's frame follows. */
static void check_seek(GvClip *c, const char *name, double t, double fps, int gop)
{
    char why[256];
    const int k = (int)floor(t * fps + 1e-6), key = k / gop * gop;
    double pts = -1;
    CHECK_INT(gv_clip_seek(c, t, why, sizeof(why)), 0);
    GvTile *tile = NULL;
    CHECK_INT(gv_clip_tile(c, &tile), -EINVAL);
    CHECK_INT(gv_clip_next(c, &pts, why, sizeof(why)), 0);
    const int first = tile_bits(c, 0);
    if (first != key || fabs(pts - key / fps) > 1e-3)
        fprintf(stderr, "%s: seek %.4f landed on %d at %.4f, expected %d\n", name, t, first,
                pts, key);
    CHECK_INT(first, key);
    CHECK_NEAR(pts, key / fps, 1e-3); /* Matroska counts milliseconds */
    CHECK_INT(tile_bits(c, 1), -2);
    int n = first, steps = 0;
    while (n < k && steps++ < 2 * gop && gv_clip_next(c, &pts, why, sizeof(why)) == 0) {
        CHECK_INT(tile_bits(c, 1), n);
        n = tile_bits(c, 0);
    }
    CHECK_INT(n, k);
    CHECK_NEAR(pts, k / fps, 1e-3);
}

static void test_seek(void)
{
    static const char *const names[] = { "seek.mp4", "seek.mkv", "seek.avi" };
    static const char *const codecs[] = { "libx264", "libx264", "mpeg4" };
    const GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    for (int i = 0; i < 3; i++) {
        if (make(names[i], "160 90 24 48 %s --gop 12", codecs[i])) {
            CHECK(!"makeclip");
            continue;
        }
        char p[1024], why[256];
        path_of(p, sizeof(p), names[i]);
        const GvClipConfig cfg = { .spec = &spec };
        GvClip *c = NULL;
        CHECK_INT(gv_clip_open(&c, p, &cfg, why, sizeof(why)), 0);
        if (!c)
            continue;
        if (i == 1)
            CHECK(!strcmp(gv_clip_info(c)->format, "matroska,webm"));
        if (i == 2) {
            CHECK(!strcmp(gv_clip_info(c)->format, "avi"));
            CHECK(!strcmp(gv_clip_info(c)->codec, "mpeg4"));
        }
        const double ts[] = { 1.0, 0.5, 1.9, 0.0, 1.04, 0.3, 1.5, 0.99, 1.95 };
        for (size_t j = 0; j < sizeof(ts) / sizeof(ts[0]); j++)
            check_seek(c, names[i], ts[j], 24.0, 12);
        /* to the end and past it */
        double pts;
        int ret, n = 0;
        while ((ret = gv_clip_next(c, &pts, why, sizeof(why))) == 0)
            n++;
        CHECK_INT(ret, 1);
        CHECK_INT(tile_bits(c, 0), 47);
        check_seek(c, names[i], 0.0, 24.0, 12);
        /* past the end: the last key frame */
        CHECK_INT(gv_clip_seek(c, 60.0, why, sizeof(why)), 0);
        CHECK_INT(gv_clip_next(c, &pts, why, sizeof(why)), 0);
        CHECK_INT(tile_bits(c, 0), 36);
        gv_clip_close(&c);
        CHECK(c == NULL);
    }
}

static void test_rotation(void)
{
    const GvTileSpec spec = spec_of(32, 64, GV_CROP_CENTER);
    for (int r = 90; r <= 270; r += 90) {
        char name[64], why[256];
        snprintf(name, sizeof(name), "rot%d.mp4", r);
        if (make(name, "90 160 24 12 libx264 --rotate %d", r)) {
            CHECK(!"makeclip");
            continue;
        }
        GvClipInfo info;
        CHECK_INT(probe(name, &spec, &info, why, sizeof(why)), 0);
        CHECK_INT(info.rotation, r);
        CHECK_INT(info.width, r == 180 ? 90 : 160);
        CHECK_INT(info.height, r == 180 ? 160 : 90);
        CHECK_INT(info.upright_w, 90);
        CHECK_INT(info.upright_h, 160);
        check_frames(name, &spec, 12, 24.0);
    }
}

static void test_sar(void)
{
    const GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    char why[256];
    GvClipInfo info;
    if (make("sar2.mp4", "160 90 24 6 libx264 --sar 2:1") == 0) {
        CHECK_INT(probe("sar2.mp4", &spec, &info, why, sizeof(why)), 0);
        CHECK_INT(info.width, 160);
        CHECK_INT(info.upright_w, 320);
        CHECK_INT(info.upright_h, 90);
        check_frames("sar2.mp4", &spec, 6, 24.0);
    } else {
        CHECK(!"makeclip");
    }
    /* pixels half as wide, and turned: the aspect applies before the turn */
    if (make("sar1.mp4", "90 160 24 6 libx264 --sar 1:2 --rotate 90") == 0) {
        CHECK_INT(probe("sar1.mp4", &spec, &info, why, sizeof(why)), 0);
        CHECK_INT(info.width, 160);
        CHECK_INT(info.height, 90);
        CHECK_INT(info.upright_w, 90);
        CHECK_INT(info.upright_h, 80);
        const GvTileSpec tall = spec_of(32, 64, GV_CROP_CENTER);
        check_frames("sar1.mp4", &tall, 6, 24.0);
    } else {
        CHECK(!"makeclip");
    }
}

static void test_ten_bit(void)
{
    const GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    const int ret = make("ten.mp4", "160 90 30000/1001 12 libx264 --10bit");
    if (ret == SKIPPED)
        return;
    CHECK_INT(ret, 0);
    char why[256];
    GvClipInfo info;
    CHECK_INT(probe("ten.mp4", &spec, &info, why, sizeof(why)), 0);
    CHECK(!strcmp(info.codec, "h264"));
    check_frames("ten.mp4", &spec, 12, 30000.0 / 1001);
}

/* A flat frame comes out as a photo of its colour would: within tol of
 * gv_rgb_to_yuv(), everywhere in the tile. */
static void check_flat(const char *name, const uint8_t rgb[3], int tol)
{
    char p[1024], why[256];
    path_of(p, sizeof(p), name);
    const GvTileSpec spec = spec_of(48, 32, GV_CROP_CENTER);
    const GvClipConfig cfg = { .spec = &spec };
    GvClip *c = NULL;
    double pts;
    GvTile *t = NULL;
    CHECK_INT(gv_clip_open(&c, p, &cfg, why, sizeof(why)), 0);
    CHECK_INT(gv_clip_next(c, &pts, why, sizeof(why)), 0);
    CHECK_INT(gv_clip_tile(c, &t), 0);
    if (t) {
        uint8_t want[3];
        gv_rgb_to_yuv(rgb[0], rgb[1], rgb[2], &want[0], &want[1], &want[2]);
        int worst = 0;
        const uint8_t *const planes[3] = { t->y, t->u, t->v };
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < t->w * t->h; i++) {
                const int d = abs(planes[k][i] - want[k]);
                worst = d > worst ? d : worst;
            }
        if (worst > tol)
            fprintf(stderr, "%s: (%d,%d,%d) gives %d %d %d, expected %d %d %d\n", name, rgb[0],
                    rgb[1], rgb[2], t->y[0], t->u[0], t->v[0], want[0], want[1], want[2]);
        CHECK(worst <= tol);
    }
    gv_tile_free(&t);
    gv_clip_close(&c);
}

static void test_colour(void)
{
    static const uint8_t colours[][3] = { { 200, 120, 40 }, { 60, 150, 230 }, { 128, 128, 128 } };
    static const struct {
        const char *ext, *size, *codec, *opts;
        int tol;
    } cases[] = {
        { "mp4", "160 90", "libx264", "--lossless --matrix 709", 2 },
        { "mp4", "160 90", "libx264", "--lossless --matrix 601 --range full", 2 },
        { "mp4", "160 90", "libx264", "--lossless", 2 },     /* untagged: BT.601 */
        { "mp4", "1280 720", "libx264", "--lossless", 2 },   /* untagged: BT.709 */
        { "mp4", "160 90", "libx264", "--lossless --10bit --matrix 709", 2 },
        { "avi", "160 90", "mjpeg", "", 3 },                 /* yuvj420p */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t k = 0; k < sizeof(colours) / sizeof(colours[0]); k++) {
            char name[64];
            snprintf(name, sizeof(name), "flat%zu_%zu.%s", i, k, cases[i].ext);
            const int ret = make(name, "%s 24 2 %s --color %d,%d,%d %s", cases[i].size,
                                 cases[i].codec, colours[k][0], colours[k][1], colours[k][2],
                                 cases[i].opts);
            if (ret == SKIPPED)
                continue;
            CHECK_INT(ret, 0);
            if (ret == 0)
                check_flat(name, colours[k], cases[i].tol);
        }
}

/* The tile of a clip equals the tile of its upright picture as a photo. */
static void check_like_photo(const char *name, int uw, int uh, const GvTileSpec *spec)
{
    char p[1024], why[256];
    path_of(p, sizeof(p), name);
    const GvClipConfig cfg = { .spec = spec };
    GvClip *c = NULL;
    GvTile *clip = NULL, *photo = NULL;
    double pts;
    uint8_t *const rgb = malloc((size_t)uw * uh * 3);
    CHECK_INT(gv_clip_open(&c, p, &cfg, why, sizeof(why)), 0);
    CHECK_INT(gv_clip_next(c, &pts, why, sizeof(why)), 0);
    CHECK_INT(gv_clip_tile(c, &clip), 0);
    if (rgb) {
        clipbits_ramp(rgb, uw, uh);
        CHECK_INT(gv_tile_load_rgb(rgb, uw, uh, spec, &photo, why, sizeof(why)), 0);
    }
    if (clip && photo) {
        const uint8_t *const a[3] = { clip->y, clip->u, clip->v };
        const uint8_t *const b[3] = { photo->y, photo->u, photo->v };
        const int n = clip->w * clip->h;
        double sum = 0;
        int worst = 0;
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < n; i++) {
                const int d = abs(a[k][i] - b[k][i]);
                sum += d;
                worst = d > worst ? d : worst;
            }
        if (sum / (3.0 * n) > 1.0 || worst > 8)
            fprintf(stderr, "%s crop %d: mean difference %.2f, largest %d\n", name, spec->crop,
                    sum / (3.0 * n), worst);
        CHECK(sum / (3.0 * n) <= 1.0);
        CHECK(worst <= 8);
    }
    free(rgb);
    gv_tile_free(&clip);
    gv_tile_free(&photo);
    gv_clip_close(&c);
}

static void test_crops(void)
{
    /* stored 90 x 120 with pixels twice as wide, turned 90 degrees: upright 120 x 180 */
    const int a = make("ramp_a.mp4", "120 90 24 2 libx264 --lossless --ramp --rotate 90 --sar 2:1");
    /* stored 90 x 160, turned 270 degrees: upright 160 x 90 */
    const int b = make("ramp_b.mp4", "160 90 24 2 libx264 --lossless --ramp --rotate 270");
    CHECK_INT(a, 0);
    CHECK_INT(b, 0);
    /* Every window of a ramp holds about as much detail: where the
     * entropy crop goes is decided by rounding, so it is left out. */
    for (int crop = GV_CROP_CENTER; crop <= GV_CROP_ATTENTION; crop++) {
        const GvTileSpec wide = spec_of(64, 32, (GvCrop)crop);
        const GvTileSpec tall = spec_of(32, 64, (GvCrop)crop);
        if (a == 0)
            check_like_photo("ramp_a.mp4", 120, 180, &wide);
        if (b == 0)
            check_like_photo("ramp_b.mp4", 160, 90, &tall);
    }
    /* the smart crops on the bands, whose every column reads the same */
    const GvTileSpec entropy = spec_of(32, 64, GV_CROP_ENTROPY);
    const GvTileSpec attention = spec_of(32, 64, GV_CROP_ATTENTION);
    check_frames("rot90.mp4", &entropy, 12, 24.0);
    check_frames("rot270.mp4", &attention, 12, 24.0);
}

static void test_gif(void)
{
    const GvTileSpec spec = spec_of(32, 32, GV_CROP_CENTER);
    char why[256];
    GvClipInfo info;
    if (make("anim.gif", "64 64 10 3 gif --delays 10,20,30")) {
        CHECK(!"makeclip");
        return;
    }
    CHECK_INT(probe("anim.gif", &spec, &info, why, sizeof(why)), 0);
    CHECK_NEAR(info.duration, 0.6, 1e-6);
    CHECK_NEAR(info.fps, 5.0, 1e-6);
    CHECK(!strcmp(info.codec, "gif"));
    CHECK(!strcmp(info.format, "gif"));
    CHECK_INT(info.width, 64);
    CHECK_INT(info.upright_h, 64);
    Seen s;
    CHECK_INT(read_all("anim.gif", &spec, &s), 0);
    CHECK_INT(s.n, 3);
    CHECK_INT(s.end, 1);
    const double want[] = { 0, 0.1, 0.3 };
    for (int i = 0; i < 3 && i < s.n; i++) {
        CHECK_NEAR(s.pts[i], want[i], 1e-9);
        CHECK_INT(s.bits[i], i);
    }
    /* transparent pixels show the background, as in photos */
    if (make("clear.gif", "64 64 10 4 gif --delays 10 --transparent") == 0) {
        GvTileSpec red = spec;
        red.background[0] = 255;
        check_frames("clear.gif", &red, 4, 10.0);
        char p0[1024];
        path_of(p0, sizeof(p0), "clear.gif");
        const GvClipConfig cfg0 = { .spec = &red };
        GvClip *c0 = NULL;
        GvTile *t = NULL;
        double pts;
        CHECK_INT(gv_clip_open(&c0, p0, &cfg0, why, sizeof(why)), 0);
        CHECK_INT(gv_clip_next(c0, &pts, why, sizeof(why)), 0);
        CHECK_INT(gv_clip_tile(c0, &t), 0);
        if (t) {
            uint8_t y, u, v;
            gv_rgb_to_yuv(255, 0, 0, &y, &u, &v);
            const int i = t->w * t->h / 2 + t->w / 2;
            CHECK(abs(t->y[i] - y) <= 1 && abs(t->u[i] - u) <= 1 && abs(t->v[i] - v) <= 1);
        }
        gv_tile_free(&t);
        gv_clip_close(&c0);
    } else {
        CHECK(!"makeclip");
    }
    /* a GIF goes back to its first frame, its only one that stands alone */
    if (make("anim12.gif", "64 64 25 12 gif --delays 4")) {
        CHECK(!"makeclip");
        return;
    }
    char p[1024];
    path_of(p, sizeof(p), "anim12.gif");
    const GvClipConfig cfg = { .spec = &spec };
    GvClip *c = NULL;
    CHECK_INT(gv_clip_open(&c, p, &cfg, why, sizeof(why)), 0);
    for (int loop = 0; c && loop < 3; loop++) {
        const double t = loop == 1 ? 0.0 : 0.3;
        if (loop)
            CHECK_INT(gv_clip_seek(c, t, why, sizeof(why)), 0);
        double pts;
        int n = 0, ret;
        while ((ret = gv_clip_next(c, &pts, why, sizeof(why))) == 0) {
            CHECK_NEAR(pts, n * 0.04, 1e-9);
            CHECK_INT(tile_bits(c, 0), n);
            n++;
        }
        CHECK_INT(ret, 1);
        CHECK_INT(n, 12);
    }
    gv_clip_close(&c);
}

static void check_refused(const char *name, const GvTileSpec *spec, const char *reason)
{
    char why[256], p[1024];
    GvClipInfo info;
    const int ret = probe(name, spec, &info, why, sizeof(why));
    CHECK_INT(ret, GV_ERR_DECODE);
    if (reason && strncmp(why, reason, strlen(reason)))
        fprintf(stderr, "%s: \"%s\", expected \"%s\"\n", name, why, reason);
    CHECK(reason ? !strncmp(why, reason, strlen(reason)) : why[0] != 0);
    path_of(p, sizeof(p), name);
    const GvClipConfig cfg = { .spec = spec };
    GvClip *c = (GvClip *)&info;
    CHECK_INT(gv_clip_open(&c, p, &cfg, why, sizeof(why)), GV_ERR_DECODE);
    CHECK(c == NULL);
}

static void write_file(const char *name, const void *data, size_t n)
{
    char p[1024];
    path_of(p, sizeof(p), name);
    FILE *const f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(fwrite(data, 1, n, f), n);
        fclose(f);
    }
}

/* The first fraction of name into out. Returns its size. */
static long cut(const char *name, const char *out, double fraction)
{
    char p[1024];
    path_of(p, sizeof(p), name);
    FILE *const f = fopen(p, "rb");
    if (!f)
        return -1;
    static char data[1 << 20];
    const size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    const size_t keep = (size_t)(n * fraction);
    write_file(out, data, keep);
    return (long)keep;
}

static void test_refusals(void)
{
    GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    if (make("still.png", "64 64 1 1 png") == 0)
        check_refused("still.png", &spec, "not a video");
    if (make("still.jpg", "64 64 1 1 mjpeg") == 0)
        check_refused("still.jpg", &spec, "not a video");
    if (make("still.gif", "64 64 10 1 gif") == 0)
        check_refused("still.gif", &spec, "not a video");
    write_file("notes.txt", "Not a video at all, only a few words.\n", 38);
    check_refused("notes.txt", &spec, "not a video");
    write_file("noise.mp4", "\x00\x00\x00\x18" "ftypmp42" "\x01\x02", 14);
    check_refused("noise.mp4", &spec, NULL);
    write_file("empty.mp4", "", 0);
    check_refused("empty.mp4", &spec, "empty file");
    check_refused("missing.mp4", &spec, "cannot open: No such file");
    char p[1024];
    path_of(p, sizeof(p), "folder.mp4");
    CHECK_INT(mkdir(p, 0700), 0);
    check_refused("folder.mp4", &spec, "is a directory");
    /* the index (moov) is written last by default: half the file has none */
    if (make("whole.mp4", "160 90 24 24 libx264") == 0) {
        CHECK(cut("whole.mp4", "half.mp4", 0.5) > 0);
        check_refused("half.mp4", &spec, NULL);
        spec.max_pixels = 160 * 90 - 1;
        check_refused("whole.mp4", &spec, "160x90 is over the 14399-pixel limit");
        spec.max_pixels = 160 * 90;
        GvClipInfo info;
        char why[256];
        CHECK_INT(probe("whole.mp4", &spec, &info, why, sizeof(why)), 0);
    }
    /* six frames of 655.35 s: 1:05:32 */
    if (make("long.gif", "16 16 1 6 gif --delays 65535") == 0)
        check_refused("long.gif", &spec, "1:05:32 is over the 1-hour clip limit");
    if (make("wide.mkv", "16400 16 24 2 ffv1") == 0)
        check_refused("wide.mkv", &spec, "16400x16 is over the 16384-pixel limit on a side");
}

/* Cut short with the index in front: the frames up to the cut, then the end. */
static void test_truncated(void)
{
    const GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    if (make("fast.mp4", "160 90 24 48 libx264 --faststart")) {
        CHECK(!"makeclip");
        return;
    }
    CHECK(cut("fast.mp4", "cut.mp4", 0.6) > 0);
    char why[256];
    GvClipInfo info;
    CHECK_INT(probe("cut.mp4", &spec, &info, why, sizeof(why)), 0);
    CHECK_NEAR(info.duration, 2.0, 1e-3);
    Seen s;
    CHECK_INT(read_all("cut.mp4", &spec, &s), 0);
    CHECK_INT(s.end, 1);
    CHECK(s.n >= 10 && s.n < 48);
    int wrong = 0;
    for (int i = 0; i < s.n; i++)
        wrong += s.bits[i] != i;
    CHECK_INT(wrong, 0);
}

/* Garbage in the middle of the media: the decoder goes on past it. */
static void test_damaged(void)
{
    const GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    if (make("damaged.mp4", "160 90 24 48 libx264 --faststart")) {
        CHECK(!"makeclip");
        return;
    }
    char p[1024];
    path_of(p, sizeof(p), "damaged.mp4");
    FILE *const f = fopen(p, "r+b");
    CHECK(f != NULL);
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    const long size = ftell(f);
    fseek(f, size * 3 / 4, SEEK_SET);
    for (int i = 0; i < 400; i++)
        fputc((i * 97 + 13) & 255, f);
    fclose(f);
    Seen s;
    CHECK_INT(read_all("damaged.mp4", &spec, &s), 0);
    CHECK_INT(s.end, 1);
    CHECK(s.n >= 24);
    int wrong = 0, right = 0;
    for (int i = 1; i < s.n; i++)
        wrong += s.pts[i] < s.pts[i - 1];
    for (int i = 0; i < s.n; i++)
        right += s.bits[i] >= 0 && fabs(s.pts[i] - s.bits[i] / 24.0) < 1e-4;
    CHECK_INT(wrong, 0);
    CHECK(right >= 24);
    CHECK_INT(s.bits[s.n - 1], 47);
}

typedef struct Lines {
    int info, warn;
    char last[256];
} Lines;

static void on_log(void *opaque, GvLogLevel level, const char *msg)
{
    Lines *const l = opaque;
    if (level == GV_LOG_INFO) {
        l->info++;
        snprintf(l->last, sizeof(l->last), "%s", msg);
    } else if (level < GV_LOG_INFO) {
        l->warn++;
    }
}

/* Hardware decoding asked for, where this machine has none (or has): the
 * frames are the same, and a fallback is one info line. */
static void test_hwaccel(void)
{
    const GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    char p[1024], why[256];
    path_of(p, sizeof(p), "rate0.mp4");
    Lines lines = { 0 };
    const GvLog log = { on_log, &lines, GV_LOG_DEBUG };
    const GvClipConfig cfg = { .spec = &spec, .hwaccel = 1, .log = &log };
    GvClip *c = NULL;
    CHECK_INT(gv_clip_open(&c, p, &cfg, why, sizeof(why)), 0);
    if (!c)
        return;
    double pts;
    int n = 0, wrong = 0;
    while (gv_clip_next(c, &pts, why, sizeof(why)) == 0)
        wrong += tile_bits(c, 0) != n++;
    CHECK_INT(n, 40);
    CHECK_INT(wrong, 0);
    CHECK_INT(lines.warn, 0);
    if (!gv_clip_hw(c)) {
        CHECK_INT(lines.info, 1);
        CHECK(strstr(lines.last, "decoding in software") != NULL);
    }
    printf("hwaccel: %s\n", gv_clip_hw(c) ? "hardware" : lines.last);
    gv_clip_close(&c);
}

static void test_api(void)
{
    const GvTileSpec spec = spec_of(64, 64, GV_CROP_CENTER);
    GvTile *t = (GvTile *)&spec;
    double pts;
    CHECK_INT(gv_clip_tile(NULL, &t), -EINVAL);
    CHECK(t == NULL);
    CHECK_INT(gv_clip_next(NULL, &pts, NULL, 0), -EINVAL);
    CHECK_INT(gv_clip_seek(NULL, 0, NULL, 0), -EINVAL);
    CHECK(gv_clip_info(NULL) == NULL);
    CHECK_INT(gv_clip_hw(NULL), 0);
    gv_clip_close(NULL);
    GvClip *c = NULL;
    gv_clip_close(&c);
    CHECK_INT(gv_clip_open(&c, "x.mp4", NULL, NULL, 0), -EINVAL);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_clip MAKECLIP\n");
        return 2;
    }
    makeclip = argv[1];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gv-clip-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_api();
    test_rates();
    test_seek();
    test_rotation();
    test_sar();
    test_ten_bit();
    test_colour();
    test_crops();
    test_gif();
    test_refusals();
    test_truncated();
    test_damaged();
    test_hwaccel();
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_report("clip");
}
