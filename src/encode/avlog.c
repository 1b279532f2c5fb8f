/*
 * libav's log routed to the encoder's GvLog (or a clip's, for src/clip.c),
 * and libav's errors translated into gridvid's codes and text.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/avstring.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

/*
 * libav logs through one process-wide callback. Messages from a thread that
 * is inside a gv_encoder_* call go to that encoder's GvLog, and those from
 * a thread inside a clip call (a GvAvLogScope, src/clip.c) to the clip's
 * log, at debug level: what matters is reported by us, with context. So
 * libav prints nothing on its own (SVT-AV1 and x265 write to stderr
 * without libav: see software_options() in video.c). Messages from other
 * threads (encoder worker threads, or another user of libav in the
 * process) take libav's default path, whose level is set to errors only:
 * otherwise libx264 and friends would print their banners and statistics
 * at info level on stderr.
 */
static _Thread_local GvEncoder *current;
static _Thread_local GvAvLogScope *scope;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void av_log_cb(void *const avcl, const int level, const char *const fmt, va_list vl)
{
    GvEncoder *const e = current;
    GvAvLogScope *const s = scope;
    if (!e && !s) {
        av_log_default_callback(avcl, level, fmt, vl);
        return;
    }
    if (level > AV_LOG_INFO)
        return;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, vl);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' || msg[len - 1] == ' '))
        msg[--len] = 0;
    if (!len)
        return;
    char *const first = e ? e->av_error : s->error;
    const size_t first_len = e ? sizeof(e->av_error) : sizeof(s->error);
    if (level <= AV_LOG_ERROR && !first[0])
        av_strlcpy(first, msg, first_len);
    const AVClass *const cls = avcl ? *(const AVClass *const *)avcl : NULL;
    const char *const who = cls && cls->item_name ? cls->item_name(avcl) : "libav";
    gv_log(e ? e->log : s->log, GV_LOG_DEBUG, "%s: %s", who, msg);
}

static void install_log(void)
{
    av_log_set_level(AV_LOG_ERROR);
    av_log_set_callback(av_log_cb);
}

void gv_enc_log_init(void)
{
    pthread_once(&log_once, install_log);
}

GvEncoder *gv_enc_enter(GvEncoder *const e)
{
    GvEncoder *const prev = current;
    current = e;
    e->av_error[0] = 0;
    return prev;
}

void gv_enc_leave(GvEncoder *const prev)
{
    current = prev;
}

GvAvLogScope *gv_av_log_enter(GvAvLogScope *const s)
{
    gv_enc_log_init();
    GvAvLogScope *const prev = scope;
    scope = s;
    s->error[0] = 0;
    return prev;
}

void gv_av_log_leave(GvAvLogScope *const prev)
{
    scope = prev;
}

/* AVERROR(errno) values are small; libav's own codes are negated tags. */
static int is_errno(const int err)
{
    return err < 0 && err > -4096;
}

/* A failure of the file or the system (disk full, permission) is passed on
 * as -errno so that the caller can tell it apart from an encoder failure. */
int gv_enc_io_error(const int err)
{
    if (is_errno(err) && err != AVERROR(EINVAL) && err != AVERROR(EAGAIN) &&
        err != AVERROR(ENOSYS))
        return err;
    return GV_ERR_ENCODE;
}

int gv_enc_codec_error(const int err)
{
    return err == AVERROR(ENOMEM) ? -ENOMEM : GV_ERR_ENCODE;
}

/*
 * Text for err. A file error reads best as strerror's text ("No space left
 * on device"); for an encoder or a device, the first error libav logged
 * during the call usually names the cause where the code does not.
 */
const char *gv_enc_reason(const GvEncoder *const e, const int err, const int io,
                          char *const buf, const size_t len)
{
    if (e->av_error[0] && !(io && is_errno(err)))
        av_strlcpy(buf, e->av_error, len);
    else if (av_strerror(err, buf, len) < 0)
        snprintf(buf, len, "error %d", err);
    return buf;
}
