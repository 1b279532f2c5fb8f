/*
 * --preview: one frame as PNG. Only the images that frame shows are
 * decoded (in parallel), the CPU reference renders it, and the PNG is
 * written through a temporary file and a rename. No encoder opens.
 */
#ifndef GV_PREVIEW_H
#define GV_PREVIEW_H

#include <stdatomic.h>
#include <stdint.h>

#include "gridvid/gridvid.h"
#include "layout.h"
#include "log.h"
#include "text.h"
#include "tilestore.h"

/* The frame at s->preview_at. */
int64_t gv_preview_frame(const GvSettings *s);

/* Writes the frame at s->preview_at to s->preview, with the title and
 * logo of ov (or NULL). Returns 0 or a negative code; tiles that fail to
 * decode leave their reason in ts. */
int gv_preview_write(const GvSettings *s, const GvLayout *l, GvTileStore *ts,
                     const uint8_t bg_yuv[3], const GvOverlays *ov, atomic_int *cancel,
                     const GvLog *log);

#endif
