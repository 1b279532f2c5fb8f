#include "clipplay.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int gv_clip_play_open(GvClipPlay *p, const char *path, const GvClipConfig *cfg,
                      const GvClipTiming *t, char *reason, size_t reason_len)
{
    memset(p, 0, sizeof(*p));
    p->timing = *t;
    return gv_clip_open(&p->clip, path, cfg, reason, reason_len);
}

/* The frame at pts (the decoder's newest, or the one before it) is shown. */
static int show(GvClipPlay *p, int previous, GvTile **tile)
{
    const double pts = previous ? p->prev_pts : p->cur_pts;
    *tile = NULL;
    if (p->have_shown && p->shown_pts == pts)
        return 0;
    const int ret = previous ? gv_clip_tile_previous(p->clip, tile) : gv_clip_tile(p->clip, tile);
    if (ret == 0) {
        p->have_shown = 1;
        p->shown_pts = pts;
    }
    return ret;
}

/* Decodes one frame forward; 1 at the end. */
static int step(GvClipPlay *p, char *reason, size_t len)
{
    double pts;
    const int ret = gv_clip_next(p->clip, &pts, reason, len);
    if (ret == 1) {
        p->eof = 1;
        return 1;
    }
    if (ret < 0)
        return ret;
    p->decoded++;
    p->prev_pts = p->cur_pts;
    p->have_prev = p->have_cur;
    p->cur_pts = pts;
    p->have_cur = 1;
    return 0;
}

int gv_clip_play_frame(GvClipPlay *p, int64_t frame, GvTile **tile, char *reason,
                       size_t reason_len)
{
    const double t = gv_clip_time(&p->timing, frame);
    int seeked = 0, ret;
    *tile = NULL;
    for (;;) {
        if (!p->have_cur) {
            if ((ret = step(p, reason, reason_len)) < 0)
                return ret;
            if (ret == 1) {
                snprintf(reason, reason_len, "no frame at %.3f s", t);
                return GV_ERR_DECODE;
            }
            continue;
        }
        if (gv_clip_shown_by(p->cur_pts, t)) {
            /* the newest frame has begun: the one after it may have too */
            if (p->eof || (ret = step(p, reason, reason_len)) == 1)
                return show(p, 0, tile);
            if (ret < 0)
                return ret;
            continue;
        }
        if (p->have_prev && gv_clip_shown_by(p->prev_pts, t))
            return show(p, 1, tile);
        /* every frame decoded is later than t: back to the key frame
         * before it; where even that is later, its first frame shows */
        if (seeked)
            return show(p, 0, tile);
        if ((ret = gv_clip_seek(p->clip, t, reason, reason_len)) < 0)
            return ret;
        p->seeks++;
        seeked = 1;
        p->have_cur = p->have_prev = p->eof = 0;
    }
}

void gv_clip_play_close(GvClipPlay *p)
{
    gv_clip_close(&p->clip);
}
