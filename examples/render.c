/*
 * Render a photo wall through libgridvid: the images of a folder (or the
 * built-in demo images) to a video, with a progress line, stopped cleanly
 * by Ctrl-C.
 *
 *     render FOLDER|--demo OUTPUT [KEY=VALUE]...
 *     render ~/Pictures wall.mp4 SIZE=reel LAYOUT=columns
 *
 * KEY=VALUE pairs are the settings keys of gridvid(1): FPS, SIZE, USE_GPU...
 *
 * Build against the installed library:
 *     cc render.c $(pkg-config --cflags --libs gridvid) -pthread -o render
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <gridvid/gridvid.h>

/* The context the SIGINT handler cancels; main() lets the handler run
 * only while that context is open. */
static _Atomic(GvContext *) running;

static void on_sigint(int sig)
{
    (void)sig;
    gv_cancel(atomic_load(&running)); /* async-signal-safe */
}

/* Called on the thread that runs gv_run(). */
static void on_progress(void *opaque, const GvProgress *p)
{
    static const char *const phases[] = { "scanning", "rendering", "finishing" };
    (void)opaque;
    fprintf(stderr, "\r%-9s %lld/%lld frames  %.1f s", phases[p->phase % 3],
            (long long)p->frames_done, (long long)p->frames_total, p->elapsed_s);
}

/* May be called from several library threads at once: one fprintf() per
 * message keeps the lines whole. */
static void on_log(void *opaque, GvLogLevel level, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "\n%s: %s\n", level == GV_LOG_ERROR ? "error" : "warning", msg);
}

typedef struct Job {
    GvContext *ctx;
    int ret;
} Job;

static void *run_job(void *arg)
{
    Job *const job = arg;
    job->ret = gv_run(job->ctx);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: render FOLDER|--demo OUTPUT [KEY=VALUE]...\n");
        return 2;
    }
    if (gv_version() >> 16 != GV_VERSION_MAJOR)
        fprintf(stderr, "render: built for gridvid %d, running with %s\n", GV_VERSION_MAJOR,
                gv_version_string());

    GvSettings s;
    gv_default_settings(&s);
    const char *const inputs[] = { argv[1] };
    if (!strcmp(argv[1], "--demo")) {
        s.demo = 1;
    } else {
        s.inputs = inputs;
        s.n_inputs = 1;
    }
    s.output = argv[2];
    s.log = on_log;
    s.progress = on_progress;
    for (int i = 3; i < argc; i++) {
        /* Values stay borrowed from argv, which lives until exit. */
        char err[256] = "expected KEY=VALUE";
        char *const eq = strchr(argv[i], '=');
        if (eq)
            *eq = '\0';
        if (!eq || gv_settings_set(&s, argv[i], eq + 1, err, sizeof(err)) < 0) {
            fprintf(stderr, "render: %s\n", err);
            return 2;
        }
    }

    GvContext *ctx;
    int ret = gv_open(&ctx, &s);
    if (ret < 0) {
        fprintf(stderr, "render: %s\n", gv_strerror(ret));
        return 2;
    }

    /*
     * Block SIGINT, then start the render thread: it and every thread the
     * library starts inherit the mask, so only this thread takes Ctrl-C,
     * and only between the two pthread_sigmask() calls, while ctx is open.
     */
    sigset_t sigint;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    atomic_store(&running, ctx);

    Job job = { ctx, 0 };
    pthread_t thread;
    if (pthread_create(&thread, NULL, run_job, &job) != 0) {
        job.ret = GV_ERR_IO;
        fprintf(stderr, "render: cannot start a thread\n");
    } else {
        pthread_sigmask(SIG_UNBLOCK, &sigint, NULL);
        pthread_join(thread, NULL);
        pthread_sigmask(SIG_BLOCK, &sigint, NULL);
    }
    atomic_store(&running, NULL);

    GvSummary sum;
    gv_get_summary(ctx, &sum);
    gv_close(&ctx);
    fputc('\n', stderr);
    if (job.ret == GV_ERR_CANCELLED) {
        fprintf(stderr, "render: interrupted, nothing written\n");
        return 130;
    }
    if (job.ret < 0) {
        fprintf(stderr, "render: %s\n", gv_strerror(job.ret));
        return 1;
    }
    printf("%s: %lld frames from %d images (%d skipped), %lld bytes, %s on %s, %.1f s\n",
           s.output, (long long)sum.frames, sum.images_used, sum.images_skipped,
           (long long)sum.output_bytes, sum.encoder, sum.compositor, sum.seconds);
    return 0;
}
