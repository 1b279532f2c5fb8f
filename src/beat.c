#include "beat.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridvid/gridvid.h"

#ifdef GV_HAVE_AUBIO
#include <aubio/aubio.h>

/* aubio's defaults for beat tracking: 1024-sample windows, hops of 512 */
#define WIN 1024
#define HOP 512

int gv_beats_find(const char *path, double duration, GvBeats *out, char *reason, size_t len)
{
    memset(out, 0, sizeof(*out));
    aubio_source_t *const src = new_aubio_source(path, 0, HOP);
    if (!src) {
        snprintf(reason, len, "aubio cannot read it");
        return GV_ERR_DECODE;
    }
    const uint_t rate = aubio_source_get_samplerate(src);
    aubio_tempo_t *const tempo = rate ? new_aubio_tempo("default", WIN, HOP, rate) : NULL;
    fvec_t *const in = new_fvec(HOP), *const beat = new_fvec(1);
    float *env = NULL; /* each hop's peak level */
    int ret = 0, cap = 0, n_env = 0, cap_env = 0;
    if (!tempo || !in || !beat) {
        ret = rate ? -ENOMEM : GV_ERR_DECODE;
        snprintf(reason, len, "%s", rate ? "out of memory" : "no sample rate");
        goto end;
    }
    /* beats within (0, duration): a beat on the loop's seam is its start */
    uint_t read = HOP;
    for (uint_t done = 0; read == HOP && done < (uint_t)(duration * rate) + rate; done += read) {
        aubio_source_do(src, in, &read);
        aubio_tempo_do(tempo, in, beat);
        if (n_env == cap_env) {
            cap_env = cap_env ? 2 * cap_env : 1024;
            float *const more = realloc(env, sizeof(*more) * (size_t)cap_env);
            if (!more) {
                ret = -ENOMEM;
                goto end;
            }
            env = more;
        }
        float peak = 0;
        for (uint_t i = 0; i < read; i++)
            peak = fabsf(fvec_get_sample(in, i)) > peak ? fabsf(fvec_get_sample(in, i)) : peak;
        env[n_env++] = peak;
        if (fvec_get_sample(beat, 0) == 0)
            continue;
        const double t = aubio_tempo_get_last_s(tempo);
        if (!(t > 0 && t < duration) || (out->n > 0 && t <= out->t[out->n - 1]))
            continue;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 64;
            double *const more = realloc(out->t, sizeof(*more) * (size_t)cap);
            if (!more) {
                ret = -ENOMEM;
                goto end;
            }
            out->t = more;
        }
        out->t[out->n++] = t;
    }
    out->bpm = out->n > 1 ? aubio_tempo_get_bpm(tempo) : 0;
    ret = gv_beat_grid(out, env, n_env, (double)HOP / rate, duration);
end:
    if (ret < 0)
        gv_beats_free(out);
    free(env);
    if (beat)
        del_fvec(beat);
    if (in)
        del_fvec(in);
    if (tempo)
        del_aubio_tempo(tempo);
    del_aubio_source(src);
    return ret;
}

#else

int gv_beats_find(const char *path, double duration, GvBeats *out, char *reason, size_t len)
{
    (void)path;
    (void)duration;
    memset(out, 0, sizeof(*out));
    snprintf(reason, len, "this gridvid was built without aubio (libaubio-dev)");
    return GV_ERR_SETTING;
}

#endif

/* Least squares t ~ a + k p over the tracked beats that lie within p / 4
 * of the grid through t[0] with period p0. Returns the pairs used. */
static int fit(const double *t, int n, double p0, double a0, double *a, double *p)
{
    double sk = 0, st = 0, skk = 0, skt = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        const double k = floor((t[i] - a0) / p0 + 0.5);
        if (fabs(t[i] - (a0 + k * p0)) > p0 / 4)
            continue;
        sk += k;
        st += t[i];
        skk += k * k;
        skt += k * t[i];
        m++;
    }
    const double den = m * skk - sk * sk;
    if (m < 2 || !(fabs(den) > 1e-12))
        return m;
    *p = (m * skt - sk * st) / den;
    *a = (st - *p * sk) / m;
    return m;
}

/* The value of v[0..n) nearest t within d, or -1. */
static double nearest(const double *v, int n, double t, double d)
{
    double best = -1;
    for (int i = 0; i < n; i++)
        if (fabs(v[i] - t) <= d) {
            d = fabs(v[i] - t);
            best = v[i];
        }
    return best;
}

/* Whether the sound within d of time t is at least `level`. */
static int loud(const float *env, int n, double hop_s, double t, double d, float level)
{
    int i = (int)floor((t - d) / hop_s), end = (int)ceil((t + d) / hop_s);
    for (i = i < 0 ? 0 : i; i <= end && i < n; i++)
        if (env[i] >= level)
            return 1;
    return 0;
}

int gv_beat_grid(GvBeats *b, const float *env, int n_env, double hop_s, double duration)
{
    if (b->n < 2 || !(b->bpm > 0))
        return 0;
    double p = 60 / b->bpm, a = b->t[0];
    /* twice: the second fit sees the beats the first period missed */
    for (int round = 0; round < 2; round++)
        if (fit(b->t, b->n, p, a, &a, &p) < 2 || !(p > 0.1 && p < 4))
            return 0;
    const double first = a - floor(a / p) * p;
    const int most = (int)(duration / p) + 2;
    double *const g = malloc(sizeof(*g) * (size_t)most);
    if (!g)
        return -ENOMEM;
    int n = 0;
    const double lo = b->t[0] - p / 2, hi = b->t[b->n - 1] + p / 2;
    float top = 0;
    for (int i = 0; i < n_env; i++)
        top = env[i] > top ? env[i] : top;
    for (double t = first; t < duration && n < most; t += p) {
        if (t <= 0)
            continue;
        double best;
        if ((t < lo || t > hi) && !loud(env, n_env, hop_s, t, p / 8, top / 10))
            continue; /* no music there */
        if ((best = nearest(b->t, b->n, t, p / 8)) < 0)
            best = t;
        if (best > 0 && best < duration && (n == 0 || best > g[n - 1]))
            g[n++] = best;
    }
    free(b->t);
    b->t = g;
    b->n = n;
    b->bpm = 60 / p;
    return 0;
}

void gv_beats_free(GvBeats *b)
{
    if (!b)
        return;
    free(b->t);
    memset(b, 0, sizeof(*b));
}
