/*
 * BT.709 limited-range conversions shared by tile preparation, the
 * compositors and the preview writer: the one place that knows the
 * coefficients. No dependencies.
 */
#ifndef GV_COLOR_H
#define GV_COLOR_H

#include <stddef.h>
#include <stdint.h>

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

#endif
