#include "render/failover.h"
#include "cputime.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

typedef struct InFlight {
    int64_t frame;
    GvPicture *pic, *over;
    void *opaque;
} InFlight;

struct GvFailover {
    GvFailoverConfig cfg;
    const GvCompositorOps *ops; /* the backend in use, NULL before begin */
    void *comp;
    const GvTile **live;        /* tiles added and not removed, by image */
    InFlight fl[GV_MAX_DEPTH];  /* submitted, oldest first */
    int head, len;
    int n_done;                 /* leading entries of fl already complete */
    int gpu_failed;

    /* the Vulkan compositor, opening on a thread of its own */
    pthread_t thread;
    int thread_started;
    int pending;                /* opening, or open and not yet taken */
    atomic_int open_done;
    int open_ret;
    void *gpu_comp;
};

static void *gpu_open_main(void *arg)
{
    gv_thread_name("gv-gpu-open");
    GvFailover *const f = arg;
    const int ms = f->cfg.open_delay_ms;
    if (ms > 0)
        nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000 }, NULL);
    f->open_ret = gv_compositor_vulkan->open(&f->gpu_comp, &f->cfg.comp);
    atomic_store(&f->open_done, 1);
    return NULL;
}

int gv_failover_open(GvFailover **out, const GvFailoverConfig *cfg)
{
    *out = NULL;
    GvFailover *const f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->cfg = *cfg;
    f->gpu_failed = cfg->gpu_failed;
    atomic_init(&f->open_done, 0);
    f->live = calloc((size_t)cfg->n_images + 1, sizeof(*f->live));
    if (!f->live) {
        free(f);
        return -ENOMEM;
    }
    *out = f;
    if (f->gpu_failed || cfg->gpu == GV_GPU_FALSE)
        return 0;
    f->pending = 1;
    if (!gv_compositor_vulkan) {
        gv_log(cfg->comp.log, GV_LOG_INFO, "built without Vulkan");
        f->open_ret = GV_ERR_GPU;
        atomic_store(&f->open_done, 1);
        return 0;
    }
    if (pthread_create(&f->thread, NULL, gpu_open_main, f) != 0) {
        f->open_ret = -EAGAIN;
        atomic_store(&f->open_done, 1);
        return 0;
    }
    f->thread_started = 1;
    return 0;
}

/* Waits for the GPU's opening; returns its result. */
static int gpu_join(GvFailover *f)
{
    if (f->thread_started) {
        pthread_join(f->thread, NULL);
        f->thread_started = 0;
    }
    f->pending = 0;
    return f->open_ret;
}

/* No GPU works: an error with USE_GPU=require, else said once. */
static int no_gpu(const GvFailover *f)
{
    const GvLog *const log = f->cfg.comp.log;
    if (f->cfg.gpu == GV_GPU_REQUIRE) {
        gv_log(log, GV_LOG_ERROR, "no usable GPU (USE_GPU=require; --verbose says why)");
        return GV_ERR_GPU;
    }
    gv_log(log, f->cfg.gpu == GV_GPU_TRUE ? GV_LOG_WARNING : GV_LOG_INFO,
           "no usable GPU: compositing on the CPU");
    return 0;
}

static int open_cpu(GvFailover *f)
{
    GvCompositorConfig cfg = f->cfg.comp;
    cfg.fail_at_frame = -1;
    const int ret = gv_compositor_cpu.open(&f->comp, &cfg);
    f->ops = ret == 0 ? &gv_compositor_cpu : NULL;
    return ret;
}

/* Makes the opened GPU compositor the one in use. */
static void take_gpu(GvFailover *f)
{
    f->ops = gv_compositor_vulkan;
    f->comp = f->gpu_comp;
    f->gpu_comp = NULL;
}

int gv_failover_begin(GvFailover *f)
{
    if (!f->pending)
        return open_cpu(f);
    const int wait = f->cfg.gpu == GV_GPU_REQUIRE || f->cfg.comp.fail_at_frame >= 0;
    if (!wait && !atomic_load(&f->open_done))
        return open_cpu(f);
    if (gpu_join(f) == 0) {
        take_gpu(f);
        return 0;
    }
    const int ret = no_gpu(f);
    return ret < 0 ? ret : open_cpu(f);
}

static int add_live(GvFailover *f)
{
    for (int k = 0; k < f->cfg.n_images; k++) {
        if (!f->live[k])
            continue;
        const int ret = f->ops->tile_add(f->comp, k, f->live[k]);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/*
 * With no frame in flight: moves from the CPU to the GPU once it has
 * opened, giving it the live tiles. A GPU that fails to take them is
 * closed, and the CPU, which has every tile already, goes on.
 */
static int adopt(GvFailover *f, int64_t frame)
{
    if (gpu_join(f) < 0)
        return no_gpu(f);
    void *cpu = f->comp;
    const GvCompositorOps *const cpu_ops = f->ops;
    take_gpu(f);
    gv_log(f->cfg.comp.log, GV_LOG_INFO, "GPU ready: compositing on it from frame %lld",
           (long long)frame);
    if (add_live(f) < 0) {
        gv_log(f->cfg.comp.log, GV_LOG_WARNING, "GPU compositing failed: continuing on the CPU");
        f->ops->close(&f->comp);
        f->gpu_failed = 1;
        f->ops = cpu_ops;
        f->comp = cpu;
        return 0;
    }
    cpu_ops->close(&cpu);
    return 0;
}

/* The backend's submissions of a frame: one, or one over each of the
 * two backgrounds of a transparent one. */
static int submit(GvFailover *f, const InFlight *e)
{
    if (!f->cfg.transparent)
        return f->ops->submit(f->comp, e->frame, e->pic);
    static const uint8_t under[2][3] = { GV_UNDER_BLACK, GV_UNDER_WHITE };
    int ret = 0;
    for (int i = 0; i < 2 && ret >= 0; i++) {
        f->ops->set_background(f->comp, under[i]);
        ret = f->ops->submit(f->comp, e->frame, i ? e->over : e->pic);
    }
    return ret;
}

/*
 * After a GPU error (ret): moves to the CPU, adds the live tiles and
 * renders the frames in flight again. An error of the CPU stands.
 */
static int fall_back(GvFailover *f, int ret)
{
    if (ret >= 0 || f->ops == &gv_compositor_cpu)
        return ret;
    /* The backend logged the Vulkan error at info level (--verbose): a
     * GPU failure is one warning, since the video is still complete. */
    gv_log(f->cfg.comp.log, GV_LOG_WARNING, "GPU compositing failed: continuing on the CPU");
    f->ops->close(&f->comp);
    f->gpu_failed = 1;
    if ((ret = open_cpu(f)) < 0 || (ret = add_live(f)) < 0)
        return ret;
    for (int i = 0; i < f->len; i++) {
        const InFlight *const e = &f->fl[(f->head + i) % GV_MAX_DEPTH];
        /* the CPU's submissions are done when they return */
        if ((ret = submit(f, e)) < 0 || (ret = f->ops->wait(f->comp)) < 0)
            return ret;
    }
    f->n_done = f->len;
    return 0;
}

int gv_failover_tile_add(GvFailover *f, int k, const GvTile *tile)
{
    f->live[k] = tile;
    return fall_back(f, f->ops->tile_add(f->comp, k, tile));
}

void gv_failover_tile_remove(GvFailover *f, int k)
{
    f->live[k] = NULL;
    f->ops->tile_remove(f->comp, k);
}

int gv_failover_tile_update(GvFailover *f, int k, const GvTile *tile)
{
    if (f->len > 0)
        return -EINVAL;
    f->ops->tile_remove(f->comp, k);
    return gv_failover_tile_add(f, k, tile);
}

int gv_failover_submit(GvFailover *f, int64_t frame, GvPicture *out, GvPicture *over,
                       void *opaque)
{
    int ret;
    if (f->pending && f->len == 0 && atomic_load(&f->open_done) && (ret = adopt(f, frame)) < 0)
        return ret;
    if (f->len == GV_MAX_DEPTH || !out || !over != !f->cfg.transparent)
        return -EINVAL;
    InFlight *const e = &f->fl[(f->head + f->len) % GV_MAX_DEPTH];
    *e = (InFlight){ frame, out, over, opaque };
    f->len++;
    return fall_back(f, submit(f, e));
}

int gv_failover_wait(GvFailover *f, int64_t *frame, void **opaque)
{
    if (f->len == 0)
        return -EINVAL;
    if (f->n_done > 0) {
        f->n_done--;
    } else {
        /* a frame's submissions, until one fails: falling back renders
         * every frame in flight again, all complete (n_done) */
        for (int i = 0; i < 1 + !!f->cfg.transparent && f->n_done == 0; i++) {
            const int ret = fall_back(f, f->ops->wait(f->comp));
            if (ret < 0)
                return ret;
        }
        if (f->n_done > 0)
            f->n_done--;
    }
    const InFlight *const e = &f->fl[f->head];
    *frame = e->frame;
    *opaque = e->opaque;
    f->head = (f->head + 1) % GV_MAX_DEPTH;
    f->len--;
    return 0;
}

int gv_failover_depth(const GvFailover *f)
{
    const int depth = f->ops && f->ops->depth > 0 ? f->ops->depth : 1;
    /* a transparent frame takes two submissions */
    return f->cfg.transparent && depth > 1 ? depth / 2 : depth;
}

int gv_failover_in_flight(const GvFailover *f)
{
    return f->len;
}

int gv_failover_end(GvFailover *f)
{
    if (f->pending && gpu_join(f) < 0)
        return no_gpu(f);
    return 0;
}

const char *gv_failover_device(GvFailover *f)
{
    if (!f->ops)
        return "";
    return f->ops->device_name ? f->ops->device_name(f->comp) : f->ops->name;
}

int gv_failover_gpu_failed(const GvFailover *f)
{
    return f->gpu_failed;
}

void gv_failover_close(GvFailover **pf)
{
    GvFailover *const f = *pf;
    if (!f)
        return;
    if (f->comp)
        f->ops->close(&f->comp);
    gpu_join(f);
    if (f->gpu_comp)
        gv_compositor_vulkan->close(&f->gpu_comp);
    free(f->live);
    free(f);
    *pf = NULL;
}
