/*
 * The demo painter: a gradient, a few discs and the image's number in a
 * stroke font, painted as RGB in memory and handed to tiles.c like any
 * other picture.
 */
#include "demo.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int clampi(const int v, const int lo, const int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void hsv_to_rgb(double h, const double s, const double v, double *const rgb)
{
    h = (h - floor(h)) * 6.0;
    const int i = (int)h % 6;
    const double f = h - floor(h);
    const double p = v * (1.0 - s), q = v * (1.0 - s * f), r = v * (1.0 - s * (1.0 - f));
    const double c[6][3] = {
        { v, r, p }, { q, v, p }, { p, v, r }, { p, q, v }, { r, p, v }, { v, p, q },
    };
    memcpy(rgb, c[i], sizeof(c[i]));
}

static double smoothstep(const double e0, const double e1, const double x)
{
    const double t = x <= e0 ? 0.0 : x >= e1 ? 1.0 : (x - e0) / (e1 - e0);
    return t * t * (3.0 - 2.0 * t);
}

static uint32_t next_rand(uint32_t *const state)
{
    /* xorshift32: enough to scatter circles, the same everywhere. */
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static double rand01(uint32_t *const state)
{
    return (next_rand(state) >> 8) / 16777216.0;
}

/* Max-blends an anti-aliased capsule from (x0,y0) to (x1,y1) into mask. */
static void draw_capsule(uint8_t *const mask, const int w, const int h, const double x0,
                         const double y0, const double x1, const double y1, const double r)
{
    const double dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
    const int xa = clampi((int)floor(fmin(x0, x1) - r - 1), 0, w - 1);
    const int xb = clampi((int)ceil(fmax(x0, x1) + r + 1), 0, w - 1);
    const int ya = clampi((int)floor(fmin(y0, y1) - r - 1), 0, h - 1);
    const int yb = clampi((int)ceil(fmax(y0, y1) + r + 1), 0, h - 1);
    for (int y = ya; y <= yb; y++) {
        for (int x = xa; x <= xb; x++) {
            const double px = x + 0.5 - x0, py = y + 0.5 - y0;
            double u = l2 > 0.0 ? (px * dx + py * dy) / l2 : 0.0;
            u = u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
            const double ex = px - u * dx, ey = py - u * dy;
            const double cover = r - sqrt(ex * ex + ey * ey) + 0.5;
            const int a = cover <= 0.0 ? 0 : cover >= 1.0 ? 255 : (int)lrint(cover * 255.0);
            uint8_t *const m = &mask[(size_t)y * w + x];
            if (a > *m)
                *m = (uint8_t)a;
        }
    }
}

/*
 * Digits are drawn with a small stroke font of lines and elliptic arcs
 * rather than vips_text: pango without any font installed (a bare
 * container, where --demo matters most) lays out garbage and can crash,
 * and this way the picture is the same on every machine.
 */
typedef struct Pen {
    uint8_t *mask;
    int w, h;
    double x0, y0, size, r; /* glyph origin, glyph height, stroke radius */
    double x, y;
    int down;
} Pen;

static void pen_up(Pen *const p)
{
    p->down = 0;
}

/* Glyph coordinates: x from 0 to 0.6, y from 0 (top) to 1. */
static void pen_to(Pen *const p, const double gx, const double gy)
{
    const double x = p->x0 + gx * p->size, y = p->y0 + gy * p->size;
    if (p->down)
        draw_capsule(p->mask, p->w, p->h, p->x, p->y, x, y, p->r);
    p->x = x;
    p->y = y;
    p->down = 1;
}

/* Degrees counter-clockwise from three o'clock, from a0 to a1. */
static void pen_arc(Pen *const p, const double cx, const double cy, const double rx,
                    const double ry, const double a0, const double a1)
{
    const int steps = (int)ceil(fabs(a1 - a0) / 10.0);
    for (int i = 0; i <= steps; i++) {
        const double a = (a0 + (a1 - a0) * i / steps) * M_PI / 180.0;
        pen_to(p, cx + rx * cos(a), cy - ry * sin(a));
    }
}

static void draw_digit(Pen *const p, const int d)
{
    pen_up(p);
    switch (d) {
    case 0:
        pen_arc(p, 0.3, 0.5, 0.3, 0.5, 0.0, 360.0);
        break;
    case 1:
        pen_to(p, 0.08, 0.2);
        pen_to(p, 0.36, 0.0);
        pen_to(p, 0.36, 1.0);
        break;
    case 2:
        pen_arc(p, 0.3, 0.28, 0.3, 0.28, 160.0, -35.0);
        pen_to(p, 0.0, 1.0);
        pen_to(p, 0.6, 1.0);
        break;
    case 3:
        pen_arc(p, 0.3, 0.25, 0.27, 0.25, 150.0, -90.0);
        pen_arc(p, 0.3, 0.74, 0.3, 0.26, 90.0, -150.0);
        break;
    case 4:
        pen_to(p, 0.46, 1.0);
        pen_to(p, 0.46, 0.0);
        pen_to(p, 0.0, 0.68);
        pen_to(p, 0.6, 0.68);
        break;
    case 5:
        pen_to(p, 0.56, 0.0);
        pen_to(p, 0.1, 0.0);
        pen_to(p, 0.06, 0.45);
        pen_arc(p, 0.3, 0.69, 0.3, 0.31, 135.0, -145.0);
        break;
    case 6:
        pen_arc(p, 0.3, 0.69, 0.3, 0.31, 0.0, 360.0);
        pen_up(p);
        pen_to(p, 0.5, 0.0);
        pen_to(p, 0.03, 0.6);
        break;
    case 7:
        pen_to(p, 0.0, 0.0);
        pen_to(p, 0.6, 0.0);
        pen_to(p, 0.18, 1.0);
        break;
    case 8:
        pen_arc(p, 0.3, 0.25, 0.25, 0.25, 0.0, 360.0);
        pen_up(p);
        pen_arc(p, 0.3, 0.73, 0.3, 0.27, 0.0, 360.0);
        break;
    case 9:
    default:
        pen_arc(p, 0.3, 0.31, 0.3, 0.31, 0.0, 360.0);
        pen_up(p);
        pen_to(p, 0.57, 0.4);
        pen_to(p, 0.1, 1.0);
        break;
    }
}

/* Draws the digits of text, centred, about 0.42 of the height tall. */
static void draw_number(uint8_t *const mask, const int w, const int h, const char *const text)
{
    const int n = (int)strlen(text);
    const double advance = 0.84; /* glyph width 0.6, then a gap, in glyph heights */
    double size = 0.42 * h;
    if (size * (advance * n - 0.24) > 0.8 * w)
        size = 0.8 * w / (advance * n - 0.24);
    Pen p = { mask, w, h, (w - size * (advance * n - 0.24)) / 2.0, (h - size) / 2.0, size,
              0.085 * size, 0.0, 0.0, 0 };
    for (int i = 0; i < n; i++, p.x0 += advance * size)
        draw_digit(&p, text[i] - '0');
}

/*
 * A soft diagonal gradient in a hue of its own (golden-ratio steps round
 * the colour wheel keep neighbours apart for any n), a few translucent
 * discs, and k + 1 in white with a shadow.
 */
static void paint_demo(uint8_t *const rgb, uint8_t *const mask, const int w, const int h,
                       const int k)
{
    const double hue = 0.58 + 0.6180339887498949 * k;
    double c0[3], c1[3];
    hsv_to_rgb(hue, 0.50, 0.98, c0);
    hsv_to_rgb(hue + 0.10, 0.85, 0.55, c1);

    enum { N_DISCS = 6 };
    double disc[N_DISCS][5]; /* x, y, radius, tone (0 dark, 1 light), opacity */
    uint32_t seed = 0x9e3779b9u ^ (uint32_t)k * 0x85ebca6bu;
    if (!seed)
        seed = 1;
    const double m = w < h ? w : h;
    for (int i = 0; i < N_DISCS; i++) {
        disc[i][0] = rand01(&seed) * w;
        disc[i][1] = rand01(&seed) * h;
        disc[i][2] = (0.12 + 0.3 * rand01(&seed)) * m;
        disc[i][3] = i & 1;
        disc[i][4] = 0.10 + 0.12 * rand01(&seed);
    }

    char text[16];
    snprintf(text, sizeof(text), "%d", k + 1);
    memset(mask, 0, (size_t)w * h);
    draw_number(mask, w, h, text);
    const int sh = (int)lrint(m / 80.0) + 1;

    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const double t = smoothstep(0.0, 1.0, ((double)x / w + (double)y / h) / 2.0);
            double p[3];
            for (int c = 0; c < 3; c++)
                p[c] = c0[c] + (c1[c] - c0[c]) * t;
            for (int i = 0; i < N_DISCS; i++) {
                const double dx = x + 0.5 - disc[i][0], dy = y + 0.5 - disc[i][1];
                const double d = sqrt(dx * dx + dy * dy);
                const double edge = smoothstep(disc[i][2] - 0.02 * m, disc[i][2], d);
                const double a = disc[i][4] * (1.0 - edge);
                for (int c = 0; c < 3; c++)
                    p[c] += (disc[i][3] - p[c]) * a;
            }
            const int sx = x - sh, sy = y - sh;
            const double shadow =
                sx >= 0 && sy >= 0 ? 0.35 * mask[(size_t)sy * w + sx] / 255.0 : 0.0;
            const double ink = mask[(size_t)y * w + x] / 255.0;
            uint8_t *const o = rgb + ((size_t)y * w + x) * 3;
            for (int c = 0; c < 3; c++) {
                const double v = (p[c] * (1.0 - shadow)) * (1.0 - ink) + ink;
                o[c] = (uint8_t)clampi((int)lrint(v * 255.0), 0, 255);
            }
        }
    }
}

int gv_tile_demo(const int k, const int n, const GvTileSpec *const spec, GvTile **const out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (k < 0 || n <= 0 || k >= n || !gv_tile_spec_ok(spec))
        return -EINVAL;
    /* Drawn larger than the tile so it goes through the same downscale
     * as a photo would. */
    const int w = spec->w + (spec->w + 1) / 2, h = spec->h + (spec->h + 1) / 2;
    if ((size_t)w > SIZE_MAX / 4 / (size_t)h)
        return -ENOMEM;
    uint8_t *const rgb = malloc((size_t)w * h * 3);
    uint8_t *const mask = malloc((size_t)w * h);
    int ret = -ENOMEM;
    if (rgb && mask) {
        paint_demo(rgb, mask, w, h, k);
        ret = gv_tile_load_rgb(rgb, w, h, spec, out, NULL, 0);
    }
    free(rgb);
    free(mask);
    return ret;
}
