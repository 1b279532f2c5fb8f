#include "tilestore.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"
#include "threads.h"

enum { TILE_PENDING, TILE_LOADING, TILE_READY, TILE_FAILED, TILE_RELEASED };

struct GvTileStore {
    GvTileStoreConfig cfg;
    int cap;

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

int gv_tile_schedule_init(GvTileSchedule *sch, const GvLayout *l, int hold)
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
    memset(sch, 0, sizeof(*sch));
}

/* ---- store ---- */

int gv_tilestore_open(GvTileStore **out, const GvTileStoreConfig *cfg)
{
    *out = NULL;
    GvTileStore *ts = calloc(1, sizeof(*ts));
    if (!ts)
        return -ENOMEM;
    ts->cfg = *cfg;
    ts->cap = cfg->sched->max_live + cfg->batch;
    pthread_mutex_init(&ts->lock, NULL);
    pthread_cond_init(&ts->cond, NULL);
    atomic_init(&ts->scaler, NULL);
    atomic_init(&ts->scaler_open_done, 0);
    const size_t n = (size_t)cfg->n + 1;
    ts->tiles = calloc(n, sizeof(*ts->tiles));
    ts->state = calloc(n, 1);
    ts->fail_reason = calloc(n, sizeof(*ts->fail_reason));
    if (!ts->tiles || !ts->state || !ts->fail_reason) {
        gv_tilestore_close(&ts);
        return -ENOMEM;
    }
    *out = ts;
    return 0;
}

static int load_tile(GvTileStore *ts, int k, GvTile **out, char *reason, size_t len)
{
    const GvTileStoreConfig *const c = &ts->cfg;
    if (!c->paths)
        return gv_tile_demo(k, c->n, c->spec, out);
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

static void *worker_main(void *arg)
{
    GvTileStore *const ts = arg;
    const GvTileSchedule *const sch = ts->cfg.sched;
    char reason[256];
    pthread_mutex_lock(&ts->lock);
    while (!ts->stop && !atomic_load(ts->cfg.cancel) && ts->next_job < sch->n_shown) {
        if (ts->in_memory >= ts->cap || ts->decoding >= ts->cfg.batch) {
            gv_cond_wait_poll(&ts->cond, &ts->lock);
            continue;
        }
        const int k = sch->by_first[ts->next_job++];
        ts->state[k] = TILE_LOADING;
        ts->in_memory++;
        ts->decoding++;
        pthread_mutex_unlock(&ts->lock);

        GvTile *tile = NULL;
        reason[0] = 0;
        const int ret = load_tile(ts, k, &tile, reason, sizeof(reason));

        pthread_mutex_lock(&ts->lock);
        ts->decoding--;
        if (ret < 0)
            ts->in_memory--;
        finish_tile(ts, k, ret, tile, reason);
        pthread_cond_broadcast(&ts->cond);
    }
    pthread_mutex_unlock(&ts->lock);
    return NULL;
}

static void *scaler_open_main(void *arg)
{
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
    const GvTile *t = NULL;
    pthread_mutex_lock(&ts->lock);
    while (ts->state[k] == TILE_PENDING || ts->state[k] == TILE_LOADING) {
        if (atomic_load(ts->cfg.cancel))
            break;
        gv_cond_wait_poll(&ts->cond, &ts->lock);
    }
    if (ts->state[k] == TILE_READY)
        t = ts->tiles[k];
    pthread_mutex_unlock(&ts->lock);
    return t;
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
    if (ts->state[k] == TILE_READY) {
        gv_tile_free(&ts->tiles[k]);
        ts->state[k] = TILE_RELEASED;
        ts->in_memory--;
        pthread_cond_broadcast(&ts->cond);
    }
    pthread_mutex_unlock(&ts->lock);
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

int gv_tilestore_stop(GvTileStore *ts)
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
    return ts->scaled;
}

void gv_tilestore_close(GvTileStore **pts)
{
    GvTileStore *const ts = *pts;
    if (!ts)
        return;
    gv_tilestore_stop(ts);
    for (int k = 0; ts->tiles && k < ts->cfg.n; k++)
        gv_tile_free(&ts->tiles[k]);
    for (int k = 0; ts->fail_reason && k < ts->cfg.n; k++)
        free(ts->fail_reason[k]);
    free(ts->tiles);
    free(ts->state);
    free(ts->fail_reason);
    pthread_mutex_destroy(&ts->lock);
    pthread_cond_destroy(&ts->cond);
    free(ts);
    *pts = NULL;
}
