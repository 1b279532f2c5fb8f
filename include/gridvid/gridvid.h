/*
 * gridvid: render a folder of images as a video of a sliding photo wall.
 *
 * Public API. Everything a program needs is declared here; nothing else
 * under src/ is part of the interface.
 *
 * Usage:
 *     GvSettings s;
 *     gv_default_settings(&s);
 *     s.inputs = paths; s.n_inputs = n; s.output = "wall.mp4";
 *     GvContext *ctx;
 *     if (gv_open(&ctx, &s) == 0) { int r = gv_run(ctx); gv_close(&ctx); }
 *
 * Errors are 0 or a negative code (GV_ERR_*, or a negated errno value);
 * gv_strerror() turns one into text. Details go to the log callback.
 */
#ifndef GRIDVID_GRIDVID_H
#define GRIDVID_GRIDVID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GV_VERSION_MAJOR 0
#define GV_VERSION_MINOR 1
#define GV_VERSION_PATCH 0

#if defined(_WIN32)
#  define GV_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define GV_API __attribute__((visibility("default")))
#else
#  define GV_API
#endif

/* Error codes beyond negated errno values. */
#define GV_ERR_SETTING   (-10001) /* a setting is invalid (CLI exit 2) */
#define GV_ERR_BAD_INPUT (-10002) /* bad input under strict, or no usable image (exit 3) */
#define GV_ERR_CANCELLED (-10003) /* gv_cancel() was called (exit 130) */
#define GV_ERR_DECODE    (-10004) /* an image could not be decoded */
#define GV_ERR_ENCODE    (-10005) /* the encoder or muxer failed (exit 1) */
#define GV_ERR_GPU       (-10006) /* no usable GPU where one was required (exit 1) */
#define GV_ERR_IO        (-10007) /* reading or writing a file failed (exit 1) */

typedef enum GvLayoutKind { GV_LAYOUT_ROWS = 0, GV_LAYOUT_COLUMNS } GvLayoutKind;

/* For columns, LEFT means up and RIGHT means down. */
typedef enum GvDirection {
    GV_DIRECTION_LEFT = 0,
    GV_DIRECTION_RIGHT,
    GV_DIRECTION_ALTERNATE,
} GvDirection;

typedef enum GvEasing {
    GV_EASING_LINEAR = 0,
    GV_EASING_EASE_IN_OUT,
    GV_EASING_EASE_IN,
    GV_EASING_EASE_OUT,
} GvEasing;

typedef enum GvCrop {
    GV_CROP_CENTER = 0,
    GV_CROP_TOP,
    GV_CROP_BOTTOM,
    GV_CROP_LEFT,
    GV_CROP_RIGHT,
    GV_CROP_ATTENTION,
    GV_CROP_ENTROPY,
} GvCrop;

typedef enum GvGpuMode {
    GV_GPU_AUTO = 0, /* GPU when one works, else CPU */
    GV_GPU_TRUE,     /* as auto, but falling back to the CPU is a warning */
    GV_GPU_FALSE,    /* never touch Vulkan */
    GV_GPU_REQUIRE,  /* fail when no GPU works */
} GvGpuMode;

typedef enum GvOrder {
    GV_ORDER_NAME = 0, /* natural sort of the path */
    GV_ORDER_MTIME,
    GV_ORDER_SHUFFLE,
    GV_ORDER_GIVEN,
} GvOrder;

typedef enum GvLogLevel {
    GV_LOG_ERROR = 0,
    GV_LOG_WARNING,
    GV_LOG_INFO,
    GV_LOG_DEBUG,
} GvLogLevel;

typedef enum GvPhase {
    GV_PHASE_SCAN = 0, /* listing and probing inputs */
    GV_PHASE_RENDER,   /* preparing tiles, compositing, encoding */
    GV_PHASE_FINISH,   /* flushing the encoder, finalising the file */
} GvPhase;

typedef struct GvProgress {
    GvPhase phase;
    int64_t frames_done;
    int64_t frames_total;
    int images_total;   /* usable images */
    int images_skipped; /* inputs skipped as bad */
    double elapsed_s;
} GvProgress;

/*
 * Called from the thread that runs gv_run(); the message has no trailing
 * newline. A bad input file is reported once at GV_LOG_WARNING as
 * "path: reason".
 */
typedef void (*GvLogCallback)(void *opaque, GvLogLevel level, const char *msg);
/* Called from the thread that runs gv_run(), at most a few times a second. */
typedef void (*GvProgressCallback)(void *opaque, const GvProgress *progress);
/* Called from the thread that runs gv_run() with one line of the plan
 * (no trailing newline). */
typedef void (*GvPlanCallback)(void *opaque, const char *line);

/*
 * Every string is borrowed: the caller keeps it alive until gv_close().
 * gv_default_settings() fills the defaults of SPEC.md; zero or NULL means
 * "unset" where noted.
 */
typedef struct GvSettings {
    const char *const *inputs; /* directories or files */
    int n_inputs;
    int demo;                  /* use generated images instead of inputs */
    int recursive;
    GvOrder order;
    uint64_t shuffle_seed;
    int strict;                /* first bad input is fatal */
    uint64_t max_pixels;       /* per image, default 200 000 000 */

    const char *output;        /* default "output.mp4" */
    const char *preview;       /* non-NULL: write this PNG of one frame, no video */
    double preview_at;         /* seconds, for preview */

    int width, height;         /* frame size, even */
    int fps_num, fps_den;      /* frame rate as a fraction */
    double duration;           /* seconds */
    int aspect_w, aspect_h;    /* tile aspect ratio */
    int tile_height;
    GvCrop crop;
    GvLayoutKind layout;
    int rows;                  /* 0 = as many as fill the frame */
    int gap;                   /* pixels */
    uint8_t background[3];     /* sRGB */
    GvDirection direction;
    GvEasing easing;
    double speed;              /* px/s, 0 = each row travels its own period */
    int motion_blur;           /* samples per frame, 1 = off */

    int threads;               /* 0 = one per core */
    int batch;                 /* images decoded at once, 0 = 2 x threads */
    GvGpuMode gpu;
    int gpu_memory_mib;
    const char *gpu_device;    /* substring of a Vulkan device name, or NULL */

    const char *encoder;       /* "auto" or an FFmpeg encoder name */
    const char *codec;         /* h264, hevc, av1, prores */
    int crf;
    const char *preset;
    int64_t bitrate;           /* bits/s, for hardware encoders */
    const char *audio;         /* audio file to mux in, or NULL */
    int stream;                /* 0: also keep a PNG sequence in temp_dir */
    const char *temp_dir;      /* NULL = system temp */
    int videotoolbox;

    GvLogCallback log;
    void *log_opaque;
    GvLogLevel log_level;      /* messages above this level are dropped */
    GvProgressCallback progress;
    void *progress_opaque;

    /* When set, gv_run() describes what it renders, one line per call:
     * inputs, frame, tiles, every lane, encoder (see gv_run). */
    GvPlanCallback plan;
    void *plan_opaque;
    int dry_run;               /* plan only: no pixel is decoded, nothing written */

    uint8_t reserved[64];      /* for later fields; keep zero */
} GvSettings;

typedef struct GvContext GvContext;

/* Summary of a finished run, filled by gv_get_summary(). */
typedef struct GvSummary {
    int images_used;
    int images_skipped;
    int64_t frames;
    double seconds;
    int64_t output_bytes;
    char encoder[64];       /* the encoder that produced the output */
    char compositor[64];    /* "cpu" or the GPU's name */
    uint8_t reserved[64];
} GvSummary;

/* Describes one settings key; see gv_setting_info(). */
typedef struct GvSettingInfo {
    const char *key;       /* SPEC.md key, e.g. "FPS" */
    const char *flag;      /* long flag, e.g. "--fps" */
    const char *arg;       /* argument placeholder, e.g. "N[/D]", or NULL for switches */
    const char *help;
    const char *def;       /* default as text */
} GvSettingInfo;

/* Version as (major << 16 | minor << 8 | patch); thread-safe. */
GV_API unsigned gv_version(void);
/* Version as text, e.g. "0.1.0"; static storage; thread-safe. */
GV_API const char *gv_version_string(void);
/* Text for an error code; static storage; thread-safe. */
GV_API const char *gv_strerror(int err);

/* Fill defaults. Thread-safe (touches only *s). */
GV_API void gv_default_settings(GvSettings *s);

/*
 * Number of settings keys, and a description of the i-th (NULL when out
 * of range). Static storage; thread-safe.
 */
GV_API int gv_setting_count(void);
GV_API const GvSettingInfo *gv_setting_info(int i);

/*
 * Set one setting by its key (case-sensitive, as in SPEC.md) from text.
 * String values are borrowed, not copied. On error returns GV_ERR_SETTING
 * and writes "KEY: 'value' is not valid: <what is accepted>" into err
 * (always NUL-terminated when errlen > 0); an unknown key returns -ENOENT.
 * Thread-safe for distinct s.
 */
GV_API int gv_settings_set(GvSettings *s, const char *key, const char *value,
                           char *err, size_t errlen);

/*
 * Parse .env text (KEY=value lines, '#' comments, optional 'export ',
 * single or double quotes). For each pair calls cb(opaque, key, value,
 * line); key and value are NUL-terminated in scratch storage valid only
 * during the call. Stops at the first non-zero return of cb and returns
 * it; returns GV_ERR_SETTING with a message in err on a malformed line.
 */
typedef int (*GvEnvCallback)(void *opaque, const char *key, const char *value, int line);
GV_API int gv_env_parse(const char *text, size_t len, GvEnvCallback cb, void *opaque,
                        char *err, size_t errlen);

/*
 * Check the settings as a whole (sizes even, ranges, combinations).
 * Returns 0 or GV_ERR_SETTING with a message in err. Thread-safe.
 */
GV_API int gv_settings_validate(const GvSettings *s, char *err, size_t errlen);

/*
 * Create a context. Validates and copies *s (strings stay borrowed).
 * Returns 0 and sets *out, or a negative code and sets *out to NULL.
 */
GV_API int gv_open(GvContext **out, const GvSettings *s);

/*
 * Render: scan inputs, prepare tiles, composite, encode, and move the
 * finished file into place (or write the preview). Blocks until done.
 * Returns 0, GV_ERR_CANCELLED after gv_cancel(), or another negative code;
 * on failure no output file is left behind and any earlier file at the
 * output path is untouched. One call per context.
 */
GV_API int gv_run(GvContext *ctx);

/*
 * Ask a running gv_run() to stop soon. Async-signal-safe and callable
 * from any thread.
 */
GV_API void gv_cancel(GvContext *ctx);

/* Fill *out with the summary of the last gv_run(). */
GV_API void gv_get_summary(const GvContext *ctx, GvSummary *out);

/* Free the context and set *ctx to NULL; NULL and *ctx == NULL are fine. */
GV_API void gv_close(GvContext **ctx);

#ifdef __cplusplus
}
#endif

#endif
