/* Built without Vulkan headers or glslc: no GPU tile scaler. */
#include <errno.h>
#include <stddef.h>

#include "gpu/scaler.h"

int gv_scaler_open(GvScaler **out, const GvScalerConfig *cfg)
{
    (void)cfg;
    *out = NULL;
    return -ENODEV;
}

void gv_scaler_close(GvScaler **s)
{
    *s = NULL;
}

int gv_scaler_run(GvScaler *s, const uint8_t *src, int sw, int sh, int bands, const uint8_t bg[3],
                  uint8_t *dst, int dw, int dh)
{
    (void)s, (void)src, (void)sw, (void)sh, (void)bands, (void)bg, (void)dst, (void)dw, (void)dh;
    return -ENODEV;
}

int gv_scaler_count(const GvScaler *s)
{
    (void)s;
    return 0;
}
