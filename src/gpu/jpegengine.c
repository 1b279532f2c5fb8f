#include "gpu/jpegengine.h"
#include "cputime.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "color.h"
#include "gpu/orient.h"
#include "gridvid/gridvid.h"
#include "resample.h"
#include "threads.h"

/* The kernels of resample.cu as PTX, where nvcc was there at build time;
 * without them there is no engine, and every JPEG goes to libvips. */
#ifdef GV_HAVE_PTX
#include "resample.ptx.h"
static const char *const kernels_ptx = resample_ptx;
#else
static const char *const kernels_ptx = NULL;
#endif

/* The few CUDA driver and nvJPEG declarations used, written from their
 * documented ABI so that no CUDA header is needed to build. */
typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef unsigned long long CUdeviceptr;

typedef struct nvjpegHandle *nvjpegHandle_t;
typedef struct nvjpegJpegState *nvjpegJpegState_t;
typedef struct nvjpegJpegStream *nvjpegJpegStream_t;
typedef struct NvImage {
    unsigned char *channel[4];
    size_t pitch[4];
} NvImage;

enum {
    NVJPEG_STATUS_SUCCESS = 0,
    NVJPEG_STATUS_BAD_JPEG = 3,
    NVJPEG_STATUS_JPEG_NOT_SUPPORTED = 4,
    NVJPEG_STATUS_INCOMPLETE_BITSTREAM = 10,
    NVJPEG_BACKEND_HARDWARE = 3,
    NVJPEG_OUTPUT_RGBI = 5,
};

typedef struct Cuda {
    CUresult (*Init)(unsigned);
    CUresult (*DeviceGetCount)(int *);
    CUresult (*DeviceGet)(CUdevice *, int);
    CUresult (*DeviceGetName)(char *, int, CUdevice);
    CUresult (*PrimaryCtxRetain)(CUcontext *, CUdevice);
    CUresult (*PrimaryCtxSetFlags)(CUdevice, unsigned);
    CUresult (*PrimaryCtxRelease)(CUdevice);
    CUresult (*CtxSetCurrent)(CUcontext);
    CUresult (*StreamCreate)(CUstream *, unsigned);
    CUresult (*StreamSynchronize)(CUstream);
    CUresult (*StreamDestroy)(CUstream);
    CUresult (*MemAlloc)(CUdeviceptr *, size_t);
    CUresult (*MemFree)(CUdeviceptr);
    CUresult (*MemAllocHost)(void **, size_t);
    CUresult (*MemFreeHost)(void *);
    CUresult (*MemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
    CUresult (*MemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
    CUresult (*ModuleLoadData)(CUmodule *, const void *);
    CUresult (*ModuleUnload)(CUmodule);
    CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
    CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, CUstream, void **, void **);
    CUresult (*GetErrorString)(CUresult, const char **);
} Cuda;

typedef struct Nvjpeg {
    int (*CreateEx)(int, void *, void *, unsigned, nvjpegHandle_t *);
    int (*Destroy)(nvjpegHandle_t);
    int (*JpegStateCreate)(nvjpegHandle_t, nvjpegJpegState_t *);
    int (*JpegStateDestroy)(nvjpegJpegState_t);
    int (*DecodeBatchedInitialize)(nvjpegHandle_t, nvjpegJpegState_t, int, int, int);
    int (*DecodeBatched)(nvjpegHandle_t, nvjpegJpegState_t, const unsigned char *const *,
                         const size_t *, NvImage *, CUstream);
    int (*JpegStreamCreate)(nvjpegHandle_t, nvjpegJpegStream_t *);
    int (*JpegStreamDestroy)(nvjpegJpegStream_t);
    int (*JpegStreamParseHeader)(nvjpegHandle_t, const unsigned char *, size_t,
                                 nvjpegJpegStream_t);
    int (*DecodeBatchedSupported)(nvjpegHandle_t, nvjpegJpegStream_t, int *);
} Nvjpeg;

typedef struct Sym {
    const char *name;
    size_t off;
} Sym;

#define CU(f, name) { name, offsetof(Cuda, f) }
static const Sym cuda_syms[] = {
    CU(Init, "cuInit"),
    CU(DeviceGetCount, "cuDeviceGetCount"),
    CU(DeviceGet, "cuDeviceGet"),
    CU(DeviceGetName, "cuDeviceGetName"),
    CU(PrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
    CU(PrimaryCtxSetFlags, "cuDevicePrimaryCtxSetFlags_v2"),
    CU(PrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"),
    CU(CtxSetCurrent, "cuCtxSetCurrent"),
    CU(StreamCreate, "cuStreamCreate"),
    CU(StreamSynchronize, "cuStreamSynchronize"),
    CU(StreamDestroy, "cuStreamDestroy_v2"),
    CU(MemAlloc, "cuMemAlloc_v2"),
    CU(MemFree, "cuMemFree_v2"),
    CU(MemAllocHost, "cuMemAllocHost_v2"),
    CU(MemFreeHost, "cuMemFreeHost"),
    CU(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
    CU(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"),
    CU(ModuleLoadData, "cuModuleLoadData"),
    CU(ModuleUnload, "cuModuleUnload"),
    CU(ModuleGetFunction, "cuModuleGetFunction"),
    CU(LaunchKernel, "cuLaunchKernel"),
    CU(GetErrorString, "cuGetErrorString"),
};

#define NJ(f, name) { name, offsetof(Nvjpeg, f) }
static const Sym nvjpeg_syms[] = {
    NJ(CreateEx, "nvjpegCreateEx"),
    NJ(Destroy, "nvjpegDestroy"),
    NJ(JpegStateCreate, "nvjpegJpegStateCreate"),
    NJ(JpegStateDestroy, "nvjpegJpegStateDestroy"),
    NJ(DecodeBatchedInitialize, "nvjpegDecodeBatchedInitialize"),
    NJ(DecodeBatched, "nvjpegDecodeBatched"),
    NJ(JpegStreamCreate, "nvjpegJpegStreamCreate"),
    NJ(JpegStreamDestroy, "nvjpegJpegStreamDestroy"),
    NJ(JpegStreamParseHeader, "nvjpegJpegStreamParseHeader"),
    NJ(DecodeBatchedSupported, "nvjpegDecodeBatchedSupported"),
};

/* Where the CUDA toolkit keeps libnvjpeg when no loader path names it. */
static const char *const nvjpeg_names[] = {
    "libnvjpeg.so.13",
    "libnvjpeg.so.12",
    "libnvjpeg.so.11",
    "libnvjpeg.so",
    "/usr/local/cuda/lib64/libnvjpeg.so.13",
    "/usr/local/cuda/lib64/libnvjpeg.so.12",
    "/usr/local/cuda/targets/x86_64-linux/lib/libnvjpeg.so.13",
    "/usr/local/cuda-13.0/targets/x86_64-linux/lib/libnvjpeg.so.13",
    "/usr/local/cuda/targets/sbsa-linux/lib/libnvjpeg.so.13",
};

/* Device memory, grown as needed. */
typedef struct Buf {
    CUdeviceptr p;
    size_t size;
} Buf;

struct GvJpegEngine {
    GvJpegEngineConfig cfg;
    Cuda cu;
    Nvjpeg nj;
    CUdevice dev;
    CUcontext ctx;
    CUstream stream;
    CUmodule mod;
    CUfunction across, down, to_tile;
    nvjpegHandle_t h;
    int own_h;      /* h is this engine's, not borrowed from the set's first */
    nvjpegJpegState_t state;
    nvjpegJpegStream_t js;
    int batch_size; /* the size the batched decoder was set up for; 0: none */
    int dead;
    char name[256];
    Buf image, tmp, filt, out, rgb, tables;
    int use_tables;
    uint8_t *host;  /* pinned: weights up, tiles down */
    size_t host_size;
    /* for --verbose: where the time of the batches went */
    int batches, files;
    double t_decode, t_scale;
    double t_open[3]; /* when opening began, CUDA was ready, nvJPEG was */
};

#define ALIGN 256
static size_t align_up(size_t v)
{
    return (v + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static int load_syms(void *lib, const Sym *syms, size_t n, void *table, const char **missing)
{
    for (size_t i = 0; i < n; i++) {
        void *const p = dlsym(lib, syms[i].name);
        if (!p) {
            *missing = syms[i].name;
            return -ENODEV;
        }
        /* dlsym returns void *; memcpy keeps ISO C quiet about turning it
         * into a function pointer, which POSIX guarantees. */
        memcpy((char *)table + syms[i].off, &p, sizeof(p));
    }
    return 0;
}

static const char *cu_error(const GvJpegEngine *e, CUresult r)
{
    const char *s = NULL;
    if (e->cu.GetErrorString)
        e->cu.GetErrorString(r, &s);
    return s ? s : "unknown CUDA error";
}

/* Logs a failed CUDA call at info level (--verbose) and says GV_ERR_GPU. */
static int cu_fail(const GvJpegEngine *e, const char *what, CUresult r)
{
    gv_log(e->cfg.log, GV_LOG_INFO, "JPEG engine: %s failed: %s", what, cu_error(e, r));
    return GV_ERR_GPU;
}

#define CUCHECK(call, what)                                                                    \
    do {                                                                                       \
        const CUresult r_ = (call);                                                            \
        if (r_ != 0)                                                                           \
            return cu_fail(e, what, r_);                                                       \
    } while (0)

static int no_engine(const GvJpegEngine *e, const char *why, const char *detail)
{
    gv_log(e->cfg.log, GV_LOG_INFO, "JPEG engine: %s%s%s", why, detail ? ": " : "",
           detail ? detail : "");
    return -ENODEV;
}

static int contains_nocase(const char *hay, const char *needle)
{
    const size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return 1;
    return n == 0;
}

/* libcuda and libnvjpeg stay loaded for the life of the process: CUDA's
 * libraries do not support being unloaded. */
static int load_libraries(GvJpegEngine *e)
{
    const char *missing = NULL;
    void *const cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!cuda)
        return no_engine(e, "no CUDA driver", "libcuda.so.1");
    if (load_syms(cuda, cuda_syms, sizeof(cuda_syms) / sizeof(cuda_syms[0]), &e->cu, &missing))
        return no_engine(e, "CUDA driver without", missing);
    void *nvjpeg = NULL;
    for (size_t i = 0; !nvjpeg && i < sizeof(nvjpeg_names) / sizeof(nvjpeg_names[0]); i++)
        nvjpeg = dlopen(nvjpeg_names[i], RTLD_NOW | RTLD_LOCAL);
    if (!nvjpeg)
        return no_engine(e, "no nvJPEG library", nvjpeg_names[0]);
    if (load_syms(nvjpeg, nvjpeg_syms, sizeof(nvjpeg_syms) / sizeof(nvjpeg_syms[0]), &e->nj,
                  &missing))
        return no_engine(e, "nvJPEG library without", missing);
    return 0;
}

static int pick_device(GvJpegEngine *e)
{
    int count = 0;
    if (e->cu.Init(0) != 0 || e->cu.DeviceGetCount(&count) != 0 || count < 1)
        return no_engine(e, "no CUDA device", NULL);
    const char *const filter = e->cfg.filter;
    for (int i = 0; i < count; i++) {
        CUdevice d;
        char name[256] = "";
        if (e->cu.DeviceGet(&d, i) != 0 || e->cu.DeviceGetName(name, sizeof(name), d) != 0)
            continue;
        if (filter && *filter && !contains_nocase(name, filter))
            continue;
        e->dev = d;
        snprintf(e->name, sizeof(e->name), "%s", name);
        return 0;
    }
    return no_engine(e, "no CUDA device matches", filter);
}

/* Threads waiting for the GPU sleep rather than spin: the CPU time is
 * what the engine is there to save. Fails harmlessly where the context
 * is active already, with flags of its own. */
#define CU_CTX_SCHED_BLOCKING_SYNC 0x04

/*
 * The engine's context, decoder state, stream, kernels and tables. The
 * nvJPEG handle is the first engine's where there is one (shared, as
 * nvJPEG allows, with a state for each thread): making one takes most of
 * a second, and two at once took each of them longer.
 */
static int open_device(GvJpegEngine *e, const GvJpegEngine *first)
{
    e->cu.PrimaryCtxSetFlags(e->dev, CU_CTX_SCHED_BLOCKING_SYNC);
    CUCHECK(e->cu.PrimaryCtxRetain(&e->ctx, e->dev), "cuDevicePrimaryCtxRetain");
    CUCHECK(e->cu.CtxSetCurrent(e->ctx), "cuCtxSetCurrent");
    e->t_open[1] = gv_now_s();
    if (first) {
        e->h = first->h;
    } else {
        const int st = e->nj.CreateEx(NVJPEG_BACKEND_HARDWARE, NULL, NULL, 0, &e->h);
        if (st != NVJPEG_STATUS_SUCCESS) {
            e->h = NULL;
            char detail[64];
            snprintf(detail, sizeof(detail), "nvjpegCreateEx: status %d", st);
            return no_engine(e, "no hardware JPEG decoder on this GPU", detail);
        }
        e->own_h = 1;
    }
    if (e->nj.JpegStateCreate(e->h, &e->state) != 0 || e->nj.JpegStreamCreate(e->h, &e->js) != 0)
        return no_engine(e, "nvJPEG state", NULL);
    CUCHECK(e->cu.StreamCreate(&e->stream, 0), "cuStreamCreate");
    e->t_open[2] = gv_now_s();
    CUCHECK(e->cu.ModuleLoadData(&e->mod, kernels_ptx), "loading the resampling kernels");
    CUCHECK(e->cu.ModuleGetFunction(&e->across, e->mod, "gv_resample_across"), "kernel lookup");
    CUCHECK(e->cu.ModuleGetFunction(&e->down, e->mod, "gv_resample_down"), "kernel lookup");
    CUCHECK(e->cu.ModuleGetFunction(&e->to_tile, e->mod, "gv_rgb_to_tile"), "kernel lookup");
    /* the tables of gv_rgb_to_yuv_n(), for the same conversion on the GPU */
    int32_t t[3][3][256];
    e->use_tables = gv_rgb_to_yuv_tables(t);
    CUCHECK(e->cu.MemAlloc(&e->tables.p, sizeof(t)), "cuMemAlloc");
    e->tables.size = sizeof(t);
    CUCHECK(e->cu.MemcpyHtoDAsync(e->tables.p, t, sizeof(t), e->stream), "upload of the tables");
    CUCHECK(e->cu.StreamSynchronize(e->stream), "upload of the tables");
    return 0;
}

/* An engine; with first, one more on first's device and nvJPEG handle. */
static int engine_open(GvJpegEngine **out, const GvJpegEngineConfig *cfg,
                       const GvJpegEngine *first)
{
    *out = NULL;
    GvJpegEngine *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->cfg = *cfg;
    if (e->cfg.max_batch < 1)
        e->cfg.max_batch = 1;
    int ret;
    e->t_open[0] = gv_now_s();
    if (first) {
        e->cu = first->cu;
        e->nj = first->nj;
        e->dev = first->dev;
        snprintf(e->name, sizeof(e->name), "%s", first->name);
        if ((ret = open_device(e, first)) != 0 && ret != -ENODEV)
            ret = -ENODEV;
    } else if (!kernels_ptx) {
        ret = no_engine(e, "built without its kernels (no nvcc at build time)", NULL);
    } else if ((ret = load_libraries(e)) == 0 && (ret = pick_device(e)) == 0 &&
               (ret = open_device(e, NULL)) != 0 && ret != -ENODEV) {
        ret = -ENODEV;
    }
    if (ret < 0) {
        gv_jpeg_engine_close(&e);
        return ret;
    }
    gv_log(cfg->log, GV_LOG_INFO,
           "JPEG engine: nvJPEG hardware decoder on %s, opened in %.2f s (CUDA %.2f s, "
           "nvJPEG %.2f s, the kernels %.2f s)",
           e->name, gv_now_s() - e->t_open[0], e->t_open[1] - e->t_open[0],
           e->t_open[2] - e->t_open[1], gv_now_s() - e->t_open[2]);
    *out = e;
    return 0;
}

int gv_jpeg_engine_open(GvJpegEngine **out, const GvJpegEngineConfig *cfg)
{
    return engine_open(out, cfg, NULL);
}

static void buf_free(GvJpegEngine *e, Buf *b)
{
    if (b->p)
        e->cu.MemFree(b->p);
    b->p = 0;
    b->size = 0;
}

static int buf_grow(GvJpegEngine *e, Buf *b, size_t size)
{
    if (size <= b->size)
        return 0;
    buf_free(e, b);
    size = align_up(size + size / 4);
    CUCHECK(e->cu.MemAlloc(&b->p, size), "cuMemAlloc");
    b->size = size;
    return 0;
}

static int host_grow(GvJpegEngine *e, size_t size)
{
    if (size <= e->host_size)
        return 0;
    if (e->host)
        e->cu.MemFreeHost(e->host);
    e->host = NULL;
    e->host_size = 0;
    size = align_up(size + size / 4);
    void *p = NULL;
    CUCHECK(e->cu.MemAllocHost(&p, size), "cuMemAllocHost");
    e->host = p;
    e->host_size = size;
    return 0;
}

void gv_jpeg_engine_close(GvJpegEngine **pe)
{
    GvJpegEngine *const e = *pe;
    if (!e)
        return;
    if (e->batches > 0)
        gv_log(e->cfg.log, GV_LOG_INFO,
               "JPEG engine: %d files in %d batches; decoding %.2f s, scaling and copying %.2f s",
               e->files, e->batches, e->t_decode, e->t_scale);
    if (e->ctx) {
        e->cu.CtxSetCurrent(e->ctx);
        if (e->stream)
            e->cu.StreamSynchronize(e->stream);
        buf_free(e, &e->image);
        buf_free(e, &e->tmp);
        buf_free(e, &e->filt);
        buf_free(e, &e->out);
        buf_free(e, &e->rgb);
        buf_free(e, &e->tables);
        if (e->host)
            e->cu.MemFreeHost(e->host);
        if (e->mod)
            e->cu.ModuleUnload(e->mod);
        if (e->js)
            e->nj.JpegStreamDestroy(e->js);
        if (e->state)
            e->nj.JpegStateDestroy(e->state);
        if (e->h && e->own_h)
            e->nj.Destroy(e->h);
        if (e->stream)
            e->cu.StreamDestroy(e->stream);
        e->cu.PrimaryCtxRelease(e->dev);
    }
    free(e);
    *pe = NULL;
}

const char *gv_jpeg_engine_device(const GvJpegEngine *e)
{
    return e->name;
}

/* ---- one batch ---- */

static size_t image_pitch(const GvJpegJob *j)
{
    return align_up((size_t)j->width * 3);
}

/* Bytes of the weights and first indices of one job's two filters. */
static size_t filter_bytes(const GvFilter *fx, int dw, const GvFilter *fy, int dh)
{
    return align_up((size_t)dw * fx->n * 4) + align_up((size_t)dw * 4) +
           align_up((size_t)dh * fy->n * 4) + align_up((size_t)dh * 4);
}

/* Packs one filter's weights and first indices at host + off. */
static size_t pack_filter(uint8_t *host, size_t off, const GvFilter *f, int out)
{
    const size_t wb = (size_t)out * f->n * 4;
    memcpy(host + off, f->w, wb);
    off += align_up(wb);
    memcpy(host + off, f->first, (size_t)out * 4);
    return off + align_up((size_t)out * 4);
}

typedef struct Batch {
    GvJpegJob **jobs;
    int n;
    GvFilter *fx, *fy;
    size_t *filt_off, *out_off;
} Batch;

static int launch(GvJpegEngine *e, CUfunction f, int gx, int gy, void **args)
{
    CUCHECK(e->cu.LaunchKernel(f, (unsigned)(gx + 31) / 32, (unsigned)(gy + 7) / 8, 1, 32, 8, 1,
                               0, e->stream, args, NULL),
            "cuLaunchKernel");
    return 0;
}

/* Resamples job i of the batch from its decoded image at src. */
static int scale_job(GvJpegEngine *e, const Batch *b, int i, CUdeviceptr src)
{
    GvJpegJob *const j = b->jobs[i];
    const GvFilter *const fx = &b->fx[i], *const fy = &b->fy[i];
    CUdeviceptr wx = e->filt.p + b->filt_off[i];
    CUdeviceptr firstx = wx + align_up((size_t)j->dw * fx->n * 4);
    CUdeviceptr wy = firstx + align_up((size_t)j->dw * 4);
    CUdeviceptr firsty = wy + align_up((size_t)j->dh * fy->n * 4);
    CUdeviceptr tmp = e->tmp.p, out = e->out.p + b->out_off[i];
    CUdeviceptr dst = j->planes ? e->rgb.p : out, tables = e->tables.p;
    unsigned long long pitch = image_pitch(j);
    int nx = fx->n, ny = fy->n;
    void *across[] = { &src,       &pitch,    &j->width,  &j->height, &j->orientation,
                       &j->crop_x, &j->crop_y, &j->crop_w, &j->crop_h, &firstx,
                       &wx,        &nx,       &j->dw,     &tmp };
    void *down[] = { &tmp, &j->crop_h, &j->dw, &firsty, &wy, &ny, &j->dh, &dst };
    int n = j->dw * j->dh;
    void *to_tile[] = { &dst, &n, &tables, &e->use_tables, &out };
    int ret;
    if ((ret = launch(e, e->across, j->dw, j->crop_h, across)) < 0 ||
        (ret = launch(e, e->down, j->dw * 3, j->dh, down)) < 0 || !j->planes)
        return ret;
    /* one line of 256 threads per block, as many blocks as it takes */
    CUCHECK(e->cu.LaunchKernel(e->to_tile, (unsigned)(n + 255) / 256, 1, 1, 256, 1, 1, 0,
                               e->stream, to_tile, NULL),
            "cuLaunchKernel");
    return 0;
}

/* Filters, host and device room for batch b. */
static int prepare_batch(GvJpegEngine *e, Batch *b, size_t *image_bytes)
{
    size_t filt = 0, out = 0, tmp = 0, img = 0, rgb = 0;
    for (int i = 0; i < b->n; i++) {
        GvJpegJob *const j = b->jobs[i];
        if (gv_filter_init(&b->fx[i], j->crop_w, j->dw) < 0 ||
            gv_filter_init(&b->fy[i], j->crop_h, j->dh) < 0)
            return -ENOMEM;
        b->filt_off[i] = filt;
        filt += filter_bytes(&b->fx[i], j->dw, &b->fy[i], j->dh);
        b->out_off[i] = out;
        out += align_up((size_t)j->dw * j->dh * 3);
        const size_t t = (size_t)j->crop_h * j->dw * 3 * sizeof(float);
        tmp = t > tmp ? t : tmp;
        rgb = (size_t)j->dw * j->dh * 3 > rgb ? (size_t)j->dw * j->dh * 3 : rgb;
        img += image_pitch(b->jobs[i]) * (size_t)j->height;
    }
    *image_bytes = img;
    int ret;
    if ((ret = buf_grow(e, &e->image, img)) < 0 || (ret = buf_grow(e, &e->tmp, tmp)) < 0 ||
        (ret = buf_grow(e, &e->filt, filt)) < 0 || (ret = buf_grow(e, &e->out, out)) < 0 ||
        (ret = buf_grow(e, &e->rgb, rgb)) < 0 ||
        (ret = host_grow(e, filt > out ? filt : out)) < 0)
        return ret;
    for (int i = 0; i < b->n; i++) {
        size_t off = pack_filter(e->host, b->filt_off[i], &b->fx[i], b->jobs[i]->dw);
        pack_filter(e->host, off, &b->fy[i], b->jobs[i]->dh);
    }
    CUCHECK(e->cu.MemcpyHtoDAsync(e->filt.p, e->host, filt, e->stream), "upload of the weights");
    return 0;
}

/* Decodes the batch's files into e->image; > 0 when nvJPEG refused the
 * batch (a file it could not decode after all). */
static int decode_batch(GvJpegEngine *e, const Batch *b, NvImage *imgs,
                        const unsigned char **data, size_t *lens)
{
    size_t off = 0;
    for (int i = 0; i < b->n; i++) {
        memset(&imgs[i], 0, sizeof(imgs[i]));
        imgs[i].channel[0] = (unsigned char *)(uintptr_t)(e->image.p + off);
        imgs[i].pitch[0] = image_pitch(b->jobs[i]);
        off += imgs[i].pitch[0] * (size_t)b->jobs[i]->height;
        data[i] = b->jobs[i]->data;
        lens[i] = b->jobs[i]->len;
    }
    int st;
    if (e->batch_size != b->n) {
        e->batch_size = 0;
        if ((st = e->nj.DecodeBatchedInitialize(e->h, e->state, b->n, 1, NVJPEG_OUTPUT_RGBI)))
            return gv_log(e->cfg.log, GV_LOG_INFO, "JPEG engine: batch set-up: status %d", st),
                   GV_ERR_GPU;
        e->batch_size = b->n;
    }
    st = e->nj.DecodeBatched(e->h, e->state, data, lens, imgs, e->stream);
    if (st == NVJPEG_STATUS_SUCCESS)
        return 0;
    /* nvJPEG asks for a new set-up after a failed batch */
    e->batch_size = 0;
    gv_log(e->cfg.log, GV_LOG_INFO, "JPEG engine: a batch of %d refused (status %d)", b->n, st);
    if (st == NVJPEG_STATUS_BAD_JPEG || st == NVJPEG_STATUS_JPEG_NOT_SUPPORTED ||
        st == NVJPEG_STATUS_INCOMPLETE_BITSTREAM)
        return 1;
    return GV_ERR_GPU;
}

static int run_batch(GvJpegEngine *e, Batch *b)
{
    const int n = b->n;
    NvImage *const imgs = calloc((size_t)n, sizeof(*imgs));
    const unsigned char **const data = calloc((size_t)n, sizeof(*data));
    size_t *const lens = calloc((size_t)n, sizeof(*lens));
    size_t image_bytes;
    int ret = -ENOMEM;
    double t0 = gv_now_s();
    if (!imgs || !data || !lens || (ret = prepare_batch(e, b, &image_bytes)) < 0 ||
        (ret = decode_batch(e, b, imgs, data, lens)) != 0)
        goto end;
    const double t1 = gv_now_s();
    for (int i = 0; i < n && ret == 0; i++)
        ret = scale_job(e, b, i, (CUdeviceptr)(uintptr_t)imgs[i].channel[0]);
    if (ret < 0)
        goto end;
    const size_t last = b->out_off[n - 1] + (size_t)b->jobs[n - 1]->dw * b->jobs[n - 1]->dh * 3;
    CUresult r = e->cu.MemcpyDtoHAsync(e->host, e->out.p, last, e->stream);
    if (r == 0)
        r = e->cu.StreamSynchronize(e->stream);
    if (r != 0) {
        ret = cu_fail(e, "running a batch", r);
        goto end;
    }
    for (int i = 0; i < n; i++) {
        GvJpegJob *const j = b->jobs[i];
        memcpy(j->out, e->host + b->out_off[i], (size_t)j->dw * j->dh * 3);
        j->status = 0;
    }
    e->t_decode += t1 - t0;
    e->t_scale += gv_now_s() - t1;
    e->batches++;
    e->files += n;
end:
    free(imgs);
    free(data);
    free(lens);
    return ret;
}

/* Whether nvJPEG's own parser accepts job j for batched hardware decoding. */
static int supported(GvJpegEngine *e, const GvJpegJob *j)
{
    int no = 1;
    return e->nj.JpegStreamParseHeader(e->h, j->data, j->len, e->js) == 0 &&
           e->nj.DecodeBatchedSupported(e->h, e->js, &no) == 0 && no == 0;
}

static int job_ok(const GvJpegJob *j)
{
    const int upright_w = j->orientation >= 5 ? j->height : j->width;
    const int upright_h = j->orientation >= 5 ? j->width : j->height;
    return j->data && j->out && j->width > 0 && j->height > 0 && j->dw > 0 && j->dh > 0 &&
           j->crop_x >= 0 && j->crop_y >= 0 && j->crop_w >= j->dw && j->crop_h >= j->dh &&
           j->crop_x + j->crop_w <= upright_w && j->crop_y + j->crop_h <= upright_h;
}

/* Runs the jobs in batches that fit max_batch and the memory budget. */
static int run_batches(GvJpegEngine *e, GvJpegJob **ok, int n_ok, Batch *b)
{
    for (int i = 0; i < n_ok;) {
        size_t bytes = 0;
        b->n = 0;
        while (i < n_ok && b->n < e->cfg.max_batch) {
            const size_t need = image_pitch(ok[i]) * (size_t)ok[i]->height;
            if (b->n > 0 && (int64_t)(bytes + need) > e->cfg.memory_bytes)
                break;
            bytes += need;
            b->jobs[b->n++] = ok[i++];
        }
        const int ret = run_batch(e, b);
        for (int k = 0; k < b->n; k++) {
            gv_filter_free(&b->fx[k]);
            gv_filter_free(&b->fy[k]);
        }
        if (ret < 0)
            return ret;
    }
    return 0;
}

int gv_jpeg_engine_run(GvJpegEngine *e, GvJpegJob *jobs, int n)
{
    for (int i = 0; i < n; i++)
        jobs[i].status = -ENOTSUP;
    if (e->dead)
        return GV_ERR_GPU;
    if (e->cu.CtxSetCurrent(e->ctx) != 0)
        return e->dead = 1, GV_ERR_GPU;
    GvJpegJob **const ok = calloc((size_t)n + 1, sizeof(*ok));
    Batch b = { .jobs = calloc((size_t)n + 1, sizeof(*b.jobs)),
                .fx = calloc((size_t)n + 1, sizeof(*b.fx)),
                .fy = calloc((size_t)n + 1, sizeof(*b.fy)),
                .filt_off = calloc((size_t)n + 1, sizeof(size_t)),
                .out_off = calloc((size_t)n + 1, sizeof(size_t)) };
    int ret = -ENOMEM, n_ok = 0;
    if (ok && b.jobs && b.fx && b.fy && b.filt_off && b.out_off) {
        for (int i = 0; i < n; i++)
            if (job_ok(&jobs[i]) && supported(e, &jobs[i]))
                ok[n_ok++] = &jobs[i];
        ret = run_batches(e, ok, n_ok, &b);
    }
    if (ret == GV_ERR_GPU)
        e->dead = 1;
    free(ok);
    free(b.jobs);
    free(b.fx);
    free(b.fy);
    free(b.filt_off);
    free(b.out_off);
    return ret < 0 ? ret : 0;
}

/* ---- engines opening in the background ---- */

typedef struct Opening {
    GvJpegEngineSet *set;
    int i;
} Opening;

struct GvJpegEngineSet {
    GvJpegEngineConfig cfg;
    int n;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t threads[GV_JPEG_ENGINES_MAX];
    int started[GV_JPEG_ENGINES_MAX];
    int done[GV_JPEG_ENGINES_MAX]; /* engines[i] is final */
    Opening op[GV_JPEG_ENGINES_MAX];
    GvJpegEngine *engines[GV_JPEG_ENGINES_MAX];
};

/* The first engine opens the device and nvJPEG; the others then add a
 * state, stream and buffers each to the same handle. */
static void *opening_main(void *arg)
{
    gv_thread_name("gv-jpeg-open");
    const Opening *const op = arg;
    GvJpegEngineSet *const s = op->set;
    GvJpegEngine *e = NULL;
    if (op->i == 0) {
        engine_open(&e, &s->cfg, NULL);
    } else {
        const GvJpegEngine *const first = gv_jpeg_engines_get(s, 0);
        if (first)
            engine_open(&e, &s->cfg, first);
    }
    pthread_mutex_lock(&s->lock);
    s->engines[op->i] = e;
    s->done[op->i] = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int gv_jpeg_engines_start(GvJpegEngineSet **out, const GvJpegEngineConfig *cfg, int n)
{
    *out = NULL;
    GvJpegEngineSet *const s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->n = n < 1 ? 1 : n > GV_JPEG_ENGINES_MAX ? GV_JPEG_ENGINES_MAX : n;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    /* the threads may finish before the loop does: done[] is theirs once
     * they start, and set here (under the lock) only for one that did not */
    for (int i = 0; i < s->n; i++) {
        s->op[i] = (Opening){ s, i };
        s->started[i] = pthread_create(&s->threads[i], NULL, opening_main, &s->op[i]) == 0;
        if (!s->started[i]) {
            pthread_mutex_lock(&s->lock);
            s->done[i] = 1;
            pthread_cond_broadcast(&s->cond);
            pthread_mutex_unlock(&s->lock);
        }
    }
    *out = s;
    return 0;
}

GvJpegEngine *gv_jpeg_engines_get(GvJpegEngineSet *s, int i)
{
    if (i < 0 || i >= s->n)
        return NULL;
    pthread_mutex_lock(&s->lock);
    while (!s->done[i])
        pthread_cond_wait(&s->cond, &s->lock);
    GvJpegEngine *const e = s->engines[i];
    pthread_mutex_unlock(&s->lock);
    return e;
}

int gv_jpeg_engines_wait(GvJpegEngineSet *s, GvJpegEngine **engines)
{
    for (int i = 0; i < s->n; i++)
        engines[i] = gv_jpeg_engines_get(s, i);
    return s->n;
}

void gv_jpeg_engines_close(GvJpegEngineSet **ps)
{
    GvJpegEngineSet *const s = *ps;
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        if (s->started[i])
            pthread_join(s->threads[i], NULL);
    /* the first engine's nvJPEG handle is the others': it goes last */
    for (int i = s->n - 1; i >= 0; i--)
        gv_jpeg_engine_close(&s->engines[i]);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
    *ps = NULL;
}

/* ---- CPU reference ---- */

int gv_jpeg_engine_reference(const uint8_t *rgb, int w, int h, int orientation, int crop_x,
                             int crop_y, int crop_w, int crop_h, uint8_t *dst, int dw, int dh)
{
    uint8_t *const crop = malloc((size_t)crop_w * crop_h * 3);
    if (!crop)
        return -ENOMEM;
    for (int y = 0; y < crop_h; y++)
        for (int x = 0; x < crop_w; x++) {
            int sx, sy;
            gv_stored_xy(orientation, w, h, crop_x + x, crop_y + y, &sx, &sy);
            memcpy(crop + ((size_t)y * crop_w + x) * 3, rgb + ((size_t)sy * w + sx) * 3, 3);
        }
    static const uint8_t black[3];
    const int ret = gv_resample(crop, crop_w, crop_h, 3, black, dst, dw, dh);
    free(crop);
    return ret;
}
