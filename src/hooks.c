#include "hooks.h"

#include <errno.h>
#include <stdlib.h>

#include "tiles.h"

static void read_int(const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const char *const v = getenv(name);
    if (!v || !*v)
        return;
    char *end;
    errno = 0;
    const long long x = strtoll(v, &end, 10);
    if (!errno && !*end && x >= lo && x <= hi)
        *out = x;
}

static int int_switch(const char *name, int lo, int hi, int def)
{
    int64_t v = def;
    read_int(name, lo, hi, &v);
    return (int)v;
}

void gv_hooks_default(GvHooks *h)
{
    *h = (GvHooks){
        .gpu_fail_at = -1,
        .scale_min_ratio = GV_GPU_SCALE_MIN_RATIO,
    };
}

void gv_hooks_read(GvHooks *h)
{
    gv_hooks_default(h);
    h->gpu_open_delay_ms = int_switch("GV_TEST_GPU_OPEN_DELAY_MS", 0, 60000, 0);
    read_int("GV_TEST_GPU_FAIL_AT", -1, INT64_MAX, &h->gpu_fail_at);
    h->gpu_force_staging = int_switch("GV_VK_STAGING", 0, 1, 0);
    h->scale_software = int_switch("GV_TEST_GPU_SCALE_SOFTWARE", 0, 1, 0);
    h->scale_fail_at = int_switch("GV_TEST_GPU_SCALE_FAIL_AT", 0, 1 << 30, 0);
    h->scale_wait = int_switch("GV_TEST_GPU_SCALE_WAIT", 0, 1, 0);
    h->engine_wait = int_switch("GV_TEST_ENGINE_WAIT", 0, 1, 0);
    read_int("GV_TEST_ENCODER_FAIL_AT", 0, INT64_MAX, &h->encoder_fail_at);
    h->engine_threads = int_switch("GV_ENGINE_THREADS", 1, 4, 0);
    h->engine_batch = int_switch("GV_ENGINE_BATCH", 1, 128, 0);
    h->engine_ahead = int_switch("GV_ENGINE_AHEAD", 1, 64, 0);
    h->clip_ahead = int_switch("GV_CLIP_AHEAD", 2, 16, 0);
    h->clip_lead = int_switch("GV_CLIP_LEAD", 8, 256, 0);
    const char *const r = getenv("GV_GPU_SCALE_MIN_RATIO");
    if (r && *r) {
        char *end;
        const double x = strtod(r, &end);
        if (!*end && x >= 0 && x <= 1e6)
            h->scale_min_ratio = x;
    }
}
