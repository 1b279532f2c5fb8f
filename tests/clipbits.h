/*
 * The pictures of tests/makeclip.c, read back. Frame n shows 8
 * full-width horizontal bands, top to bottom bits 7..0 of n (mod 256),
 * white for 1 and black for 0: sampled down a window's middle column at
 * each band's centre and thresholded at mid grey, a tile's or a rendered
 * frame's Y' plane (BT.709 limited range) gives n back. The ramp is the
 * smooth picture of makeclip --ramp, for comparing crops.
 */
#ifndef GV_TEST_CLIPBITS_H
#define GV_TEST_CLIPBITS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Y' between black (16) and white (235); samples closer to it than the
 * margin are neither. */
#define CLIPBITS_MID 126
#define CLIPBITS_MARGIN 40

/*
 * The number shown in the w x h window at (x, y) of plane (stride bytes a
 * row), or -1 where a band's centre is too close to mid grey to tell.
 */
static inline int clipbits_read_window(const uint8_t *plane, int stride, int x, int y, int w,
                                       int h)
{
    const int col = x + w / 2;
    int n = 0;
    for (int b = 0; b < 8; b++) {
        const int row = y + (2 * b + 1) * h / 16;
        const int v = plane[(ptrdiff_t)row * stride + col];
        if (abs(v - CLIPBITS_MID) < CLIPBITS_MARGIN)
            return -1;
        n = n << 1 | (v > CLIPBITS_MID);
    }
    return n;
}

/* The number shown in a whole w x h plane of stride bytes a row. */
static inline int clipbits_read(const uint8_t *plane, int w, int h, int stride)
{
    return clipbits_read_window(plane, stride, 0, 0, w, h);
}

/* makeclip --ramp's picture, w x h packed RGB: red rises left to right,
 * green top to bottom, blue is 128. */
static inline void clipbits_ramp(uint8_t *rgb, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *const p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(w > 1 ? (x * 255 + (w - 1) / 2) / (w - 1) : 0);
            p[1] = (uint8_t)(h > 1 ? (y * 255 + (h - 1) / 2) / (h - 1) : 0);
            p[2] = 128;
        }
}

#endif
