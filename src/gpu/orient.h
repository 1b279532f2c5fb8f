/*
 * EXIF orientation, as the JPEG engine reads a decoded photo: the stored
 * pixel behind upright (x, y) of an image stored w x h under orientation
 * o (1 to 8; anything else as 1). Shared by the CPU reference
 * (jpegengine.c) and the kernels (resample.cu), which must agree.
 */
#ifndef GV_GPU_ORIENT_H
#define GV_GPU_ORIENT_H

#ifdef __CUDACC__
#define GV_HOST_DEVICE __host__ __device__
#else
#define GV_HOST_DEVICE
#endif

static inline GV_HOST_DEVICE void gv_stored_xy(int o, int w, int h, int x, int y, int *sx,
                                                int *sy)
{
    switch (o) {
    case 2: *sx = w - 1 - x; *sy = y; break;
    case 3: *sx = w - 1 - x; *sy = h - 1 - y; break;
    case 4: *sx = x; *sy = h - 1 - y; break;
    case 5: *sx = y; *sy = x; break;
    case 6: *sx = y; *sy = h - 1 - x; break;
    case 7: *sx = w - 1 - y; *sy = h - 1 - x; break;
    case 8: *sx = w - 1 - y; *sy = x; break;
    default: *sx = x; *sy = y; break;
    }
}

#endif
