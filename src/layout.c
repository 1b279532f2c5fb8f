#include "layout.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int gv_tile_width(int tile_h, int aspect_w, int aspect_h)
{
    if (tile_h <= 0 || aspect_w <= 0 || aspect_h <= 0)
        return 0;
    /* 2 * floor(th * aw / ah / 2 + 1/2) without floating point. */
    const int64_t half = ((int64_t)tile_h * aspect_w + aspect_h) / (2 * (int64_t)aspect_h);
    if (half > INT32_MAX / 2)
        return 0;
    return (int)(2 * half);
}

int64_t gv_frame_count(int fps_num, int fps_den, double duration)
{
    if (fps_num <= 0 || fps_den <= 0 || !(duration > 0) || !isfinite(duration))
        return -1;
    /* The epsilon keeps 7.4999999 (from 0.3 * 25) rounding up like 7.5. */
    const double f = floor((double)fps_num * duration / fps_den + 0.5 + 1e-9);
    if (f > (double)INT32_MAX)
        return -1;
    return (int64_t)f;
}

int gv_auto_lanes(int cross, int thick, int gap)
{
    if (thick <= 0 || gap < 0 || cross <= 0)
        return 0;
    const int64_t num = (int64_t)cross + gap, den = (int64_t)thick + gap;
    return (int)((num + den - 1) / den);
}

double gv_ease(GvEasing e, double p)
{
    switch (e) {
    case GV_EASING_EASE_IN_OUT:
        return (1.0 - cos(M_PI * p)) / 2.0;
    case GV_EASING_EASE_IN:
        return 1.0 - cos(M_PI * p / 2.0);
    case GV_EASING_EASE_OUT:
        return sin(M_PI * p / 2.0);
    case GV_EASING_LINEAR:
    default:
        return p;
    }
}

/* Steps: interval k between q_k and q_{k+1} (q_0 = 0, the beats, 1) holds,
 * then moves eased in and out over its last GV_BEAT_MOVE, landing on the
 * beat: e = (k + s) / (n + 1). */
/* The number of beats b with b / duration <= p (they ascend). */
static int beats_by(const double *beats, int n, double duration, double p)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        if (beats[mid] / duration <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double beat_steps(const double *beats, int n, double duration, double p)
{
    const int k = beats_by(beats, n, duration, p);
    const double q0 = k == 0 ? 0 : beats[k - 1] / duration;
    const double q1 = k == n ? 1 : beats[k] / duration;
    const double u = q1 > q0 ? (p - q0) / (q1 - q0) : 1;
    const double hold = 1 - GV_BEAT_MOVE;
    const double s = u <= hold ? 0 : (1 - cos(M_PI * (u - hold) / GV_BEAT_MOVE)) / 2;
    return (k + s) / (n + 1);
}

/* Pulses: E(t) = t + A tau sum over beats b <= t of (1 - exp(-(t - b) / tau)),
 * the integral of a speed 1 + A exp(-(t - b) / tau) after each beat; e = E(pD) / E(D).
 * A beat more than 30 tau back adds A tau (exp(-30) is below E's precision),
 * so a long video costs a search, not a sum over every beat. */
static double beat_pulse_integral(const double *beats, int n, double duration, double t)
{
    const double at = GV_BEAT_PULSE_GAIN * GV_BEAT_PULSE_TAU;
    const int old = beats_by(beats, n, duration, (t - 30 * GV_BEAT_PULSE_TAU) / duration);
    double e = t + at * old;
    for (int i = old; i < n && beats[i] <= t; i++)
        e += at * (1 - exp(-(t - beats[i]) / GV_BEAT_PULSE_TAU));
    return e;
}

double gv_beat_ease(int mode, const double *beats, int n, double duration, double p)
{
    const double whole = floor(p);
    p -= whole;
    double e;
    if (mode == GV_BEAT_STEPS)
        e = beat_steps(beats, n, duration, p);
    else
        e = beat_pulse_integral(beats, n, duration, p * duration) /
            beat_pulse_integral(beats, n, duration, duration);
    return whole + e;
}

double gv_sample_progress(int64_t i, int64_t frames, int j, int n)
{
    const double f = (double)frames;
    if (n <= 1)
        return (double)i / f;
    return (double)i / f + (((j + 0.5) / n) - 0.5) / (2.0 * f);
}

void gv_layout_free(GvLayout *l)
{
    if (!l)
        return;
    free(l->lanes);
    l->lanes = NULL;
    l->n_lanes = 0;
}

GvLayoutParams gv_layout_params(const GvSettings *const s, const int n_images)
{
    return (GvLayoutParams){
        .width = s->width,
        .height = s->height,
        .kind = s->layout,
        .tile_w = gv_tile_width(s->tile_height, s->aspect_w, s->aspect_h),
        .tile_h = s->tile_height,
        .gap = s->gap,
        .lanes = s->rows,
        .n_images = n_images,
        .direction = s->direction,
        .easing = s->easing,
        .speed = s->speed,
        .duration = s->duration,
        .fps_num = s->fps_num,
        .fps_den = s->fps_den,
        .motion_blur = s->motion_blur,
    };
}

int gv_layout_init(GvLayout *l, const GvLayoutParams *p)
{
    memset(l, 0, sizeof(*l));
    if (p->width <= 0 || p->height <= 0 || p->tile_w <= 0 || p->tile_h <= 0 || p->gap < 0 ||
        p->lanes < 0 || p->n_images < 0 || p->motion_blur < 1 || p->speed < 0)
        return -EINVAL;
    l->p = *p;
    const int rows = p->kind == GV_LAYOUT_ROWS;
    l->main_len = rows ? p->width : p->height;
    l->cross_len = rows ? p->height : p->width;
    l->step = rows ? p->tile_w : p->tile_h;
    l->thick = rows ? p->tile_h : p->tile_w;
    l->frames = gv_frame_count(p->fps_num, p->fps_den, p->duration);
    if (l->frames <= 0)
        return -EINVAL;

    const int rows_n = p->lanes > 0 ? p->lanes : gv_auto_lanes(l->cross_len, l->thick, p->gap);
    if (rows_n <= 0)
        return -EINVAL;
    const int64_t block = (int64_t)rows_n * l->thick + (int64_t)(rows_n - 1) * p->gap;
    const int64_t y0 = gv_floor_div((int64_t)l->cross_len - block, 2);
    if (block > INT32_MAX || y0 < INT32_MIN / 2)
        return -EINVAL;
    /* a camera that sees more of the wall than the frame: lanes above and
     * below repeat the rows (lane r shows row (r - above) mod R) */
    int above = 0;
    if (p->view_cross > l->cross_len) {
        const int seen = gv_auto_lanes(p->view_cross, l->thick, p->gap);
        if (seen > rows_n)
            above = (seen - rows_n + 1) / 2;
    }
    const int n_lanes = rows_n + 2 * above;
    const int64_t pitch = (int64_t)l->thick + p->gap;
    const int64_t first = y0 - above * pitch;
    if (first < INT32_MIN / 2 || first + n_lanes * pitch > INT32_MAX / 2)
        return -EINVAL;
    l->first = (int)first;
    l->rows = rows_n;

    l->lanes = calloc((size_t)n_lanes, sizeof(*l->lanes));
    if (!l->lanes)
        return -ENOMEM;
    l->n_lanes = n_lanes;
    const int64_t cstep = (int64_t)l->step + p->gap;
    for (int r = 0; r < n_lanes; r++) {
        GvLane *const lane = &l->lanes[r];
        const int row = (int)gv_floor_mod(r - above, rows_n);
        lane->src = row;
        lane->n = p->n_images > row ? (p->n_images - row + rows_n - 1) / rows_n : 0;
        lane->period = lane->n * cstep;
        lane->travel = p->speed > 0 ? p->speed * p->duration : (double)lane->period;
        const int right = p->direction == GV_DIRECTION_RIGHT ||
                          (p->direction == GV_DIRECTION_ALTERNATE && (row & 1));
        lane->sign = right ? -1 : 1;
        lane->pos = (int)(first + (int64_t)r * pitch);
        lane->vis_lo = 0;
        lane->vis_hi = l->main_len;
    }
    return 0;
}

/* e(p): EASING's curve, or the beats' (the same for every lane). */
static double layout_ease(const GvLayout *l, double p)
{
    return l->p.n_beats > 0
               ? gv_beat_ease(l->p.beat_mode, l->p.beats, l->p.n_beats, l->p.duration, p)
               : gv_ease(l->p.easing, p);
}

double gv_lane_offset(const GvLayout *l, int lane, double p)
{
    const GvLane *const ln = &l->lanes[lane];
    return ln->sign * ln->travel * layout_ease(l, p);
}

/* Lane r's quantised offset where the curve is at e. */
static GvOffset lane_offset(const GvLayout *l, int r, double e)
{
    const GvLane *const ln = &l->lanes[r];
    return gv_offset_quantize(ln->sign * ln->travel * e, ln->period);
}

GvOffset gv_offset_quantize(double u, int64_t period)
{
    const int64_t q = (int64_t)floor(u * GV_FRAC_ONE + 0.5);
    GvOffset o;
    o.pos = gv_floor_div(q, GV_FRAC_ONE);
    o.frac = (int)(q - o.pos * GV_FRAC_ONE);
    o.pos = period > 0 ? gv_floor_mod(o.pos, period) : 0;
    return o;
}

void gv_frame_offsets(const GvLayout *l, int64_t frame, GvOffset *out)
{
    const int n = l->p.motion_blur;
    for (int j = 0; j < n; j++) {
        const double e = layout_ease(l, gv_sample_progress(frame, l->frames, j, n));
        for (int r = 0; r < l->n_lanes; r++)
            out[j * l->n_lanes + r] = lane_offset(l, r, e);
    }
}

int gv_lane_at(const GvLayout *l, int cross, int *line)
{
    const int64_t rel = (int64_t)cross - l->first;
    if (rel < 0)
        return -1;
    const int64_t pitch = (int64_t)l->thick + l->p.gap;
    const int64_t r = rel / pitch;
    if (r >= l->n_lanes)
        return -1;
    const int64_t t = rel - r * pitch;
    if (t >= l->thick)
        return -1;
    if (line)
        *line = (int)t;
    return (int)r;
}

/* Calls fn(opaque, k) for every image of lane r whose pixels lie in strip
 * positions [pos + vis_lo, pos + vis_hi] (the lane's window, interpolation
 * neighbour included). An image can be reported twice when the window
 * wraps. */
static void lane_window(const GvLayout *l, int r, int64_t pos, void (*fn)(void *, int),
                        void *opaque)
{
    const GvLane *const lane = &l->lanes[r];
    if (lane->n == 0 || lane->vis_lo > lane->vis_hi)
        return;
    const int64_t cstep = (int64_t)l->step + l->p.gap;
    const int64_t end = pos + lane->vis_hi;
    pos += lane->vis_lo;
    if (end - pos + 1 >= lane->period) {
        for (int c = 0; c < lane->n; c++)
            fn(opaque, gv_lane_image(l, r, c));
        return;
    }
    for (int64_t c = gv_floor_div(pos, cstep); c <= gv_floor_div(end, cstep); c++) {
        const int64_t x0 = c * cstep, x1 = x0 + l->step - 1;
        if (x1 < pos || x0 > end)
            continue;
        fn(opaque, gv_lane_image(l, r, (int)gv_floor_mod(c, lane->n)));
    }
}

/* lane_window() of every lane and blur sample of frame `frame`. */
static void frame_windows(const GvLayout *l, int64_t frame, void (*fn)(void *, int), void *opaque)
{
    const int n = l->p.motion_blur;
    for (int j = 0; j < n; j++) {
        const double e = layout_ease(l, gv_sample_progress(frame, l->frames, j, n));
        for (int r = 0; r < l->n_lanes; r++)
            lane_window(l, r, lane_offset(l, r, e).pos, fn, opaque);
    }
}

typedef struct Span {
    int64_t frame;
    int64_t *first, *last;
} Span;

static void extend_span(void *opaque, int k)
{
    Span *const s = opaque;
    if (s->first[k] < 0 || s->frame < s->first[k])
        s->first[k] = s->frame;
    if (s->frame > s->last[k])
        s->last[k] = s->frame;
}

void gv_layout_lifetimes(const GvLayout *l, int64_t *first, int64_t *last)
{
    for (int k = 0; k < l->p.n_images; k++)
        first[k] = last[k] = -1;
    Span s = { 0, first, last };
    for (int64_t i = 0; i < l->frames; i++) {
        s.frame = i;
        frame_windows(l, i, extend_span, &s);
    }
}

typedef struct Runs {
    int64_t frame;
    const unsigned char *want;
    int64_t *seen;   /* per image: the last frame that showed it, -1 none */
    int *count;      /* per image: runs so far */
    GvSpan *spans;   /* NULL: count only */
    const int *index;
} Runs;

static void extend_run(void *opaque, int k)
{
    Runs *const r = opaque;
    if (!r->want[k] || r->seen[k] == r->frame)
        return;
    if (r->seen[k] >= 0 && r->seen[k] == r->frame - 1) {
        if (r->spans)
            r->spans[r->index[k] + r->count[k] - 1].to = r->frame;
    } else {
        if (r->spans)
            r->spans[r->index[k] + r->count[k]] = (GvSpan){ r->frame, r->frame };
        r->count[k]++;
    }
    r->seen[k] = r->frame;
}

/* One pass over every frame and sample: counts the runs, or fills them. */
static void runs_pass(const GvLayout *l, Runs *r)
{
    for (int k = 0; k < l->p.n_images; k++) {
        r->seen[k] = -1;
        r->count[k] = 0;
    }
    for (int64_t i = 0; i < l->frames; i++) {
        r->frame = i;
        frame_windows(l, i, extend_run, r);
    }
}

int gv_layout_spans(const GvLayout *l, const unsigned char *want, GvSpan **spans, int **index)
{
    const size_t n = (size_t)l->p.n_images + 1;
    Runs r = { .want = want };
    *spans = NULL;
    *index = calloc(n, sizeof(**index));
    r.seen = malloc(n * sizeof(*r.seen));
    r.count = calloc(n, sizeof(*r.count));
    int ret = -ENOMEM;
    if (!*index || !r.seen || !r.count)
        goto end;
    runs_pass(l, &r);
    for (int k = 0; k < l->p.n_images; k++)
        (*index)[k + 1] = (*index)[k] + r.count[k];
    if (!(*spans = malloc(sizeof(**spans) * ((size_t)(*index)[l->p.n_images] + 1))))
        goto end;
    r.spans = *spans;
    r.index = *index;
    runs_pass(l, &r);
    ret = 0;
end:
    free(r.seen);
    free(r.count);
    if (ret < 0) {
        free(*index);
        *index = NULL;
    }
    return ret;
}

typedef struct Once {
    unsigned char *seen;
    void (*fn)(void *, int);
    void *opaque;
    int count;
} Once;

static void report_once(void *opaque, int k)
{
    Once *const o = opaque;
    if (o->seen[k >> 3] & (1u << (k & 7)))
        return;
    o->seen[k >> 3] |= (unsigned char)(1u << (k & 7));
    o->count++;
    if (o->fn)
        o->fn(o->opaque, k);
}

int gv_frame_images(const GvLayout *l, int64_t frame, void (*fn)(void *, int), void *opaque)
{
    Once o = { calloc((size_t)l->p.n_images / 8 + 1, 1), fn, opaque, 0 };
    if (!o.seen)
        return -ENOMEM;
    frame_windows(l, frame, report_once, &o);
    free(o.seen);
    return o.count;
}
