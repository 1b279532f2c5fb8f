#include "pipeline.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "color.h"
#include "cputime.h"
#include "encode.h"
#include "layout.h"
#include "render/compositor.h"
#include "scan.h"
#include "tiles.h"

#define DEMO_IMAGES 30
/* Waits poll the cancel flag this often, since gv_cancel() may only set it. */
#define POLL_NS 50000000L

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void timed_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += POLL_NS;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(c, m, &ts);
}

static int cpu_count(void)
{
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (n > 256 ? 256 : (int)n) : 1;
}

static int env_int(const char *name, int def)
{
    const char *const v = getenv(name);
    return v && *v ? atoi(v) : def;
}

static double env_double(const char *name, double def)
{
    const char *const v = getenv(name);
    return v && *v ? atof(v) : def;
}

/* ---------------------------------------------------------------- */
/* Probing inputs in parallel                                        */

typedef struct Probe {
    char **paths;
    int n;
    const GvTileSpec *spec;
    char (*reasons)[256];
    int *ok;
    int *gpu_candidate;
    atomic_int next;
    atomic_int *cancel;
} Probe;

static void *probe_main(void *arg)
{
    Probe *const p = arg;
    for (;;) {
        const int i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n || atomic_load(p->cancel))
            break;
        p->ok[i] = gv_tile_probe(p->paths[i], p->spec, p->reasons[i], sizeof(p->reasons[i]),
                                 &p->gpu_candidate[i]) == 0;
    }
    return NULL;
}

/* Runs fn on n_threads threads (the caller's included) and joins them. */
static void run_parallel(void *(*fn)(void *), void *arg, int n_threads)
{
    pthread_t *const t = calloc((size_t)n_threads, sizeof(*t));
    int started = 0;
    for (int i = 1; t && i < n_threads; i++) {
        if (pthread_create(&t[i - 1], NULL, fn, arg) != 0)
            break;
        started++;
    }
    fn(arg);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
}

/* ---------------------------------------------------------------- */
/* Picture pool: frames are recycled, handed to the encoder uncopied  */

typedef struct Pool Pool;
typedef struct PoolPic {
    GvPicture pic;
    Pool *pool;
    void *mem;
} PoolPic;

struct Pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    PoolPic **free_list;
    PoolPic **all;
    int n_free, n_alloc, max;
    int w, h;
};

static int pool_init(Pool *p, int w, int h, int max)
{
    memset(p, 0, sizeof(*p));
    p->w = w;
    p->h = h;
    p->max = max;
    p->free_list = calloc((size_t)max, sizeof(*p->free_list));
    p->all = calloc((size_t)max, sizeof(*p->all));
    if (!p->free_list || !p->all) {
        free(p->free_list);
        free(p->all);
        p->free_list = NULL;
        p->all = NULL;
        return -ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    return 0;
}

static void pool_free(Pool *p)
{
    if (!p->free_list)
        return;
    for (int i = 0; i < p->n_alloc; i++) {
        free(p->all[i]->mem);
        free(p->all[i]);
    }
    free(p->free_list);
    free(p->all);
    p->free_list = NULL;
    p->all = NULL;
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
}

static PoolPic *pool_new_pic(Pool *p)
{
    PoolPic *const pp = calloc(1, sizeof(*pp));
    if (!pp)
        return NULL;
    /* 64-byte aligned lines suit SIMD in the compositor and the encoder. */
    const int ly = (p->w + 63) & ~63, lc = (p->w / 2 + 63) & ~63;
    const size_t size = (size_t)ly * p->h + 2 * (size_t)lc * (p->h / 2);
    if (posix_memalign(&pp->mem, 64, size) != 0) {
        free(pp);
        return NULL;
    }
    uint8_t *const base = pp->mem;
    pp->pool = p;
    pp->pic.width = p->w;
    pp->pic.height = p->h;
    pp->pic.data[0] = base;
    pp->pic.data[1] = base + (size_t)ly * p->h;
    pp->pic.data[2] = pp->pic.data[1] + (size_t)lc * (p->h / 2);
    pp->pic.linesize[0] = ly;
    pp->pic.linesize[1] = pp->pic.linesize[2] = lc;
    return pp;
}

/* Blocks (polling cancel) until a picture is free or a new one may be made. */
static PoolPic *pool_get(Pool *p, atomic_int *cancel)
{
    PoolPic *pp = NULL;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->n_free > 0) {
            pp = p->free_list[--p->n_free];
            break;
        }
        if (p->n_alloc < p->max) {
            pp = pool_new_pic(p);
            if (pp)
                p->all[p->n_alloc++] = pp;
            break;
        }
        if (atomic_load(cancel))
            break;
        timed_wait(&p->cond, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return pp;
}

static void pool_put(void *opaque)
{
    PoolPic *const pp = opaque;
    Pool *const p = pp->pool;
    pthread_mutex_lock(&p->lock);
    p->free_list[p->n_free++] = pp;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* ---------------------------------------------------------------- */
/* Render state                                                       */

enum { TILE_PENDING, TILE_LOADING, TILE_READY, TILE_FAILED, TILE_RELEASED };

typedef struct Render {
    const GvSettings *s;
    const GvLog *log;
    atomic_int *cancel;
    GvTileSpec spec;
    uint8_t bg_yuv[3];
    int threads;
    int software_encoder; /* after a hardware encoder failed mid-stream */
    char **paths; /* usable images; NULL for the demo */
    int n;
    GvLayout layout;
    int64_t *first, *last;
    int *by_first, *by_last; /* shown images sorted by first / last frame */
    int n_shown;

    /* tile store, guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    GvTile **tiles;
    unsigned char *state;
    char **fail_reason;   /* per image: why it failed to decode, or NULL */
    atomic_int n_failed;  /* images that failed: the attempt is void */
    int fatal;            /* a worker error that is not bad input (e.g. -ENOMEM) */
    int next_job, in_memory, decoding, cap, batch, stop;
    pthread_t *workers;
    int n_workers;

    /* compositor */
    const GvCompositorOps *ops;
    void *comp;
    int gpu_failed;       /* the GPU failed once: later attempts stay on the CPU */
    /* The GPU compositor is opened on a thread of its own while the tiles
     * decode and, with USE_GPU auto or true, while the CPU renders the
     * first frames: a Vulkan device takes 0.3 to 2 s to open. */
    pthread_t gpu_thread;
    int gpu_thread_started;
    int gpu_pending;      /* an open was started and its result not yet taken */
    atomic_int gpu_open_done;
    int gpu_open_ret;
    void *gpu_comp;
    GvCompositorConfig gpu_cfg;
    /* The GPU tile scaler, opened on a thread of its own where some image
     * is one it may take; the workers use it once it is there. */
    int gpu_candidates;
    pthread_t scaler_thread;
    int scaler_thread_started;
    GvScaler *_Atomic scaler;
    atomic_int scaler_open_done;
    int wait_scaler; /* test-only: tiles wait for the scaler to open */

    /* encoder side */
    Pool pool;
    GvEncoder *enc;
    pthread_t enc_thread;
    int enc_started;
    PoolPic **queue;
    int64_t *queue_idx;
    int q_head, q_len, q_cap, q_end;
    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;
    atomic_int enc_error;
    double enc_thread_cpu; /* the encoder thread's CPU seconds, when it ends */
    double cpu0;           /* the process's CPU seconds when the run began */
    atomic_llong frames_done;
    int first_reported;
    int skipped; /* inputs skipped as bad, for progress */
    char png_dir[PATH_MAX];
} Render;

static int load_tile(Render *r, int k, GvTile **out, char *reason, size_t len)
{
    if (!r->paths)
        return gv_tile_demo(k, r->n, &r->spec, out);
    GvTileSpec spec = r->spec;
    while (r->wait_scaler && r->scaler_thread_started && !atomic_load(&r->scaler_open_done))
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    spec.scaler = atomic_load(&r->scaler);
    return gv_tile_load(r->paths[k], &spec, out, reason, len);
}

/* Called with r->lock held. Bad input voids the attempt (the layout
 * depends on the usable images); anything else fails the run. */
static void record_failure(Render *r, int k, int ret, const char *reason)
{
    r->state[k] = TILE_FAILED;
    if (ret != GV_ERR_DECODE) {
        if (!r->fatal)
            r->fatal = ret;
        return;
    }
    if (!r->fail_reason[k]) {
        r->fail_reason[k] = strdup(reason[0] ? reason : "cannot decode");
        if (!r->fail_reason[k] && !r->fatal)
            r->fatal = -ENOMEM;
    }
    atomic_fetch_add(&r->n_failed, 1);
}

static void *tile_worker(void *arg)
{
    Render *const r = arg;
    char reason[256];
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        if (atomic_load(r->cancel))
            break;
        if (r->next_job >= r->n_shown)
            break;
        if (r->in_memory >= r->cap || r->decoding >= r->batch) {
            timed_wait(&r->cond, &r->lock);
            continue;
        }
        const int k = r->by_first[r->next_job++];
        r->state[k] = TILE_LOADING;
        r->in_memory++;
        r->decoding++;
        pthread_mutex_unlock(&r->lock);

        GvTile *tile = NULL;
        reason[0] = 0;
        const int ret = load_tile(r, k, &tile, reason, sizeof(reason));

        pthread_mutex_lock(&r->lock);
        r->decoding--;
        if (ret < 0) {
            r->in_memory--;
            record_failure(r, k, ret, reason);
        } else {
            r->tiles[k] = tile;
            r->state[k] = TILE_READY;
        }
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static int tile_ready(Render *r, int k)
{
    pthread_mutex_lock(&r->lock);
    const int ready = r->state[k] == TILE_READY;
    pthread_mutex_unlock(&r->lock);
    return ready;
}

/* Waits for image k's tile; returns it, or NULL on failure or cancel. */
static GvTile *wait_tile(Render *r, int k)
{
    GvTile *t = NULL;
    pthread_mutex_lock(&r->lock);
    while (r->state[k] == TILE_PENDING || r->state[k] == TILE_LOADING) {
        if (atomic_load(r->cancel))
            break;
        timed_wait(&r->cond, &r->lock);
    }
    if (r->state[k] == TILE_READY)
        t = r->tiles[k];
    pthread_mutex_unlock(&r->lock);
    return t;
}

static void release_tile(Render *r, int k)
{
    pthread_mutex_lock(&r->lock);
    if (r->state[k] == TILE_READY) {
        gv_tile_free(&r->tiles[k]);
        r->state[k] = TILE_RELEASED;
        r->in_memory--;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
}

/* ---- encoder thread ---- */

static int queue_push(Render *r, PoolPic *pp, int64_t idx)
{
    pthread_mutex_lock(&r->q_lock);
    while (r->q_len == r->q_cap && !atomic_load(r->cancel) && !r->enc_error)
        timed_wait(&r->q_cond, &r->q_lock);
    if (atomic_load(r->cancel) || r->enc_error) {
        pthread_mutex_unlock(&r->q_lock);
        pool_put(pp);
        return atomic_load(r->cancel) ? GV_ERR_CANCELLED : r->enc_error;
    }
    const int slot = (r->q_head + r->q_len) % r->q_cap;
    r->queue[slot] = pp;
    r->queue_idx[slot] = idx;
    r->q_len++;
    pthread_cond_broadcast(&r->q_cond);
    pthread_mutex_unlock(&r->q_lock);
    return 0;
}

static void queue_end(Render *r)
{
    pthread_mutex_lock(&r->q_lock);
    r->q_end = 1;
    pthread_cond_broadcast(&r->q_cond);
    pthread_mutex_unlock(&r->q_lock);
}

static int write_png_frame(Render *r, const PoolPic *pp, int64_t idx)
{
    char path[PATH_MAX + 32], reason[256];
    snprintf(path, sizeof(path), "%s/frame_%06lld.png", r->png_dir, (long long)idx);
    const int ret = gv_picture_write_png(&pp->pic, path, reason, sizeof(reason));
    if (ret < 0 && ret != -ENOMEM) {
        gv_log(r->log, GV_LOG_ERROR, "%s: %s", path, reason);
        return GV_ERR_IO;
    }
    return ret;
}

static void *encoder_main(void *arg)
{
    Render *const r = arg;
    for (;;) {
        pthread_mutex_lock(&r->q_lock);
        while (r->q_len == 0 && !r->q_end && !atomic_load(r->cancel) && !r->enc_error)
            timed_wait(&r->q_cond, &r->q_lock);
        if (r->q_len == 0 || atomic_load(r->cancel) || r->enc_error) {
            pthread_mutex_unlock(&r->q_lock);
            break;
        }
        PoolPic *const pp = r->queue[r->q_head];
        const int64_t idx = r->queue_idx[r->q_head];
        r->q_head = (r->q_head + 1) % r->q_cap;
        r->q_len--;
        pthread_cond_broadcast(&r->q_cond);
        pthread_mutex_unlock(&r->q_lock);

        int ret = 0;
        if (r->png_dir[0])
            ret = write_png_frame(r, pp, idx);
        if (ret == 0)
            ret = gv_encoder_send(r->enc, &pp->pic, idx, pool_put, pp);
        else
            pool_put(pp);
        if (ret < 0) {
            pthread_mutex_lock(&r->q_lock);
            r->enc_error = ret;
            /* drop what is queued so the compositor does not wait on us */
            while (r->q_len > 0) {
                pool_put(r->queue[r->q_head]);
                r->q_head = (r->q_head + 1) % r->q_cap;
                r->q_len--;
            }
            pthread_cond_broadcast(&r->q_cond);
            pthread_mutex_unlock(&r->q_lock);
            break;
        }
        atomic_fetch_add(&r->frames_done, 1);
    }
    r->enc_thread_cpu = thread_cpu_s();
    /* return anything left (cancel) to the pool */
    pthread_mutex_lock(&r->q_lock);
    while (r->q_len > 0) {
        pool_put(r->queue[r->q_head]);
        r->q_head = (r->q_head + 1) % r->q_cap;
        r->q_len--;
    }
    pthread_cond_broadcast(&r->q_cond);
    pthread_mutex_unlock(&r->q_lock);
    return NULL;
}

/* ---- compositor choice and fallback ---- */

static void compositor_config(const Render *r, GvCompositorConfig *cfg)
{
    *cfg = (GvCompositorConfig){
        .layout = &r->layout,
        .threads = r->threads,
        .gpu_device = r->s->gpu_device,
        .gpu_memory_bytes = (int64_t)r->s->gpu_memory_mib << 20,
        .fail_at_frame = -1,
        .log = r->log,
    };
    memcpy(cfg->bg_yuv, r->bg_yuv, 3);
}

static void *gpu_open_main(void *arg)
{
    Render *const r = arg;
    /* test-only: a device slow to open, so that the CPU starts the video */
    const int delay_ms = env_int("GV_TEST_GPU_OPEN_DELAY_MS", 0);
    if (delay_ms > 0)
        nanosleep(&(struct timespec){ delay_ms / 1000, (long)(delay_ms % 1000) * 1000000 }, NULL);
    r->gpu_open_ret = gv_compositor_vulkan->open(&r->gpu_comp, &r->gpu_cfg);
    atomic_store(&r->gpu_open_done, 1);
    return NULL;
}

/* The share of GPU_MEMORY_LIMIT the tile scaler may hold (and as much
 * pinned host memory): two slots, each up to about 40 MP at the default. */
#define SCALER_MEMORY_SHARE 4

static void *scaler_open_main(void *arg)
{
    Render *const r = arg;
    GvScaler *sc = NULL;
    const GvScalerConfig cfg = {
        .filter = r->s->gpu_device,
        .memory_bytes = ((int64_t)r->s->gpu_memory_mib << 20) / SCALER_MEMORY_SHARE,
        /* test-only: scale on a software device too; fail the n-th image */
        .software = env_int("GV_TEST_GPU_SCALE_SOFTWARE", 0),
        .fail_at = env_int("GV_TEST_GPU_SCALE_FAIL_AT", 0),
        .log = r->log,
    };
    if (gv_scaler_open(&sc, &cfg) == 0) {
        gv_log(r->log, GV_LOG_INFO, "GPU tile scaling ready");
        atomic_store(&r->scaler, sc);
    }
    atomic_store(&r->scaler_open_done, 1);
    return NULL;
}

static void scaler_close(Render *r)
{
    if (r->scaler_thread_started) {
        pthread_join(r->scaler_thread, NULL);
        r->scaler_thread_started = 0;
    }
    GvScaler *sc = atomic_exchange(&r->scaler, NULL);
    gv_scaler_close(&sc);
}

/* Starts opening the GPU compositor, where USE_GPU allows one, and the
 * tile scaler, where some image is one it may take. */
static void gpu_open_start(Render *r)
{
    if (r->gpu_failed || r->s->gpu == GV_GPU_FALSE)
        return;
    if (r->gpu_candidates > 0 && r->spec.gpu_min_ratio > 0 && gv_compositor_vulkan &&
        pthread_create(&r->scaler_thread, NULL, scaler_open_main, r) == 0)
        r->scaler_thread_started = 1;
    r->gpu_pending = 1;
    r->gpu_comp = NULL;
    atomic_store(&r->gpu_open_done, 0);
    if (!gv_compositor_vulkan) {
        gv_log(r->log, GV_LOG_INFO, "built without Vulkan");
        r->gpu_open_ret = GV_ERR_GPU;
        atomic_store(&r->gpu_open_done, 1);
        return;
    }
    compositor_config(r, &r->gpu_cfg);
    if (r->scaler_thread_started)
        r->gpu_cfg.gpu_memory_bytes -= r->gpu_cfg.gpu_memory_bytes / SCALER_MEMORY_SHARE;
    /* test-only: a GPU that fails at this frame */
    r->gpu_cfg.fail_at_frame = env_int("GV_TEST_GPU_FAIL_AT", -1);
    if (pthread_create(&r->gpu_thread, NULL, gpu_open_main, r) != 0) {
        r->gpu_open_ret = -EAGAIN;
        atomic_store(&r->gpu_open_done, 1);
        return;
    }
    r->gpu_thread_started = 1;
}

/* Waits for the open started by gpu_open_start(); returns its result. */
static int gpu_open_join(Render *r)
{
    if (r->gpu_thread_started) {
        pthread_join(r->gpu_thread, NULL);
        r->gpu_thread_started = 0;
    }
    r->gpu_pending = 0;
    return r->gpu_open_ret;
}

/* Closes a GPU compositor that was opened but never used. */
static void gpu_open_discard(Render *r)
{
    gpu_open_join(r);
    if (r->gpu_comp)
        gv_compositor_vulkan->close(&r->gpu_comp);
}

/* No GPU works: an error with USE_GPU=require, else said once. */
static int no_gpu(const Render *r)
{
    const GvGpuMode mode = r->s->gpu;
    if (mode == GV_GPU_REQUIRE) {
        gv_log(r->log, GV_LOG_ERROR, "no usable GPU (USE_GPU=require; --verbose says why)");
        return GV_ERR_GPU;
    }
    gv_log(r->log, mode == GV_GPU_TRUE ? GV_LOG_WARNING : GV_LOG_INFO,
           "no usable GPU: compositing on the CPU");
    return 0;
}

static int open_cpu(Render *r)
{
    GvCompositorConfig cfg;
    compositor_config(r, &cfg);
    const int ret = gv_compositor_cpu.open(&r->comp, &cfg);
    if (ret == 0)
        r->ops = &gv_compositor_cpu;
    return ret;
}

/*
 * The compositor for the first frame. USE_GPU=require (and the test
 * switch that makes the GPU fail at a given frame) waits for the GPU;
 * auto and true start on the CPU unless the GPU is ready already, and
 * gpu_adopt() moves to it when it is.
 */
static int open_compositor(Render *r)
{
    if (!r->gpu_pending)
        return open_cpu(r);
    const int wait = r->s->gpu == GV_GPU_REQUIRE || r->gpu_cfg.fail_at_frame >= 0;
    if (wait || atomic_load(&r->gpu_open_done)) {
        if (gpu_open_join(r) == 0) {
            r->ops = gv_compositor_vulkan;
            r->comp = r->gpu_comp;
            r->gpu_comp = NULL;
            return 0;
        }
        const int ret = no_gpu(r);
        return ret < 0 ? ret : open_cpu(r);
    }
    return open_cpu(r);
}

/*
 * Between frames, with none in flight: moves from the CPU to the GPU once
 * the GPU has opened, giving it the tiles live now. Frames are the same
 * on both (tests/test_checkasm.c), so the video does not show the seam.
 */
static int gpu_adopt(Render *r, int added_upto, int64_t frame)
{
    if (gpu_open_join(r) < 0)
        return no_gpu(r);
    void *const cpu = r->comp;
    const GvCompositorOps *const cpu_ops = r->ops;
    r->ops = gv_compositor_vulkan;
    r->comp = r->gpu_comp;
    r->gpu_comp = NULL;
    gv_log(r->log, GV_LOG_INFO, "GPU ready: compositing on it from frame %lld", (long long)frame);
    for (int i = 0; i < added_upto; i++) {
        const int k = r->by_first[i];
        if (r->state[k] == TILE_READY) {
            const int ret = r->ops->tile_add(r->comp, k, r->tiles[k]);
            if (ret < 0) {
                /* keep the CPU compositor, which has every tile already */
                gv_log(r->log, GV_LOG_WARNING, "GPU compositing failed: continuing on the CPU");
                r->ops->close(&r->comp);
                r->gpu_failed = 1;
                r->ops = cpu_ops;
                r->comp = cpu;
                return 0;
            }
        }
    }
    cpu_ops->close((void **)&cpu);
    return 0;
}

/* ---------------------------------------------------------------- */

typedef struct InFlight {
    int64_t frame;
    PoolPic *pp;
} InFlight;

/* Switches to the CPU after a GPU failure: re-adds the live tiles and
 * re-renders the frames that were in flight. */
static int gpu_fallback(Render *r, int added_upto, InFlight *fl, int fl_head, int fl_len)
{
    /* The backend logged the Vulkan error at info level (--verbose): a
     * GPU failure is one warning, since the video is still complete. */
    gv_log(r->log, GV_LOG_WARNING, "GPU compositing failed: continuing on the CPU");
    r->ops->close(&r->comp);
    r->gpu_failed = 1;
    int ret = open_cpu(r);
    if (ret < 0)
        return ret;
    for (int i = 0; i < added_upto; i++) {
        const int k = r->by_first[i];
        if (r->state[k] == TILE_READY && (ret = r->ops->tile_add(r->comp, k, r->tiles[k])) < 0)
            return ret;
    }
    for (int i = 0; i < fl_len; i++) {
        const InFlight *const f = &fl[(fl_head + i) % GV_MAX_DEPTH];
        if ((ret = r->ops->submit(r->comp, f->frame, &f->pp->pic)) < 0 ||
            (ret = r->ops->wait(r->comp)) < 0)
            return ret;
    }
    return 0;
}

/*
 * The run's CPU time and the encoder's part: its own thread, the flush
 * on this one, and the threads it started (named GV_ENCODER_THREAD, alive
 * until the encoder closes). The rest is gridvid's own: probing, decoding,
 * compositing, copying frames, the GPU driver.
 */
static void cpu_summary(const Render *r, GvSummary *summary, double flush_cpu)
{
    summary->cpu_s = gv_cpu_process_s() - r->cpu0;
    const double threads = gv_cpu_threads_s(GV_ENCODER_THREAD);
    summary->encoder_cpu_s = threads < 0 ? -1 : r->enc_thread_cpu + flush_cpu + threads;
    if (threads >= 0 && summary->encoder_cpu_s > 0)
        gv_log(r->log, GV_LOG_INFO,
               "CPU time %.2f s: the encoder %.2f s, gridvid's own %.2f s (%.1f%% of the "
               "encoder's)",
               summary->cpu_s, summary->encoder_cpu_s, summary->cpu_s - summary->encoder_cpu_s,
               100.0 * (summary->cpu_s - summary->encoder_cpu_s) / summary->encoder_cpu_s);
}

static void report_progress(Render *r, GvPhase phase, double t0, double *last_report)
{
    if (!r->s->progress)
        return;
    const double t = now_s();
    const int64_t done = atomic_load(&r->frames_done);
    /* the first frame is reported at once: it is what a user waits for */
    const int first = done > 0 && !r->first_reported;
    if (phase == GV_PHASE_RENDER && t - *last_report < 0.25 && !first)
        return;
    r->first_reported |= done > 0;
    *last_report = t;
    GvProgress p = {
        .phase = phase,
        .frames_done = done,
        .frames_total = r->layout.frames,
        .images_total = r->n,
        .images_skipped = r->skipped,
        .elapsed_s = t - t0,
    };
    r->s->progress(r->s->progress_opaque, &p);
}

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

/* Fills out with the shown images ordered by key[k]. */
static int sort_images(const Render *r, const int64_t *key, int *out)
{
    Keyed *const tmp = malloc(sizeof(*tmp) * (size_t)(r->n_shown + 1));
    if (!tmp)
        return -ENOMEM;
    for (int i = 0; i < r->n_shown; i++)
        tmp[i] = (Keyed){ key[out[i]], out[i] };
    qsort(tmp, (size_t)r->n_shown, sizeof(*tmp), cmp_keyed);
    for (int i = 0; i < r->n_shown; i++)
        out[i] = tmp[i].k;
    free(tmp);
    return 0;
}

static int compute_schedule(Render *r)
{
    const int n = r->n;
    r->first = malloc(sizeof(*r->first) * (size_t)(n + 1));
    r->last = malloc(sizeof(*r->last) * (size_t)(n + 1));
    r->by_first = malloc(sizeof(*r->by_first) * (size_t)(n + 1));
    r->by_last = malloc(sizeof(*r->by_last) * (size_t)(n + 1));
    if (!r->first || !r->last || !r->by_first || !r->by_last)
        return -ENOMEM;
    gv_layout_lifetimes(&r->layout, r->first, r->last);
    r->n_shown = 0;
    for (int k = 0; k < n; k++)
        if (r->first[k] >= 0)
            r->by_first[r->n_shown++] = k;
    memcpy(r->by_last, r->by_first, sizeof(int) * (size_t)r->n_shown);
    if (sort_images(r, r->first, r->by_first) < 0 || sort_images(r, r->last, r->by_last) < 0)
        return -ENOMEM;

    /* The most tiles any frame needs at once bounds the store, plus room
     * for the workers to run ahead. */
    int live = 0, max_live = 0;
    for (int i = 0, b = 0; i < r->n_shown; i++) {
        const int64_t f = r->first[r->by_first[i]];
        /* a tile is held until the frames in flight after its last one are done */
        while (b < r->n_shown && r->last[r->by_last[b]] + GV_MAX_DEPTH - 1 < f) {
            b++;
            live--;
        }
        live++;
        if (live > max_live)
            max_live = live;
    }
    r->cap = max_live + r->batch;
    return 0;
}

/*
 * Reserves a temporary name beside the output. open() with 0666 rather
 * than mkstemp() so that the finished file gets the permissions the umask
 * gives any new file.
 */
static int make_temp(const char *output, char *tmp, size_t len, const GvLog *log)
{
    const char *const slash = strrchr(output, '/');
    const int dlen = slash ? (int)(slash - output) + 1 : 0;
    const char *const base = slash ? slash + 1 : output;
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        const unsigned id = atomic_fetch_add(&counter, 1) * 2654435761u ^ (unsigned)getpid() ^
                            (unsigned)(now_s() * 1e6);
        if ((size_t)snprintf(tmp, len, "%.*s.%s.gvtmp-%08x", dlen, output, base, id) >= len)
            return -ENAMETOOLONG;
        const int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (errno != EEXIST) {
            const int e = errno;
            gv_log(log, GV_LOG_ERROR, "cannot write %s: %s", output, strerror(e));
            tmp[0] = 0;
            return -e;
        }
    }
    tmp[0] = 0;
    return -EEXIST;
}

static void GV_PRINTF(2, 3) plan_line(const GvSettings *s, const char *fmt, ...)
{
    if (!s->plan)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    s->plan(s->plan_opaque, buf);
}

static const char *const crop_names[] = { "center", "top", "bottom", "left", "right",
                                          "attention", "entropy" };
static const char *const easing_names[] = { "linear", "ease-in-out", "ease-in", "ease-out" };

/* The plan is written from the layout the render uses, so a dry run
 * shows exactly what a render would do. */
static void emit_plan(const Render *r, int skipped)
{
    const GvSettings *const s = r->s;
    const GvLayout *const l = &r->layout;
    const int rows = l->p.kind == GV_LAYOUT_ROWS;
    plan_line(s, "inputs: %d images used, %d skipped%s", r->n, skipped,
              s->demo ? " (generated demo images)" : "");
    plan_line(s, "frame: %dx%d, %d/%d fps, %g s, %lld frames, motion blur %d", s->width,
              s->height, s->fps_num, s->fps_den, s->duration, (long long)l->frames,
              l->p.motion_blur);
    plan_line(s, "tiles: %dx%d, crop %s, gap %d", r->spec.w, r->spec.h, crop_names[s->crop],
              s->gap);
    plan_line(s, "layout: %s, %d %s from %s %d, easing %s, %d images shown", rows ? "rows" : "columns",
              l->n_lanes, rows ? "rows" : "columns", rows ? "y" : "x", l->first,
              easing_names[s->easing], r->n_shown);
    for (int i = 0; i < l->n_lanes; i++) {
        const GvLane *const ln = &l->lanes[i];
        const char *const dir = ln->sign > 0 ? (rows ? "left" : "up") : (rows ? "right" : "down");
        plan_line(s, "%s %d: %s %d, %d images, period %lld px, travel %.1f px, %.1f px/s, %s",
                  rows ? "row" : "column", i, rows ? "y" : "x", ln->pos, ln->n,
                  (long long)ln->period, ln->travel, ln->travel / s->duration, dir);
    }
}

/* A failed or lost attempt leaves no frame sequence behind. */
static void remove_frames(const char *dir, int64_t upto)
{
    char path[PATH_MAX + 32];
    for (int64_t i = 0; i < upto; i++) {
        snprintf(path, sizeof(path), "%s/frame_%06lld.png", dir, (long long)i);
        unlink(path);
    }
    rmdir(dir);
}


/*
 * The finished video reaches the disk before it takes the output's name:
 * after a power failure the name must not stand for an empty or partial
 * file. File systems without fsync (EINVAL) have nothing to flush.
 */
static int sync_file(const char *tmp, const char *output, const GvLog *log)
{
    const int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    int ret = 0;
    if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL && errno != EROFS))
        ret = -errno;
    if (fd >= 0)
        close(fd);
    if (ret < 0)
        gv_log(log, GV_LOG_ERROR, "writing %s: %s", output, strerror(-ret));
    return ret < 0 ? GV_ERR_IO : 0;
}

static int render_video(Render *r, GvSummary *summary, double t0)
{
    const GvSettings *const s = r->s;
    int ret = 0;
    char tmp[PATH_MAX];
    tmp[0] = 0;
    InFlight *fl = NULL;
    double last_report = 0;

    /* A dry run opens the encoder, to name the one a render would get,
     * but writes nothing. */
    if (s->dry_run)
        snprintf(tmp, sizeof(tmp), "/dev/null");
    else if ((ret = make_temp(s->output, tmp, sizeof(tmp), r->log)) < 0)
        goto end;

    /* Tiles start decoding, and the GPU opening on its threads, before
     * the encoder opens: each takes a while, and the first frame waits
     * for its tiles anyway. */
    if (!s->dry_run) {
        r->wait_scaler = env_int("GV_TEST_GPU_SCALE_WAIT", 0);
        gpu_open_start(r);
        r->workers = calloc((size_t)r->threads, sizeof(*r->workers));
        if (!r->workers) {
            ret = -ENOMEM;
            goto end;
        }
        for (int i = 0; i < r->threads; i++) {
            if (pthread_create(&r->workers[i], NULL, tile_worker, r) != 0)
                break;
            r->n_workers++;
        }
        if (r->n_workers == 0) {
            ret = -EAGAIN;
            goto end;
        }
    }

    GvEncodeParams ep = {
        .path = tmp,
        .name = s->output,
        .width = s->width,
        .height = s->height,
        .fps_num = s->fps_num,
        .fps_den = s->fps_den,
        .frames = r->layout.frames,
        .encoder = s->encoder,
        .codec = s->codec,
        .crf = s->crf,
        .preset = s->preset,
        .bitrate = s->bitrate,
        .threads = s->threads,
        .videotoolbox = s->videotoolbox,
        .log = r->log,
        .audio = s->audio,
        .software = r->software_encoder,
        /* test-only: a hardware encoder dying mid-stream, on the first try */
        .fail_at_frame = r->software_encoder ? 0 : env_int("GV_TEST_ENCODER_FAIL_AT", 0),
    };
    if ((ret = gv_encoder_open(&r->enc, &ep)) < 0)
        goto end;
    plan_line(s, "encoder: %s", gv_encoder_name(r->enc));
    if (s->dry_run) {
        snprintf(summary->encoder, sizeof(summary->encoder), "%s", gv_encoder_name(r->enc));
        goto end;
    }
    if ((ret = open_compositor(r)) < 0)
        goto end;

    if (!s->stream) {
        const char *const dir = s->temp_dir ? s->temp_dir : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        snprintf(r->png_dir, sizeof(r->png_dir), "%s/gridvid-frames-XXXXXX", dir);
        if (!mkdtemp(r->png_dir)) {
            gv_log(r->log, GV_LOG_ERROR, "cannot create a frame folder in %s: %s", dir, strerror(errno));
            r->png_dir[0] = 0;
            ret = GV_ERR_IO;
            goto end;
        }
        /* the user asked to keep them: say where, whatever the log level */
        gv_log(r->log, GV_LOG_WARNING, "STREAM_PROCESSING=false: frames kept in %s", r->png_dir);
    }

    /* The pool holds the frames in flight in the compositor, in the queue,
     * and those an encoder keeps for reference or lookahead. */
    /* Two queued frames keep the encoder fed (the compositor is ahead of
     * it) without holding more pictures than that. */
    r->q_cap = 2;
    if ((ret = pool_init(&r->pool, s->width, s->height, GV_MAX_DEPTH + r->q_cap + 64)) < 0)
        goto end;
    r->queue = calloc((size_t)r->q_cap, sizeof(*r->queue));
    r->queue_idx = calloc((size_t)r->q_cap, sizeof(*r->queue_idx));
    /* a ring of the most any backend keeps in flight: the backend may change */
    fl = calloc(GV_MAX_DEPTH, sizeof(*fl));
    if (!r->queue || !r->queue_idx || !fl) {
        ret = -ENOMEM;
        goto end;
    }
    if (pthread_create(&r->enc_thread, NULL, encoder_main, r) != 0) {
        ret = -EAGAIN;
        goto end;
    }
    r->enc_started = 1;


    int next_add = 0, next_remove = 0, fl_head = 0, fl_len = 0;
    const int64_t frames = r->layout.frames;
    for (int64_t i = 0; i < frames || fl_len > 0;) {
        if (atomic_load(r->cancel)) {
            ret = GV_ERR_CANCELLED;
            goto end;
        }
        if (r->enc_error) {
            ret = r->enc_error;
            goto end;
        }
        /* a bad image voids this attempt: stop now, not at its first frame */
        if (atomic_load(&r->n_failed) || r->fatal) {
            pthread_mutex_lock(&r->lock);
            ret = r->fatal ? r->fatal : GV_ERR_DECODE;
            pthread_mutex_unlock(&r->lock);
            goto end;
        }
        report_progress(r, GV_PHASE_RENDER, t0, &last_report);
        if (r->gpu_pending && fl_len == 0 && atomic_load(&r->gpu_open_done) &&
            (ret = gpu_adopt(r, next_add, i)) < 0)
            goto end;
        const int depth = r->ops->depth > 0 ? r->ops->depth : 1;
        /* With frames in flight and a tile still decoding, finish the oldest
         * frame first: that releases tiles, so the workers can go on. */
        const int blocked = fl_len > 0 && next_add < r->n_shown &&
                            r->first[r->by_first[next_add]] <= i &&
                            !tile_ready(r, r->by_first[next_add]);
        if (i < frames && fl_len < depth && !blocked) {
            while (next_add < r->n_shown && r->first[r->by_first[next_add]] <= i) {
                const int k = r->by_first[next_add];
                GvTile *const t = wait_tile(r, k);
                if (!t) {
                    if (atomic_load(r->cancel)) {
                        ret = GV_ERR_CANCELLED;
                        goto end;
                    }
                    pthread_mutex_lock(&r->lock);
                    ret = r->fatal ? r->fatal : GV_ERR_DECODE;
                    pthread_mutex_unlock(&r->lock);
                    goto end;
                }
                next_add++;
                ret = r->ops->tile_add(r->comp, k, t);
                if (ret < 0 && r->ops != &gv_compositor_cpu)
                    ret = gpu_fallback(r, next_add, fl, fl_head, fl_len);
                if (ret < 0)
                    goto end;
            }
            PoolPic *const pp = pool_get(&r->pool, r->cancel);
            if (!pp) {
                ret = atomic_load(r->cancel) ? GV_ERR_CANCELLED : -ENOMEM;
                goto end;
            }
            InFlight *const f = &fl[(fl_head + fl_len) % GV_MAX_DEPTH];
            f->frame = i;
            f->pp = pp;
            fl_len++;
            ret = r->ops->submit(r->comp, i, &pp->pic);
            if (ret < 0 && r->ops != &gv_compositor_cpu)
                ret = gpu_fallback(r, next_add, fl, fl_head, fl_len);
            if (ret < 0)
                goto end;
            i++;
            if (fl_len < depth && i < frames)
                continue;
        }
        /* the oldest frame is done: hand it on and release its tiles */
        ret = r->ops->wait(r->comp);
        if (ret < 0 && r->ops != &gv_compositor_cpu) {
            ret = gpu_fallback(r, next_add, fl, fl_head, fl_len);
        }
        if (ret < 0)
            goto end;
        const InFlight done = fl[fl_head];
        fl_head = (fl_head + 1) % GV_MAX_DEPTH;
        fl_len--;
        while (next_remove < r->n_shown && r->last[r->by_last[next_remove]] <= done.frame) {
            const int k = r->by_last[next_remove++];
            r->ops->tile_remove(r->comp, k);
            release_tile(r, k);
        }
        if ((ret = queue_push(r, done.pp, done.frame)) < 0)
            goto end;
    }
    /* a GPU that was not ready before the last frame: still say if there is none */
    if (r->gpu_pending && gpu_open_join(r) < 0 && (ret = no_gpu(r)) < 0)
        goto end;
    queue_end(r);
    pthread_join(r->enc_thread, NULL);
    r->enc_started = 0;
    if (r->enc_error) {
        ret = r->enc_error;
        goto end;
    }
    if (atomic_load(r->cancel)) {
        ret = GV_ERR_CANCELLED;
        goto end;
    }
    report_progress(r, GV_PHASE_FINISH, t0, &last_report);
    const double flush0 = thread_cpu_s();
    if ((ret = gv_encoder_finish(r->enc)) < 0)
        goto end;
    cpu_summary(r, summary, thread_cpu_s() - flush0);
    snprintf(summary->encoder, sizeof(summary->encoder), "%s", gv_encoder_name(r->enc));
    snprintf(summary->compositor, sizeof(summary->compositor), "%s",
             r->ops->device_name ? r->ops->device_name(r->comp) : r->ops->name);
    /* an interrupt during the flush still leaves the earlier file alone */
    if (atomic_load(r->cancel)) {
        ret = GV_ERR_CANCELLED;
        goto end;
    }
    if ((ret = sync_file(tmp, s->output, r->log)) < 0)
        goto end;
    if (rename(tmp, s->output) != 0) {
        ret = -errno;
        gv_log(r->log, GV_LOG_ERROR, "cannot move the video to %s: %s", s->output, strerror(-ret));
        goto end;
    }
    tmp[0] = 0;
    summary->frames = frames;

end:
    /* stop the workers and the encoder before anything they use goes */
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < r->n_workers; i++)
        pthread_join(r->workers[i], NULL);
    free(r->workers);
    r->workers = NULL;
    r->n_workers = 0;
    summary->tiles_gpu_scaled = gv_scaler_count(atomic_load(&r->scaler));
    scaler_close(r);
    if (r->enc_started) {
        pthread_mutex_lock(&r->q_lock);
        if (!r->enc_error)
            r->enc_error = ret < 0 ? ret : GV_ERR_ENCODE;
        pthread_mutex_unlock(&r->q_lock);
        queue_end(r);
        pthread_join(r->enc_thread, NULL);
        r->enc_started = 0;
    }
    /* the encoder drops its references, the compositor waits for the
     * device, and only then may the pictures go */
    gv_encoder_close(&r->enc);
    if (r->comp)
        r->ops->close(&r->comp);
    gpu_open_discard(r);
    free(fl);
    free(r->queue);
    free(r->queue_idx);
    r->queue = NULL;
    r->queue_idx = NULL;
    pool_free(&r->pool);
    if (tmp[0] && !s->dry_run)
        unlink(tmp);
    if (ret < 0 && r->png_dir[0])
        remove_frames(r->png_dir, atomic_load(&r->frames_done) + 1);
    return ret;
}

/* ---------------------------------------------------------------- */
/* Preview: one frame, only the tiles it shows, no encoder            */

typedef struct PreviewJob {
    Render *r;
    int *ks;
    int n;
    atomic_int next;
} PreviewJob;

static void collect_image(void *opaque, int k)
{
    PreviewJob *const j = opaque;
    j->ks[j->n++] = k;
}

static void *preview_worker(void *arg)
{
    PreviewJob *const j = arg;
    Render *const r = j->r;
    char reason[256];
    for (;;) {
        const int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n || atomic_load(r->cancel))
            break;
        const int k = j->ks[i];
        GvTile *t = NULL;
        reason[0] = 0;
        const int ret = load_tile(r, k, &t, reason, sizeof(reason));
        pthread_mutex_lock(&r->lock);
        if (ret < 0) {
            record_failure(r, k, ret, reason);
        } else {
            r->tiles[k] = t;
            r->state[k] = TILE_READY;
        }
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

static int render_preview(Render *r, GvSummary *summary)
{
    const GvSettings *const s = r->s;
    const GvLayout *const l = &r->layout;
    int ret = 0;
    PreviewJob job = { r, calloc((size_t)r->n + 1, sizeof(int)), 0, 0 };
    GvOffset *const offs = calloc((size_t)l->n_lanes * (size_t)l->p.motion_blur, sizeof(*offs));
    Pool pool = { 0 };
    PoolPic *pp = NULL;
    if (!job.ks || !offs || pool_init(&pool, s->width, s->height, 1) < 0 ||
        !(pp = pool_get(&pool, r->cancel))) {
        ret = -ENOMEM;
        goto end;
    }
    /* The frame at that time; p = 1 (the end) is a valid frame too. */
    const int64_t frame = (int64_t)floor(s->preview_at * s->fps_num / s->fps_den + 0.5);
    if (gv_frame_images(l, frame, collect_image, &job) < 0) {
        ret = -ENOMEM;
        goto end;
    }
    run_parallel(preview_worker, &job, r->threads < job.n ? r->threads : (job.n > 0 ? job.n : 1));
    if (atomic_load(r->cancel)) {
        ret = GV_ERR_CANCELLED;
        goto end;
    }
    if (r->fatal || atomic_load(&r->n_failed)) {
        ret = r->fatal ? r->fatal : GV_ERR_DECODE;
        goto end;
    }
    gv_frame_offsets(l, frame, offs);
    if ((ret = gv_cpu_render(l, r->bg_yuv, (const GvTile *const *)r->tiles, offs, &pp->pic, 0,
                             s->height)) < 0)
        goto end;
    char reason[256] = "";
    if ((ret = gv_picture_write_png(&pp->pic, s->preview, reason, sizeof(reason))) < 0) {
        /* out of memory is not an I/O error, and leaves no reason text */
        if (ret != -ENOMEM)
            gv_log(r->log, GV_LOG_ERROR, "%s: %s", s->preview, reason);
        goto end;
    }
    summary->frames = 1;
    snprintf(summary->compositor, sizeof(summary->compositor), "cpu");
end:
    for (int i = 0; i < job.n; i++)
        gv_tile_free(&r->tiles[job.ks[i]]);
    free(job.ks);
    free(offs);
    pool_free(&pool);
    return ret;
}

/* ---------------------------------------------------------------- */

static void render_free(Render *r)
{
    if (r->tiles)
        for (int k = 0; k < r->n; k++)
            gv_tile_free(&r->tiles[k]);
    free(r->tiles);
    free(r->state);
    if (r->fail_reason)
        for (int k = 0; k < r->n; k++)
            free(r->fail_reason[k]);
    free(r->fail_reason);
    free(r->first);
    free(r->last);
    free(r->by_first);
    free(r->by_last);
    gv_layout_free(&r->layout);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->q_lock);
    pthread_cond_destroy(&r->q_cond);
}

/* Lists and probes the inputs; fills the usable paths in order. */
static int find_images(const GvSettings *s, const GvLog *log, atomic_int *cancel,
                       const GvTileSpec *spec, int threads, GvFileList *files, int *skipped,
                       int *gpu_candidates)
{
    int ret = gv_scan(s->inputs, s->n_inputs, s->recursive, s->order, s->shuffle_seed, cancel,
                      log, files);
    if (ret < 0)
        return ret == -ENOENT ? GV_ERR_BAD_INPUT : ret;
    /* dangling links and unreadable folders were warned about: skipped too */
    *skipped += files->skipped;
    Probe p = { .paths = files->paths, .n = files->n, .spec = spec, .cancel = cancel };
    p.reasons = calloc((size_t)files->n + 1, sizeof(*p.reasons));
    p.ok = calloc((size_t)files->n + 1, sizeof(*p.ok));
    p.gpu_candidate = calloc((size_t)files->n + 1, sizeof(*p.gpu_candidate));
    if (!p.reasons || !p.ok || !p.gpu_candidate) {
        ret = -ENOMEM;
        goto end;
    }
    run_parallel(probe_main, &p, files->n < threads ? (files->n > 0 ? files->n : 1) : threads);
    if (atomic_load(cancel)) {
        ret = GV_ERR_CANCELLED;
        goto end;
    }
    int kept = 0;
    for (int i = 0; i < files->n; i++) {
        if (p.ok[i]) {
            files->paths[kept++] = files->paths[i];
            *gpu_candidates += p.gpu_candidate[i];
            continue;
        }
        if (s->strict) {
            gv_log(log, GV_LOG_ERROR, "%s: %s", files->paths[i], p.reasons[i]);
            for (int j = i; j < files->n; j++)
                free(files->paths[j]);
            files->n = kept;
            ret = GV_ERR_BAD_INPUT;
            goto end;
        }
        gv_log(log, GV_LOG_WARNING, "%s: %s", files->paths[i], p.reasons[i]);
        free(files->paths[i]);
        (*skipped)++;
    }
    files->n = kept;
end:
    free(p.reasons);
    free(p.ok);
    free(p.gpu_candidate);
    return ret;
}

int gv_pipeline_run(const GvSettings *s, const GvLog *log, atomic_int *cancel, GvSummary *summary)
{
    const double t0 = now_s(), cpu0 = gv_cpu_process_s();
    GvFileList files = { NULL, 0 };
    int ret, skipped = 0;
    memset(summary, 0, sizeof(*summary));

    if ((ret = gv_tiles_init()) < 0) {
        gv_log(log, GV_LOG_ERROR, "cannot start libvips");
        return ret;
    }
    if (!s->preview) {
        char err[512];
        if (gv_encoder_check(s->output, s->codec, s->encoder, err, sizeof(err)) < 0) {
            gv_log(log, GV_LOG_ERROR, "%s", err);
            return GV_ERR_SETTING;
        }
    }
    const int threads = s->threads > 0 ? s->threads : cpu_count();
    GvTileSpec spec = {
        .w = gv_tile_width(s->tile_height, s->aspect_w, s->aspect_h),
        .h = s->tile_height,
        .crop = s->crop,
        .max_pixels = s->max_pixels,
        /* test and benchmark switch: 0 turns GPU scaling off */
        .gpu_min_ratio = env_double("GV_GPU_SCALE_MIN_RATIO", GV_GPU_SCALE_MIN_RATIO),
    };
    memcpy(spec.background, s->background, 3);

    if (s->progress) {
        const GvProgress p = { .phase = GV_PHASE_SCAN };
        s->progress(s->progress_opaque, &p);
    }
    int n, software_encoder = 0, gpu_failed = 0, gpu_candidates = 0;
    if (s->demo) {
        n = DEMO_IMAGES;
    } else {
        if ((ret = find_images(s, log, cancel, &spec, threads, &files, &skipped,
                               &gpu_candidates)) < 0)
            goto end;
        n = files.n;
    }

    for (;;) {
        if (n == 0) {
            gv_log(log, GV_LOG_ERROR, "no usable image in the input");
            ret = GV_ERR_BAD_INPUT;
            goto end;
        }
        Render r = { .s = s, .log = log, .cancel = cancel, .spec = spec, .threads = threads,
                     .cpu0 = cpu0 };
        r.batch = s->batch > 0 ? s->batch : 2 * threads;
        r.software_encoder = software_encoder;
        r.gpu_candidates = gpu_candidates;
        r.paths = s->demo ? NULL : files.paths;
        r.n = n;
        atomic_init(&r.frames_done, 0);
        pthread_mutex_init(&r.lock, NULL);
        pthread_cond_init(&r.cond, NULL);
        pthread_mutex_init(&r.q_lock, NULL);
        pthread_cond_init(&r.q_cond, NULL);
        gv_rgb_to_yuv(s->background[0], s->background[1], s->background[2], &r.bg_yuv[0],
                      &r.bg_yuv[1], &r.bg_yuv[2]);
        const GvLayoutParams lp = gv_layout_params(s, n);
        r.gpu_failed = gpu_failed;
        r.skipped = skipped;
        r.tiles = calloc((size_t)n, sizeof(*r.tiles));
        r.state = calloc((size_t)n, 1);
        r.fail_reason = calloc((size_t)n, sizeof(*r.fail_reason));
        if (!r.tiles || !r.state || !r.fail_reason)
            ret = -ENOMEM;
        else if ((ret = gv_layout_init(&r.layout, &lp)) < 0)
            gv_log(log, GV_LOG_ERROR, "impossible layout for these settings");
        else if ((ret = compute_schedule(&r)) == 0) {
            emit_plan(&r, skipped);
            if (s->preview && s->dry_run)
                plan_line(s, "preview: frame at %g s -> %s", s->preview_at, s->preview);
            else if (s->preview)
                ret = render_preview(&r, summary);
            else
                ret = render_video(&r, summary, t0);
        }
        gpu_failed = r.gpu_failed;

        /* Images that passed the probe but failed to decode: the layout
         * depends on the usable images, so render again without them. */
        int dropped = 0;
        if (ret == GV_ERR_DECODE && !s->demo) {
            for (int k = 0; k < n; k++) {
                if (!r.fail_reason[k])
                    continue;
                gv_log(log, s->strict ? GV_LOG_ERROR : GV_LOG_WARNING, "%s: %s", files.paths[k],
                       r.fail_reason[k]);
                if (s->strict) {
                    ret = GV_ERR_BAD_INPUT;
                    break;
                }
                free(files.paths[k]);
                files.paths[k] = NULL;
                dropped++;
            }
        }
        render_free(&r);
        if (dropped > 0 && ret == GV_ERR_DECODE) {
            int kept = 0;
            for (int k = 0; k < n; k++)
                if (files.paths[k])
                    files.paths[kept++] = files.paths[k];
            files.n = n = kept;
            skipped += dropped;
            continue;
        }

        if (ret == GV_ENCODE_LOST && !software_encoder) {
            /* The frames already sent are gone with the encoder: encode
             * again from the first frame into a fresh file. */
            software_encoder = 1;
            continue;
        }
        if (ret == GV_ENCODE_LOST)
            ret = GV_ERR_ENCODE;
        break;
    }
end:
    summary->images_used = ret == 0 ? n : 0;
    summary->images_skipped = skipped;
    summary->seconds = now_s() - t0;
    if (ret == 0 && !s->dry_run) {
        struct stat st;
        if (stat(s->preview ? s->preview : s->output, &st) == 0)
            summary->output_bytes = st.st_size;
    }
    gv_file_list_free(&files);
    return ret;
}
