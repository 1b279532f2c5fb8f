/*
 * Video encoding and muxing. The only module that includes libav*.
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
    const char *codec;       /* h264, hevc, av1, prores */
    int crf;
    const char *preset;
    int64_t bitrate;
    int threads;             /* encoder threads, 0 = automatic */
    int videotoolbox;
    const GvLog *log;
} GvEncodeParams;

typedef struct GvEncoder GvEncoder;

/* Returns 0 and sets *out, or GV_ERR_ENCODE / GV_ERR_SETTING / -errno. */
int gv_encoder_open(GvEncoder **out, const GvEncodeParams *p);

/*
 * Encode picture `index` (0, 1, 2, ... in order). The encoder takes the
 * planes without copying and calls release(opaque) once it no longer needs
 * them (possibly from inside this call, possibly later, at the latest in
 * gv_encoder_finish() or gv_encoder_close()). release is called exactly
 * once even when this function fails.
 */
int gv_encoder_send(GvEncoder *e, const GvPicture *pic, int64_t index,
                    void (*release)(void *opaque), void *opaque);

/* Flush, write the trailer (moov moved to the front) and close the file. */
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
