/*
 * A clip playing in its tile: which of its frames each output frame
 * shows (cliptime.h), decoded forward with clip.c and turned into tiles
 * only for the frames shown. Going back (a loop starting again, a bounce
 * going backwards) seeks to the key frame before the time wanted and
 * decodes forward from there; on the way it keeps the pictures the next
 * GV_CLIP_PLAY_CACHE frames will show, so that a clip playing backwards
 * seeks once for several frames rather than once a frame.
 *
 * Thread-safety: one thread at a time per GvClipPlay.
 */
#ifndef GV_CLIPPLAY_H
#define GV_CLIPPLAY_H

#include <stdint.h>

#include "clip.h"
#include "cliptime.h"

#define GV_CLIP_PLAY_CACHE 12

/* A picture kept for a later frame: shown for clip times in [pts, next). */
typedef struct GvClipCached {
    GvTile *tile;
    double pts, next;
} GvClipCached;

typedef struct GvClipPlay {
    GvClip *clip;
    GvClipTiming timing;
    int have_cur, have_prev, eof; /* the decoder's last two frames; the end reached */
    double cur_pts, prev_pts;
    int have_shown;               /* a frame was returned: shown_pts is its time */
    double shown_pts;
    int64_t decoded, seeks;       /* frames decoded, seeks made */
    GvClipCached cache[GV_CLIP_PLAY_CACHE];
    int n_cache;
    double ahead[GV_CLIP_PLAY_CACHE]; /* after a seek: the next frames' clip times */
    int n_ahead;
} GvClipPlay;

/* Opens path for playing with timing t (t->duration is the clip's).
 * Returns 0, GV_ERR_DECODE with a reason, or -ENOMEM. */
int gv_clip_play_open(GvClipPlay *p, const char *path, const GvClipConfig *cfg,
                      const GvClipTiming *t, char *reason, size_t reason_len);

/*
 * The picture output frame `frame` shows: *tile a new tile, or NULL when
 * it is the picture the previous call returned. Frames are best asked
 * for in order; any order works. Returns 0, GV_ERR_DECODE with a reason,
 * or -ENOMEM.
 */
int gv_clip_play_frame(GvClipPlay *p, int64_t frame, GvTile **tile, char *reason,
                       size_t reason_len);

void gv_clip_play_close(GvClipPlay *p);

#endif
