/*
 * The first stage: the inputs listed (scan.c) and every file probed in
 * parallel, header only, before any pixel is decoded. Bad files are
 * logged once as "path: reason" and dropped; with STRICT the first one
 * ends the run. A file that is not a still (or is an animated GIF) and
 * that clip.c can play becomes a clip; a still with a movie of the same
 * name beside it (a Live Photo) becomes that movie, or stays a still,
 * as LIVE_PHOTOS says, and the movie is not used on its own.
 */
#ifndef GV_PROBE_H
#define GV_PROBE_H

#include <stdatomic.h>

#include "gridvid/gridvid.h"
#include "log.h"
#include "clip.h"
#include "scan.h"
#include "tiles.h"

typedef struct GvProbeResult {
    int skipped;         /* inputs dropped: unreadable, not images, over the limits */
    int gpu_candidates;  /* images the GPU tile scaler may take */
    int jpeg_candidates; /* images the JPEG engine may take */
    unsigned char *flags; /* per usable image, GV_PROBE_* bits; the caller frees it */
    GvClipInfo **clips;  /* per usable image: a clip's (GV_PROBE_CLIP), else NULL;
                            gv_probe_result_free() frees them */
    int n_clips;
    int live_photos;     /* stills paired with their movies (LIVE_PHOTOS) */
} GvProbeResult;

void gv_probe_result_free(GvProbeResult *res, int n);

/*
 * Fills files with the usable images of s->inputs, in order, probing on
 * `threads` threads. Returns 0; GV_ERR_BAD_INPUT (no input, or a bad one
 * with STRICT); GV_ERR_CANCELLED; or -ENOMEM.
 */
int gv_probe_inputs(const GvSettings *s, const GvTileSpec *spec, int threads, atomic_int *cancel,
                    const GvLog *log, GvFileList *files, GvProbeResult *res);

#endif
