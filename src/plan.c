#include "plan.h"

#include <stdarg.h>
#include <stdio.h>

#include "config.h"
#include "view.h"

void gv_plan_line(const GvSettings *s, const char *fmt, ...)
{
    if (!s->plan)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    s->plan(s->plan_opaque, buf);
}

void gv_plan_layout(const GvSettings *s, const GvLayout *l, int used, int skipped, int shown)
{
    const int rows = l->p.kind == GV_LAYOUT_ROWS;
    gv_plan_line(s, "inputs: %d images used, %d skipped%s", used, skipped,
                 s->demo ? " (generated demo images)" : "");
    gv_plan_line(s, "frame: %dx%d, %d/%d fps, %g s, %lld frames, motion blur %d", s->width,
                 s->height, s->fps_num, s->fps_den, s->duration, (long long)l->frames,
                 l->p.motion_blur);
    gv_plan_line(s, "tiles: %dx%d, crop %s, gap %d", l->p.tile_w, l->p.tile_h,
                 gv_setting_name("CROP_POSITION", s->crop), s->gap);
    gv_plan_line(s, "layout: %s, %d %s from %s %d, easing %s, %d images shown",
                 rows ? "rows" : "columns", l->n_lanes, rows ? "rows" : "columns",
                 rows ? "y" : "x", l->first, gv_setting_name("EASING", s->easing), shown);
    const GvView *const v = l->view;
    if (v && v->active) {
        if (v->p.ken_burns > 0)
            gv_plan_line(s, "ken burns: %g%%, in and out alternately, towards the %s", v->p.ken_burns,
                         s->crop == GV_CROP_ATTENTION || s->crop == GV_CROP_ENTROPY
                             ? "centre of what the smart crop found"
                             : gv_setting_name("CROP_POSITION", s->crop));
        if (v->p.camera)
            gv_plan_line(s, "camera: tilt %g, turn %g, fov %g, distance %g, depth fade %g%%; "
                            "magnifies up to %.2fx; %d %s of the wall seen (%d added)",
                         v->p.tilt, v->p.turn, v->p.fov, v->p.distance, v->p.depth_fade,
                         v->magnification, l->n_lanes, rows ? "rows" : "columns",
                         l->n_lanes - l->rows);
        gv_plan_line(s, "tiles prepared at %dx%d (%.2fx)%s", v->src_w, v->src_h, v->scale,
                     v->levels > 1 ? ", with mip levels" : "");
    }
    for (int i = 0; i < l->n_lanes; i++) {
        const GvLane *const ln = &l->lanes[i];
        const char *const dir = ln->sign > 0 ? (rows ? "left" : "up") : (rows ? "right" : "down");
        char seen[96] = "";
        if (v && v->p.camera) {
            if (ln->vis_lo > ln->vis_hi)
                snprintf(seen, sizeof(seen), ", not seen");
            else
                snprintf(seen, sizeof(seen), ", seen from %lld to %lld, shows %s %d",
                         (long long)ln->vis_lo, (long long)ln->vis_hi, rows ? "row" : "column",
                         ln->src);
        }
        gv_plan_line(s, "%s %d: %s %d, %d images, period %lld px, travel %.1f px, %.1f px/s, %s%s",
                     rows ? "row" : "column", i, rows ? "y" : "x", ln->pos, ln->n,
                     (long long)ln->period, ln->travel, ln->travel / s->duration, dir, seen);
    }
}
