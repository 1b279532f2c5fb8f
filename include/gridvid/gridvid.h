/*
 * gridvid: render a folder of images as a video of a sliding photo wall.
 *
 * Public API. Everything a program needs is declared here; nothing else
 * under src/ is part of the interface, and the shared library exports
 * nothing but the GV_API functions below (tests/test_exports.sh). The
 * header needs only <stddef.h> and <stdint.h> and compiles as C99 and as
 * C++ (tests/test_header.sh). Build against it with
 * `pkg-config --cflags --libs gridvid`.
 *
 * Usage (examples/render.c is a complete program):
 *     GvSettings s;
 *     gv_default_settings(&s);
 *     s.inputs = paths; s.n_inputs = n; s.output = "wall.mp4";
 *     GvContext *ctx;
 *     if (gv_open(&ctx, &s) == 0) { int r = gv_run(ctx); gv_close(&ctx); }
 *
 * Errors. A function that can fail returns 0 on success or a negative
 * code: one of the GV_ERR_* below, or a negated errno value (-ENOMEM,
 * -EINVAL, -ENOENT, -EACCES, -ENOSPC, ...). gv_strerror() turns any code
 * into text; the details (which file, which key, what libvips, libav or
 * Vulkan said) go to the log callback, once, where the error happened.
 *
 * Ownership. The library never takes over memory the caller passes in.
 * The inputs array and every string in GvSettings are borrowed: they must
 * stay valid and unchanged until gv_close() of every context opened with
 * them. Strings the library returns (gv_version_string(), gv_strerror(),
 * gv_setting_info()) are static: never free them; they stay valid until
 * the program exits. A GvContext is made only by gv_open() and freed only
 * by gv_close().
 *
 * Threads. The functions that take no context are thread-safe, given that
 * no two threads write the same GvSettings at once. A context belongs to
 * one thread at a time; the one exception is gv_cancel(), which any
 * thread, or a signal handler, may call while gv_run() runs. Separate
 * contexts are independent and may run at the same time. gv_run() starts
 * its own threads and joins them all before it returns.
 *
 * Process-wide effects. The first gv_run() in a process starts libvips
 * (with its operation cache off and one thread per vips pipeline, since
 * gridvid runs many pipelines side by side), installs a libav log callback
 * that routes libav's messages to the context that caused them (messages
 * from elsewhere keep libav's default output, at error level), and may
 * load the Vulkan loader and create one Vulkan instance; these stay until
 * the process exits. A program that uses libvips or libav itself shares
 * these settings.
 */
#ifndef GRIDVID_GRIDVID_H
#define GRIDVID_GRIDVID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of this header. gv_version() returns the version of the
 * library actually loaded, which may be newer: compare the two to detect
 * a mismatch. The ABI may change between minor versions while the major
 * version is 0.
 */
#define GV_VERSION_MAJOR 0
#define GV_VERSION_MINOR 1
#define GV_VERSION_PATCH 0

/* Marks the exported functions; everything else in the library is
 * built with hidden visibility. */
#if defined(_WIN32)
#  define GV_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define GV_API __attribute__((visibility("default")))
#else
#  define GV_API
#endif

/*
 * Error codes beyond negated errno values. An exit status in a comment is
 * the one the gridvid command maps the code to.
 */
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

/* How a clip shorter than the time its tile is visible goes on. */
typedef enum GvClipLoop {
    GV_CLIP_LOOP = 0, /* from its start again */
    GV_CLIP_BOUNCE,   /* backwards to its start, then forwards again */
    GV_CLIP_HOLD,     /* its last frame stays */
} GvClipLoop;

/* When a clip's time starts. */
typedef enum GvClipStart {
    GV_CLIP_START_VISIBLE = 0, /* when its tile first shows */
    GV_CLIP_START_ZERO,        /* with the video: its time is the video's */
} GvClipStart;

/* What a Live Photo (a still with a movie of the same name beside it) shows. */
typedef enum GvLivePhotos {
    GV_LIVE_PLAY = 0, /* the movie, in place of the still */
    GV_LIVE_STILL,    /* the still; the movie is not used */
} GvLivePhotos;

/* The perspective camera the wall is seen through (CAMERA); TILT and TURN,
 * when not zero, replace the preset's angles. */
typedef enum GvCamera {
    GV_CAMERA_NONE = 0, /* flat, no perspective (unless TILT or TURN is set) */
    GV_CAMERA_TILTED,   /* tilt 25, turn -15 */
    GV_CAMERA_FLOOR,    /* tilt 60, turn 0 */
    GV_CAMERA_SIDE,     /* tilt 0, turn 35 */
} GvCamera;

/* What keeps text (TITLE, SUBTITLE, CAPTION) readable over the pictures. */
typedef enum GvTextStyle {
    GV_TEXT_PLATE = 0, /* a translucent dark plate behind it */
    GV_TEXT_SHADOW,    /* a soft shadow */
    GV_TEXT_NONE,      /* nothing */
} GvTextStyle;

/* Where the LOGO goes in the frame. */
typedef enum GvLogoPosition {
    GV_LOGO_BOTTOM_RIGHT = 0,
    GV_LOGO_BOTTOM_LEFT,
    GV_LOGO_TOP_RIGHT,
    GV_LOGO_TOP_LEFT,
    GV_LOGO_CENTER,
} GvLogoPosition;

/* How the wall's motion follows the beat of AUDIO (BEAT_SYNC); the video
 * still loops seamlessly. */
typedef enum GvBeatSync {
    GV_BEAT_OFF = 0, /* the motion ignores the music */
    GV_BEAT_STEPS,   /* rows move in eased steps that land on the beats */
    GV_BEAT_PULSE,   /* rows speed up in pulses on the beats */
} GvBeatSync;

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

/* Passed to the progress callback; valid only during the call. */
typedef struct GvProgress {
    GvPhase phase;
    int64_t frames_done;
    int64_t frames_total;
    int images_total;   /* usable images */
    int images_skipped; /* inputs skipped as bad */
    double elapsed_s;
} GvProgress;

/*
 * Receives the library's messages at or below GvSettings.log_level. msg
 * has no trailing newline and is valid only during the call. A bad input
 * file is reported once at GV_LOG_WARNING as "path: reason"; most fatal
 * errors are reported at GV_LOG_ERROR before the function returns their
 * code (running out of memory and cancellation may not be).
 * Called from the thread that calls gv_open() or gv_run(), and also from
 * threads gv_run() starts (the encoder thread), possibly at the same time
 * as another call: the callback must be thread-safe. Never called after
 * gv_run() has returned. It must not call back into the library with the
 * same context, except gv_cancel().
 */
typedef void (*GvLogCallback)(void *opaque, GvLogLevel level, const char *msg);
/*
 * Called from the thread that runs gv_run(): once as each phase starts
 * and, while rendering, at most about four times a second. Keep it short:
 * rendering waits for it. It may call gv_cancel().
 */
typedef void (*GvProgressCallback)(void *opaque, const GvProgress *progress);
/* Called from the thread that runs gv_run() with one line of the plan
 * (no trailing newline, valid only during the call). */
typedef void (*GvPlanCallback)(void *opaque, const char *line);

/*
 * Every setting of a run. Start from gv_default_settings() (which also
 * zeroes the reserved bytes), then set fields directly or by key with
 * gv_settings_set(). Every string and the inputs array are borrowed: the
 * caller keeps them alive and unchanged until gv_close(). Zero or NULL
 * means "unset" where noted. gv_open() copies the struct itself, so the
 * caller may reuse or free it after gv_open() returns.
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
    const char *codec;         /* h264, hevc, av1, prores, vp9, webp, gif; NULL = by extension */
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

    /* JPEG decoding on the GPU's JPEG engine (nvJPEG's hardware backend):
     * auto and true use it where there is one (true warns when there is
     * none), false never loads CUDA, require fails without one. */
    GvGpuMode gpu_decode;

    /* MiB the run's frames may hold (frame pool, tiles, the encoder's
     * threads and look-ahead), 0 = 2048. libx264's threads, look-ahead
     * and reference frames are sized to fit; below what they need at
     * their smallest, the run still renders, at the smallest. */
    int memory_limit_mib;

    /* Clips (videos, animated GIFs, Live Photos' movies) play in their
     * tiles: how a short one goes on, when its time starts, and what a
     * Live Photo shows. */
    GvClipLoop clip_loop;
    GvClipStart clip_start;
    GvLivePhotos live_photos;

    /* Ken Burns: each tile zooms by this percentage (0 = off, up to 50)
     * while it crosses the frame, in or out alternately, towards its
     * focus point; panoramas and tall images pan along their long side. */
    double ken_burns;

    /* The wall seen through a perspective camera: a preset, the wall's
     * turn about its horizontal axis (tilt, positive: its top leans away)
     * and vertical axis (turn, positive: its right side goes away) in
     * degrees from -80 to 80, a non-zero one replacing the preset's and
     * turning the camera on even with GV_CAMERA_NONE; the vertical field
     * of view in degrees (10 to 120); the distance from the wall (0.25 to
     * 8, 1 = the wall at the frame's centre at its own scale); and how
     * much the far wall fades into the background, in percent (100: fully
     * at four times the centre's distance). */
    GvCamera camera;
    double tilt;
    double turn;
    double fov;
    double distance;
    double depth_fade;

    /* Words and logo. A title card over the wall for its first
     * title_duration seconds (0.5 to 3600), fading in and out, with a
     * smaller subtitle under it (each NULL = none); the font family of all
     * text (a fontconfig name such as "DejaVu Serif"); the title's height
     * in pixels (0 to 2000, 0 = a twelfth of the frame height); the text's
     * colour (sRGB) and what keeps it readable. A caption in every tile:
     * NULL or "none" (none), "filename", "date", "sidecar" (the text of the .txt
     * file beside the image), or "exif:" and a field name libvips knows
     * (1 to 64 of A-Z a-z 0-9 _ -), such as "exif:Model"; its height in
     * pixels (0 to 1000, 0 = a twelfth of the tile height, at least 10).
     * An image drawn over the whole video (NULL = none), where, and its
     * width in percent of the frame's (1 to 100). */
    const char *title;
    const char *subtitle;
    double title_duration;
    const char *font;
    int title_size;
    uint8_t text_color[3];     /* sRGB */
    GvTextStyle text_style;
    const char *caption;
    int caption_size;
    const char *logo;
    GvLogoPosition logo_position;
    double logo_size;

    /* Music: the wall's motion follows the beat of audio (GV_BEAT_OFF:
     * it does not; anything else needs audio set). */
    GvBeatSync beat_sync;

    /* BACKGROUND=transparent: the background is see-through (the video
     * gets an alpha channel; background then holds black, which photos
     * with alpha of their own are flattened onto). Outputs that keep
     * alpha: ProRes 4444 (.mov, .mkv), VP9 (.webm, .mkv), WebP. */
    int transparent;

    uint8_t reserved[40];      /* for later fields; keep zero */
} GvSettings;

typedef struct GvContext GvContext;

/*
 * Summary of a run, filled by gv_get_summary(): all zero before gv_run()
 * has returned. After a failure only images_skipped and seconds are
 * filled in. Strings are NUL-terminated and empty where they do not apply
 * (no encoder for a preview).
 */
typedef struct GvSummary {
    int images_used;
    int images_skipped;
    int64_t frames;
    double seconds;
    int64_t output_bytes;
    char encoder[64];       /* the encoder that produced the output */
    char compositor[64];    /* "cpu" or the GPU's name */
    double cpu_s;           /* CPU time of the whole run, all threads */
    double encoder_cpu_s;   /* of which the encoder's (its threads'); -1 where unknown */
    int tiles_gpu_scaled;   /* images the GPU scaled (the CPU scaled the rest) */
    int tiles_engine;       /* images decoded on the GPU's JPEG engine */
    int tiles_engine_refused; /* JPEG files the engine could not take (libvips decoded them) */
    int clips;              /* of images_used, the clips that played in their tiles */
    int clips_hw;           /* of those, the clips a hardware decoder decoded */
    uint8_t reserved[28];
} GvSummary;

/* Describes one settings key; see gv_setting_info(). Every string is
 * static; arg is NULL for switches (booleans given without a value). */
typedef struct GvSettingInfo {
    const char *key;       /* SPEC.md key, e.g. "FPS" */
    const char *flag;      /* long flag, e.g. "--fps" */
    const char *arg;       /* argument placeholder, e.g. "N[/D]", or NULL for switches */
    const char *help;
    const char *def;       /* default as text */
} GvSettingInfo;

/* Returns the version of the loaded library as
 * (major << 16 | minor << 8 | patch). Cannot fail; thread-safe. */
GV_API unsigned gv_version(void);
/* Returns the version as text, e.g. "0.1.0"; never NULL, static, never to
 * be freed. Cannot fail; thread-safe. */
GV_API const char *gv_version_string(void);
/*
 * Returns text for any int: "success" for 0, a phrase for each GV_ERR_*,
 * the C library's strerror() text for a negated errno value, and
 * "unknown error" for anything else. Never NULL; static, never to be
 * freed. Cannot fail; thread-safe.
 */
GV_API const char *gv_strerror(int err);

/*
 * Overwrites every field of *s (not NULL) with the defaults of SPEC.md: no
 * inputs, no callbacks, reserved bytes zero; default strings point to
 * static storage. Cannot fail. Thread-safe (touches only *s).
 */
GV_API void gv_default_settings(GvSettings *s);

/*
 * gv_setting_count() returns the number of keys gv_settings_set() accepts
 * (more than 0). gv_setting_info(i) returns the description of key i for
 * 0 <= i < gv_setting_count(), in the order `gridvid --help` lists them,
 * or NULL when i is out of range. Static storage, never to be freed.
 * Cannot fail; thread-safe.
 */
GV_API int gv_setting_count(void);
GV_API const GvSettingInfo *gv_setting_info(int i);

/*
 * Set one setting by its key (case-sensitive, as in SPEC.md) from text.
 * String values are borrowed, not copied: keep value alive and unchanged
 * until gv_close(). An empty value unsets an optional string (AUDIO,
 * TEMP_DIR, GPU_DEVICE, PREVIEW, TITLE, SUBTITLE, LOGO). err may be NULL when errlen is 0; when
 * errlen > 0 it is always NUL-terminated, empty on success.
 * Returns:
 *   0               the setting is stored;
 *   GV_ERR_SETTING  value is NULL or not valid for key; err holds
 *                   "KEY: 'value' is not valid: <what is accepted>";
 *   -ENOENT         key is unknown; err names it;
 *   -EINVAL         s or key is NULL.
 * On failure *s is unchanged. Thread-safe for distinct s.
 */
GV_API int gv_settings_set(GvSettings *s, const char *key, const char *value,
                           char *err, size_t errlen);

/*
 * Parse .env text (KEY=value lines, '#' comments, optional 'export ',
 * single or double quotes, a leading UTF-8 BOM, CRLF line ends). text
 * need not be NUL-terminated; len is its length. For each pair, in order,
 * calls cb(opaque, key, value, line) with line counted from 1; key and
 * value are NUL-terminated in scratch storage valid only during the call
 * (copy them to keep them). Keys are not checked against the settings:
 * cb decides (gv_settings_set() does). err may be NULL when errlen is 0.
 * Returns:
 *   0               every line was parsed and cb returned 0 for each pair;
 *   non-zero        the first non-zero return of cb, passed through;
 *   GV_ERR_SETTING  a line is malformed; err holds ".env line N: ...";
 *                   cb has been called for the lines before it;
 *   -ENOMEM         out of memory;
 *   -EINVAL         cb is NULL, or text is NULL with len > 0.
 * Reentrant; thread-safe.
 */
typedef int (*GvEnvCallback)(void *opaque, const char *key, const char *value, int line);
GV_API int gv_env_parse(const char *text, size_t len, GvEnvCallback cb, void *opaque,
                        char *err, size_t errlen);

/*
 * Check the settings as a whole (inputs given, sizes even, ranges,
 * combinations), as gv_open() does; nothing is opened or read. Whether
 * the codec, encoder and container go together is checked by gv_run().
 * err may be NULL when errlen is 0.
 * Returns:
 *   0               valid;
 *   GV_ERR_SETTING  not valid; err names the key, the value and what is
 *                   accepted;
 *   -EINVAL         s is NULL.
 * Thread-safe while no thread writes *s.
 */
GV_API int gv_settings_validate(const GvSettings *s, char *err, size_t errlen);

/*
 * Create a context for one run. out and s must not be NULL. Validates
 * *s and copies the struct; its strings, inputs and callbacks' opaque
 * pointers stay borrowed until gv_close(). Nothing is read, decoded or
 * written yet.
 * Returns, with *out set to the new context on success and NULL otherwise:
 *   0               success;
 *   GV_ERR_SETTING  *s is not valid; the reason went to s->log at
 *                   GV_LOG_ERROR (gv_settings_validate() gives it as text);
 *   -ENOMEM         out of memory.
 * Thread-safe: contexts are independent.
 */
GV_API int gv_open(GvContext **out, const GvSettings *s);

/*
 * Render: scan inputs, prepare tiles, composite, encode, and move the
 * finished file into place (or write the preview). Blocks until done,
 * calling the log and progress callbacks on the way. One call per
 * context; call it from one thread, not at the same time as gv_close().
 * Returns:
 *   0                 the output (or preview) is complete at its path
 *                     (a dry run writes nothing: its plan went to the
 *                     plan callback);
 *   GV_ERR_CANCELLED  gv_cancel() was called (also before gv_run());
 *   GV_ERR_SETTING    codec, encoder and container do not go together,
 *                     the audio file cannot be used, or the output (or
 *                     preview) can never be written: it is a folder, a
 *                     device or FIFO, or one of the inputs (found before
 *                     any image is read);
 *   GV_ERR_BAD_INPUT  an input is missing, no input is a usable image,
 *                     or (with strict) an input is bad;
 *   GV_ERR_DECODE     libvips could not start, or a generated image
 *                     failed (a bad file is skipped, or is
 *                     GV_ERR_BAD_INPUT with strict);
 *   GV_ERR_GPU        gpu is GV_GPU_REQUIRE and no GPU works, or
 *                     gpu_decode is GV_GPU_REQUIRE and no JPEG engine opens;
 *   GV_ERR_ENCODE     the encoder or muxer failed;
 *   GV_ERR_IO         a frame or the preview could not be written;
 *   -errno            the system refused: -EACCES, -EROFS or -ENOENT for
 *                     the output's directory (found before any image is
 *                     read), -ENOSPC, -EDQUOT, -EFBIG, -ENOMEM, -EAGAIN
 *                     (no threads), ...;
 *   -EINVAL           ctx is NULL, or gv_run() already ran on it.
 * On failure no output file is left behind and any earlier file at the
 * output path is untouched. Past a file-size limit (RLIMIT_FSIZE) the
 * system sends SIGXFSZ, which kills the process unless it is ignored or
 * handled: a caller that wants -EFBIG instead ignores it (the library
 * leaves signal dispositions to the caller). While it runs, the temporary
 * beside the output holds an advisory lock; a run to the same output
 * removes the temporaries whose lock is free, left by runs that died.
 */
GV_API int gv_run(GvContext *ctx);

/*
 * Ask gv_run() on ctx to stop: it returns GV_ERR_CANCELLED within about a
 * tenth of a second plus the time to finish the images being decoded,
 * having removed its temporary files. Called before gv_run(), the run
 * stops before its first frame. Does nothing when ctx is NULL; calling it
 * again does nothing more. Async-signal-safe and callable from any
 * thread, but only while ctx is open: a signal handler must not reach a
 * context that gv_close() is freeing. examples/render.c shows one way:
 * only one thread takes the signal, and only while the context is open.
 */
GV_API void gv_cancel(GvContext *ctx);

/*
 * Fill *out (not NULL) with the summary of gv_run() on ctx, once gv_run()
 * has returned; all zero before, or when ctx is NULL. Call it from the
 * thread that ran gv_run(), or after that thread is joined.
 */
GV_API void gv_get_summary(const GvContext *ctx, GvSummary *out);

/*
 * Free the context and set *ctx to NULL; NULL and *ctx == NULL are fine.
 * Not while gv_run() or gv_cancel() on it may still be running. Borrowed
 * strings may be freed after it returns.
 */
GV_API void gv_close(GvContext **ctx);

#ifdef __cplusplus
}
#endif

#endif
