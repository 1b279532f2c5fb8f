#include "cliptime.h"

#include <math.h>

/* x mod m for m > 0, in [0, m); a remainder within the epsilon of m is 0
 * (the clip's end is its start again). */
static double wrap(double x, double m)
{
    double r = x - m * floor(x / m);
    if (r < 0 || r > m - GV_CLIP_TIME_EPSILON)
        r = 0;
    return r;
}

double gv_clip_time(const GvClipTiming *t, int64_t frame)
{
    const int64_t from = t->start == GV_CLIP_START_ZERO ? 0 : t->first;
    const double tau = frame > from ? (double)(frame - from) * t->fps_den / t->fps_num : 0;
    const double d = t->duration;
    if (!(d > 0))
        return 0;
    switch (t->loop) {
    case GV_CLIP_BOUNCE: {
        const double p = wrap(tau, 2 * d);
        return p <= d ? p : 2 * d - p;
    }
    case GV_CLIP_HOLD:
        return tau < d ? tau : d;
    default:
        return wrap(tau, d);
    }
}
