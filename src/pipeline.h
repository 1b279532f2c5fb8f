/*
 * The one place that knows the whole pipeline: inputs are probed in
 * parallel, the layout says which frames show which image, tiles are
 * prepared just in time on a worker pool and released after their last
 * frame, the compositor renders into pooled pictures and the encoder
 * thread takes them without a copy.
 *
 *   probe -> layout -> tile store -> compositor (failover) -> frame queue -> sink
 */
#ifndef GV_PIPELINE_H
#define GV_PIPELINE_H

#include <stdatomic.h>

#include "gridvid/gridvid.h"
#include "hooks.h"
#include "log.h"

/* Runs settings s to completion; fills summary. cancel is polled. */
int gv_pipeline_run(const GvSettings *s, const GvHooks *hooks, const GvLog *log,
                    atomic_int *cancel, GvSummary *summary);

#endif
