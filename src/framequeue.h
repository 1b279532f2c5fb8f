/*
 * Frames between stages: a pool of pictures and a bounded queue.
 *
 * The pool is the only frame memory of a run. Pictures (yuv420p, 64-byte
 * aligned lines) are made lazily up to a maximum and recycled: a stage
 * takes one with gv_picpool_get(), and whoever holds it last gives it
 * back with gv_picpool_put(), which has the signature of an AVBuffer free
 * callback, so the encoder can hold a picture as long as it needs without
 * a copy. A full pool makes gv_picpool_get() wait: a slow consumer
 * throttles the producers instead of frames piling up.
 *
 * The queue carries (picture, frame index) from one thread to another in
 * order, in the manner of FFmpeg's thread_queue: at most `cap` entries,
 * an end-of-stream flag set by the producer, and an error set by either
 * side, after which both sides stop and the queued pictures go back to
 * their pool. Every wait polls the cancel flag.
 *
 * Thread-safety: every function may be called from any thread, except
 * init and free.
 */
#ifndef GV_FRAMEQUEUE_H
#define GV_FRAMEQUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "picture.h"

typedef struct GvPicPool GvPicPool;

/* A picture of a pool; pic is what stages read and write. A pool for a
 * transparent background gives pic an alpha plane, and over, the frame
 * over the second background (picture.h). */
typedef struct GvPoolPic {
    GvPicture pic;
    GvPicture over;
    GvPicPool *pool;
    void *mem;
} GvPoolPic;

struct GvPicPool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    GvPoolPic **free_list;
    GvPoolPic **all;
    int n_free, n_alloc, max;
    int w, h;
    int transparent;
    double wait_s; /* time gv_picpool_get() waited for a picture */
};

/* A pool of at most max pictures of w x h, with what a transparent
 * background needs when transparent is set. Returns 0 or -ENOMEM. */
int gv_picpool_init(GvPicPool *p, int w, int h, int max, int transparent);
/* Frees every picture: all must have been given back. Safe on a pool
 * that is zeroed or failed to init. */
void gv_picpool_free(GvPicPool *p);
/* A free picture, waiting while max are out. NULL when cancel is set
 * while waiting, or on allocation failure (check *cancel to tell). */
GvPoolPic *gv_picpool_get(GvPicPool *p, atomic_int *cancel);
/* Gives a picture back (opaque is a GvPoolPic *). */
void gv_picpool_put(void *opaque);

typedef struct GvFrameQueue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    GvPoolPic **pics;
    int64_t *frames;
    int head, len, cap;
    int end;       /* the producer sent everything */
    int error;     /* < 0: the queue is dead, both sides stop */
    atomic_int *cancel;
    /* for --verbose: time the producer waited for room, the consumer for a frame */
    double push_wait_s, pop_wait_s;
} GvFrameQueue;

/* Returns 0 or -ENOMEM. */
int gv_framequeue_init(GvFrameQueue *q, int cap, atomic_int *cancel);
/* Gives queued pictures back and frees the queue. */
void gv_framequeue_free(GvFrameQueue *q);
/*
 * Appends a frame, waiting while the queue is full. On cancel or a dead
 * queue the picture goes back to its pool and GV_ERR_CANCELLED or the
 * queue's error is returned.
 */
int gv_framequeue_push(GvFrameQueue *q, GvPoolPic *pp, int64_t frame);
/*
 * Takes the oldest frame, waiting while the queue is empty. Returns 1
 * with *pp and *frame set; 0 at the end of the stream; or, on cancel or a
 * dead queue, GV_ERR_CANCELLED or the queue's error.
 */
int gv_framequeue_pop(GvFrameQueue *q, GvPoolPic **pp, int64_t *frame);
/* The producer is done: the consumer gets 0 once the queue is empty. */
void gv_framequeue_end(GvFrameQueue *q);
/* Kills the queue with err (< 0; the first error stays), gives the
 * queued pictures back and wakes both sides. */
void gv_framequeue_fail(GvFrameQueue *q, int err);
/* The queue's error, 0 while it lives. */
int gv_framequeue_error(GvFrameQueue *q);

#endif
