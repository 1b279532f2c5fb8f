/*
 * Tile scaling on the GPU: the Lanczos-3 of gv_resample() (src/resample.c)
 * as two compute passes, for sources that cannot shrink while they decode
 * (PNG, WebP, TIFF, ...). JPEG never comes here: libjpeg's DCT scaling
 * makes its decode small already. tiles.c decides, per image, when the
 * scaler is worth it (GV_GPU_SCALE_MIN_RATIO, measured in
 * docs/PERFORMANCE.md); the CPU takes any image the scaler refuses.
 *
 * Thread-safety: gv_scaler_run() may be called from any number of threads
 * at once; open and close from one.
 */
#ifndef GV_GPU_SCALER_H
#define GV_GPU_SCALER_H

#include <stdint.h>

#include "log.h"

typedef struct GvScaler GvScaler;

typedef struct GvScalerConfig {
    const char *filter;   /* device name filter, as for --gpu-device, or NULL */
    int64_t memory_bytes; /* at most this much GPU and pinned host memory */
    /* A software device (lavapipe) is refused unless this is set: there
     * the scaler costs 2 to 3 times the CPU time of scaling on the CPU
     * (tests/test_scaler.c's timing). */
    int software;
    int fail_at;          /* test-only: the fail_at-th image (from 1) fails; 0 never */
    const GvLog *log;
} GvScalerConfig;

/*
 * Opens a scaler on the device the compositor would choose. Returns 0,
 * -ENODEV (no Vulkan or no device), GV_ERR_GPU or -ENOMEM. Built without
 * Vulkan it always returns -ENODEV.
 */
int gv_scaler_open(GvScaler **out, const GvScalerConfig *cfg);
void gv_scaler_close(GvScaler **s);

/*
 * Scales sw x sh pixels of `bands` bytes (3: RGB; 4: RGBA, put over bg
 * first) to dw x dh RGB in dst, as gv_resample() does; no sample differs
 * from it by more than 1 (tests/test_scaler.c). Waits while every slot is
 * busy. Returns 0; -E2BIG when the image is over what a slot may hold;
 * GV_ERR_GPU after a Vulkan failure, which also closes the scaler to
 * later calls (-ENODEV); or -ENOMEM. On any error dst is unspecified and
 * the caller scales on the CPU.
 */
int gv_scaler_run(GvScaler *s, const uint8_t *src, int sw, int sh, int bands, const uint8_t bg[3],
                  uint8_t *dst, int dw, int dh);

/* Images scaled so far, for the summary. */
int gv_scaler_count(const GvScaler *s);

#endif
