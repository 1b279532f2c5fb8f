/*
 * The Vulkan context of the compute compositor: the loader opened at run
 * time, one instance, one device with one compute queue, and every entry
 * point the backend uses in a table (the library is built with
 * VK_NO_PROTOTYPES and never links libvulkan, so a machine without a
 * loader still runs gridvid on the CPU).
 *
 * Thread-safety: a context and the buffers made from it are used by one
 * thread at a time.
 */
#ifndef GV_RENDER_VULKAN_CONTEXT_H
#define GV_RENDER_VULKAN_CONTEXT_H

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

/*
 * A compute pipeline from SPIR-V: a descriptor set layout of n_buffers
 * storage buffers (bindings 0 ..), a push constant range of push_bytes,
 * and entry point "main". Returns 0 or GV_ERR_GPU; the handles made so far
 * are set either way, for gv_vk_pipeline_destroy().
 */
typedef struct GvVkPipeline {
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipe;
} GvVkPipeline;

int gv_vk_pipeline_create(GvVk *vk, GvVkPipeline *p, const uint32_t *spv, size_t spv_bytes,
                          uint32_t n_buffers, uint32_t push_bytes);
void gv_vk_pipeline_destroy(GvVk *vk, GvVkPipeline *p);

/* Host writes made visible to the device, or device writes (after a fence
 * and a barrier to the host) visible to the host; no-ops on coherent memory. */
int gv_vk_buf_flush(GvVk *vk, const GvVkBuf *buf);
int gv_vk_buf_invalidate(GvVk *vk, const GvVkBuf *buf);

#endif
