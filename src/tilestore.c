#include "tilestore.h"
#include "cputime.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clipplay.h"
#include "color.h"
#include "demo.h"
#include "jpeginfo.h"
#include "threads.h"

enum { TILE_PENDING, TILE_LOADING, TILE_READY, TILE_FAILED, TILE_RELEASED };
enum { ENGINE_NONE, ENGINE_OPENING, ENGINE_OPEN };

/* The largest JPEG file read for the engine; larger ones go to libvips. */
#define ENGINE_MAX_FILE (256u << 20)

/* Frames one worker decodes for a clip before it looks for more urgent
 * work. */
#define CLIP_STEP 3
/* The most pictures a clip may hold (GV_CLIP_AHEAD, a benchmark switch,
 * chooses up to this; GV_CLIP_PICTURES by default). */
#define CLIP_RING_MAX 16
/* A clip starts this many frames before its first (opening it and
 * decoding from a key frame to its first picture takes a while), and an
 * open one decodes up to this many frames ahead of the consumer (unless
 * GV_CLIP_LEAD, a benchmark switch, says otherwise). */
#define CLIP_LEAD 16
/* Frames off screen after which a clip's decoder closes until it shows
 * again (about two seconds at 30 fps). */
#define CLIP_REOPEN_GAP 64

/* A clip's picture, shown by output frames from .. to. */
typedef struct ClipFrame {
    GvTile *tile;
    int64_t from, to;
} ClipFrame;

/* A clip held by the store. The decoder is its worker's (busy), outside
 * the lock; the rest is guarded by the store's lock. */
typedef struct ClipState {
    GvClipPlay play;
    ClipFrame ring[CLIP_RING_MAX]; /* in frame order, the picture of frame `next - 1` last */
    int len;
    int64_t next, end;         /* the next frame to decode; the clip's last frame */
    int busy, done, released;
    int live;                  /* in the store's list of clips decoding */
    double waited;             /* seconds the consumer waited for its pictures */
    int64_t decoded, seeks;    /* by the decoders closed so far */
    int opens, hw, reported;   /* decoders closed; the first was a hardware one */
} ClipState;

/* A file waiting for, or on, the JPEG engine: mapped, with the tile the
 * engine writes into. */
typedef struct EngineJob {
    int k;
    void *map;
    size_t map_len;
    GvTile *tile;
    GvJpegJob job;
} EngineJob;

struct GvTileStore {
    GvTileStoreConfig cfg;
    int cap;
    /* clips' captions, made with their first picture (guarded by cap_lock) */
    GvOverlay **clip_caption;
    unsigned char *clip_caption_done;
    pthread_mutex_t cap_lock;

    pthread_mutex_t lock; /* guards what follows, up to the scaler */
    pthread_cond_t cond;
    GvTile **tiles;
    unsigned char *state;
    char **fail_reason;   /* per image: why it failed to decode, or NULL */
    int n_failed;         /* images that failed: the attempt is void */
    int fatal;            /* a worker error that is not bad input (e.g. -ENOMEM) */
    int next_job, in_memory, decoding, stop;
    pthread_t *workers;
    int n_workers;

    pthread_t scaler_thread;
    int scaler_thread_started;
    GvScaler *_Atomic scaler;
    atomic_int scaler_open_done;
    int scaled; /* images the scaler took, once it is closed */

    /* the JPEG engine; its state and lists are guarded by lock */
    pthread_t engine_threads[GV_JPEG_ENGINES_MAX];
    struct EngineThread {
        GvTileStore *ts;
        int i;
    } et[GV_JPEG_ENGINES_MAX];
    int n_engine_threads;
    int engines_pending, engines_live;
    int engine_state;
    EngineJob *queue;     /* files waiting for the engine, oldest first */
    int q_len, q_cap;
    int engine_busy;      /* files the engine thread holds */
    int *retry;           /* images the engine gave back, for libvips */
    int n_retry;
    int n_engine, n_refused;
    int stats_logged;
    char engine_device[64];
    double t_engine_wait, t_engine_run; /* the engine thread's time */
    double t_tiles_wait; /* the consumer's, in gv_tilestore_wait() */
    double t_clips_wait; /* and in gv_tilestore_clip_frame() */
    int clip_ring;       /* the pictures a clip may hold */
    int clip_lead;       /* frames ahead of the consumer's that an open clip decodes */

    /* clips, per image (NULL for stills); those decoding, guarded by lock */
    ClipState **clip;
    int *live_clips;
    int n_live_clips;
    int *waiting_clips;   /* clips passed in the decode order, to start nearer their
                             first frame, in first-frame order */
    int n_waiting, waiting_head;
    int64_t now;          /* the frame the consumer is at */
    int n_clips, n_clips_hw;
};

/* ---- schedule ---- */

typedef struct Keyed {
    int64_t key;
    int k;
} Keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const Keyed *const x = a, *const y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->k - y->k;
}

/* Orders the n images in out by key[k]. */
static int sort_images(const int64_t *key, int *out, int n)
{
    Keyed *const tmp = malloc(sizeof(*tmp) * (size_t)(n + 1));
    if (!tmp)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        tmp[i] = (Keyed){ key[out[i]], out[i] };
    qsort(tmp, (size_t)n, sizeof(*tmp), cmp_keyed);
    for (int i = 0; i < n; i++)
        out[i] = tmp[i].k;
    free(tmp);
    return 0;
}

/* The runs of frames that show each clip. */
static int schedule_spans(GvTileSchedule *sch, const GvLayout *l, const unsigned char *flags)
{
    const int n = l->p.n_images;
    int clips = 0;
    for (int k = 0; flags && k < n; k++)
        clips += !!(flags[k] & GV_PROBE_CLIP);
    if (clips == 0)
        return 0;
    unsigned char *const want = calloc((size_t)n + 1, 1);
    if (!want)
        return -ENOMEM;
    for (int k = 0; k < n; k++)
        want[k] = !!(flags[k] & GV_PROBE_CLIP);
    const int ret = gv_layout_spans(l, want, &sch->spans, &sch->span_index);
    free(want);
    return ret;
}

int gv_tile_schedule_shows(const GvTileSchedule *sch, int k, int64_t i)
{
    if (!sch->spans)
        return 1;
    for (int j = sch->span_index[k]; j < sch->span_index[k + 1]; j++)
        if (sch->spans[j].from <= i && i <= sch->spans[j].to)
            return 1;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* sch->max_clips from the clips' runs: each clip's decoder is open from
 * CLIP_LEAD frames before a run to `hold` frames after it, and over gaps
 * short enough that it stays open. */
static int count_open_clips(GvTileSchedule *sch, int n, int hold)
{
    if (!sch->spans)
        return 0;
    const int runs = sch->span_index[n];
    int64_t *const open = malloc(sizeof(*open) * ((size_t)runs + 1));
    int64_t *const close = malloc(sizeof(*close) * ((size_t)runs + 1));
    if (!open || !close) {
        free(open);
        free(close);
        return -ENOMEM;
    }
    int m = 0;
    for (int k = 0; k < n; k++)
        for (int i = sch->span_index[k]; i < sch->span_index[k + 1]; i++) {
            const GvSpan *const sp = &sch->spans[i];
            if (i > sch->span_index[k] && sp->from - sch->spans[i - 1].to <= CLIP_REOPEN_GAP + CLIP_LEAD) {
                close[m - 1] = sp->to + hold; /* still open */
                continue;
            }
            open[m] = sp->from - CLIP_LEAD;
            close[m++] = sp->to + hold;
        }
    qsort(open, (size_t)m, sizeof(*open), cmp_i64);
    qsort(close, (size_t)m, sizeof(*close), cmp_i64);
    int live = 0;
    for (int i = 0, c = 0; i < m; i++) {
        while (c < m && close[c] < open[i]) {
            c++;
            live--;
        }
        if (++live > sch->max_clips)
            sch->max_clips = live;
    }
    free(open);
    free(close);
    return 0;
}

int gv_tile_schedule_init(GvTileSchedule *sch, const GvLayout *l, int hold,
                          const unsigned char *flags)
{
    const int n = l->p.n_images;
    memset(sch, 0, sizeof(*sch));
    sch->first = malloc(sizeof(*sch->first) * (size_t)(n + 1));
    sch->last = malloc(sizeof(*sch->last) * (size_t)(n + 1));
    sch->by_first = malloc(sizeof(*sch->by_first) * (size_t)(n + 1));
    sch->by_last = malloc(sizeof(*sch->by_last) * (size_t)(n + 1));
    if (!sch->first || !sch->last || !sch->by_first || !sch->by_last)
        return -ENOMEM;
    gv_layout_lifetimes(l, sch->first, sch->last);
    if (schedule_spans(sch, l, flags) < 0 || count_open_clips(sch, n, hold) < 0)
        return -ENOMEM;
    for (int k = 0; k < n; k++)
        if (sch->first[k] >= 0)
            sch->by_first[sch->n_shown++] = k;
    memcpy(sch->by_last, sch->by_first, sizeof(int) * (size_t)sch->n_shown);
    if (sort_images(sch->first, sch->by_first, sch->n_shown) < 0 ||
        sort_images(sch->last, sch->by_last, sch->n_shown) < 0)
        return -ENOMEM;

    int live = 0;
    for (int i = 0, b = 0; i < sch->n_shown; i++) {
        const int64_t f = sch->first[sch->by_first[i]];
        while (b < sch->n_shown && sch->last[sch->by_last[b]] + hold < f) {
            b++;
            live--;
        }
        live++;
        if (live > sch->max_live)
            sch->max_live = live;
    }
    return 0;
}

void gv_tile_schedule_free(GvTileSchedule *sch)
{
    free(sch->first);
    free(sch->last);
    free(sch->by_first);
    free(sch->by_last);
    free(sch->spans);
    free(sch->span_index);
    memset(sch, 0, sizeof(*sch));
}

/* ---- store ---- */

static int is_clip(const GvTileStore *ts, int k)
{
    return ts->clip && ts->clip[k];
}

static int clips_alloc(GvTileStore *ts)
{
    const GvTileStoreConfig *const c = &ts->cfg;
    int n = 0;
    for (int k = 0; c->clips && c->paths && k < c->n; k++)
        n += c->clips[k] != NULL;
    if (n == 0)
        return 0;
    ts->clip = calloc((size_t)c->n, sizeof(*ts->clip));
    ts->live_clips = calloc((size_t)n, sizeof(*ts->live_clips));
    ts->waiting_clips = calloc((size_t)n, sizeof(*ts->waiting_clips));
    if (!ts->clip || !ts->live_clips || !ts->waiting_clips)
        return -ENOMEM;
    for (int k = 0; k < c->n; k++)
        if (c->clips[k] && !(ts->clip[k] = calloc(1, sizeof(*ts->clip[k]))))
            return -ENOMEM;
    return 0;
}

int gv_tilestore_open(GvTileStore **out, const GvTileStoreConfig *cfg)
{
    *out = NULL;
    GvTileStore *ts = calloc(1, sizeof(*ts));
    if (!ts)
        return -ENOMEM;
    ts->cfg = *cfg;
    ts->clip_ring = cfg->clip_pictures >= 2 && cfg->clip_pictures <= CLIP_RING_MAX
                        ? cfg->clip_pictures
                        : GV_CLIP_PICTURES;
    ts->clip_lead = cfg->clip_lead > 0 ? cfg->clip_lead : CLIP_LEAD;
    ts->cap = cfg->sched->max_live + cfg->batch;
    pthread_mutex_init(&ts->lock, NULL);
    pthread_mutex_init(&ts->cap_lock, NULL);
    pthread_cond_init(&ts->cond, NULL);
    atomic_init(&ts->scaler, NULL);
    atomic_init(&ts->scaler_open_done, 0);
    const size_t n = (size_t)cfg->n + 1;
    ts->tiles = calloc(n, sizeof(*ts->tiles));
    ts->state = calloc(n, 1);
    ts->fail_reason = calloc(n, sizeof(*ts->fail_reason));
    if (cfg->spec->caption && cfg->paths) {
        ts->clip_caption = calloc(n, sizeof(*ts->clip_caption));
        ts->clip_caption_done = calloc(n, 1);
        if (!ts->clip_caption || !ts->clip_caption_done) {
            gv_tilestore_close(&ts);
            return -ENOMEM;
        }
    }
    if (!ts->tiles || !ts->state || !ts->fail_reason || clips_alloc(ts) < 0) {
        gv_tilestore_close(&ts);
        return -ENOMEM;
    }
    *out = ts;
    return 0;
}

static int clip_tile_at(GvTileStore *ts, int k, GvTile **out, char *reason, size_t len);

/* Draws image k's caption (CAPTION) into its new tile: a still's is made
 * and drawn once, a clip's made with its first picture and kept. */
static int caption_tile(GvTileStore *ts, int k, GvTile *tile)
{
    const GvTileStoreConfig *const c = &ts->cfg;
    if (!c->spec->caption || !c->paths || !tile)
        return 0;
    if (!is_clip(ts, k))
        return gv_caption_apply(c->spec->caption, c->paths[k], tile);
    int ret = 0;
    pthread_mutex_lock(&ts->cap_lock);
    if (!ts->clip_caption_done[k]) {
        ret = gv_caption_make(c->spec->caption, c->paths[k], tile, &ts->clip_caption[k]);
        ts->clip_caption_done[k] = ret == 0;
    }
    const GvOverlay *const o = ts->clip_caption[k];
    pthread_mutex_unlock(&ts->cap_lock);
    if (o)
        gv_overlay_blend_tile(o, tile, o->x, o->y);
    return ret;
}

static int load_tile_plain(GvTileStore *ts, int k, GvTile **out, char *reason, size_t len);

static int load_tile(GvTileStore *ts, int k, GvTile **out, char *reason, size_t len)
{
    int ret = load_tile_plain(ts, k, out, reason, len);
    if (ret == 0 && (ret = caption_tile(ts, k, *out)) < 0)
        gv_tile_free(out);
    return ret;
}

static int load_tile_plain(GvTileStore *ts, int k, GvTile **out, char *reason, size_t len)
{
    const GvTileStoreConfig *const c = &ts->cfg;
    if (!c->paths)
        return gv_tile_demo(k, c->n, c->spec, out);
    if (is_clip(ts, k))
        return clip_tile_at(ts, k, out, reason, len);
    GvTileSpec spec = *c->spec;
    while (c->scaler_wait && ts->scaler_thread_started && !atomic_load(&ts->scaler_open_done))
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    spec.scaler = atomic_load(&ts->scaler);
    return gv_tile_load(c->paths[k], &spec, out, reason, len);
}

/* With ts->lock held: image k is done, with tile or error ret. */
static void finish_tile(GvTileStore *ts, int k, int ret, GvTile *tile, const char *reason)
{
    if (ret == 0) {
        ts->tiles[k] = tile;
        ts->state[k] = TILE_READY;
        return;
    }
    ts->state[k] = TILE_FAILED;
    if (ret != GV_ERR_DECODE) {
        if (!ts->fatal)
            ts->fatal = ret;
        return;
    }
    if (!ts->fail_reason[k]) {
        ts->fail_reason[k] = strdup(reason[0] ? reason : "cannot decode");
        if (!ts->fail_reason[k] && !ts->fatal)
            ts->fatal = -ENOMEM;
    }
    ts->n_failed++;
}

/* ---- clips ---- */

static GvClipTiming clip_timing(const GvTileStore *ts, int k)
{
    const GvTileStoreConfig *const c = &ts->cfg;
    return (GvClipTiming){ .fps_num = c->fps_num, .fps_den = c->fps_den,
                           .first = c->sched->first[k], .duration = c->clips[k]->duration,
                           .loop = c->clip_loop, .start = c->clip_start };
}

/* Outside the lock: opens clip k's decoder. */
static int clip_open(GvTileStore *ts, int k, GvClipPlay *play, char *reason, size_t len)
{
    const GvClipConfig cc = { .spec = ts->cfg.spec, .hwaccel = ts->cfg.clip_hwaccel,
                              .log = ts->cfg.log };
    const GvClipTiming t = clip_timing(ts, k);
    return gv_clip_play_open(play, ts->cfg.paths[k], &cc, &t, reason, len);
}

/* With ts->lock held: clip k no longer needs a worker. */
static void clip_unlist(GvTileStore *ts, int k)
{
    ClipState *const c = ts->clip[k];
    if (!c->live)
        return;
    c->live = 0;
    for (int i = 0; i < ts->n_live_clips; i++)
        if (ts->live_clips[i] == k) {
            ts->live_clips[i] = ts->live_clips[--ts->n_live_clips];
            break;
        }
}

/* With ts->lock held: closes clip k's decoder (not busy), counting what
 * it did. */
static void clip_close_decoder(GvTileStore *ts, int k)
{
    ClipState *const c = ts->clip[k];
    if (!c->play.clip)
        return;
    c->decoded += c->play.decoded;
    c->seeks += c->play.seeks;
    c->opens++;
    gv_clip_play_close(&c->play);
}

/* With ts->lock held: what clip k's decoding came to, once. */
static void clip_report(GvTileStore *ts, int k)
{
    ClipState *const c = ts->clip[k];
    if (c->opens == 0 || c->reported++)
        return;
    gv_log(ts->cfg.log, GV_LOG_INFO,
           "%s: %lld frames decoded%s, %lld seeks, opened %d times; the wall waited %.2f s for it",
           ts->cfg.paths[k], (long long)c->decoded, c->hw ? " by the hardware decoder" : "",
           (long long)c->seeks, c->opens, c->waited);
}

/* The first frame from o on that shows clip k; past its last, INT64_MAX. */
static int64_t clip_next_shown(const GvTileStore *ts, int k, int64_t o)
{
    const GvTileSchedule *const sch = ts->cfg.sched;
    for (int j = sch->span_index[k]; j < sch->span_index[k + 1]; j++)
        if (o <= sch->spans[j].to)
            return o > sch->spans[j].from ? o : sch->spans[j].from;
    return INT64_MAX;
}

/* With ts->lock held: frees clip k's pictures and decoder (not busy). */
static void clip_free(GvTileStore *ts, int k)
{
    ClipState *const c = ts->clip[k];
    for (int i = 0; i < c->len; i++)
        gv_tile_free(&c->ring[i].tile);
    c->len = 0;
    clip_close_decoder(ts, k);
    clip_report(ts, k);
    clip_unlist(ts, k);
}

/* With ts->lock held: the picture of frame o decoded (tile NULL: the
 * picture before it again). */
static void clip_put(ClipState *c, int64_t o, GvTile *tile)
{
    if (tile || c->len == 0)
        c->ring[c->len++] = (ClipFrame){ tile, o, o };
    else
        c->ring[c->len - 1].to = o;
    c->next = o + 1;
}

/*
 * With ts->lock held (released meanwhile): decodes up to CLIP_STEP
 * pictures of clip k ahead, opening it first. Returns 0 or the error of
 * the decoder; the clip is done at its last frame or on an error.
 */
static int clip_decode(GvTileStore *ts, int k, char *reason, size_t len)
{
    ClipState *const c = ts->clip[k];
    int ret = 0;
    c->busy = 1;
    for (int n = 0; n < CLIP_STEP && c->len < ts->clip_ring && !c->released && !ts->stop &&
                    !atomic_load(ts->cfg.cancel);
         n++) {
        /* only the frames that show it, and not far ahead of the consumer */
        c->next = clip_next_shown(ts, k, c->next);
        if (c->next > c->end || c->next > ts->now + ts->clip_lead)
            break;
        const int64_t o = c->next;
        GvTile *tile = NULL;
        const int opening = !c->play.clip;
        pthread_mutex_unlock(&ts->lock);
        if (opening)
            ret = clip_open(ts, k, &c->play, reason, len);
        if (ret == 0)
            ret = gv_clip_play_frame(&c->play, o, &tile, reason, len);
        /* each new picture gets the clip's caption (made once) */
        if (ret == 0 && tile)
            ret = caption_tile(ts, k, tile);
        pthread_mutex_lock(&ts->lock);
        if (opening && c->play.clip && c->opens == 0) {
            c->hw = gv_clip_hw(c->play.clip);
            ts->n_clips_hw += c->hw;
        }
        if (ret < 0 || c->released) {
            gv_tile_free(&tile);
            break;
        }
        clip_put(c, o, tile);
        pthread_cond_broadcast(&ts->cond);
    }
    c->busy = 0;
    /* A long stretch without it on screen: the decoder goes, and opens
     * again shortly before it shows again. */
    if (ret == 0 && c->next <= c->end && c->next > ts->now + ts->clip_lead && c->len > 0 &&
        c->next - c->ring[c->len - 1].to > CLIP_REOPEN_GAP)
        clip_close_decoder(ts, k);
    if (ret < 0 || c->next > c->end) {
        c->done = 1;
        clip_unlist(ts, k);
        /* its pictures stay until their frames are done; the decoder goes */
        if (!c->released) {
            clip_close_decoder(ts, k);
            clip_report(ts, k);
        }
    }
    if (c->released)
        clip_free(ts, k);
    return ret;
}

/* With ts->lock held: clip k's first picture, as its tile (counted as
 * decoding); it then goes on decoding in step with the frames. */
static void decode_clip(GvTileStore *ts, int k, char *reason, size_t len)
{
    ClipState *const c = ts->clip[k];
    const GvTileSchedule *const sch = ts->cfg.sched;
    c->next = sch->first[k];
    c->end = sch->last[k];
    c->live = 1;
    ts->live_clips[ts->n_live_clips++] = k;
    ts->n_clips++;
    reason[0] = 0;
    const int ret = clip_decode(ts, k, reason, len);
    ts->decoding--;
    if (ret < 0 || c->len == 0) {
        ts->in_memory--;
        clip_free(ts, k);
        finish_tile(ts, k, ret < 0 ? ret : ts->stop || atomic_load(ts->cfg.cancel) ? GV_ERR_CANCELLED
                                                                                 : GV_ERR_DECODE,
                    NULL, reason);
    } else {
        ts->state[k] = TILE_READY;
    }
    pthread_cond_broadcast(&ts->cond);
}

/* With ts->lock held: whether clip k's first frame is near enough the
 * consumer's to start it. Not before: its decoder would be held, idle,
 * from when the decode order reaches it (the run-ahead of every image)
 * to its first frame. */
static int clip_due(const GvTileStore *ts, int k)
{
    return ts->cfg.sched->first[k] <= ts->now + CLIP_LEAD;
}

void gv_tilestore_frame(GvTileStore *ts, int64_t i)
{
    pthread_mutex_lock(&ts->lock);
    if (i > ts->now) {
        ts->now = i;
        /* clips waiting to start, or to go on, may now */
        if (ts->n_live_clips > 0 || (ts->waiting_head < ts->n_waiting &&
                                     clip_due(ts, ts->waiting_clips[ts->waiting_head])))
            pthread_cond_broadcast(&ts->cond);
    }
    pthread_mutex_unlock(&ts->lock);
}

/* With ts->lock held: the clip whose next picture is needed soonest,
 * among those with room for it, or -1. */
static int clip_pick(const GvTileStore *ts)
{
    int best = -1;
    for (int i = 0; i < ts->n_live_clips; i++) {
        const int k = ts->live_clips[i];
        const ClipState *const c = ts->clip[k];
        if (!c->busy && !c->done && ts->state[k] == TILE_READY && c->len < ts->clip_ring &&
            c->next <= ts->now + ts->clip_lead && (best < 0 || c->next < ts->clip[best]->next))
            best = k;
    }
    return best;
}

/* With ts->lock held: decodes ahead for clip k; an error part way is a
 * warning, and its last picture stays. */
static void clip_work(GvTileStore *ts, int k, char *reason, size_t len)
{
    reason[0] = 0;
    const int ret = clip_decode(ts, k, reason, len);
    if (ret >= 0 || ts->stop || atomic_load(ts->cfg.cancel))
        return;
    if (ret != GV_ERR_DECODE) {
        /* not the clip's fault (out of memory): the run fails */
        if (!ts->fatal)
            ts->fatal = ret;
        pthread_cond_broadcast(&ts->cond);
        return;
    }
    gv_log(ts->cfg.log, GV_LOG_WARNING, "%s: %s at frame %lld; its last picture stays",
           ts->cfg.paths[k], reason[0] ? reason : "cannot decode", (long long)ts->clip[k]->next);
}

/* Clip k's picture at the store's at_frame, as a tile (a preview). */
static int clip_tile_at(GvTileStore *ts, int k, GvTile **out, char *reason, size_t len)
{
    GvClipPlay play;
    int ret = clip_open(ts, k, &play, reason, len);
    if (ret == 0 && (ret = gv_clip_play_frame(&play, ts->cfg.at_frame, out, reason, len)) == 0 &&
        !*out)
        ret = -EINVAL;
    gv_clip_play_close(&play);
    return ret;
}

const GvTile *gv_tilestore_clip_frame(GvTileStore *ts, int k, int64_t i)
{
    const GvTile *t = NULL;
    double t0 = 0;
    pthread_mutex_lock(&ts->lock);
    ClipState *const c = ts->clip[k];
    while (!atomic_load(ts->cfg.cancel)) {
        if (ts->state[k] == TILE_READY) {
            for (int j = 0; j < c->len && !t; j++)
                if (c->ring[j].from <= i && i <= c->ring[j].to)
                    t = c->ring[j].tile;
            /* a clip that stopped short shows its last picture */
            if (!t && c->done && c->len > 0 && i >= c->next)
                t = c->ring[c->len - 1].tile;
            if (t || c->done)
                break;
        } else if (ts->state[k] != TILE_PENDING && ts->state[k] != TILE_LOADING) {
            break;
        }
        if (t0 == 0)
            t0 = gv_now_s();
        gv_cond_wait_poll(&ts->cond, &ts->lock);
    }
    if (t0 > 0) {
        const double waited = gv_now_s() - t0;
        c->waited += waited;
        ts->t_clips_wait += waited;
    }
    pthread_mutex_unlock(&ts->lock);
    return t;
}

void gv_tilestore_clip_done(GvTileStore *ts, int k, int64_t i)
{
    pthread_mutex_lock(&ts->lock);
    ClipState *const c = ts->clip[k];
    int n = 0;
    /* the last picture stays: the next frame may show it again */
    while (n < c->len - 1 && c->ring[n].to < i)
        gv_tile_free(&c->ring[n++].tile);
    if (n > 0) {
        memmove(c->ring, c->ring + n, sizeof(*c->ring) * (size_t)(c->len - n));
        c->len -= n;
        pthread_cond_broadcast(&ts->cond);
    }
    pthread_mutex_unlock(&ts->lock);
}

/* ---- the JPEG engine ---- */

/* Maps path whole, read-only; NULL when it cannot or it is over the
 * limit. Mapping rather than reading spares a copy of every file. */
static void *map_file(const char *path, size_t *len)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    void *map = NULL;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= ENGINE_MAX_FILE) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
            map = NULL;
    }
    close(fd);
    *len = map ? (size_t)st.st_size : 0;
    return map;
}

static void engine_job_free(EngineJob *ej)
{
    if (ej->map)
        munmap(ej->map, ej->map_len);
    ej->map = NULL;
    gv_tile_free(&ej->tile);
}

/*
 * Reads image k and checks whether the engine can take it: fills *ej and
 * returns 0, or returns -1 (libvips decodes it). Outside the lock.
 */
static int engine_prepare(GvTileStore *ts, int k, EngineJob *ej)
{
    const GvTileSpec *const spec = ts->cfg.spec;
    GvJpegInfo info;
    const char *why = NULL;
    size_t len;
    uint8_t *const data = map_file(ts->cfg.paths[k], &len);
    int rect[4];
    *ej = (EngineJob){ .k = k, .map = data, .map_len = len };
    if (!data || gv_jpeg_info(data, len, &info) < 0 ||
        !gv_jpeg_engine_ok(&info, spec->max_pixels, &why)) {
        engine_job_free(ej);
        return -1;
    }
    const int o = info.orientation;
    const int uw = o >= 5 ? info.height : info.width, uh = o >= 5 ? info.width : info.height;
    if (gv_tile_crop_rect(uw, uh, spec, rect) < 0 || rect[2] < spec->w || rect[3] < spec->h ||
        !(ej->tile = gv_tile_alloc(spec->w, spec->h))) {
        engine_job_free(ej);
        return -1;
    }
    ej->tile->aspect = (float)(((double)uw / uh) / ((double)spec->w / spec->h));
    ej->job = (GvJpegJob){ .data = data, .len = len, .width = info.width, .height = info.height,
                           .orientation = o, .crop_x = rect[0], .crop_y = rect[1],
                           .crop_w = rect[2], .crop_h = rect[3], .dw = spec->w, .dh = spec->h,
                           .planes = 1, .out = ej->tile->y };
    return 0;
}

/* With ts->lock held: hands image k back to the workers and libvips. */
static void engine_refuse(GvTileStore *ts, int k)
{
    ts->retry[ts->n_retry++] = k;
    ts->n_refused++;
}

/* With ts->lock held: the result of one batch of n jobs. */
static void engine_finish(GvTileStore *ts, EngineJob *jobs, int n, int failed)
{
    for (int i = 0; i < n; i++) {
        if (!failed && jobs[i].job.status == 0) {
            finish_tile(ts, jobs[i].k, 0, jobs[i].tile, "");
            jobs[i].tile = NULL;
            ts->n_engine++;
        } else {
            engine_refuse(ts, jobs[i].k);
        }
        engine_job_free(&jobs[i]);
    }
    ts->engine_busy -= n;
    if (failed && --ts->engines_live == 0) {
        for (int i = 0; i < ts->q_len; i++) {
            engine_refuse(ts, ts->queue[i].k);
            engine_job_free(&ts->queue[i]);
        }
        ts->q_len = 0;
        ts->engine_state = ENGINE_NONE;
    }
    pthread_cond_broadcast(&ts->cond);
}

/* Decodes what is queued, batch after batch, until the store stops. */
static void engine_loop(GvTileStore *ts, GvJpegEngine *eng)
{
    const int max = ts->cfg.engine_batch;
    EngineJob *const jobs = calloc((size_t)max, sizeof(*jobs));
    GvJpegJob *const gj = calloc((size_t)max, sizeof(*gj));
    int failed = 0;
    pthread_mutex_lock(&ts->lock);
    if (!jobs || !gj)
        engine_finish(ts, jobs, 0, 1); /* as if this engine had failed */
    while (jobs && gj && !failed) {
        const double w0 = gv_now_s();
        while (ts->q_len == 0 && !ts->stop && !atomic_load(ts->cfg.cancel))
            gv_cond_wait_poll(&ts->cond, &ts->lock);
        ts->t_engine_wait += gv_now_s() - w0;
        if (ts->stop || atomic_load(ts->cfg.cancel))
            break;
        const int n = ts->q_len < max ? ts->q_len : max;
        memcpy(jobs, ts->queue, sizeof(*jobs) * (size_t)n);
        memmove(ts->queue, ts->queue + n, sizeof(*jobs) * (size_t)(ts->q_len - n));
        ts->q_len -= n;
        ts->engine_busy += n;
        pthread_mutex_unlock(&ts->lock);

        for (int i = 0; i < n; i++)
            gj[i] = jobs[i].job;
        const double t0 = gv_now_s();
        failed = gv_jpeg_engine_run(eng, gj, n) < 0;
        const double t = gv_now_s() - t0;
        for (int i = 0; i < n; i++) {
            jobs[i].job.status = gj[i].status;
            /* captions on this thread, not under the lock */
            if (!failed && gj[i].status == 0 && caption_tile(ts, jobs[i].k, jobs[i].tile) < 0)
                jobs[i].job.status = -ENOMEM;
        }
        if (failed)
            gv_log(ts->cfg.log, GV_LOG_WARNING,
                   "GPU JPEG decoding failed: decoding with libvips (--verbose says why)");
        pthread_mutex_lock(&ts->lock);
        ts->t_engine_run += t;
        engine_finish(ts, jobs, n, failed);
    }
    pthread_mutex_unlock(&ts->lock);
    free(jobs);
    free(gj);
}

/* With ts->lock held: no engine. require fails the run; true warns. */
static void engine_missing(GvTileStore *ts)
{
    ts->engine_state = ENGINE_NONE;
    if (ts->cfg.engine_mode == GV_GPU_REQUIRE) {
        gv_log(ts->cfg.log, GV_LOG_ERROR,
               "no GPU JPEG engine (GPU_DECODE=require; --verbose says why)");
        if (!ts->fatal)
            ts->fatal = GV_ERR_GPU;
    } else {
        gv_log(ts->cfg.log, ts->cfg.engine_mode == GV_GPU_TRUE ? GV_LOG_WARNING : GV_LOG_INFO,
               "no GPU JPEG engine: decoding with libvips");
    }
}

typedef struct EngineThread EngineThread;

/* One engine of the set, for as long as the store runs. */
static void *engine_main(void *arg)
{
    gv_thread_name("gv-jpeg");
    const EngineThread *const et = arg;
    GvTileStore *const ts = et->ts;
    /* each thread starts as soon as its engine is open */
    GvJpegEngine *const eng = gv_jpeg_engines_get(ts->cfg.engines, et->i);
    pthread_mutex_lock(&ts->lock);
    ts->engines_pending--;
    if (eng) {
        ts->engines_live++;
        ts->engine_state = ENGINE_OPEN;
        snprintf(ts->engine_device, sizeof(ts->engine_device), "%s",
                 gv_jpeg_engine_device(eng));
    } else if (ts->engines_pending == 0 && ts->engines_live == 0) {
        engine_missing(ts);
    }
    pthread_cond_broadcast(&ts->cond);
    pthread_mutex_unlock(&ts->lock);
    if (eng)
        engine_loop(ts, eng);
    return NULL;
}

/* Starts a thread per engine of the set, where the run has one. */
static int engine_start(GvTileStore *ts)
{
    if (!ts->cfg.engines || !ts->cfg.paths)
        return 0;
    const int n = ts->cfg.n + 1;
    ts->queue = calloc((size_t)n, sizeof(*ts->queue));
    ts->retry = calloc((size_t)n, sizeof(*ts->retry));
    if (!ts->queue || !ts->retry)
        return -ENOMEM;
    ts->q_cap = n;
    ts->engine_state = ENGINE_OPENING;
    pthread_mutex_lock(&ts->lock);
    for (int i = 0; i < ts->cfg.engine_threads && i < GV_JPEG_ENGINES_MAX; i++) {
        ts->et[i] = (EngineThread){ ts, i };
        if (pthread_create(&ts->engine_threads[i], NULL, engine_main, &ts->et[i]) == 0) {
            ts->n_engine_threads++;
            ts->engines_pending++;
        }
    }
    if (ts->n_engine_threads == 0)
        engine_missing(ts);
    pthread_mutex_unlock(&ts->lock);
    return 0;
}

/* ---- workers ---- */

static int wants_engine(const GvTileStore *ts, int k)
{
    return ts->cfg.probe_flags && (ts->cfg.probe_flags[k] & GV_PROBE_JPEG_ENGINE);
}

/* With ts->lock held: nothing is left for a worker, now or later. */
static int workers_done(const GvTileStore *ts)
{
    return ts->next_job >= ts->cfg.sched->n_shown && ts->n_retry == 0 && ts->q_len == 0 &&
           ts->engine_busy == 0 && ts->n_live_clips == 0 &&
           ts->waiting_head == ts->n_waiting;
}

/* With ts->lock held: the next image may not be taken yet. */
static int must_wait(const GvTileStore *ts)
{
    const GvTileSchedule *const sch = ts->cfg.sched;
    /* The engine decodes in batches: it gets files ahead of the window. */
    const int ahead =
        ts->engine_state == ENGINE_OPEN ? ts->cfg.engine_ahead * ts->cfg.engine_batch : 0;
    if (ts->next_job >= sch->n_shown || ts->in_memory >= ts->cap + ahead ||
        ts->decoding >= ts->cfg.batch)
        return 1;
    /* While the engine opens (a second or so), libvips decodes the images
     * of the first frames, so that the video starts at once; the images
     * after them wait for the engine. */
    return ts->engine_state == ENGINE_OPENING &&
           (ts->next_job >= sch->max_live || ts->cfg.engine_wait) &&
           wants_engine(ts, sch->by_first[ts->next_job]);
}

/* With ts->lock held (released meanwhile): image k, counted as decoding,
 * decoded by libvips. */
static void decode_cpu(GvTileStore *ts, int k, char *reason, size_t len)
{
    pthread_mutex_unlock(&ts->lock);
    GvTile *tile = NULL;
    reason[0] = 0;
    const int ret = load_tile(ts, k, &tile, reason, len);
    pthread_mutex_lock(&ts->lock);
    ts->decoding--;
    if (ret < 0)
        ts->in_memory--;
    finish_tile(ts, k, ret, tile, reason);
    pthread_cond_broadcast(&ts->cond);
}

/* With ts->lock held (released meanwhile): queues image k for the engine;
 * 0 when it went, -1 when libvips must take it. */
static int queue_for_engine(GvTileStore *ts, int k)
{
    pthread_mutex_unlock(&ts->lock);
    EngineJob ej;
    const int ok = engine_prepare(ts, k, &ej) == 0;
    pthread_mutex_lock(&ts->lock);
    if (ok && ts->engine_state == ENGINE_OPEN) {
        ts->decoding--;
        ts->queue[ts->q_len++] = ej;
        pthread_cond_broadcast(&ts->cond);
        return 0;
    }
    if (ok)
        engine_job_free(&ej);
    else
        ts->n_refused++;
    return -1;
}

static void *worker_main(void *arg)
{
    gv_thread_name("gv-tiles");
    GvTileStore *const ts = arg;
    const GvTileSchedule *const sch = ts->cfg.sched;
    char reason[256];
    pthread_mutex_lock(&ts->lock);
    while (!ts->stop && !atomic_load(ts->cfg.cancel) && !workers_done(ts)) {
        if (ts->n_retry > 0 && ts->decoding < ts->cfg.batch) {
            ts->decoding++;
            decode_cpu(ts, ts->retry[--ts->n_retry], reason, sizeof(reason));
            continue;
        }
        /* a clip whose first frame is near starts (it waited for it) */
        if (ts->waiting_head < ts->n_waiting && ts->decoding < ts->cfg.batch &&
            clip_due(ts, ts->waiting_clips[ts->waiting_head])) {
            const int k = ts->waiting_clips[ts->waiting_head++];
            ts->state[k] = TILE_LOADING;
            ts->in_memory++;
            ts->decoding++;
            decode_clip(ts, k, reason, sizeof(reason));
            continue;
        }
        /* a clip's next picture before a new image needed no sooner */
        const int clip = clip_pick(ts);
        const int wait = must_wait(ts);
        if (clip >= 0 &&
            (wait || ts->clip[clip]->next <= sch->first[sch->by_first[ts->next_job]])) {
            clip_work(ts, clip, reason, sizeof(reason));
            continue;
        }
        if (wait) {
            gv_cond_wait_poll(&ts->cond, &ts->lock);
            continue;
        }
        const int k = sch->by_first[ts->next_job++];
        if (is_clip(ts, k) && !clip_due(ts, k)) {
            ts->waiting_clips[ts->n_waiting++] = k;
            continue;
        }
        ts->state[k] = TILE_LOADING;
        ts->in_memory++;
        ts->decoding++;
        if (is_clip(ts, k)) {
            decode_clip(ts, k, reason, sizeof(reason));
            continue;
        }
        if (ts->engine_state == ENGINE_OPEN && wants_engine(ts, k) &&
            queue_for_engine(ts, k) == 0)
            continue;
        decode_cpu(ts, k, reason, sizeof(reason));
    }
    pthread_mutex_unlock(&ts->lock);
    return NULL;
}

static void *scaler_open_main(void *arg)
{
    gv_thread_name("gv-scale-open");
    GvTileStore *const ts = arg;
    GvScaler *sc = NULL;
    if (gv_scaler_open(&sc, &ts->cfg.scaler) == 0) {
        gv_log(ts->cfg.log, GV_LOG_INFO, "GPU tile scaling ready");
        atomic_store(&ts->scaler, sc);
    }
    atomic_store(&ts->scaler_open_done, 1);
    return NULL;
}

int gv_tilestore_start(GvTileStore *ts)
{
    const int threads = ts->cfg.threads;
    if (engine_start(ts) < 0)
        return -ENOMEM;
    if (ts->cfg.scaler.memory_bytes > 0 &&
        pthread_create(&ts->scaler_thread, NULL, scaler_open_main, ts) == 0)
        ts->scaler_thread_started = 1;
    ts->workers = calloc((size_t)threads, sizeof(*ts->workers));
    if (!ts->workers)
        return -ENOMEM;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&ts->workers[i], NULL, worker_main, ts) != 0)
            break;
        ts->n_workers++;
    }
    return ts->n_workers > 0 ? 0 : -EAGAIN;
}

typedef struct LoadJob {
    GvTileStore *ts;
    const int *ks;
    int n;
    atomic_int next;
} LoadJob;

static void *load_main(void *arg)
{
    LoadJob *const j = arg;
    GvTileStore *const ts = j->ts;
    char reason[256];
    for (;;) {
        const int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n || atomic_load(ts->cfg.cancel))
            break;
        const int k = j->ks[i];
        GvTile *t = NULL;
        reason[0] = 0;
        const int ret = load_tile(ts, k, &t, reason, sizeof(reason));
        pthread_mutex_lock(&ts->lock);
        finish_tile(ts, k, ret, t, reason);
        pthread_mutex_unlock(&ts->lock);
    }
    return NULL;
}

int gv_tilestore_load(GvTileStore *ts, const int *ks, int n)
{
    LoadJob job = { .ts = ts, .ks = ks, .n = n };
    atomic_init(&job.next, 0);
    const int threads = ts->cfg.threads;
    gv_run_parallel(load_main, &job, threads < n ? threads : (n > 0 ? n : 1));
    return gv_tilestore_error(ts);
}

const GvTile *gv_tilestore_wait(GvTileStore *ts, int k)
{
    if (is_clip(ts, k) && ts->cfg.at_frame < 0)
        return gv_tilestore_clip_frame(ts, k, ts->cfg.sched->first[k]);
    const GvTile *t = NULL;
    pthread_mutex_lock(&ts->lock);
    double t0 = 0;
    while (ts->state[k] == TILE_PENDING || ts->state[k] == TILE_LOADING) {
        if (atomic_load(ts->cfg.cancel))
            break;
        if (t0 == 0)
            t0 = gv_now_s();
        gv_cond_wait_poll(&ts->cond, &ts->lock);
    }
    if (t0 > 0)
        ts->t_tiles_wait += gv_now_s() - t0;
    if (ts->state[k] == TILE_READY)
        t = ts->tiles[k];
    pthread_mutex_unlock(&ts->lock);
    return t;
}

void gv_tilestore_waits(GvTileStore *ts, double *tiles_s, double *clips_s)
{
    pthread_mutex_lock(&ts->lock);
    *tiles_s = ts->t_tiles_wait;
    *clips_s = ts->t_clips_wait;
    pthread_mutex_unlock(&ts->lock);
}

int gv_tilestore_ready(GvTileStore *ts, int k)
{
    pthread_mutex_lock(&ts->lock);
    const int ready = ts->state[k] == TILE_READY;
    pthread_mutex_unlock(&ts->lock);
    return ready;
}

void gv_tilestore_release(GvTileStore *ts, int k)
{
    pthread_mutex_lock(&ts->lock);
    if (ts->state[k] == TILE_READY && is_clip(ts, k) && !ts->tiles[k]) {
        ClipState *const c = ts->clip[k];
        c->released = 1;
        clip_unlist(ts, k);
        if (!c->busy)
            clip_free(ts, k);
    }
    if (ts->state[k] == TILE_READY) {
        gv_tile_free(&ts->tiles[k]);
        ts->state[k] = TILE_RELEASED;
        ts->in_memory--;
        pthread_cond_broadcast(&ts->cond);
    }
    pthread_mutex_unlock(&ts->lock);
}

const char *gv_tilestore_engine_device(GvTileStore *ts)
{
    pthread_mutex_lock(&ts->lock);
    while (ts->engine_state == ENGINE_OPENING && !atomic_load(ts->cfg.cancel))
        gv_cond_wait_poll(&ts->cond, &ts->lock);
    const int open = ts->engine_device[0] != 0;
    pthread_mutex_unlock(&ts->lock);
    return open ? ts->engine_device : NULL;
}

int gv_tilestore_error(GvTileStore *ts)
{
    pthread_mutex_lock(&ts->lock);
    const int err = ts->fatal ? ts->fatal : (ts->n_failed ? GV_ERR_DECODE : 0);
    pthread_mutex_unlock(&ts->lock);
    return err;
}

const char *gv_tilestore_failure(const GvTileStore *ts, int k)
{
    return ts->fail_reason[k];
}

const GvTile *const *gv_tilestore_tiles(const GvTileStore *ts)
{
    return (const GvTile *const *)ts->tiles;
}

void gv_tilestore_stop(GvTileStore *ts, GvTileStats *stats)
{
    pthread_mutex_lock(&ts->lock);
    ts->stop = 1;
    pthread_cond_broadcast(&ts->cond);
    pthread_mutex_unlock(&ts->lock);
    for (int i = 0; i < ts->n_workers; i++)
        pthread_join(ts->workers[i], NULL);
    free(ts->workers);
    ts->workers = NULL;
    ts->n_workers = 0;
    if (ts->scaler_thread_started) {
        pthread_join(ts->scaler_thread, NULL);
        ts->scaler_thread_started = 0;
    }
    GvScaler *sc = atomic_exchange(&ts->scaler, NULL);
    if (sc)
        ts->scaled = gv_scaler_count(sc);
    gv_scaler_close(&sc);
    /* the decoders go now, with the workers: the paths they name may
     * change once the store has stopped (a failed image dropped) */
    pthread_mutex_lock(&ts->lock);
    for (int k = 0; ts->clip && k < ts->cfg.n; k++)
        if (ts->clip[k]) {
            clip_close_decoder(ts, k);
            clip_report(ts, k);
        }
    pthread_mutex_unlock(&ts->lock);
    for (int i = 0; i < ts->n_engine_threads; i++)
        pthread_join(ts->engine_threads[i], NULL);
    ts->n_engine_threads = 0;
    for (int i = 0; i < ts->q_len; i++)
        engine_job_free(&ts->queue[i]);
    ts->q_len = 0;
    if (ts->n_engine + ts->n_refused > 0 && !ts->stats_logged++)
        gv_log(ts->cfg.log, GV_LOG_INFO,
               "JPEG engine: %d images decoded on %s, %d by libvips; its thread ran batches "
               "%.2f s and waited for files %.2f s",
               ts->n_engine, ts->engine_device[0] ? ts->engine_device : "the GPU", ts->n_refused,
               ts->t_engine_run, ts->t_engine_wait);
    if (stats) {
        *stats = (GvTileStats){ .gpu_scaled = ts->scaled,
                                .engine = ts->n_engine,
                                .engine_refused = ts->n_refused,
                                .clips = ts->n_clips,
                                .clips_hw = ts->n_clips_hw };
        snprintf(stats->engine_device, sizeof(stats->engine_device), "%s", ts->engine_device);
    }
}

void gv_tilestore_close(GvTileStore **pts)
{
    GvTileStore *const ts = *pts;
    if (!ts)
        return;
    gv_tilestore_stop(ts, NULL);
    free(ts->queue);
    free(ts->retry);
    for (int k = 0; ts->clip && k < ts->cfg.n; k++) {
        if (ts->clip[k])
            clip_free(ts, k);
        free(ts->clip[k]);
    }
    free(ts->clip);
    free(ts->live_clips);
    free(ts->waiting_clips);
    for (int k = 0; ts->tiles && k < ts->cfg.n; k++)
        gv_tile_free(&ts->tiles[k]);
    for (int k = 0; ts->fail_reason && k < ts->cfg.n; k++)
        free(ts->fail_reason[k]);
    free(ts->tiles);
    free(ts->state);
    free(ts->fail_reason);
    for (int k = 0; ts->clip_caption && k < ts->cfg.n; k++)
        gv_overlay_free(&ts->clip_caption[k]);
    free(ts->clip_caption);
    free(ts->clip_caption_done);
    pthread_mutex_destroy(&ts->cap_lock);
    pthread_mutex_destroy(&ts->lock);
    pthread_cond_destroy(&ts->cond);
    free(ts);
    *pts = NULL;
}
