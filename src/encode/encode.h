/*
 * Video encoding and muxing, for the rest of gridvid; and libav's log for
 * src/clip.c. src/encode/ and src/clip.c are the only parts of gridvid
 * that include libav*; this header includes none.
 */
#ifndef GV_ENCODE_H
#define GV_ENCODE_H

#include <stdint.h>

#include "log.h"
#include "picture.h"

typedef struct GvEncodeParams {
    const char *path;        /* file to write (the temporary) */
    const char *name;        /* final output name; its extension picks the container */
    int width, height;
    int fps_num, fps_den;
    int64_t frames;          /* total frames that will be sent */
    const char *encoder;     /* "auto" or an FFmpeg encoder name */
    const char *codec;       /* a name of codecs.h, or NULL: the container's default */
    int crf;
    const char *preset;
    int64_t bitrate;
    int threads;             /* encoder threads, 0 = automatic */
    /* What libx264 may hold, in bytes; 0 = no bound. Its threads and
     * look-ahead are sized to fit (gv_x264_memory()); other encoders
     * choose their own. */
    int64_t memory_bytes;
    int videotoolbox;
    const GvLog *log;
    /* Audio file to mux in (any format FFmpeg reads), or NULL: re-encoded
     * to AAC (Opus in WebM), cut to the video's length with a fade-out and
     * padded with silence when shorter. */
    const char *audio;
    /* 1: only the software encoder of the codec, never a hardware one: for
     * the restart after GV_ENCODE_LOST. */
    int software;
    /* 1: pictures carry an alpha plane (a transparent background), kept
     * by the codecs that can: ProRes 4444, VP9, WebP; any other is a
     * GV_ERR_SETTING. Software encoders only. */
    int alpha;
    /* Test only: > 0 makes gv_encoder_send() fail with GV_ENCODE_LOST at
     * this frame index, whatever the encoder, as a hardware encoder that
     * dies mid-stream would. 0 = never. */
    int64_t fail_at_frame;
} GvEncodeParams;

/*
 * Internal code of gv_encoder_send() and gv_encoder_finish(): a hardware
 * encoder failed mid-stream (or the test switch fired). One warning has
 * been logged. The file is incomplete: close the encoder, delete the file
 * and encode again from frame 0 into a fresh one with .software = 1.
 * Never returned by the public API.
 */
#define GV_ENCODE_LOST (-10100)

typedef struct GvEncoder GvEncoder;

/* Returns 0 and sets *out, or GV_ERR_ENCODE / GV_ERR_SETTING / -errno.
 * GV_ERR_SETTING includes an audio file that cannot be read or has no audio
 * stream, found before the output file is created. */
int gv_encoder_open(GvEncoder **out, const GvEncodeParams *p);

/*
 * Encode picture `index` (0, 1, 2, ... in order). The encoder takes the
 * planes without copying and calls release(opaque) once it no longer needs
 * them (possibly from inside this call, possibly later, at the latest in
 * gv_encoder_finish() or gv_encoder_close()). release is called exactly
 * once even when this function fails.
 * Returns 0, GV_ENCODE_LOST (see above), GV_ERR_ENCODE, or -errno for a
 * file error (e.g. -ENOSPC).
 */
int gv_encoder_send(GvEncoder *e, const GvPicture *pic, int64_t index,
                    void (*release)(void *opaque), void *opaque);

/* Flush, write the trailer (moov moved to the front) and close the file.
 * Like gv_encoder_send(), may return GV_ENCODE_LOST. */
int gv_encoder_finish(GvEncoder *e);

/* Name of the encoder in use, e.g. "libx264". */
const char *gv_encoder_name(const GvEncoder *e);

/* Frees everything; a file not finished is left for the caller to remove. */
void gv_encoder_close(GvEncoder **e);

/*
 * libav's log for the other module that calls libav (src/clip.c). libav
 * logs through one process-wide callback: while a thread is between
 * gv_av_log_enter(s) and gv_av_log_leave(), libav's messages from that
 * thread go to s->log at debug level (nothing reaches stderr), and
 * s->error keeps the first error's text, which often says more than the
 * error code ("moov atom not found"). enter clears s->error, installs the
 * callback once per process and returns what leave restores.
 */
typedef struct GvAvLogScope {
    const GvLog *log;
    char error[256];
} GvAvLogScope;

GvAvLogScope *gv_av_log_enter(GvAvLogScope *s);
void gv_av_log_leave(GvAvLogScope *prev);

/*
 * Pictures of the caller's that the encoder may hold at once, the one
 * being sent included: a pool of pictures needs this many beyond those
 * the other stages hold, or the encoder could wait for a picture that
 * never comes. GV_ENCODER_PICTURES_COPIED for an encoder that copies
 * each picture as it takes it (libx264; any that gets a converted copy),
 * GV_ENCODER_PICTURES_KEPT for the others, which may keep them for
 * reference and look-ahead.
 */
#define GV_ENCODER_PICTURES_COPIED 2
#define GV_ENCODER_PICTURES_KEPT 64
int gv_encoder_pictures_held(const GvEncoder *e);

/* libx264's settings that decide its memory (src/encode/memory.c). */
typedef struct GvX264Memory {
    int threads;        /* frame threads */
    int lookahead;      /* rc-lookahead */
    int sync_lookahead; /* threaded look-ahead buffer; none with one thread */
    int bframes;
    int own;            /* 1: x264's own choices, so no option is set */
    int fits;           /* 0: over the budget even at the smallest */
    int64_t bytes;      /* the model's estimate */
} GvX264Memory;

/* The model's estimate of libx264's memory with m's settings at
 * width x height (m's own, fits and bytes are not read). */
int64_t gv_x264_bytes(int width, int height, const GvX264Memory *m);

/*
 * The largest settings whose estimate is at most budget bytes (0 or less:
 * no bound), starting from x264's own for preset (an x264 preset name;
 * NULL or unknown: faster) and threads (THREAD_COUNT; 0: x264's automatic
 * count for `cores` cores). x264's own when they fit (own = 1); else, one
 * step at a time until they fit: frame threads down to the cores,
 * look-ahead to 10, threads to 2, look-ahead to the B-frames, no
 * B-frames, look-ahead to none, threads to 1; fits = 0 when even that is
 * over. Pure: no I/O.
 */
GvX264Memory gv_x264_memory(int width, int height, const char *preset, int threads, int cores,
                            int64_t budget);
/* The cores x264 counts for its automatic thread count. */
int gv_x264_cores(void);

/* Checks codec/container/encoder combination (and alpha, for a
 * transparent background) before any work: 0 or GV_ERR_SETTING with a
 * message. */
int gv_encoder_check(const char *name, const char *codec, const char *encoder, int alpha,
                     char *err, size_t errlen);

#endif
