/* Built without Vulkan headers or glslc: no GPU compositor. */
#include <stddef.h>

#include "render/compositor.h"

const GvCompositorOps *const gv_compositor_vulkan = NULL;
