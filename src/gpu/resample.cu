/*
 * Tiles from JPEG-engine output: the Lanczos-3 of src/resample.c
 * (gv_resample) on the GPU, reading the decoded image through its EXIF
 * orientation and crop window. The weights come from gv_filter_init() on
 * the host, and every sum is formed in gv_resample()'s order with
 * unfused, round-to-nearest float operations, so a tile equals what
 * gv_resample() makes of the same upright crop (tests/test_engine.c).
 *
 * Compiled to PTX at build time (meson, nvcc) and loaded through the CUDA
 * driver by jpegengine.c: no CUDA runtime is linked.
 */

#include "color.h"
#include "gpu/orient.h"

__device__ static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Pass 1: every line of the crop window, across: tmp is ch x dw x 3. */
extern "C" __global__ void gv_resample_across(const unsigned char *src, unsigned long long pitch,
                                              int w, int h, int orient, int cx, int cy, int cw,
                                              int ch, const int *first, const float *weights,
                                              int n, int dw, float *tmp)
{
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= dw || y >= ch)
        return;
    const float *wx = weights + (size_t)x * n;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f;
    for (int j = 0; j < n; j++) {
        int sx, sy;
        gv_stored_xy(orient, w, h, cx + clampi(first[x] + j, 0, cw - 1), cy + y, &sx, &sy);
        const unsigned char *p = src + (size_t)sy * pitch + (size_t)sx * 3;
        a0 = __fadd_rn(a0, __fmul_rn(wx[j], (float)p[0]));
        a1 = __fadd_rn(a1, __fmul_rn(wx[j], (float)p[1]));
        a2 = __fadd_rn(a2, __fmul_rn(wx[j], (float)p[2]));
    }
    float *o = tmp + ((size_t)y * dw + x) * 3;
    o[0] = a0;
    o[1] = a1;
    o[2] = a2;
}

/* Pass 2: down, to 8-bit RGB rounded as lrintf() does. */
extern "C" __global__ void gv_resample_down(const float *tmp, int ch, int dw, const int *first,
                                            const float *weights, int n, int dh,
                                            unsigned char *dst)
{
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= dw * 3 || y >= dh)
        return;
    const float *wy = weights + (size_t)y * n;
    float acc = 0.0f;
    for (int j = 0; j < n; j++)
        acc = __fadd_rn(acc, __fmul_rn(wy[j], tmp[(size_t)clampi(first[y] + j, 0, ch - 1) * dw * 3 + x]));
    dst[(size_t)y * dw * 3 + x] = (unsigned char)clampi(__float2int_rn(acc), 0, 255);
}

/*
 * The tile's RGB to Y'CbCr planes, as gv_rgb_to_yuv_n() (src/color.c)
 * converts: its tables, and for sums too close to a rounding tie (or
 * every pixel when use_tables is 0) gv_rgb_to_yuv()'s double arithmetic,
 * operation for operation.
 */
#define FIX_BITS GV_YUV_FIX_BITS
#define FIX_GUARD GV_YUV_FIX_GUARD

__device__ static unsigned char clamp_u8(double v)
{
    if (v < 0.0)
        return 0;
    if (v > 255.0)
        return 255;
    return (unsigned char)lround(v);
}

__device__ static void exact_yuv(int r, int g, int b, unsigned char o[3])
{
    const double kr = GV_BT709_KR, kb = GV_BT709_KB, kg = GV_BT709_KG;
    const double rf = __ddiv_rn((double)r, 255.0), gf = __ddiv_rn((double)g, 255.0),
                 bf = __ddiv_rn((double)b, 255.0);
    const double yf = __dadd_rn(__dadd_rn(__dmul_rn(kr, rf), __dmul_rn(kg, gf)), __dmul_rn(kb, bf));
    o[0] = clamp_u8(__dadd_rn(GV_Y_ZERO, __dmul_rn(GV_Y_SPAN, yf)));
    o[1] = clamp_u8(__dadd_rn(GV_C_ZERO,
                              __ddiv_rn(__dmul_rn(GV_C_SPAN, __dsub_rn(bf, yf)), 2.0 * (1.0 - kb))));
    o[2] = clamp_u8(__dadd_rn(GV_C_ZERO,
                              __ddiv_rn(__dmul_rn(GV_C_SPAN, __dsub_rn(rf, yf)), 2.0 * (1.0 - kr))));
}

extern "C" __global__ void gv_rgb_to_tile(const unsigned char *rgb, int n, const int *tables,
                                          int use_tables, unsigned char *planes)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const int r = rgb[(size_t)i * 3], g = rgb[(size_t)i * 3 + 1], b = rgb[(size_t)i * 3 + 2];
    unsigned char o[3];
    int exact = use_tables;
    for (int k = 0; k < 3 && exact; k++) {
        const int *t = tables + k * 3 * 256;
        const int sum = t[r] + t[256 + g] + t[512 + b];
        const int frac = sum & ((1 << FIX_BITS) - 1);
        if (abs(frac - (1 << (FIX_BITS - 1))) <= FIX_GUARD)
            exact = 0;
        o[k] = (unsigned char)((sum + (1 << (FIX_BITS - 1))) >> FIX_BITS);
    }
    if (!exact)
        exact_yuv(r, g, b, o);
    planes[i] = o[0];
    planes[(size_t)n + i] = o[1];
    planes[2 * (size_t)n + i] = o[2];
}
