/*
 * clip_floor: the clips' share of a gridvid run, measured alone.
 *
 *   clip_floor PLAN FPS TILE_W TILE_H loop|bounce|hold [--start visible|zero]
 *              [--crop POSITION] [--threads N] [--no-hwaccel] [--verbose]
 *
 * PLAN is gridvid --dry-run's output ("-": standard input), of which only
 * the lines `clip PATH: ..., shown S s from F s, ...` are read; FPS is N[/D].
 * For each clip, output frames round(F * FPS) to that + round(S * FPS) - 1
 * are asked in order of gridvid's own clip player (src/clipplay.h), which
 * decodes forward (seeking back for loops and bounces) and scales only the
 * pictures shown: the least a wall of these clips does besides compositing
 * and encoding. One clip per thread at a time, a thread per core, longest
 * first; a hardware decoder tried first, as GPU_DECODE=auto does, unless
 * --no-hwaccel. Prints one line: the counts, wall and CPU seconds.
 */
#include "clipplay.h"
#include "tiles.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct Job {
    char *path;
    int64_t first, frames, pictures, decoded, seeks;
    double seconds;
    int failed;
} Job;

static Job *jobs;
static int n_jobs, verbose, hwaccel = 1;
static atomic_int next_job;
static GvTileSpec spec;
static GvClipTiming timing0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void on_log(void *opaque, GvLogLevel level, const char *msg)
{
    (void)opaque;
    if (level <= GV_LOG_WARNING || verbose)
        fprintf(stderr, "clip_floor: %s\n", msg);
}

static void play(Job *j)
{
    const GvLog log = { .cb = on_log, .level = GV_LOG_INFO };
    const GvClipConfig cfg = { .spec = &spec, .hwaccel = hwaccel, .log = &log };
    GvClipTiming t = timing0;
    GvClipPlay p;
    char reason[256] = "";
    const double t0 = now_s();
    t.first = j->first;
    int ret = gv_clip_play_open(&p, j->path, &cfg, &t, reason, sizeof(reason));
    if (ret == 0) {
        p.timing.duration = gv_clip_info(p.clip)->duration; /* the clip's, as gridvid's */
        for (int64_t f = j->first; f < j->first + j->frames && ret == 0; f++) {
            GvTile *tile = NULL;
            ret = gv_clip_play_frame(&p, f, &tile, reason, sizeof(reason));
            j->pictures += tile != NULL;
            gv_tile_free(&tile);
        }
        j->decoded = p.decoded;
        j->seeks = p.seeks;
    }
    gv_clip_play_close(&p);
    j->seconds = now_s() - t0;
    if ((j->failed = ret != 0))
        fprintf(stderr, "clip_floor: %s: %s\n", j->path, reason[0] ? reason : strerror(-ret));
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i; (i = atomic_fetch_add(&next_job, 1)) < n_jobs;)
        play(&jobs[i]);
    return NULL;
}

static int by_frames(const void *a, const void *b)
{
    const int64_t x = ((const Job *)a)->frames, y = ((const Job *)b)->frames;
    return (x < y) - (x > y);
}

/* `clip PATH: D s, ...; shown S s from F s, ...` (PATH may hold ": ") */
static int read_plan(FILE *in, double fps)
{
    char line[8192];
    while (fgets(line, sizeof(line), in)) {
        double shown, from;
        char *const at = strstr(line, "; shown ");
        if (strncmp(line, "clip ", 5) || !at || sscanf(at, "; shown %lf s from %lf s", &shown, &from) != 2)
            continue;
        *at = 0;
        char *end = NULL; /* the last ": " */
        for (char *c = strstr(line + 5, ": "); c; c = strstr(c + 1, ": "))
            end = c;
        if (!end)
            continue;
        Job *const grown = realloc(jobs, (size_t)(n_jobs + 1) * sizeof(*jobs));
        if (!grown || !(end = strndup(line + 5, (size_t)(end - line - 5))))
            return -1;
        jobs = grown;
        jobs[n_jobs++] = (Job){ .path = end, .first = llround(from * fps), .frames = llround(shown * fps) };
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: clip_floor PLAN FPS TILE_W TILE_H loop|bounce|hold [--start visible|zero]"
                    " [--crop POSITION] [--threads N] [--no-hwaccel] [--verbose]\n");
    return 2;
}

static int pick(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(s, names[i]))
            return i;
    fprintf(stderr, "clip_floor: unknown '%s'\n", s);
    exit(2);
}

int main(int argc, char **argv)
{
    static const char *const loops[] = { "loop", "bounce", "hold", NULL };
    static const char *const starts[] = { "visible", "zero", NULL };
    static const char *const crops[] = { "center", "top", "bottom", "left", "right", "attention",
                                         "entropy", NULL };
    if (argc < 6)
        return usage();
    int num = 0, den = 1, threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (sscanf(argv[2], "%d/%d", &num, &den) < 1 || num <= 0 || den <= 0) {
        const double f = atof(argv[2]); /* 29.97 and the like: to a thousandth */
        num = (int)lround(f * 1000), den = 1000;
        if (num <= 0)
            return usage();
    }
    spec = (GvTileSpec){ .w = atoi(argv[3]), .h = atoi(argv[4]), .max_pixels = 200000000 };
    timing0 = (GvClipTiming){ .fps_num = num, .fps_den = den, .loop = (GvClipLoop)pick(argv[5], loops) };
    for (int i = 6; i < argc; i++) {
        if (!strcmp(argv[i], "--start") && i + 1 < argc)
            timing0.start = (GvClipStart)pick(argv[++i], starts);
        else if (!strcmp(argv[i], "--crop") && i + 1 < argc)
            spec.crop = (GvCrop)pick(argv[++i], crops);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-hwaccel"))
            hwaccel = 0;
        else if (!strcmp(argv[i], "--verbose"))
            verbose = 1;
        else
            return usage();
    }
    if (spec.w <= 0 || spec.h <= 0 || threads <= 0)
        return usage();
    FILE *const in = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
    const int got = in ? read_plan(in, (double)num / den) : -1;
    if (in && in != stdin)
        fclose(in);
    if (got < 0 || n_jobs == 0 || gv_tiles_init() < 0) { /* libvips: the smart crops' */
        fprintf(stderr, "clip_floor: %s: %s\n", argv[1], got < 0 ? "cannot read it" :
                n_jobs ? "libvips does not start" : "no clip shown in the plan");
        return 1;
    }
    qsort(jobs, (size_t)n_jobs, sizeof(*jobs), by_frames);
    if (threads > n_jobs)
        threads = n_jobs;

    const double t0 = now_s(), c0 = cpu_s();
    pthread_t *const tids = calloc((size_t)threads, sizeof(*tids));
    int started = 0;
    while (tids && started < threads && pthread_create(&tids[started], NULL, worker, NULL) == 0)
        started++;
    if (started == 0)
        worker(NULL);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    const double wall = now_s() - t0, cpu = cpu_s() - c0;

    int64_t frames = 0, pictures = 0, decoded = 0, seeks = 0;
    int failed = 0;
    for (int i = 0; i < n_jobs; i++) {
        const Job *const j = &jobs[i];
        if (verbose)
            fprintf(stderr, "clip_floor: %s: frames %lld from %lld, %lld pictures, %lld decoded, %lld seeks, %.2f s\n",
                    j->path, (long long)j->frames, (long long)j->first, (long long)j->pictures,
                    (long long)j->decoded, (long long)j->seeks, j->seconds);
        frames += j->frames, pictures += j->pictures, decoded += j->decoded, seeks += j->seeks;
        failed += j->failed;
        free(j->path);
    }
    printf("clips %d, frames shown %lld, pictures %lld, frames decoded %lld, seeks %lld, "
           "threads %d, wall %.2f s, cpu %.2f s%s\n",
           n_jobs, (long long)frames, (long long)pictures, (long long)decoded, (long long)seeks,
           started ? started : 1, wall, cpu, failed ? ", FAILED" : "");
    free(tids);
    free(jobs);
    return failed ? 1 : 0;
}
