/* Pixel containers passed between modules. */
#ifndef GV_PICTURE_H
#define GV_PICTURE_H

#include <stdint.h>

/* A prepared tile: Y'CbCr 4:4:4, BT.709 limited range, three planes of
 * w * h bytes with stride w, in one allocation owned by the tile. */
typedef struct GvTile {
    int w, h;
    uint8_t *y, *u, *v;
    /* For the Ken Burns zoom (src/view.h): the point of interest, 0 to 1
     * across the tile (-1: none found), and the image's aspect ratio over
     * the tile's before the crop (0: unknown). */
    float focus_x, focus_y;
    float aspect;
} GvTile;

/* A frame in yuv420p. The planes belong to whoever allocated it. */
typedef struct GvPicture {
    int width, height;
    uint8_t *data[3];
    int linesize[3];
} GvPicture;

/* Allocates a tile of w x h with uninitialised planes; NULL on overflow or OOM. */
GvTile *gv_tile_alloc(int w, int h);
void gv_tile_free(GvTile **t);

#endif
