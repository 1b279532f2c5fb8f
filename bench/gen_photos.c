/*
 * gen_photos: writes photo-like test JPEGs for the benchmark.
 *
 *   gen_photos OUTDIR COUNT [--width W] [--height H] [--quality Q]
 *              [--seed S] [--jobs J] [--job K]
 *
 * Writes OUTDIR/img0001.jpg .. imgCOUNT.jpg (those with (index-1) % J == K,
 * so J processes started with K = 0..J-1 share the work), skipping files that
 * already exist, each written beside its place and renamed in when complete,
 * so an interrupted run leaves no half image in the cache.
 *
 * Why this content: JPEG decoding costs in proportion to the entropy-coded
 * data, so flat or smooth images would make decoding look far cheaper than
 * it is for photographs. Each image has large soft structures (multi-octave
 * Perlin noise and Worley cells, made at 1/8 size and enlarged, which is
 * where photographs put their low frequencies), hard edges (random filled
 * shapes), fine texture and grain (full-size Perlin noise of two cell
 * sizes), all drawn from the image's own seed, so every image
 * differs and a given seed always gives the same image on any machine. At
 * quality 90 this comes to about 3.5 to 5 MB per 12 MP image, what a camera
 * or phone writes. Chroma is subsampled 4:2:0 as phones do (libvips would
 * otherwise keep 4:4:4 at quality 90, which costs more to decode).
 */
#include <vips/vips.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct Options {
    const char *dir;
    int count, width, height, quality, seed, jobs, job;
} Options;

/* splitmix64: a small, well-mixed generator, the same on every platform */
static uint64_t next_u64(uint64_t *const s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *const s, const double lo, const double hi)
{
    return lo + (hi - lo) * (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int seed_of(uint64_t *const s)
{
    return (int)(next_u64(s) & 0x7fffffff);
}

/*
 * A soft field at small size, roughly in [-1, 1]: octaves of Perlin noise
 * (amplitude falling as 0.55 per octave, close to the 1/f spectrum of
 * photographs), plus a shading per Worley cell where cells is set.
 */
static int soft_field(VipsObject *const ctx, uint64_t *const rng, const int w, const int h,
                      const int cells, VipsImage **const out)
{
    VipsImage **const t = (VipsImage **)vips_object_local_array(ctx, 16);
    VipsImage *acc = NULL;
    double amp = 0.6;
    int cell = 96, k = 0;
    for (int o = 0; o < 5; o++, cell /= 2, amp *= 0.55) {
        if (vips_perlin(&t[k], w, h, "cell_size", cell, "seed", seed_of(rng), NULL))
            return -1;
        if (vips_linear1(t[k], &t[k + 1], amp, 0.0, NULL))
            return -1;
        if (acc) {
            if (vips_add(acc, t[k + 1], &t[k + 2], NULL))
                return -1;
            acc = t[k + 2];
            k += 3;
        } else {
            acc = t[k + 1];
            k += 2;
        }
    }
    if (!cells)
        return vips_copy(acc, out, NULL);
    /* Worley gives the distance to the nearest cell centre, 0 to about a cell */
    const int wcell = (int)uniform(rng, 20, 80);
    if (vips_worley(&t[k], w, h, "cell_size", wcell, "seed", seed_of(rng), NULL))
        return -1;
    if (vips_linear1(t[k], &t[k + 1], uniform(rng, -0.6, 0.6) / wcell, 0.0, NULL))
        return -1;
    return vips_add(acc, t[k + 1], out, NULL);
}

/*
 * The soft colour picture at small size: one luminance field shared by the
 * bands (colours in photographs are strongly correlated) and a weaker field
 * of its own per band.
 */
static int soft_colour(VipsObject *const ctx, uint64_t *const rng, const int w, const int h,
                       VipsImage **const out)
{
    VipsImage **const t = (VipsImage **)vips_object_local_array(ctx, 12);
    if (soft_field(ctx, rng, w, h, 1, &t[0]))
        return -1;
    if (vips_linear1(t[0], &t[1], uniform(rng, 45.0, 80.0), 0.0, NULL))
        return -1;
    for (int b = 0; b < 3; b++) {
        if (soft_field(ctx, rng, w, h, 0, &t[2 + 3 * b]))
            return -1;
        if (vips_linear1(t[2 + 3 * b], &t[3 + 3 * b], uniform(rng, 20.0, 60.0),
                         uniform(rng, 70.0, 180.0), NULL))
            return -1;
        if (vips_add(t[1], t[3 + 3 * b], &t[4 + 3 * b], NULL))
            return -1;
    }
    VipsImage *bands[3] = { t[4], t[7], t[10] };
    return vips_bandjoin(bands, out, 3, NULL);
}

static void draw_shapes(VipsImage *const im, uint64_t *const rng)
{
    const int n = (int)uniform(rng, 4, 18);
    for (int i = 0; i < n; i++) {
        double ink[3];
        for (int b = 0; b < 3; b++)
            ink[b] = uniform(rng, 0, 255);
        const int x = (int)uniform(rng, 0, im->Xsize), y = (int)uniform(rng, 0, im->Ysize);
        const int size = (int)uniform(rng, 40, im->Ysize / 4.0);
        if (next_u64(rng) & 1)
            vips_draw_circle(im, ink, 3, x, y, size / 2, "fill", TRUE, NULL);
        else
            vips_draw_rect(im, ink, 3, x, y, size, (int)(size * uniform(rng, 0.3, 2.0)),
                           "fill", TRUE, NULL);
    }
}

enum { N_NOISE = 3, NOISE_TILE = 1024 };
/* Perlin cell sizes of the noise tiles (grain, fine and coarse texture) and their weights */
static const int noise_cell[N_NOISE] = { 2, 10, 40 };
static const double noise_weight[N_NOISE][2] = { { 22, 36 }, { 8, 20 }, { 10, 26 } };

static int make_noise(VipsImage **const noise)
{
    for (int k = 0; k < N_NOISE; k++) {
        VipsImage *p;
        if (vips_perlin(&p, NOISE_TILE, NOISE_TILE, "cell_size", noise_cell[k], "seed", 1234 + k,
                        NULL))
            return -1;
        noise[k] = vips_image_copy_memory(p);
        g_object_unref(p);
        if (!noise[k])
            return -1;
    }
    return 0;
}

static int make_photo(const Options *const o, VipsImage *const *const noise, const int index,
                      const char *const path)
{
    VipsObject *const ctx = VIPS_OBJECT(vips_image_new());
    VipsImage **const t = (VipsImage **)vips_object_local_array(ctx, 24);
    int ret = -1;
    uint64_t rng = (uint64_t)o->seed * 1000003u + (uint64_t)index * 7919u + 1;
    for (int i = 0; i < 4; i++)
        next_u64(&rng);

    const int sw = (o->width + 7) / 8, sh = (o->height + 7) / 8;
    if (soft_colour(ctx, &rng, sw, sh, &t[0]))
        goto end;
    /* made once in memory: enlarging would otherwise recompute it for every tile */
    if (vips_cast_uchar(t[0], &t[12], NULL) || !(t[1] = vips_image_copy_memory(t[12])))
        goto end;
    /* enlarged by pixel replication and a blur: a third of the cost of vips_resize */
    if (vips_zoom(t[1], &t[18], 8, 8, NULL) ||
        vips_gaussblur(t[18], &t[2], 4.0, "precision", VIPS_PRECISION_INTEGER, NULL))
        goto end;
    if (vips_crop(t[2], &t[3], 0, 0, o->width, o->height, NULL))
        goto end;
    if (!(t[4] = vips_image_copy_memory(t[3])))
        goto end;
    draw_shapes(t[4], &rng);

    /*
     * Luminance texture and grain. Noise made at full size for every image
     * would cost more than all the rest, so the noise tiles (made once per
     * process) are mixed, each shifted and weighted at random, into one
     * NOISE_TILE square that is repeated over the image from a random offset.
     */
    VipsImage *mix = NULL;
    for (int k = 0; k < N_NOISE; k++) {
        VipsImage **const n = (VipsImage **)vips_object_local_array(ctx, 3);
        if (vips_wrap(noise[k], &n[0], "x", (int)uniform(&rng, 0, NOISE_TILE), "y",
                      (int)uniform(&rng, 0, NOISE_TILE), NULL))
            goto end;
        if (vips_linear1(n[0], &n[1], uniform(&rng, noise_weight[k][0], noise_weight[k][1]), 0.0,
                         NULL))
            goto end;
        if (mix && vips_add(mix, n[1], &n[2], NULL))
            goto end;
        mix = mix ? n[2] : n[1];
    }
    if (vips_cast(mix, &t[15], VIPS_FORMAT_SHORT, NULL) || !(t[16] = vips_image_copy_memory(t[15])))
        goto end;
    if (vips_replicate(t[16], &t[17], o->width / NOISE_TILE + 2, o->height / NOISE_TILE + 2, NULL))
        goto end;
    if (vips_crop(t[17], &t[9], (int)uniform(&rng, 0, NOISE_TILE),
                  (int)uniform(&rng, 0, NOISE_TILE), o->width, o->height, NULL))
        goto end;
    if (vips_add(t[4], t[9], &t[10], NULL))
        goto end;
    if (vips_cast_uchar(t[10], &t[11], NULL))
        goto end;
    if (vips_copy(t[11], &t[14], "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
        goto end;

    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%d-%s", o->dir, (int)getpid(), strrchr(path, '/') + 1);
    if (vips_jpegsave(t[14], tmp, "Q", o->quality, "subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON,
                      "strip", TRUE, NULL)) {
        unlink(tmp);
        goto end;
    }
    if (rename(tmp, path)) {
        fprintf(stderr, "gen_photos: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        goto end;
    }
    ret = 0;
end:
    if (ret)
        fprintf(stderr, "gen_photos: %s: %s\n", path, vips_error_buffer());
    g_object_unref(ctx);
    return ret;
}

static int int_arg(const char *const s, const char *const name, const int min)
{
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > 1000000000) {
        fprintf(stderr, "gen_photos: bad %s '%s'\n", name, s);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    Options o = { .width = 4000, .height = 3000, .quality = 90, .seed = 1, .jobs = 1 };
    if (VIPS_INIT(argv[0]))
        vips_error_exit(NULL);
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *const a = argv[i];
        if (a[0] == '-' && a[1] == '-' && i + 1 < argc) {
            const char *const v = argv[++i];
            if (!strcmp(a, "--width"))
                o.width = int_arg(v, a, 16);
            else if (!strcmp(a, "--height"))
                o.height = int_arg(v, a, 16);
            else if (!strcmp(a, "--quality"))
                o.quality = int_arg(v, a, 1);
            else if (!strcmp(a, "--seed"))
                o.seed = int_arg(v, a, 0);
            else if (!strcmp(a, "--jobs"))
                o.jobs = int_arg(v, a, 1);
            else if (!strcmp(a, "--job"))
                o.job = int_arg(v, a, 0);
            else {
                fprintf(stderr, "gen_photos: unknown option %s\n", a);
                return 2;
            }
        } else if (pos == 0) {
            o.dir = a;
            pos++;
        } else if (pos == 1) {
            o.count = int_arg(a, "COUNT", 0);
            pos++;
        } else {
            pos = 99;
        }
    }
    if (pos != 2 || o.quality > 100 || o.job >= o.jobs) {
        fprintf(stderr, "usage: gen_photos OUTDIR COUNT [--width W] [--height H] [--quality Q]"
                        " [--seed S] [--jobs J] [--job K]\n");
        return 2;
    }
    if (mkdir(o.dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "gen_photos: %s: %s\n", o.dir, strerror(errno));
        return 1;
    }
    VipsImage *noise[N_NOISE] = { NULL };
    if (make_noise(noise)) {
        fprintf(stderr, "gen_photos: %s\n", vips_error_buffer());
        return 1;
    }
    int failed = 0;
    for (int i = 1; i <= o.count; i++) {
        if ((i - 1) % o.jobs != o.job)
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/img%04d.jpg", o.dir, i);
        if (stat(path, &st) == 0 && st.st_size > 0)
            continue;
        if (make_photo(&o, noise, i, path))
            failed = 1;
        vips_error_clear();
    }
    for (int k = 0; k < N_NOISE; k++)
        g_object_unref(noise[k]);
    vips_shutdown();
    return failed;
}
