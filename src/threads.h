/*
 * Threads and clocks shared by the pipeline's stages. Every wait in the
 * pipeline polls the cancel flag, since gv_cancel() may only set it (it
 * is called from signal handlers).
 */
#ifndef GV_THREADS_H
#define GV_THREADS_H

#include <pthread.h>

/* Seconds on a monotonic clock. */
double gv_now_s(void);

/* CPU seconds of the calling thread; 0 where unknown. */
double gv_thread_cpu_s(void);

/* Online cores, 1 to 256. */
int gv_cpu_count(void);

/* pthread_cond_wait() for at most 50 ms: the caller re-checks its
 * condition and the cancel flag after every return. */
void gv_cond_wait_poll(pthread_cond_t *c, pthread_mutex_t *m);

/* Runs fn(arg) on n_threads threads, the caller's included, and joins
 * them. Fewer run where threads cannot be started; never fewer than one. */
void gv_run_parallel(void *(*fn)(void *), void *arg, int n_threads);

#endif
