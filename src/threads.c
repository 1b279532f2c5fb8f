#include "threads.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS 50000000L

double gv_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double gv_thread_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int gv_cpu_count(void)
{
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (n > 256 ? 256 : (int)n) : 1;
}

void gv_cond_wait_poll(pthread_cond_t *c, pthread_mutex_t *m)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += POLL_NS;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(c, m, &ts);
}

void gv_run_parallel(void *(*fn)(void *), void *arg, int n_threads)
{
    pthread_t *const t = n_threads > 1 ? calloc((size_t)n_threads, sizeof(*t)) : NULL;
    int started = 0;
    for (int i = 1; t && i < n_threads; i++) {
        if (pthread_create(&t[i - 1], NULL, fn, arg) != 0)
            break;
        started++;
    }
    fn(arg);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
}
