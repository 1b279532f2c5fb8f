#include "color.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KR GV_BT709_KR
#define KB GV_BT709_KB
#define KG GV_BT709_KG
#define Y_ZERO GV_Y_ZERO
#define Y_SPAN GV_Y_SPAN
#define C_ZERO GV_C_ZERO
#define C_SPAN GV_C_SPAN

static uint8_t clamp_u8(double v)
{
    if (v < 0.0)
        return 0;
    if (v > 255.0)
        return 255;
    return (uint8_t)lround(v);
}

void gv_rgb_to_yuv(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *u, uint8_t *v)
{
    const double rf = r / 255.0, gf = g / 255.0, bf = b / 255.0;
    const double yf = KR * rf + KG * gf + KB * bf;
    *y = clamp_u8(Y_ZERO + Y_SPAN * yf);
    *u = clamp_u8(C_ZERO + C_SPAN * (bf - yf) / (2.0 * (1.0 - KB)));
    *v = clamp_u8(C_ZERO + C_SPAN * (rf - yf) / (2.0 * (1.0 - KR)));
}

void gv_yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, uint8_t *r, uint8_t *g, uint8_t *b)
{
    const double yf = (y - Y_ZERO) / Y_SPAN;
    const double pb = (u - C_ZERO) / C_SPAN, pr = (v - C_ZERO) / C_SPAN;
    const double rf = yf + 2.0 * (1.0 - KR) * pr;
    const double bf = yf + 2.0 * (1.0 - KB) * pb;
    const double gf = (yf - KR * rf - KB * bf) / KG;
    *r = clamp_u8(rf * 255.0);
    *g = clamp_u8(gf * 255.0);
    *b = clamp_u8(bf * 255.0);
}

/* ---------------------------------------------------------------- */
/* Table-driven conversion                                            */

/*
 * gv_rgb_to_yuv() as an affine map of R', G', B' in 0..1: output k is
 * offset[k] + m[k][0] R' + m[k][1] G' + m[k][2] B', for Y', Cb, Cr.
 */
static void rgb_to_yuv_affine(double offset[3], double m[3][3])
{
    const double s[3] = { Y_SPAN, C_SPAN / (2.0 * (1.0 - KB)), C_SPAN / (2.0 * (1.0 - KR)) };
    const double k[3][3] = {
        { KR, KG, KB },
        { -KR, -KG, 1.0 - KB },
        { 1.0 - KR, -KG, -KB },
    };
    offset[0] = Y_ZERO;
    offset[1] = offset[2] = C_ZERO;
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < 3; c++)
            m[i][c] = s[i] * k[i][c];
}

/*
 * One table per output and input channel, so a pixel costs three loads
 * and two adds per output. Each entry carries FIX_BITS fraction bits and
 * is off by at most half a unit, so a sum is within 1.5 units of the
 * exact value. A sum whose fraction lies farther than FIX_GUARD units
 * from one half therefore rounds as the exact value (and gv_rgb_to_yuv's
 * double) would; the few closer to a tie go through gv_rgb_to_yuv
 * itself, which keeps the two identical without trusting either side's
 * last bit.
 */
#define FIX_BITS GV_YUV_FIX_BITS
#define FIX_ONE (1 << FIX_BITS)
#define FIX_HALF (1 << (FIX_BITS - 1))
#define FIX_GUARD GV_YUV_FIX_GUARD

typedef struct YuvTables {
    int32_t t[3][3][256]; /* output (Y', Cb, Cr), input (R', G', B'), value */
    int usable;           /* 0: the self-check failed, use gv_rgb_to_yuv for everything */
} YuvTables;

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static YuvTables tables; /* written once under tables_once, read-only after */

static int32_t fix(const double v)
{
    return (int32_t)lround(v * FIX_ONE);
}

static int round_fix(const int32_t sum, int *exact)
{
    const int32_t frac = sum & (FIX_ONE - 1);
    if (abs(frac - FIX_HALF) <= FIX_GUARD)
        *exact = 0;
    return (sum + FIX_HALF) >> FIX_BITS;
}

/* Returns 0 when the tables could not decide, and the caller asks gv_rgb_to_yuv. */
static int rgb_to_yuv_fast(const uint8_t r, const uint8_t g, const uint8_t b, uint8_t out[3])
{
    int exact = 1;
    for (int k = 0; k < 3; k++) {
        const int32_t(*const t)[256] = tables.t[k];
        out[k] = (uint8_t)round_fix(t[0][r] + t[1][g] + t[2][b], &exact);
    }
    return exact;
}

static void init_tables(void)
{
    double offset[3], m[3][3];
    rgb_to_yuv_affine(offset, m);
    for (int k = 0; k < 3; k++) {
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 256; i++)
                tables.t[k][c][i] = fix((c == 0 ? offset[k] : 0.0) + m[k][c] * (i / 255.0));
        }
    }
    /*
     * The tables take the fixed-point argument above on trust; should it
     * ever fail (a coefficient changed, FIX_BITS lowered), this catches
     * it and every pixel takes the slow path. The exhaustive comparison
     * over all 2^24 colours is left to tests.
     */
    tables.usable = 1;
    uint32_t seed = 1;
    for (int i = 0; i < 3 * 256 + 65536 && tables.usable; i++) {
        uint8_t rgb[3];
        if (i < 3 * 256) {
            rgb[0] = rgb[1] = rgb[2] = 0;
            rgb[i / 256] = (uint8_t)i;
        } else {
            seed = seed * 1664525u + 1013904223u;
            rgb[0] = (uint8_t)(seed >> 8);
            rgb[1] = (uint8_t)(seed >> 16);
            rgb[2] = (uint8_t)(seed >> 24);
        }
        uint8_t a[3], e[3];
        gv_rgb_to_yuv(rgb[0], rgb[1], rgb[2], &e[0], &e[1], &e[2]);
        if (rgb_to_yuv_fast(rgb[0], rgb[1], rgb[2], a) && memcmp(a, e, 3))
            tables.usable = 0;
    }
}

void gv_rgb_to_yuv_n(const uint8_t *const rgb, const size_t n, uint8_t *const y,
                     uint8_t *const u, uint8_t *const v)
{
    pthread_once(&tables_once, init_tables);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *const p = rgb + 3 * i;
        uint8_t o[3];
        if (!tables.usable || !rgb_to_yuv_fast(p[0], p[1], p[2], o))
            gv_rgb_to_yuv(p[0], p[1], p[2], &o[0], &o[1], &o[2]);
        y[i] = o[0];
        u[i] = o[1];
        v[i] = o[2];
    }
}

int gv_rgb_to_yuv_tables(int32_t t[3][3][256])
{
    pthread_once(&tables_once, init_tables);
    memcpy(t, tables.t, sizeof(tables.t));
    return tables.usable;
}
