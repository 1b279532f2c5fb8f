/*
 * PNG output on top of libvips: Y'CbCr to sRGB, encoded in memory,
 * written beside the destination and renamed into place.
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
#include "tiles.h"

/* "dir/.name.tmp-XXXXXX" for "dir/name": beside it, so rename() is atomic. */
static char *temp_name(const char *const path)
{
    const char *const slash = strrchr(path, '/');
    const size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    const size_t n = strlen(path) + sizeof(".tmp-XXXXXX") + 1;
    char *const tmp = malloc(n);
    if (tmp)
        snprintf(tmp, n, "%.*s.%s.tmp-XXXXXX", (int)dir, path, path + dir);
    return tmp;
}

int gv_picture_write_png(const GvPicture *const pic, const char *const path, char *const reason,
                         const size_t reason_len)
{
    if (!pic || !path || pic->width <= 0 || pic->height <= 0 || pic->width > VIPS_MAX_COORD ||
        pic->height > VIPS_MAX_COORD)
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    const int w = pic->width, h = pic->height;
    if ((size_t)w > SIZE_MAX / 3 / (size_t)h)
        return -ENOMEM;
    uint8_t *const rgb = malloc((size_t)w * h * 3);
    char *const tmp = temp_name(path);
    VipsImage *img = NULL, *typed = NULL;
    void *png = NULL;
    size_t png_size = 0;
    int fd = -1, created = 0;
    if (!rgb || !tmp) {
        ret = -ENOMEM;
        goto end;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *const py = pic->data[0] + (size_t)y * pic->linesize[0];
        const uint8_t *const pu = pic->data[1] + (size_t)(y / 2) * pic->linesize[1];
        const uint8_t *const pv = pic->data[2] + (size_t)(y / 2) * pic->linesize[2];
        uint8_t *const o = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++)
            gv_yuv_to_rgb(py[x], pu[x / 2], pv[x / 2], &o[3 * x], &o[3 * x + 1], &o[3 * x + 2]);
    }

    ret = GV_ERR_IO;
    if ((fd = mkstemp(tmp)) < 0) {
        gv_errno_reason(reason, reason_len, "cannot create a temporary file", errno);
        goto end;
    }
    created = 1;
    /* mkstemp makes it private (0600); a PNG is as readable as any file. */
    if (fchmod(fd, 0644) < 0) {
        gv_errno_reason(reason, reason_len, "cannot set permissions", errno);
        goto end;
    }
    /* Low zlib effort: previews and frame sequences are written often,
     * and the default level costs several times the time for a few
     * percent of size. */
    if (!(img = vips_image_new_from_memory(rgb, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR)) ||
        vips_copy(img, &typed, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) ||
        vips_pngsave_buffer(typed, &png, &png_size, "compression", 1, NULL)) {
        gv_vips_reason(reason, reason_len, "cannot write PNG");
        goto end;
    }
    /* Written here rather than through a vips target, whose error
     * ("write error") loses the cause: a full disk must say so. */
    for (size_t done = 0; done < png_size;) {
        const ssize_t n = write(fd, (const uint8_t *)png + done, png_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            gv_errno_reason(reason, reason_len, "cannot write PNG", n < 0 ? errno : EIO);
            goto end;
        }
        done += (size_t)n;
    }
    /* On the disk before its name is: after a power failure the name
     * must not stand for an empty file. */
    if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
        gv_errno_reason(reason, reason_len, "cannot write PNG", errno);
        goto end;
    }
    const int fdc = fd;
    fd = -1;
    /* Where writes are deferred (NFS, quotas), close reports the failure. */
    if (close(fdc) < 0) {
        gv_errno_reason(reason, reason_len, "cannot write PNG", errno);
        goto end;
    }
    if (rename(tmp, path) < 0) {
        gv_errno_reason(reason, reason_len, "cannot rename the temporary file", errno);
        goto end;
    }
    ret = 0;
end:
    g_free(png);
    if (fd >= 0)
        close(fd);
    if (ret < 0 && created)
        unlink(tmp);
    if (typed)
        g_object_unref(typed);
    if (img)
        g_object_unref(img);
    free(tmp);
    free(rgb);
    return ret;
}
