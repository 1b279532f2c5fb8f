#include "probe.h"

#include <errno.h>
#include <stdlib.h>

#include "threads.h"

typedef struct Probe {
    char **paths;
    int n;
    const GvTileSpec *spec;
    char (*reasons)[256];
    int *ok;
    int *flags;
    atomic_int next;
    atomic_int *cancel;
} Probe;

static void *probe_main(void *arg)
{
    Probe *const p = arg;
    for (;;) {
        const int i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n || atomic_load(p->cancel))
            break;
        p->ok[i] = gv_tile_probe(p->paths[i], p->spec, p->reasons[i], sizeof(p->reasons[i]),
                                 &p->flags[i]) == 0;
    }
    return NULL;
}

/* Keeps the files that probed well, in order. */
static int keep_usable(const GvSettings *s, const Probe *p, const GvLog *log, GvFileList *files,
                       GvProbeResult *res)
{
    int kept = 0;
    for (int i = 0; i < files->n; i++) {
        if (p->ok[i]) {
            res->flags[kept] = (unsigned char)p->flags[i];
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
    atomic_init(&p.next, 0);
    p.reasons = calloc((size_t)files->n + 1, sizeof(*p.reasons));
    p.ok = calloc((size_t)files->n + 1, sizeof(*p.ok));
    p.flags = calloc((size_t)files->n + 1, sizeof(*p.flags));
    res->flags = calloc((size_t)files->n + 1, sizeof(*res->flags));
    if (!p.reasons || !p.ok || !p.flags || !res->flags) {
        ret = -ENOMEM;
        goto end;
    }
    gv_run_parallel(probe_main, &p, files->n < threads ? (files->n > 0 ? files->n : 1) : threads);
    if (atomic_load(cancel))
        ret = GV_ERR_CANCELLED;
    else
        ret = keep_usable(s, &p, log, files, res);
end:
    free(p.reasons);
    free(p.ok);
    free(p.flags);
    return ret;
}
