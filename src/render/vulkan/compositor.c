/*
 * The Vulkan compute compositor.
 *
 * Tiles live in an atlas of fixed-size slots in device memory, each slot
 * holding one tile's Y, U and V planes; a table image -> slot goes with
 * every frame. tile_add() copies a tile into a free slot: on a discrete
 * GPU through the staging buffer of the ring slot that the next submit()
 * uses (the copies are recorded in front of that frame's dispatch, or run
 * at once when the staging buffer is full); where the atlas memory is
 * host-visible (integrated GPUs, software drivers) with a plain memcpy.
 *
 * Frames go round a ring of GV_VK_DEPTH slots, each with its own command
 * buffer, fence, per-frame parameter buffer, staging buffer and
 * host-visible output buffer. submit() records and submits one dispatch
 * (on a discrete GPU into a device-local target, then a copy-engine copy
 * to the host-visible buffer) and returns; wait() waits for the oldest
 * fence and copies the planes into the caller's picture, in bands on
 * helper threads for large frames. So the GPU renders the next frames
 * while the host copies out this one and the encoder takes the last.
 *
 * A zero-copy read-back would need the caller's pictures to be the mapped
 * ring memory (or imported with VK_EXT_external_memory_host, which needs
 * pictures that outlive the compositor at stable addresses): an interface
 * change, not made here. The copy costs about 0.4 ms per 4K frame on four
 * threads.
 *
 * Thread-safety: one thread at a time per compositor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "render/compositor.h"
#include "cputime.h"
#include "gpu/context.h"
#include "view.h"

#define GV_VK_DEPTH 3

/* slots padded so that every slot starts on a nonCoherentAtomSize (<= 256) */
#define SLOT_ALIGN 256

/* at most this many tiles wait in one staging buffer for the next frame */
#define STAGING_TILES 8

static const uint32_t composite_spv[] =
#include "composite.spv.h"
    ;

static const uint32_t view_spv[] =
#include "view.spv.h"
    ;

/* Mirrors the push constants of src/shaders/view.comp. */
typedef struct ViewConsts {
    uint32_t columns, width, height;
    int32_t first;
    uint32_t pitch, thick, step, cstep;
    uint32_t n_lanes, n_blur, chain_bytes, slot_bytes, bg;
    uint32_t stride_y, stride_c, off_u, off_v;
    uint32_t offs_base, slots_base, levels_base, runs_base, insts_base;
    uint32_t has_map, levels;
    int32_t kc;
    uint32_t rows;
} ViewConsts;

/* Mirrors the push constants of src/shaders/composite.comp. */
typedef struct Consts {
    uint32_t columns, width, height;
    int32_t first;
    uint32_t pitch, thick, step, cstep;
    uint32_t n_lanes, n_blur, tile_w, plane_bytes, slot_bytes, bg;
    uint32_t stride_y, stride_c, off_u, off_v;
    uint32_t offs_base, slots_base;
} Consts;

/* Ring slot i uses the pass's descriptor set, command buffer and fence i. */
typedef struct RingSlot {
    VkCommandBuffer cmd; /* the pass's */
    VkFence fence;       /* the pass's */
    GvVkBuf *out;    /* host-visible: the frame as the host reads it */
    GvVkBuf *target; /* device-local render target, copied to out; NULL: render into out */
    GvVkBuf *frame, *staging;
    VkBufferCopy *copies; /* pending uploads into the atlas */
    int n_copies;
    VkDeviceSize staging_used;
    int staging_in_use; /* a submitted command buffer reads the staging buffer */
    int busy;           /* submitted and not yet waited for */
    GvPicture *pic;
} RingSlot;

typedef struct Copier {
    pthread_t thread;
    struct Vc *vc;
    int band;
} Copier;

typedef struct Vc {
    GvVk *vk;
    const GvLayout *l;
    const GvLog *log;
    int fail_at;
    Consts pc;

    GvVkPass *pass;

    /* the view path (src/view.h): its shader's constants, the camera map
     * and the frame's tile copies */
    const GvView *view;
    ViewConsts vpc;
    GvVkBuf *map;
    GvViewRun *runs;
    GvViewInst *insts;
    GvViewLook *looks; /* per image, from its tile */
    int64_t max_insts;

    GvVkBuf *atlas;
    int direct; /* the atlas is host-visible: tiles are copied in by the CPU */
    VkDeviceSize slot_bytes;
    int n_slots;
    int *free_slots, n_free;
    int32_t *slot_of; /* per image */
    GvOffset *offsets;

    RingSlot ring[GV_VK_DEPTH];
    int head, count;
    VkDeviceSize out_bytes, frame_bytes, staging_bytes;
    VkCommandBuffer upload_cmd; /* the pass's, after the ring's; NULL when direct */
    VkFence upload_fence;

    Copier copiers[3];
    int n_copiers;
    pthread_mutex_t copy_lock;
    pthread_cond_t copy_go, copy_done;
    uint64_t copy_gen;
    int copy_pending, copy_quit;
    const RingSlot *copy_slot;
} Vc;

/* ---- copying frames out ---- */

static void copy_plane(uint8_t *dst, int dst_stride, const uint8_t *src, size_t src_stride,
                       int w, int from, int to)
{
    for (int y = from; y < to; y++)
        memcpy(dst + (size_t)y * dst_stride, src + y * src_stride, (size_t)w);
}

/* Copies band i of n of the frame in ring slot s's output into its picture. */
static void copy_band(const Vc *c, const RingSlot *s, int i, int n)
{
    const GvPicture *const pic = s->pic;
    const uint8_t *const src = s->out->map;
    const int w = pic->width, h = pic->height;
    const int cf = (int)((int64_t)h / 2 * i / n), ct = (int)((int64_t)h / 2 * (i + 1) / n);
    copy_plane(pic->data[0], pic->linesize[0], src, c->pc.stride_y, w, 2 * cf, 2 * ct);
    copy_plane(pic->data[1], pic->linesize[1], src + c->pc.off_u, c->pc.stride_c, w / 2, cf, ct);
    copy_plane(pic->data[2], pic->linesize[2], src + c->pc.off_v, c->pc.stride_c, w / 2, cf, ct);
}

/*
 * Helper threads for the copy out of mapped memory: one thread copies a
 * 4K frame in about 2 ms on a server, four times what the GPU takes to
 * render it with motion blur 8. Fork-join on a generation counter, as in
 * cpu.c.
 */
static void *copier_main(void *arg)
{
    gv_thread_name("gv-copy");
    Copier *const h = arg;
    Vc *const c = h->vc;
    uint64_t seen = 0;
    pthread_mutex_lock(&c->copy_lock);
    for (;;) {
        while (!c->copy_quit && c->copy_gen == seen)
            pthread_cond_wait(&c->copy_go, &c->copy_lock);
        if (c->copy_quit)
            break;
        seen = c->copy_gen;
        pthread_mutex_unlock(&c->copy_lock);
        copy_band(c, c->copy_slot, h->band, c->n_copiers + 1);
        pthread_mutex_lock(&c->copy_lock);
        if (--c->copy_pending == 0)
            pthread_cond_signal(&c->copy_done);
    }
    pthread_mutex_unlock(&c->copy_lock);
    return NULL;
}

static void copy_out(Vc *c, const RingSlot *s)
{
    if (c->n_copiers == 0) {
        copy_band(c, s, 0, 1);
        return;
    }
    pthread_mutex_lock(&c->copy_lock);
    c->copy_slot = s;
    c->copy_pending = c->n_copiers;
    c->copy_gen++;
    pthread_cond_broadcast(&c->copy_go);
    pthread_mutex_unlock(&c->copy_lock);
    copy_band(c, s, 0, c->n_copiers + 1);
    pthread_mutex_lock(&c->copy_lock);
    while (c->copy_pending > 0)
        pthread_cond_wait(&c->copy_done, &c->copy_lock);
    pthread_mutex_unlock(&c->copy_lock);
}

static void stop_copiers(Vc *c)
{
    pthread_mutex_lock(&c->copy_lock);
    c->copy_quit = 1;
    pthread_cond_broadcast(&c->copy_go);
    pthread_mutex_unlock(&c->copy_lock);
    for (int i = 0; i < c->n_copiers; i++)
        pthread_join(c->copiers[i].thread, NULL);
    c->n_copiers = 0;
}

/* Up to 3 helpers (4 bands) where frames are large enough to gain. */
static void start_copiers(Vc *c, int threads)
{
    int n = threads < 4 ? threads - 1 : 3;
    if (c->out_bytes < (1u << 20))
        n = 0;
    for (int i = 0; i < n; i++) {
        c->copiers[i] = (Copier){ .vc = c, .band = i + 1 };
        if (pthread_create(&c->copiers[i].thread, NULL, copier_main, &c->copiers[i]) != 0)
            break;
        c->n_copiers++;
    }
    /* fewer threads than asked: the bands adapt, n_copiers + 1 of them */
}

/* ---- the backend ---- */

static void vc_close(void **priv)
{
    Vc *const c = *priv;
    if (!c)
        return;
    GvVk *const vk = c->vk;
    stop_copiers(c);
    pthread_mutex_destroy(&c->copy_lock);
    pthread_cond_destroy(&c->copy_go);
    pthread_cond_destroy(&c->copy_done);
    if (vk) {
        vk->DeviceWaitIdle(vk->dev);
        for (int i = 0; i < GV_VK_DEPTH; i++) {
            RingSlot *const s = &c->ring[i];
            gv_vk_buf_destroy(vk, &s->out);
            gv_vk_buf_destroy(vk, &s->target);
            gv_vk_buf_destroy(vk, &s->frame);
            gv_vk_buf_destroy(vk, &s->staging);
            free(s->copies);
        }
        gv_vk_pass_destroy(vk, &c->pass);
        gv_vk_buf_destroy(vk, &c->atlas);
        gv_vk_buf_destroy(vk, &c->map);
        gv_vk_destroy(&c->vk);
    }
    free(c->free_slots);
    free(c->slot_of);
    free(c->offsets);
    free(c->runs);
    free(c->insts);
    free(c->looks);
    free(c);
    *priv = NULL;
}

/*
 * Tiles resident at once when tiles are added at the first frame that
 * shows them and removed once the last such frame has been waited for,
 * with up to GV_VK_DEPTH frames in flight.
 */
static int tiles_needed(const GvLayout *l, int *needed)
{
    const int n = l->p.n_images;
    int ret = 0;
    int64_t *const first = malloc(sizeof(*first) * ((size_t)n + 1));
    int64_t *const last = malloc(sizeof(*last) * ((size_t)n + 1));
    int *const delta = calloc((size_t)l->frames + GV_VK_DEPTH + 2, sizeof(*delta));
    if (!first || !last || !delta) {
        ret = -ENOMEM;
        goto end;
    }
    gv_layout_lifetimes(l, first, last);
    for (int k = 0; k < n; k++) {
        if (first[k] < 0)
            continue;
        delta[first[k]]++;
        delta[last[k] + GV_VK_DEPTH + 1]--;
    }
    int live = 0, most = 0;
    for (int64_t i = 0; i < l->frames + GV_VK_DEPTH + 2; i++) {
        live += delta[i];
        if (live > most)
            most = live;
    }
    *needed = most;
end:
    free(first);
    free(last);
    free(delta);
    return ret;
}


static const VkMemoryPropertyFlags direct_atlas_prefs[] = {
    VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
    VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
    0,
};

/* The ring slots' buffers: output, render target, frame parameters, staging. */
static int create_ring(Vc *c, int unified)
{
    GvVk *const vk = c->vk;
    const GvLayout *const l = c->l;
    int ret = 0;
    for (int i = 0; i < GV_VK_DEPTH; i++) {
        RingSlot *const s = &c->ring[i];
        if ((ret = gv_vk_buf_create(vk, &s->out, c->out_bytes,
                                    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                        VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                    gv_vk_readback_prefs)) < 0 ||
            (!unified &&
             (ret = gv_vk_buf_create(vk, &s->target, c->out_bytes,
                                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                         VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                                     gv_vk_device_prefs)) < 0) ||
            (ret = gv_vk_buf_create(vk, &s->frame, c->frame_bytes,
                                    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, gv_vk_host_prefs)) < 0)
            return ret;
        if (!c->direct) {
            if ((ret = gv_vk_buf_create(vk, &s->staging, c->staging_bytes,
                                        VK_BUFFER_USAGE_TRANSFER_SRC_BIT, gv_vk_host_prefs)) < 0)
                return ret;
            s->copies = calloc(STAGING_TILES, sizeof(*s->copies));
            if (!s->copies)
                return -ENOMEM;
        }
        /* the lanes (and the mip levels) do not change from frame to frame */
        uint32_t *const words = (uint32_t *)s->frame->map;
        for (int r = 0; r < l->n_lanes; r++) {
            const GvLane *const lane = &l->lanes[r];
            words[4 * r + 0] = (uint32_t)lane->pos;
            words[4 * r + 1] = (uint32_t)lane->period;
            words[4 * r + 2] = (uint32_t)lane->n;
            words[4 * r + 3] = (uint32_t)lane->src;
        }
        for (int lv = 0; c->view && lv < c->view->levels; lv++) {
            words[c->vpc.levels_base + 3 * lv] = (uint32_t)c->view->lw[lv];
            words[c->vpc.levels_base + 3 * lv + 1] = (uint32_t)c->view->lh[lv];
            words[c->vpc.levels_base + 3 * lv + 2] = (uint32_t)c->view->loff[lv];
        }
    }
    return 0;
}

static int create_buffers(Vc *c, int64_t budget, int force_staging)
{
    if (budget <= 0)
        budget = INT64_MAX / 2;
    GvVk *const vk = c->vk;
    const GvLayout *const l = c->l;
    const int w = l->p.width, h = l->p.height;
    int ret = 0;

    const uint32_t stride_y = ((uint32_t)w + 3) & ~3u, stride_c = ((uint32_t)w / 2 + 3) & ~3u;
    c->pc.stride_y = stride_y;
    c->pc.stride_c = stride_c;
    c->pc.off_u = stride_y * (uint32_t)h;
    c->pc.off_v = c->pc.off_u + stride_c * (uint32_t)(h / 2);
    c->out_bytes = (VkDeviceSize)c->pc.off_v + stride_c * (VkDeviceSize)(h / 2);
    c->pc.offs_base = 4u * (uint32_t)l->n_lanes;
    c->pc.slots_base = c->pc.offs_base + 2u * (uint32_t)(l->n_lanes * l->p.motion_blur);
    c->frame_bytes = 4 * ((VkDeviceSize)c->pc.slots_base + (VkDeviceSize)l->p.n_images + 1);
    if (c->view) {
        c->vpc.stride_y = stride_y;
        c->vpc.stride_c = stride_c;
        c->vpc.off_u = c->pc.off_u;
        c->vpc.off_v = c->pc.off_v;
        c->vpc.offs_base = c->pc.offs_base;
        c->vpc.slots_base = c->pc.slots_base;
        c->vpc.levels_base = c->pc.slots_base + (uint32_t)l->p.n_images + 1;
        c->vpc.runs_base = c->vpc.levels_base + 3 * GV_VIEW_LEVELS;
        c->vpc.insts_base = c->vpc.runs_base + 3u * (uint32_t)(l->n_lanes * l->p.motion_blur);
        c->frame_bytes = 4 * ((VkDeviceSize)c->vpc.insts_base + 5 * (VkDeviceSize)c->max_insts + 1);
    }

    /* Host-visible memory on an integrated GPU or a software driver is the
     * device's own: tiles are written there directly and the shader writes
     * the frame where the host reads it. A discrete GPU stages tiles, and
     * renders into its own memory and copies the frame to the host with
     * the copy engine (stores from shaders across PCIe are several times
     * slower). force_staging takes the discrete paths on any device, for
     * tests. */
    const int unified =
        !force_staging && vk->props.deviceType != VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    c->staging_bytes = unified ? 0 : c->slot_bytes * STAGING_TILES;
    const VkDeviceSize target_bytes = unified ? 0 : c->out_bytes;

    const VkDeviceSize map_bytes =
        c->view && c->view->map ? 12 * (VkDeviceSize)w * (VkDeviceSize)h : 16;
    const VkDeviceSize fixed =
        GV_VK_DEPTH * (c->out_bytes + target_bytes + c->frame_bytes + c->staging_bytes) +
        (c->view ? map_bytes : 0);
    const VkDeviceSize limit = vk->props.limits.maxStorageBufferRange;
    if ((int64_t)fixed > budget || c->out_bytes > limit || c->frame_bytes > limit ||
        map_bytes > limit) {
        gv_log(c->log, GV_LOG_INFO,
               "Vulkan: frame buffers of %llu bytes do not fit (GPU memory limit %lld bytes, "
               "storage buffers up to %llu bytes)",
               (unsigned long long)fixed, (long long)budget, (unsigned long long)limit);
        return GV_ERR_GPU;
    }

    int needed;
    if ((ret = tiles_needed(l, &needed)) < 0)
        return ret;
    /* room for callers that add tiles ahead of need or jump between frames */
    int64_t want = 2 * (int64_t)needed + 16;
    if (want > l->p.n_images)
        want = l->p.n_images;
    if (want < 1)
        want = 1;
    int64_t fit = ((int64_t)budget - (int64_t)fixed) / (int64_t)c->slot_bytes;
    /* the shader addresses the atlas in 32-bit bytes */
    const VkDeviceSize atlas_limit = limit < UINT32_MAX ? limit : UINT32_MAX;
    if (fit > (int64_t)(atlas_limit / c->slot_bytes))
        fit = (int64_t)(atlas_limit / c->slot_bytes);
    if (fit < want && fit < needed) {
        gv_log(c->log, GV_LOG_INFO,
               "Vulkan: %d tiles of %llu bytes must be resident at once, only %lld fit "
               "(GPU memory limit %lld bytes)",
               needed, (unsigned long long)c->slot_bytes, (long long)fit, (long long)budget);
        return GV_ERR_GPU;
    }
    c->n_slots = (int)(want < fit ? want : fit);
    const VkDeviceSize atlas_bytes = (VkDeviceSize)c->n_slots * c->slot_bytes;

    const VkBufferUsageFlags atlas_usage =
        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    if ((ret = gv_vk_buf_create(vk, &c->atlas, atlas_bytes, atlas_usage,
                                unified ? direct_atlas_prefs : gv_vk_device_prefs)) < 0)
        return ret;
    c->direct = unified && c->atlas->map;
    if (c->view &&
        (ret = gv_vk_buf_create(vk, &c->map, map_bytes,
                                VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                unified ? direct_atlas_prefs : gv_vk_device_prefs)) < 0)
        return ret;
    if (unified && !c->direct) {
        c->staging_bytes = c->slot_bytes * STAGING_TILES;
        if ((int64_t)(fixed + GV_VK_DEPTH * c->staging_bytes + atlas_bytes) > budget) {
            gv_log(c->log, GV_LOG_INFO, "Vulkan: no room for staging buffers");
            return GV_ERR_GPU;
        }
    }

    return create_ring(c, unified);
}

/* The pass: a descriptor set, command buffer and fence per ring slot, and
 * one more command buffer and fence for uploads that cannot wait for the
 * next frame. */
static int create_pass(Vc *c)
{
    GvVk *const vk = c->vk;
    const GvVkPassInfo info = {
        .spv = c->view ? view_spv : composite_spv,
        .spv_bytes = c->view ? sizeof(view_spv) : sizeof(composite_spv),
        .n_buffers = c->view ? 4 : 3,
        .push_bytes = c->view ? sizeof(ViewConsts) : sizeof(Consts),
        .n_sets = GV_VK_DEPTH,
        .n_cmds = GV_VK_DEPTH + !c->direct,
    };
    const int ret = gv_vk_pass_create(vk, &c->pass, &info);
    if (ret < 0)
        return ret;
    for (int i = 0; i < GV_VK_DEPTH; i++) {
        RingSlot *const s = &c->ring[i];
        s->cmd = c->pass->cmds[i];
        s->fence = c->pass->fences[i];
        const GvVkBuf *const bufs[4] = { c->atlas, s->frame, s->target ? s->target : s->out,
                                         c->map };
        gv_vk_pass_write(vk, c->pass, (uint32_t)i, bufs);
    }
    if (!c->direct) {
        c->upload_cmd = c->pass->cmds[GV_VK_DEPTH];
        c->upload_fence = c->pass->fences[GV_VK_DEPTH];
    }
    return 0;
}

/* The camera map goes to the GPU once, before the first frame. */
static int upload_map(Vc *c)
{
    GvVk *const vk = c->vk;
    const GvView *const v = c->view;
    if (!v->map)
        return 0;
    const VkDeviceSize bytes = 12 * (VkDeviceSize)v->p.width * (VkDeviceSize)v->p.height;
    if (c->map->map) {
        memcpy(c->map->map, v->map, bytes);
        return gv_vk_buf_flush(vk, c->map);
    }
    GvVkBuf *staging = NULL;
    RingSlot *const s = &c->ring[0];
    int ret = gv_vk_buf_create(vk, &staging, bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                               gv_vk_host_prefs);
    if (ret == 0) {
        memcpy(staging->map, v->map, bytes);
        const VkBufferCopy region = { .size = bytes };
        if ((ret = gv_vk_buf_flush(vk, staging)) == 0 &&
            (ret = gv_vk_cmd_begin(vk, s->cmd)) == 0) {
            vk->CmdCopyBuffer(s->cmd, staging->buf, c->map->buf, 1, &region);
            gv_vk_cmd_barrier(vk, s->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                              VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                              VK_ACCESS_SHADER_READ_BIT);
            if ((ret = gv_vk_cmd_submit(vk, s->cmd, s->fence)) == 0)
                ret = gv_vk_fence_wait(vk, s->fence, UINT64_MAX);
        }
    }
    gv_vk_buf_destroy(vk, &staging);
    return ret;
}

/*
 * The view path's constants; -EINVAL where its 32-bit positions could
 * overflow (the CPU renders those).
 */
static int view_setup(Vc *c, const GvCompositorConfig *cfg)
{
    const GvLayout *const l = cfg->layout;
    const GvView *const v = l->view;
    const int64_t cstep = (int64_t)l->step + l->p.gap;
    int64_t lo = 0, hi = 0, period = 0;
    for (int r = 0; r < l->n_lanes; r++) {
        const GvLane *const lane = &l->lanes[r];
        if (lane->n == 0 || lane->vis_lo > lane->vis_hi)
            continue;
        lo = lane->vis_lo < lo ? lane->vis_lo : lo;
        hi = lane->vis_hi > hi ? lane->vis_hi : hi;
        period = lane->period > period ? lane->period : period;
    }
    const int64_t kc = (-lo + cstep - 1) / cstep + 1;
    /* cross coordinates the lanes span, and map coordinates, in 1/256 */
    const int64_t cross = (l->first < 0 ? -(int64_t)l->first : l->first) +
                          (int64_t)(l->thick + l->p.gap) * l->n_lanes;
    if ((hi + kc * cstep + period) * 256 >= (int64_t)UINT32_MAX - 65536 ||
        (hi + kc * cstep) * 256 >= INT32_MAX || period * 256 >= INT32_MAX ||
        (cross + 65536) * 256 >= INT32_MAX || v->chain_bytes * 3 > INT32_MAX / 4) {
        gv_log(cfg->log, GV_LOG_INFO, "Vulkan: this view is outside what the shader handles");
        return -EINVAL;
    }
    c->view = v;
    c->max_insts = gv_view_max_insts(v, l);
    c->runs = calloc((size_t)l->n_lanes * (size_t)l->p.motion_blur, sizeof(*c->runs));
    c->insts = malloc(sizeof(*c->insts) * ((size_t)c->max_insts + 1));
    c->looks = calloc((size_t)l->p.n_images + 1, sizeof(*c->looks));
    if (!c->runs || !c->insts || !c->looks)
        return -ENOMEM;
    c->slot_bytes =
        ((VkDeviceSize)v->chain_bytes * 3 + SLOT_ALIGN - 1) & ~(VkDeviceSize)(SLOT_ALIGN - 1);
    c->vpc = (ViewConsts){
        .columns = c->pc.columns,
        .width = c->pc.width,
        .height = c->pc.height,
        .first = c->pc.first,
        .pitch = c->pc.pitch,
        .thick = c->pc.thick,
        .step = c->pc.step,
        .cstep = c->pc.cstep,
        .n_lanes = c->pc.n_lanes,
        .n_blur = c->pc.n_blur,
        .chain_bytes = (uint32_t)v->chain_bytes,
        .slot_bytes = (uint32_t)c->slot_bytes,
        .bg = c->pc.bg,
        .has_map = v->map != NULL,
        .levels = (uint32_t)v->levels,
        .kc = (int32_t)kc,
        .rows = (uint32_t)l->rows,
    };
    return 0;
}

static int vc_open(void **priv, const GvCompositorConfig *cfg)
{
    const GvLayout *const l = cfg->layout;
    const GvLayoutParams *const p = &l->p;
    int ret = 0;

    /* What the shader's 32-bit arithmetic and the picture format allow. */
    int64_t max_period = 0;
    for (int r = 0; r < l->n_lanes; r++)
        if (l->lanes[r].period > max_period)
            max_period = l->lanes[r].period;
    if ((p->width & 1) || (p->height & 1) || p->width > 65536 || p->height > 65536 ||
        max_period >= INT32_MAX - 65536 || p->motion_blur > 4096 || l->n_lanes > 65536 ||
        (int64_t)p->tile_w * p->tile_h > INT32_MAX / 4 ||
        (int64_t)l->n_lanes * p->motion_blur > 1 << 24 || p->n_images > 1 << 26) {
        gv_log(cfg->log, GV_LOG_INFO, "Vulkan: this layout is outside what the shader handles");
        return -EINVAL;
    }

    Vc *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    pthread_mutex_init(&c->copy_lock, NULL);
    pthread_cond_init(&c->copy_go, NULL);
    pthread_cond_init(&c->copy_done, NULL);
    c->l = l;
    c->log = cfg->log;
    c->fail_at = cfg->fail_at_frame;
    c->slot_of = malloc(sizeof(*c->slot_of) * ((size_t)p->n_images + 1));
    c->offsets = malloc(sizeof(*c->offsets) * (size_t)l->n_lanes * (size_t)p->motion_blur);
    if (!c->slot_of || !c->offsets) {
        ret = -ENOMEM;
        goto error;
    }
    for (int k = 0; k < p->n_images; k++)
        c->slot_of[k] = -1;

    const uint32_t plane = (uint32_t)p->tile_w * (uint32_t)p->tile_h;
    c->slot_bytes = ((VkDeviceSize)plane * 3 + SLOT_ALIGN - 1) & ~(VkDeviceSize)(SLOT_ALIGN - 1);
    c->pc = (Consts){
        .columns = p->kind == GV_LAYOUT_COLUMNS,
        .width = (uint32_t)p->width,
        .height = (uint32_t)p->height,
        .first = l->first,
        .pitch = (uint32_t)(l->thick + p->gap),
        .thick = (uint32_t)l->thick,
        .step = (uint32_t)l->step,
        .cstep = (uint32_t)(l->step + p->gap),
        .n_lanes = (uint32_t)l->n_lanes,
        .n_blur = (uint32_t)p->motion_blur,
        .tile_w = (uint32_t)p->tile_w,
        .plane_bytes = plane,
        .slot_bytes = (uint32_t)c->slot_bytes,
        .bg = cfg->bg_yuv[0] | (uint32_t)cfg->bg_yuv[1] << 8 | (uint32_t)cfg->bg_yuv[2] << 16,
    };

    if (l->view && l->view->active && (ret = view_setup(c, cfg)) < 0)
        goto error;
    if ((ret = gv_vk_create(&c->vk, cfg->log, cfg->gpu_device)) < 0)
        goto error;
    if ((ret = create_buffers(c, cfg->gpu_memory_bytes, cfg->force_staging)) < 0 ||
        (ret = create_pass(c)) < 0 || (c->view && (ret = upload_map(c)) < 0))
        goto error;

    c->free_slots = malloc(sizeof(*c->free_slots) * (size_t)c->n_slots);
    if (!c->free_slots) {
        ret = -ENOMEM;
        goto error;
    }
    /* hand out low slots first */
    for (int i = 0; i < c->n_slots; i++)
        c->free_slots[i] = c->n_slots - 1 - i;
    c->n_free = c->n_slots;
    start_copiers(c, cfg->threads);
    gv_log(cfg->log, GV_LOG_DEBUG, "Vulkan: atlas of %d tiles (%llu MiB), tiles %s", c->n_slots,
           (unsigned long long)((VkDeviceSize)c->n_slots * c->slot_bytes >> 20),
           c->direct ? "written directly" : "staged");
    *priv = c;
    return 0;
error:
    {
        void *pc = c;
        vc_close(&pc);
    }
    return ret;
}

/* ---- tiles ---- */

/* Runs the pending copies of ring slot s now and waits for them. */
static int flush_uploads(Vc *c, RingSlot *s)
{
    GvVk *const vk = c->vk;
    int ret;
    if ((ret = gv_vk_cmd_begin(vk, c->upload_cmd)) < 0)
        return ret;
    vk->CmdCopyBuffer(c->upload_cmd, s->staging->buf, c->atlas->buf, (uint32_t)s->n_copies,
                      s->copies);
    /* the barrier's second scope reaches the dispatches of later submissions */
    gv_vk_cmd_barrier(vk, c->upload_cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                      VK_ACCESS_SHADER_READ_BIT);
    if ((ret = gv_vk_buf_flush(vk, s->staging)) < 0 ||
        (ret = gv_vk_cmd_submit(vk, c->upload_cmd, c->upload_fence)) < 0 ||
        (ret = gv_vk_fence_wait(vk, c->upload_fence, UINT64_MAX)) < 0)
        return ret;
    s->n_copies = 0;
    s->staging_used = 0;
    return 0;
}

/* The ring slot whose staging buffer takes uploads for the next frame,
 * ready to be written. */
static int next_staging(Vc *c, RingSlot **out)
{
    GvVk *const vk = c->vk;
    int ret = 0;
    RingSlot *const s = &c->ring[(c->head + c->count) % GV_VK_DEPTH];
    if (s->staging_in_use) {
        /* only when the caller adds tiles with every ring slot in flight */
        if (s->busy)
            VK(vk->WaitForFences(vk->dev, 1, &s->fence, VK_TRUE, UINT64_MAX));
        s->staging_in_use = 0;
        s->staging_used = 0;
    }
    *out = s;
error:
    return ret;
}

/* Drops pending copies into atlas slot `slot` (it is being reused or freed). */
static void drop_pending(Vc *c, int slot)
{
    if (c->direct)
        return;
    RingSlot *const s = &c->ring[(c->head + c->count) % GV_VK_DEPTH];
    if (s->staging_in_use)
        return;
    const VkDeviceSize dst = (VkDeviceSize)slot * c->slot_bytes;
    for (int i = 0; i < s->n_copies; i++)
        if (s->copies[i].dstOffset == dst)
            s->copies[i--] = s->copies[--s->n_copies];
}

static void copy_tile(const Vc *c, uint8_t *dst, const GvTile *t)
{
    if (c->view) {
        gv_view_chain(c->view, t, dst);
        return;
    }
    const size_t plane = (size_t)t->w * (size_t)t->h;
    memcpy(dst, t->y, plane);
    memcpy(dst + plane, t->u, plane);
    memcpy(dst + 2 * plane, t->v, plane);
}

static int vc_tile_add(void *priv, int k, const GvTile *tile)
{
    Vc *const c = priv;
    GvVk *const vk = c->vk;
    int ret = 0;
    const int tw = c->view ? c->view->src_w : c->l->p.tile_w;
    const int th = c->view ? c->view->src_h : c->l->p.tile_h;
    if (k < 0 || k >= c->l->p.n_images || tile->w != tw || tile->h != th)
        return -EINVAL;
    int slot = c->slot_of[k];
    if (slot < 0) {
        if (c->n_free == 0) {
            gv_log(c->log, GV_LOG_INFO, "Vulkan: all %d tile slots are in use", c->n_slots);
            return -ENOMEM;
        }
        slot = c->free_slots[--c->n_free];
    }
    drop_pending(c, slot);
    const VkDeviceSize dst = (VkDeviceSize)slot * c->slot_bytes;

    if (c->direct) {
        copy_tile(c, c->atlas->map + dst, tile);
        if ((ret = gv_vk_buf_flush(vk, c->atlas)) < 0)
            goto error;
    } else {
        RingSlot *s;
        if ((ret = next_staging(c, &s)) < 0)
            goto error;
        if (s->staging_used + c->slot_bytes > c->staging_bytes && (ret = flush_uploads(c, s)) < 0)
            goto error;
        copy_tile(c, s->staging->map + s->staging_used, tile);
        s->copies[s->n_copies++] = (VkBufferCopy){
            .srcOffset = s->staging_used,
            .dstOffset = dst,
            .size = c->view ? (VkDeviceSize)c->view->chain_bytes * 3
                            : (VkDeviceSize)c->pc.plane_bytes * 3,
        };
        s->staging_used += c->slot_bytes;
    }
    c->slot_of[k] = slot;
    if (c->looks)
        c->looks[k] = (GvViewLook){ tile->focus_x, tile->focus_y, tile->aspect };
    return 0;
error:
    if (c->slot_of[k] < 0)
        c->free_slots[c->n_free++] = slot;
    return ret;
}

static void vc_tile_remove(void *priv, int k)
{
    Vc *const c = priv;
    if (k < 0 || k >= c->l->p.n_images || c->slot_of[k] < 0)
        return;
    drop_pending(c, c->slot_of[k]);
    c->free_slots[c->n_free++] = c->slot_of[k];
    c->slot_of[k] = -1;
}

/* ---- frames ---- */

static int record(Vc *c, RingSlot *s)
{
    GvVk *const vk = c->vk;
    const int ret = gv_vk_cmd_begin(vk, s->cmd);
    if (ret < 0)
        return ret;
    if (s->n_copies > 0) {
        vk->CmdCopyBuffer(s->cmd, s->staging->buf, c->atlas->buf, (uint32_t)s->n_copies,
                          s->copies);
        gv_vk_cmd_barrier(vk, s->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_READ_BIT);
    }
    gv_vk_pass_bind(vk, c->pass, s->cmd, (uint32_t)(s - c->ring));
    /* one invocation: 8 luma columns of 2 lines; local size 16 x 4 */
    const uint32_t gx = ((c->pc.width + 7) / 8 + 15) / 16;
    const uint32_t gy = (c->pc.height / 2 + 3) / 4;
    gv_vk_pass_dispatch(vk, c->pass, s->cmd, c->view ? (const void *)&c->vpc : (const void *)&c->pc,
                        gx, gy);
    if (s->target) {
        gv_vk_cmd_barrier(vk, s->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_READ_BIT);
        const VkBufferCopy region = { .size = c->out_bytes };
        vk->CmdCopyBuffer(s->cmd, s->target->buf, s->out->buf, 1, &region);
        gv_vk_cmd_barrier(vk, s->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
    } else {
        gv_vk_cmd_barrier(vk, s->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
    }
    return 0;
}

static int vc_submit(void *priv, int64_t frame, GvPicture *out)
{
    Vc *const c = priv;
    GvVk *const vk = c->vk;
    const GvLayout *const l = c->l;
    int ret = 0;
    if (frame == c->fail_at) {
        gv_log(c->log, GV_LOG_INFO, "Vulkan: failing frame %lld (test switch)", (long long)frame);
        return GV_ERR_GPU;
    }
    if (c->count == GV_VK_DEPTH || out->width != l->p.width || out->height != l->p.height)
        return -EINVAL;
    RingSlot *s;
    if (c->direct) {
        s = &c->ring[(c->head + c->count) % GV_VK_DEPTH];
    } else if ((ret = next_staging(c, &s)) < 0) {
        return ret;
    }

    gv_frame_offsets(l, frame, c->offsets);
    uint32_t *const words = (uint32_t *)s->frame->map;
    const int n_offs = l->n_lanes * l->p.motion_blur;
    for (int i = 0; i < n_offs; i++) {
        words[c->pc.offs_base + 2 * i] = (uint32_t)c->offsets[i].pos;
        words[c->pc.offs_base + 2 * i + 1] = (uint32_t)c->offsets[i].frac;
    }
    memcpy(words + c->pc.slots_base, c->slot_of, sizeof(*c->slot_of) * (size_t)l->p.n_images);
    if (c->view) {
        const int n = gv_view_frame(c->view, l, c->offsets, c->looks, c->runs, c->insts);
        memcpy(words + c->vpc.runs_base, c->runs,
               sizeof(*c->runs) * (size_t)l->n_lanes * (size_t)l->p.motion_blur);
        memcpy(words + c->vpc.insts_base, c->insts, sizeof(*c->insts) * (size_t)n);
    }
    if ((ret = gv_vk_buf_flush(vk, s->frame)) < 0 ||
        (s->n_copies > 0 && (ret = gv_vk_buf_flush(vk, s->staging)) < 0) ||
        (ret = record(c, s)) < 0 || (ret = gv_vk_cmd_submit(vk, s->cmd, s->fence)) < 0)
        return ret;
    if (s->n_copies > 0)
        s->staging_in_use = 1;
    s->n_copies = 0;
    s->busy = 1;
    s->pic = out;
    c->count++;
    return 0;
}

/* A generous bound: a software driver renders a 4K frame with heavy
 * motion blur in seconds. */
#define WAIT_TIMEOUT_NS (120ull * 1000 * 1000 * 1000)

static int vc_wait(void *priv)
{
    Vc *const c = priv;
    GvVk *const vk = c->vk;
    int ret = 0;
    if (c->count == 0)
        return 0;
    RingSlot *const s = &c->ring[c->head];
    if ((ret = gv_vk_fence_wait(vk, s->fence, WAIT_TIMEOUT_NS)) < 0 ||
        (ret = gv_vk_buf_invalidate(vk, s->out)) < 0)
        return ret;
    copy_out(c, s);
    s->busy = 0;
    s->pic = NULL;
    c->head = (c->head + 1) % GV_VK_DEPTH;
    c->count--;
    return 0;
}

/* Push constants are recorded with each frame: a change applies from the
 * next submit on. */
static void vc_set_background(void *priv, const uint8_t bg_yuv[3])
{
    Vc *const c = priv;
    c->pc.bg = bg_yuv[0] | (uint32_t)bg_yuv[1] << 8 | (uint32_t)bg_yuv[2] << 16;
    c->vpc.bg = c->pc.bg;
}

static const char *vc_device_name(void *priv)
{
    const Vc *const c = priv;
    return c->vk->props.deviceName;
}

static const GvCompositorOps vulkan_ops = {
    .name = "vulkan",
    .open = vc_open,
    .tile_add = vc_tile_add,
    .tile_remove = vc_tile_remove,
    .submit = vc_submit,
    .wait = vc_wait,
    .close = vc_close,
    .device_name = vc_device_name,
    .set_background = vc_set_background,
    .depth = GV_VK_DEPTH,
};

const GvCompositorOps *const gv_compositor_vulkan = &vulkan_ops;
