/*
 * tile_floor: what `vipsthumbnail --size WxH --smartcrop centre -o DIR/%s.v`
 * does, for machines without libvips' command-line tools.
 *
 *   tile_floor WIDTH HEIGHT OUTDIR IMAGE...
 *
 * Each image is made into a WIDTH x HEIGHT tile by vips_thumbnail (shrink
 * on load, turned upright, centre crop to fill) and written as OUTDIR/NAME.v,
 * the cheapest format libvips writes. run.sh starts one per core over parts
 * of the image list, as it does vipsthumbnail.
 */
#include <vips/vips.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (VIPS_INIT(argv[0]))
        vips_error_exit(NULL);
    if (argc < 4) {
        fprintf(stderr, "usage: tile_floor WIDTH HEIGHT OUTDIR IMAGE...\n");
        return 2;
    }
    const int w = atoi(argv[1]), h = atoi(argv[2]);
    if (w <= 0 || h <= 0) {
        fprintf(stderr, "tile_floor: bad size %sx%s\n", argv[1], argv[2]);
        return 2;
    }
    int failed = 0;
    for (int i = 4; i < argc; i++) {
        VipsImage *tile = NULL;
        const char *const slash = strrchr(argv[i], '/');
        const char *const base = slash ? slash + 1 : argv[i];
        char out[4096];
        snprintf(out, sizeof(out), "%s/%s.v", argv[3], base);
        if (vips_thumbnail(argv[i], &tile, w, "height", h, "crop", VIPS_INTERESTING_CENTRE, NULL) ||
            vips_image_write_to_file(tile, out, NULL)) {
            fprintf(stderr, "tile_floor: %s: %s\n", argv[i], vips_error_buffer());
            vips_error_clear();
            failed = 1;
        }
        if (tile)
            g_object_unref(tile);
    }
    vips_shutdown();
    return failed;
}
