/*
 * The first stage: the inputs listed (scan.c) and every file probed in
 * parallel, header only, before any pixel is decoded. Bad files are
 * logged once as "path: reason" and dropped; with STRICT the first one
 * ends the run.
 */
#ifndef GV_PROBE_H
#define GV_PROBE_H

#include <stdatomic.h>

#include "gridvid/gridvid.h"
#include "log.h"
#include "scan.h"
#include "tiles.h"

typedef struct GvProbeResult {
    int skipped;         /* inputs dropped: unreadable, not images, over the limits */
    int gpu_candidates;  /* images the GPU tile scaler may take */
    int jpeg_candidates; /* images the JPEG engine may take */
    unsigned char *flags; /* per usable image, GV_PROBE_* bits; the caller frees it */
} GvProbeResult;

/*
 * Fills files with the usable images of s->inputs, in order, probing on
 * `threads` threads. Returns 0; GV_ERR_BAD_INPUT (no input, or a bad one
 * with STRICT); GV_ERR_CANCELLED; or -ENOMEM.
 */
int gv_probe_inputs(const GvSettings *s, const GvTileSpec *spec, int threads, atomic_int *cancel,
                    const GvLog *log, GvFileList *files, GvProbeResult *res);

#endif
