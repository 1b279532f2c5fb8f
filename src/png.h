/*
 * PNG output (preview, frame sequence). With tiles.c, the only module
 * that includes <vips/vips.h>.
 */
#ifndef GV_PNG_H
#define GV_PNG_H

#include <stddef.h>

#include "picture.h"

/*
 * Writes a yuv420p picture as an 8-bit sRGB PNG, to a temporary beside
 * path that is renamed into place once on disk. Thread-safe. Returns 0,
 * -EINVAL, -ENOMEM, GV_ERR_DECODE (libvips would not start) or GV_ERR_IO
 * with a reason.
 */
int gv_picture_write_png(const GvPicture *pic, const char *path, char *reason, size_t reason_len);

#endif
