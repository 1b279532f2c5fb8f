/* Public entry points. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gridvid/gridvid.h"
#include "hooks.h"
#include "log.h"
#include "pipeline.h"

struct GvContext {
    GvSettings s;
    GvLog log;
    GvHooks hooks;
    atomic_int cancel;
    int ran;
    GvSummary summary;
};

GV_API unsigned gv_version(void)
{
    return (GV_VERSION_MAJOR << 16) | (GV_VERSION_MINOR << 8) | GV_VERSION_PATCH;
}

#define STR2(x) #x
#define STR(x) STR2(x)

GV_API const char *gv_version_string(void)
{
    return STR(GV_VERSION_MAJOR) "." STR(GV_VERSION_MINOR) "." STR(GV_VERSION_PATCH);
}

GV_API const char *gv_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case GV_ERR_SETTING:
        return "invalid setting";
    case GV_ERR_BAD_INPUT:
        return "bad input";
    case GV_ERR_CANCELLED:
        return "interrupted";
    case GV_ERR_DECODE:
        return "image could not be decoded";
    case GV_ERR_ENCODE:
        return "encoding failed";
    case GV_ERR_GPU:
        return "no usable GPU";
    case GV_ERR_IO:
        return "input/output error";
    default:
        return err < 0 && err > -4096 ? strerror(-err) : "unknown error";
    }
}

GV_API int gv_open(GvContext **out, const GvSettings *s)
{
    if (!out || !s)
        return -EINVAL;
    *out = NULL;
    char err[512];
    if (gv_settings_validate(s, err, sizeof(err)) < 0) {
        if (s->log)
            s->log(s->log_opaque, GV_LOG_ERROR, err);
        return GV_ERR_SETTING;
    }
    GvContext *const ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return -ENOMEM;
    ctx->s = *s;
    ctx->log = (GvLog){ s->log, s->log_opaque, s->log_level };
    gv_hooks_read(&ctx->hooks);
    atomic_init(&ctx->cancel, 0);
    *out = ctx;
    return 0;
}

GV_API int gv_run(GvContext *ctx)
{
    if (!ctx || ctx->ran)
        return -EINVAL;
    ctx->ran = 1;
    return gv_pipeline_run(&ctx->s, &ctx->hooks, &ctx->log, &ctx->cancel, &ctx->summary);
}

GV_API void gv_cancel(GvContext *ctx)
{
    if (ctx)
        atomic_store(&ctx->cancel, 1);
}

GV_API void gv_get_summary(const GvContext *ctx, GvSummary *out)
{
    if (ctx)
        *out = ctx->summary;
    else
        memset(out, 0, sizeof(*out));
}

GV_API void gv_close(GvContext **ctx)
{
    if (!ctx || !*ctx)
        return;
    free(*ctx);
    *ctx = NULL;
}
