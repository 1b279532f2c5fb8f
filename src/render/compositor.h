/*
 * The compositor interface: turns the layout, the tiles and a frame index
 * into a yuv420p picture. The CPU backend (cpu.c) is the reference; every
 * other backend is checked against it by tests/test_checkasm.c.
 *
 * Sampling contract (all backends, exact integer arithmetic):
 *   For blur sample j and lane r, off = offsets[j * n_lanes + r].
 *   A luma sample at main-axis coordinate m reads strip positions
 *   s0 = (m + off.pos) mod P and s1 = (s0 + 1) mod P and forms
 *   v_j = a * (256 - off.frac) + b * off.frac (a, b the strip values;
 *   BACKGROUND in gaps, outside lanes and in empty lanes, with v_j =
 *   256 * bg there).
 *   Y = (sum_j v_j + 128 n) / (256 n)            (integer division)
 *   A chroma sample (cx, cy) sits at luma x = 2 cx (left siting) and
 *   averages luma lines 2 cy and 2 cy + 1 (for columns: columns are
 *   lanes and the two lines are two main-axis positions):
 *   C = (sum_j (v_j(line 2cy) + v_j(line 2cy+1)) + 256 n) / (512 n)
 */
#ifndef GV_COMPOSITOR_H
#define GV_COMPOSITOR_H

#include <stdint.h>

#include "layout.h"
#include "log.h"
#include "picture.h"

typedef struct GvCompositorConfig {
    const GvLayout *layout;
    uint8_t bg_yuv[3];        /* BACKGROUND as Y'CbCr */
    int threads;              /* CPU threads the backend may use */
    const char *gpu_device;   /* Vulkan device name filter, or NULL */
    int64_t gpu_memory_bytes;
    int fail_at_frame;        /* test-only: fail this frame (-1 = never) */
    int force_staging;        /* test-only: the discrete-GPU paths on any device */
    const GvLog *log;
} GvCompositorConfig;

/* The most submissions any backend keeps outstanding (ops.depth); the
 * pipeline holds tiles this many frames past their last. */
#define GV_MAX_DEPTH 4

typedef struct GvCompositorOps {
    const char *name;
    /* Returns 0 or a negative code; *priv is set only on success. */
    int (*open)(void **priv, const GvCompositorConfig *cfg);
    /*
     * Image k becomes available. The tile stays valid and unchanged until
     * tile_remove(k) returns. Called before any frame that shows k is
     * submitted.
     */
    int (*tile_add)(void *priv, int k, const GvTile *tile);
    /* Image k will not be shown by any frame submitted from now on; every
     * frame already submitted that shows it has been waited for. */
    void (*tile_remove)(void *priv, int k);
    /*
     * Render frame `frame` into out. May return before the pixels are
     * written; they are complete when wait() returns for this picture.
     * At most `depth` submissions are outstanding.
     */
    int (*submit)(void *priv, int64_t frame, GvPicture *out);
    /* Waits for the oldest outstanding submission. */
    int (*wait)(void *priv);
    void (*close)(void **priv);
    /* BACKGROUND for the frames submitted from now on, in place of the
     * configuration's (a transparent background renders each frame over
     * two: src/render/failover.h). */
    void (*set_background)(void *priv, const uint8_t bg_yuv[3]);
    /* Name of the device used, for the summary. */
    const char *(*device_name)(void *priv);
    int depth;
} GvCompositorOps;

extern const GvCompositorOps gv_compositor_cpu;
/* NULL when built without Vulkan. */
extern const GvCompositorOps *const gv_compositor_vulkan;

/*
 * The CPU reference, one frame at once, usable without a context: renders
 * `frame` with `tiles` indexed by image (NULL entries are never read for
 * images the frame does not show). lines_from/lines_to restrict the output
 * to luma lines [from, to), both even, for splitting across threads.
 * Returns 0 or -ENOMEM (nothing rendered).
 */
int gv_cpu_render(const GvLayout *l, const uint8_t bg_yuv[3], const GvTile *const *tiles,
                  const GvOffset *offsets, GvPicture *out, int lines_from, int lines_to);

#endif
