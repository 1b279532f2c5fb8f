/* BEAT_SYNC: beats found by aubio in a generated click track within one
 * frame of the clicks, and the motion curves (docs/BEAT.md): steps that
 * land on the beats and hold between them, pulses, a loop that closes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beat.h"
#include "gridvid/gridvid.h"
#include "check.h"
#include "layout.h"

/* A mono 16-bit WAV of `seconds` with a 10 ms click (a decaying 2 kHz
 * tone) every `every` seconds from `first`. */
static int write_clicks(const char *path, double seconds, double first, double every)
{
    const int rate = 44100;
    const int n = (int)(seconds * rate);
    int16_t *const pcm = calloc((size_t)n, sizeof(*pcm));
    FILE *const f = fopen(path, "wb");
    if (!pcm || !f) {
        free(pcm);
        if (f)
            fclose(f);
        return -1;
    }
    for (double t = first; t < seconds; t += every) {
        const int s0 = (int)(t * rate);
        for (int i = 0; i < rate / 100 && s0 + i < n; i++)
            pcm[s0 + i] = (int16_t)(28000 * exp(-i / 80.0) * sin(2 * M_PI * 2000 * i / rate));
    }
    const uint32_t data = (uint32_t)n * 2, riff = 36 + data, fmt_len = 16, byte_rate = rate * 2;
    const uint16_t pcm_fmt = 1, channels = 1, align = 2, bits = 16;
    const uint32_t srate = rate;
    fwrite("RIFF", 1, 4, f);
    fwrite(&riff, 4, 1, f);
    fwrite("WAVEfmt ", 1, 8, f);
    fwrite(&fmt_len, 4, 1, f);
    fwrite(&pcm_fmt, 2, 1, f);
    fwrite(&channels, 2, 1, f);
    fwrite(&srate, 4, 1, f);
    fwrite(&byte_rate, 4, 1, f);
    fwrite(&align, 2, 1, f);
    fwrite(&bits, 2, 1, f);
    fwrite("data", 1, 4, f);
    fwrite(&data, 4, 1, f);
    fwrite(pcm, 2, (size_t)n, f);
    free(pcm);
    return fclose(f) == 0 ? 0 : -1;
}

static void test_click_track(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/clicks.wav", dir);
    /* 120 bpm from 0.5 s, 12 s */
    CHECK_INT(write_clicks(path, 12, 0.5, 0.5), 0);
    GvBeats b;
    char reason[256] = "";
    const int ret = gv_beats_find(path, 10, &b, reason, sizeof(reason));
    if (ret == GV_ERR_SETTING) {
        printf("note: %s: the click track is not checked\n", reason);
        unlink(path);
        return;
    }
    CHECK_INT(ret, 0);
    if (ret < 0) {
        fprintf(stderr, "beats: %s\n", reason);
        return;
    }
    printf("tempo %.2f bpm, %d beats:", b.bpm, b.n);
    for (int i = 0; i < b.n; i++)
        printf(" %.3f", b.t[i]);
    printf("\n");
    CHECK_NEAR(b.bpm, 120, 2);
    /* every beat found lies within one frame (1/30 s) of a click, and
     * once the tracker has settled (after 2 s) it finds every click */
    const double frame = 1 / 30.0;
    int near = 0, found_late = 0;
    for (int i = 0; i < b.n; i++) {
        const double k = floor((b.t[i] - 0.5) / 0.5 + 0.5);
        const double d = fabs(b.t[i] - (0.5 + 0.5 * k));
        near += d <= frame;
        if (d > frame)
            fprintf(stderr, "beat at %.3f s is %.3f s from the nearest click\n", b.t[i], d);
        found_late += b.t[i] >= 2 - frame && d <= frame;
    }
    CHECK_INT(near, b.n);
    CHECK(found_late >= 16); /* clicks at 2.0, 2.5, ... 9.5 */
    CHECK(b.n <= 20);
    for (int i = 1; i < b.n; i++)
        CHECK(b.t[i] > b.t[i - 1]);
    gv_beats_free(&b);
    /* silence: no beat */
    CHECK_INT(write_clicks(path, 5, 100, 1), 0);
    CHECK_INT(gv_beats_find(path, 5, &b, reason, sizeof(reason)), 0);
    CHECK_INT(b.n, 0);
    gv_beats_free(&b);
    unlink(path);
    /* not audio */
    CHECK(gv_beats_find("/nonexistent.wav", 5, &b, reason, sizeof(reason)) < 0);
}

static void test_steps(void)
{
    const double beats[] = { 0.5, 1.0, 1.5, 2.5 }, D = 4;
    const int n = 4;
    /* on each beat, exactly k + 1 of the n + 1 steps are done */
    for (int k = 0; k < n; k++)
        CHECK_NEAR(gv_beat_ease(GV_BEAT_STEPS, beats, n, D, beats[k] / D), (k + 1) / 5.0, 1e-12);
    /* the first half of an interval holds: 1.5 to 2.0 s stays at 3/5 */
    CHECK_NEAR(gv_beat_ease(GV_BEAT_STEPS, beats, n, D, 1.6 / D), 0.6, 1e-12);
    CHECK_NEAR(gv_beat_ease(GV_BEAT_STEPS, beats, n, D, 2.0 / D), 0.6, 1e-12);
    /* then eases: halfway through the move (2.25 s) it is half a step on */
    CHECK_NEAR(gv_beat_ease(GV_BEAT_STEPS, beats, n, D, 2.25 / D), 0.7, 1e-12);
    /* the loop closes: 0 at 0, 1 at 1, and one further each period */
    CHECK_NEAR(gv_beat_ease(GV_BEAT_STEPS, beats, n, D, 0), 0, 0);
    CHECK_NEAR(gv_beat_ease(GV_BEAT_STEPS, beats, n, D, 1), 1, 0);
    CHECK_NEAR(gv_beat_ease(GV_BEAT_STEPS, beats, n, D, 1 - 1e-9), 1, 1e-6);
    CHECK_NEAR(gv_beat_ease(GV_BEAT_STEPS, beats, n, D, -0.1),
               gv_beat_ease(GV_BEAT_STEPS, beats, n, D, 0.9) - 1, 1e-12);
    /* rising */
    double last = -1;
    int rising = 1;
    for (int i = 0; i <= 400; i++) {
        const double e = gv_beat_ease(GV_BEAT_STEPS, beats, n, D, i / 400.0);
        rising &= e >= last;
        last = e;
    }
    CHECK(rising);
}

static void test_pulse(void)
{
    const double beats[] = { 1, 2, 3 }, D = 4;
    CHECK_NEAR(gv_beat_ease(GV_BEAT_PULSE, beats, 3, D, 0), 0, 0);
    CHECK_NEAR(gv_beat_ease(GV_BEAT_PULSE, beats, 3, D, 1), 1, 1e-12);
    /* E(t) = t + A tau sum (1 - exp(-(t - b) / tau)); at 1.5 s one beat */
    const double A = GV_BEAT_PULSE_GAIN, tau = GV_BEAT_PULSE_TAU;
    const double total = 4 + A * tau * (3 - exp(-3 / tau) - exp(-2 / tau) - exp(-1 / tau));
    CHECK_NEAR(gv_beat_ease(GV_BEAT_PULSE, beats, 3, D, 1.5 / D),
               (1.5 + A * tau * (1 - exp(-0.5 / tau))) / total, 1e-12);
    /* faster just after a beat than just before it */
    const double h = 0.01 / D;
    const double before = gv_beat_ease(GV_BEAT_PULSE, beats, 3, D, 1.0 / D) -
                          gv_beat_ease(GV_BEAT_PULSE, beats, 3, D, 1.0 / D - h);
    const double after = gv_beat_ease(GV_BEAT_PULSE, beats, 3, D, 1.0 / D + h) -
                         gv_beat_ease(GV_BEAT_PULSE, beats, 3, D, 1.0 / D);
    CHECK(after > 2 * before);
}

/* Through the layout: a row's offset on a beat frame is exactly its share
 * of the period, and the frames of a hold show the wall standing still. */
static void test_layout_steps(void)
{
    const double beats[] = { 1, 2, 3 };
    GvLayoutParams p = {
        .width = 400, .height = 100, .kind = GV_LAYOUT_ROWS, .tile_w = 100, .tile_h = 100,
        .n_images = 8, .duration = 4, .fps_num = 30, .fps_den = 1, .motion_blur = 1,
        .beat_mode = GV_BEAT_STEPS, .beats = beats, .n_beats = 3,
    };
    GvLayout l;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    GvOffset o[1];
    /* period 800: steps of 200 px, landing at frames 30, 60, 90 */
    gv_frame_offsets(&l, 30, o);
    CHECK_INT(o[0].pos, 200);
    CHECK_INT(o[0].frac, 0);
    gv_frame_offsets(&l, 90, o);
    CHECK_INT(o[0].pos, 600);
    /* 1.0 to 1.5 s holds */
    gv_frame_offsets(&l, 40, o);
    CHECK_INT(o[0].pos, 200);
    CHECK_INT(o[0].frac, 0);
    /* the loop: frame 0 at 0 */
    gv_frame_offsets(&l, 0, o);
    CHECK_INT(o[0].pos, 0);
    gv_layout_free(&l);
}

int main(void)
{
    char dir[] = "/tmp/gv-beat-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_click_track(dir);
    test_steps();
    test_pulse();
    test_layout_steps();
    rmdir(dir);
    return check_report("beat");
}
