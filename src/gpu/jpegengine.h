/*
 * JPEG decoding on the GPU's JPEG engine: nvJPEG's hardware backend (the
 * dedicated decoders of A100, H100 and H200 class GPUs), then the tile's
 * crop and Lanczos-3 on the GPU (resample.cu), so that only the finished
 * tile crosses to the host.
 *
 * libcuda and libnvjpeg are opened at run time: gridvid builds and runs
 * without CUDA, and then decodes every JPEG with libvips. The caller
 * (the tile store) decides which files come here (jpeginfo.h); a file the
 * engine still refuses goes back to libvips.
 *
 * Another engine (ImageIO on macOS, say) is another file with this
 * header's functions.
 *
 * Thread-safety: open, run and close from one thread; the device name
 * from any thread once open.
 */
#ifndef GV_GPU_JPEGENGINE_H
#define GV_GPU_JPEGENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

typedef struct GvJpegEngine GvJpegEngine;

typedef struct GvJpegEngineConfig {
    const char *filter;   /* device name filter, as for --gpu-device, or NULL */
    int64_t memory_bytes; /* device memory the decoded images of a batch may hold */
    int max_batch;        /* files decoded together, at most */
    const GvLog *log;
} GvJpegEngineConfig;

/*
 * Opens the engine. Returns 0; -ENODEV when there is none (no libcuda or
 * libnvjpeg, no device matching the filter, a GPU without JPEG engines,
 * or a build without the kernels), with the reason logged at info level;
 * or -ENOMEM.
 */
int gv_jpeg_engine_open(GvJpegEngine **out, const GvJpegEngineConfig *cfg);
void gv_jpeg_engine_close(GvJpegEngine **e);

/* The GPU's name. */
const char *gv_jpeg_engine_device(const GvJpegEngine *e);

/*
 * Engines opening in the background: opening CUDA takes a second or so,
 * which a run spends probing its inputs meanwhile. Each engine has its
 * own decoder state, stream and buffers, so that n threads keep the
 * GPU's JPEG decoders busy while others scale and copy; they share the
 * first engine's nvJPEG handle.
 */
#define GV_JPEG_ENGINES_MAX 4
typedef struct GvJpegEngineSet GvJpegEngineSet;

/* Starts opening n engines (1 to GV_JPEG_ENGINES_MAX), each on a thread of
 * its own. Returns 0 or -ENOMEM. */
int gv_jpeg_engines_start(GvJpegEngineSet **out, const GvJpegEngineConfig *cfg, int n);

/* Waits until engine i's opening ended: the engine, or NULL where it did
 * not open. Thread-safe; each engine may start work as soon as it is
 * open. */
GvJpegEngine *gv_jpeg_engines_get(GvJpegEngineSet *s, int i);

/* Waits until every opening ended; fills engines[0 .. n) (NULL where one
 * did not open) and returns n. Thread-safe. */
int gv_jpeg_engines_wait(GvJpegEngineSet *s, GvJpegEngine **engines);

/* Waits for the openings and closes every engine. */
void gv_jpeg_engines_close(GvJpegEngineSet **s);

/* One file to decode into one tile. */
typedef struct GvJpegJob {
    const uint8_t *data;  /* the whole file */
    size_t len;
    int width, height;    /* as stored, from the file's frame header */
    int orientation;      /* EXIF orientation, 1 to 8 */
    int crop_x, crop_y;   /* the crop window, in upright coordinates, */
    int crop_w, crop_h;   /* at least dw x dh */
    int dw, dh;           /* the tile */
    int planes;           /* 1: out gets the Y', Cb, Cr planes of a GvTile (as
                           * gv_rgb_to_yuv_n() converts); 0: packed RGB */
    uint8_t *out;         /* dw * dh * 3 bytes, written on success */
    int status;           /* out: 0, or < 0 when the engine refused it */
} GvJpegJob;

/*
 * Decodes and scales jobs[0..n), in batches that fit the memory budget.
 * Each job's status says whether it succeeded. Returns 0, or GV_ERR_GPU
 * when the GPU failed (logged at info level): every job not done has
 * status < 0, and later calls fail at once.
 */
int gv_jpeg_engine_run(GvJpegEngine *e, GvJpegJob *jobs, int n);

/*
 * The CPU reference of what the engine makes of decoded pixels: the
 * upright crop window of rgb (w x h, 3 bytes a pixel, rows packed, as
 * stored under EXIF orientation `orientation`) resampled by gv_resample()
 * to dw x dh. The engine's tiles equal it for the same decoded pixels.
 * Returns 0 or -ENOMEM.
 */
int gv_jpeg_engine_reference(const uint8_t *rgb, int w, int h, int orientation, int crop_x,
                             int crop_y, int crop_w, int crop_h, uint8_t *dst, int dw, int dh);

#endif
