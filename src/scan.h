/* Inputs (directories and files) to an ordered list of candidate files. */
#ifndef GV_SCAN_H
#define GV_SCAN_H

#include <stdatomic.h>
#include <stdint.h>

#include "gridvid/gridvid.h"
#include "log.h"

typedef struct GvFileList {
    char **paths;
    int n;
    int skipped; /* entries warned about and left out (dangling links, unreadable folders) */
} GvFileList;

/* Natural order: runs of digits compare as numbers, the rest byte by byte,
 * ties broken by plain strcmp. */
int gv_natural_cmp(const char *a, const char *b);

/*
 * Lists inputs (directories: their regular files, skipping names that start
 * with '.', descending when recursive, never following a symlink loop),
 * then orders them. A missing input is an error (-ENOENT, logged).
 * cancel (may be NULL) is polled between entries: GV_ERR_CANCELLED.
 * Returns 0 or a negative code; out is empty on failure.
 */
int gv_scan(const char *const *inputs, int n_inputs, int recursive, GvOrder order,
            uint64_t seed, atomic_int *cancel, const GvLog *log, GvFileList *out);

void gv_file_list_free(GvFileList *l);

#endif
