/*
 * Image decoding and tile preparation. The only module that includes
 * <vips/vips.h>. All functions are thread-safe after gv_tiles_init().
 */
#ifndef GV_TILES_H
#define GV_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "gridvid/gridvid.h"
#include "log.h"
#include "picture.h"
#include "render/scaler.h"

/*
 * The GPU scales an image that cannot shrink while it decodes when it has
 * at least this many times the tile's pixels (docs/PERFORMANCE.md has the
 * measurement behind it).
 */
#define GV_GPU_SCALE_MIN_RATIO 1.5

typedef struct GvTileSpec {
    int w, h;               /* tile size */
    GvCrop crop;
    uint8_t background[3];  /* sRGB, for flattening alpha */
    uint64_t max_pixels;    /* refuse larger images before decoding */
    /* Scales on the GPU, where set, images of at least gpu_min_ratio times
     * the tile's pixels that cannot shrink while they decode. */
    struct GvScaler *scaler;
    double gpu_min_ratio;
} GvTileSpec;

/* Starts libvips once per process (safe to call repeatedly, from any
 * thread). Returns 0 or GV_ERR_DECODE. */
int gv_tiles_init(void);

/*
 * Cheap check from the header (and, for JPEG and PNG, the end of the
 * file): is this an image gridvid can use? Returns 0, or GV_ERR_DECODE
 * with a short reason ("not an image", "truncated", "60000x60000 is over
 * the 200000000-pixel limit", ...) in reason. *gpu_candidate (if not
 * NULL) says whether the image is larger than the tile and cannot shrink
 * while it decodes: one the GPU scaler may take.
 */
int gv_tile_probe(const char *path, const GvTileSpec *spec, char *reason, size_t reason_len,
                  int *gpu_candidate);

/*
 * Decode path completely (shrink-on-load, EXIF orientation, sRGB through
 * any embedded ICC profile, alpha over the background, crop, Lanczos-3)
 * into a new tile of spec->w x spec->h. Returns 0 and sets *out, or
 * GV_ERR_DECODE with a reason, or -ENOMEM.
 */
int gv_tile_load(const char *path, const GvTileSpec *spec, GvTile **out, char *reason,
                 size_t reason_len);

/* The same from an encoded image in memory (fuzzing, tests). */
int gv_tile_load_buffer(const void *data, size_t len, const GvTileSpec *spec, GvTile **out,
                        char *reason, size_t reason_len);

/* Generated demo image k of n, prepared like a file would be. */
int gv_tile_demo(int k, int n, const GvTileSpec *spec, GvTile **out);

/* Write a yuv420p picture as an 8-bit sRGB PNG (preview, frame sequence).
 * Writes to a temporary beside path and renames it into place. */
int gv_picture_write_png(const GvPicture *pic, const char *path, char *reason, size_t reason_len);

#endif
