#include "resample.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static double lanczos3(const double x)
{
    if (x == 0.0)
        return 1.0;
    if (x <= -3.0 || x >= 3.0)
        return 0.0;
    const double px = M_PI * x;
    return 3.0 * sin(px) * sin(px / 3.0) / (px * px);
}

void gv_filter_free(GvFilter *const f)
{
    free(f->first);
    free(f->w);
    f->first = NULL;
    f->w = NULL;
}

int gv_filter_init(GvFilter *const f, const int in, const int out)
{
    const double scale = (double)in / out;
    /* Downscaling widens the kernel so every input pixel contributes. */
    const double support = 3.0 * (scale > 1.0 ? scale : 1.0);
    const double step = scale > 1.0 ? 1.0 / scale : 1.0;
    f->n = (int)ceil(2.0 * support) + 1;
    f->first = NULL;
    f->w = NULL;
    if ((size_t)out > SIZE_MAX / sizeof(float) / (size_t)f->n)
        return -ENOMEM;
    f->first = malloc((size_t)out * sizeof(*f->first));
    f->w = malloc((size_t)out * (size_t)f->n * sizeof(*f->w));
    if (!f->first || !f->w) {
        gv_filter_free(f);
        return -ENOMEM;
    }
    for (int i = 0; i < out; i++) {
        const double centre = (i + 0.5) * scale - 0.5;
        const int first = (int)floor(centre - support) + 1;
        float *const w = f->w + (size_t)i * f->n;
        double sum = 0.0;
        for (int j = 0; j < f->n; j++)
            sum += w[j] = (float)lanczos3((first + j - centre) * step);
        /* Normalised so that a flat area keeps its exact value. */
        for (int j = 0; j < f->n; j++)
            w[j] = (float)(w[j] / sum);
        f->first[i] = first;
    }
    return 0;
}

static int clampi(const int v, const int lo, const int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int gv_resample(const uint8_t *const src, const int sw, const int sh, const int bands,
                const uint8_t bg[3], uint8_t *const dst, const int dw, const int dh)
{
    GvFilter fx = { 0 }, fy = { 0 };
    float *tmp = NULL;
    int ret;
    if ((ret = gv_filter_init(&fx, sw, dw)) < 0 || (ret = gv_filter_init(&fy, sh, dh)) < 0)
        goto end;
    if ((size_t)dw > SIZE_MAX / sizeof(float) / 3 / (size_t)sh) {
        ret = -ENOMEM;
        goto end;
    }
    tmp = malloc((size_t)dw * (size_t)sh * 3 * sizeof(*tmp));
    if (!tmp) {
        ret = -ENOMEM;
        goto end;
    }
    for (int y = 0; y < sh; y++) {
        const uint8_t *const row = src + (size_t)y * sw * bands;
        float *const o = tmp + (size_t)y * dw * 3;
        for (int x = 0; x < dw; x++) {
            const float *const w = fx.w + (size_t)x * fx.n;
            float acc[3] = { 0.0f, 0.0f, 0.0f };
            for (int j = 0; j < fx.n; j++) {
                const uint8_t *const p = row + (size_t)clampi(fx.first[x] + j, 0, sw - 1) * bands;
                float px[3] = { p[0], p[1], p[2] };
                if (bands == 4)
                    for (int c = 0; c < 3; c++)
                        px[c] = (float)gv_flatten_px(p[c], p[3], bg[c]);
                acc[0] += w[j] * px[0];
                acc[1] += w[j] * px[1];
                acc[2] += w[j] * px[2];
            }
            memcpy(o + (size_t)x * 3, acc, sizeof(acc));
        }
    }
    for (int y = 0; y < dh; y++) {
        const float *const w = fy.w + (size_t)y * fy.n;
        uint8_t *const o = dst + (size_t)y * dw * 3;
        for (int x = 0; x < dw * 3; x++) {
            float acc = 0.0f;
            for (int j = 0; j < fy.n; j++)
                acc += w[j] * tmp[(size_t)clampi(fy.first[y] + j, 0, sh - 1) * dw * 3 + x];
            o[x] = (uint8_t)clampi((int)lrintf(acc), 0, 255);
        }
    }
    ret = 0;
end:
    free(tmp);
    gv_filter_free(&fx);
    gv_filter_free(&fy);
    return ret;
}
