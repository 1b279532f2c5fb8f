/*
 * Inputs to an ordered list of candidate files. Whether a file is an image
 * is decided later, by its content; here a file is anything that is not a
 * directory.
 */
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Beyond this many files the list is refused rather than half-used. */
#define MAX_FILES 1000000
/* Deeper trees are cut with a warning; the recursion uses the stack. */
#define MAX_DEPTH 256

typedef struct Entry {
    char *path;
    int64_t mtime_s;
    long mtime_ns;
    int input; /* index of the input it came from, for GV_ORDER_GIVEN */
} Entry;

typedef struct DirId {
    dev_t dev;
    ino_t ino;
} DirId;

typedef struct Scan {
    const GvLog *log;
    Entry *e;
    size_t n, cap;
    /* Directories already listed under the current input, sorted: a
     * symlink back up the tree, or two links to one directory, would
     * otherwise list the same files again (or forever). */
    DirId *seen;
    size_t n_seen, cap_seen;
    int input;
    int recursive;
    int skipped;
    atomic_int *cancel;
} Scan;

/* ------------------------------------------------------------------ */
/* Natural order                                                       */

static int is_digit(const int c)
{
    return c >= '0' && c <= '9';
}

int gv_natural_cmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    while (*p && *q) {
        if (is_digit(*p) && is_digit(*q)) {
            /* Compare the runs as numbers of any length: strip leading
             * zeros, then the longer number is larger, then digit by digit. */
            const unsigned char *ps = p, *qs = q;
            while (*ps == '0')
                ps++;
            while (*qs == '0')
                qs++;
            const unsigned char *pe = ps, *qe = qs;
            while (is_digit(*pe))
                pe++;
            while (is_digit(*qe))
                qe++;
            const size_t lp = (size_t)(pe - ps), lq = (size_t)(qe - qs);
            if (lp != lq)
                return lp < lq ? -1 : 1;
            const int c = memcmp(ps, qs, lp);
            if (c)
                return c < 0 ? -1 : 1;
            p = pe;
            q = qe;
            continue;
        }
        if (*p != *q)
            return *p < *q ? -1 : 1;
        p++;
        q++;
    }
    if (*p || *q)
        return *p ? 1 : -1;
    /* Equal as numbers ("img01" and "img1"): plain byte order decides. */
    const int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

/* ------------------------------------------------------------------ */
/* Listing                                                             */

static int seen_find(const Scan *sc, const DirId id, size_t *at)
{
    size_t lo = 0, hi = sc->n_seen;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const DirId m = sc->seen[mid];
        if (m.dev == id.dev && m.ino == id.ino) {
            *at = mid;
            return 1;
        }
        if (m.dev < id.dev || (m.dev == id.dev && m.ino < id.ino))
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return 0;
}

/* Returns 1 when the directory was new (and is now marked), 0 when it was
 * seen before, or -ENOMEM. */
static int seen_add(Scan *sc, const struct stat *st)
{
    const DirId id = { st->st_dev, st->st_ino };
    size_t at;
    if (seen_find(sc, id, &at))
        return 0;
    if (sc->n_seen == sc->cap_seen) {
        const size_t cap = sc->cap_seen ? 2 * sc->cap_seen : 64;
        if (cap > SIZE_MAX / sizeof(*sc->seen))
            return -ENOMEM;
        DirId *const s = realloc(sc->seen, cap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        sc->seen = s;
        sc->cap_seen = cap;
    }
    memmove(&sc->seen[at + 1], &sc->seen[at], (sc->n_seen - at) * sizeof(*sc->seen));
    sc->seen[at] = id;
    sc->n_seen++;
    return 1;
}

static int add_file(Scan *sc, char *path, const struct stat *st)
{
    if (sc->n >= MAX_FILES) {
        gv_log(sc->log, GV_LOG_ERROR, "too many input files: more than %d", MAX_FILES);
        free(path);
        return -E2BIG;
    }
    if (sc->n == sc->cap) {
        const size_t cap = sc->cap ? 2 * sc->cap : 256;
        Entry *const e = realloc(sc->e, cap * sizeof(*e));
        if (!e) {
            free(path);
            return -ENOMEM;
        }
        sc->e = e;
        sc->cap = cap;
    }
#if defined(__APPLE__)
    const long ns = st->st_mtimespec.tv_nsec;
#else
    const long ns = st->st_mtim.tv_nsec;
#endif
    sc->e[sc->n++] = (Entry){ path, (int64_t)st->st_mtime, ns, sc->input };
    return 0;
}

/* dir + "/" + name, without doubling a slash the directory already ends in. */
static char *join(const char *dir, const char *name)
{
    size_t ld = strlen(dir);
    const size_t ln = strlen(name);
    while (ld > 1 && dir[ld - 1] == '/')
        ld--;
    const int slash = !(ld == 1 && dir[0] == '/');
    if (ld > SIZE_MAX - ln - 2)
        return NULL;
    char *const p = malloc(ld + slash + ln + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, ld);
    if (slash)
        p[ld] = '/';
    memcpy(p + ld + slash, name, ln + 1);
    return p;
}

static void free_names(char **names, const size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/*
 * The names in a directory, read in full and closed before anything is
 * opened below it, so that deep trees do not hold a descriptor per level.
 */
static int read_names(const GvLog *log, const GvLogLevel level, const char *dir, char ***out,
                      size_t *n_out)
{
    char **names = NULL;
    size_t n = 0, cap = 0;
    int ret = 0;
    *out = NULL;
    *n_out = 0;
    DIR *const d = opendir(dir);
    if (!d) {
        ret = -errno;
        gv_log(log, level, "%s: %s", dir, strerror(-ret));
        return ret;
    }
    for (;;) {
        errno = 0;
        const struct dirent *const de = readdir(d);
        if (!de) {
            if (errno) {
                ret = -errno;
                gv_log(log, level, "%s: %s", dir, strerror(-ret));
            }
            break;
        }
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **const t = cap <= SIZE_MAX / sizeof(*t) ? realloc(names, cap * sizeof(*t)) : NULL;
            if (!t) {
                ret = -ENOMEM;
                break;
            }
            names = t;
        }
        if (!(names[n] = strdup(de->d_name))) {
            ret = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (ret < 0) {
        free_names(names, n);
        return ret;
    }
    *out = names;
    *n_out = n;
    return 0;
}

static int list_dir(Scan *sc, const char *dir, const int depth)
{
    char **names;
    size_t n;
    /* Below the inputs an unreadable directory is skipped, so only a warning. */
    int ret = read_names(sc->log, depth ? GV_LOG_WARNING : GV_LOG_ERROR, dir, &names, &n);
    if (ret < 0)
        return ret;
    for (size_t i = 0; i < n && ret >= 0; i++) {
        /* a huge tree must not hold up an interrupt until it is listed */
        if (sc->cancel && atomic_load(sc->cancel)) {
            ret = GV_ERR_CANCELLED;
            break;
        }
        char *const path = join(dir, names[i]);
        if (!path) {
            ret = -ENOMEM;
            break;
        }
        struct stat st;
        /* stat, not lstat: a link to a file is that file and a link to a
         * directory is that directory; a loop is caught by `seen`. */
        if (stat(path, &st) < 0) {
            const int err = errno;
            struct stat lst;
            const int dangling = err == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
            gv_log(sc->log, GV_LOG_WARNING, "%s: %s", path,
                   dangling ? "dangling symbolic link" : strerror(err));
            sc->skipped++;
            free(path);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (sc->recursive) {
                if (depth >= MAX_DEPTH) {
                    gv_log(sc->log, GV_LOG_WARNING, "%s: deeper than %d levels, not listed", path,
                           MAX_DEPTH);
                    sc->skipped++;
                } else if ((ret = seen_add(sc, &st)) > 0) {
                    ret = list_dir(sc, path, depth + 1);
                    /* An unreadable subdirectory is one bad input, not the end. */
                    if (ret < 0 && ret != -ENOMEM && ret != -E2BIG && ret != GV_ERR_CANCELLED) {
                        sc->skipped++;
                        ret = 0;
                    }
                } else if (ret == 0) {
                    gv_log(sc->log, GV_LOG_DEBUG, "%s: already listed (symbolic link loop?)", path);
                }
            }
            free(path);
        } else if (S_ISREG(st.st_mode)) {
            ret = add_file(sc, path, &st);
        } else {
            free(path);
        }
    }
    free_names(names, n);
    return ret < 0 ? ret : 0;
}

static int add_input(Scan *sc, const char *input)
{
    struct stat st;
    if (stat(input, &st) < 0) {
        const int err = errno;
        gv_log(sc->log, GV_LOG_ERROR, "%s: %s", input, strerror(err));
        return -err;
    }
    if (!S_ISDIR(st.st_mode)) {
        char *const path = strdup(input);
        if (!path)
            return -ENOMEM;
        return add_file(sc, path, &st);
    }
    sc->n_seen = 0;
    const int ret = seen_add(sc, &st);
    return ret < 0 ? ret : list_dir(sc, input, 0);
}

/* ------------------------------------------------------------------ */
/* Ordering                                                            */

static int cmp_name(const void *a, const void *b)
{
    return gv_natural_cmp(((const Entry *)a)->path, ((const Entry *)b)->path);
}

static int cmp_mtime(const void *a, const void *b)
{
    const Entry *const x = a, *const y = b;
    if (x->mtime_s != y->mtime_s)
        return x->mtime_s < y->mtime_s ? -1 : 1;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return gv_natural_cmp(x->path, y->path);
}

static int cmp_given(const void *a, const void *b)
{
    const Entry *const x = a, *const y = b;
    if (x->input != y->input)
        return x->input < y->input ? -1 : 1;
    return gv_natural_cmp(x->path, y->path);
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias. */
static uint64_t below(uint64_t *state, const uint64_t n)
{
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = splitmix64(state);
    while (r >= limit);
    return r % n;
}

/* Sorted by name first, so the result depends on the seed and the set of
 * files, not on the order the file system lists them in. */
static void shuffle(Entry *e, const size_t n, const uint64_t seed)
{
    qsort(e, n, sizeof(*e), cmp_name);
    uint64_t state = seed;
    for (size_t i = n; i > 1; i--) {
        const size_t j = (size_t)below(&state, i);
        const Entry t = e[i - 1];
        e[i - 1] = e[j];
        e[j] = t;
    }
}

/* ------------------------------------------------------------------ */

int gv_scan(const char *const *inputs, const int n_inputs, const int recursive,
            const GvOrder order, const uint64_t seed, atomic_int *const cancel, const GvLog *log,
            GvFileList *out)
{
    Scan sc = { .log = log, .recursive = recursive, .cancel = cancel };
    int ret = 0;
    out->paths = NULL;
    out->n = 0;
    out->skipped = 0;

    /* A mistyped path fails at once, before a long listing of the others. */
    for (int i = 0; i < n_inputs; i++) {
        struct stat st;
        if (stat(inputs[i], &st) < 0) {
            ret = -errno;
            gv_log(log, GV_LOG_ERROR, "%s: %s", inputs[i], strerror(-ret));
            goto error;
        }
    }
    for (int i = 0; i < n_inputs; i++) {
        sc.input = i;
        if ((ret = add_input(&sc, inputs[i])) < 0)
            goto error;
    }

    /* qsort must not see the NULL array of an empty list. */
    switch (sc.n > 1 ? order : GV_ORDER_GIVEN) {
    case GV_ORDER_MTIME:
        qsort(sc.e, sc.n, sizeof(*sc.e), cmp_mtime);
        break;
    case GV_ORDER_SHUFFLE:
        shuffle(sc.e, sc.n, seed);
        break;
    case GV_ORDER_GIVEN:
        if (sc.n > 1)
            qsort(sc.e, sc.n, sizeof(*sc.e), cmp_given);
        break;
    case GV_ORDER_NAME:
    default:
        qsort(sc.e, sc.n, sizeof(*sc.e), cmp_name);
        break;
    }

    /* One spare slot so that an empty list still has an array. */
    out->paths = malloc((sc.n + 1) * sizeof(*out->paths));
    if (!out->paths) {
        ret = -ENOMEM;
        goto error;
    }
    for (size_t k = 0; k < sc.n; k++)
        out->paths[k] = sc.e[k].path;
    out->n = (int)sc.n;
    out->skipped = sc.skipped;
    free(sc.e);
    free(sc.seen);
    return 0;

error:
    for (size_t k = 0; k < sc.n; k++)
        free(sc.e[k].path);
    free(sc.e);
    free(sc.seen);
    return ret;
}

void gv_file_list_free(GvFileList *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    l->paths = NULL;
    l->n = 0;
}
