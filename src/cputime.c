#include "cputime.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

double gv_cpu_process_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

#ifdef __linux__
/* One thread's CPU seconds: schedstat's nanoseconds, else stat's ticks. */
static double thread_s(const char *dir)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/schedstat", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        unsigned long long ns = 0;
        const int n = fscanf(f, "%llu", &ns);
        fclose(f);
        if (n == 1)
            return (double)ns * 1e-9;
    }
    snprintf(path, sizeof(path), "%s/stat", dir);
    if (!(f = fopen(path, "r")))
        return 0;
    char buf[1024];
    const size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = 0;
    /* the name may hold spaces and parentheses: fields follow the last ')' */
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &st) != 2)
        return 0;
    const long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (double)(ut + st) / (double)hz : 0;
}
#endif

double gv_cpu_threads_s(const char *name)
{
#ifdef __linux__
    DIR *const d = opendir("/proc/self/task");
    if (!d)
        return -1;
    double sum = 0;
    const struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char dir[280], path[300], comm[64] = "";
        snprintf(dir, sizeof(dir), "/proc/self/task/%s", e->d_name);
        snprintf(path, sizeof(path), "%s/comm", dir);
        FILE *const f = fopen(path, "r");
        if (!f)
            continue;
        const int ok = fgets(comm, sizeof(comm), f) != NULL;
        fclose(f);
        comm[strcspn(comm, "\n")] = 0;
        if (ok && strcmp(comm, name) == 0)
            sum += thread_s(dir);
    }
    closedir(d);
    return sum;
#else
    (void)name;
    return -1;
#endif
}

void gv_thread_name_set(char old[16], const char *name)
{
    old[0] = 0;
#ifdef __linux__
    if (prctl(PR_GET_NAME, old) != 0)
        old[0] = 0;
    old[15] = 0;
    prctl(PR_SET_NAME, name);
#else
    (void)name;
#endif
}

void gv_thread_name_restore(const char old[16])
{
#ifdef __linux__
    if (old[0])
        prctl(PR_SET_NAME, old);
#else
    (void)old;
#endif
}

void gv_thread_name(const char *const name)
{
    char old[16];
    gv_thread_name_set(old, name);
}
