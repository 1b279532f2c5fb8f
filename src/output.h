/*
 * The output file (a video, a preview PNG, a frame of a PNG sequence):
 * checked before any work, written under a temporary name beside it, and
 * renamed onto its name only once complete and on the disk.
 *
 * A temporary is ".NAME.gvtmp-XXXXXXXX" in the output's folder and holds
 * an advisory lock (an open-file-description lock, or flock() where there
 * is none) for as long as its run lives. A run that dies without cleaning
 * up (SIGKILL, the OOM killer, a power cut) leaves its temporary unlocked,
 * and the next run to the same output removes it (gv_output_clean()).
 */
#ifndef GV_OUTPUT_H
#define GV_OUTPUT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"

typedef struct GvOutput {
    const char *path;   /* the output's name, borrowed */
    char tmp[PATH_MAX]; /* the temporary, "" when there is none */
    int fd;             /* open on tmp, holding its lock; -1 when none */
    int exists;         /* path names a file now: dev and ino are its */
    dev_t dev;
    ino_t ino;
} GvOutput;

/* An output with no temporary: what gv_output_close() accepts. */
void gv_output_init(GvOutput *o, const char *path);

/*
 * Whether path can be written at all, before any work. Logs why not and
 * returns GV_ERR_SETTING where no run could ever write it (a directory, a
 * name ending in '/', a device or FIFO) or -errno where its folder is
 * missing, not a folder, not writable or on a read-only file system.
 */
int gv_output_check(GvOutput *o, const char *path, const GvLog *log);

/* GV_ERR_SETTING, logged, when one of paths is the output's file
 * (rendering would replace an input); else 0. */
int gv_output_not_input(const GvOutput *o, const char *const *paths, int n, const GvLog *log);

/*
 * About how large the output of s will be, for gv_output_warn_space():
 * a preview PNG 1.5 bytes a pixel; a video about 0.1 bit a pixel at CRF
 * 23 (a photo wall moves slowly), twice that for every 6 steps of CRF
 * lower, and ProRes 2.5 bits a pixel.
 */
int64_t gv_output_estimate(const GvSettings *s);

/* Warns when the output's file system has less free space, or the
 * process a smaller file-size limit (RLIMIT_FSIZE), than bytes. */
void gv_output_warn_space(const GvOutput *o, int64_t bytes, const GvLog *log);

/* Removes the temporaries of o's path whose lock is free (their run is
 * dead), with one warning; those of live runs stay. Returns how many. */
int gv_output_clean(const GvOutput *o, const GvLog *log);

/*
 * Creates and locks a temporary beside the output, with the permissions
 * the umask gives any new file. Returns 0, or -errno with reason set.
 * Thread-safe for distinct GvOutputs.
 */
int gv_output_temp(GvOutput *o, char *reason, size_t reason_len);

/*
 * The temporary's data reaches the disk, then the temporary takes the
 * output's name (atomic within a folder); the lock is held until then.
 * Returns 0, or -errno with reason set ("cannot write: File too large").
 */
int gv_output_publish(GvOutput *o, char *reason, size_t reason_len);

/* Removes the temporary unless it was published and drops the lock. */
void gv_output_close(GvOutput *o);

#endif
