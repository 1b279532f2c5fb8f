/*
 * Runs a libFuzzer target over saved inputs without libFuzzer: every file
 * named, and every file in every directory named. Built by meson with the
 * project's compiler, so the kept crash inputs replay in every build
 * (release and sanitizers) as regression tests.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *const f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            uint8_t *const t = realloc(buf, cap *= 2);
            if (!t) {
                free(buf);
                buf = NULL;
            }
            buf = t;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
    }
    /* An exact-size copy, so that a read past the end is caught. */
    uint8_t *const exact = malloc(n ? n : 1);
    if (exact)
        memcpy(exact, buf, n);
    free(buf);
    if (!exact)
        return -1;
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(path);
    }
    struct dirent **list;
    const int n = scandir(path, &list, NULL, NULL);
    if (n < 0) {
        perror(path);
        return -1;
    }
    char **names = calloc((size_t)n + 1, sizeof(*names));
    int m = 0, ret = 0;
    for (int i = 0; i < n; i++) {
        if (names && list[i]->d_name[0] != '.') {
            const size_t len = strlen(path) + strlen(list[i]->d_name) + 2;
            if ((names[m] = malloc(len)))
                snprintf(names[m++], len, "%s/%s", path, list[i]->d_name);
        }
        free(list[i]);
    }
    free(list);
    if (!names)
        return -1;
    qsort(names, (size_t)m, sizeof(*names), cmp_names);
    for (int i = 0; i < m; i++) {
        if (replay(names[i], count) < 0)
            ret = -1;
        free(names[i]);
    }
    free(names);
    return ret;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int ret = 0, count = 0;
    for (int i = 1; i < argc; i++)
        if (replay(argv[i], &count) < 0)
            ret = 1;
    printf("%s: %d inputs replayed\n", argv[0], count);
    return ret;
}
