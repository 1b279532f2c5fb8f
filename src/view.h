/*
 * The view: a Ken Burns zoom inside every tile, and a perspective camera
 * over the wall (docs/VIEW.md). Both generalise the compositor's sampling:
 * an output pixel looks through the camera at a point of the wall, the
 * layout finds the tile there, and the tile samples its prepared image
 * through an affine map that changes with the tile's place in the frame.
 *
 * Everything a compositor needs is precomputed here in integers (the
 * camera map once per run, the tiles' maps once per frame), so that the
 * CPU reference and the GPU shader agree sample for sample: the per-pixel
 * arithmetic is integer only, spelled out in gv_view_locate() and
 * gv_view_fetch().
 */
#ifndef GV_VIEW_H
#define GV_VIEW_H

#include <stdint.h>

#include "gridvid/gridvid.h"
#include "layout.h"
#include "picture.h"

typedef struct GvViewParams {
    int width, height;        /* frame */
    GvLayoutKind kind;
    int tile_w, tile_h;       /* the tile as the wall shows it */
    GvCrop crop;              /* where the zoom's focus lies */
    double ken_burns;         /* percent, 0 = off */
    int camera;               /* the camera is on */
    double tilt, turn, fov;   /* degrees, after the preset */
    double distance;          /* 1 = the frame's centre at the wall's scale */
    double depth_fade;        /* percent */
    int threads;              /* for the camera map, 0 = 1 */
} GvViewParams;

/* The camera map's word for a pixel that sees no wall. */
#define GV_VIEW_NONE 0xffffffffu
/* Depth beyond which the wall is not drawn, in distances to its centre. */
#define GV_VIEW_FAR 8.0
/* Most mip levels of a prepared tile. */
#define GV_VIEW_LEVELS 12
/* Most lanes a camera may extend the wall to. */
#define GV_VIEW_MAX_LANES 512

typedef struct GvView {
    GvViewParams p;
    int active;               /* Ken Burns or a camera: the view path renders */
    int src_w, src_h;         /* the prepared tile */
    double scale;             /* src / tile: (1 + ken_burns) x magnification */
    double magnification;     /* the camera's largest, 1 to 2 */
    /* Mip chain of one plane of a prepared tile: level L is lw[L] x lh[L]
     * bytes at chain offset loff[L]; chain_bytes in all. A tile's chain is
     * Y, then U, then V. */
    int levels;
    int lw[GV_VIEW_LEVELS], lh[GV_VIEW_LEVELS];
    int64_t loff[GV_VIEW_LEVELS];
    int64_t chain_bytes;
    /*
     * The camera map, NULL without a camera: per luma pixel three words,
     * the wall point it sees (x and y in 1/256 pixel, frame coordinates)
     * and lod | fade << 16: lod is 32768 + 256 log2 of the wall pixels
     * one output pixel spans, fade 0 (background) to 256 (the wall). The
     * third word is GV_VIEW_NONE where the pixel sees no wall.
     */
    int32_t *map;
    int cross_lo, cross_hi;   /* cross-axis wall extent the map sees, pixels */
} GvView;

/* The view of settings s (presets resolved). */
GvViewParams gv_view_params(const GvSettings *s);

/* Builds the view. Returns 0, -EINVAL or -ENOMEM; gv_view_free() after. */
int gv_view_init(GvView *v, const GvViewParams *p);
void gv_view_free(GvView *v);

/* The cross length the lanes must cover (GvLayoutParams.view_cross). */
int gv_view_cross(const GvView *v, int thick, int gap);

/* Sets every lane's visible window (vis_lo, vis_hi) from the map. */
void gv_view_attach(const GvView *v, GvLayout *l);

/* Builds the mip chain of one tile (three planes) into dst (chain_bytes x 3). */
void gv_view_chain(const GvView *v, const GvTile *t, uint8_t *dst);

/* A tile copy's map from display tile to prepared tile, 16.16 and 1/256. */
typedef struct GvViewInst {
    int32_t ax, bx, ay, by;
    int32_t lod;              /* 256 log2 of prepared pixels per display pixel */
} GvViewInst;

/* The tile copies of lane r at blur sample j: absolute strip columns
 * first .. first + count - 1 are insts[base ..]. */
typedef struct GvViewRun {
    int32_t first, base, count;
} GvViewRun;

/* What the zoom needs of an image, from its tile (GvTile's fields). */
typedef struct GvViewLook {
    float focus_x, focus_y; /* 0 to 1, -1: the crop position's */
    float aspect;           /* the image's aspect over the tile's, 0: unknown */
} GvViewLook;

/* A panorama or tall image (aspect this far from the tile's) pans. */
#define GV_VIEW_PAN_ASPECT 1.5

/*
 * The part of a prepared tile sw x sh that a copy shows when its way
 * across the frame is tau (0 to 1), zooming in (zoom_in) or out by up to
 * ken_burns percent towards look's focus (or the crop position's; look
 * may be NULL), or panning a panorama or tall image: win = left, top,
 * width, height, in prepared pixels (docs/VIEW.md).
 */
void gv_view_window(double ken_burns, GvCrop crop, const GvViewLook *look, int sw, int sh,
                    int zoom_in, double tau, double win[4]);

/* The most copies one frame may need (sizes the per-frame arrays). */
int64_t gv_view_max_insts(const GvView *v, const GvLayout *l);

/*
 * Fills runs[j * n_lanes + r] and insts for a frame whose offsets are
 * `offs` (as gv_frame_offsets()), with looks[k] for image k (NULL: none
 * known). Returns the number of copies.
 */
int gv_view_frame(const GvView *v, const GvLayout *l, const GvOffset *offs,
                  const GvViewLook *looks, GvViewRun *runs, GvViewInst *insts);

/* What gv_view_locate() reads. */
typedef struct GvViewJob {
    const GvView *v;
    const GvLayout *l;
    const GvOffset *offs;     /* the frame's */
    const GvViewRun *runs;
    const GvViewInst *insts;
    const uint8_t *const *chains; /* per image, NULL: not resident */
} GvViewJob;

/* Where output pixel (x, y) samples at blur sample j: chain NULL for
 * BACKGROUND, else the offsets in a plane's chain of the four pixels
 * bilinear filtering reads on one or two levels, their weights, and the
 * fade. */
typedef struct GvViewTaps {
    size_t o[4];        /* (x0, y0), (x1, y0), (x0, y1), (x1, y1) */
    uint32_t fx, fy;
} GvViewTaps;

typedef struct GvViewSpot {
    const uint8_t *chain;
    GvViewTaps t[2];    /* level lv, and lv + 1 when lf > 0 */
    uint32_t lf, fade;
} GvViewSpot;

/* What the last gv_view_locate() with this hint found (lane, column), so
 * that the next pixel of a line mostly skips the divisions. Zero it
 * before the first use; one per blur sample. */
typedef struct GvViewHint {
    int r;              /* lane + 1, 0: none yet */
    int64_t rel_lo, rel_hi, c, s_lo, s_hi;
} GvViewHint;

void gv_view_locate(const GvViewJob *job, int x, int y, int j, GvViewSpot *spot, GvViewHint *hint);

/* 256 x the value of plane `plane` at a spot; bg is the plane's BACKGROUND. */
uint32_t gv_view_fetch(const GvView *v, const GvViewSpot *spot, int plane, uint32_t bg);


/* The Ken Burns zoom of a tile copy whose way across the frame is tau
 * (0 entering, 1 leaving): 1 to 1 + ken_burns/100, in or out. */
double gv_view_zoom(double ken_burns, int zoom_in, double tau);

/* The wall point pixel (x, y) sees, in frame coordinates; 0 for none. */
int gv_view_project(const GvView *v, double x, double y, double *wx, double *wy, double *depth);

#endif
