/*
 * BT.709 limited-range conversions shared by tile preparation, the
 * compositors and the preview writer: the one place that knows the
 * coefficients. No dependencies.
 */
#ifndef GV_COLOR_H
#define GV_COLOR_H

#include <stddef.h>
#include <stdint.h>

/* BT.709 luma coefficients (also read by src/gpu/resample.cu). */
#define GV_BT709_KR 0.2126
#define GV_BT709_KB 0.0722
#define GV_BT709_KG (1.0 - GV_BT709_KR - GV_BT709_KB)

/* Limited range: Y' from 16 (black) over 219 steps, Cb and Cr 128 +- 112. */
#define GV_Y_ZERO 16.0
#define GV_Y_SPAN 219.0
#define GV_C_ZERO 128.0
#define GV_C_SPAN 224.0

/* sRGB (gamma-encoded, 0..255) to Y'CbCr, BT.709, limited range, rounded.
 * The reference every faster version must match exactly. */
void gv_rgb_to_yuv(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *u, uint8_t *v);
/* The inverse, clamped to 0..255. */
void gv_yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, uint8_t *r, uint8_t *g, uint8_t *b);

/*
 * gv_rgb_to_yuv() for n packed RGB pixels into three planes, through
 * tables: the same bytes, several times faster. Thread-safe.
 */
void gv_rgb_to_yuv_n(const uint8_t *rgb, size_t n, uint8_t *y, uint8_t *u, uint8_t *v);

/*
 * The tables behind gv_rgb_to_yuv_n(), for another processor to convert
 * the same way (the JPEG engine's kernel): output k (Y', Cb, Cr) of
 * (r, g, b) is (t[k][0][r] + t[k][1][g] + t[k][2][b] + 2^(B-1)) >> B with
 * B = GV_YUV_FIX_BITS, except where that sum's fraction lies within
 * GV_YUV_FIX_GUARD of one half: those pixels (and every pixel when this
 * returns 0) take gv_rgb_to_yuv()'s double arithmetic.
 */
#define GV_YUV_FIX_BITS 20
#define GV_YUV_FIX_GUARD 4
int gv_rgb_to_yuv_tables(int32_t t[3][3][256]);

#endif
