/* Generated demo images (--demo): drawn in memory, no files read. */
#ifndef GV_DEMO_H
#define GV_DEMO_H

#include "picture.h"
#include "tiles.h"

/*
 * Demo image k of n (0 <= k < n), prepared like a file of it would be.
 * The same pixels on every machine. Returns 0 and sets *out, -EINVAL,
 * -ENOMEM, or GV_ERR_DECODE.
 */
int gv_tile_demo(int k, int n, const GvTileSpec *spec, GvTile **out);

#endif
