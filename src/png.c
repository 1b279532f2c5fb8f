/*
 * PNG output on top of libvips: Y'CbCr to sRGB, encoded in memory,
 * written to a locked temporary beside the destination and renamed into
 * place (output.c).
 */
#include "png.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

#include "color.h"
#include "output.h"
#include "tiles.h"

int gv_picture_write_png(const GvPicture *const pic, const char *const path, char *const reason,
                         const size_t reason_len)
{
    if (!pic || !path || pic->width <= 0 || pic->height <= 0 || pic->width > VIPS_MAX_COORD ||
        pic->height > VIPS_MAX_COORD)
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    const int w = pic->width, h = pic->height, bands = pic->alpha ? 4 : 3;
    if ((size_t)w > SIZE_MAX / 4 / (size_t)h)
        return -ENOMEM;
    uint8_t *const rgb = malloc((size_t)w * h * bands);
    GvOutput out;
    VipsImage *img = NULL, *typed = NULL;
    void *png = NULL;
    size_t png_size = 0;
    gv_output_init(&out, path);
    if (!rgb) {
        ret = -ENOMEM;
        goto end;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *const py = pic->data[0] + (size_t)y * pic->linesize[0];
        const uint8_t *const pu = pic->data[1] + (size_t)(y / 2) * pic->linesize[1];
        const uint8_t *const pv = pic->data[2] + (size_t)(y / 2) * pic->linesize[2];
        const uint8_t *const pa = pic->alpha ? pic->alpha + (size_t)y * pic->alpha_linesize : NULL;
        uint8_t *const o = rgb + (size_t)y * w * bands;
        for (int x = 0; x < w; x++) {
            uint8_t *const px = o + (size_t)bands * x;
            gv_yuv_to_rgb(py[x], pu[x / 2], pv[x / 2], &px[0], &px[1], &px[2]);
            if (pa)
                px[3] = pa[x];
        }
    }

    ret = GV_ERR_IO;
    if (gv_output_temp(&out, reason, reason_len) < 0)
        goto end;
    /* Low zlib effort: previews and frame sequences are written often,
     * and the default level costs several times the time for a few
     * percent of size. */
    if (!(img = vips_image_new_from_memory(rgb, (size_t)w * h * bands, w, h, bands,
                                           VIPS_FORMAT_UCHAR)) ||
        vips_copy(img, &typed, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) ||
        vips_pngsave_buffer(typed, &png, &png_size, "compression", 1, NULL)) {
        gv_vips_reason(reason, reason_len, "cannot write PNG");
        goto end;
    }
    /* Written here rather than through a vips target, whose error
     * ("write error") loses the cause: a full disk must say so. */
    for (size_t done = 0; done < png_size;) {
        const ssize_t n = write(out.fd, (const uint8_t *)png + done, png_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            gv_errno_reason(reason, reason_len, "cannot write PNG", n < 0 ? errno : EIO);
            goto end;
        }
        done += (size_t)n;
    }
    if (gv_output_publish(&out, reason, reason_len) < 0)
        goto end;
    ret = 0;
end:
    g_free(png);
    gv_output_close(&out);
    if (typed)
        g_object_unref(typed);
    if (img)
        g_object_unref(img);
    free(rgb);
    return ret;
}
