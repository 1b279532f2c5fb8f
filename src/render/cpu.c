/*
 * The CPU reference compositor. Every output sample is a sum over blur
 * samples of a linear interpolation between two strip pixels, in exact
 * integer arithmetic (see compositor.h), so that other backends can be
 * compared with it sample for sample.
 *
 * Rows: a luma line lies in one lane, so the strip window it needs is
 * gathered once with memcpy (tiles and gaps in runs) and interpolated in
 * one vectorisable pass. Columns: every lane of a line reads two strip
 * lines and blends them.
 */
#include "render/compositor.h"
#include "cputime.h"
#include "view.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct Scratch {
    uint8_t *gather;  /* main_len + 1 strip samples */
    uint32_t *acc;    /* main_len or cross_len sums */
    GvViewHint *hints; /* the view path's: one per blur sample */
} Scratch;

typedef struct Job {
    const GvLayout *l;
    const uint8_t *bg;
    const GvTile *const *tiles;
    const GvOffset *offsets;
    GvPicture *out;
    /* the view path (src/view.h): the frame's tile copies and mip chains */
    const GvViewRun *runs;
    const GvViewInst *insts;
    const uint8_t *const *chains;
} Job;

static const uint8_t *tile_plane(const GvTile *t, int plane)
{
    return plane == 0 ? t->y : plane == 1 ? t->u : t->v;
}

/* Copies strip samples [pos, pos + len) of lane r, line t, plane p into g. */
static void gather_strip(const Job *job, int r, int t, int plane, int64_t pos, int len, uint8_t *g)
{
    const GvLayout *const l = job->l;
    const GvLane *const lane = &l->lanes[r];
    const int64_t cstep = (int64_t)l->step + l->p.gap;
    int64_t s = pos % lane->period;
    int64_t col = s / cstep;
    int64_t w = s - col * cstep;
    int done = 0;
    while (done < len) {
        if (w < l->step) {
            int run = (int)(l->step - w);
            if (run > len - done)
                run = len - done;
            const GvTile *const tile = job->tiles[gv_lane_image(l, r, (int)col)];
            if (tile)
                memcpy(g + done, tile_plane(tile, plane) + (size_t)t * tile->w + w, (size_t)run);
            else
                memset(g + done, job->bg[plane], (size_t)run);
            done += run;
            w += run;
        } else {
            int run = (int)(cstep - w);
            if (run > len - done)
                run = len - done;
            memset(g + done, job->bg[plane], (size_t)run);
            done += run;
            w += run;
        }
        if (w == cstep) {
            w = 0;
            if (++col == lane->n)
                col = 0;
        }
    }
}

/* Pointer to line `s` of the strip of lane r, plane p; NULL for background. */
static const uint8_t *strip_line(const Job *job, int r, int64_t s, int plane)
{
    const GvLayout *const l = job->l;
    const int64_t cstep = (int64_t)l->step + l->p.gap;
    const int64_t col = s / cstep, w = s - col * cstep;
    if (w >= l->step)
        return NULL;
    const GvTile *const tile = job->tiles[gv_lane_image(l, r, (int)col)];
    return tile ? tile_plane(tile, plane) + (size_t)w * tile->w : NULL;
}

/*
 * Adds v_j for the samples of luma line y at x = 0, xstep, 2 xstep, ...
 * (count of them) of plane p to acc, for one blur sample whose lane
 * offsets are offs.
 */
static void accumulate_line(const Job *job, Scratch *sc, int plane, int y, int xstep,
                            const GvOffset *offs, uint32_t *acc, int count)
{
    const GvLayout *const l = job->l;
    const uint32_t bgv = (uint32_t)job->bg[plane] * GV_FRAC_ONE;

    if (l->p.kind == GV_LAYOUT_ROWS) {
        int t;
        const int r = gv_lane_at(l, y, &t);
        if (r < 0 || l->lanes[r].n == 0) {
            for (int i = 0; i < count; i++)
                acc[i] += bgv;
            return;
        }
        const GvOffset o = offs[r];
        const int len = (count - 1) * xstep + 2;
        gather_strip(job, r, t, plane, o.pos, len, sc->gather);
        const uint8_t *const g = sc->gather;
        const uint32_t fb = (uint32_t)o.frac, fa = GV_FRAC_ONE - fb;
        if (xstep == 1) {
            for (int i = 0; i < count; i++)
                acc[i] += g[i] * fa + g[i + 1] * fb;
        } else {
            for (int i = 0; i < count; i++)
                acc[i] += g[2 * i] * fa + g[2 * i + 1] * fb;
        }
        return;
    }

    /* Columns: lanes across x; y is the main-axis coordinate. */
    for (int i = 0; i < count; i++) {
        const int x = i * xstep;
        int t;
        const int r = gv_lane_at(l, x, &t);
        if (r < 0 || l->lanes[r].n == 0) {
            acc[i] += bgv;
            continue;
        }
        /* Run to the end of this lane (or the line) with one pair of lines. */
        const GvLane *const lane = &l->lanes[r];
        const GvOffset o = offs[r];
        const int64_t s0 = (y + o.pos) % lane->period;
        const int64_t s1 = s0 + 1 == lane->period ? 0 : s0 + 1;
        const uint8_t *const a = strip_line(job, r, s0, plane);
        const uint8_t *const b = strip_line(job, r, s1, plane);
        const uint32_t fb = (uint32_t)o.frac, fa = GV_FRAC_ONE - fb;
        const int lane_end = lane->pos + l->thick; /* first x past the lane */
        int last = (lane_end - 1) / xstep;         /* last i inside the lane */
        if (last > count - 1)
            last = count - 1;
        for (; i <= last; i++) {
            const int tx = i * xstep - lane->pos;
            const uint32_t va = a ? a[tx] : job->bg[plane];
            const uint32_t vb = b ? b[tx] : job->bg[plane];
            acc[i] += va * fa + vb * fb;
        }
        i--;
        (void)t;
    }
}

/* The view path, through src/view.c's reference: each luma pixel's spot
 * is found once per blur sample, and serves Y and, at even x, the chroma
 * sample over it (lines go in pairs: bands start on even lines). */
static void render_view_lines(const Job *job, Scratch *sc, int from, int to)
{
    const GvLayout *const l = job->l;
    const GvView *const v = l->view;
    const int n = l->p.motion_blur, w = job->out->width;
    const uint32_t ny = (uint32_t)n * GV_FRAC_ONE, nc = 2 * ny;
    const GvViewJob vj = { v, l, job->offsets, job->runs, job->insts, job->chains };
    uint32_t *const cu = sc->acc, *const cv = sc->acc + w / 2 + 1;
    GvViewHint *const hints = sc->hints;
    for (int y0 = from; y0 < to; y0 += 2) {
        memset(cu, 0, sizeof(*cu) * (size_t)(w / 2));
        memset(cv, 0, sizeof(*cv) * (size_t)(w / 2));
        for (int y = y0; y < y0 + 2 && y < to; y++) {
            uint8_t *const dst = job->out->data[0] + (size_t)y * job->out->linesize[0];
            memset(hints, 0, sizeof(*hints) * (size_t)n);
            for (int x = 0; x < w; x++) {
                uint32_t acc = 0;
                for (int j = 0; j < n; j++) {
                    GvViewSpot spot;
                    gv_view_locate(&vj, x, y, j, &spot, &hints[j]);
                    acc += gv_view_fetch(v, &spot, 0, job->bg[0]);
                    if (!(x & 1)) {
                        cu[x >> 1] += gv_view_fetch(v, &spot, 1, job->bg[1]);
                        cv[x >> 1] += gv_view_fetch(v, &spot, 2, job->bg[2]);
                    }
                }
                dst[x] = (uint8_t)((acc + ny / 2) / ny);
            }
        }
        uint8_t *const du = job->out->data[1] + (size_t)(y0 / 2) * job->out->linesize[1];
        uint8_t *const dv = job->out->data[2] + (size_t)(y0 / 2) * job->out->linesize[2];
        for (int cx = 0; cx < w / 2; cx++) {
            du[cx] = (uint8_t)((cu[cx] + nc / 2) / nc);
            dv[cx] = (uint8_t)((cv[cx] + nc / 2) / nc);
        }
    }
}

static void render_lines(const Job *job, Scratch *sc, int from, int to)
{
    if (job->l->view && job->l->view->active) {
        render_view_lines(job, sc, from, to);
        return;
    }
    const GvLayout *const l = job->l;
    const int n = l->p.motion_blur, n_lanes = l->n_lanes;
    const int w = job->out->width;
    const uint32_t ny = (uint32_t)n * GV_FRAC_ONE, nc = 2 * ny;

    for (int y = from; y < to; y++) {
        memset(sc->acc, 0, sizeof(*sc->acc) * (size_t)w);
        for (int j = 0; j < n; j++)
            accumulate_line(job, sc, 0, y, 1, job->offsets + (size_t)j * n_lanes, sc->acc, w);
        uint8_t *const dst = job->out->data[0] + (size_t)y * job->out->linesize[0];
        for (int x = 0; x < w; x++)
            dst[x] = (uint8_t)((sc->acc[x] + ny / 2) / ny);
    }
    const int cw = w / 2;
    for (int plane = 1; plane <= 2; plane++) {
        for (int cy = from / 2; cy < to / 2; cy++) {
            memset(sc->acc, 0, sizeof(*sc->acc) * (size_t)cw);
            for (int j = 0; j < n; j++) {
                const GvOffset *const offs = job->offsets + (size_t)j * n_lanes;
                accumulate_line(job, sc, plane, 2 * cy, 2, offs, sc->acc, cw);
                accumulate_line(job, sc, plane, 2 * cy + 1, 2, offs, sc->acc, cw);
            }
            uint8_t *const dst = job->out->data[plane] + (size_t)cy * job->out->linesize[plane];
            for (int x = 0; x < cw; x++)
                dst[x] = (uint8_t)((sc->acc[x] + nc / 2) / nc);
        }
    }
}

static int scratch_init(Scratch *sc, const GvLayout *l)
{
    const size_t len = (size_t)(l->main_len > l->cross_len ? l->main_len : l->cross_len) + 2;
    sc->gather = malloc(len);
    sc->acc = malloc(len * sizeof(*sc->acc));
    sc->hints = malloc(sizeof(*sc->hints) * (size_t)l->p.motion_blur);
    return sc->gather && sc->acc && sc->hints ? 0 : -ENOMEM;
}

static void scratch_free(Scratch *sc)
{
    free(sc->gather);
    free(sc->acc);
    free(sc->hints);
}

/* The view's per-frame state: mip chains by image, the frame's tile copies. */
typedef struct ViewState {
    uint8_t **chains;
    GvViewLook *looks;
    GvViewRun *runs;
    GvViewInst *insts;
} ViewState;

static void view_state_free(ViewState *vs, int n_images)
{
    if (vs->chains)
        for (int k = 0; k < n_images; k++)
            free(vs->chains[k]);
    free(vs->chains);
    free(vs->looks);
    free(vs->runs);
    free(vs->insts);
    memset(vs, 0, sizeof(*vs));
}

static int view_state_init(ViewState *vs, const GvLayout *l)
{
    memset(vs, 0, sizeof(*vs));
    vs->chains = calloc((size_t)l->p.n_images + 1, sizeof(*vs->chains));
    vs->looks = calloc((size_t)l->p.n_images + 1, sizeof(*vs->looks));
    vs->runs = calloc((size_t)l->n_lanes * (size_t)l->p.motion_blur, sizeof(*vs->runs));
    vs->insts = malloc(sizeof(*vs->insts) * ((size_t)gv_view_max_insts(l->view, l) + 1));
    return vs->chains && vs->looks && vs->runs && vs->insts ? 0 : -ENOMEM;
}

/* Image k's mip chain from its tile (NULL: none). */
static int view_state_set(ViewState *vs, const GvView *v, int k, const GvTile *tile)
{
    free(vs->chains[k]);
    vs->chains[k] = NULL;
    if (!tile)
        return 0;
    vs->looks[k] = (GvViewLook){ tile->focus_x, tile->focus_y, tile->aspect };
    if (!(vs->chains[k] = malloc((size_t)v->chain_bytes * 3)))
        return -ENOMEM;
    gv_view_chain(v, tile, vs->chains[k]);
    return 0;
}

int gv_cpu_render(const GvLayout *l, const uint8_t bg_yuv[3], const GvTile *const *tiles,
                  const GvOffset *offsets, GvPicture *out, int lines_from, int lines_to)
{
    Job job = { l, bg_yuv, tiles, offsets, out, NULL, NULL, NULL };
    Scratch sc;
    ViewState vs = { 0 };
    int ret = scratch_init(&sc, l);
    if (ret == 0 && l->view && l->view->active) {
        ret = view_state_init(&vs, l);
        for (int k = 0; ret == 0 && k < l->p.n_images; k++)
            if (tiles[k])
                ret = view_state_set(&vs, l->view, k, tiles[k]);
        if (ret == 0) {
            gv_view_frame(l->view, l, offsets, vs.looks, vs.runs, vs.insts);
            job.runs = vs.runs;
            job.insts = vs.insts;
            job.chains = (const uint8_t *const *)vs.chains;
        }
    }
    if (ret == 0)
        render_lines(&job, &sc, lines_from, lines_to);
    scratch_free(&sc);
    view_state_free(&vs, l->p.n_images);
    return ret;
}

/* ---- the backend: tiles by image index, frames split into bands ---- */

typedef struct Band {
    pthread_t thread;
    struct Cpu *cpu;
    Scratch sc;
    int from, to;
    int started;
} Band;

typedef struct Cpu {
    const GvLayout *l;
    uint8_t bg[3];
    const GvTile **tiles;
    GvOffset *offsets;
    ViewState vs;      /* the view path's */
    int n_bands;
    Band *bands;
    /* fork-join: workers wait for a new generation, render, report done */
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    uint64_t generation;
    int pending;
    int quit;
    Job job;
} Cpu;

static void *band_main(void *arg)
{
    gv_thread_name("gv-comp");
    Band *const b = arg;
    Cpu *const c = b->cpu;
    uint64_t seen = 0;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->quit && c->generation == seen)
            pthread_cond_wait(&c->go, &c->lock);
        if (c->quit)
            break;
        seen = c->generation;
        pthread_mutex_unlock(&c->lock);
        render_lines(&c->job, &b->sc, b->from, b->to);
        pthread_mutex_lock(&c->lock);
        if (--c->pending == 0)
            pthread_cond_signal(&c->done);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static void cpu_close(void **priv)
{
    Cpu *const c = *priv;
    if (!c)
        return;
    if (c->bands) {
        pthread_mutex_lock(&c->lock);
        c->quit = 1;
        pthread_cond_broadcast(&c->go);
        pthread_mutex_unlock(&c->lock);
        for (int i = 1; i < c->n_bands; i++)
            if (c->bands[i].started)
                pthread_join(c->bands[i].thread, NULL);
        for (int i = 0; i < c->n_bands; i++)
            scratch_free(&c->bands[i].sc);
        free(c->bands);
    }
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->go);
    pthread_cond_destroy(&c->done);
    free(c->tiles);
    free(c->offsets);
    view_state_free(&c->vs, c->l->p.n_images);
    free(c);
    *priv = NULL;
}

static int cpu_open(void **priv, const GvCompositorConfig *cfg)
{
    const GvLayout *const l = cfg->layout;
    Cpu *const c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->go, NULL);
    pthread_cond_init(&c->done, NULL);
    c->l = l;
    memcpy(c->bg, cfg->bg_yuv, 3);
    c->tiles = calloc((size_t)l->p.n_images + 1, sizeof(*c->tiles));
    c->offsets = calloc((size_t)l->p.motion_blur * (size_t)l->n_lanes, sizeof(*c->offsets));
    /* Bands of at least 64 lines: thinner ones cost more in wake-ups than they save. */
    int n = cfg->threads > 0 ? cfg->threads : 1;
    if (n > l->p.height / 64)
        n = l->p.height / 64 > 0 ? l->p.height / 64 : 1;
    c->bands = calloc((size_t)n, sizeof(*c->bands));
    if (!c->tiles || !c->offsets || !c->bands)
        goto error;
    if (l->view && l->view->active && view_state_init(&c->vs, l) < 0)
        goto error;
    c->n_bands = n;
    for (int i = 0; i < n; i++) {
        Band *const b = &c->bands[i];
        /* even band edges so that chroma lines are not split */
        b->from = (int)(((int64_t)l->p.height * i / n) & ~1);
        b->to = (int)(((int64_t)l->p.height * (i + 1) / n) & ~1);
        if (i == n - 1)
            b->to = l->p.height;
        if (scratch_init(&b->sc, l) < 0)
            goto error;
        b->cpu = c;
        if (i > 0) {
            if (pthread_create(&b->thread, NULL, band_main, b) != 0)
                goto error;
            b->started = 1;
        }
    }
    *priv = c;
    return 0;
error:
    {
        void *p = c;
        cpu_close(&p);
    }
    return -ENOMEM;
}

static int cpu_tile_add(void *priv, int k, const GvTile *tile)
{
    Cpu *const c = priv;
    const GvView *const v = c->l->view && c->l->view->active ? c->l->view : NULL;
    const int w = v ? v->src_w : c->l->p.tile_w, h = v ? v->src_h : c->l->p.tile_h;
    if (k < 0 || k >= c->l->p.n_images || tile->w != w || tile->h != h)
        return -EINVAL;
    if (v) {
        const int ret = view_state_set(&c->vs, v, k, tile);
        if (ret < 0)
            return ret;
    }
    c->tiles[k] = tile;
    return 0;
}

static void cpu_tile_remove(void *priv, int k)
{
    Cpu *const c = priv;
    if (k >= 0 && k < c->l->p.n_images) {
        c->tiles[k] = NULL;
        if (c->vs.chains)
            view_state_set(&c->vs, c->l->view, k, NULL);
    }
}

static int cpu_submit(void *priv, int64_t frame, GvPicture *out)
{
    Cpu *const c = priv;
    gv_frame_offsets(c->l, frame, c->offsets);
    c->job = (Job){ c->l, c->bg, c->tiles, c->offsets, out, c->vs.runs, c->vs.insts,
                    (const uint8_t *const *)c->vs.chains };
    if (c->vs.runs)
        gv_view_frame(c->l->view, c->l, c->offsets, c->vs.looks, c->vs.runs, c->vs.insts);
    if (c->n_bands > 1) {
        pthread_mutex_lock(&c->lock);
        c->pending = c->n_bands - 1;
        c->generation++;
        pthread_cond_broadcast(&c->go);
        pthread_mutex_unlock(&c->lock);
    }
    render_lines(&c->job, &c->bands[0].sc, c->bands[0].from, c->bands[0].to);
    if (c->n_bands > 1) {
        pthread_mutex_lock(&c->lock);
        while (c->pending > 0)
            pthread_cond_wait(&c->done, &c->lock);
        pthread_mutex_unlock(&c->lock);
    }
    return 0;
}

static void cpu_set_background(void *priv, const uint8_t bg_yuv[3])
{
    Cpu *const c = priv;
    memcpy(c->bg, bg_yuv, 3);
}

static int cpu_wait(void *priv)
{
    (void)priv;
    return 0;
}

static const char *cpu_device_name(void *priv)
{
    (void)priv;
    return "cpu";
}

const GvCompositorOps gv_compositor_cpu = {
    .name = "cpu",
    .open = cpu_open,
    .tile_add = cpu_tile_add,
    .tile_remove = cpu_tile_remove,
    .submit = cpu_submit,
    .wait = cpu_wait,
    .close = cpu_close,
    .device_name = cpu_device_name,
    .set_background = cpu_set_background,
    .depth = 1,
};
