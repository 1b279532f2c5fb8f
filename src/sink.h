/*
 * The last stage: a thread that takes frames from a frame queue, in
 * order, writes each as frame_NNNNNN.png where STREAM_PROCESSING=false
 * asked for it, and hands it to the encoder without a copy (the encoder
 * gives the picture back to its pool when done with it).
 *
 * The first error kills the queue (gv_framequeue_fail()), so the
 * producer stops at its next push and never waits on a dead consumer.
 */
#ifndef GV_SINK_H
#define GV_SINK_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "encode/encode.h"
#include "framequeue.h"
#include "log.h"

typedef struct GvSink {
    GvFrameQueue *in;
    GvEncoder *enc;
    const GvLog *log;
    char png_dir[PATH_MAX]; /* "" when no frames are kept */
    pthread_t thread;
    int started;
    atomic_llong frames_done;
    double thread_cpu;      /* the thread's CPU seconds, once it ended */
} GvSink;

/*
 * Creates a folder for PNG frames in parent (STREAM_PROCESSING=false) and
 * says where, whatever the log level, since the user asked to keep them.
 * Returns 0 or GV_ERR_IO.
 */
int gv_sink_keep_frames(GvSink *k, const char *parent, const GvLog *log);

/* Starts the thread. Returns 0 or -EAGAIN. */
int gv_sink_start(GvSink *k, GvFrameQueue *in, GvEncoder *enc, const GvLog *log);

/* Waits for the thread (after gv_framequeue_end() or _fail()). */
void gv_sink_join(GvSink *k);

/* A failed attempt leaves no frame sequence behind. */
void gv_sink_discard_frames(GvSink *k);

#endif
