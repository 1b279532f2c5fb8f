#include "gpu/context.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridvid/gridvid.h"

const char *gv_vk_result_string(VkResult res)
{
    switch (res) {
#define CASE(r)                                                                         \
    case r:                                                                             \
        return #r;
    CASE(VK_SUCCESS)
    CASE(VK_NOT_READY)
    CASE(VK_TIMEOUT)
    CASE(VK_EVENT_SET)
    CASE(VK_EVENT_RESET)
    CASE(VK_INCOMPLETE)
    CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    CASE(VK_ERROR_INITIALIZATION_FAILED)
    CASE(VK_ERROR_DEVICE_LOST)
    CASE(VK_ERROR_MEMORY_MAP_FAILED)
    CASE(VK_ERROR_LAYER_NOT_PRESENT)
    CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    CASE(VK_ERROR_TOO_MANY_OBJECTS)
    CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    CASE(VK_ERROR_FRAGMENTED_POOL)
#ifdef VK_VERSION_1_1
    CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
#endif
#ifdef VK_VERSION_1_2
    CASE(VK_ERROR_UNKNOWN)
    CASE(VK_ERROR_FRAGMENTATION)
    CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
#endif
#undef CASE
    default:
        return "unknown VkResult";
    }
}

static const char *const loader_names[] = {
#if defined(__APPLE__)
    "libvulkan.1.dylib",
    "libMoltenVK.dylib",
#else
    "libvulkan.so.1",
#endif
};

static int open_loader(GvVk *vk)
{
    for (size_t i = 0; i < sizeof(loader_names) / sizeof(loader_names[0]); i++) {
        vk->lib = dlopen(loader_names[i], RTLD_NOW | RTLD_LOCAL);
        if (vk->lib)
            break;
    }
    if (!vk->lib) {
        gv_log(vk->log, GV_LOG_INFO, "Vulkan: no loader (%s)", loader_names[0]);
        return -ENODEV;
    }
    /* dlsym returns void *; going through memcpy keeps ISO C quiet about
     * converting it to a function pointer. */
    void *const sym = dlsym(vk->lib, "vkGetInstanceProcAddr");
    if (!sym) {
        gv_log(vk->log, GV_LOG_INFO, "Vulkan: the loader has no vkGetInstanceProcAddr");
        return -ENODEV;
    }
    memcpy(&vk->GetInstanceProcAddr, &sym, sizeof(sym));
    return 0;
}

static int has_extension(const VkExtensionProperties *ext, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(ext[i].extensionName, name))
            return 1;
    return 0;
}

static int create_instance(GvVk *vk)
{
    int ret = 0;
    VkExtensionProperties *ext = NULL;
    const PFN_vkCreateInstance CreateInstance =
        (PFN_vkCreateInstance)vk->GetInstanceProcAddr(NULL, "vkCreateInstance");
    const PFN_vkEnumerateInstanceExtensionProperties EnumerateInstanceExtensionProperties =
        (PFN_vkEnumerateInstanceExtensionProperties)vk->GetInstanceProcAddr(
            NULL, "vkEnumerateInstanceExtensionProperties");
    if (!CreateInstance || !EnumerateInstanceExtensionProperties) {
        gv_log(vk->log, GV_LOG_INFO, "Vulkan: the loader lacks vkCreateInstance");
        return -ENODEV;
    }

    uint32_t n_ext = 0;
    VK(EnumerateInstanceExtensionProperties(NULL, &n_ext, NULL));
    ext = calloc(n_ext + 1, sizeof(*ext));
    if (!ext)
        return -ENOMEM;
    VK(EnumerateInstanceExtensionProperties(NULL, &n_ext, ext));

    /* Portability drivers (MoltenVK) are listed only when asked for; their
     * devices need VK_KHR_portability_subset, which in turn needs
     * get_physical_device_properties2 on a 1.0 instance. */
    const char *enabled[2];
    uint32_t n_enabled = 0;
    VkInstanceCreateFlags flags = 0;
    if (has_extension(ext, n_ext, VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME))
        enabled[n_enabled++] = VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME;
#ifdef VK_KHR_portability_enumeration
    if (has_extension(ext, n_ext, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        enabled[n_enabled++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
#endif

    const VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "gridvid",
        .applicationVersion =
            VK_MAKE_VERSION(GV_VERSION_MAJOR, GV_VERSION_MINOR, GV_VERSION_PATCH),
        .pEngineName = "gridvid",
        .apiVersion = VK_API_VERSION_1_0,
    };
    const VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledExtensionCount = n_enabled,
        .ppEnabledExtensionNames = enabled,
    };
    const VkResult res = CreateInstance(&info, NULL, &vk->instance);
    if (res == VK_ERROR_INCOMPATIBLE_DRIVER) {
        gv_log(vk->log, GV_LOG_INFO, "Vulkan: no driver (%s)", gv_vk_result_string(res));
        ret = -ENODEV;
        goto error;
    }
    VK(res);

#define LOAD(name)                                                                      \
    if (!(vk->name = (PFN_vk##name)vk->GetInstanceProcAddr(vk->instance, "vk" #name))) {  \
        gv_log(vk->log, GV_LOG_INFO, "Vulkan: no entry point vk%s", #name);            \
        ret = GV_ERR_GPU;                                                               \
        goto error;                                                                     \
    }
    GV_VK_INSTANCE_FNS(LOAD)
#undef LOAD

error:
    if (ret < 0 && vk->instance) {
        const PFN_vkDestroyInstance DestroyInstance =
            (PFN_vkDestroyInstance)vk->GetInstanceProcAddr(vk->instance, "vkDestroyInstance");
        if (DestroyInstance)
            DestroyInstance(vk->instance, NULL);
        vk->instance = VK_NULL_HANDLE;
    }
    free(ext);
    return ret;
}

static int contains_nocase(const char *hay, const char *needle)
{
    const size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return 1;
    default:
        return 0;
    }
}

static const char *type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "CPU";
    default:
        return "other device";
    }
}

/* The first queue family with compute, preferring one without graphics
 * (an asynchronous compute queue does not compete with a display). */
static int compute_family(GvVk *vk, VkPhysicalDevice phys, uint32_t *family)
{
    uint32_t n = 0;
    vk->GetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
    VkQueueFamilyProperties *const q = calloc(n + 1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    vk->GetPhysicalDeviceQueueFamilyProperties(phys, &n, q);
    int best = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || q[i].queueCount == 0)
            continue;
        if (best < 0 || ((q[best].queueFlags & VK_QUEUE_GRAPHICS_BIT) &&
                         !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
            best = (int)i;
    }
    free(q);
    if (best < 0)
        return -ENODEV;
    *family = (uint32_t)best;
    return 0;
}

static int pick_device(GvVk *vk, const char *filter)
{
    int ret = 0;
    VkPhysicalDevice *devs = NULL;
    uint32_t n = 0;
    VK(vk->EnumeratePhysicalDevices(vk->instance, &n, NULL));
    devs = calloc(n + 1, sizeof(*devs));
    if (!devs)
        return -ENOMEM;
    VK(vk->EnumeratePhysicalDevices(vk->instance, &n, devs));

    int best_rank = 0;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vk->GetPhysicalDeviceProperties(devs[i], &p);
        const int named = filter && *filter;
        if (named && !contains_nocase(p.deviceName, filter))
            continue;
        /* software rasterisers only by name: they are slower than the CPU path */
        if (!named && p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU)
            continue;
        uint32_t family;
        if (compute_family(vk, devs[i], &family) < 0)
            continue;
        const int rank = type_rank(p.deviceType) + 1;
        if (rank > best_rank) {
            best_rank = rank;
            vk->phys = devs[i];
            vk->props = p;
            vk->queue_family = family;
        }
    }
    if (!vk->phys) {
        if (filter && *filter)
            gv_log(vk->log, GV_LOG_INFO, "Vulkan: no device named like \"%s\" with compute",
                   filter);
        else
            gv_log(vk->log, GV_LOG_INFO, "Vulkan: no GPU with compute (of %u devices)", n);
        ret = -ENODEV;
        goto error;
    }
    vk->GetPhysicalDeviceMemoryProperties(vk->phys, &vk->mem);
    const uint32_t v = vk->props.apiVersion;
    gv_log(vk->log, GV_LOG_INFO, "Vulkan: using %s (%s, Vulkan %u.%u.%u)", vk->props.deviceName,
           type_name(vk->props.deviceType), VK_VERSION_MAJOR(v), VK_VERSION_MINOR(v),
           VK_VERSION_PATCH(v));
error:
    free(devs);
    return ret;
}

static int create_device(GvVk *vk)
{
    int ret = 0;
    VkExtensionProperties *ext = NULL;
    uint32_t n_ext = 0;
    VK(vk->EnumerateDeviceExtensionProperties(vk->phys, NULL, &n_ext, NULL));
    ext = calloc(n_ext + 1, sizeof(*ext));
    if (!ext)
        return -ENOMEM;
    VK(vk->EnumerateDeviceExtensionProperties(vk->phys, NULL, &n_ext, ext));
    const char *enabled[1];
    uint32_t n_enabled = 0;
    /* a portability driver must be told that we know it is one */
    if (has_extension(ext, n_ext, "VK_KHR_portability_subset"))
        enabled[n_enabled++] = "VK_KHR_portability_subset";

    const float prio = 1.0f;
    const VkDeviceQueueCreateInfo qinfo = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = vk->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    const VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qinfo,
        .enabledExtensionCount = n_enabled,
        .ppEnabledExtensionNames = enabled,
    };
    VK(vk->CreateDevice(vk->phys, &info, NULL, &vk->dev));

#define LOAD(name)                                                                      \
    if (!(vk->name = (PFN_vk##name)vk->GetDeviceProcAddr(vk->dev, "vk" #name))) {       \
        gv_log(vk->log, GV_LOG_INFO, "Vulkan: no entry point vk%s", #name);            \
        ret = GV_ERR_GPU;                                                               \
        goto error;                                                                     \
    }
    GV_VK_DEVICE_FNS(LOAD)
#undef LOAD
    vk->GetDeviceQueue(vk->dev, vk->queue_family, 0, &vk->queue);
error:
    free(ext);
    return ret;
}

/*
 * The loader and one instance live as long as the process, made by the
 * first compositor that asks. Destroying the last instance makes the
 * loader unload the driver, and NVIDIA's driver (initial-exec TLS) cannot
 * be loaded again many times: after a few dozen cycles dlopen fails with
 * "cannot allocate memory in static TLS block". Set once under the lock,
 * read-only after.
 */
static struct {
    pthread_mutex_t lock;
    int done, ret;
    char why[256]; /* the last message of a failed start, for later callers */
    const GvLog *log;
    GvVk vk; /* lib, instance and instance-level entry points */
} shared = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void capture_log(void *opaque, GvLogLevel level, const char *msg)
{
    (void)opaque;
    snprintf(shared.why, sizeof(shared.why), "%s", msg);
    if (shared.log && shared.log->cb && level <= shared.log->level)
        shared.log->cb(shared.log->opaque, level, msg);
}

static int shared_instance(GvVk *vk)
{
    pthread_mutex_lock(&shared.lock);
    if (!shared.done) {
        const GvLog capture = { capture_log, NULL, GV_LOG_DEBUG };
        shared.log = vk->log;
        shared.vk.log = &capture;
        if ((shared.ret = open_loader(&shared.vk)) < 0 ||
            (shared.ret = create_instance(&shared.vk)) < 0) {
            if (shared.vk.lib)
                dlclose(shared.vk.lib);
            memset(&shared.vk, 0, sizeof(shared.vk));
        }
        shared.vk.log = NULL;
        shared.log = NULL;
        /* a missing loader or driver does not appear later in the process */
        shared.done = shared.ret != -ENOMEM;
    } else if (shared.ret < 0) {
        gv_log(vk->log, GV_LOG_INFO, "%s", shared.why);
    }
    const int ret = shared.ret;
    if (ret == 0) {
        const GvLog *const log = vk->log;
        *vk = shared.vk;
        vk->log = log;
    }
    pthread_mutex_unlock(&shared.lock);
    return ret;
}

int gv_vk_create(GvVk **out, const GvLog *log, const char *filter)
{
    int ret;
    GvVk *vk = calloc(1, sizeof(*vk));
    if (!vk)
        return -ENOMEM;
    vk->log = log;
    if ((ret = shared_instance(vk)) < 0 || (ret = pick_device(vk, filter)) < 0 ||
        (ret = create_device(vk)) < 0) {
        gv_vk_destroy(&vk);
        return ret;
    }
    *out = vk;
    return 0;
}

void gv_vk_destroy(GvVk **pvk)
{
    GvVk *const vk = *pvk;
    if (!vk)
        return;
    if (vk->dev) {
        /* after a lost device this fails; everything is destroyed anyway */
        vk->DeviceWaitIdle(vk->dev);
        vk->DestroyDevice(vk->dev, NULL);
    }
    /* the instance and the loader stay: see shared_instance() */
    free(vk);
    *pvk = NULL;
}

/* ---- buffers ---- */

/* The first memory type of `bits` with every flag of `want`, on a heap
 * large enough (small device-local windows of host memory are skipped). */
static int memory_type(const GvVk *vk, uint32_t bits, VkMemoryPropertyFlags want,
                       VkDeviceSize size)
{
    for (uint32_t i = 0; i < vk->mem.memoryTypeCount; i++) {
        const VkMemoryType *const t = &vk->mem.memoryTypes[i];
        if ((bits & (1u << i)) && (t->propertyFlags & want) == want &&
            vk->mem.memoryHeaps[t->heapIndex].size >= size)
            return (int)i;
    }
    return -1;
}

int gv_vk_buf_create(GvVk *vk, GvVkBuf **out, VkDeviceSize size, VkBufferUsageFlags usage,
                     const VkMemoryPropertyFlags *prefs)
{
    int ret = 0;
    GvVkBuf *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->size = size;
    const VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK(vk->CreateBuffer(vk->dev, &info, NULL, &b->buf));
    VkMemoryRequirements req;
    vk->GetBufferMemoryRequirements(vk->dev, b->buf, &req);
    int type = -1;
    for (; *prefs && type < 0; prefs++)
        type = memory_type(vk, req.memoryTypeBits, *prefs, req.size);
    if (type < 0) {
        gv_log(vk->log, GV_LOG_INFO, "Vulkan: no suitable memory type for a buffer");
        ret = GV_ERR_GPU;
        goto error;
    }
    b->flags = vk->mem.memoryTypes[type].propertyFlags;
    const VkMemoryAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VK(vk->AllocateMemory(vk->dev, &alloc, NULL, &b->mem));
    VK(vk->BindBufferMemory(vk->dev, b->buf, b->mem, 0));
    if (b->flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        void *p;
        VK(vk->MapMemory(vk->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &p));
        b->map = p;
    }
    *out = b;
    return 0;
error:
    gv_vk_buf_destroy(vk, &b);
    return ret;
}

void gv_vk_buf_destroy(GvVk *vk, GvVkBuf **pb)
{
    GvVkBuf *const b = *pb;
    if (!b)
        return;
    /* freeing mapped memory unmaps it */
    if (b->buf)
        vk->DestroyBuffer(vk->dev, b->buf, NULL);
    if (b->mem)
        vk->FreeMemory(vk->dev, b->mem, NULL);
    free(b);
    *pb = NULL;
}

/* Flushes (to the device) or invalidates (for the host) the whole of a
 * mapped buffer that is not coherent; both calls take the same range. */
static int mapped_range(GvVk *vk, const GvVkBuf *b, PFN_vkFlushMappedMemoryRanges fn)
{
    int ret = 0;
    if (b->flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
        return 0;
    const VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = b->mem,
        .size = VK_WHOLE_SIZE,
    };
    VK(fn(vk->dev, 1, &range));
error:
    return ret;
}

int gv_vk_buf_flush(GvVk *vk, const GvVkBuf *b)
{
    return mapped_range(vk, b, vk->FlushMappedMemoryRanges);
}

int gv_vk_buf_invalidate(GvVk *vk, const GvVkBuf *b)
{
    return mapped_range(vk, b, vk->InvalidateMappedMemoryRanges);
}

const VkMemoryPropertyFlags gv_vk_host_prefs[] = {
    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
    0,
};

/* read back through the CPU caches where the device offers that */
const VkMemoryPropertyFlags gv_vk_readback_prefs[] = {
    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT |
        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
    0,
};

const VkMemoryPropertyFlags gv_vk_device_prefs[] = {
    VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
    0,
};

/* ---- compute passes ---- */

static int create_pipeline(GvVk *vk, GvVkPass *p, const GvVkPassInfo *info)
{
    int ret = 0;
    VkShaderModule module = VK_NULL_HANDLE;
    VkDescriptorSetLayoutBinding bindings[8];
    for (uint32_t i = 0; i < info->n_buffers; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    const VkDescriptorSetLayoutCreateInfo dsl_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = info->n_buffers,
        .pBindings = bindings,
    };
    VK(vk->CreateDescriptorSetLayout(vk->dev, &dsl_info, NULL, &p->dsl));
    const VkPushConstantRange range = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .size = info->push_bytes,
    };
    const VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->dsl,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &range,
    };
    VK(vk->CreatePipelineLayout(vk->dev, &layout_info, NULL, &p->layout));
    const VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = info->spv_bytes,
        .pCode = info->spv,
    };
    VK(vk->CreateShaderModule(vk->dev, &module_info, NULL, &module));
    const VkComputePipelineCreateInfo pipe_info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = module,
            .pName = "main",
        },
        .layout = p->layout,
    };
    VK(vk->CreateComputePipelines(vk->dev, VK_NULL_HANDLE, 1, &pipe_info, NULL, &p->pipe));
error:
    if (module)
        vk->DestroyShaderModule(vk->dev, module, NULL);
    return ret;
}

static int create_sets(GvVk *vk, GvVkPass *p)
{
    int ret = 0;
    const VkDescriptorPoolSize size = {
        .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .descriptorCount = p->n_buffers * p->n_sets,
    };
    const VkDescriptorPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = p->n_sets,
        .poolSizeCount = 1,
        .pPoolSizes = &size,
    };
    VK(vk->CreateDescriptorPool(vk->dev, &pool_info, NULL, &p->dpool));
    const VkDescriptorSetAllocateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = p->dpool,
        .descriptorSetCount = 1,
        .pSetLayouts = &p->dsl,
    };
    for (uint32_t i = 0; i < p->n_sets; i++)
        VK(vk->AllocateDescriptorSets(vk->dev, &set_info, &p->sets[i]));
error:
    return ret;
}

static int create_commands(GvVk *vk, GvVkPass *p)
{
    int ret = 0;
    const VkCommandPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = vk->queue_family,
    };
    const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    for (uint32_t i = 0; i < p->n_cmds; i++) {
        VK(vk->CreateCommandPool(vk->dev, &pool_info, NULL, &p->cpools[i]));
        const VkCommandBufferAllocateInfo cmd_info = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .commandPool = p->cpools[i],
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        VK(vk->AllocateCommandBuffers(vk->dev, &cmd_info, &p->cmds[i]));
        VK(vk->CreateFence(vk->dev, &fence_info, NULL, &p->fences[i]));
    }
error:
    return ret;
}

int gv_vk_pass_create(GvVk *vk, GvVkPass **out, const GvVkPassInfo *info)
{
    *out = NULL;
    if (info->n_buffers < 1 || info->n_buffers > 8 || info->n_sets < 1 ||
        info->n_sets > 1024 || info->n_cmds > 1024)
        return -EINVAL;
    int ret = -ENOMEM;
    GvVkPass *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->n_buffers = info->n_buffers;
    p->push_bytes = info->push_bytes;
    p->n_sets = info->n_sets;
    p->n_cmds = info->n_cmds;
    p->sets = calloc(p->n_sets, sizeof(*p->sets));
    p->cpools = calloc(p->n_cmds + 1, sizeof(*p->cpools));
    p->cmds = calloc(p->n_cmds + 1, sizeof(*p->cmds));
    p->fences = calloc(p->n_cmds + 1, sizeof(*p->fences));
    if (!p->sets || !p->cpools || !p->cmds || !p->fences ||
        (ret = create_pipeline(vk, p, info)) < 0 || (ret = create_sets(vk, p)) < 0 ||
        (ret = create_commands(vk, p)) < 0) {
        gv_vk_pass_destroy(vk, &p);
        return ret;
    }
    *out = p;
    return 0;
}

void gv_vk_pass_destroy(GvVk *vk, GvVkPass **pp)
{
    GvVkPass *const p = *pp;
    if (!p)
        return;
    /* command buffers and descriptor sets go with their pools */
    for (uint32_t i = 0; p->fences && i < p->n_cmds; i++)
        if (p->fences[i])
            vk->DestroyFence(vk->dev, p->fences[i], NULL);
    for (uint32_t i = 0; p->cpools && i < p->n_cmds; i++)
        if (p->cpools[i])
            vk->DestroyCommandPool(vk->dev, p->cpools[i], NULL);
    if (p->dpool)
        vk->DestroyDescriptorPool(vk->dev, p->dpool, NULL);
    if (p->pipe)
        vk->DestroyPipeline(vk->dev, p->pipe, NULL);
    if (p->layout)
        vk->DestroyPipelineLayout(vk->dev, p->layout, NULL);
    if (p->dsl)
        vk->DestroyDescriptorSetLayout(vk->dev, p->dsl, NULL);
    free(p->sets);
    free(p->cpools);
    free(p->cmds);
    free(p->fences);
    free(p);
    *pp = NULL;
}

void gv_vk_pass_write(GvVk *vk, const GvVkPass *p, uint32_t set, const GvVkBuf *const *bufs)
{
    VkDescriptorBufferInfo infos[8];
    VkWriteDescriptorSet writes[8];
    for (uint32_t b = 0; b < p->n_buffers; b++) {
        infos[b] = (VkDescriptorBufferInfo){ .buffer = bufs[b]->buf, .range = VK_WHOLE_SIZE };
        writes[b] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = p->sets[set],
            .dstBinding = b,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &infos[b],
        };
    }
    vk->UpdateDescriptorSets(vk->dev, p->n_buffers, writes, 0, NULL);
}

void gv_vk_pass_bind(GvVk *vk, const GvVkPass *p, VkCommandBuffer cmd, uint32_t set)
{
    vk->CmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipe);
    vk->CmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &p->sets[set],
                              0, NULL);
}

void gv_vk_pass_dispatch(GvVk *vk, const GvVkPass *p, VkCommandBuffer cmd, const void *push,
                         uint32_t gx, uint32_t gy)
{
    vk->CmdPushConstants(cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_bytes, push);
    vk->CmdDispatch(cmd, gx, gy, 1);
}

/* ---- commands ---- */

int gv_vk_cmd_begin(GvVk *vk, VkCommandBuffer cmd)
{
    int ret = 0;
    const VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK(vk->BeginCommandBuffer(cmd, &begin));
error:
    return ret;
}

void gv_vk_cmd_barrier(GvVk *vk, VkCommandBuffer cmd, VkPipelineStageFlags src_stage,
                       VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                       VkAccessFlags dst_access)
{
    const VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    vk->CmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &barrier, 0, NULL, 0, NULL);
}

int gv_vk_cmd_submit(GvVk *vk, VkCommandBuffer cmd, VkFence fence)
{
    int ret = 0;
    VK(vk->EndCommandBuffer(cmd));
    const VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
    };
    VK(vk->QueueSubmit(vk->queue, 1, &submit, fence));
error:
    return ret;
}

int gv_vk_fence_wait(GvVk *vk, VkFence fence, uint64_t timeout_ns)
{
    int ret = 0;
    VK(vk->WaitForFences(vk->dev, 1, &fence, VK_TRUE, timeout_ns));
    VK(vk->ResetFences(vk->dev, 1, &fence));
error:
    return ret;
}
