#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void gv_log(const GvLog *log, GvLogLevel level, const char *fmt, ...)
{
    if (!log || !log->cb || level > log->level)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log->cb(log->opaque, level, buf);
}
