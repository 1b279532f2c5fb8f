/*
 * The tile stage: tiles prepared just in time on a pool of workers, held
 * while frames show them and freed after their last frame.
 *
 * The schedule (from the layout) gives every image the first and the
 * last frame that shows it. Workers take images in first-frame order,
 * with at most `batch` decoding at once and at most `cap` tiles in
 * memory (the most any frame needs, plus `batch` of run-ahead), so memory
 * is bounded however many images there are. The consumer waits for a
 * tile only when the frame it is about to render needs it.
 *
 * The store also opens the GPU tile scaler (gpu/scaler.h) on a thread of
 * its own where the run may use it; workers use it once it is open. And
 * it opens the GPU's JPEG engine (gpu/jpegengine.h) where JPEG files may
 * use it: workers then read such a file, check its header (jpeginfo.h)
 * and, where the engine can take it, queue it for the engine's thread,
 * which decodes what is queued in batches; anything the engine refuses
 * comes back to the workers and libvips.
 *
 * A clip (clip.h) is decoded by the same workers while it is held: from
 * shortly before its first frame (the consumer says where it is with
 * gv_tilestore_frame()) on, a few frames ahead of the consumer (each output
 * frame's picture, clipplay.h), the clip whose next frame is needed
 * soonest first, so that many clips share the workers fairly. The
 * consumer takes each frame's picture with gv_tilestore_clip_frame() and
 * lets go of the earlier ones with gv_tilestore_clip_done(). A clip that
 * stops decoding part way keeps showing its last picture, with a
 * warning.
 *
 * An image that passed the probe but fails to decode voids the attempt
 * (the layout depends on the set of usable images): gv_tilestore_error()
 * returns GV_ERR_DECODE and gv_tilestore_failure() says why for each.
 *
 * Thread-safety: gv_tilestore_wait(), _ready(), _release() and _error()
 * may be called from any thread; the rest from the owner's.
 */
#ifndef GV_TILESTORE_H
#define GV_TILESTORE_H

#include <stdatomic.h>
#include <stdint.h>

#include "clip.h"
#include "gpu/jpegengine.h"
#include "gridvid/gridvid.h"
#include "layout.h"
#include "log.h"
#include "tiles.h"

/* The share of GPU_MEMORY_LIMIT the tile scaler may hold (and as much
 * pinned host memory): two slots, each up to about 40 MP at the default. */
#define GV_SCALER_MEMORY_SHARE 4

/* A clip's pictures decoded ahead, at most. */
#define GV_CLIP_PICTURES 6

typedef struct GvTileSchedule {
    int64_t *first, *last;   /* per image: frames that show it; first < 0: none */
    int *by_first, *by_last; /* the shown images by first and by last frame */
    int n_shown;
    int max_live;            /* the most tiles held at once */
    /* clips: the runs of frames that show each (gv_layout_spans()); image
     * k's are spans[span_index[k] .. span_index[k + 1]); NULL: no clips */
    GvSpan *spans;
    int *span_index;
    /* the most clip decoders open at once: a clip's opens CLIP_LEAD frames
     * before a run and stays open over gaps of up to CLIP_REOPEN_GAP */
    int max_clips;
} GvTileSchedule;

/*
 * The schedule of layout l. A tile is held `hold` frames past its last
 * (the frames still in flight in the compositor). flags (per image, or
 * NULL) marks the clips (GV_PROBE_CLIP), whose runs of frames are found
 * too. Returns 0 or -ENOMEM.
 */
int gv_tile_schedule_init(GvTileSchedule *sch, const GvLayout *l, int hold,
                          const unsigned char *flags);

/* Whether frame i shows clip k (one of its runs holds it). */
int gv_tile_schedule_shows(const GvTileSchedule *sch, int k, int64_t i);
void gv_tile_schedule_free(GvTileSchedule *sch);

typedef struct GvTileStore GvTileStore;

typedef struct GvTileStoreConfig {
    char *const *paths;           /* image k's file; NULL: generated demo images */
    int n;                        /* images */
    const GvTileSpec *spec;       /* tile size, crop, background, limits */
    const GvTileSchedule *sched;  /* decode order and memory bound */
    int threads;                  /* workers */
    int batch;                    /* images decoding at once */
    /* The GPU tile scaler, opened when scaler.memory_bytes > 0. */
    GvScalerConfig scaler;
    int scaler_wait;              /* test-only: tiles wait for the scaler */
    /* The JPEG engines (opening, or open; NULL: none), one thread each,
     * for the images whose probe flags have GV_PROBE_JPEG_ENGINE. Where
     * none opens GPU_DECODE=require fails the run (GV_ERR_GPU) and true
     * warns. */
    GvJpegEngineSet *engines;
    int engine_threads;           /* engines in the set */
    int engine_batch;             /* files one engine takes at once, at most */
    int engine_ahead;             /* batches the engines may take ahead of the window */
    int engine_wait;              /* the first frames' files wait for the engines too */
    int clip_pictures;            /* a clip's pictures ahead, 2 to 16; 0: GV_CLIP_PICTURES */
    int clip_lead;                /* frames ahead an open clip decodes; 0: the built-in 16 */
    GvGpuMode engine_mode;
    const unsigned char *probe_flags; /* per image, or NULL */
    /* Clips: per image, a clip's probe (NULL: a still); the video's
     * frame rate and how clips play (cliptime.h); whether a hardware
     * decoder is tried; and the frame gv_tilestore_load() shows. */
    GvClipInfo *const *clips;
    int fps_num, fps_den;
    GvClipLoop clip_loop;
    GvClipStart clip_start;
    int clip_hwaccel;
    int64_t at_frame;
    atomic_int *cancel;
    const GvLog *log;
} GvTileStoreConfig;

/* Returns 0 or -ENOMEM. Nothing is decoded yet. */
int gv_tilestore_open(GvTileStore **out, const GvTileStoreConfig *cfg);

/* Starts the workers (and the scaler's opening). Returns 0, or -EAGAIN
 * when no worker could start. */
int gv_tilestore_start(GvTileStore *ts);

/* Decodes images ks[0..n) now, in parallel on the caller's thread and
 * helpers, without the workers (one frame's preview). Returns 0, or the
 * error gv_tilestore_error() would return. */
int gv_tilestore_load(GvTileStore *ts, const int *ks, int n);

/* Image k's tile, waiting while it decodes; NULL when it failed or on
 * cancel. A clip's is its picture at its first frame. */
const GvTile *gv_tilestore_wait(GvTileStore *ts, int k);

/* Whether image k's tile is ready now. */
int gv_tilestore_ready(GvTileStore *ts, int k);

/*
 * Clip k's picture at frame i (i from its first frame to its last, in
 * order), waiting while it decodes; NULL when the clip failed, or on
 * cancel. Valid until gv_tilestore_clip_done() passes it.
 */
const GvTile *gv_tilestore_clip_frame(GvTileStore *ts, int k, int64_t i);

/* The consumer is at frame i: clips whose first frame is near start
 * decoding (not before, so that they hold no decoder while not shown). */
void gv_tilestore_frame(GvTileStore *ts, int64_t i);

/* No compositor holds clip k's pictures of the frames before i any more. */
void gv_tilestore_clip_done(GvTileStore *ts, int k, int64_t i);

/* Frees image k's tile (a clip's pictures and decoder): no frame will read
 * it again. */
void gv_tilestore_release(GvTileStore *ts, int k);

/* 0; GV_ERR_DECODE when some image failed to decode; or the first error
 * that is not bad input (-ENOMEM, ...). */
int gv_tilestore_error(GvTileStore *ts);

/* Why image k failed to decode, or NULL. */
const char *gv_tilestore_failure(const GvTileStore *ts, int k);

/* The tiles, indexed by image (NULL where not held). */
const GvTile *const *gv_tilestore_tiles(const GvTileStore *ts);

typedef struct GvTileStats {
    int gpu_scaled;      /* images the GPU tile scaler scaled */
    int engine;          /* images the JPEG engine decoded */
    int engine_refused;  /* JPEG files it could not take (libvips decoded them) */
    char engine_device[64]; /* the engine's GPU, "" when none opened */
    int clips;           /* clips played */
    int clips_hw;        /* of which decoded by a hardware decoder */
} GvTileStats;

/* Waits until the JPEG engine has opened, or failed to: its GPU's name,
 * or NULL when there is none (or none was asked for). */
const char *gv_tilestore_engine_device(GvTileStore *ts);

/* The time gv_tilestore_wait() has waited for tiles, and
 * gv_tilestore_clip_frame() for clips' pictures, for --verbose. */
void gv_tilestore_waits(GvTileStore *ts, double *tiles_s, double *clips_s);

/* Stops the workers, the scaler and the engine; tiles stay until close.
 * Fills *stats (if not NULL). */
void gv_tilestore_stop(GvTileStore *ts, GvTileStats *stats);

/* Stops, frees every tile and the store. */
void gv_tilestore_close(GvTileStore **ts);

#endif
