/*
 * The output file: the checks before any work, the locked temporary, the
 * temporaries of dead runs, and the rename into place.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "threads.h"

#define TEMP_TAG ".gvtmp-"
#define TEMP_ID_DIGITS 8

void gv_output_init(GvOutput *const o, const char *const path)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    o->fd = -1;
}

static void set_reason(char *const reason, const size_t len, const char *const what, const int err)
{
    if (reason && len)
        snprintf(reason, len, "%s: %s", what, strerror(err));
}

/* The folder part of path, "." when it has none; -ENAMETOOLONG. */
static int folder_of(const char *const path, char *const dir, const size_t len)
{
    const char *const slash = strrchr(path, '/');
    const int n = !slash ? snprintf(dir, len, ".")
                  : slash == path ? snprintf(dir, len, "/")
                                  : snprintf(dir, len, "%.*s", (int)(slash - path), path);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static const char *base_of(const char *const path)
{
    const char *const slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---------------------------------------------------------------- */
/* Locks                                                              */

/*
 * A lock that belongs to the open file, not to the process: libav opens
 * and closes the same file by its name, and a POSIX record lock would go
 * with that close. OFD locks also work over NFS, where Linux emulates
 * flock() with record locks.
 */
static int lock_file(const int fd, const int exclusive)
{
#ifdef F_OFD_SETLK
    struct flock fl = { .l_type = exclusive ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET };
    return fcntl(fd, F_OFD_SETLK, &fl);
#else
    return flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
#endif
}

/* The file system has no locks: the temporary is made without one, and
 * the cleaning leaves everything alone there. */
static int no_locks(const int err)
{
    return err == ENOLCK || err == EOPNOTSUPP || err == ENOSYS || err == EINVAL;
}

static int same_file(const struct stat *const a, const struct stat *const b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* ---------------------------------------------------------------- */
/* Before any work                                                    */

int gv_output_check(GvOutput *const o, const char *const path, const GvLog *const log)
{
    gv_output_init(o, path);
    const size_t len = path ? strlen(path) : 0;
    if (!len || path[len - 1] == '/') {
        gv_log(log, GV_LOG_ERROR, "cannot write '%s': it names a folder; name a file", path ? path : "");
        return GV_ERR_SETTING;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        /* rename() would fail on a folder only after the whole render,
         * and would replace a device node or FIFO rather than write to it */
        if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
            gv_log(log, GV_LOG_ERROR, "cannot write %s: it is %s; name a file", path,
                   S_ISDIR(st.st_mode) ? "a folder" : "not a regular file");
            return GV_ERR_SETTING;
        }
        o->exists = 1;
        o->dev = st.st_dev;
        o->ino = st.st_ino;
    } else if (errno != ENOENT) {
        const int e = errno;
        gv_log(log, GV_LOG_ERROR, "cannot write %s: %s", path, strerror(e));
        return -e;
    }
    char dir[PATH_MAX];
    int ret = folder_of(path, dir, sizeof(dir));
    if (ret == 0 && stat(dir, &st) < 0)
        ret = -errno;
    else if (ret == 0 && !S_ISDIR(st.st_mode))
        ret = -ENOTDIR;
    else if (ret == 0 && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
        ret = -errno;
    if (ret < 0)
        gv_log(log, GV_LOG_ERROR, "cannot write %s: %s", path, strerror(-ret));
    return ret;
}

int gv_output_not_input(const GvOutput *const o, const char *const *const paths, const int n,
                        const GvLog *const log)
{
    if (!o->exists)
        return 0;
    const struct stat out = { .st_dev = o->dev, .st_ino = o->ino };
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (paths[i] && stat(paths[i], &st) == 0 && same_file(&st, &out)) {
            gv_log(log, GV_LOG_ERROR,
                   "cannot write %s: it is the input %s, which the render would replace; "
                   "name another output",
                   o->path, paths[i]);
            return GV_ERR_SETTING;
        }
    }
    return 0;
}

static void format_bytes(char *const buf, const size_t len, const double bytes)
{
    if (bytes >= 1e9)
        snprintf(buf, len, "%.1f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        snprintf(buf, len, "%.1f MB", bytes / 1e6);
    else
        snprintf(buf, len, "%.0f kB", bytes / 1e3);
}

int64_t gv_output_estimate(const GvSettings *const s)
{
    const double pixels = (double)s->width * s->height;
    if (s->preview)
        return (int64_t)(pixels * 1.5);
    const double frames = floor(s->duration * s->fps_num / s->fps_den + 0.5);
    const double bits = s->codec && !strcmp(s->codec, "prores") ? 2.5
                                                                : 0.1 * pow(2, (23 - s->crf) / 6.0);
    return (int64_t)fmin(pixels * frames * bits / 8, 9e18);
}

void gv_output_warn_space(const GvOutput *const o, const int64_t bytes, const GvLog *const log)
{
    char dir[PATH_MAX], need[32], have[32];
    struct statvfs fs;
    struct rlimit rl;
    format_bytes(need, sizeof(need), (double)bytes);
    if (folder_of(o->path, dir, sizeof(dir)) == 0 && statvfs(dir, &fs) == 0 &&
        (double)fs.f_bavail * fs.f_frsize < (double)bytes) {
        format_bytes(have, sizeof(have), (double)fs.f_bavail * fs.f_frsize);
        gv_log(log, GV_LOG_WARNING, "%s: %s free on its file system; the output may need about %s",
               o->path, have, need);
    }
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (double)rl.rlim_cur < (double)bytes) {
        format_bytes(have, sizeof(have), (double)rl.rlim_cur);
        gv_log(log, GV_LOG_WARNING,
               "%s: files are limited to %s (ulimit -f); the output may need about %s", o->path,
               have, need);
    }
}

/* ---------------------------------------------------------------- */
/* Temporaries of dead runs                                           */

/* ".NAME.gvtmp-" and exactly eight hex digits: never a user's file. */
static int is_temp_of(const char *const entry, const char *const base)
{
    const size_t bl = strlen(base), tl = strlen(TEMP_TAG);
    if (entry[0] != '.' || strncmp(entry + 1, base, bl) != 0 ||
        strncmp(entry + 1 + bl, TEMP_TAG, tl) != 0)
        return 0;
    const char *const id = entry + 1 + bl + tl;
    if (strlen(id) != TEMP_ID_DIGITS)
        return 0;
    for (int i = 0; i < TEMP_ID_DIGITS; i++)
        if (!strchr("0123456789abcdef", id[i]))
            return 0;
    return 1;
}

/* Removes one temporary when no run holds its lock; 1 when removed. A
 * shared lock is enough to know: the live run holds an exclusive one. */
static int remove_if_dead(const int dfd, const char *const name)
{
    const int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st, now;
    int removed = 0;
    /* the name must still be this file when it goes */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lock_file(fd, 0) == 0 &&
        fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && same_file(&st, &now))
        removed = unlinkat(dfd, name, 0) == 0;
    close(fd);
    return removed;
}

int gv_output_clean(const GvOutput *const o, const GvLog *const log)
{
    char dir[PATH_MAX];
    if (folder_of(o->path, dir, sizeof(dir)) < 0)
        return 0;
    DIR *const d = opendir(dir);
    if (!d)
        return 0;
    const char *const base = base_of(o->path);
    int removed = 0;
    const struct dirent *de;
    while ((de = readdir(d)))
        if (is_temp_of(de->d_name, base))
            removed += remove_if_dead(dirfd(d), de->d_name);
    closedir(d);
    if (removed)
        gv_log(log, GV_LOG_WARNING,
               "removed %d temporary file%s of %s left by a run that did not end (killed, or "
               "the machine stopped)",
               removed, removed == 1 ? "" : "s", o->path);
    return removed;
}

/* ---------------------------------------------------------------- */
/* The temporary and its rename                                       */

/*
 * Locks the new file. A cleaning run that opened it in the instant
 * before may hold a shared lock (EAGAIN) or may already have removed
 * it (the name no longer leads here): either way another name is taken.
 * Returns 0, 1 to try another name, or -errno.
 */
static int lock_new(const int fd, const char *const tmp)
{
    if (lock_file(fd, 1) < 0)
        return errno == EAGAIN || errno == EACCES ? 1 : no_locks(errno) ? 0 : -errno;
    struct stat mine, named;
    if (fstat(fd, &mine) < 0)
        return -errno;
    return stat(tmp, &named) == 0 && same_file(&mine, &named) ? 0 : 1;
}

int gv_output_temp(GvOutput *const o, char *const reason, const size_t reason_len)
{
    static atomic_uint counter;
    const char *const base = base_of(o->path);
    const int dlen = (int)(base - o->path);
    for (int attempt = 0; attempt < 100; attempt++) {
        const unsigned id = atomic_fetch_add(&counter, 1) * 2654435761u ^ (unsigned)getpid() ^
                            (unsigned)(gv_now_s() * 1e6);
        if ((size_t)snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s" TEMP_TAG "%08x", dlen, o->path,
                             base, id) >= sizeof(o->tmp)) {
            o->tmp[0] = 0;
            set_reason(reason, reason_len, "cannot create a temporary file", ENAMETOOLONG);
            return -ENAMETOOLONG;
        }
        /* 0666 rather than mkstemp's 0600: the finished file gets the
         * permissions the umask gives any new file */
        const int fd = open(o->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        const int ret = fd < 0 ? -errno : lock_new(fd, o->tmp);
        if (ret == 0) {
            o->fd = fd;
            return 0;
        }
        if (fd >= 0) {
            unlink(o->tmp);
            close(fd);
        }
        if (ret < 0) {
            o->tmp[0] = 0;
            set_reason(reason, reason_len, "cannot create a temporary file", -ret);
            return ret;
        }
    }
    o->tmp[0] = 0;
    set_reason(reason, reason_len, "cannot create a temporary file", EEXIST);
    return -EEXIST;
}

/*
 * On the disk before it takes the name: after a power failure the name
 * must not stand for an empty or partial file. File systems without
 * fsync (EINVAL) have nothing to flush. The lock goes only after the
 * rename, so no cleaning run takes the file for a dead run's.
 */
int gv_output_publish(GvOutput *const o, char *const reason, const size_t reason_len)
{
    if (o->fd < 0 || !o->tmp[0]) {
        set_reason(reason, reason_len, "cannot write", EBADF);
        return -EBADF;
    }
    if (fsync(o->fd) < 0 && errno != EINVAL && errno != EROFS) {
        const int e = errno;
        set_reason(reason, reason_len, "cannot write", e);
        return -e;
    }
    if (rename(o->tmp, o->path) < 0) {
        const int e = errno;
        set_reason(reason, reason_len, "cannot move the finished file into place", e);
        return -e;
    }
    o->tmp[0] = 0;
    close(o->fd);
    o->fd = -1;
    return 0;
}

void gv_output_close(GvOutput *const o)
{
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = 0;
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
}
