/*
 * BT.709 limited-range conversions shared by tile preparation, the
 * compositors and the preview writer. No dependencies.
 */
#ifndef GV_COLOR_H
#define GV_COLOR_H

#include <stdint.h>

/* sRGB (gamma-encoded, 0..255) to Y'CbCr, BT.709, limited range, rounded. */
void gv_rgb_to_yuv(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *u, uint8_t *v);
/* The inverse, clamped to 0..255. */
void gv_yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, uint8_t *r, uint8_t *g, uint8_t *b);

#endif
