/*
 * Clip time: which moment of a clip an output frame shows. Pure
 * arithmetic, no dependencies (docs/CLIPS.md has the formulas).
 *
 * Output frame i is at video time i * fps_den / fps_num. A clip's own
 * time starts at its first visible frame f0 (CLIP_START=visible) or at
 * frame 0 (zero): tau = (i - f0) * fps_den / fps_num. A clip of duration
 * D then shows, at tau,
 *   loop:   tau mod D
 *   bounce: p = tau mod 2D; p when p <= D, else 2D - p
 *   hold:   min(tau, D)
 * and the frame shown is the last one whose presentation time is at most
 * that, give or take GV_CLIP_TIME_EPSILON (times from containers are
 * rounded; frames are never that close).
 */
#ifndef GV_CLIPTIME_H
#define GV_CLIPTIME_H

#include <stdint.h>

#include "gridvid/gridvid.h"

#define GV_CLIP_TIME_EPSILON 1e-6

typedef struct GvClipTiming {
    int fps_num, fps_den;  /* the video's frame rate */
    int64_t first;         /* the clip's first visible frame */
    double duration;       /* the clip's, seconds; 0: a single picture */
    GvClipLoop loop;
    GvClipStart start;
} GvClipTiming;

/* The clip time, in seconds from its first frame, that frame i shows. */
double gv_clip_time(const GvClipTiming *t, int64_t frame);

/* Whether a frame at presentation time pts (seconds from the clip's
 * first frame) has begun by clip time t. */
static inline int gv_clip_shown_by(double pts, double t)
{
    return pts <= t + GV_CLIP_TIME_EPSILON;
}

#endif
