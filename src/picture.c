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
