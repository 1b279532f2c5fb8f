/*
 * The GPU tile scaler (see render/scaler.h). A few slots, each with its
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
#include "render/scaler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gridvid/gridvid.h"
#include "render/vulkan/context.h"
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

typedef struct Slot {
    int busy;
    GvVkBuf *staging, *work, *out;
    VkDeviceSize staging_cap, work_cap, out_cap;
    VkCommandBuffer cmd;
    VkFence fence;
    VkDescriptorSet set;
} Slot;

struct GvScaler {
    GvVk *vk;
    const GvLog *log;
    int64_t budget; /* bytes a slot may hold, host and device each */
    pthread_mutex_t lock; /* slots' busy flags; the queue */
    pthread_cond_t cond;
    Slot slots[N_SLOTS];
    GvVkPipeline pl;
    VkDescriptorPool dpool;
    VkCommandPool cpool;
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
            if (sl->fence)
                vk->DestroyFence(vk->dev, sl->fence, NULL);
        }
        if (s->cpool)
            vk->DestroyCommandPool(vk->dev, s->cpool, NULL);
        if (s->dpool)
            vk->DestroyDescriptorPool(vk->dev, s->dpool, NULL);
        gv_vk_pipeline_destroy(vk, &s->pl);
    }
    gv_vk_destroy(&s->vk);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

/* The pipeline, and per slot a descriptor set, a command buffer and a fence. */
static int create_objects(GvScaler *s)
{
    GvVk *const vk = s->vk;
    int ret = gv_vk_pipeline_create(vk, &s->pl, scale_spv, sizeof(scale_spv), 2,
                                    sizeof(ScaleConsts));
    if (ret < 0)
        return ret;
    const VkDescriptorPoolSize size = {
        .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .descriptorCount = 2 * N_SLOTS,
    };
    const VkDescriptorPoolCreateInfo dpool_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = N_SLOTS,
        .poolSizeCount = 1,
        .pPoolSizes = &size,
    };
    VK(vk->CreateDescriptorPool(vk->dev, &dpool_info, NULL, &s->dpool));
    const VkCommandPoolCreateInfo cpool_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = vk->queue_family,
    };
    VK(vk->CreateCommandPool(vk->dev, &cpool_info, NULL, &s->cpool));
    const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    for (int i = 0; i < N_SLOTS; i++) {
        Slot *const sl = &s->slots[i];
        const VkDescriptorSetAllocateInfo set_info = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = s->dpool,
            .descriptorSetCount = 1,
            .pSetLayouts = &s->pl.dsl,
        };
        VK(vk->AllocateDescriptorSets(vk->dev, &set_info, &sl->set));
        const VkCommandBufferAllocateInfo cmd_info = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .commandPool = s->cpool,
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        VK(vk->AllocateCommandBuffers(vk->dev, &cmd_info, &sl->cmd));
        VK(vk->CreateFence(vk->dev, &fence_info, NULL, &sl->fence));
    }
error:
    return ret;
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
        ret = create_objects(s);
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

static int run_slot(GvScaler *s, Slot *sl, const uint8_t *src, int sw, int sh, int bands,
                    const uint8_t bg[3], uint8_t *dst, int dw, int dh)
{
    GvVk *const vk = s->vk;
    GvFilter fx = { 0 }, fy = { 0 };
    int ret;
    if ((ret = gv_filter_init(&fx, sw, dw)) < 0 || (ret = gv_filter_init(&fy, sh, dh)) < 0)
        goto error;

    /* word offsets in the work buffer */
    const uint64_t src_words = ((uint64_t)sw * sh * bands + 3) / 4;
    const uint64_t wx = src_words, fxo = wx + (uint64_t)dw * fx.n, wy = fxo + (uint64_t)dw;
    const uint64_t fyo = wy + (uint64_t)dh * fy.n, tmp = fyo + (uint64_t)dh;
    const uint64_t total = tmp + (uint64_t)dw * sh * 3;
    const uint64_t out_bytes = (uint64_t)dw * dh * 4;
    if (total * 4 > (uint64_t)s->budget || total > UINT32_MAX) {
        ret = -E2BIG;
        goto error;
    }
    const VkDeviceSize staged = tmp * 4;
    const VkBufferUsageFlags work_usage =
        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    int staging_new = 0, grown = 0;
    if ((ret = ensure(vk, &sl->staging, &sl->staging_cap, staged, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                      gv_vk_host_prefs, &staging_new)) < 0 ||
        (ret = ensure(vk, &sl->work, &sl->work_cap, total * 4, work_usage, gv_vk_device_prefs,
                      &grown)) < 0 ||
        (ret = ensure(vk, &sl->out, &sl->out_cap, out_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                      gv_vk_readback_prefs, &grown)) < 0)
        goto error;
    if (grown) {
        const VkDescriptorBufferInfo bufs[2] = {
            { .buffer = sl->work->buf, .range = VK_WHOLE_SIZE },
            { .buffer = sl->out->buf, .range = VK_WHOLE_SIZE },
        };
        VkWriteDescriptorSet writes[2];
        for (uint32_t b = 0; b < 2; b++)
            writes[b] = (VkWriteDescriptorSet){
                .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                .dstSet = sl->set,
                .dstBinding = b,
                .descriptorCount = 1,
                .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                .pBufferInfo = &bufs[b],
            };
        vk->UpdateDescriptorSets(vk->dev, 2, writes, 0, NULL);
    }

    uint32_t *const words = (uint32_t *)sl->staging->map;
    memcpy(words, src, (size_t)sw * sh * bands);
    memcpy(words + wx, fx.w, sizeof(float) * (size_t)dw * fx.n);
    memcpy(words + fxo, fx.first, sizeof(int) * (size_t)dw);
    memcpy(words + wy, fy.w, sizeof(float) * (size_t)dh * fy.n);
    memcpy(words + fyo, fy.first, sizeof(int) * (size_t)dh);
    if ((ret = gv_vk_buf_flush(vk, sl->staging)) < 0)
        goto error;

    const VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK(vk->BeginCommandBuffer(sl->cmd, &begin));
    const VkBufferCopy region = { .size = staged };
    vk->CmdCopyBuffer(sl->cmd, sl->staging->buf, sl->work->buf, 1, &region);
    const VkMemoryBarrier to_shader = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT,
    };
    vk->CmdPipelineBarrier(sl->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &to_shader, 0, NULL, 0,
                           NULL);
    vk->CmdBindPipeline(sl->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, s->pl.pipe);
    vk->CmdBindDescriptorSets(sl->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, s->pl.layout, 0, 1,
                              &sl->set, 0, NULL);
    ScaleConsts pc = {
        .pass = 0,
        .sw = (uint32_t)sw, .sh = (uint32_t)sh, .bands = (uint32_t)bands,
        .dw = (uint32_t)dw, .dh = (uint32_t)dh,
        .nx = (uint32_t)fx.n, .ny = (uint32_t)fy.n,
        .wx = (uint32_t)wx, .fx = (uint32_t)fxo, .wy = (uint32_t)wy, .fy = (uint32_t)fyo,
        .tmp = (uint32_t)tmp,
        .bg = bg ? bg[0] | (uint32_t)bg[1] << 8 | (uint32_t)bg[2] << 16 : 0,
    };
    vk->CmdPushConstants(sl->cmd, s->pl.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(pc), &pc);
    vk->CmdDispatch(sl->cmd, ((uint32_t)dw + 15) / 16, ((uint32_t)sh + 15) / 16, 1);
    const VkMemoryBarrier between = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT,
    };
    vk->CmdPipelineBarrier(sl->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &between, 0, NULL, 0, NULL);
    pc.pass = 1;
    vk->CmdPushConstants(sl->cmd, s->pl.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(pc), &pc);
    vk->CmdDispatch(sl->cmd, ((uint32_t)dw + 15) / 16, ((uint32_t)dh + 15) / 16, 1);
    const VkMemoryBarrier to_host = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    vk->CmdPipelineBarrier(sl->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                           VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, NULL, 0, NULL);
    VK(vk->EndCommandBuffer(sl->cmd));

    const VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &sl->cmd,
    };
    /* a queue takes one submission at a time */
    pthread_mutex_lock(&s->lock);
    const VkResult sub = vk->QueueSubmit(vk->queue, 1, &submit, sl->fence);
    pthread_mutex_unlock(&s->lock);
    VK(sub);
    /* generous: a software driver takes seconds for a large photo */
    VK(vk->WaitForFences(vk->dev, 1, &sl->fence, VK_TRUE, 60ull * 1000 * 1000 * 1000));
    VK(vk->ResetFences(vk->dev, 1, &sl->fence));
    if ((ret = gv_vk_buf_invalidate(vk, sl->out)) < 0)
        goto error;
    const uint32_t *const px = (const uint32_t *)sl->out->map;
    const size_t n = (size_t)dw * dh;
    for (size_t i = 0; i < n; i++) {
        dst[3 * i] = (uint8_t)px[i];
        dst[3 * i + 1] = (uint8_t)(px[i] >> 8);
        dst[3 * i + 2] = (uint8_t)(px[i] >> 16);
    }
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
