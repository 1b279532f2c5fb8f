/*
 * The scheduler: wires the stages together and owns the run's lifetime.
 *
 *   probe.c      inputs -> usable images (parallel, headers only)
 *   layout.c     images -> lanes, frames, every image's first/last frame
 *   tilestore.c  tile workers, just in time, bounded memory; clips'
 *                pictures frame by frame (clipplay.c, clip.c)
 *   render/failover.c  compositor: CPU, or Vulkan with CPU fallback
 *   framequeue.c picture pool + bounded queue
 *   sink.c       encoder thread (encode/)
 *   output.c     the output checked before any work, its locked temporary
 *                and the rename into place
 *
 * Here: the attempts of a run (a bad image found late, or a hardware
 * encoder lost mid-stream, starts the render over), cancel, progress and
 * the summary.
 */
#include "pipeline.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "color.h"
#include "config.h"
#include "clipplay.h"
#include "cputime.h"
#include "encode/encode.h"
#include "framequeue.h"
#include "gpu/jpegengine.h"
#include "layout.h"
#include "output.h"
#include "plan.h"
#include "preview.h"
#include "probe.h"
#include "render/failover.h"
#include "sink.h"
#include "threads.h"
#include "tilestore.h"
#include "view.h"
#include "beat.h"

#define DEMO_IMAGES 30
/* Two queued frames keep the encoder fed (the compositor is ahead of it)
 * without holding more pictures than that. */
#define QUEUE_FRAMES 2
/* MEMORY_LIMIT auto, in MiB. */
#define MEMORY_LIMIT_AUTO 2048
/* gridvid's memory besides its pictures and tiles: libraries and
 * libvips; per worker thread (its stack, its malloc arena, the
 * compositor's rows); per image being decoded; and the GPU driver's host
 * memory and read-back buffers where a GPU may composite (measured:
 * docs/PERFORMANCE.md, 2026-12-03). */
#define OWN_BASE_MIB 96
#define THREAD_MIB 3
#define DECODE_MIB 2
#define GPU_MIB 128
/* A clip's decoder holds about this many frames of the clip's size (its
 * references and the frame being decoded, 8-bit 4:2:0). */
#define CLIP_DECODER_FRAMES 8

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
    GvOutput out;         /* the video's temporary, made before the first image is read and
                             written again by each attempt; or the preview's path */
    GvJpegEngineSet *engines; /* the JPEG engines, opening from the start of the run */
    GvView view;          /* Ken Burns and the camera: the tiles' size and the wall's extent */
    GvCaptionSpec caption; /* CAPTION, drawn into the tiles */
    GvOverlays overlays;  /* the title card and the logo, blended into the frames */
    GvBeats beats;        /* BEAT_SYNC: the soundtrack's beats */
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
    GvTileStats stats;  /* what the tile store did, once stopped */
    const GvTile **clip_shown; /* per image: the clip picture the compositor has */
    int *clips_on;      /* the clips added to the compositor and not removed */
    int n_clips_on;
    double last_report;
    int first_reported;
    double first_done_s;  /* when the first frame was composited, from the start */
} Attempt;

/* ---------------------------------------------------------------- */
/* The output file                                                    */

/*
 * Before any image is read: an output that can never be written is a bad
 * setting found now, not after the render; the temporaries of dead runs
 * go; and the video's temporary is made and locked.
 */
static int prepare_output(Run *run)
{
    const GvSettings *const s = run->s;
    const char *const path = s->preview ? s->preview : s->output;
    int ret = gv_output_check(&run->out, path, run->log);
    if (ret < 0 || (!s->demo && (ret = gv_output_not_input(&run->out, s->inputs, s->n_inputs,
                                                           run->log)) < 0))
        return ret;
    if (s->dry_run)
        return 0;
    gv_output_clean(&run->out, run->log);
    gv_output_warn_space(&run->out, gv_output_estimate(s), run->log);
    char why[256];
    if (!s->preview && (ret = gv_output_temp(&run->out, why, sizeof(why))) < 0)
        gv_log(run->log, GV_LOG_ERROR, "%s: %s", path, why);
    return ret;
}

static int publish(Run *run)
{
    char why[256];
    const int ret = gv_output_publish(&run->out, why, sizeof(why));
    if (ret < 0)
        gv_log(run->log, GV_LOG_ERROR, "%s: %s", run->out.path, why);
    return ret;
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

/* The share of GPU_MEMORY_LIMIT the JPEG engine's decoded photos may hold. */
#define ENGINE_MEMORY_SHARE 2
/* Files one JPEG engine decodes together, at most; and the engines, each
 * with a thread: while one waits for the GPU's JPEG decoders, another
 * prepares its batch or scales. */
#define ENGINE_BATCH 32
#define ENGINE_THREADS 2
/* Batches the engines may take ahead of the tiles' window. */
#define ENGINE_AHEAD 2

/* The built-in choices unless a benchmark switch (hooks.h) says otherwise. */
static int engine_threads(const Run *run)
{
    return run->hooks->engine_threads ? run->hooks->engine_threads : ENGINE_THREADS;
}

static int engine_batch(const Run *run)
{
    return run->hooks->engine_batch ? run->hooks->engine_batch : ENGINE_BATCH;
}

static int engine_ahead(const Run *run)
{
    return run->hooks->engine_ahead ? run->hooks->engine_ahead : ENGINE_AHEAD;
}

/* GPU_DECODE allows the JPEG engine (auto follows USE_GPU=false). */
static int engine_allowed(const GvSettings *s)
{
    /* a preview decodes its few photos with libvips */
    return !s->demo && !s->preview && s->gpu_decode != GV_GPU_FALSE &&
           !(s->gpu_decode == GV_GPU_AUTO && s->gpu == GV_GPU_FALSE);
}

/* The JPEG engine is worth having: some image may use it, or require
 * wants to know there is one. */
static int engine_wanted(const Run *run)
{
    return engine_allowed(run->s) &&
           (run->probe.jpeg_candidates > 0 || run->s->gpu_decode == GV_GPU_REQUIRE);
}

/* The plan's decoder line: device is the JPEG engine's GPU, or NULL. */
static void plan_decoder_line(const Run *run, const char *device)
{
    const GvSettings *const s = run->s;
    if (!engine_wanted(run))
        gv_plan_line(s, "decoder: libvips");
    else if (!device)
        gv_plan_line(s, "decoder: libvips (no GPU JPEG engine)");
    else
        gv_plan_line(s, "decoder: JPEG engine on %s for up to %d of %d images, libvips for the "
                        "rest", device, run->probe.jpeg_candidates, run->n);
}

static int start_engines(Run *run)
{
    const GvJpegEngineConfig cfg = {
        .filter = run->s->gpu_device,
        .memory_bytes = ((int64_t)run->s->gpu_memory_mib << 20) / ENGINE_MEMORY_SHARE /
                        engine_threads(run),
        .max_batch = engine_batch(run),
        .log = run->log,
    };
    return gv_jpeg_engines_start(&run->engines, &cfg, engine_threads(run));
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
        .engine_wait = run->hooks->engine_wait,
        .clip_pictures = run->hooks->clip_ahead,
        .clip_lead = run->hooks->clip_lead,
        .engines = run->engines,
        .engine_threads = engine_threads(run),
        .engine_batch = engine_batch(run),
        .engine_ahead = engine_ahead(run),
        .engine_mode = s->gpu_decode,
        .probe_flags = run->probe.flags,
        .clips = run->probe.clips,
        .fps_num = s->fps_num,
        .fps_den = s->fps_den,
        .clip_loop = s->clip_loop,
        .clip_start = s->clip_start,
        .clip_hwaccel = engine_allowed(s),
        .at_frame = s->preview ? gv_preview_frame(s) : -1,
        .cancel = run->cancel,
        .log = run->log,
    };
    if (run->probe.n_clips > 0 &&
        (!(a->clip_shown = calloc((size_t)run->n, sizeof(*a->clip_shown))) ||
         !(a->clips_on = calloc((size_t)run->probe.n_clips, sizeof(*a->clips_on)))))
        return -ENOMEM;
    return gv_tilestore_open(&a->tiles, &cfg);
}

static int open_compositor(Attempt *a)
{
    const Run *const run = a->run;
    const GvSettings *const s = run->s;
    /* GPU_MEMORY_LIMIT is shared: the tile scaler and the JPEG engines
     * take their parts, the compositor what is left */
    const int64_t limit = (int64_t)s->gpu_memory_mib << 20;
    int64_t gpu_bytes = limit;
    if (scaler_wanted(run))
        gpu_bytes -= limit / GV_SCALER_MEMORY_SHARE;
    if (run->engines)
        gpu_bytes -= limit / ENGINE_MEMORY_SHARE;
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
        .transparent = s->transparent,
    };
    memcpy(cfg.comp.bg_yuv, run->bg_yuv, 3);
    return gv_failover_open(&a->comp, &cfg);
}

/* Clips open at once (as the schedule counts them): their pictures ahead
 * and their decoders' frames, the largest clip's for all. */
static int64_t clips_memory(const Attempt *a, int64_t tile)
{
    const Run *const run = a->run;
    int64_t largest = 0;
    for (int k = 0; k < run->n && run->probe.n_clips > 0; k++) {
        const GvClipInfo *const c = run->probe.clips[k];
        if (c && (int64_t)c->width * c->height > largest)
            largest = (int64_t)c->width * c->height;
    }
    const int held = a->sched.max_clips;
    /* a clip playing backwards also keeps the pictures of the frames after */
    const int pictures = (run->hooks->clip_ahead ? run->hooks->clip_ahead : GV_CLIP_PICTURES) +
                         (run->s->clip_loop == GV_CLIP_BOUNCE ? GV_CLIP_PLAY_CACHE : 0);
    return held * (pictures * tile + CLIP_DECODER_FRAMES * largest * 3 / 2);
}

/*
 * What MEMORY_LIMIT leaves to the encoder: the limit less gridvid's own,
 * estimated from what it holds at most (the picture pool, the tiles, the
 * images being decoded, a GPU's read-back ring). At least 1 byte: the
 * encoder then takes its smallest settings.
 */
static int64_t encoder_memory(const Attempt *a)
{
    const Run *const run = a->run;
    const GvSettings *const s = run->s;
    const int64_t mib = INT64_C(1) << 20;
    /* a transparent frame: over black and over white (1.5 bytes a pixel
     * each), and its alpha (1) */
    const int64_t pic = (int64_t)s->width * s->height * (s->transparent ? 8 : 3) / 2;
    const int64_t tile = (int64_t)run->spec.w * run->spec.h * 3;
    const int batch = s->batch > 0 ? s->batch : 2 * run->threads;
    const int pics = GV_MAX_DEPTH + QUEUE_FRAMES + GV_ENCODER_PICTURES_COPIED;
    int64_t own = (OWN_BASE_MIB + THREAD_MIB * run->threads + DECODE_MIB * batch) * mib +
                  pics * pic + (a->sched.max_live + batch) * tile;
    if (s->gpu != GV_GPU_FALSE && !run->gpu_failed)
        own += GPU_MIB * mib;
    own += clips_memory(a, tile);
    /* the camera map, and the CPU compositor's mip chains (src/view.h) */
    if (run->view.map)
        own += (int64_t)s->width * s->height * 12;
    if (run->view.active && (s->gpu == GV_GPU_FALSE || run->gpu_failed))
        own += (a->sched.max_live + GV_MAX_DEPTH) * run->view.chain_bytes * 3;
    const int64_t limit = (s->memory_limit_mib ? s->memory_limit_mib : MEMORY_LIMIT_AUTO) * mib;
    gv_log(run->log, GV_LOG_INFO,
           "memory: limit %lld MiB, of which gridvid's own about %lld MiB (%d pictures, %d "
           "tiles, %d images decoding, %d clips open)", (long long)(limit / mib),
           (long long)(own / mib), pics, a->sched.max_live + batch, batch, a->sched.max_clips);
    return limit - own > 0 ? limit - own : 1;
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
        .memory_bytes = encoder_memory(a),
        .videotoolbox = s->videotoolbox,
        .log = run->log,
        .audio = s->audio,
        .software = run->software_encoder,
        .alpha = s->transparent,
        /* test-only: a hardware encoder dying mid-stream, on the first try */
        .fail_at_frame = run->software_encoder ? 0 : run->hooks->encoder_fail_at,
    };
    return gv_encoder_open(&a->enc, &ep);
}

/* The frame pool, the queue and the encoder thread. The pool holds the
 * frames in flight in the compositor, in the queue, and those the encoder
 * holds. */
static int open_output(Attempt *a)
{
    const Run *const run = a->run;
    const GvSettings *const s = run->s;
    int ret;
    if (!s->stream &&
        (ret = gv_sink_keep_frames(&a->sink, gv_settings_temp_dir(s), run->log)) < 0)
        return ret;
    if ((ret = gv_picpool_init(&a->pool, s->width, s->height,
                               GV_MAX_DEPTH + QUEUE_FRAMES + gv_encoder_pictures_held(a->enc),
                               s->transparent)) < 0 ||
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
        if (a->clips_on && a->run->probe.clips[k]) {
            a->clip_shown[k] = t;
            a->clips_on[a->n_clips_on++] = k;
        }
    }
    return 0;
}

static int finish_frame(Attempt *a, int *next_remove);

/*
 * Gives the compositor every clip's picture for frame i. A new picture
 * replaces the clip's tile with no frame in flight (those in flight may
 * read the old one): the frames in flight are finished first.
 */
static int update_clips(Attempt *a, int64_t i, int *next_remove)
{
    int drained = 0, ret;
    for (int j = 0; j < a->n_clips_on; j++) {
        const int k = a->clips_on[j];
        if (!gv_tile_schedule_shows(&a->sched, k, i))
            continue; /* not shown: its tile stays as it was */
        const GvTile *const t = gv_tilestore_clip_frame(a->tiles, k, i);
        if (!t) {
            const int err = stop_reason(a);
            return err < 0 ? err : GV_ERR_DECODE;
        }
        if (t != a->clip_shown[k] && !drained) {
            while (gv_failover_in_flight(a->comp) > 0)
                if ((ret = finish_frame(a, next_remove)) < 0)
                    return ret;
            drained = 1;
            j = -1; /* finishing may have removed clips: from the start */
            continue;
        }
        if (t != a->clip_shown[k] && (ret = gv_failover_tile_update(a->comp, k, t)) < 0)
            return ret;
        a->clip_shown[k] = t;
        gv_tilestore_clip_done(a->tiles, k, i);
    }
    return 0;
}

/* Clip k left the compositor. */
static void clip_off(Attempt *a, int k)
{
    for (int j = 0; j < a->n_clips_on; j++)
        if (a->clips_on[j] == k) {
            a->clips_on[j] = a->clips_on[--a->n_clips_on];
            a->clip_shown[k] = NULL;
            return;
        }
}

static int submit_frame(Attempt *a, int64_t i)
{
    GvPoolPic *const pp = gv_picpool_get(&a->pool, a->run->cancel);
    if (!pp)
        return atomic_load(a->run->cancel) ? GV_ERR_CANCELLED : -ENOMEM;
    return gv_failover_submit(a->comp, i, &pp->pic, a->run->s->transparent ? &pp->over : NULL,
                              pp);
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
    /* the title, the logo and alpha: the same whichever compositor ran */
    GvPoolPic *const pic = pp;
    gv_overlays_finish(&a->run->overlays, frame, &pic->pic,
                       a->run->s->transparent ? &pic->over : NULL);
    while (*next_remove < sch->n_shown && sch->last[sch->by_last[*next_remove]] <= frame) {
        const int k = sch->by_last[(*next_remove)++];
        gv_failover_tile_remove(a->comp, k);
        if (a->clips_on)
            clip_off(a, k);
        gv_tilestore_release(a->tiles, k);
    }
    if (a->first_done_s == 0)
        a->first_done_s = gv_now_s() - a->run->t0;
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
            gv_tilestore_frame(a->tiles, i);
            if ((ret = add_tiles(a, i, &next_add)) < 0 ||
                (a->n_clips_on > 0 && (ret = update_clips(a, i, &next_remove)) < 0) ||
                (ret = submit_frame(a, i)) < 0)
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
    double tiles_s, clips_s;
    gv_tilestore_waits(a->tiles, &tiles_s, &clips_s);
    gv_log(run->log, GV_LOG_INFO,
           "waits: the first frame composited at %.2f s; the frames waited %.2f s for tiles, "
           "%.2f s for clips' pictures and %.2f s for pictures to composite into, the encoder "
           "%.2f s for frames, and finished frames %.2f s for the encoder",
           a->first_done_s, tiles_s, clips_s, a->pool.wait_s, a->queue.pop_wait_s,
           a->queue.push_wait_s);
    snprintf(summary->encoder, sizeof(summary->encoder), "%s", gv_encoder_name(a->enc));
    snprintf(summary->compositor, sizeof(summary->compositor), "%s",
             gv_failover_device(a->comp));
    /* an interrupt during the flush still leaves the earlier file alone */
    if (atomic_load(run->cancel))
        return GV_ERR_CANCELLED;
    if ((ret = publish(a->run)) < 0)
        return ret;
    summary->frames = a->layout.frames;
    return 0;
}

static int render_video(Attempt *a, GvSummary *summary)
{
    const Run *const run = a->run;
    int ret;
    /* Tiles start decoding, and the GPU opening on its threads, before
     * the encoder opens: each takes a while, and the first frame waits
     * for its tiles anyway. */
    if ((ret = open_compositor(a)) < 0 || (ret = gv_tilestore_start(a->tiles)) < 0 ||
        (ret = open_encoder(a, run->out.tmp)) < 0)
        return ret;
    if (run->s->plan)
        plan_decoder_line(run, gv_tilestore_engine_device(a->tiles));
    gv_plan_line(run->s, "encoder: %s", gv_encoder_name(a->enc));
    if ((ret = gv_failover_begin(a->comp)) < 0 || (ret = open_output(a)) < 0 ||
        (ret = composite_frames(a)) < 0)
        return ret;
    return finish_video(a, summary);
}

/* A dry run opens the encoder, to name the one a render would get, but
 * writes nothing. */
/* The decoder a render would use: the JPEG engine is opened to say. */
static int plan_decoder(const Run *run)
{
    const GvSettings *const s = run->s;
    GvJpegEngine *e[GV_JPEG_ENGINES_MAX] = { NULL };
    const char *device = NULL;
    const int n = run->engines ? gv_jpeg_engines_wait(run->engines, e) : 0;
    for (int i = 0; i < n && !device; i++)
        device = e[i] ? gv_jpeg_engine_device(e[i]) : NULL;
    if (engine_wanted(run) && !device && s->gpu_decode == GV_GPU_REQUIRE) {
        gv_log(run->log, GV_LOG_ERROR,
               "no GPU JPEG engine (GPU_DECODE=require; --verbose says why)");
        return GV_ERR_GPU;
    }
    plan_decoder_line(run, device);
    return 0;
}

static int plan_encoder(Attempt *a, GvSummary *summary)
{
    int ret = plan_decoder(a->run);
    if (ret < 0 || (ret = open_encoder(a, "/dev/null")) < 0)
        return ret;
    gv_plan_line(a->run->s, "encoder: %s", gv_encoder_name(a->enc));
    snprintf(summary->encoder, sizeof(summary->encoder), "%s", gv_encoder_name(a->enc));
    return 0;
}

static int render_preview(Attempt *a, GvSummary *summary)
{
    const Run *const run = a->run;
    const int ret = gv_preview_write(run->s, &a->layout, a->tiles, run->bg_yuv, &run->overlays,
                                     run->cancel,
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
    if (a->tiles) {
        gv_tilestore_stop(a->tiles, &a->stats);
        summary->tiles_gpu_scaled = a->stats.gpu_scaled;
        summary->tiles_engine = a->stats.engine;
        summary->tiles_engine_refused = a->stats.engine_refused;
        summary->clips = a->stats.clips;
        summary->clips_hw = a->stats.clips_hw;
    }
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
    if (ret < 0)
        gv_sink_discard_frames(&a->sink);
    gv_tilestore_close(&a->tiles);
    gv_tile_schedule_free(&a->sched);
    gv_layout_free(&a->layout);
    free(a->clip_shown);
    free(a->clips_on);
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
        GvClipInfo *const clip = run->probe.clips[k];
        run->probe.clips[k] = NULL;
        if (!why) {
            run->probe.flags[kept] = run->probe.flags[k];
            run->probe.clips[kept] = clip;
            run->files.paths[kept++] = run->files.paths[k];
            continue;
        }
        run->probe.n_clips -= clip != NULL;
        free(clip);
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

/* The plan's line for each clip: what it is and how it plays. */
static void plan_clips(const Attempt *a)
{
    const Run *const run = a->run;
    const GvSettings *const s = run->s;
    const double frame_s = (double)s->fps_den / s->fps_num;
    for (int k = 0; k < run->n && run->probe.n_clips > 0; k++) {
        const GvClipInfo *const c = run->probe.clips[k];
        if (!c)
            continue;
        if (a->sched.first[k] < 0) {
            gv_plan_line(s, "clip %s: %.2f s, not shown", run->files.paths[k], c->duration);
            continue;
        }
        const double from = (double)a->sched.first[k] * frame_s;
        const double shown = (double)(a->sched.last[k] - a->sched.first[k] + 1) * frame_s;
        /* on screen: its runs of frames; its time runs on in between */
        const GvTileSchedule *const sch = &a->sched;
        int64_t on = 0;
        const int runs = sch->span_index[k + 1] - sch->span_index[k];
        for (int j = sch->span_index[k]; j < sch->span_index[k + 1]; j++)
            on += sch->spans[j].to - sch->spans[j].from + 1;
        char where[64] = "";
        if (runs > 1)
            snprintf(where, sizeof(where), " in %d runs over %.2f s", runs, shown);
        char how[96];
        if (shown <= c->duration || !(c->duration > 0))
            snprintf(how, sizeof(how), "plays %.2f s of it", shown);
        else if (s->clip_loop == GV_CLIP_HOLD)
            snprintf(how, sizeof(how), "then holds its last frame for %.2f s",
                     shown - c->duration);
        else
            snprintf(how, sizeof(how), "%s %.1f times", s->clip_loop == GV_CLIP_BOUNCE ?
                     "bounces, playing" : "loops, playing", shown / c->duration);
        gv_plan_line(s, "clip %s: %.2f s, %dx%d %s%s at %.3g fps; shown %.2f s from %.2f s%s, %s",
                     run->files.paths[k], c->duration, c->upright_w, c->upright_h, c->codec,
                     c->rotation ? (c->rotation == 90 ? " turned 90" : c->rotation == 180 ?
                                    " turned 180" : " turned 270") : "",
                     c->fps, (double)on * frame_s, from, where, how);
    }
}

/* BEAT_SYNC: the beats of AUDIO, or one warning where it has none. */
static int find_beats(Run *run)
{
    const GvSettings *const s = run->s;
    char reason[256] = "";
    const double t0 = gv_now_s();
    const int ret = gv_beats_find(s->audio, s->duration, &run->beats, reason, sizeof(reason));
    if (ret < 0) {
        if (ret != -ENOMEM)
            gv_log(run->log, GV_LOG_ERROR, "BEAT_SYNC: '%s': %s", s->audio, reason);
        return ret == -ENOMEM ? ret : GV_ERR_SETTING;
    }
    gv_log(run->log, GV_LOG_INFO, "beats: %d found in %.2f s", run->beats.n, gv_now_s() - t0);
    if (run->beats.n == 0)
        gv_log(run->log, GV_LOG_WARNING,
               "BEAT_SYNC: no beat found in the first %g s of '%s': the wall moves as EASING says",
               s->duration, s->audio);
    return 0;
}

/* --dry-run's line of the beats: the tempo and every beat's time. */
static void plan_beats(const Run *run)
{
    const GvBeats *const b = &run->beats;
    if (run->s->beat_sync == GV_BEAT_OFF || !run->s->plan)
        return;
    char times[400] = "";
    size_t used = 0;
    for (int i = 0; i < b->n && used + 12 < sizeof(times); i++)
        used += (size_t)snprintf(times + used, sizeof(times) - used, " %.3f", b->t[i]);
    gv_plan_line(run->s, "beats: %.1f bpm, %d beats, %s: at%s%s s", b->bpm, b->n,
                 gv_setting_name("BEAT_SYNC", run->s->beat_sync), times,
                 used + 12 >= sizeof(times) ? " ..." : "");
}

static int run_attempt(Run *run, GvSummary *summary, int *again)
{
    const GvSettings *const s = run->s;
    Attempt a = { .run = run };
    GvLayoutParams lp = gv_layout_params(s, run->n);
    lp.view_cross = gv_view_cross(&run->view, lp.kind == GV_LAYOUT_ROWS ? lp.tile_h : lp.tile_w,
                                  lp.gap);
    lp.beat_mode = s->beat_sync;
    lp.beats = run->beats.t;
    lp.n_beats = run->beats.n;
    int ret = gv_layout_init(&a.layout, &lp);
    if (ret == 0 && run->view.active)
        gv_view_attach(&run->view, &a.layout);
    if (ret < 0)
        gv_log(run->log, GV_LOG_ERROR, "impossible layout for these settings");
    else if ((ret = gv_tile_schedule_init(&a.sched, &a.layout, GV_MAX_DEPTH - 1,
                                               run->probe.flags)) == 0 &&
             (ret = open_tiles(&a)) == 0) {
        gv_plan_layout(s, &a.layout, run->n, run->probe.skipped, a.sched.n_shown);
        plan_beats(run);
        if (s->plan)
            plan_clips(&a);
        if (s->preview && s->dry_run)
            gv_plan_line(s, "preview: frame at %g s -> %s", s->preview_at, s->preview);
        else if (s->preview)
            ret = render_preview(&a, summary);
        else if (s->dry_run)
            ret = plan_encoder(&a, summary);
        else
            ret = render_video(&a, summary);
    }
    if (ret == GV_ERR_DECODE && !s->demo && a.tiles) {
        /* the workers read the paths and clips that this reorders */
        gv_tilestore_stop(a.tiles, NULL);
        ret = drop_failed(run, &a, again);
    }
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
    if (!s->preview && gv_encoder_check(s->output, s->codec, s->encoder, s->transparent, err,
                                         sizeof(err)) < 0) {
        gv_log(run->log, GV_LOG_ERROR, "%s", err);
        return GV_ERR_SETTING;
    }
    if ((ret = prepare_output(run)) < 0)
        return ret;
    /* CUDA and nvJPEG take over a second to open: the engines open while
     * the camera, the words, the beats and the inputs are made ready, and
     * close again if no image needs them */
    if (engine_allowed(s) && (ret = start_engines(run)) < 0)
        return ret;
    run->threads = s->threads > 0 ? s->threads : gv_cpu_count();
    GvViewParams vp = gv_view_params(s);
    vp.threads = run->threads;
    if ((ret = gv_view_init(&run->view, &vp)) < 0) {
        gv_log(run->log, GV_LOG_ERROR, ret == -ENOMEM ? "out of memory for the camera's view" :
                                                        "impossible camera for these settings");
        return ret == -ENOMEM ? ret : GV_ERR_SETTING;
    }
    /* a zoom or a camera that magnifies needs tiles larger than shown */
    run->spec = (GvTileSpec){
        .w = run->view.active ? run->view.src_w : vp.tile_w,
        .h = run->view.active ? run->view.src_h : vp.tile_h,
        .crop = s->crop,
        .max_pixels = s->max_pixels,
        .gpu_min_ratio = run->hooks->scale_min_ratio,
        .find_focus = vp.ken_burns > 0,
    };
    memcpy(run->spec.background, s->background, 3);
    if (s->caption && *s->caption && strcmp(s->caption, "none")) {
        const int px = s->caption_size > 0 ? s->caption_size
                                           : (vp.tile_h / 12 > 10 ? vp.tile_h / 12 : 10);
        run->caption = (GvCaptionSpec){
            .mode = s->caption,
            .look = { s->font, px, { s->text_color[0], s->text_color[1], s->text_color[2] },
                      s->text_style },
            .scale = run->view.active ? run->view.scale : 1,
            .ken_burns = vp.ken_burns,
            .crop = s->crop,
        };
        run->spec.caption = &run->caption;
    }
    if ((ret = gv_overlays_init(&run->overlays, s, run->log)) < 0)
        return ret;
    if (s->beat_sync != GV_BEAT_OFF && (ret = find_beats(run)) < 0)
        return ret;
    gv_rgb_to_yuv(s->background[0], s->background[1], s->background[2], &run->bg_yuv[0],
                  &run->bg_yuv[1], &run->bg_yuv[2]);
    if (s->transparent) {
        /* the first of the two backgrounds each frame is composited over */
        static const uint8_t black[3] = GV_UNDER_BLACK;
        memcpy(run->bg_yuv, black, 3);
    }
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
    if (!engine_wanted(run))
        gv_jpeg_engines_close(&run->engines);
    /* an input inside a listed folder, found before its pixels are read */
    if (ret == 0)
        ret = gv_output_not_input(&run->out, (const char *const *)run->files.paths, run->n,
                                  run->log);
    return ret;
}

int gv_pipeline_run(const GvSettings *s, const GvHooks *hooks, const GvLog *log,
                    atomic_int *cancel, GvSummary *summary)
{
    Run run = { .s = s, .hooks = hooks, .log = log, .cancel = cancel, .t0 = gv_now_s(),
                .cpu0 = gv_cpu_process_s() };
    memset(summary, 0, sizeof(*summary));
    gv_output_init(&run.out, NULL);
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
    gv_output_close(&run.out);
    struct stat st;
    if (ret == 0 && !s->dry_run && stat(s->preview ? s->preview : s->output, &st) == 0)
        summary->output_bytes = st.st_size;
    gv_probe_result_free(&run.probe, run.files.n);
    gv_file_list_free(&run.files);
    gv_view_free(&run.view);
    gv_overlays_free(&run.overlays);
    gv_beats_free(&run.beats);
    gv_jpeg_engines_close(&run.engines);
    return ret;
}
