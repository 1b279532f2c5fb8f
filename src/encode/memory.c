/*
 * libx264's memory: a model of what its settings cost, and the largest
 * settings that fit a budget (MEMORY_LIMIT). Plain arithmetic, no libav,
 * so that tests can check every choice exactly.
 *
 * The model, fitted to peak memory measured with libx264 (preset faster,
 * 720p, 1080p and 4K, 1 to 24 threads, rc-lookahead 0 to 40, B-frames 0
 * and 3; docs/PERFORMANCE.md, 2026-12-03), counts in x264's padded
 * picture P = (w + 64) (h + 64) 3/2 bytes:
 *
 *     bytes = P (6 + 4.25 B + 5.75 T + 2 (max(L, B) + S))
 *
 * T frame threads (each holds a picture being encoded, its reconstruction
 * with the half-pel planes, and one more look-ahead picture), L
 * rc-lookahead and S sync-lookahead pictures (a picture with its
 * quarter-size copies and their costs: 2 P), B B-frames. It errs on the
 * high side except beyond 16 threads at 1080p (by about 50 MB there).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE /* CPU_COUNT */
#endif
#include "encode.h"

#include <string.h>
#if defined(__linux__)
#  include <sched.h>
#endif

#include "threads.h"

/* The model's terms in quarters of P. */
#define FIXED 24
#define PER_BFRAME 17
#define PER_THREAD 23
#define PER_LOOKAHEAD 8

/* x264's limits (x264.h) and its automatic thread count: 1.5 per core,
 * at most one per two rows of macroblocks. */
#define X264_MAX_THREADS 128
#define LOOKAHEAD_FLOOR 10

typedef struct Preset {
    const char *name;
    int lookahead, bframes;
} Preset;

/* rc-lookahead and bframes of x264's presets (common/base.c). */
static const Preset presets[] = {
    { "ultrafast", 0, 0 }, { "superfast", 0, 3 }, { "veryfast", 10, 3 }, { "faster", 20, 3 },
    { "fast", 30, 3 },     { "medium", 40, 3 },   { "slow", 50, 3 },     { "slower", 60, 3 },
    { "veryslow", 60, 8 }, { "placebo", 60, 16 },
};

static int min_int(const int a, const int b)
{
    return a < b ? a : b;
}

static int max_int(const int a, const int b)
{
    return a > b ? a : b;
}

int64_t gv_x264_bytes(const int width, const int height, const GvX264Memory *const m)
{
    const int64_t pic = ((int64_t)width + 64) * ((int64_t)height + 64) * 3 / 2;
    /* x264 keeps no sync look-ahead with one thread */
    const int sync = m->threads > 1 ? m->sync_lookahead : 0;
    const int64_t quarters = FIXED + (int64_t)PER_BFRAME * m->bframes +
                             (int64_t)PER_THREAD * m->threads +
                             (int64_t)PER_LOOKAHEAD * (max_int(m->lookahead, m->bframes) + sync);
    return pic * quarters / 4;
}

/* What x264 chooses itself. */
static GvX264Memory own_choice(const int height, const char *const preset, const int threads,
                               const int cores)
{
    GvX264Memory m = { .own = 1 };
    const Preset *p = &presets[3];
    for (size_t i = 0; preset && i < sizeof(presets) / sizeof(presets[0]); i++)
        if (!strcmp(preset, presets[i].name))
            p = &presets[i];
    if (threads > 0) {
        m.threads = threads;
    } else {
        m.threads = min_int(max_int(cores, 1) * 3 / 2, max_int(1, (height + 15) / 16 / 2));
    }
    m.threads = max_int(1, min_int(m.threads, X264_MAX_THREADS));
    m.lookahead = p->lookahead;
    m.bframes = p->bframes;
    m.sync_lookahead = p->bframes + 1;
    return m;
}

/* Lowers *v by one step at a time down to floor while m is over budget. */
static void lower(int *const v, const int floor, GvX264Memory *const m, const int w,
                  const int h, const int64_t budget)
{
    while (*v > floor && gv_x264_bytes(w, h, m) > budget)
        --*v;
}

GvX264Memory gv_x264_memory(const int width, const int height, const char *const preset,
                            const int threads, const int cores, const int64_t budget)
{
    const GvX264Memory def = own_choice(height, preset, threads, cores);
    GvX264Memory m = def;
    m.bytes = gv_x264_bytes(width, height, &m);
    m.fits = budget <= 0 || m.bytes <= budget;
    if (m.fits)
        return m;
    m.own = 0;
    /* Frame threads beyond the cores only hide the waits between frames;
     * a shorter look-ahead costs a little compression; fewer threads than
     * cores cost speed, and a second thread is worth more than any
     * look-ahead. Below that: no look-ahead, no B-frames. x264 looks as
     * far ahead as its B-frames whatever rc-lookahead says. */
    lower(&m.threads, max_int(1, min_int(def.threads, cores)), &m, width, height, budget);
    lower(&m.lookahead, min_int(def.lookahead, LOOKAHEAD_FLOOR), &m, width, height, budget);
    lower(&m.threads, min_int(def.threads, 2), &m, width, height, budget);
    lower(&m.lookahead, min_int(m.lookahead, m.bframes), &m, width, height, budget);
    if (gv_x264_bytes(width, height, &m) > budget) {
        /* which frees more than the look-ahead given up for them */
        m.bframes = 0;
        m.sync_lookahead = 1; /* x264's own without B-frames */
        m.lookahead = min_int(def.lookahead, LOOKAHEAD_FLOOR);
        lower(&m.lookahead, 0, &m, width, height, budget);
    }
    lower(&m.threads, 1, &m, width, height, budget);
    if (m.threads == 1)
        m.sync_lookahead = 0; /* what x264 keeps with one thread */
    m.bytes = gv_x264_bytes(width, height, &m);
    m.fits = m.bytes <= budget;
    return m;
}

int gv_x264_cores(void)
{
#if defined(__linux__) && defined(CPU_COUNT)
    /* as x264 counts them: the cores this process may run on */
    cpu_set_t set;
    if (!sched_getaffinity(0, sizeof(set), &set))
        return CPU_COUNT(&set);
#endif
    return gv_cpu_count();
}
