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

static void cache_clear(GvClipPlay *p)
{
    for (int i = 0; i < p->n_cache; i++)
        gv_tile_free(&p->cache[i].tile);
    p->n_cache = 0;
}

/* A kept picture for clip time t: *tile it (or NULL when it is the one
 * shown last); returns whether there was one. */
static int cache_take(GvClipPlay *p, double t, GvTile **tile)
{
    for (int i = 0; i < p->n_cache; i++) {
        GvClipCached *const e = &p->cache[i];
        if (!gv_clip_shown_by(e->pts, t) || gv_clip_shown_by(e->next, t))
            continue;
        *tile = NULL;
        if (p->have_shown && p->shown_pts == e->pts) {
            gv_tile_free(&e->tile);
        } else {
            *tile = e->tile;
            p->have_shown = 1;
            p->shown_pts = e->pts;
        }
        *e = p->cache[--p->n_cache];
        return 1;
    }
    return 0;
}

/* After a seek, with the frame before the newest decoded: keeps it when
 * one of the next frames shows it (and it is not what frame t shows). */
static int cache_keep(GvClipPlay *p, double t)
{
    if (!p->have_prev || p->n_cache == GV_CLIP_PLAY_CACHE ||
        (gv_clip_shown_by(p->prev_pts, t) && !gv_clip_shown_by(p->cur_pts, t)))
        return 0;
    for (int m = 0; m < p->n_ahead; m++) {
        if (!gv_clip_shown_by(p->prev_pts, p->ahead[m]) || gv_clip_shown_by(p->cur_pts, p->ahead[m]))
            continue;
        GvClipCached *const e = &p->cache[p->n_cache];
        const int ret = gv_clip_tile_previous(p->clip, &e->tile);
        if (ret < 0)
            return ret;
        e->pts = p->prev_pts;
        e->next = p->cur_pts;
        p->n_cache++;
        return 0;
    }
    return 0;
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

/* Back (or on) to the key frame before clip time t, for output frame
 * `frame`, noting what the frames after it will show. */
static int seek(GvClipPlay *p, int64_t frame, double t, char *reason, size_t reason_len)
{
    const int ret = gv_clip_seek(p->clip, t, reason, reason_len);
    if (ret < 0)
        return ret;
    p->seeks++;
    p->have_cur = p->have_prev = p->eof = 0;
    cache_clear(p);
    p->n_ahead = 0;
    while (p->n_ahead < GV_CLIP_PLAY_CACHE) {
        p->ahead[p->n_ahead] = gv_clip_time(&p->timing, frame + 1 + p->n_ahead);
        p->n_ahead++;
    }
    return 0;
}

int gv_clip_play_frame(GvClipPlay *p, int64_t frame, GvTile **tile, char *reason,
                       size_t reason_len)
{
    const double t = gv_clip_time(&p->timing, frame);
    int seeked = 0, ret;
    *tile = NULL;
    if (cache_take(p, t, tile))
        return 0;
    /* a clip opened part way (shown again, or CLIP_START=zero) starts
     * from the key frame before, not from its start */
    if (!p->have_cur && t > GV_CLIP_TIME_EPSILON) {
        if ((ret = seek(p, frame, t, reason, reason_len)) < 0)
            return ret;
        seeked = 1;
    }
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
            if (ret < 0 || (seeked && (ret = cache_keep(p, t)) < 0))
                return ret;
            continue;
        }
        if (p->have_prev && gv_clip_shown_by(p->prev_pts, t))
            return show(p, 1, tile);
        /* every frame decoded is later than t: back to the key frame
         * before it; where even that is later, its first frame shows */
        if (seeked)
            return show(p, 0, tile);
        if ((ret = seek(p, frame, t, reason, reason_len)) < 0)
            return ret;
        seeked = 1;
    }
}

void gv_clip_play_close(GvClipPlay *p)
{
    cache_clear(p);
    gv_clip_close(&p->clip);
}
