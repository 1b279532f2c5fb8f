/*
 * CPU time apart: the process's, and that of the threads of one name.
 * The encoder opens with its thread named GV_ENCODER_THREAD, so the
 * threads that libx264 (or libavcodec) starts for it carry the name too;
 * at the end of a run gridvid's own CPU time is the process's minus
 * theirs. Linux only (it reads /proc); elsewhere the threads' time is
 * unknown (-1).
 */
#ifndef GV_CPUTIME_H
#define GV_CPUTIME_H

#define GV_ENCODER_THREAD "gv-encode"

/* CPU seconds of the process so far, user and system. */
double gv_cpu_process_s(void);

/* CPU seconds of the live threads whose name is `name`; -1 where unknown. */
double gv_cpu_threads_s(const char *name);

/* Names the calling thread (at most 15 bytes are kept), saving the old
 * name in old[16]; gv_thread_name_restore() puts it back. No-ops where
 * thread names cannot be set. */
void gv_thread_name_set(char old[16], const char *name);
void gv_thread_name_restore(const char old[16]);
/* Names a thread gridvid started, at the start of its function, so that
 * tools (top -H, bench/thread_cpu.sh) tell its stages apart. */
void gv_thread_name(const char *name);

#endif
