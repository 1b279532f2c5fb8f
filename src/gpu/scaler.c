/*
 * The GPU tile scaler (see gpu/scaler.h). A few slots, each with its
 * own buffers, command buffer and fence, so that several tile workers
 * scale at once; a slot's buffers grow to the largest image it has seen,
 * within the memory limit. Per image: the source and the filter weights
 * are written to the slot's host-visible staging buffer, copied to its
 * device-local work buffer, filtered horizontally and vertically by
 * src/shaders/scale.comp, and read back as one word a pixel.
 *
 * The scaler has a Vulkan device of its own: it lives as long as the tile
 * workers, not as long as the compositor, which may fall back to the CPU
 * (or never open) while tiles are still being made.
 */
#include "gpu/scaler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gridvid/gridvid.h"
#include "gpu/context.h"
#include "resample.h"

#define N_SLOTS 2

static const uint32_t scale_spv[] =
#include "scale.spv.h"
    ;

/* Mirrors the push constants of src/shaders/scale.comp. */
typedef struct ScaleConsts {
    uint32_t pass, sw, sh, bands, dw, dh, nx, ny;
    uint32_t wx, fx, wy, fy, tmp, bg;
} ScaleConsts;

/* Slot i uses the pass's descriptor set, command buffer and fence i. */
typedef struct Slot {
    int busy;
    GvVkBuf *staging, *work, *out;
    VkDeviceSize staging_cap, work_cap, out_cap;
    VkCommandBuffer cmd; /* the pass's */
    VkFence fence;       /* the pass's */
    uint32_t set;
} Slot;

struct GvScaler {
    GvVk *vk;
    const GvLog *log;
    int64_t budget; /* bytes a slot may hold, host and device each */
    pthread_mutex_t lock; /* slots' busy flags; the queue */
    pthread_cond_t cond;
    Slot slots[N_SLOTS];
    GvVkPass *pass;
    atomic_int dead;
    atomic_int count;
    atomic_int started; /* calls that reached a slot */
    int fail_at;
};

void gv_scaler_close(GvScaler **sp)
{
    GvScaler *const s = *sp;
    if (!s)
        return;
    *sp = NULL;
    GvVk *const vk = s->vk;
    if (vk && vk->dev) {
        vk->DeviceWaitIdle(vk->dev);
        for (int i = 0; i < N_SLOTS; i++) {
            Slot *const sl = &s->slots[i];
            gv_vk_buf_destroy(vk, &sl->staging);
            gv_vk_buf_destroy(vk, &sl->work);
            gv_vk_buf_destroy(vk, &sl->out);
        }
        gv_vk_pass_destroy(vk, &s->pass);
    }
    gv_vk_destroy(&s->vk);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

int gv_scaler_open(GvScaler **out, const GvScalerConfig *cfg)
{
    *out = NULL;
    GvScaler *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->log = cfg->log;
    s->budget = cfg->memory_bytes / N_SLOTS;
    s->fail_at = cfg->fail_at;
    int ret = gv_vk_create(&s->vk, cfg->log, cfg->filter);
    if (ret == 0 && !cfg->software && s->vk->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        gv_log(cfg->log, GV_LOG_INFO, "Vulkan: no tile scaling on a software device");
        ret = -ENODEV;
    }
    if (ret == 0)
        ret = gv_vk_pass_create(s->vk, &s->pass,
                                &(GvVkPassInfo){ .spv = scale_spv,
                                                 .spv_bytes = sizeof(scale_spv),
                                                 .n_buffers = 2,
                                                 .push_bytes = sizeof(ScaleConsts),
                                                 .n_sets = N_SLOTS,
                                                 .n_cmds = N_SLOTS });
    for (int i = 0; ret == 0 && i < N_SLOTS; i++)
        s->slots[i] = (Slot){ .cmd = s->pass->cmds[i], .fence = s->pass->fences[i], .set = i };
    if (ret == 0) {
        /* the shader addresses words with 32-bit indices */
        const int64_t limit = s->vk->props.limits.maxStorageBufferRange;
        if (s->budget > limit)
            s->budget = limit;
        *out = s;
        return 0;
    }
    gv_scaler_close(&s);
    return ret;
}

int gv_scaler_count(const GvScaler *s)
{
    return s ? atomic_load(&s->count) : 0;
}

/* Grows *buf to at least `need` bytes (rounded up to 4 MiB); sets *grown
 * when the buffer is a new one. */
static int ensure(GvVk *vk, GvVkBuf **buf, VkDeviceSize *cap, VkDeviceSize need,
                  VkBufferUsageFlags usage, const VkMemoryPropertyFlags *prefs, int *grown)
{
    if (*buf && *cap >= need)
        return 0;
    gv_vk_buf_destroy(vk, buf);
    *cap = 0;
    *grown = 1;
    const VkDeviceSize size = (need + (4u << 20) - 1) & ~(VkDeviceSize)((4u << 20) - 1);
    const int ret = gv_vk_buf_create(vk, buf, size, usage, prefs);
    if (ret == 0)
        *cap = size;
    return ret;
}

/*
 * Where the image goes in the work buffer (source, then the filters'
 * weights and first taps, then the horizontal pass's result), as push
 * constants. Returns 0 or -E2BIG when it exceeds the slot's budget or the
 * shader's 32-bit word indices.
 */
static int plan(const GvScaler *s, const GvFilter *fx, const GvFilter *fy, int sw, int sh,
                int bands, const uint8_t bg[3], int dw, int dh, ScaleConsts *pc,
                uint64_t *total)
{
    const uint64_t src_words = ((uint64_t)sw * sh * bands + 3) / 4;
    const uint64_t wx = src_words, fxo = wx + (uint64_t)dw * fx->n, wy = fxo + (uint64_t)dw;
    const uint64_t fyo = wy + (uint64_t)dh * fy->n, tmp = fyo + (uint64_t)dh;
    *total = tmp + (uint64_t)dw * sh * 3;
    if (*total * 4 > (uint64_t)s->budget || *total > UINT32_MAX)
        return -E2BIG;
    *pc = (ScaleConsts){
        .pass = 0,
        .sw = (uint32_t)sw, .sh = (uint32_t)sh, .bands = (uint32_t)bands,
        .dw = (uint32_t)dw, .dh = (uint32_t)dh,
        .nx = (uint32_t)fx->n, .ny = (uint32_t)fy->n,
        .wx = (uint32_t)wx, .fx = (uint32_t)fxo, .wy = (uint32_t)wy, .fy = (uint32_t)fyo,
        .tmp = (uint32_t)tmp,
        .bg = bg ? bg[0] | (uint32_t)bg[1] << 8 | (uint32_t)bg[2] << 16 : 0,
    };
    return 0;
}

/* Grows the slot's buffers for an image of `total` work words and
 * `out_bytes` of result, pointing its descriptor set at new ones. */
static int prepare_slot(GvScaler *s, Slot *sl, VkDeviceSize staged, uint64_t total,
                        uint64_t out_bytes)
{
    GvVk *const vk = s->vk;
    const VkBufferUsageFlags work_usage =
        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    int staging_new = 0, grown = 0, ret;
    if ((ret = ensure(vk, &sl->staging, &sl->staging_cap, staged, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                      gv_vk_host_prefs, &staging_new)) < 0 ||
        (ret = ensure(vk, &sl->work, &sl->work_cap, total * 4, work_usage, gv_vk_device_prefs,
                      &grown)) < 0 ||
        (ret = ensure(vk, &sl->out, &sl->out_cap, out_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                      gv_vk_readback_prefs, &grown)) < 0)
        return ret;
    if (grown)
        gv_vk_pass_write(vk, s->pass, sl->set, (const GvVkBuf *const[]){ sl->work, sl->out });
    return 0;
}

/* The source and the filters into the staging buffer, at pc's offsets. */
static int upload(GvVk *vk, const Slot *sl, const uint8_t *src, const GvFilter *fx,
                  const GvFilter *fy, const ScaleConsts *pc)
{
    uint32_t *const words = (uint32_t *)sl->staging->map;
    memcpy(words, src, (size_t)pc->sw * pc->sh * pc->bands);
    memcpy(words + pc->wx, fx->w, sizeof(float) * (size_t)pc->dw * fx->n);
    memcpy(words + pc->fx, fx->first, sizeof(int) * (size_t)pc->dw);
    memcpy(words + pc->wy, fy->w, sizeof(float) * (size_t)pc->dh * fy->n);
    memcpy(words + pc->fy, fy->first, sizeof(int) * (size_t)pc->dh);
    return gv_vk_buf_flush(vk, sl->staging);
}

/* The copy to the work buffer, the two passes and the barrier to the host. */
static int record(GvScaler *s, const Slot *sl, const ScaleConsts *pc0)
{
    GvVk *const vk = s->vk;
    const VkCommandBuffer cmd = sl->cmd;
    const int ret = gv_vk_cmd_begin(vk, cmd);
    if (ret < 0)
        return ret;
    const VkBufferCopy region = { .size = (VkDeviceSize)pc0->tmp * 4 };
    vk->CmdCopyBuffer(cmd, sl->staging->buf, sl->work->buf, 1, &region);
    gv_vk_cmd_barrier(vk, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
    gv_vk_pass_bind(vk, s->pass, cmd, sl->set);
    ScaleConsts pc = *pc0;
    gv_vk_pass_dispatch(vk, s->pass, cmd, &pc, (pc.dw + 15) / 16, (pc.sh + 15) / 16);
    gv_vk_cmd_barrier(vk, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
    pc.pass = 1;
    gv_vk_pass_dispatch(vk, s->pass, cmd, &pc, (pc.dw + 15) / 16, (pc.dh + 15) / 16);
    gv_vk_cmd_barrier(vk, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                      VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    return 0;
}

/* Submits the slot's commands, waits for them and unpacks the result. */
static int execute(GvScaler *s, Slot *sl, uint8_t *dst, int dw, int dh)
{
    GvVk *const vk = s->vk;
    int ret;
    /* a queue takes one submission at a time */
    pthread_mutex_lock(&s->lock);
    ret = gv_vk_cmd_submit(vk, sl->cmd, sl->fence);
    pthread_mutex_unlock(&s->lock);
    /* generous: a software driver takes seconds for a large photo */
    if (ret < 0 || (ret = gv_vk_fence_wait(vk, sl->fence, 60ull * 1000 * 1000 * 1000)) < 0 ||
        (ret = gv_vk_buf_invalidate(vk, sl->out)) < 0)
        return ret;
    const uint32_t *const px = (const uint32_t *)sl->out->map;
    const size_t n = (size_t)dw * dh;
    for (size_t i = 0; i < n; i++) {
        dst[3 * i] = (uint8_t)px[i];
        dst[3 * i + 1] = (uint8_t)(px[i] >> 8);
        dst[3 * i + 2] = (uint8_t)(px[i] >> 16);
    }
    return 0;
}

static int run_slot(GvScaler *s, Slot *sl, const uint8_t *src, int sw, int sh, int bands,
                    const uint8_t bg[3], uint8_t *dst, int dw, int dh)
{
    GvFilter fx = { 0 }, fy = { 0 };
    ScaleConsts pc;
    uint64_t total;
    int ret;
    if ((ret = gv_filter_init(&fx, sw, dw)) < 0 || (ret = gv_filter_init(&fy, sh, dh)) < 0 ||
        (ret = plan(s, &fx, &fy, sw, sh, bands, bg, dw, dh, &pc, &total)) < 0 ||
        (ret = prepare_slot(s, sl, (VkDeviceSize)pc.tmp * 4, total, (uint64_t)dw * dh * 4)) < 0 ||
        (ret = upload(s->vk, sl, src, &fx, &fy, &pc)) < 0 || (ret = record(s, sl, &pc)) < 0)
        goto error;
    ret = execute(s, sl, dst, dw, dh);
error:
    gv_filter_free(&fx);
    gv_filter_free(&fy);
    return ret;
}

int gv_scaler_run(GvScaler *s, const uint8_t *src, int sw, int sh, int bands, const uint8_t bg[3],
                  uint8_t *dst, int dw, int dh)
{
    if (!s || atomic_load(&s->dead))
        return -ENODEV;
    if (sw < 1 || sh < 1 || dw < 1 || dh < 1 || (bands != 3 && bands != 4) || (bands == 4 && !bg))
        return -EINVAL;
    pthread_mutex_lock(&s->lock);
    Slot *sl = NULL;
    while (!sl) {
        for (int i = 0; i < N_SLOTS && !sl; i++)
            if (!s->slots[i].busy)
                sl = &s->slots[i];
        if (!sl)
            pthread_cond_wait(&s->cond, &s->lock);
    }
    sl->busy = 1;
    pthread_mutex_unlock(&s->lock);

    int ret;
    if (atomic_fetch_add(&s->started, 1) + 1 == s->fail_at) {
        gv_log(s->log, GV_LOG_INFO, "Vulkan: failing tile scaling (test switch)");
        ret = GV_ERR_GPU;
    } else {
        ret = run_slot(s, sl, src, sw, sh, bands, bg, dst, dw, dh);
    }
    if (ret == GV_ERR_GPU && !atomic_exchange(&s->dead, 1))
        gv_log(s->log, GV_LOG_WARNING, "GPU tile scaling failed: scaling on the CPU");
    if (ret == 0)
        atomic_fetch_add(&s->count, 1);

    pthread_mutex_lock(&s->lock);
    sl->busy = 0;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return ret;
}
