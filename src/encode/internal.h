/*
 * What the files of src/encode/ share: the encoder's state, the codec and
 * container tables' types, and the helpers each file offers the others.
 * Private to src/encode/, the only part of gridvid that includes libav*.
 *
 *   avlog.c   libav's log routed to the encoder's GvLog; libav errors translated
 *   choose.c  container, codec and encoder from the settings
 *   video.c   the video encoder: opening it, pictures in, packets out
 *   audio.c   the soundtrack: decoded, resampled, faded, re-encoded
 *   mux.c     the output file and the encoder's life: open, finish, close
 *   gif.c     animated GIF: the frames kept, one palette for the loop
 */
#ifndef GV_ENCODE_INTERNAL_H
#define GV_ENCODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/buffer.h>
#include <libavutil/frame.h>

#include "codecs.h"
#include "encode.h"

typedef enum HwKind {
    HW_NONE = 0,
    HW_VIDEOTOOLBOX,
    HW_NVENC,
    HW_VAAPI,
    HW_QSV,
    HW_OTHER, /* another hardware wrapper, named explicitly: no device set up */
} HwKind;

typedef struct CodecInfo {
    const char *name; /* as CODEC spells it: codecs.h */
    enum AVCodecID id;
    const char *software[2]; /* first available one is used */
    /* in the order auto tries them: VideoToolbox, NVENC, VAAPI, Quick Sync */
    const char *hardware[4];
} CodecInfo;

typedef struct Container {
    const char *ext;
    const char *muxer;
    int n_codecs;
    GvCodec codecs[GV_CODEC_COUNT]; /* what it may hold; the first is the default */
    int isobmff;                    /* MP4/MOV: moov to the front, HEVC tagged hvc1 */
} Container;

typedef struct Choice {
    const Container *ct;
    const CodecInfo *ci;
    const AVCodec *named; /* the encoder asked for by name, NULL for auto */
} Choice;

enum { ST_OPEN = 0, ST_FINISHED, ST_FAILED };

typedef struct Audio Audio;
typedef struct GvGif GvGif;

struct GvEncoder {
    const GvLog *log;
    /* For messages: the output's own name, not the temporary written to,
     * which the user never sees ("writing out.mp4: No space left"). */
    char *path;
    AVFormatContext *fmt;
    AVStream *st;
    AVCodecContext *cc;
    AVPacket *pkt;
    AVFrame *frame;    /* shell reused for each picture */
    AVFrame *hw_frame; /* VAAPI surface the picture is uploaded to */
    HwKind hw;
    /* Set when the encoder takes another format than yuv420p: the
     * converted pictures come from this pool, laid out as below. */
    AVBufferPool *pool;
    enum AVPixelFormat sw_format;
    int conv_linesize[4];
    size_t conv_offset[4];
    int width, height;
    int alpha;      /* pictures carry alpha, and the encoder keeps it */
    int64_t frames; /* announced, 0 = unknown */
    int64_t next;   /* index the next picture must have */
    int state;
    char name[64];
    /* The first error libav logged during the current call: it usually says
     * more than the AVERROR code (e.g. "Cannot load libcuda.so.1"). */
    char av_error[256];
    const CodecInfo *ci;
    Audio *audio;          /* NULL without an audio file */
    GvGif *gif;            /* an animated GIF's kept frames, else NULL */
    int64_t fail_at;       /* test switch, see GvEncodeParams.fail_at_frame */
    int codec_failed;      /* the last error came from the encoder, not the file */
    char failure[256];     /* and what it was */
};

/* ---- avlog.c ---- */

/* Installs the log callback, once per process. */
void gv_enc_log_init(void);

/* Every gv_encoder_* call with an encoder runs between these: libav's
 * messages from this thread then go to e's log, and e->av_error keeps the
 * first error. enter returns what leave restores. */
GvEncoder *gv_enc_enter(GvEncoder *e);
void gv_enc_leave(GvEncoder *prev);

/* A file or system failure of libav as -errno, anything else as
 * GV_ERR_ENCODE. */
int gv_enc_io_error(int err);
/* -ENOMEM for AVERROR(ENOMEM), else GV_ERR_ENCODE. */
int gv_enc_codec_error(int err);
/* Text for err into buf; io: err came from the file. Returns buf. */
const char *gv_enc_reason(const GvEncoder *e, int err, int io, char *buf, size_t len);
/* Writes e->pkt (its stream and time stamps set) to the file; a failure
 * is logged naming the output. Returns 0 or gv_enc_io_error()'s code. */
int gv_enc_write_packet(GvEncoder *e);

/* ---- choose.c ---- */

/* 0, or GV_ERR_SETTING with the message in err. */
int gv_enc_choose(const char *name, const char *codec, const char *encoder, int alpha, Choice *ch,
                  char *err, size_t errlen);
HwKind gv_enc_hw_kind(const AVCodec *c);
/* The codec's software encoder in this FFmpeg, or NULL. */
const AVCodec *gv_enc_software_encoder(const CodecInfo *ci);

/* ---- video.c ---- */

/* Opens the encoder of ch into e->cc, the first that works, with what
 * its pictures need. 0, GV_ERR_SETTING, GV_ERR_ENCODE or -ENOMEM. */
int gv_enc_video_open(GvEncoder *e, const GvEncodeParams *p, const Choice *ch);
/* Flushes the encoder and writes what comes out; may be GV_ENCODE_LOST. */
int gv_enc_video_flush(GvEncoder *e);
/* Sends f (NULL: flush) and writes the packets that come out; what names
 * the step in messages. */
int gv_enc_video_encode(GvEncoder *e, const AVFrame *f, const char *what);

/* ---- gif.c ---- */

/* 0, or GV_ERR_SETTING with the message in err: the frame rate, size and
 * the frames kept against p->memory_bytes. */
int gv_enc_gif_check(const GvEncodeParams *p, char *err, size_t len);
/* Sets up e->gif for p's frames. 0 or -ENOMEM. */
int gv_enc_gif_open(GvEncoder *e, const GvEncodeParams *p);
/* Keeps the picture and adds it to the palette's histogram. */
int gv_enc_gif_add(GvEncoder *e, const GvPicture *pic);
/* Makes the palette and encodes every kept frame with it. */
int gv_enc_gif_finish(GvEncoder *e);
void gv_enc_gif_free(GvGif **g);

/* ---- audio.c ---- */

/* Opens p->audio, its decoder and the encoder for container ct into
 * e->audio; the output stream is added later by gv_enc_audio_add_stream(). */
int gv_enc_audio_open(GvEncoder *e, const GvEncodeParams *p, const Container *ct);
int gv_enc_audio_add_stream(GvEncoder *e);
/* Encodes the audio that plays until the end of video frame frames - 1. */
int gv_enc_audio_until_frame(GvEncoder *e, int64_t frames);
/* Encodes the rest of the video's length and flushes the encoder. */
int gv_enc_audio_finish(GvEncoder *e);
void gv_enc_audio_free(Audio **a);

#endif
