/*
 * AUDIO: a file is muxed in as AAC (Opus in WebM), lasts as long as the
 * video within one frame, fades out at the end, and a shorter file is
 * followed by silence. A file that is not audio is a bad setting found
 * before anything is written.
 *
 * The sources are sines written here as WAV files; their level survives
 * a lossy codec well enough to measure with RMS over windows of tens of
 * milliseconds, away from the edges where the codec's pre-echo lives.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "avcheck.h"
#include "check.h"
#include "gridvid/gridvid.h"

#define AMPLITUDE 0.5 /* of the sines: RMS A / sqrt(2) */
#define FPS 30

static char dir[256];

typedef struct Log {
    /* probes: warnings that a hardware encoder ENCODER=auto tried could
     * not open ("h264_nvenc unavailable (...): using libx264"), which a
     * machine with such an encoder in libavcodec but not in hardware (a
     * CUDA GPU without NVENC) gives on every run */
    int warnings, probes, errors;
    char last_error[512];
} Log;

static void log_cb(void *opaque, GvLogLevel level, const char *msg)
{
    Log *const l = opaque;
    if (level == GV_LOG_WARNING) {
        l->warnings++;
        l->probes += strstr(msg, " unavailable (") && strstr(msg, "): using ");
    }
    if (level == GV_LOG_ERROR) {
        l->errors++;
        snprintf(l->last_error, sizeof(l->last_error), "%s", msg);
    }
}

/* The demo wall, small, for `seconds` at 30 fps, with AUDIO. */
static int render(const char *out, const char *audio, double seconds, Log *log)
{
    GvSettings s;
    gv_default_settings(&s);
    s.demo = 1;
    s.width = 160;
    s.height = 120;
    s.tile_height = 40;
    s.fps_num = FPS;
    s.fps_den = 1;
    s.duration = seconds;
    s.gpu = GV_GPU_FALSE;
    s.output = out;
    s.audio = audio;
    s.log = log_cb;
    s.log_opaque = log;
    s.log_level = GV_LOG_WARNING;
    memset(log, 0, sizeof(*log));
    GvContext *ctx;
    int ret = gv_open(&ctx, &s);
    if (ret < 0)
        return ret;
    ret = gv_run(ctx);
    gv_close(&ctx);
    return ret;
}

/*
 * The audio lasts as long as the video within one frame: it starts with
 * the video, the decoded samples (a decoder gives whole codec frames, so
 * up to one codec frame, 21 ms, more) and the container's timestamps end
 * with it.
 */
static void check_length(const AvFile *f, double seconds)
{
    CHECK_NEAR(f->video.end - f->video.start, seconds, 1e-3);
    /* both start at zero: nothing moved to make room for codec priming */
    CHECK_NEAR(f->video.first, 0, 1e-3);
    CHECK_NEAR(f->audio.first, 0, 1e-3);
    if (f->audio.sample_rate > 0)
        CHECK_NEAR((double)f->audio.samples / f->audio.sample_rate, seconds, 1.0 / FPS);
    CHECK_NEAR(f->audio.end, f->video.end, 1.0 / FPS);
}

/*
 * In sync: sample i of the decoded audio (its first sample playing at 0)
 * is the source's sine at i / rate. Priming left in or cut twice would
 * shift it by 312 or 1024 samples, a large part of a 440 Hz period.
 */
static double sync_error(const AvFile *f, double from, double to)
{
    const int r = f->audio.sample_rate;
    double sum = 0;
    int n = 0;
    for (int64_t i = (int64_t)(from * r); i < (int64_t)(to * r) && i < f->audio.samples; i++, n++) {
        const double d = f->pcm[i] - AMPLITUDE * sin(2 * M_PI * 440 * (double)i / r);
        sum += d * d;
    }
    return n ? sqrt(sum / n) : 1;
}

/* 3 s of a 440 Hz sine under 2 s of video: cut, faded. */
static void test_cut_and_fade(const char *ext, enum AVCodecID codec, int rate, int channels)
{
    char wav[300], out[300];
    snprintf(wav, sizeof(wav), "%s/sine3.wav", dir);
    snprintf(out, sizeof(out), "%s/cut.%s", dir, ext);
    Log log;
    CHECK_INT(render(out, wav, 2, &log), 0);
    CHECK_INT(log.warnings - log.probes, 0);
    AvFile f;
    CHECK_INT(avcheck_decode(out, &f, NULL, NULL), 0);
    printf("%s: audio %s %d Hz %d ch, %lld samples = %.4f s from %.4f s, packets %.4f..%.4f s; "
           "video %lld frames from %.4f s, packets %.4f..%.4f s\n",
           ext, avcodec_get_name(f.audio.codec_id), f.audio.sample_rate, f.audio.channels,
           (long long)f.audio.samples,
           f.audio.sample_rate ? (double)f.audio.samples / f.audio.sample_rate : 0, f.audio.first,
           f.audio.start, f.audio.end, (long long)f.video.frames, f.video.first, f.video.start,
           f.video.end);
    CHECK(f.audio.present);
    CHECK_INT(f.audio.codec_id, codec);
    CHECK_INT(f.audio.sample_rate, rate);
    CHECK_INT(f.audio.channels, channels);
    CHECK_INT(f.video.frames, 2 * FPS);
    check_length(&f, 2.0);
    /* the sine is there at its level in the middle, and fades at the end */
    const int64_t r = f.audio.sample_rate, n = f.audio.samples;
    const double mid = avcheck_rms(&f, r / 2, r), tail = avcheck_rms(&f, n - r / 20, n);
    const double before_fade = avcheck_rms(&f, n - r * 3 / 4, n - r * 3 / 5);
    printf("%s: RMS middle %.4f, before the fade %.4f, last 50 ms %.4f\n", ext, mid, before_fade,
           tail);
    CHECK_NEAR(mid, AMPLITUDE / sqrt(2), 0.05);
    CHECK_NEAR(before_fade, AMPLITUDE / sqrt(2), 0.05);
    CHECK(tail < 0.05 * mid);
    const double sync = sync_error(&f, 0.5, 1.0);
    printf("%s: RMS difference from the source's sine in 0.5..1 s: %.4f\n", ext, sync);
    CHECK(sync < 0.02);
    avcheck_free(&f);
    unlink(out);
}

/* 0.5 s of sound under 1.5 s of video: silence after it, full length. */
static void test_short_file(const char *ext)
{
    char wav[300], out[300];
    snprintf(wav, sizeof(wav), "%s/sine05.wav", dir);
    snprintf(out, sizeof(out), "%s/short.%s", dir, ext);
    Log log;
    CHECK_INT(render(out, wav, 1.5, &log), 0);
    AvFile f;
    CHECK_INT(avcheck_decode(out, &f, NULL, NULL), 0);
    CHECK(f.audio.present);
    CHECK_INT(f.video.frames, 45);
    check_length(&f, 1.5);
    const int64_t r = f.audio.sample_rate;
    const double sound = avcheck_rms(&f, r / 10, r * 4 / 10);
    const double after = avcheck_rms(&f, r * 6 / 10, f.audio.samples);
    printf("%s, 0.5 s file: RMS while it plays %.4f, after it %.6f\n", ext, sound, after);
    CHECK_NEAR(sound, AMPLITUDE / sqrt(2), 0.05);
    CHECK(after < 1e-3);
    avcheck_free(&f);
    unlink(out);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Not audio: GV_ERR_SETTING naming AUDIO, before any output exists. */
static void test_not_audio(const char *audio, const char *what)
{
    char out[300];
    snprintf(out, sizeof(out), "%s/none.mp4", dir);
    Log log;
    CHECK_INT(render(out, audio, 1, &log), GV_ERR_SETTING);
    printf("AUDIO %s: %s\n", audio, log.last_error);
    CHECK(strstr(log.last_error, "AUDIO: '") == log.last_error);
    CHECK(strstr(log.last_error, what) != NULL);
    CHECK(!exists(out));
}

/* Nothing but what the test wrote is left in dir. */
static int dir_entries(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

int main(void)
{
    /* a fresh folder of the test's own, under $TMPDIR or /tmp */
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gv_test_audio_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    char path[400];
    snprintf(path, sizeof(path), "%s/sine3.wav", dir);
    avcheck_write_wav(path, 44100, 2, 3.0, 440, AMPLITUDE);
    snprintf(path, sizeof(path), "%s/sine05.wav", dir);
    avcheck_write_wav(path, 22050, 1, 0.5, 440, AMPLITUDE);
    char text[400], image[400], missing[400];
    snprintf(text, sizeof(text), "%s/notes.wav", dir);
    FILE *f = fopen(text, "w");
    fputs("not audio at all\n", f);
    fclose(f);
    /* a file FFmpeg reads, as a picture */
    snprintf(image, sizeof(image), "%s/picture.ppm", dir);
    f = fopen(image, "wb");
    fprintf(f, "P6\n4 4\n255\n");
    for (int i = 0; i < 48; i++)
        fputc(i * 5, f);
    fclose(f);
    snprintf(missing, sizeof(missing), "%s/missing.wav", dir);

    test_cut_and_fade("mp4", AV_CODEC_ID_AAC, 44100, 2);
    test_cut_and_fade("mov", AV_CODEC_ID_AAC, 44100, 2);
    test_cut_and_fade("mkv", AV_CODEC_ID_AAC, 44100, 2);
    test_cut_and_fade("webm", AV_CODEC_ID_OPUS, 48000, 2);
    test_short_file("mp4");
    test_short_file("webm");
    test_not_audio(image, "no audio stream");
    test_not_audio(text, "cannot read");
    test_not_audio(missing, "cannot read");
    CHECK_INT(dir_entries(), 4); /* the two sines, the text, the picture */

    const char *const files[] = { "sine3.wav", "sine05.wav", "notes.wav", "picture.ppm" };
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return check_report("test_audio");
}
