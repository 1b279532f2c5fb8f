/*
 * Clips: video files, animated GIFs and Live Photos' movies, decoded
 * frame by frame into tiles. With src/encode/, the only module that
 * includes libavformat, libavcodec and libswscale.
 *
 * A clip is read forward, one frame at a time: gv_clip_next() decodes
 * the next frame and says when it shows; gv_clip_tile() turns the frame
 * last decoded into a tile exactly as a photo is prepared (upright by the
 * stream's rotation, square pixels, cropped to the tile's aspect at
 * CROP_POSITION, scaled, BT.709 limited-range Y'CbCr 4:4:4), whatever
 * the source's matrix, range and bit depth. gv_clip_seek() goes back (or
 * on) to the key frame at or before a time, for loops and bounces.
 *
 * Times are seconds from the clip's first frame (its start time is 0).
 *
 * Thread-safety: a GvClip is used by one thread at a time; different
 * clips on different threads at once. gv_clip_probe() is thread-safe.
 */
#ifndef GV_CLIP_H
#define GV_CLIP_H

#include <stddef.h>

#include "log.h"
#include "picture.h"
#include "tiles.h"

/* A longer clip is refused before anything is decoded. */
#define GV_CLIP_MAX_SECONDS 3600.0
/* So is one whose frame has more pixels on a side. */
#define GV_CLIP_MAX_SIDE 16384

typedef struct GvClipInfo {
    int width, height;   /* the frame as coded */
    int rotation;        /* 0, 90, 180 or 270: degrees clockwise that make it upright */
    int upright_w, upright_h; /* upright, square pixels (SAR applied): what is cropped */
    double duration;     /* seconds from the first frame's start to the last frame's end */
    double fps;          /* average frame rate, for --dry-run; 0 when unknown */
    char codec[32];      /* the codec's name: "h264", "gif", ... */
    char format[32];     /* the container's: "mov,mp4,m4a,3gp,3g2,mj2", "gif", ... */
} GvClipInfo;

/*
 * Whether path is a clip gridvid can play: a video stream libavcodec
 * decodes, within the limits above and spec->max_pixels, whose first frame
 * decodes. Reads the header and decodes that one frame (and a second of
 * an image codec whose header does not count its frames: a still image,
 * a GIF of one frame, is "not a video"). Returns 0 and
 * fills *info, or GV_ERR_DECODE with a short reason ("not a video",
 * "no frames", "7680x4320 is over the 20000000-pixel limit", "10:00:00 is
 * over the 1-hour clip limit", ...).
 */
int gv_clip_probe(const char *path, const GvTileSpec *spec, GvClipInfo *info, char *reason,
                  size_t reason_len);

typedef struct GvClip GvClip;

typedef struct GvClipConfig {
    const GvTileSpec *spec; /* tile size, crop position, limits */
    int hwaccel;            /* try a hardware decoder first (NVDEC, VAAPI); any failure
                               falls back to software, silently (info level) */
    const GvLog *log;
} GvClipConfig;

/* Opens path for decoding. Returns 0, GV_ERR_DECODE with a reason, or
 * -ENOMEM. The crop window is fixed here (for the smart crops, from the
 * first frame's pixels). */
int gv_clip_open(GvClip **out, const char *path, const GvClipConfig *cfg, char *reason,
                 size_t reason_len);

const GvClipInfo *gv_clip_info(const GvClip *c);

/* Whether frames come from a hardware decoder. */
int gv_clip_hw(const GvClip *c);

/* The next gv_clip_next() returns the key frame at or before t (or the
 * first frame; for a GIF always the first frame, the only one that does
 * not paint over the one before). Returns 0, GV_ERR_DECODE with a reason,
 * or -ENOMEM. */
int gv_clip_seek(GvClip *c, double t, char *reason, size_t reason_len);

/*
 * Decodes the next frame in presentation order. Returns 0 and sets *pts
 * (seconds from the first frame, never less than the previous frame's
 * since the last seek), 1 at the end of the clip (also where the file is
 * cut short), or GV_ERR_DECODE with a reason. Packets that fail to decode
 * are skipped, as players do.
 */
int gv_clip_next(GvClip *c, double *pts, char *reason, size_t reason_len);

/* The frame gv_clip_next() last returned, as a new tile of the spec's
 * size. Returns 0, -EINVAL before any frame (and after a seek, until the
 * next gv_clip_next()), -ENOMEM. */
int gv_clip_tile(GvClip *c, GvTile **out);

/* The same for the frame before it (the one gv_clip_next() returned
 * the time before): -EINVAL when there is none since the last seek. */
int gv_clip_tile_previous(GvClip *c, GvTile **out);

void gv_clip_close(GvClip **c);

#endif
