/*
 * The Vulkan context of the compute compositor (src/render/vulkan/) and
 * the tile scaler: the loader opened at run time, one instance, one device
 * with one compute queue, and every entry point they use in a table (the
 * library is built with VK_NO_PROTOTYPES and never links libvulkan, so a
 * machine without a loader still runs gridvid on the CPU). Then what both
 * build on it: buffers, and compute passes with their descriptor sets,
 * command buffers and fences.
 *
 * Thread-safety: a context and the objects made from it are used by one
 * thread at a time, except where a function says otherwise.
 */
#ifndef GV_GPU_CONTEXT_H
#define GV_GPU_CONTEXT_H

#include <vulkan/vulkan.h>

#include "log.h"

#define GV_VK_INSTANCE_FNS(X)                                                           \
    X(DestroyInstance)                                                                  \
    X(EnumeratePhysicalDevices)                                                         \
    X(GetPhysicalDeviceProperties)                                                      \
    X(GetPhysicalDeviceQueueFamilyProperties)                                           \
    X(GetPhysicalDeviceMemoryProperties)                                                \
    X(EnumerateDeviceExtensionProperties)                                               \
    X(CreateDevice)                                                                     \
    X(GetDeviceProcAddr)

#define GV_VK_DEVICE_FNS(X)                                                             \
    X(DestroyDevice)                                                                    \
    X(DeviceWaitIdle)                                                                   \
    X(GetDeviceQueue)                                                                   \
    X(QueueSubmit)                                                                      \
    X(CreateBuffer)                                                                     \
    X(DestroyBuffer)                                                                    \
    X(GetBufferMemoryRequirements)                                                      \
    X(AllocateMemory)                                                                   \
    X(FreeMemory)                                                                       \
    X(BindBufferMemory)                                                                 \
    X(MapMemory)                                                                        \
    X(FlushMappedMemoryRanges)                                                          \
    X(InvalidateMappedMemoryRanges)                                                     \
    X(CreateShaderModule)                                                               \
    X(DestroyShaderModule)                                                              \
    X(CreateDescriptorSetLayout)                                                        \
    X(DestroyDescriptorSetLayout)                                                       \
    X(CreatePipelineLayout)                                                             \
    X(DestroyPipelineLayout)                                                            \
    X(CreateComputePipelines)                                                           \
    X(DestroyPipeline)                                                                  \
    X(CreateDescriptorPool)                                                             \
    X(DestroyDescriptorPool)                                                            \
    X(AllocateDescriptorSets)                                                           \
    X(UpdateDescriptorSets)                                                             \
    X(CreateCommandPool)                                                                \
    X(DestroyCommandPool)                                                               \
    X(AllocateCommandBuffers)                                                           \
    X(BeginCommandBuffer)                                                               \
    X(EndCommandBuffer)                                                                 \
    X(CmdBindPipeline)                                                                  \
    X(CmdBindDescriptorSets)                                                            \
    X(CmdPushConstants)                                                                 \
    X(CmdDispatch)                                                                      \
    X(CmdCopyBuffer)                                                                    \
    X(CmdPipelineBarrier)                                                               \
    X(CreateFence)                                                                      \
    X(DestroyFence)                                                                     \
    X(WaitForFences)                                                                    \
    X(ResetFences)

typedef struct GvVk {
    const GvLog *log;
    void *lib; /* the loader, from dlopen */
    PFN_vkGetInstanceProcAddr GetInstanceProcAddr;
#define GV_VK_FN_MEMBER(name) PFN_vk##name name;
    GV_VK_INSTANCE_FNS(GV_VK_FN_MEMBER)
    GV_VK_DEVICE_FNS(GV_VK_FN_MEMBER)
#undef GV_VK_FN_MEMBER

    VkInstance instance;
    VkPhysicalDevice phys;
    VkDevice dev;
    VkQueue queue;
    uint32_t queue_family;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem;
} GvVk;

/* The VkResult as its name, e.g. "VK_ERROR_DEVICE_LOST". */
const char *gv_vk_result_string(VkResult res);

/*
 * Checks a VkResult: anything but VK_SUCCESS is logged as text with the
 * call, file and line, sets `ret` to GV_ERR_GPU and jumps to `error`.
 * Needs a GvVk *vk in scope.
 */
#define VK(call)                                                                        \
    do {                                                                                \
        const VkResult vk_res_ = (call);                                                \
        if (vk_res_ != VK_SUCCESS) {                                                    \
            gv_log(vk->log, GV_LOG_INFO, "%s:%d: %s: %s", __FILE__, __LINE__, #call,   \
                   gv_vk_result_string(vk_res_));                                       \
            ret = GV_ERR_GPU;                                                           \
            goto error;                                                                 \
        }                                                                               \
    } while (0)

/*
 * Opens the loader, creates an instance and a device with a compute queue.
 * Device choice: discrete GPU, then integrated, then virtual; a CPU
 * (software) device only when `filter` names it. With a filter, only
 * devices whose name contains it (case-insensitive) qualify.
 * Returns 0, -ENODEV when there is no loader or no qualifying device (the
 * reason is logged at GV_LOG_INFO), GV_ERR_GPU for a Vulkan failure or
 * -ENOMEM.
 */
int gv_vk_create(GvVk **vk, const GvLog *log, const char *filter);

/* Waits for the device to go idle and destroys everything; NULL is fine. */
void gv_vk_destroy(GvVk **vk);

/* A buffer with its own memory, mapped when host-visible. */
typedef struct GvVkBuf {
    VkBuffer buf;
    VkDeviceMemory mem;
    VkDeviceSize size;
    VkMemoryPropertyFlags flags; /* of the memory type chosen */
    uint8_t *map;                /* NULL unless host-visible */
} GvVkBuf;

/*
 * Creates a buffer of `size` bytes in the first memory type that has all
 * the flags of one of `prefs` (tried in order, a list ending in 0; the
 * flags 0 itself cannot be asked for). Returns 0, GV_ERR_GPU or -ENOMEM.
 */
int gv_vk_buf_create(GvVk *vk, GvVkBuf **out, VkDeviceSize size, VkBufferUsageFlags usage,
                     const VkMemoryPropertyFlags *prefs);
void gv_vk_buf_destroy(GvVk *vk, GvVkBuf **buf);

/* Memory preferences for gv_vk_buf_create(): host-visible (coherent
 * first), host-visible and cached first (for reading back), device-local. */
extern const VkMemoryPropertyFlags gv_vk_host_prefs[];
extern const VkMemoryPropertyFlags gv_vk_readback_prefs[];
extern const VkMemoryPropertyFlags gv_vk_device_prefs[];

/* Host writes made visible to the device, or device writes (after a fence
 * and a barrier to the host) visible to the host; no-ops on coherent memory. */
int gv_vk_buf_flush(GvVk *vk, const GvVkBuf *buf);
int gv_vk_buf_invalidate(GvVk *vk, const GvVkBuf *buf);

/*
 * A compute pass: a pipeline from SPIR-V (entry point "main") whose one
 * descriptor set has n_buffers storage buffers at bindings 0 .., with
 * push_bytes of push constants; n_sets descriptor sets of that layout;
 * n_cmds command buffers, each with a fence (unsignalled) at the same
 * index. Each command buffer has a command pool of its own, so different
 * threads may record different ones at once; a command buffer, a set or a
 * fence is used by one thread at a time.
 */
typedef struct GvVkPassInfo {
    const uint32_t *spv;
    size_t spv_bytes;
    uint32_t n_buffers; /* 1 to 8 */
    uint32_t push_bytes;
    uint32_t n_sets;    /* at least 1 */
    uint32_t n_cmds;
} GvVkPassInfo;

typedef struct GvVkPass {
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipe;
    VkDescriptorPool dpool;
    uint32_t n_buffers, push_bytes, n_sets, n_cmds;
    VkDescriptorSet *sets;
    VkCommandPool *cpools;
    VkCommandBuffer *cmds;
    VkFence *fences;
} GvVkPass;

/* Returns 0, -EINVAL (counts out of range), GV_ERR_GPU or -ENOMEM. */
int gv_vk_pass_create(GvVk *vk, GvVkPass **out, const GvVkPassInfo *info);
/* The caller makes sure the device no longer uses the pass (a fence or
 * DeviceWaitIdle); NULL is fine. */
void gv_vk_pass_destroy(GvVk *vk, GvVkPass **pass);

/* Points the bindings of set `set` at bufs[0 .. n_buffers), whole. The set
 * must not be in use by a pending command buffer. */
void gv_vk_pass_write(GvVk *vk, const GvVkPass *p, uint32_t set, const GvVkBuf *const *bufs);
/* Records binding the pipeline and set `set` into cmd. */
void gv_vk_pass_bind(GvVk *vk, const GvVkPass *p, VkCommandBuffer cmd, uint32_t set);
/* Records push_bytes of `push` and a dispatch of gx x gy x 1 groups. */
void gv_vk_pass_dispatch(GvVk *vk, const GvVkPass *p, VkCommandBuffer cmd, const void *push,
                         uint32_t gx, uint32_t gy);

/* Begins recording cmd for one submission. Returns 0 or GV_ERR_GPU. */
int gv_vk_cmd_begin(GvVk *vk, VkCommandBuffer cmd);
/* Records a global memory barrier: src_access in src_stage before
 * dst_access in dst_stage. */
void gv_vk_cmd_barrier(GvVk *vk, VkCommandBuffer cmd, VkPipelineStageFlags src_stage,
                       VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                       VkAccessFlags dst_access);
/* Ends recording cmd and submits it to the queue, to signal fence. A
 * queue takes one submission at a time: callers that share a context
 * between threads hold a lock around this. Returns 0 or GV_ERR_GPU. */
int gv_vk_cmd_submit(GvVk *vk, VkCommandBuffer cmd, VkFence fence);
/* Waits up to timeout_ns for fence and resets it. Returns 0 or GV_ERR_GPU
 * (VK_TIMEOUT included). */
int gv_vk_fence_wait(GvVk *vk, VkFence fence, uint64_t timeout_ns);

#endif
