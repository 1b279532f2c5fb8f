#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"

typedef struct Probe {
    char **paths;
    int n;
    const GvTileSpec *spec;
    char (*reasons)[256];
    int *ok;
    int *flags;
    GvClipInfo **clips;
    atomic_int next;
    atomic_int *cancel;
} Probe;

/* Whether the still probe's reason leaves room for a clip. */
static int maybe_clip(const char *reason)
{
    return !strcmp(reason, "not an image") || !strcmp(reason, "not a photo format gridvid reads");
}

/* File i as a clip: when it is not a still, or an animated one. */
static void probe_clip(Probe *p, int i)
{
    const int animated = p->ok[i] && (p->flags[i] & GV_PROBE_ANIMATED);
    if (!animated && (p->ok[i] || !maybe_clip(p->reasons[i])))
        return;
    GvClipInfo info;
    char why[256] = "";
    if (gv_clip_probe(p->paths[i], p->spec, &info, why, sizeof(why)) < 0) {
        /* an animation that does not play is its first frame; a file
         * that is neither says why it is not a still, unless the clip's
         * reason is more to the point */
        if (!animated && strcmp(why, "not a video") != 0)
            snprintf(p->reasons[i], sizeof(p->reasons[i]), "%s", why);
        return;
    }
    if (!(p->clips[i] = malloc(sizeof(info))))
        return; /* a still if it was one, else skipped as before */
    *p->clips[i] = info;
    p->ok[i] = 1;
    p->flags[i] = GV_PROBE_CLIP;
}

static void *probe_main(void *arg)
{
    Probe *const p = arg;
    for (;;) {
        const int i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n || atomic_load(p->cancel))
            break;
        p->ok[i] = gv_tile_probe(p->paths[i], p->spec, p->reasons[i], sizeof(p->reasons[i]),
                                 &p->flags[i]) == 0;
        probe_clip(p, i);
    }
    return NULL;
}

/* The length of path's folder and name without its extension. */
static size_t stem_len(const char *path)
{
    const char *const slash = strrchr(path, '/');
    const char *const dot = strrchr(path, '.');
    return dot && (!slash || dot > slash + 1) ? (size_t)(dot - path) : strlen(path);
}

/* Whether clip i is the movie of still j: same folder and name, a
 * QuickTime or MP4 movie. */
static int live_pair(const Probe *p, int i, int j)
{
    const size_t n = stem_len(p->paths[i]);
    return p->ok[j] > 0 && !p->clips[j] && strstr(p->clips[i]->format, "mov") &&
           n == stem_len(p->paths[j]) && !strncmp(p->paths[i], p->paths[j], n);
}

/*
 * Live Photos: a still (HEIC, JPEG) and a movie of the same name. The
 * movie is not used on its own; with LIVE_PHOTOS=play it takes the
 * still's place. Pairs are found among neighbours in name order, as a
 * camera names them; in another order, anywhere (quadratic, for the
 * few clips a wall has).
 */
static void pair_live_photos(const GvSettings *s, Probe *p, GvProbeResult *res)
{
    for (int i = 0; i < p->n; i++) {
        if (p->ok[i] != 1 || !p->clips[i])
            continue;
        for (int j = 0; j < p->n; j++) {
            if (j == i || !live_pair(p, i, j))
                continue;
            res->live_photos++;
            if (s->live_photos == GV_LIVE_PLAY) {
                char *const still = p->paths[j];
                p->paths[j] = p->paths[i];
                p->paths[i] = still;
                p->clips[j] = p->clips[i];
                p->clips[i] = NULL;
                p->flags[j] = p->flags[i];
            } else {
                free(p->clips[i]);
                p->clips[i] = NULL;
            }
            p->ok[i] = -1; /* used through its pair */
            /* the movie, now at j, pairs with no other still */
            if (s->live_photos == GV_LIVE_PLAY)
                p->ok[j] = 2;
            break;
        }
    }
}

/* Keeps the files that probed well, in order. */
static int keep_usable(const GvSettings *s, const Probe *p, const GvLog *log, GvFileList *files,
                       GvProbeResult *res)
{
    int kept = 0;
    for (int i = 0; i < files->n; i++) {
        if (p->ok[i] < 0) {
            free(files->paths[i]);
            continue;
        }
        if (p->ok[i]) {
            res->flags[kept] = (unsigned char)p->flags[i];
            res->clips[kept] = p->clips[i];
            p->clips[i] = NULL;
            res->n_clips += res->clips[kept] != NULL;
            files->paths[kept++] = files->paths[i];
            res->gpu_candidates += !!(p->flags[i] & GV_PROBE_GPU_SCALE);
            res->jpeg_candidates += !!(p->flags[i] & GV_PROBE_JPEG_ENGINE);
            continue;
        }
        if (s->strict) {
            gv_log(log, GV_LOG_ERROR, "%s: %s", files->paths[i], p->reasons[i]);
            for (int j = i; j < files->n; j++)
                free(files->paths[j]);
            files->n = kept;
            return GV_ERR_BAD_INPUT;
        }
        gv_log(log, GV_LOG_WARNING, "%s: %s", files->paths[i], p->reasons[i]);
        free(files->paths[i]);
        res->skipped++;
    }
    files->n = kept;
    return 0;
}

void gv_probe_result_free(GvProbeResult *res, int n)
{
    for (int i = 0; res->clips && i < n; i++)
        free(res->clips[i]);
    free(res->clips);
    free(res->flags);
    res->clips = NULL;
    res->flags = NULL;
}

int gv_probe_inputs(const GvSettings *s, const GvTileSpec *spec, int threads, atomic_int *cancel,
                    const GvLog *log, GvFileList *files, GvProbeResult *res)
{
    int ret = gv_scan(s->inputs, s->n_inputs, s->recursive, s->order, s->shuffle_seed, cancel,
                      log, files);
    if (ret < 0)
        return ret == -ENOENT ? GV_ERR_BAD_INPUT : ret;
    /* dangling links and unreadable folders were warned about: skipped too */
    res->skipped += files->skipped;
    Probe p = { .paths = files->paths, .n = files->n, .spec = spec, .cancel = cancel };
    const int total = files->n;
    atomic_init(&p.next, 0);
    const size_t n = (size_t)files->n + 1;
    p.reasons = calloc(n, sizeof(*p.reasons));
    p.ok = calloc(n, sizeof(*p.ok));
    p.flags = calloc(n, sizeof(*p.flags));
    p.clips = calloc(n, sizeof(*p.clips));
    res->flags = calloc(n, sizeof(*res->flags));
    res->clips = calloc(n, sizeof(*res->clips));
    if (!p.reasons || !p.ok || !p.flags || !p.clips || !res->flags || !res->clips) {
        ret = -ENOMEM;
        goto end;
    }
    gv_run_parallel(probe_main, &p, files->n < threads ? (files->n > 0 ? files->n : 1) : threads);
    if (atomic_load(cancel)) {
        ret = GV_ERR_CANCELLED;
    } else {
        pair_live_photos(s, &p, res);
        ret = keep_usable(s, &p, log, files, res);
    }
end:
    for (int i = 0; p.clips && i < total; i++)
        free(p.clips[i]);
    free(p.reasons);
    free(p.ok);
    free(p.flags);
    free(p.clips);
    return ret;
}
