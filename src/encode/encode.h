/*
 * Video encoding and muxing, for the rest of gridvid. src/encode/ is the
 * only part of gridvid that includes libav*; this header includes none.
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
    int videotoolbox;
    const GvLog *log;
    /* Audio file to mux in (any format FFmpeg reads), or NULL: re-encoded
     * to AAC (Opus in WebM), cut to the video's length with a fade-out and
     * padded with silence when shorter. */
    const char *audio;
    /* 1: only the software encoder of the codec, never a hardware one: for
     * the restart after GV_ENCODE_LOST. */
    int software;
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

/* Checks codec/container/encoder combination before any work: 0 or
 * GV_ERR_SETTING with a message. */
int gv_encoder_check(const char *name, const char *codec, const char *encoder, char *err,
                     size_t errlen);

#endif
