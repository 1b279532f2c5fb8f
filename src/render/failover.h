/*
 * One compositor over the CPU and Vulkan backends, so that the scheduler
 * never sees which one runs.
 *
 * gv_failover_open() starts opening the Vulkan compositor on a thread of
 * its own (0.3 to 2 s on real drivers) where USE_GPU allows one.
 * gv_failover_begin() picks the backend of the first frame: USE_GPU=
 * require (and the test switch that fails the GPU at a frame) waits for
 * the GPU; auto and true start on the CPU unless the GPU is open already,
 * and move to it between two frames, at the first moment with no frame in
 * flight after it opened. A GPU failure at any call moves to the CPU: the
 * live tiles are added to it and the frames in flight rendered again,
 * with one warning. Both backends compute the same integers
 * (tests/test_checkasm.c), so the video shows no seam where the backend
 * changed.
 *
 * Submissions complete in order; gv_failover_wait() returns the oldest
 * with the opaque pointer given to gv_failover_submit(). At most
 * gv_failover_depth() are in flight, a number that changes with the
 * backend (GV_MAX_DEPTH at most).
 *
 * A transparent background (GvFailoverConfig.transparent): each frame is
 * rendered twice, over GV_UNDER_BLACK and GV_UNDER_WHITE, into the two
 * pictures given to gv_failover_submit(); gv_alpha_resolve() (picture.h)
 * makes the alpha plane from their difference. A frame then takes two of
 * the backend's submissions.
 *
 * Thread-safety: one thread calls everything.
 */
#ifndef GV_RENDER_FAILOVER_H
#define GV_RENDER_FAILOVER_H

#include <stdint.h>

#include "gridvid/gridvid.h"
#include "render/compositor.h"

typedef struct GvFailover GvFailover;

typedef struct GvFailoverConfig {
    GvCompositorConfig comp;  /* for both backends; fail_at_frame applies to the GPU only */
    GvGpuMode gpu;            /* USE_GPU */
    int gpu_failed;           /* an earlier attempt lost the GPU: stay on the CPU */
    int open_delay_ms;        /* test-only: the GPU opens this much later */
    int n_images;             /* tiles are numbered 0 .. n_images - 1 */
    int transparent;          /* render each frame over two backgrounds */
} GvFailoverConfig;

/* Starts opening the GPU where allowed. Returns 0 or -ENOMEM. */
int gv_failover_open(GvFailover **out, const GvFailoverConfig *cfg);

/* Picks the backend of the first frame. Returns 0; GV_ERR_GPU with
 * USE_GPU=require and no GPU; or the CPU compositor's error. */
int gv_failover_begin(GvFailover *f);

/* As GvCompositorOps' tile_add and tile_remove. */
int gv_failover_tile_add(GvFailover *f, int k, const GvTile *tile);
void gv_failover_tile_remove(GvFailover *f, int k);
/* Image k shows tile from the next frame on (a clip's next picture); no
 * frame may be in flight. Returns 0 or a negative code. */
int gv_failover_tile_update(GvFailover *f, int k, const GvTile *tile);

/* Renders frame into out (and, with a transparent background, over the
 * second background into over; else over is NULL); the frame is complete
 * when gv_failover_wait() returns it. Returns 0 or a negative code (the
 * CPU failed too). */
int gv_failover_submit(GvFailover *f, int64_t frame, GvPicture *out, GvPicture *over,
                       void *opaque);

/* Waits for the oldest submission; sets *frame and *opaque. */
int gv_failover_wait(GvFailover *f, int64_t *frame, void **opaque);

int gv_failover_depth(const GvFailover *f);
int gv_failover_in_flight(const GvFailover *f);

/* After the last frame: a GPU that did not open in time is still
 * reported (as in gv_failover_begin()). */
int gv_failover_end(GvFailover *f);

/* The device of the last frame, for the summary. */
const char *gv_failover_device(GvFailover *f);

/* Whether the GPU failed during this run. */
int gv_failover_gpu_failed(const GvFailover *f);

/* Closes both backends; waits for the devices. */
void gv_failover_close(GvFailover **f);

#endif
