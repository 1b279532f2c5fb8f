/*
 * The scheduler: wires the stages together and owns the run's lifetime.
 *
 *   probe.c      inputs -> usable images (parallel, headers only)
 *   layout.c     images -> lanes, frames, every image's first/last frame
 *   tilestore.c  tile workers, just in time, bounded memory
 *   render/failover.c  compositor: CPU, or Vulkan with CPU fallback
 *   framequeue.c picture pool + bounded queue
 *   sink.c       encoder thread (encode/)
 *
 * Here: the attempts of a run (a bad image found late, or a hardware
 * encoder lost mid-stream, starts the render over), the temporary output
 * and its rename into place, cancel, progress and the summary.
 */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "color.h"
#include "config.h"
#include "cputime.h"
#include "encode/encode.h"
#include "framequeue.h"
#include "layout.h"
#include "plan.h"
#include "preview.h"
#include "probe.h"
#include "render/failover.h"
#include "sink.h"
#include "threads.h"
#include "tilestore.h"

#define DEMO_IMAGES 30
/* Two queued frames keep the encoder fed (the compositor is ahead of it)
 * without holding more pictures than that. */
#define QUEUE_FRAMES 2
/* Pictures an encoder may keep for reference and lookahead. */
#define ENCODER_FRAMES 64

/* What lasts across the attempts of one run. */
typedef struct Run {
    const GvSettings *s;
    const GvHooks *hooks;
    const GvLog *log;
    atomic_int *cancel;
    GvTileSpec spec;
    uint8_t bg_yuv[3];
    int threads;
    double t0, cpu0;
    GvFileList files;     /* the usable images; empty for the demo */
    int n;                /* images */
    GvProbeResult probe;  /* skipped inputs (also those dropped later) */
    int software_encoder; /* a hardware encoder was lost mid-stream */
    int gpu_failed;       /* the GPU failed once: later attempts stay on the CPU */
} Run;

/* One pass from the layout to a finished file. */
typedef struct Attempt {
    Run *run;
    GvLayout layout;
    GvTileSchedule sched;
    GvTileStore *tiles;
    GvFailover *comp;
    GvEncoder *enc;
    GvPicPool pool;
    GvFrameQueue queue;
    GvSink sink;
    char tmp[PATH_MAX]; /* the temporary output, "" once renamed */
    double last_report;
    int first_reported;
} Attempt;

/* ---------------------------------------------------------------- */
/* The output file                                                    */

/*
 * Reserves a temporary name beside the output. open() with 0666 rather
 * than mkstemp() so that the finished file gets the permissions the umask
 * gives any new file.
 */
static int make_temp(const char *output, char *tmp, size_t len, const GvLog *log)
{
    const char *const slash = strrchr(output, '/');
    const int dlen = slash ? (int)(slash - output) + 1 : 0;
    const char *const base = slash ? slash + 1 : output;
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        const unsigned id = atomic_fetch_add(&counter, 1) * 2654435761u ^ (unsigned)getpid() ^
                            (unsigned)(gv_now_s() * 1e6);
        if ((size_t)snprintf(tmp, len, "%.*s.%s.gvtmp-%08x", dlen, output, base, id) >= len)
            return -ENAMETOOLONG;
        const int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (errno != EEXIST) {
            const int e = errno;
            gv_log(log, GV_LOG_ERROR, "cannot write %s: %s", output, strerror(e));
            tmp[0] = 0;
            return -e;
        }
    }
    tmp[0] = 0;
    return -EEXIST;
}

/*
 * The finished video reaches the disk before it takes the output's name
 * (after a power failure the name must not stand for an empty or partial
 * file), then is renamed onto it: atomic within a directory. File
 * systems without fsync (EINVAL) have nothing to flush.
 */
static int publish(char *tmp, const char *output, const GvLog *log)
{
    const int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    int ret = 0;
    if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL && errno != EROFS))
        ret = -errno;
    if (fd >= 0)
        close(fd);
    if (ret < 0) {
        gv_log(log, GV_LOG_ERROR, "writing %s: %s", output, strerror(-ret));
        return GV_ERR_IO;
    }
    if (rename(tmp, output) != 0) {
        ret = -errno;
        gv_log(log, GV_LOG_ERROR, "cannot move the video to %s: %s", output, strerror(-ret));
        return ret;
    }
    tmp[0] = 0;
    return 0;
}

/* ---------------------------------------------------------------- */
/* Progress and summary                                               */

static void report_progress(Attempt *a, GvPhase phase)
{
    const Run *const run = a->run;
    if (!run->s->progress)
        return;
    const double t = gv_now_s();
    const int64_t done = atomic_load(&a->sink.frames_done);
    /* the first frame is reported at once: it is what a user waits for */
    const int first = done > 0 && !a->first_reported;
    if (phase == GV_PHASE_RENDER && t - a->last_report < 0.25 && !first)
        return;
    a->first_reported |= done > 0;
    a->last_report = t;
    const GvProgress p = {
        .phase = phase,
        .frames_done = done,
        .frames_total = a->layout.frames,
        .images_total = run->n,
        .images_skipped = run->probe.skipped,
        .elapsed_s = t - run->t0,
    };
    run->s->progress(run->s->progress_opaque, &p);
}

/*
 * The run's CPU time and the encoder's part: its own thread, the flush
 * on this one, and the threads it started (named GV_ENCODER_THREAD, alive
 * until the encoder closes). The rest is gridvid's own: probing, decoding,
 * compositing, copying frames, the GPU driver.
 */
static void cpu_summary(const Attempt *a, GvSummary *summary, double flush_cpu)
{
    summary->cpu_s = gv_cpu_process_s() - a->run->cpu0;
    const double threads = gv_cpu_threads_s(GV_ENCODER_THREAD);
    summary->encoder_cpu_s = threads < 0 ? -1 : a->sink.thread_cpu + flush_cpu + threads;
    if (threads >= 0 && summary->encoder_cpu_s > 0)
        gv_log(a->run->log, GV_LOG_INFO,
               "CPU time %.2f s: the encoder %.2f s, gridvid's own %.2f s (%.1f%% of the "
               "encoder's)",
               summary->cpu_s, summary->encoder_cpu_s, summary->cpu_s - summary->encoder_cpu_s,
               100.0 * (summary->cpu_s - summary->encoder_cpu_s) / summary->encoder_cpu_s);
}

/* ---------------------------------------------------------------- */
/* Opening the stages                                                 */

/* The GPU tile scaler is worth opening: some image may use it. */
static int scaler_wanted(const Run *run)
{
    return !run->gpu_failed && run->s->gpu != GV_GPU_FALSE && run->probe.gpu_candidates > 0 &&
           run->spec.gpu_min_ratio > 0 && gv_compositor_vulkan;
}

static int open_tiles(Attempt *a)
{
    const Run *const run = a->run;
    const GvSettings *const s = run->s;
    const int64_t gpu_bytes = (int64_t)s->gpu_memory_mib << 20;
    const GvTileStoreConfig cfg = {
        .paths = s->demo ? NULL : run->files.paths,
        .n = run->n,
        .spec = &run->spec,
        .sched = &a->sched,
        .threads = run->threads,
        .batch = s->batch > 0 ? s->batch : 2 * run->threads,
        .scaler = {
            .filter = s->gpu_device,
            .memory_bytes = scaler_wanted(run) ? gpu_bytes / GV_SCALER_MEMORY_SHARE : 0,
            .software = run->hooks->scale_software,
            .fail_at = run->hooks->scale_fail_at,
            .log = run->log,
        },
        .scaler_wait = run->hooks->scale_wait,
        .cancel = run->cancel,
        .log = run->log,
    };
    return gv_tilestore_open(&a->tiles, &cfg);
}

static int open_compositor(Attempt *a)
{
    const Run *const run = a->run;
    const GvSettings *const s = run->s;
    int64_t gpu_bytes = (int64_t)s->gpu_memory_mib << 20;
    if (scaler_wanted(run))
        gpu_bytes -= gpu_bytes / GV_SCALER_MEMORY_SHARE;
    GvFailoverConfig cfg = {
        .comp = {
            .layout = &a->layout,
            .threads = run->threads,
            .gpu_device = s->gpu_device,
            .gpu_memory_bytes = gpu_bytes,
            .fail_at_frame = run->hooks->gpu_fail_at,
            .force_staging = run->hooks->gpu_force_staging,
            .log = run->log,
        },
        .gpu = s->gpu,
        .gpu_failed = run->gpu_failed,
        .open_delay_ms = run->hooks->gpu_open_delay_ms,
        .n_images = run->n,
    };
    memcpy(cfg.comp.bg_yuv, run->bg_yuv, 3);
    return gv_failover_open(&a->comp, &cfg);
}

static int open_encoder(Attempt *a, const char *path)
{
    const Run *const run = a->run;
    const GvSettings *const s = run->s;
    const GvEncodeParams ep = {
        .path = path,
        .name = s->output,
        .width = s->width,
        .height = s->height,
        .fps_num = s->fps_num,
        .fps_den = s->fps_den,
        .frames = a->layout.frames,
        .encoder = s->encoder,
        .codec = s->codec,
        .crf = s->crf,
        .preset = s->preset,
        .bitrate = s->bitrate,
        .threads = s->threads,
        .videotoolbox = s->videotoolbox,
        .log = run->log,
        .audio = s->audio,
        .software = run->software_encoder,
        /* test-only: a hardware encoder dying mid-stream, on the first try */
        .fail_at_frame = run->software_encoder ? 0 : run->hooks->encoder_fail_at,
    };
    return gv_encoder_open(&a->enc, &ep);
}

/* The frame pool, the queue and the encoder thread. The pool holds the
 * frames in flight in the compositor, in the queue, and those an encoder
 * keeps for reference or lookahead. */
static int open_output(Attempt *a)
{
    const Run *const run = a->run;
    const GvSettings *const s = run->s;
    int ret;
    if (!s->stream &&
        (ret = gv_sink_keep_frames(&a->sink, gv_settings_temp_dir(s), run->log)) < 0)
        return ret;
    if ((ret = gv_picpool_init(&a->pool, s->width, s->height,
                               GV_MAX_DEPTH + QUEUE_FRAMES + ENCODER_FRAMES)) < 0 ||
        (ret = gv_framequeue_init(&a->queue, QUEUE_FRAMES, run->cancel)) < 0)
        return ret;
    return gv_sink_start(&a->sink, &a->queue, a->enc, run->log);
}

/* ---------------------------------------------------------------- */
/* Compositing                                                        */

/* Why the frames must stop now, or 0. */
static int stop_reason(Attempt *a)
{
    int ret;
    if (atomic_load(a->run->cancel))
        return GV_ERR_CANCELLED;
    if ((ret = gv_framequeue_error(&a->queue)) < 0)
        return ret;
    /* a bad image voids this attempt: stop now, not at its first frame */
    return gv_tilestore_error(a->tiles);
}

/* Adds every tile that frame i shows for the first time. */
static int add_tiles(Attempt *a, int64_t i, int *next_add)
{
    const GvTileSchedule *const sch = &a->sched;
    while (*next_add < sch->n_shown && sch->first[sch->by_first[*next_add]] <= i) {
        const int k = sch->by_first[*next_add];
        const GvTile *const t = gv_tilestore_wait(a->tiles, k);
        if (!t) {
            const int err = stop_reason(a);
            return err < 0 ? err : GV_ERR_DECODE;
        }
        ++*next_add;
        const int ret = gv_failover_tile_add(a->comp, k, t);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int submit_frame(Attempt *a, int64_t i)
{
    GvPoolPic *const pp = gv_picpool_get(&a->pool, a->run->cancel);
    if (!pp)
        return atomic_load(a->run->cancel) ? GV_ERR_CANCELLED : -ENOMEM;
    return gv_failover_submit(a->comp, i, &pp->pic, pp);
}

/* The oldest frame is done: release its tiles and hand it on. */
static int finish_frame(Attempt *a, int *next_remove)
{
    const GvTileSchedule *const sch = &a->sched;
    int64_t frame;
    void *pp;
    const int ret = gv_failover_wait(a->comp, &frame, &pp);
    if (ret < 0)
        return ret;
    while (*next_remove < sch->n_shown && sch->last[sch->by_last[*next_remove]] <= frame) {
        const int k = sch->by_last[(*next_remove)++];
        gv_failover_tile_remove(a->comp, k);
        gv_tilestore_release(a->tiles, k);
    }
    return gv_framequeue_push(&a->queue, pp, frame);
}

static int composite_frames(Attempt *a)
{
    const GvTileSchedule *const sch = &a->sched;
    const int64_t frames = a->layout.frames;
    int next_add = 0, next_remove = 0, ret;
    for (int64_t i = 0; i < frames || gv_failover_in_flight(a->comp) > 0;) {
        if ((ret = stop_reason(a)) < 0)
            return ret;
        report_progress(a, GV_PHASE_RENDER);
        /* With frames in flight and a tile still decoding, finish the
         * oldest frame first: that releases tiles, so the workers go on. */
        const int busy = gv_failover_in_flight(a->comp);
        const int blocked = busy > 0 && next_add < sch->n_shown &&
                            sch->first[sch->by_first[next_add]] <= i &&
                            !gv_tilestore_ready(a->tiles, sch->by_first[next_add]);
        if (i < frames && busy < gv_failover_depth(a->comp) && !blocked) {
            if ((ret = add_tiles(a, i, &next_add)) < 0 || (ret = submit_frame(a, i)) < 0)
                return ret;
            i++;
            if (gv_failover_in_flight(a->comp) < gv_failover_depth(a->comp) && i < frames)
                continue;
        }
        if ((ret = finish_frame(a, &next_remove)) < 0)
            return ret;
    }
    return gv_failover_end(a->comp);
}

/* ---------------------------------------------------------------- */
/* The run                                                            */

/* Flushes the encoder and puts the file in place. */
static int finish_video(Attempt *a, GvSummary *summary)
{
    const Run *const run = a->run;
    gv_framequeue_end(&a->queue);
    gv_sink_join(&a->sink);
    int ret = gv_framequeue_error(&a->queue);
    if (ret < 0)
        return ret;
    if (atomic_load(run->cancel))
        return GV_ERR_CANCELLED;
    report_progress(a, GV_PHASE_FINISH);
    const double flush0 = gv_thread_cpu_s();
    if ((ret = gv_encoder_finish(a->enc)) < 0)
        return ret;
    cpu_summary(a, summary, gv_thread_cpu_s() - flush0);
    snprintf(summary->encoder, sizeof(summary->encoder), "%s", gv_encoder_name(a->enc));
    snprintf(summary->compositor, sizeof(summary->compositor), "%s",
             gv_failover_device(a->comp));
    /* an interrupt during the flush still leaves the earlier file alone */
    if (atomic_load(run->cancel))
        return GV_ERR_CANCELLED;
    if ((ret = publish(a->tmp, run->s->output, run->log)) < 0)
        return ret;
    summary->frames = a->layout.frames;
    return 0;
}

static int render_video(Attempt *a, GvSummary *summary)
{
    const Run *const run = a->run;
    int ret;
    if ((ret = make_temp(run->s->output, a->tmp, sizeof(a->tmp), run->log)) < 0)
        return ret;
    /* Tiles start decoding, and the GPU opening on its threads, before
     * the encoder opens: each takes a while, and the first frame waits
     * for its tiles anyway. */
    if ((ret = open_compositor(a)) < 0 || (ret = gv_tilestore_start(a->tiles)) < 0 ||
        (ret = open_encoder(a, a->tmp)) < 0)
        return ret;
    gv_plan_line(run->s, "encoder: %s", gv_encoder_name(a->enc));
    if ((ret = gv_failover_begin(a->comp)) < 0 || (ret = open_output(a)) < 0 ||
        (ret = composite_frames(a)) < 0)
        return ret;
    return finish_video(a, summary);
}

/* A dry run opens the encoder, to name the one a render would get, but
 * writes nothing. */
static int plan_encoder(Attempt *a, GvSummary *summary)
{
    const int ret = open_encoder(a, "/dev/null");
    if (ret < 0)
        return ret;
    gv_plan_line(a->run->s, "encoder: %s", gv_encoder_name(a->enc));
    snprintf(summary->encoder, sizeof(summary->encoder), "%s", gv_encoder_name(a->enc));
    return 0;
}

static int render_preview(Attempt *a, GvSummary *summary)
{
    const Run *const run = a->run;
    const int ret = gv_preview_write(run->s, &a->layout, a->tiles, run->bg_yuv, run->cancel,
                                     run->log);
    if (ret == 0) {
        summary->frames = 1;
        snprintf(summary->compositor, sizeof(summary->compositor), "cpu");
    }
    return ret;
}

/* Stops every stage before anything it uses goes: the workers, the
 * encoder thread; then the encoder drops its references, the compositor
 * waits for the device, and only then may the pictures and tiles go. */
static void close_attempt(Attempt *a, int ret, GvSummary *summary)
{
    if (a->tiles)
        summary->tiles_gpu_scaled = gv_tilestore_stop(a->tiles);
    if (a->sink.started) {
        gv_framequeue_fail(&a->queue, ret < 0 ? ret : GV_ERR_ENCODE);
        gv_sink_join(&a->sink);
    }
    gv_encoder_close(&a->enc);
    if (a->comp && gv_failover_gpu_failed(a->comp))
        a->run->gpu_failed = 1;
    gv_failover_close(&a->comp);
    gv_framequeue_free(&a->queue);
    gv_picpool_free(&a->pool);
    if (a->tmp[0])
        unlink(a->tmp);
    if (ret < 0)
        gv_sink_discard_frames(&a->sink);
    gv_tilestore_close(&a->tiles);
    gv_tile_schedule_free(&a->sched);
    gv_layout_free(&a->layout);
}

/*
 * Images that passed the probe but failed to decode: logged and dropped,
 * and *again set, since the layout depends on the usable images. With
 * STRICT the first is fatal.
 */
static int drop_failed(Run *run, const Attempt *a, int *again)
{
    int kept = 0;
    for (int k = 0; k < run->n; k++) {
        const char *const why = gv_tilestore_failure(a->tiles, k);
        if (!why) {
            run->files.paths[kept++] = run->files.paths[k];
            continue;
        }
        gv_log(run->log, run->s->strict ? GV_LOG_ERROR : GV_LOG_WARNING, "%s: %s",
               run->files.paths[k], why);
        if (run->s->strict)
            return GV_ERR_BAD_INPUT;
        free(run->files.paths[k]);
        run->probe.skipped++;
        *again = 1;
    }
    run->files.n = run->n = kept;
    return GV_ERR_DECODE;
}

static int run_attempt(Run *run, GvSummary *summary, int *again)
{
    const GvSettings *const s = run->s;
    Attempt a = { .run = run };
    const GvLayoutParams lp = gv_layout_params(s, run->n);
    int ret = gv_layout_init(&a.layout, &lp);
    if (ret < 0)
        gv_log(run->log, GV_LOG_ERROR, "impossible layout for these settings");
    else if ((ret = gv_tile_schedule_init(&a.sched, &a.layout, GV_MAX_DEPTH - 1)) == 0 &&
             (ret = open_tiles(&a)) == 0) {
        gv_plan_layout(s, &a.layout, run->n, run->probe.skipped, a.sched.n_shown);
        if (s->preview && s->dry_run)
            gv_plan_line(s, "preview: frame at %g s -> %s", s->preview_at, s->preview);
        else if (s->preview)
            ret = render_preview(&a, summary);
        else if (s->dry_run)
            ret = plan_encoder(&a, summary);
        else
            ret = render_video(&a, summary);
    }
    if (ret == GV_ERR_DECODE && !s->demo && a.tiles)
        ret = drop_failed(run, &a, again);
    close_attempt(&a, ret, summary);
    return ret;
}

/* libvips, the encoder's settings, the tile spec and the images. */
static int start_run(Run *run)
{
    const GvSettings *const s = run->s;
    int ret;
    if ((ret = gv_tiles_init()) < 0) {
        gv_log(run->log, GV_LOG_ERROR, "cannot start libvips");
        return ret;
    }
    char err[512];
    if (!s->preview && gv_encoder_check(s->output, s->codec, s->encoder, err, sizeof(err)) < 0) {
        gv_log(run->log, GV_LOG_ERROR, "%s", err);
        return GV_ERR_SETTING;
    }
    run->threads = s->threads > 0 ? s->threads : gv_cpu_count();
    run->spec = (GvTileSpec){
        .w = gv_tile_width(s->tile_height, s->aspect_w, s->aspect_h),
        .h = s->tile_height,
        .crop = s->crop,
        .max_pixels = s->max_pixels,
        .gpu_min_ratio = run->hooks->scale_min_ratio,
    };
    memcpy(run->spec.background, s->background, 3);
    gv_rgb_to_yuv(s->background[0], s->background[1], s->background[2], &run->bg_yuv[0],
                  &run->bg_yuv[1], &run->bg_yuv[2]);
    if (s->progress) {
        const GvProgress p = { .phase = GV_PHASE_SCAN };
        s->progress(s->progress_opaque, &p);
    }
    if (s->demo) {
        run->n = DEMO_IMAGES;
        return 0;
    }
    ret = gv_probe_inputs(s, &run->spec, run->threads, run->cancel, run->log, &run->files,
                          &run->probe);
    run->n = run->files.n;
    return ret;
}

int gv_pipeline_run(const GvSettings *s, const GvHooks *hooks, const GvLog *log,
                    atomic_int *cancel, GvSummary *summary)
{
    Run run = { .s = s, .hooks = hooks, .log = log, .cancel = cancel, .t0 = gv_now_s(),
                .cpu0 = gv_cpu_process_s() };
    memset(summary, 0, sizeof(*summary));
    int ret = start_run(&run);
    while (ret == 0) {
        if (run.n == 0) {
            gv_log(log, GV_LOG_ERROR, "no usable image in the input");
            ret = GV_ERR_BAD_INPUT;
            break;
        }
        int again = 0;
        ret = run_attempt(&run, summary, &again);
        if (ret == GV_ERR_DECODE && again) {
            ret = 0;
            continue;
        }
        /* The frames already sent are gone with the encoder: encode again
         * from the first frame into a fresh file. */
        if (ret == GV_ENCODE_LOST && !run.software_encoder) {
            run.software_encoder = 1;
            ret = 0;
            continue;
        }
        if (ret == GV_ENCODE_LOST)
            ret = GV_ERR_ENCODE;
        break;
    }
    summary->images_used = ret == 0 ? run.n : 0;
    summary->images_skipped = run.probe.skipped;
    summary->seconds = gv_now_s() - run.t0;
    struct stat st;
    if (ret == 0 && !s->dry_run && stat(s->preview ? s->preview : s->output, &st) == 0)
        summary->output_bytes = st.st_size;
    gv_file_list_free(&run.files);
    return ret;
}
