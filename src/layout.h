/*
 * The geometry and timing of SPEC.md: lanes (rows, or columns for the
 * columns layout), periodic strips, offsets, easing, motion-blur sample
 * times and which frames show which image. Pure arithmetic, no I/O and no
 * dependencies, so it is tested alone.
 *
 * Axes: "main" is the direction of motion (x for rows, y for columns),
 * "cross" the other one. A lane is a row or a column.
 */
#ifndef GV_LAYOUT_H
#define GV_LAYOUT_H

#include <stdint.h>

#include "gridvid/gridvid.h"

typedef struct GvLayoutParams {
    int width, height;       /* frame */
    GvLayoutKind kind;
    int tile_w, tile_h;
    int gap;
    int lanes;               /* ROWS, 0 = fill the frame */
    int n_images;            /* usable images */
    GvDirection direction;
    GvEasing easing;
    double speed;            /* px/s, 0 = travel one period */
    double duration;         /* seconds */
    int fps_num, fps_den;
    int motion_blur;         /* samples per frame, >= 1 */
    int view_cross;          /* cross length a camera sees (src/view.h), 0 = the frame's */
    /* BEAT_SYNC: the motion follows these beat times (seconds, ascending,
     * within (0, duration)) instead of EASING; n_beats 0: off */
    int beat_mode;           /* GV_BEAT_STEPS or GV_BEAT_PULSE */
    const double *beats;
    int n_beats;
} GvLayoutParams;

typedef struct GvLane {
    int n;          /* images in the lane */
    int64_t period; /* n * (step + gap); 0 for an empty lane */
    double travel;  /* L */
    int sign;       /* +1: u = +L e (left or up), -1: u = -L e */
    int pos;        /* cross-axis coordinate of the lane's first line; may be negative */
    /* Main-axis window the frame sees of the lane, interpolation neighbour
     * included: [0, main_len] unless a camera looks at it (src/view.h);
     * empty when vis_lo > vis_hi. */
    int64_t vis_lo, vis_hi;
    int src;        /* the row of SPEC.md whose images and motion the lane shows: itself,
                       or for lanes a camera adds, src = (index - added above) mod rows */
} GvLane;

typedef struct GvLayout {
    GvLayoutParams p;
    int main_len;   /* frame length along the motion: W for rows, H for columns */
    int cross_len;  /* H for rows, W for columns */
    int step;       /* tile length along the motion: tw for rows, th for columns */
    int thick;      /* tile length across: th for rows, tw for columns */
    int n_lanes;    /* lanes drawn: R, and the lanes a camera adds above and below */
    int rows;       /* R of SPEC.md: images go k mod R to them */
    int first;      /* cross coordinate of lane 0: y0 (or x0 for columns), less the lanes a
                       camera adds above */
    int64_t frames; /* F */
    GvLane *lanes;  /* n_lanes entries */
    const struct GvView *view; /* Ken Burns or a camera (src/view.h), NULL: none */
} GvLayout;

/* An offset quantised for sampling: strip position of output pixel 0 is
 * pos + frac / 256, with 0 <= pos < period and 0 <= frac < 256. */
#define GV_FRAC_BITS 8
#define GV_FRAC_ONE (1 << GV_FRAC_BITS)
typedef struct GvOffset {
    int64_t pos;
    int frac;
} GvOffset;

/* a / b and a mod b rounded towards minus infinity (b > 0). */
static inline int64_t gv_floor_div(int64_t a, int64_t b)
{
    const int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline int64_t gv_floor_mod(int64_t a, int64_t b)
{
    return a - gv_floor_div(a, b) * b;
}

/* tw = 2 * floor(th * aw / ah / 2 + 1/2). Returns 0 when that overflows. */
int gv_tile_width(int tile_h, int aspect_w, int aspect_h);

/* F = round(fps * duration), halves up; -1 when out of range. */
int64_t gv_frame_count(int fps_num, int fps_den, double duration);

/* Number of lanes that fill `cross` with lanes of `thick` and `gap`. */
int gv_auto_lanes(int cross, int thick, int gap);

/* The easing curve e(p) as written in SPEC.md (also outside [0, 1]). */
double gv_ease(GvEasing e, double p);

/*
 * The motion curve of BEAT_SYNC (docs/BEAT.md) at progress p, for beats
 * at times beats[0..n) in a video of `duration` seconds: steps (mode
 * GV_BEAT_STEPS) or pulses (GV_BEAT_PULSE). e(0) = 0, e(1) = 1, rising;
 * outside [0, 1) it repeats, one further each period, so the loop closes.
 */
double gv_beat_ease(int mode, const double *beats, int n, double duration, double p);

/* Share of each beat interval the steps spend moving (the rest holds). */
#define GV_BEAT_MOVE 0.5
/* Pulses: the speed rises by GV_BEAT_PULSE_GAIN times at a beat and decays
 * with time constant GV_BEAT_PULSE_TAU seconds. */
#define GV_BEAT_PULSE_GAIN 2.0
#define GV_BEAT_PULSE_TAU 0.12

/* Progress of motion-blur sample j of n in frame i of F. */
double gv_sample_progress(int64_t i, int64_t frames, int j, int n);

/* The layout parameters of settings s for n_images usable images: the one
 * place that maps SPEC.md's keys onto the layout. */
GvLayoutParams gv_layout_params(const GvSettings *s, int n_images);

/*
 * Builds the layout. Returns 0, -EINVAL for impossible parameters or
 * -ENOMEM. gv_layout_free() releases it (also after a failed init).
 */
int gv_layout_init(GvLayout *l, const GvLayoutParams *p);
void gv_layout_free(GvLayout *l);

/* Image index shown at column `col` (within one period) of `lane`. */
static inline int gv_lane_image(const GvLayout *l, int lane, int col)
{
    return col * l->rows + l->lanes[lane].src;
}

/* Lane offset u_r at progress p (pixels along the main axis). */
double gv_lane_offset(const GvLayout *l, int lane, double p);

/* u quantised to 1/256 pixel and reduced modulo the lane's period. */
GvOffset gv_offset_quantize(double u, int64_t period);

/* Offsets of every lane for every blur sample of frame i:
 * out[j * n_lanes + lane], n_samples = motion_blur. */
void gv_frame_offsets(const GvLayout *l, int64_t frame, GvOffset *out);

/*
 * Which lane and line a cross-axis coordinate falls on: returns the lane
 * index and sets *line (0..thick-1), or -1 for gaps and outside the lanes.
 */
int gv_lane_at(const GvLayout *l, int cross, int *line);

/*
 * For every image the first and last frame that shows any of its pixels
 * (including the neighbour read by interpolation and every blur sample),
 * or -1 and -1 for an image no frame shows. first/last have n_images
 * entries.
 */
void gv_layout_lifetimes(const GvLayout *l, int64_t *first, int64_t *last);

/* A run of frames [from, to] that show an image. */
typedef struct GvSpan {
    int64_t from, to;
} GvSpan;

/*
 * For every image k with want[k] set, the runs of frames that show any of
 * its pixels (as gv_layout_lifetimes() counts them), in order: image k's
 * are (*spans)[index[k] .. index[k + 1]). A wall that wraps shows an
 * image in more than one run. *spans and *index (n_images + 1 entries)
 * are the caller's to free. Returns 0 or -ENOMEM.
 */
int gv_layout_spans(const GvLayout *l, const unsigned char *want, GvSpan **spans, int **index);

/*
 * Calls fn for every image that frame `frame` shows (each once).
 * Used for previews and for tests; returns the number of images.
 */
int gv_frame_images(const GvLayout *l, int64_t frame, void (*fn)(void *, int), void *opaque);

#endif
