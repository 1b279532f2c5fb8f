/*
 * libFuzzer target: an encoded image from bytes through tile preparation,
 * twice: from memory (gv_tile_load_buffer) and as a file, probed and
 * loaded the way the pipeline takes every input (gv_tile_probe, then
 * gv_tile_load on a path that names the same bytes).
 *
 * Tile size, aspect and crop come from the input's length, so a saved
 * input replays exactly. A success must give a tile of the size asked
 * for; a failure must be GV_ERR_DECODE with a reason, or -ENOMEM.
 *
 * libvips is not built with the sanitizers, so its allocations are not
 * checked for leaks by LeakSanitizer (they are suppressed: glib and vips
 * keep caches for the life of the process). Instead GObject counts the
 * live instances (GOBJECT_DEBUG=instance-count, set by re-executing when
 * missing): after each input as many VipsObjects must be alive as before,
 * so an image or source that gridvid forgets to unref is a crash here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vips/vips.h>

#include "tiles.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char memfd_path[64];
static int count_objects;

/*
 * A GObject warning or critical means a loader was handed a value out of
 * range, or an object misused: libvips' PNM loader, for one, reads an
 * oversized width as 1 after such a warning. Each is a finding.
 */
static void on_glib_warning(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                            gpointer opaque)
{
    (void)level;
    (void)opaque;
    fprintf(stderr, "fuzz_image: %s: %s\n", domain ? domain : "?", msg);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    const char *const dbg = getenv("GOBJECT_DEBUG");
    if (!dbg || !strstr(dbg, "instance-count")) {
        /* GObject reads it when the library loads: too late to set now. */
        setenv("GOBJECT_DEBUG", "instance-count", 1);
        execv("/proc/self/exe", *argv);
        fprintf(stderr, "fuzz_image: cannot re-execute (%s); no object leak check\n",
                strerror(errno));
    }
    if (gv_tiles_init() < 0)
        abort();
    g_log_set_handler("GLib-GObject", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL,
                      on_glib_warning, NULL);
    g_log_set_handler("GLib", G_LOG_LEVEL_CRITICAL, on_glib_warning, NULL);
    count_objects = getenv("GOBJECT_DEBUG") && strstr(getenv("GOBJECT_DEBUG"), "instance-count");
    memfd = memfd_create("fuzz_image", MFD_CLOEXEC);
    if (memfd < 0)
        abort();
    snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
    return 0;
}

static int live_objects(void)
{
    return count_objects ? g_type_get_instance_count(VIPS_TYPE_OBJECT) : 0;
}

static void check(const int ret, const GvTile *tile, const GvTileSpec *spec, const char *reason)
{
    if (ret == 0) {
        if (!tile || tile->w != spec->w || tile->h != spec->h)
            abort();
    } else if (ret == GV_ERR_DECODE) {
        if (tile || !reason[0])
            abort();
    } else if (ret != -ENOMEM) {
        abort();
    }
}

static void one(const uint8_t *data, const size_t size)
{
    static const int aspect[4][2] = { { 1, 1 }, { 16, 9 }, { 4, 5 }, { 3, 1 } };
    const int a = (int)(size % 4);
    GvTileSpec spec = {
        .h = 8 + (int)(size / 4 % 5) * 6,
        .crop = (GvCrop)(size / 20 % 7),
        .background = { (uint8_t)(size * 37), 128, 64 },
        /* Large enough for real photos' headers, small enough that a
         * decode stays quick. */
        .max_pixels = 4000000,
    };
    spec.w = 2 * ((spec.h * aspect[a][0] / aspect[a][1] + 1) / 2);
    if (spec.w < 2)
        spec.w = 2;

    char reason[256] = "";
    GvTile *tile = NULL;
    int ret = gv_tile_load_buffer(data, size, &spec, &tile, reason, sizeof(reason));
    check(ret, tile, &spec, reason);
    gv_tile_free(&tile);

    /* The same bytes as a file. */
    if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    reason[0] = '\0';
    ret = gv_tile_probe(memfd_path, &spec, reason, sizeof(reason), NULL);
    if (ret != 0 && (ret != GV_ERR_DECODE || !reason[0]))
        abort();
    if (ret == 0) {
        reason[0] = '\0';
        ret = gv_tile_load(memfd_path, &spec, &tile, reason, sizeof(reason));
        check(ret, tile, &spec, reason);
        gv_tile_free(&tile);
    }
    vips_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, const size_t size)
{
    const int before = live_objects();
    one(data, size);
    const int after = live_objects();
    if (after != before) {
        /* A loader's first use may create objects it keeps (a cached
         * profile, say): only growth on a second run is a leak. */
        one(data, size);
        if (live_objects() != after) {
            fprintf(stderr, "fuzz_image: %d VipsObjects leaked\n", live_objects() - after);
            abort();
        }
    }
    return 0;
}
