/*
 * Allocation failures at every allocation site of gridvid's own code, in
 * turn, the way dav1d's fuzzers make malloc fail: a run is repeated with
 * the 1st, 2nd, 3rd, ... allocation failing until a run makes fewer
 * allocations than that. Every run must end with 0 or a negative code
 * (never a crash or a hang), leave no temporary file, and leak nothing
 * (checked after each run when built with LeakSanitizer).
 *
 * Only gridvid's own calls fail: the internal library is linked with
 * -Wl,--wrap for each allocator (see tests/meson.build), which redirects
 * the calls in gridvid's object files, and only those, to the __wrap_
 * functions below. libvips and glib abort on a failed g_malloc by design,
 * so failing their allocations would test nothing of ours; the libav
 * allocation calls that gridvid makes itself are wrapped and fail too.
 * pthread_create counts as an allocation (it fails with EAGAIN).
 *
 * Scenarios: the demo render; a folder of small images with one bad
 * file (scan, probe, skip, decode, encode); a preview of that folder;
 * that folder again with every frame also kept as PNG (STREAM_PROCESSING
 * false), whose folder must go when the run fails.
 */
#define _GNU_SOURCE /* dladdr */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/buffer.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>

#include "check.h"
#include "gridvid/gridvid.h"

/* ---------------------------------------------------------------- */
/* The failing allocators                                             */

static _Atomic int armed;          /* count and fail only while a run is on */
static _Atomic long calls;         /* allocations made since arming */
static long fail_at;               /* the call that fails, 1-based */
static _Atomic int failed;         /* the failure was injected this run */
static void *fail_site;            /* the caller of the failed allocation */

/* Returns 1 when this call is the one to fail. */
static int should_fail_at(void *site)
{
    if (!armed)
        return 0;
    if (++calls != fail_at)
        return 0;
    fail_site = site;
    failed = 1;
    return 1;
}
#define should_fail() should_fail_at(__builtin_return_address(0))

#define WRAP_PTR(ret, name, params, args)                                                  \
    ret __real_##name params;                                                              \
    ret __wrap_##name params;                                                              \
    ret __wrap_##name params                                                               \
    {                                                                                      \
        if (should_fail())                                                                 \
            return NULL;                                                                   \
        return __real_##name args;                                                         \
    }

WRAP_PTR(void *, malloc, (size_t n), (n))
WRAP_PTR(void *, calloc, (size_t n, size_t m), (n, m))
WRAP_PTR(void *, realloc, (void *p, size_t n), (p, n))
WRAP_PTR(void *, aligned_alloc, (size_t a, size_t n), (a, n))
WRAP_PTR(char *, strdup, (const char *s), (s))
WRAP_PTR(char *, strndup, (const char *s, size_t n), (s, n))
WRAP_PTR(void *, av_malloc, (size_t n), (n))
WRAP_PTR(void *, av_mallocz, (size_t n), (n))
WRAP_PTR(char *, av_strdup, (const char *s), (s))
WRAP_PTR(AVFrame *, av_frame_alloc, (void), ())
WRAP_PTR(AVPacket *, av_packet_alloc, (void), ())
WRAP_PTR(AVCodecContext *, avcodec_alloc_context3, (const AVCodec *c), (c))
WRAP_PTR(AVStream *, avformat_new_stream, (AVFormatContext *s, const AVCodec *c), (s, c))
WRAP_PTR(AVBufferRef *, av_buffer_ref, (const AVBufferRef *b), (b))
WRAP_PTR(AVBufferRef *, av_buffer_create,
         (uint8_t *d, size_t n, void (*f)(void *, uint8_t *), void *o, int fl), (d, n, f, o, fl))

int __real_posix_memalign(void **p, size_t a, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
    return should_fail() ? ENOMEM : __real_posix_memalign(p, a, n);
}

int __real_av_dict_set(AVDictionary **d, const char *k, const char *v, int f);
int __wrap_av_dict_set(AVDictionary **d, const char *k, const char *v, int f);
int __wrap_av_dict_set(AVDictionary **d, const char *k, const char *v, int f)
{
    /* Like the real one on failure: the strings it was to own are freed. */
    if (should_fail()) {
        if (f & AV_DICT_DONT_STRDUP_KEY)
            av_free((void *)k);
        if (f & AV_DICT_DONT_STRDUP_VAL)
            av_free((void *)v);
        return AVERROR(ENOMEM);
    }
    return __real_av_dict_set(d, k, v, f);
}

int __real_av_frame_get_buffer(AVFrame *fr, int align);
int __wrap_av_frame_get_buffer(AVFrame *fr, int align);
int __wrap_av_frame_get_buffer(AVFrame *fr, int align)
{
    return should_fail() ? AVERROR(ENOMEM) : __real_av_frame_get_buffer(fr, align);
}

int __real_avformat_alloc_output_context2(AVFormatContext **c, const AVOutputFormat *o,
                                          const char *f, const char *n);
int __wrap_avformat_alloc_output_context2(AVFormatContext **c, const AVOutputFormat *o,
                                          const char *f, const char *n);
int __wrap_avformat_alloc_output_context2(AVFormatContext **c, const AVOutputFormat *o,
                                          const char *f, const char *n)
{
    if (should_fail()) {
        *c = NULL;
        return AVERROR(ENOMEM);
    }
    return __real_avformat_alloc_output_context2(c, o, f, n);
}

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    return should_fail() ? EAGAIN : __real_pthread_create(t, a, fn, arg);
}

/* With LeakSanitizer, a leak check after each run names the run. */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/* ---------------------------------------------------------------- */

static int verbose;
static char dir[256], in_dir[300], out_dir[300], seq_dir[300], out_mp4[340], out_png[340];

static void log_cb(void *opaque, GvLogLevel level, const char *msg)
{
    (void)opaque;
    (void)level;
    (void)msg;
}

static void write_ppm(const char *path, const int w, const int h, const uint8_t rgb[3])
{
    FILE *const f = fopen(path, "wb");
    if (!f)
        abort();
    fprintf(f, "P6\n%d %d\n255\n", w, h);
    for (int i = 0; i < w * h; i++)
        fwrite(rgb, 1, 3, f);
    fclose(f);
}

/* Entries of out_dir other than keep (NULL: none), which must exist. */
static int stray_files(const char *keep)
{
    DIR *const d = opendir(out_dir);
    if (!d)
        return -1;
    int stray = 0, kept = 0;
    const struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (keep && !strcmp(e->d_name, keep)) {
            kept = 1;
            continue;
        }
        fprintf(stderr, "  left behind: %s\n", e->d_name);
        stray++;
    }
    closedir(d);
    if (keep && !kept) {
        fprintf(stderr, "  missing: %s\n", keep);
        stray++;
    }
    return stray;
}

static void clear_out_dir(void)
{
    DIR *const d = opendir(out_dir);
    if (!d)
        return;
    const struct dirent *e;
    char path[600];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(path, sizeof(path), "%s/%s", out_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

typedef enum Scenario { DEMO, FILES, PREVIEW, SEQUENCE } Scenario;
static const char *const scenario_name[] = { "demo", "files", "preview", "sequence" };
static const char *inputs[1];

static void settings(GvSettings *s, const Scenario sc)
{
    gv_default_settings(s);
    s->width = 64;
    s->height = 48;
    s->tile_height = 16;
    s->fps_num = 10;
    s->fps_den = 1;
    s->duration = 0.3;
    s->gpu = GV_GPU_FALSE;
    /* One worker: the order of allocations, and so which one fails,
     * is the same from run to run. */
    s->threads = 1;
    s->encoder = "libx264";
    s->preset = "ultrafast";
    s->log = log_cb;
    s->log_level = GV_LOG_DEBUG;
    s->output = out_mp4;
    if (sc == DEMO) {
        s->demo = 1;
    } else {
        inputs[0] = in_dir;
        s->inputs = inputs;
        s->n_inputs = 1;
    }
    if (sc == PREVIEW)
        s->preview = out_png;
    if (sc == SEQUENCE) {
        /* Also every frame as PNG, kept in a folder under seq_dir. */
        s->stream = 0;
        s->temp_dir = seq_dir;
    }
}

/* Entries under seq_dir, emptied on the way: a finished run keeps its
 * frame folder (that is the point), a failed one must leave nothing. */
static int sequence_left(void)
{
    DIR *const d = opendir(seq_dir);
    if (!d)
        return 0;
    int n = 0;
    const struct dirent *e;
    char path[700];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        snprintf(path, sizeof(path), "%s/%s", seq_dir, e->d_name);
        DIR *const f = opendir(path);
        const struct dirent *g;
        char frame[1000];
        while (f && (g = readdir(f))) {
            snprintf(frame, sizeof(frame), "%s/%s", path, g->d_name);
            if (g->d_name[0] != '.')
                unlink(frame);
        }
        if (f)
            closedir(f);
        rmdir(path);
    }
    closedir(d);
    return n;
}

/* One run with allocation n failing (0: none); returns gv_run's code. */
static int run_once(const Scenario sc, const long n, int *hit, GvSummary *sum)
{
    GvSettings s;
    settings(&s, sc);
    GvContext *ctx = NULL;
    fail_at = n;
    calls = 0;
    failed = 0;
    armed = 1;
    int ret = gv_open(&ctx, &s);
    if (ret == 0) {
        ret = gv_run(ctx);
        gv_get_summary(ctx, sum);
    }
    gv_close(&ctx);
    armed = 0;
    *hit = failed;
    return ret;
}

static void scenario(const Scenario sc)
{
    GvSummary ref;
    int hit;
    const char *const out_name = sc == PREVIEW ? "out.png" : "out.mp4";
    clear_out_dir();
    CHECK_INT(run_once(sc, 0, &hit, &ref), 0);
    CHECK_INT(stray_files(out_name), 0);
    if (sc == SEQUENCE)
        CHECK_INT(sequence_left(), 1);
    const long total = calls;
    printf("%s: %ld allocations in a run that succeeds, %d images used\n", scenario_name[sc],
           total, ref.images_used);

    long n;
    for (n = 1;; n++) {
        clear_out_dir();
        GvSummary sum;
        alarm(120); /* a hang is a failure too */
        const int ret = run_once(sc, n, &hit, &sum);
        alarm(0);
        if (!hit)
            break;
        if (verbose) {
            Dl_info di;
            const uintptr_t base =
                dladdr(fail_site, &di) && di.dli_fbase ? (uintptr_t)di.dli_fbase : 0;
            printf("%s: allocation %ld (called from %s+0x%zx): %s\n", scenario_name[sc], n,
                   di.dli_fname ? di.dli_fname : "?", (size_t)((uintptr_t)fail_site - base),
                   gv_strerror(ret));
        }
        if (ret > 0) {
            fprintf(stderr, "%s: allocation %ld failed: gv_run returned %d\n",
                    scenario_name[sc], n, ret);
            CHECK(ret <= 0);
        }
        /* Success despite the failure is fine where the failure was
         * absorbed (an optional buffer); the output must then be whole. */
        const int stray = stray_files(ret == 0 ? out_name : NULL);
        if (stray) {
            fprintf(stderr, "%s: allocation %ld failed (%s): files left as above\n",
                    scenario_name[sc], n, gv_strerror(ret));
        }
        CHECK_INT(stray, 0);
        if (sc == SEQUENCE) {
            const int left = sequence_left();
            if (ret < 0 && left) {
                fprintf(stderr, "%s: allocation %ld failed (%s): the frame folder was left\n",
                        scenario_name[sc], n, gv_strerror(ret));
                CHECK_INT(left, 0);
            }
        }
        /* An allocation failure is not bad input: it must fail the run,
         * never drop an image and succeed without it. */
        if (ret == 0 && sum.images_used != ref.images_used) {
            fprintf(stderr, "%s: allocation %ld failed: success with %d images, not %d\n",
                    scenario_name[sc], n, sum.images_used, ref.images_used);
            CHECK_INT(sum.images_used, ref.images_used);
        }
        if (__lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check()) {
            fprintf(stderr, "%s: allocation %ld failed: leak above\n", scenario_name[sc], n);
            CHECK(0);
        }
    }
    printf("%s: %ld allocation sites failed in turn\n", scenario_name[sc], n - 1);
    CHECK(n - 1 >= total / 2);
}

int main(void)
{
    /* GV_ALLOCFAIL_VERBOSE=1: each failed call site and the result;
     * addr2line -e test_allocfail 0x... names the line. */
    verbose = getenv("GV_ALLOCFAIL_VERBOSE") && atoi(getenv("GV_ALLOCFAIL_VERBOSE"));
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gv-allocfail-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    snprintf(in_dir, sizeof(in_dir), "%s/in", dir);
    snprintf(out_dir, sizeof(out_dir), "%s/out", dir);
    snprintf(out_mp4, sizeof(out_mp4), "%s/out.mp4", out_dir);
    snprintf(out_png, sizeof(out_png), "%s/out.png", out_dir);
    snprintf(seq_dir, sizeof(seq_dir), "%s/seq", dir);
    mkdir(seq_dir, 0755);
    mkdir(in_dir, 0755);
    mkdir(out_dir, 0755);
    static const uint8_t colours[3][3] = { { 200, 40, 40 }, { 40, 200, 40 }, { 40, 40, 200 } };
    char path[400];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/img%d.ppm", in_dir, i + 1);
        write_ppm(path, 24 + 8 * i, 20, colours[i]);
    }
    snprintf(path, sizeof(path), "%s/notes.jpg", in_dir);
    FILE *const f = fopen(path, "w");
    if (f) {
        fputs("not a picture\n", f);
        fclose(f);
    }

    printf("leak check after each run: %s\n",
           __lsan_do_recoverable_leak_check ? "yes (LeakSanitizer)" : "no (not a sanitizer build)");
    scenario(DEMO);
    scenario(FILES);
    scenario(PREVIEW);
    scenario(SEQUENCE);

    clear_out_dir();
    rmdir(out_dir);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/img%d.ppm", in_dir, i + 1);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/notes.jpg", in_dir);
    unlink(path);
    rmdir(in_dir);
    sequence_left(); /* the frames the last, successful, run kept */
    rmdir(seq_dir);
    rmdir(dir);
    return check_report("test_allocfail");
}
