/*
 * Test and benchmark switches. They are read from the environment once,
 * when a context opens (gv_open()), and passed down to the stages that
 * use them; nothing else in src/ reads the environment except the
 * settings (config.c). Every switch is off by default: a user never needs
 * one.
 */
#ifndef GV_HOOKS_H
#define GV_HOOKS_H

#include <stdint.h>

typedef struct GvHooks {
    /* GV_TEST_GPU_OPEN_DELAY_MS: the GPU compositor opens this much later,
     * so that the CPU renders the first frames. */
    int gpu_open_delay_ms;
    /* GV_TEST_GPU_FAIL_AT: the GPU compositor fails at this frame (and
     * the run waits for the GPU before its first frame); -1 never. */
    int64_t gpu_fail_at;
    /* GV_VK_STAGING=1: the discrete-GPU paths (staging, copy engine) on
     * any device. */
    int gpu_force_staging;
    /* GV_TEST_GPU_SCALE_SOFTWARE=1: the tile scaler takes a software
     * device too. */
    int scale_software;
    /* GV_TEST_GPU_SCALE_FAIL_AT=N: the scaler fails at its N-th image
     * (from 1); 0 never. */
    int scale_fail_at;
    /* GV_TEST_GPU_SCALE_WAIT=1: tiles wait for the scaler to open, so
     * that it takes every image it may. */
    int scale_wait;
    /* GV_TEST_ENGINE_WAIT=1: JPEG files wait for the engines to open
     * (the first frames' too), so that they take every file they may. */
    int engine_wait;
    /* GV_GPU_SCALE_MIN_RATIO: the least ratio of image to tile pixels
     * that is scaled on the GPU; 0 turns GPU scaling off. */
    double scale_min_ratio;
    /* GV_TEST_ENCODER_FAIL_AT=N: a hardware encoder dies at frame N, on
     * the first attempt only; 0 never. */
    int64_t encoder_fail_at;
    /* Benchmark switches of the JPEG engines: GV_ENGINE_THREADS (1 to 4),
     * GV_ENGINE_BATCH (files a batch, 1 to 128) and GV_ENGINE_AHEAD (the
     * batches the engines may take ahead of the tiles' window, 1 to 64);
     * 0 = the built-in choice. */
    int engine_threads, engine_batch, engine_ahead;
    /* GV_CLIP_AHEAD: the pictures each clip may hold decoded ahead (2 to
     * 16); 0 = the built-in GV_CLIP_PICTURES. */
    int clip_ahead;
    /* GV_CLIP_LEAD: the frames ahead of the wall's that an open clip
     * decodes (8 to 256); 0 = the built-in 16. */
    int clip_lead;
} GvHooks;

/* The defaults: every switch off. */
void gv_hooks_default(GvHooks *h);

/* The defaults, then every switch set in the environment. A value that
 * does not parse in full, or is out of range, is ignored. */
void gv_hooks_read(GvHooks *h);

#endif
