/* Per-context logging: no process-wide state. */
#ifndef GV_LOG_H
#define GV_LOG_H

#include "gridvid/gridvid.h"

typedef struct GvLog {
    GvLogCallback cb;
    void *opaque;
    GvLogLevel level;
} GvLog;

#if defined(__GNUC__)
#  define GV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define GV_PRINTF(a, b)
#endif

/* Formats and forwards to the callback; NULL log or callback drops it. */
void gv_log(const GvLog *log, GvLogLevel level, const char *fmt, ...) GV_PRINTF(3, 4);

#endif
