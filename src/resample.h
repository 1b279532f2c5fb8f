/*
 * Lanczos-3 resampling of 8-bit RGB, the reference for the GPU tile
 * scaler (src/gpu/scaler.c), which uses the same weights and
 * the same order of float operations.
 */
#ifndef GV_RESAMPLE_H
#define GV_RESAMPLE_H

#include <stdint.h>

/* Per output sample: the first input index and n weights summing to one. */
typedef struct GvFilter {
    int n;
    int *first;
    float *w; /* out * n weights */
} GvFilter;

/* Weights from `in` samples to `out`; 0 or -ENOMEM. */
int gv_filter_init(GvFilter *f, int in, int out);
void gv_filter_free(GvFilter *f);

/*
 * From sw x sh pixels of `bands` bytes (3: RGB; 4: RGBA, first put over
 * bg as gv_flatten_px() does) to dw x dh RGB, edges repeated. Returns 0
 * or -ENOMEM.
 */
int gv_resample(const uint8_t *src, int sw, int sh, int bands, const uint8_t bg[3], uint8_t *dst,
                int dw, int dh);

/*
 * Channel value c put over bg by alpha a (all 0..255), rounded to the
 * nearest: round(N / 255) with N = a c + (255 - a) bg. N / 255 never ends
 * in one half (255 is odd), so no tie rule is needed, and the float
 * flatten of libvips with its +0.5 gives the same value.
 */
static inline int gv_flatten_px(const int c, const int a, const int bg)
{
    return (2 * (a * c + (255 - a) * bg) + 255) / 510;
}

#endif
