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

/* A frame in yuv420p. The planes belong to whoever allocated it. With a
 * transparent background, alpha is its alpha plane (width x height,
 * straight, not premultiplied); else NULL. */
typedef struct GvPicture {
    int width, height;
    uint8_t *data[3];
    int linesize[3];
    uint8_t *alpha;
    int alpha_linesize;
} GvPicture;

/*
 * A transparent background: each frame is composited twice, over these
 * two backgrounds (Y'CbCr; Y is not limited to 16..235 here). A pixel
 * covered by tiles for the fraction a of its samples is then
 * B = a C + (1 - a) 0 over black and W = a C + (1 - a) 255 over white.
 */
#define GV_UNDER_BLACK { 0, 128, 128 }
#define GV_UNDER_WHITE { 255, 128, 128 }

/*
 * Makes pic (composited over GV_UNDER_BLACK, its alpha plane set) the
 * straight-alpha frame, from it and over (the same frame over
 * GV_UNDER_WHITE), lines [from, to) (even):
 *   alpha = 255 - (W - B), clamped to 0..255
 *   Y  = min(255, round(255 B / alpha)), 16 where alpha = 0
 * and each chroma sample with the mean alpha of the two luma samples it
 * covers (x = 2 cx, lines 2 cy and 2 cy + 1, as the compositor takes them):
 *   a_c = (alpha(2cx, 2cy) + alpha(2cx, 2cy + 1) + 1) / 2
 *   C  = clamp(128 + round(255 (C_B - 128) / a_c)), 128 where a_c = 0
 * except that a sample whose column 2 cx is clear while column 2 cx + 1
 * shows takes the colour of the sample to its right (when that one's
 * column shows): the pixel 2 cx + 1 is drawn with this sample.
 */
void gv_alpha_resolve(GvPicture *pic, const GvPicture *over, int from, int to);

/* Allocates a tile of w x h with uninitialised planes; NULL on overflow or OOM. */
GvTile *gv_tile_alloc(int w, int h);
void gv_tile_free(GvTile **t);

#endif
