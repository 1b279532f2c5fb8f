/*
 * The plan of --dry-run, written from the very layout a render uses, so
 * that a dry run shows exactly what a render would do. Lines go to the
 * settings' plan callback; nothing is written without one.
 */
#ifndef GV_PLAN_H
#define GV_PLAN_H

#include "gridvid/gridvid.h"
#include "layout.h"
#include "log.h"

/* One line of the plan. */
void gv_plan_line(const GvSettings *s, const char *fmt, ...) GV_PRINTF(2, 3);

/* Inputs, frame, tiles, layout and one line per lane. */
void gv_plan_layout(const GvSettings *s, const GvLayout *l, int used, int skipped, int shown);

#endif
