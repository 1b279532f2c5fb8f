/*
 * The beat of the soundtrack: tempo and beat times found by aubio in
 * AUDIO, for the wall's motion to follow (BEAT_SYNC; the curves are
 * gv_beat_ease() in src/layout.c).
 */
#ifndef GV_BEAT_H
#define GV_BEAT_H

#include <stddef.h>

typedef struct GvBeats {
    double bpm;   /* aubio's tempo estimate, 0 when none */
    double *t;    /* beat times, seconds, ascending, within (0, duration) */
    int n;
} GvBeats;

/*
 * Reads the first `duration` seconds of the audio file at path and finds
 * its beats. Returns 0 (n may be 0: no beat), GV_ERR_DECODE (aubio cannot
 * read it: reason says so), GV_ERR_SETTING (built without aubio) or
 * -ENOMEM. gv_beats_free() after.
 */
int gv_beats_find(const char *path, double duration, GvBeats *out, char *reason, size_t len);
void gv_beats_free(GvBeats *b);

/*
 * The beat grid of tracked beats b->t[0..n) at about b->bpm: a beat
 * tracker misses beats where it is unsure, so the beats are the grid
 * a + k P fitted to them by least squares, within (0, duration), each
 * moved to a tracked beat within P / 8 of it where there is one. Before
 * the first tracked beat and after the last (where the music may not have
 * begun, or has ended) a grid point stays only where the sound is loud
 * within P / 8 of it: env[i] is the peak level of hop i (hop_s seconds
 * each), and loud is at least a tenth of the loudest. Replaces b->t and
 * b->n (b->bpm becomes 60 / P). Returns 0 or -ENOMEM; fewer than two
 * tracked beats leave b as it is.
 */
int gv_beat_grid(GvBeats *b, const float *env, int n_env, double hop_s, double duration);

#endif
