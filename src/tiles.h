/*
 * Image decoding and tile preparation. With png.c, the only module that
 * includes <vips/vips.h>; libvips' start-up and the translation of its
 * errors live here, and png.c uses them. All functions are thread-safe.
 */
#ifndef GV_TILES_H
#define GV_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "gridvid/gridvid.h"
#include "log.h"
#include "picture.h"
#include "gpu/scaler.h"

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
    /* Find each tile's point of interest (GvTile.focus_x/_y) where the
     * crop is attention or entropy: a Ken Burns zoom goes towards it. */
    int find_focus;
    /* Captions drawn into the tiles (src/text.h); NULL: none. */
    const struct GvCaptionSpec *caption;
} GvTileSpec;

/* Starts libvips once per process (safe to call repeatedly, from any
 * thread). Returns 0 or GV_ERR_DECODE. */
int gv_tiles_init(void);

/* What gv_tile_probe() says of an image besides whether it is usable. */
enum {
    GV_PROBE_GPU_SCALE = 1,   /* larger than the tile, cannot shrink while it decodes */
    GV_PROBE_JPEG_ENGINE = 2, /* a JPEG larger than the tile: the JPEG engine may take it */
    GV_PROBE_ANIMATED = 4,    /* a GIF or WebP of several frames: it may play as a clip */
    GV_PROBE_CLIP = 8,        /* set by probe.c: a clip (clip.h), not a still */
};

/*
 * Cheap check from the header (and, for JPEG and PNG, the end of the
 * file): is this an image gridvid can use? Returns 0, or GV_ERR_DECODE
 * with a short reason ("not an image", "truncated", "60000x60000 is over
 * the 200000000-pixel limit", ...) in reason. *flags (if not NULL) gets
 * GV_PROBE_* bits: which GPU path may take the image.
 */
int gv_tile_probe(const char *path, const GvTileSpec *spec, char *reason, size_t reason_len,
                  int *flags);

/*
 * The crop window of a fixed CROP_POSITION on an upright iw x ih image,
 * as the libvips path places it: rect = x, y, w, h. -EINVAL for the
 * smart crops (attention, entropy), which need the pixels.
 */
int gv_tile_crop_rect(int iw, int ih, const GvTileSpec *spec, int rect[4]);

/*
 * Sets t->focus_x/_y to the centre of interest libvips' attention measure
 * finds in the tile (edges, skin tones, saturation), 0 to 1 across it.
 * Leaves them at -1 when libvips fails. Returns 0 or -ENOMEM.
 */
int gv_tile_find_focus(GvTile *t);

/*
 * The crop window of spec's aspect on w x h pixels of 8-bit sRGB (3 bytes
 * a pixel, rows packed; only read) where libvips' smart crop puts it for
 * CROP_POSITION attention or entropy (the fixed positions as
 * gv_tile_crop_rect()): rect = x, y, w, h. For clips, whose crop is chosen
 * once from the first frame. Returns 0, -EINVAL, or GV_ERR_DECODE.
 */
int gv_tile_smart_rect(const uint8_t *rgb, int w, int h, const GvTileSpec *spec, int rect[4]);

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

/*
 * The same from w x h pixels of 8-bit sRGB in memory (3 bytes a pixel,
 * rows packed; only read), as a file of them would be prepared (demo.c).
 * Returns 0 and sets *out, -EINVAL, -ENOMEM (also for a side libvips
 * cannot take), or GV_ERR_DECODE with a reason.
 */
int gv_tile_load_rgb(const uint8_t *rgb, int w, int h, const GvTileSpec *spec, GvTile **out,
                     char *reason, size_t reason_len);

/*
 * Animated WebP, which libavcodec cannot decode, read page by page
 * with libvips for clip.c. Pages are best read in order: an earlier page
 * than the last read reads the file again from the start.
 */
typedef struct GvAnim GvAnim;

/* Opens path's pages. Returns 0, GV_ERR_DECODE with a reason (one page
 * only, over spec->max_pixels, ...) or -ENOMEM. */
int gv_anim_open(GvAnim **out, const char *path, const GvTileSpec *spec, char *reason,
                 size_t len);
/* The pages, and their size in *w x *h. */
int gv_anim_size(const GvAnim *a, int *w, int *h);
/* When page p shows, in seconds from the first; of page count, the end. */
double gv_anim_time(const GvAnim *a, int page);
/* Page p as a tile, prepared as a photo is (a smart crop's window is
 * chosen on the first page and kept). */
int gv_anim_tile(GvAnim *a, int page, GvTile **out, char *reason, size_t len);
void gv_anim_close(GvAnim **a);

/* Whether the gv_tile_* functions take spec's tile size. */
int gv_tile_spec_ok(const GvTileSpec *spec);

/*
 * For png.c. Puts the first line of libvips' error buffer (taken and
 * cleared) after what into reason, and returns GV_ERR_DECODE.
 */
int gv_vips_reason(char *reason, size_t len, const char *what);
/* Puts "what: <strerror(err)>" into reason. */
void gv_errno_reason(char *reason, size_t len, const char *what, int err);

#endif
