/*
 * libFuzzer target: bytes -> gv_jpeg_info -> gv_jpeg_engine_ok. The reader
 * must stay inside the buffer (the input is copied to one of exactly its
 * size), and what it returns must hold the ranges its header promises.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jpeginfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, const size_t size)
{
    uint8_t *const copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    GvJpegInfo in;
    const int r = gv_jpeg_info(copy, size, &in);
    free(copy);
    if (r == -EINVAL)
        return 0;
    if (r != 0 || in.width < 1 || in.width > 65535 || in.height < 1 || in.height > 65535 ||
        in.components < 1 || in.components > 4 || in.orientation < 1 || in.orientation > 8 ||
        in.adobe_transform < -1 || in.adobe_transform > 255 || in.restart_interval < 0 ||
        in.restart_interval > 65535 || (in.icc_srgb && !in.has_icc))
        abort();
    for (int c = 0; c < in.components; c++)
        if (in.h[c] < 1 || in.h[c] > 4 || in.v[c] < 1 || in.v[c] > 4)
            abort();
    const char *why = "unset";
    const int ok = gv_jpeg_engine_ok(&in, 1u << 26, &why);
    if (ok != (why == NULL) || (ok && (in.sof > 1 || in.precision != 8 || in.components == 4)))
        abort();
    return 0;
}
