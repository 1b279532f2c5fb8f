#include "picture.h"

#include <stdint.h>
#include <stdlib.h>

GvTile *gv_tile_alloc(int w, int h)
{
    if (w <= 0 || h <= 0 || (size_t)w > SIZE_MAX / 3 / (size_t)h)
        return NULL;
    const size_t plane = (size_t)w * (size_t)h;
    GvTile *t = malloc(sizeof(*t));
    if (!t)
        return NULL;
    t->y = malloc(plane * 3);
    if (!t->y) {
        free(t);
        return NULL;
    }
    t->w = w;
    t->h = h;
    t->focus_x = t->focus_y = -1;
    t->aspect = 0;
    t->u = t->y + plane;
    t->v = t->u + plane;
    return t;
}

void gv_tile_free(GvTile **t)
{
    if (!t || !*t)
        return;
    free((*t)->y);
    free(*t);
    *t = NULL;
}

/* round(n * 255 / d) for d > 0, n of either sign (halves away from 0),
 * clamped to 0 .. 255 once offset by `at` */
static uint8_t unpremultiply(const int n, const int d, const int at)
{
    const int q = at + (n >= 0 ? (n * 255 + d / 2) / d : -((-n * 255 + d / 2) / d));
    return (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
}

void gv_alpha_resolve(GvPicture *pic, const GvPicture *over, int from, int to)
{
    const int w = pic->width;
    for (int y = from; y < to; y++) {
        uint8_t *const b = pic->data[0] + (size_t)y * (size_t)pic->linesize[0];
        const uint8_t *const wh = over->data[0] + (size_t)y * (size_t)over->linesize[0];
        uint8_t *const a = pic->alpha + (size_t)y * (size_t)pic->alpha_linesize;
        for (int x = 0; x < w; x++) {
            const int d = wh[x] - b[x];
            const int al = d < 0 ? 255 : d > 255 ? 0 : 255 - d;
            a[x] = (uint8_t)al;
            /* covered: the colour as it is (most pixels, no division) */
            if (al < 255)
                b[x] = al ? unpremultiply(b[x], al, 0) : 16;
        }
    }
    for (int cy = from / 2; cy < to / 2; cy++) {
        const uint8_t *const a0 = pic->alpha + (size_t)(2 * cy) * (size_t)pic->alpha_linesize;
        const uint8_t *const a1 = a0 + pic->alpha_linesize;
        for (int p = 1; p < 3; p++) {
            uint8_t *const c = pic->data[p] + (size_t)cy * (size_t)pic->linesize[p];
            for (int cx = 0; cx < w / 2; cx++) {
                const int ac = (a0[2 * cx] + a1[2 * cx] + 1) / 2;
                if (ac < 255)
                    c[cx] = ac ? unpremultiply(c[cx] - 128, ac, 128) : 128;
            }
            /* A sample seen through none of its column's pixels, though its
             * pair's right-hand pixels show: the colour of the sample to
             * the right, the nearest that saw them. */
            for (int cx = 0; cx + 1 < w / 2; cx++)
                if (!a0[2 * cx] && !a1[2 * cx] && (a0[2 * cx + 1] || a1[2 * cx + 1]) &&
                    (a0[2 * cx + 2] || a1[2 * cx + 2]))
                    c[cx] = c[cx + 1];
        }
    }
}
