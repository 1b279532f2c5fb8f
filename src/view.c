#include "view.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int even_round(double v)
{
    return 2 * (int)floor(v / 2 + 0.5);
}

GvViewParams gv_view_params(const GvSettings *s)
{
    /* the presets' tilt and turn; an explicit non-zero value wins */
    static const double presets[][2] = {
        [GV_CAMERA_NONE] = { 0, 0 },
        [GV_CAMERA_TILTED] = { 25, -15 },
        [GV_CAMERA_FLOOR] = { 60, 0 },
        [GV_CAMERA_SIDE] = { 0, 35 },
    };
    const int preset = (int)s->camera >= 0 && (int)s->camera <= GV_CAMERA_SIDE ? (int)s->camera : 0;
    GvViewParams p = {
        .width = s->width,
        .height = s->height,
        .kind = s->layout,
        .tile_w = gv_tile_width(s->tile_height, s->aspect_w, s->aspect_h),
        .tile_h = s->tile_height,
        .crop = s->crop,
        .ken_burns = s->ken_burns,
        .tilt = s->tilt != 0 ? s->tilt : presets[preset][0],
        .turn = s->turn != 0 ? s->turn : presets[preset][1],
        .fov = s->fov > 0 ? s->fov : 50,
        .distance = s->distance > 0 ? s->distance : 1,
        .depth_fade = s->depth_fade,
    };
    p.camera = preset != GV_CAMERA_NONE || p.tilt != 0 || p.turn != 0;
    return p;
}

/* ---- the camera ---- */

typedef struct Cam {
    double cx, cy, f, d;
    double e1[3], e2[3], n[3];
} Cam;

static void cam_init(Cam *c, const GvViewParams *p)
{
    const double t = p->tilt * M_PI / 180, u = p->turn * M_PI / 180;
    c->cx = (p->width - 1) / 2.0;
    c->cy = (p->height - 1) / 2.0;
    c->f = p->height / 2.0 / tan(p->fov * M_PI / 360);
    c->d = c->f * p->distance;
    const double e1[3] = { cos(u), 0, sin(u) };
    const double e2[3] = { sin(u) * sin(t), cos(t), -cos(u) * sin(t) };
    const double n[3] = { -sin(u) * cos(t), sin(t), cos(u) * cos(t) };
    memcpy(c->e1, e1, sizeof(e1));
    memcpy(c->e2, e2, sizeof(e2));
    memcpy(c->n, n, sizeof(n));
}

static int cam_project(const Cam *c, double x, double y, double *wx, double *wy, double *depth)
{
    const double ray[3] = { x - c->cx, y - c->cy, c->f };
    const double den = ray[0] * c->n[0] + ray[1] * c->n[1] + ray[2] * c->n[2];
    if (!(den > 1e-9))
        return 0;
    const double s = c->d * c->n[2] / den;
    const double q[3] = { s * ray[0], s * ray[1], s * ray[2] - c->d };
    const double dist = s * sqrt(ray[0] * ray[0] + ray[1] * ray[1] + ray[2] * ray[2]);
    if (!(s > 0) || dist > GV_VIEW_FAR * c->d)
        return 0;
    *wx = c->cx + q[0] * c->e1[0] + q[1] * c->e1[1] + q[2] * c->e1[2];
    *wy = c->cy + q[0] * c->e2[0] + q[1] * c->e2[1] + q[2] * c->e2[2];
    *depth = dist;
    return 1;
}

int gv_view_project(const GvView *v, double x, double y, double *wx, double *wy, double *depth)
{
    if (!v->p.camera) {
        *wx = x;
        *wy = y;
        *depth = 1;
        return 1;
    }
    Cam c;
    cam_init(&c, &v->p);
    return cam_project(&c, x, y, wx, wy, depth);
}

typedef struct Pt {
    double x, y, depth;
    int ok;
} Pt;

static void project_line(const Cam *c, int w, int y, Pt *line)
{
    for (int x = 0; x <= w; x++)
        line[x].ok = cam_project(c, x, y, &line[x].x, &line[x].y, &line[x].depth);
}

static double span(const Pt *a, const Pt *b)
{
    return hypot(b->x - a->x, b->y - a->y);
}

/* A band of map lines [from, to), with what it saw. */
typedef struct Band {
    GvView *v;
    const Cam *c;
    int from, to;
    double lo, hi, foot_min;
    int failed;
    int started; /* on its own thread */
    pthread_t thread;
} Band;

static void *map_band(void *arg)
{
    Band *const bd = arg;
    GvView *const v = bd->v;
    const Cam *const c = bd->c;
    const int w = v->p.width;
    const int rows = v->p.kind == GV_LAYOUT_ROWS;
    Pt *a = malloc(sizeof(*a) * ((size_t)w + 1)), *b = malloc(sizeof(*b) * ((size_t)w + 1));
    bd->lo = INFINITY;
    bd->hi = -INFINITY;
    bd->foot_min = INFINITY;
    if (!a || !b) {
        bd->failed = 1;
        free(a);
        free(b);
        return NULL;
    }
    const double fade = v->p.depth_fade / 100;
    project_line(c, w, bd->from, a);
    for (int y = bd->from; y < bd->to; y++) {
        project_line(c, w, y + 1, b);
        int32_t *const m = v->map + 3 * (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++) {
            const Pt *const p = &a[x];
            if (!p->ok) {
                m[3 * x] = m[3 * x + 1] = 0;
                m[3 * x + 2] = (int32_t)GV_VIEW_NONE;
                continue;
            }
            double foot = 1e6;
            if (a[x + 1].ok && b[x].ok) {
                foot = fmax(span(p, &a[x + 1]), span(p, &b[x]));
                bd->foot_min = fmin(bd->foot_min, foot);
            }
            const double l = fmin(fmax(256 * log2(fmax(foot, 1e-6)), -8192), 8192);
            const double f = fmin(fmax(1 - fade * (p->depth - c->d) / (3 * c->d), 0), 1);
            m[3 * x] = (int32_t)floor(p->x * 256 + 0.5);
            m[3 * x + 1] = (int32_t)floor(p->y * 256 + 0.5);
            m[3 * x + 2] = (int32_t)((uint32_t)(32768 + (int)floor(l + 0.5)) |
                                     (uint32_t)floor(256 * f + 0.5) << 16);
            const double cross = rows ? p->y : p->x;
            bd->lo = fmin(bd->lo, cross);
            bd->hi = fmax(bd->hi, cross);
        }
        Pt *const t = a;
        a = b;
        b = t;
    }
    free(a);
    free(b);
    return NULL;
}

/* Fills the map in bands on the threads; returns the smallest footprint
 * seen (wall pixels per output pixel), or -ENOMEM. */
static int build_map(GvView *v, double *min_foot)
{
    const int w = v->p.width, h = v->p.height;
    Cam c;
    cam_init(&c, &v->p);
    int n = v->p.threads > 0 ? v->p.threads : 1;
    if (n > h / 16)
        n = h / 16 > 0 ? h / 16 : 1;
    Band *const bands = calloc((size_t)n, sizeof(*bands));
    v->map = malloc(sizeof(*v->map) * 3 * (size_t)w * (size_t)h);
    if (!bands || !v->map) {
        free(bands);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        bands[i] = (Band){ .v = v, .c = &c, .from = (int)((int64_t)h * i / n),
                           .to = (int)((int64_t)h * (i + 1) / n) };
        /* the first band runs here, and any band whose thread fails */
        if (i > 0 && pthread_create(&bands[i].thread, NULL, map_band, &bands[i]) == 0)
            bands[i].started = 1;
        else if (i > 0)
            map_band(&bands[i]);
    }
    map_band(&bands[0]);
    double lo = INFINITY, hi = -INFINITY, foot = INFINITY;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        if (bands[i].started)
            pthread_join(bands[i].thread, NULL);
        failed |= bands[i].failed;
        lo = fmin(lo, bands[i].lo);
        hi = fmax(hi, bands[i].hi);
        foot = fmin(foot, bands[i].foot_min);
    }
    free(bands);
    if (failed)
        return -ENOMEM;
    const int cross_len = v->p.kind == GV_LAYOUT_ROWS ? h : w;
    v->cross_lo = isfinite(lo) ? (int)floor(lo) : 0;
    v->cross_hi = isfinite(hi) ? (int)ceil(hi) : cross_len - 1;
    *min_foot = foot;
    return 0;
}

void gv_view_free(GvView *v)
{
    if (!v)
        return;
    free(v->map);
    v->map = NULL;
}

int gv_view_init(GvView *v, const GvViewParams *p)
{
    memset(v, 0, sizeof(*v));
    v->p = *p;
    if (p->width <= 0 || p->height <= 0 || p->tile_w <= 0 || p->tile_h <= 0 ||
        !(p->ken_burns >= 0 && p->ken_burns <= 100) ||
        (p->camera && !(p->fov > 0 && p->fov < 180 && p->distance > 0 && fabs(p->tilt) < 90 &&
                        fabs(p->turn) < 90)))
        return -EINVAL;
    v->active = p->ken_burns > 0 || p->camera;
    v->magnification = 1;
    if (p->camera) {
        double foot;
        const int ret = build_map(v, &foot);
        if (ret < 0) {
            gv_view_free(v);
            return ret;
        }
        if (foot > 0 && isfinite(foot))
            v->magnification = fmin(fmax(1 / foot, 1), 2);
    }
    v->scale = (1 + p->ken_burns / 100) * v->magnification;
    v->src_w = even_round(p->tile_w * v->scale);
    v->src_h = even_round(p->tile_h * v->scale);
    if (v->src_w < p->tile_w)
        v->src_w = p->tile_w;
    if (v->src_h < p->tile_h)
        v->src_h = p->tile_h;
    /* mip levels only where the camera shrinks tiles */
    int64_t off = 0;
    for (int l = 0; l < GV_VIEW_LEVELS; l++) {
        v->lw[l] = v->src_w >> l > 0 ? v->src_w >> l : 1;
        v->lh[l] = v->src_h >> l > 0 ? v->src_h >> l : 1;
        v->loff[l] = off;
        off += (int64_t)v->lw[l] * v->lh[l];
        v->levels = l + 1;
        if (!p->camera || (v->lw[l] == 1 && v->lh[l] == 1))
            break;
    }
    v->chain_bytes = off;
    return 0;
}

int gv_view_cross(const GvView *v, int thick, int gap)
{
    const int rows = v->p.kind == GV_LAYOUT_ROWS;
    const int cross_len = rows ? v->p.height : v->p.width;
    if (!v->map)
        return cross_len;
    const double mid = cross_len / 2.0;
    const double half = fmax(mid - v->cross_lo, v->cross_hi + 1 - mid);
    const int64_t pitch = (int64_t)thick + gap;
    int64_t need = 2 * (int64_t)ceil(half);
    if (need > GV_VIEW_MAX_LANES * pitch)
        need = GV_VIEW_MAX_LANES * pitch;
    return need > cross_len ? (int)need : cross_len;
}

/* The lane and the line in it (1/256 pixel) at cross coordinate c8; -1 outside. */
static int lane_of(const GvLayout *l, int64_t c8, int64_t *t8)
{
    const int64_t rel = c8 - (int64_t)l->first * 256;
    if (rel < 0)
        return -1;
    const int64_t pitch = ((int64_t)l->thick + l->p.gap) * 256;
    const int64_t r = rel / pitch;
    *t8 = rel - r * pitch;
    if (r >= l->n_lanes || *t8 >= (int64_t)l->thick * 256)
        return -1;
    return (int)r;
}

void gv_view_attach(const GvView *v, GvLayout *l)
{
    l->view = v;
    if (!v->map)
        return;
    const int rows = l->p.kind == GV_LAYOUT_ROWS;
    for (int r = 0; r < l->n_lanes; r++) {
        l->lanes[r].vis_lo = INT64_MAX;
        l->lanes[r].vis_hi = INT64_MIN;
    }
    const size_t n = (size_t)v->p.width * (size_t)v->p.height;
    for (size_t i = 0; i < n; i++) {
        const int32_t *const m = v->map + 3 * i;
        if ((uint32_t)m[2] == GV_VIEW_NONE)
            continue;
        int64_t t8;
        const int r = lane_of(l, rows ? m[1] : m[0], &t8);
        if (r < 0)
            continue;
        const int64_t main = gv_floor_div(rows ? m[0] : m[1], 256);
        GvLane *const lane = &l->lanes[r];
        if (main < lane->vis_lo)
            lane->vis_lo = main;
        if (main + 1 > lane->vis_hi)
            lane->vis_hi = main + 1;
    }
    for (int r = 0; r < l->n_lanes; r++)
        if (l->lanes[r].vis_lo > l->lanes[r].vis_hi) {
            l->lanes[r].vis_lo = 1;
            l->lanes[r].vis_hi = 0;
        }
}

void gv_view_chain(const GvView *v, const GvTile *t, uint8_t *dst)
{
    const uint8_t *const planes[3] = { t->y, t->u, t->v };
    for (int p = 0; p < 3; p++) {
        uint8_t *const chain = dst + (size_t)p * (size_t)v->chain_bytes;
        memcpy(chain, planes[p], (size_t)v->lw[0] * (size_t)v->lh[0]);
        for (int l = 1; l < v->levels; l++) {
            const uint8_t *const s = chain + v->loff[l - 1];
            uint8_t *const d = chain + v->loff[l];
            const int sw = v->lw[l - 1], sh = v->lh[l - 1];
            for (int y = 0; y < v->lh[l]; y++) {
                const int y0 = 2 * y < sh ? 2 * y : sh - 1, y1 = 2 * y + 1 < sh ? 2 * y + 1 : sh - 1;
                for (int x = 0; x < v->lw[l]; x++) {
                    const int x0 = 2 * x < sw ? 2 * x : sw - 1;
                    const int x1 = 2 * x + 1 < sw ? 2 * x + 1 : sw - 1;
                    const unsigned sum = s[(size_t)y0 * sw + x0] + s[(size_t)y0 * sw + x1] +
                                         s[(size_t)y1 * sw + x0] + s[(size_t)y1 * sw + x1];
                    d[(size_t)y * v->lw[l] + x] = (uint8_t)((sum + 2) >> 2);
                }
            }
        }
    }
}

/* ---- Ken Burns ---- */

double gv_view_zoom(double ken_burns, int zoom_in, double tau)
{
    tau = fmin(fmax(tau, 0), 1);
    return 1 + ken_burns / 100 * (zoom_in ? tau : 1 - tau);
}

static void focus_of(GvCrop crop, double *fx, double *fy)
{
    *fx = crop == GV_CROP_LEFT ? 0 : crop == GV_CROP_RIGHT ? 1 : 0.5;
    *fy = crop == GV_CROP_TOP ? 0 : crop == GV_CROP_BOTTOM ? 1 : 0.5;
}

int64_t gv_view_max_insts(const GvView *v, const GvLayout *l)
{
    (void)v;
    const int64_t cstep = (int64_t)l->step + l->p.gap;
    int64_t n = 0;
    for (int r = 0; r < l->n_lanes; r++) {
        const GvLane *const lane = &l->lanes[r];
        if (lane->n > 0 && lane->vis_lo <= lane->vis_hi)
            n += (lane->vis_hi - lane->vis_lo) / cstep + 2;
    }
    return n * l->p.motion_blur;
}

void gv_view_window(double ken_burns, GvCrop crop, const GvViewLook *look, int sw, int sh,
                    int zoom_in, double tau, double win[4])
{
    double fx, fy;
    focus_of(crop, &fx, &fy);
    if (look && look->focus_x >= 0)
        fx = look->focus_x;
    if (look && look->focus_y >= 0)
        fy = look->focus_y;
    const double k = ken_burns / 100, aspect = look ? look->aspect : 0;
    const int wide = k > 0 && aspect >= GV_VIEW_PAN_ASPECT;
    const int tall = k > 0 && aspect > 0 && aspect <= 1 / GV_VIEW_PAN_ASPECT;
    tau = fmin(fmax(tau, 0), 1);
    /* panoramas and tall images pan along their long side at the full
     * zoom, one way or the other; the rest zoom */
    const double z = wide || tall ? 1 + k : gv_view_zoom(ken_burns, zoom_in, tau);
    const double pan = zoom_in ? tau : 1 - tau;
    win[2] = sw / z;
    win[3] = sh / z;
    win[0] = (wide ? pan : fx) * (sw - win[2]);
    win[1] = (tall ? pan : fy) * (sh - win[3]);
}

int gv_view_frame(const GvView *v, const GvLayout *l, const GvOffset *offs,
                  const GvViewLook *looks, GvViewRun *runs, GvViewInst *insts)
{
    const int64_t cstep8 = ((int64_t)l->step + l->p.gap) * 256;
    const int tw = l->p.tile_w, th = l->p.tile_h;
    int n = 0;
    for (int j = 0; j < l->p.motion_blur; j++)
        for (int r = 0; r < l->n_lanes; r++) {
            const GvLane *const lane = &l->lanes[r];
            GvViewRun *const run = &runs[j * l->n_lanes + r];
            const GvOffset o = offs[j * l->n_lanes + r];
            const int64_t off8 = o.pos * 256 + o.frac;
            run->base = n;
            run->first = 0;
            run->count = 0;
            if (lane->n == 0 || lane->vis_lo > lane->vis_hi)
                continue;
            const int64_t c0 = gv_floor_div(lane->vis_lo * 256 + off8, cstep8);
            const int64_t c1 = gv_floor_div(lane->vis_hi * 256 + off8, cstep8);
            run->first = (int32_t)c0;
            run->count = (int32_t)(c1 - c0 + 1);
            const double way = (double)(lane->vis_hi - lane->vis_lo) + l->step;
            for (int64_t c = c0; c <= c1; c++) {
                const int col = (int)gv_floor_mod(c, lane->n);
                /* the copy's centre along the motion, in frame coordinates */
                const double mid = (double)(c * cstep8 - off8) / 256 + (l->step - 1) / 2.0;
                const double q = (mid - (double)lane->vis_lo + l->step / 2.0) / way;
                const double tau = lane->sign > 0 ? 1 - q : q;
                const GvViewLook *const look = looks ? &looks[gv_lane_image(l, r, col)] : NULL;
                double win[4];
                gv_view_window(v->p.ken_burns, v->p.crop, look, v->src_w, v->src_h,
                               ((col + r) & 1) == 0, tau, win);
                const double left = win[0], top = win[1], wn = win[2], hn = win[3];
                GvViewInst *const in = &insts[n++];
                in->ax = (int32_t)floor(65536 * wn / tw + 0.5);
                in->bx = (int32_t)floor(256 * (left + 0.5 * wn / tw - 0.5) + 0.5);
                in->ay = (int32_t)floor(65536 * hn / th + 0.5);
                in->by = (int32_t)floor(256 * (top + 0.5 * hn / th - 0.5) + 0.5);
                in->lod = (int32_t)floor(256 * log2(fmax(wn / tw, hn / th)) + 0.5);
            }
        }
    return n;
}

/* ---- sampling ---- */

/* The bilinear taps of level lv of a chain at (sx8, sy8), 1/256 pixel. */
static void taps_at(const GvView *v, int lv, int32_t sx8, int32_t sy8, GvViewTaps *t)
{
    const int w = v->lw[lv], h = v->lh[lv];
    /* level lv's pixel centres: (s + 1/2) / 2^lv - 1/2; s >= -1/2 */
    const int32_t x = ((sx8 + 128) >> lv) - 128, y = ((sy8 + 128) >> lv) - 128;
    const int x0 = ((x + 256) >> 8) - 1, y0 = ((y + 256) >> 8) - 1;
    t->fx = (uint32_t)x & 255u;
    t->fy = (uint32_t)y & 255u;
    const size_t xa = (size_t)(x0 < 0 ? 0 : x0 >= w ? w - 1 : x0);
    const size_t xb = (size_t)(x0 + 1 < 0 ? 0 : x0 + 1 >= w ? w - 1 : x0 + 1);
    const size_t ya = (size_t)(y0 < 0 ? 0 : y0 >= h ? h - 1 : y0);
    const size_t yb = (size_t)(y0 + 1 < 0 ? 0 : y0 + 1 >= h ? h - 1 : y0 + 1);
    const size_t base = (size_t)v->loff[lv];
    t->o[0] = base + ya * (size_t)w + xa;
    t->o[1] = base + ya * (size_t)w + xb;
    t->o[2] = base + yb * (size_t)w + xa;
    t->o[3] = base + yb * (size_t)w + xb;
}

/* 256 x the bilinear value at taps t of a plane's chain. */
static uint32_t bilinear(const uint8_t *px, const GvViewTaps *t)
{
    const uint32_t top = px[t->o[0]] * (256 - t->fx) + px[t->o[1]] * t->fx;
    const uint32_t bot = px[t->o[2]] * (256 - t->fx) + px[t->o[3]] * t->fx;
    return (top * (256 - t->fy) + bot * t->fy + 128) >> 8;
}

void gv_view_locate(const GvViewJob *job, int x, int y, int j, GvViewSpot *spot, GvViewHint *hint)
{
    const GvView *const v = job->v;
    const GvLayout *const l = job->l;
    int32_t wx, wy;
    int lod = 0;
    spot->chain = NULL;
    spot->fade = 256;
    if (v->map) {
        const int32_t *const m = v->map + 3 * ((size_t)y * (size_t)v->p.width + (size_t)x);
        const uint32_t aux = (uint32_t)m[2];
        if (aux == GV_VIEW_NONE)
            return;
        wx = m[0];
        wy = m[1];
        lod = (int)(aux & 0xffffu) - 32768;
        spot->fade = aux >> 16;
    } else {
        wx = x * 256;
        wy = y * 256;
    }
    const int rows = l->p.kind == GV_LAYOUT_ROWS;
    const int64_t pitch8 = ((int64_t)l->thick + l->p.gap) * 256;
    const int64_t cstep8 = ((int64_t)l->step + l->p.gap) * 256;
    /* the lane: as lane_of(), or the hint's when the line is in it */
    const int64_t rel = (int64_t)(rows ? wy : wx) - (int64_t)l->first * 256;
    int r;
    if (hint->r && rel >= hint->rel_lo && rel < hint->rel_hi) {
        r = hint->r - 1;
    } else {
        if (rel < 0)
            return;
        r = (int)(rel / pitch8);
        if (r >= l->n_lanes)
            return;
        hint->r = r + 1;
        hint->rel_lo = r * pitch8;
        hint->rel_hi = hint->rel_lo + pitch8;
        hint->s_lo = 1; /* the column is unknown in a new lane */
        hint->s_hi = 0;
    }
    const int64_t t8 = rel - r * pitch8;
    if (t8 >= (int64_t)l->thick * 256 || l->lanes[r].n == 0)
        return;
    const GvOffset o = job->offs[j * l->n_lanes + r];
    const int64_t s8 = (int64_t)(rows ? wx : wy) + o.pos * 256 + o.frac;
    int64_t c;
    if (s8 >= hint->s_lo && s8 < hint->s_hi) {
        c = hint->c;
    } else {
        c = gv_floor_div(s8, cstep8);
        hint->c = c;
        hint->s_lo = c * cstep8;
        hint->s_hi = hint->s_lo + cstep8;
    }
    const int64_t w8 = s8 - c * cstep8;
    if (w8 >= (int64_t)l->step * 256)
        return;
    const int k = gv_lane_image(l, r, (int)gv_floor_mod(c, l->lanes[r].n));
    const GvViewRun *const run = &job->runs[j * l->n_lanes + r];
    const int64_t idx = c - run->first;
    if (!job->chains[k] || idx < 0 || idx >= run->count)
        return;
    const GvViewInst in = job->insts[run->base + idx];
    const int64_t tx8 = rows ? w8 : t8, ty8 = rows ? t8 : w8;
    int32_t sx8 = (int32_t)((tx8 * in.ax) >> 16) + in.bx;
    int32_t sy8 = (int32_t)((ty8 * in.ay) >> 16) + in.by;
    sx8 = sx8 < -128 ? -128 : sx8;
    sy8 = sy8 < -128 ? -128 : sy8;
    int lv = 0;
    spot->lf = 0;
    if (v->levels > 1) {
        int lv8 = lod + in.lod;
        const int top = (v->levels - 1) * 256;
        lv8 = lv8 < 0 ? 0 : lv8 > top ? top : lv8;
        lv = lv8 >> 8;
        spot->lf = (uint32_t)lv8 & 255u;
    }
    taps_at(v, lv, sx8, sy8, &spot->t[0]);
    if (spot->lf)
        taps_at(v, lv + 1, sx8, sy8, &spot->t[1]);
    spot->chain = job->chains[k];
}

uint32_t gv_view_fetch(const GvView *v, const GvViewSpot *spot, int plane, uint32_t bg)
{
    bg *= 256;
    if (!spot->chain)
        return bg;
    const uint8_t *const pl = spot->chain + (size_t)plane * (size_t)v->chain_bytes;
    uint32_t val = bilinear(pl, &spot->t[0]);
    if (spot->lf)
        val = (val * (256 - spot->lf) + bilinear(pl, &spot->t[1]) * spot->lf + 128) >> 8;
    if (spot->fade < 256)
        val = (val * spot->fade + bg * (256 - spot->fade) + 128) >> 8;
    return val;
}
