/*
 * gen_clips: writes camera-like H.264 test clips for the clip benchmark.
 *
 *   gen_clips OUTDIR COUNT WIDTH HEIGHT FPS MIN_S MAX_S [--jobs N] [--seed S]
 *             [--preset P] [--crf N] [--gop N] [--maxrate KBPS] [--grain A]
 *             [--threads N] [--encoder NAME] [--quiet]
 *   gen_clips --version
 *
 * Writes COUNT clips OUTDIR/clipNN-L.Ls.mp4 (NN = 01..COUNT, L.L the length
 * in seconds), clip j lasting MIN_S + (MAX_S - MIN_S) * (j - 1) / (COUNT - 1)
 * seconds rounded to whole frames: WIDTHxHEIGHT, FPS (N or N/D), yuv420p
 * BT.709 limited range, libx264 (preset veryfast, CRF 21 capped at 16 Mb/s,
 * a key frame every 60 frames, High profile), MP4 with the index at the
 * front. --jobs clips are made at a time (default one per core), each by its
 * own single-threaded encoder (--threads), longest first. Each is written
 * beside its place and renamed in when complete. A clip already there is
 * kept when its comment tag (which names this generator's version, the seed
 * and every setting) and its frame count are what this run would write, so
 * a folder is reused across runs and a changed setting remakes the clips.
 *
 * Prints, on standard output, one line per clip in clip order:
 *   FRAMES SECONDS KBITS_PER_S made|kept PATH
 * and on standard error a summary: frames made per second, and the share of
 * the CPU time spent making pictures (the rest is x264).
 *
 * Why this content: a decoder's cost follows the bitrate and the variety of
 * the coded blocks, so flat test patterns (far lower bitrates at CRF 21)
 * make clips look far cheaper to decode than camera footage. Each frame is a
 * smooth gradient that drifts (light), a multi-octave texture with
 * hard-edged blobs that pans with a hand-held sway (the scene, moved by the
 * camera), a fainter second texture layer drifting another way (leaves,
 * water, reflections: what no single motion vector predicts), a textured
 * block moving its own way (something in the scene moving), and temporal
 * grain (sensor noise, which no motion search predicts). At 1080p30 and CRF
 * 21 this comes to about 6 Mb/s (I frames ~350 KB, P ~65 KB, B ~5 KB), with
 * sub-pixel motion vectors and residuals everywhere. The texture and grain
 * planes are made once (a few hundred ms) and windows of them are read for
 * every frame, so the pictures cost a small share of the encoding.
 * Everything is drawn from the seed and the clip's number with a portable
 * generator: the same clips on every machine with the same libraries (x264
 * single-threaded is deterministic).
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/parseutils.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GEN_VERSION 1

typedef struct Options {
    const char *dir, *preset, *encoder;
    int count, width, height, jobs, crf, gop, maxrate_kbps, threads, quiet;
    double min_s, max_s, grain;
    AVRational fps;
    uint64_t seed;
} Options;

typedef struct Clip {
    char *path;
    int index; /* 1-based */
    int64_t frames;
    double seconds, kbps, synth_cpu, total_cpu;
    int made, failed;
} Clip;

static Options opt;
static Clip *clips;
static atomic_int next_clip;

/* the planes: P x P, toroidal, stored P x (P + pad) so that a row window
 * of up to WIDTH samples from any column < P is contiguous */
static int plane_p, plane_stride;
static int8_t *texture, *grain;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* splitmix64: small, well mixed, the same on every platform */
static uint64_t next_u64(uint64_t *const s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *const s, const double lo, const double hi)
{
    return lo + (hi - lo) * (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int below(uint64_t *const s, const int n)
{
    return (int)(next_u64(s) % (uint64_t)n);
}

static void fill_padding(int8_t *const plane)
{
    for (int y = 0; y < plane_p; y++) {
        int8_t *const row = plane + (size_t)y * (size_t)plane_stride;
        for (int x = plane_p; x < plane_stride; x++)
            row[x] = row[x & (plane_p - 1)];
    }
}

static inline int8_t clamp8(const float v, const float lim)
{
    return (int8_t)lrintf(v < -lim ? -lim : v > lim ? lim : v);
}

/*
 * The texture: value noise of five octaves (lattice spacing 256 down to 2
 * samples, amplitude falling about as 1/f, as in photographs), full-size
 * white noise for fine detail, and hard-edged discs of every size; scaled
 * so that its standard deviation is about 26 levels. The grain: white noise
 * (sum of two uniforms, triangular) of amplitude --grain.
 */
static int make_planes(void)
{
    const int p = plane_p, mask = p - 1;
    const size_t n = (size_t)p * (size_t)plane_stride;
    float *const acc = calloc((size_t)p * (size_t)p, sizeof(float));
    texture = malloc(n);
    grain = malloc(n);
    if (!acc || !texture || !grain) {
        free(acc);
        return -1;
    }
    uint64_t s = opt.seed ^ 0x7465787475726500ull;
    static const int spacing[] = { 256, 64, 16, 6, 2 };
    static const float amp[] = { 1.0f, 0.55f, 0.35f, 0.22f, 0.16f };
    float ws[256];
    for (int o = 0; o < 5; o++) {
        int sp = spacing[o];
        while (p % sp)
            sp--;
        const int l = p / sp;
        float *const lat = malloc((size_t)l * (size_t)l * sizeof(float));
        if (!lat) {
            free(acc);
            return -1;
        }
        for (int i = 0; i < l * l; i++)
            lat[i] = (float)uniform(&s, -1, 1);
        for (int i = 0; i < sp; i++) { /* smoothstep weights */
            const float t = (float)i / (float)sp;
            ws[i] = t * t * (3 - 2 * t);
        }
        for (int y = 0; y < p; y++) {
            const int ly = y / sp, ly1 = (ly + 1) % l;
            const float wy = ws[y % sp];
            const float *const r0 = lat + (size_t)ly * (size_t)l, *const r1 = lat + (size_t)ly1 * (size_t)l;
            float *const a = acc + (size_t)y * (size_t)p;
            for (int x = 0; x < p; x++) {
                const int lx = x / sp, lx1 = (lx + 1) % l;
                const float wx = ws[x % sp];
                const float top = r0[lx] + (r0[lx1] - r0[lx]) * wx;
                const float bot = r1[lx] + (r1[lx1] - r1[lx]) * wx;
                a[x] += amp[o] * (top + (bot - top) * wy);
            }
        }
        free(lat);
    }
    for (size_t i = 0; i < (size_t)p * (size_t)p; i++)
        acc[i] += 0.12f * (float)uniform(&s, -1, 1);
    /* discs: a few large, many small, each a flat step up or down */
    const int n_discs = (int)((double)p * (double)p / 6000.0);
    for (int d = 0; d < n_discs; d++) {
        const double u = uniform(&s, 0, 1);
        const int r = 2 + (int)(60.0 * u * u * u);
        const int cx = below(&s, p), cy = below(&s, p);
        const float v = (float)uniform(&s, -0.5, 0.5);
        for (int dy = -r; dy <= r; dy++) {
            float *const a = acc + (size_t)((cy + dy) & mask) * (size_t)p;
            for (int dx = -r; dx <= r; dx++)
                if (dx * dx + dy * dy <= r * r)
                    a[(cx + dx) & mask] += v;
        }
    }
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < (size_t)p * (size_t)p; i++) {
        sum += acc[i];
        sum2 += (double)acc[i] * acc[i];
    }
    const double mean = sum / ((double)p * p);
    const double sd = sqrt(fmax(sum2 / ((double)p * p) - mean * mean, 1e-9));
    const float k = (float)(26.0 / sd), m = (float)mean;
    for (int y = 0; y < p; y++)
        for (int x = 0; x < p; x++)
            texture[(size_t)y * (size_t)plane_stride + (size_t)x] =
                clamp8((acc[(size_t)y * (size_t)p + (size_t)x] - m) * k, 90);
    free(acc);
    s = opt.seed ^ 0x677261696e000000ull;
    const float g = (float)opt.grain;
    for (int y = 0; y < p; y++)
        for (int x = 0; x < p; x++) {
            const uint64_t r = next_u64(&s);
            const float t = ((float)(r & 0xffff) + (float)((r >> 16) & 0xffff)) / 65535.0f - 1.0f;
            grain[(size_t)y * (size_t)plane_stride + (size_t)x] = clamp8(g * t, 127);
        }
    fill_padding(texture);
    fill_padding(grain);
    return 0;
}

/* what one clip shows: all drawn from the seed and the clip's number */
typedef struct Scene {
    double pan_x, pan_y, sway_a, sway_w, sway_ph, ox0, oy0;   /* camera */
    double luma, gax, gfx, gvx, gay, gfy, gvy;                /* light */
    double cu, cv, cux, cvy, cfx, cfy, cvt;                   /* colour */
    double tex_amp;
    double l2_x0, l2_y0, l2_vx, l2_vy, l2_amp;                /* the second layer */
    int obj_w, obj_h;                                         /* the moving block */
    double obj_fx, obj_fy, obj_ph, obj_tx, obj_ty, obj_vx, obj_vy, obj_shift;
    uint64_t grain_rng;
} Scene;

static void make_scene(Scene *const sc, const int index)
{
    uint64_t s = opt.seed * 0x9e3779b97f4a7c15ull + (uint64_t)index * 0xd1b54a32d192ed03ull;
    const double w = opt.width, h = opt.height, px = w / 1920.0; /* speeds scale with size */
    const double ang = uniform(&s, 0, 2 * M_PI), speed = uniform(&s, 0.8, 3.5) * px;
    sc->pan_x = speed * cos(ang);
    sc->pan_y = speed * sin(ang) * 0.5;
    sc->sway_a = uniform(&s, 2, 14) * px;
    sc->sway_w = 2 * M_PI / uniform(&s, 1.2, 4.0);
    sc->sway_ph = uniform(&s, 0, 2 * M_PI);
    sc->ox0 = below(&s, plane_p);
    sc->oy0 = below(&s, plane_p);
    sc->luma = uniform(&s, 85, 140);
    sc->gax = uniform(&s, 15, 40);
    sc->gfx = uniform(&s, 0.3, 1.2) / w;
    sc->gvx = uniform(&s, -0.08, 0.08);
    sc->gay = uniform(&s, 10, 30);
    sc->gfy = uniform(&s, 0.3, 1.0) / h;
    sc->gvy = uniform(&s, -0.06, 0.06);
    sc->cu = uniform(&s, -25, 25);
    sc->cv = uniform(&s, -25, 25);
    sc->cux = uniform(&s, 6, 18);
    sc->cvy = uniform(&s, 6, 18);
    sc->cfx = uniform(&s, 0.3, 1.0) / (w / 2);
    sc->cfy = uniform(&s, 0.3, 1.0) / (h / 2);
    sc->cvt = uniform(&s, -0.05, 0.05);
    sc->tex_amp = uniform(&s, 0.75, 1.1);
    sc->obj_w = ((int)(w * uniform(&s, 0.18, 0.33))) & ~1;
    sc->obj_h = ((int)(h * uniform(&s, 0.22, 0.45))) & ~1;
    sc->obj_fx = 2 * M_PI / uniform(&s, 5, 12);
    sc->obj_fy = 2 * M_PI / uniform(&s, 4, 10);
    sc->obj_ph = uniform(&s, 0, 2 * M_PI);
    sc->obj_tx = below(&s, plane_p);
    sc->obj_ty = below(&s, plane_p);
    sc->obj_vx = uniform(&s, -3, 3) * px;
    sc->obj_vy = uniform(&s, -2, 2) * px;
    sc->obj_shift = uniform(&s, -35, 35);
    sc->grain_rng = next_u64(&s);
    sc->l2_x0 = below(&s, plane_p);
    sc->l2_y0 = below(&s, plane_p);
    sc->l2_vx = -sc->pan_x * uniform(&s, 0.3, 1.0) + uniform(&s, -1.5, 1.5) * px;
    sc->l2_vy = uniform(&s, -1.5, 1.5) * px;
    sc->l2_amp = uniform(&s, 0.12, 0.22);
}

static inline uint8_t clamp_u8(const int v, const int lo, const int hi)
{
    return (uint8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* a position on the plane in 1/16 samples: the whole sample (wrapped) and the fraction */
typedef struct Pos {
    int i, f;
} Pos;

static inline Pos pos_of(const double v)
{
    const int64_t q = (int64_t)floor(v * 16);
    return (Pos){ (int)((q >> 4) & (int64_t)(plane_p - 1)), (int)(q & 15) };
}

typedef struct Tables {
    int amp, amp2, amp_c;             /* texture scales, 1/256 */
    int16_t *gx, *gy, *ux, *uy, *vx, *vy;
} Tables;

/*
 * out[x] = clamp(g[x] + base + texture * amp + grain[x]), the texture read
 * at (X + x, Y) in 1/16 samples, bilinear: so the camera moves by fractions
 * of a pixel, as a real one does, and the encoder needs sub-pixel motion
 * vectors and leaves residuals, as it does for camera footage.
 */
static void luma_row(uint8_t *restrict out, const int16_t *restrict g, const int base,
                     const int8_t *restrict r0, const int8_t *restrict r1, const int fx, const int fy,
                     const int amp, const int8_t *restrict l2, const int amp2,
                     const int8_t *restrict gr, const int n)
{
    /* 16-bit arithmetic throughout (|texture| <= 90, weights sum to 256,
     * amp < 512), so that the compiler vectorizes it 8 or 16 wide */
    const int16_t w00 = (int16_t)((16 - fx) * (16 - fy)), w01 = (int16_t)(fx * (16 - fy));
    const int16_t w10 = (int16_t)((16 - fx) * fy), w11 = (int16_t)(fx * fy);
    const int16_t a = (int16_t)amp, a2 = (int16_t)amp2, b = (int16_t)base;
    for (int x = 0; x < n; x++) {
        const int16_t tv = (int16_t)(r0[x] * w00 + r0[x + 1] * w01 + r1[x] * w10 + r1[x + 1] * w11);
        const int16_t v = (int16_t)(g[x] + b + (int16_t)((tv * a) >> 16) + (int16_t)((l2[x] * a2) >> 8) + gr[x]);
        out[x] = (uint8_t)(v < 16 ? 16 : v > 235 ? 235 : v);
    }
}

static void draw(AVFrame *const f, const Scene *const sc, Tables *const tb, const int64_t n)
{
    const int w = opt.width, h = opt.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    const double t = (double)n * opt.fps.den / opt.fps.num;
    const double tau = 2 * M_PI;
    for (int x = 0; x < w; x++)
        tb->gx[x] = (int16_t)lrint(sc->luma + sc->gax * sin(tau * (sc->gfx * x + sc->gvx * t)));
    for (int y = 0; y < h; y++)
        tb->gy[y] = (int16_t)lrint(sc->gay * cos(tau * (sc->gfy * y - sc->gvy * t) + 1.0));
    for (int x = 0; x < cw; x++) {
        tb->ux[x] = (int16_t)lrint(128 + sc->cu + sc->cux * sin(tau * (sc->cfx * x + sc->cvt * t)));
        tb->vx[x] = (int16_t)lrint(128 + sc->cv + 0.5 * sc->cux * cos(tau * (sc->cfx * x - sc->cvt * t)));
    }
    for (int y = 0; y < ch; y++) {
        tb->uy[y] = (int16_t)lrint(0.5 * sc->cvy * cos(tau * (sc->cfy * y + sc->cvt * t)));
        tb->vy[y] = (int16_t)lrint(sc->cvy * sin(tau * (sc->cfy * y - sc->cvt * t)));
    }
    /* the camera: a pan with a hand-held sway */
    const double sway = sc->sway_a * sin(sc->sway_w * t + sc->sway_ph);
    const Pos ox = pos_of(sc->ox0 + sc->pan_x * (double)n + sway);
    const Pos oy = pos_of(sc->oy0 + sc->pan_y * (double)n + 0.6 * sway * cos(sc->sway_w * 0.7 * t));
    /* the block: a Lissajous path (even, for chroma), its texture sliding its own way */
    const int bx = ((int)lrint((w - sc->obj_w) * (0.5 + 0.45 * sin(sc->obj_fx * t + sc->obj_ph)))) & ~1;
    const int by = ((int)lrint((h - sc->obj_h) * (0.5 + 0.45 * sin(sc->obj_fy * t)))) & ~1;
    const Pos tx = pos_of(sc->obj_tx + sc->obj_vx * (double)n), ty = pos_of(sc->obj_ty + sc->obj_vy * (double)n);
    const int bshift = (int)lrint(sc->obj_shift);
    /* the second layer: whole samples, its own drift */
    const Pos lx = pos_of(sc->l2_x0 + sc->l2_vx * (double)n), ly = pos_of(sc->l2_y0 + sc->l2_vy * (double)n);
    /* the grain: a new random window every frame */
    uint64_t gs = sc->grain_rng + (uint64_t)n * 0x632be59bd9b4e019ull;
    const int gx0 = below(&gs, plane_p), gy0 = below(&gs, plane_p);
    const int mask = plane_p - 1;
#define ROW(plane, y) ((plane) + (size_t)((y) & mask) * (size_t)plane_stride)

    for (int y = 0; y < h; y++) {
        uint8_t *const out = f->data[0] + (ptrdiff_t)y * f->linesize[0];
        const int8_t *const gr = ROW(grain, gy0 + y) + gx0, *const l2 = ROW(texture, ly.i + y) + lx.i;
        luma_row(out, tb->gx, tb->gy[y], ROW(texture, oy.i + y) + ox.i, ROW(texture, oy.i + y + 1) + ox.i,
                 ox.f, oy.f, tb->amp, l2, tb->amp2, gr, w);
        if (y >= by && y < by + sc->obj_h)
            luma_row(out + bx, tb->gx + bx, tb->gy[y] + bshift, ROW(texture, ty.i + y - by) + tx.i,
                     ROW(texture, ty.i + y - by + 1) + tx.i, tx.f, ty.f, tb->amp, l2 + bx, tb->amp2,
                     gr + bx, sc->obj_w);
    }
    /* chroma: the luma texture's window at half resolution (every other
     * sample, whole samples), lower amplitude, opposite in U and V; grain
     * at half amplitude */
    for (int y = 0; y < ch; y++) {
        uint8_t *const u = f->data[1] + (ptrdiff_t)y * f->linesize[1];
        uint8_t *const v = f->data[2] + (ptrdiff_t)y * f->linesize[2];
        const int8_t *const tr = ROW(texture, oy.i + 2 * y) + ox.i;
        const int8_t *const gr = ROW(grain, gy0 + y + 7) + gx0;
        const int uyv = tb->uy[y], vyv = tb->vy[y], amp = tb->amp_c;
        for (int x = 0; x < cw; x++) {
            const int tv = (tr[2 * x] * amp) >> 8, g = gr[x] / 2;
            u[x] = clamp_u8(tb->ux[x] + uyv + tv + g, 16, 240);
            v[x] = clamp_u8(tb->vx[x] + vyv - tv - g, 16, 240);
        }
        if (2 * y >= by && 2 * y < by + sc->obj_h) {
            const int8_t *const br = ROW(texture, ty.i + 2 * y - by) + tx.i;
            for (int x = 0; x < sc->obj_w / 2; x++) {
                const int tv = (br[2 * x] * amp) >> 8;
                u[bx / 2 + x] = clamp_u8(tb->ux[bx / 2 + x] + uyv + tv + bshift / 3, 16, 240);
                v[bx / 2 + x] = clamp_u8(tb->vx[bx / 2 + x] + vyv - tv - bshift / 2, 16, 240);
            }
        }
    }
#undef ROW
}

static void tag_of(char *const buf, const size_t size, const Clip *const c)
{
    snprintf(buf, size,
             "gen_clips v%d seed %llu clip %d frames %lld %dx%d %d/%d fps grain %g %s preset %s "
             "crf %d gop %d maxrate %dk",
             GEN_VERSION, (unsigned long long)opt.seed, c->index, (long long)c->frames, opt.width,
             opt.height, opt.fps.num, opt.fps.den, opt.grain, opt.encoder, opt.preset, opt.crf, opt.gop,
             opt.maxrate_kbps);
}

/* 1 when PATH is the clip this run would write */
static int is_made(const Clip *const c, const char *const tag)
{
    AVFormatContext *fc = NULL;
    int ok = 0;
    if (access(c->path, R_OK) || avformat_open_input(&fc, c->path, NULL, NULL) < 0)
        return 0;
    const AVDictionaryEntry *const e = av_dict_get(fc->metadata, "comment", NULL, 0);
    for (unsigned i = 0; i < fc->nb_streams && e && !strcmp(e->value, tag); i++) {
        const AVStream *const st = fc->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && st->codecpar->width == opt.width &&
            st->codecpar->height == opt.height && st->nb_frames == c->frames)
            ok = 1;
    }
    avformat_close_input(&fc);
    return ok;
}

static void av_fail(const Clip *const c, const char *const what, const int err)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, buf, sizeof(buf));
    fprintf(stderr, "gen_clips: %s: %s: %s\n", c->path, what, buf);
}

static int drain(AVCodecContext *const cc, AVFormatContext *const fc, AVStream *const st,
                 AVPacket *const pkt)
{
    int err;
    while ((err = avcodec_receive_packet(cc, pkt)) >= 0) {
        av_packet_rescale_ts(pkt, cc->time_base, st->time_base);
        pkt->stream_index = st->index;
        if ((err = av_interleaved_write_frame(fc, pkt)) < 0)
            return err;
    }
    return err == AVERROR(EAGAIN) || err == AVERROR_EOF ? 0 : err;
}

static int make_clip(Clip *const c, const char *const tag)
{
    AVFormatContext *fc = NULL;
    AVCodecContext *cc = NULL;
    AVDictionary *opts = NULL, *mux = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    Tables tb = { 0 };
    Scene sc;
    int ret = -1, err = 0;
    const size_t plen = strlen(opt.dir) + strlen(c->path) + 16;
    char *const part = malloc(plen);
    const double cpu0 = thread_cpu_s();

    const int w = opt.width, h = opt.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    tb.gx = malloc(sizeof(int16_t) * (size_t)(2 * w + 2 * h + 4 * cw + 4 * ch));
    if (!pkt || !frame || !part || !tb.gx) {
        fprintf(stderr, "gen_clips: out of memory\n");
        goto end;
    }
    tb.gy = tb.gx + w;
    tb.ux = tb.gy + h;
    tb.uy = tb.ux + cw;
    tb.vx = tb.uy + ch;
    tb.vy = tb.vx + cw;
    make_scene(&sc, c->index);
    tb.amp = (int)lrint(sc.tex_amp * 256);
    tb.amp2 = (int)lrint(sc.tex_amp * sc.l2_amp * 256);
    tb.amp_c = (int)lrint(sc.tex_amp * 0.22 * 256);
    const char *const slash = strrchr(c->path, '/');
    snprintf(part, plen, "%.*s.%s.part", (int)(slash - c->path + 1), c->path, slash + 1);

    const AVCodec *const codec = avcodec_find_encoder_by_name(opt.encoder);
    if (!codec) {
        fprintf(stderr, "gen_clips: no encoder %s in this libavcodec\n", opt.encoder);
        goto end;
    }
    if ((err = avformat_alloc_output_context2(&fc, NULL, "mp4", part)) < 0) {
        av_fail(c, "muxer", err);
        goto end;
    }
    AVStream *const st = avformat_new_stream(fc, NULL);
    if (!st || !(cc = avcodec_alloc_context3(codec)))
        goto end;
    cc->width = w;
    cc->height = h;
    cc->time_base = av_inv_q(opt.fps);
    cc->framerate = opt.fps;
    cc->sample_aspect_ratio = (AVRational){ 1, 1 };
    cc->pix_fmt = AV_PIX_FMT_YUV420P;
    cc->color_primaries = AVCOL_PRI_BT709;
    cc->color_trc = AVCOL_TRC_BT709;
    cc->colorspace = AVCOL_SPC_BT709;
    cc->color_range = AVCOL_RANGE_MPEG;
    cc->chroma_sample_location = AVCHROMA_LOC_LEFT;
    cc->thread_count = opt.threads;
    cc->gop_size = opt.gop;
    if (opt.maxrate_kbps > 0) {
        cc->rc_max_rate = (int64_t)opt.maxrate_kbps * 1000;
        cc->rc_buffer_size = opt.maxrate_kbps * 2000;
    }
    if (fc->oformat->flags & AVFMT_GLOBALHEADER)
        cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    char num[16];
    snprintf(num, sizeof(num), "%d", opt.crf);
    av_dict_set(&opts, "crf", num, 0);
    av_dict_set(&opts, "preset", opt.preset, 0);
    av_dict_set(&opts, "profile", "high", 0);
    if ((err = avcodec_open2(cc, codec, &opts)) < 0) {
        av_fail(c, opt.encoder, err);
        goto end;
    }
    if ((err = avcodec_parameters_from_context(st->codecpar, cc)) < 0)
        goto end;
    st->time_base = cc->time_base;
    st->avg_frame_rate = opt.fps;
    av_dict_set(&fc->metadata, "comment", tag, 0);
    if ((err = avio_open(&fc->pb, part, AVIO_FLAG_WRITE)) < 0) {
        av_fail(c, part, err);
        goto end;
    }
    av_dict_set(&mux, "movflags", "+faststart", 0);
    if ((err = avformat_write_header(fc, &mux)) < 0) {
        av_fail(c, "header", err);
        goto end;
    }
    frame->format = cc->pix_fmt;
    frame->width = w;
    frame->height = h;
    if ((err = av_frame_get_buffer(frame, 0)) < 0)
        goto end;
    for (int64_t n = 0; n < c->frames; n++) {
        /* the encoder may still hold the last frame: then this gives a new buffer */
        if ((err = av_frame_make_writable(frame)) < 0)
            goto end;
        const double s0 = thread_cpu_s();
        draw(frame, &sc, &tb, n);
        c->synth_cpu += thread_cpu_s() - s0;
        frame->pts = n;
        frame->color_primaries = cc->color_primaries;
        frame->color_trc = cc->color_trc;
        frame->colorspace = cc->colorspace;
        frame->color_range = cc->color_range;
        frame->chroma_location = cc->chroma_sample_location;
        if ((err = avcodec_send_frame(cc, frame)) < 0 || (err = drain(cc, fc, st, pkt)) < 0) {
            av_fail(c, "encoding", err);
            goto end;
        }
    }
    if ((err = avcodec_send_frame(cc, NULL)) < 0 || (err = drain(cc, fc, st, pkt)) < 0) {
        av_fail(c, "encoding", err);
        goto end;
    }
    if ((err = av_write_trailer(fc)) < 0) {
        av_fail(c, "trailer", err);
        goto end;
    }
    if ((err = avio_closep(&fc->pb)) < 0) {
        av_fail(c, part, err);
        goto end;
    }
    if (rename(part, c->path)) {
        fprintf(stderr, "gen_clips: %s: %s\n", c->path, strerror(errno));
        goto end;
    }
    ret = 0;
end:
    c->failed = ret != 0;
    if (fc && fc->pb)
        avio_closep(&fc->pb);
    if (ret && part)
        unlink(part);
    av_dict_free(&opts);
    av_dict_free(&mux);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&cc);
    avformat_free_context(fc);
    free(tb.gx);
    free(part);
    c->total_cpu = thread_cpu_s() - cpu0;
    return ret;
}

static void *worker(void *arg)
{
    (void)arg;
    char tag[512];
    for (;;) {
        const int k = atomic_fetch_add(&next_clip, 1);
        if (k >= opt.count)
            return NULL;
        Clip *const c = &clips[opt.count - 1 - k]; /* longest first */
        tag_of(tag, sizeof(tag), c);
        if (is_made(c, tag))
            continue;
        if (make_clip(c, tag) == 0) {
            c->made = 1;
            if (!opt.quiet)
                fprintf(stderr, "gen_clips: made %s (%lld frames)\n", c->path, (long long)c->frames);
        }
    }
}

static int usage(void)
{
    fprintf(stderr,
            "usage: gen_clips OUTDIR COUNT WIDTH HEIGHT FPS MIN_S MAX_S [--jobs N] [--seed S]\n"
            "                 [--preset P] [--crf N] [--gop N] [--maxrate KBPS] [--grain A]\n"
            "                 [--threads N] [--encoder NAME] [--quiet]\n"
            "       gen_clips --version\n");
    return 2;
}

static int num_arg(const char *const s, const char *const name, double *const v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(*v)) {
        fprintf(stderr, "gen_clips: bad %s '%s'\n", name, s);
        return -1;
    }
    return 0;
}

static int int_arg(const char *const s, const char *const name, const long lo, const long hi,
                   int *const v)
{
    char *end;
    errno = 0;
    const long l = strtol(s, &end, 10);
    if (errno || end == s || *end || l < lo || l > hi) {
        fprintf(stderr, "gen_clips: bad %s '%s' (%ld to %ld)\n", name, s, lo, hi);
        return -1;
    }
    *v = (int)l;
    return 0;
}

int main(int argc, char **argv)
{
    av_log_set_level(AV_LOG_ERROR);
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        const AVCodec *const x264 = avcodec_find_encoder_by_name("libx264");
        printf("gen_clips %d (libavcodec %s, libavformat %s, libx264 %s)\n", GEN_VERSION,
               AV_STRINGIFY(LIBAVCODEC_VERSION), AV_STRINGIFY(LIBAVFORMAT_VERSION),
               x264 ? "present" : "missing");
        return 0;
    }
    if (argc < 8)
        return usage();
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    opt = (Options){ .dir = argv[1], .preset = "veryfast", .encoder = "libx264", .crf = 21,
                     .gop = 60, .maxrate_kbps = 16000, .threads = 1, .grain = 3.0,
                     .jobs = cores > 0 ? (int)cores : 1, .seed = 1 };
    double fl;
    if (int_arg(argv[2], "COUNT", 1, 9999, &opt.count) || int_arg(argv[3], "WIDTH", 16, 16384, &opt.width) ||
        int_arg(argv[4], "HEIGHT", 16, 16384, &opt.height) || num_arg(argv[6], "MIN_S", &opt.min_s) ||
        num_arg(argv[7], "MAX_S", &opt.max_s))
        return 2;
    if (opt.width % 2 || opt.height % 2) {
        fprintf(stderr, "gen_clips: WIDTH and HEIGHT must be even (yuv420p)\n");
        return 2;
    }
    if (av_parse_video_rate(&opt.fps, argv[5]) < 0 || opt.fps.num <= 0 || opt.fps.den <= 0) {
        fprintf(stderr, "gen_clips: bad FPS '%s'\n", argv[5]);
        return 2;
    }
    if (opt.min_s <= 0 || opt.max_s < opt.min_s) {
        fprintf(stderr, "gen_clips: need 0 < MIN_S <= MAX_S\n");
        return 2;
    }
    for (int i = 8; i < argc; i++) {
        const char *const a = argv[i];
        if (!strcmp(a, "--quiet")) {
            opt.quiet = 1;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        const char *const v = argv[++i];
        int bad = 0;
        if (!strcmp(a, "--jobs"))
            bad = int_arg(v, "jobs", 1, 1024, &opt.jobs);
        else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            opt.seed = strtoull(v, &end, 10);
            bad = errno || end == v || *end;
            if (bad)
                fprintf(stderr, "gen_clips: bad seed '%s'\n", v);
        } else if (!strcmp(a, "--preset"))
            opt.preset = v;
        else if (!strcmp(a, "--crf"))
            bad = int_arg(v, "crf", 0, 51, &opt.crf);
        else if (!strcmp(a, "--gop"))
            bad = int_arg(v, "gop", 1, 100000, &opt.gop);
        else if (!strcmp(a, "--maxrate"))
            bad = int_arg(v, "maxrate", 0, 1000000, &opt.maxrate_kbps);
        else if (!strcmp(a, "--threads"))
            bad = int_arg(v, "threads", 0, 256, &opt.threads);
        else if (!strcmp(a, "--encoder"))
            opt.encoder = v;
        else if (!strcmp(a, "--grain")) {
            bad = num_arg(v, "grain", &fl) || fl < 0 || fl > 60;
            opt.grain = fl;
        } else
            return usage();
        if (bad)
            return 2;
    }
    if (opt.jobs > opt.count)
        opt.jobs = opt.count;
    if (mkdir(opt.dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "gen_clips: %s: %s\n", opt.dir, strerror(errno));
        return 1;
    }

    clips = calloc((size_t)opt.count, sizeof(Clip));
    if (!clips)
        return 1;
    const int digits = opt.count >= 1000 ? 4 : opt.count >= 100 ? 3 : 2;
    const double fps = av_q2d(opt.fps);
    for (int i = 0; i < opt.count; i++) {
        Clip *const c = &clips[i];
        const double len =
            opt.min_s + (opt.max_s - opt.min_s) * (opt.count > 1 ? (double)i / (opt.count - 1) : 0);
        c->index = i + 1;
        c->frames = llrint(len * fps);
        if (c->frames < 1)
            c->frames = 1;
        c->seconds = (double)c->frames / fps;
        const size_t n = strlen(opt.dir) + 64;
        if (!(c->path = malloc(n)))
            return 1;
        snprintf(c->path, n, "%s/clip%0*d-%.1fs.mp4", opt.dir, digits, c->index, c->seconds);
    }

    /* the planes: P a power of two at least the frame's larger side (and
     * 1024), padded by the width */
    plane_p = 1024;
    while (plane_p < opt.width || plane_p < opt.height)
        plane_p *= 2;
    plane_stride = plane_p + opt.width + 64;
    const double t0 = now_s();
    int todo = 0;
    char tag[512];
    for (int i = 0; i < opt.count; i++) {
        tag_of(tag, sizeof(tag), &clips[i]);
        todo += !is_made(&clips[i], tag);
    }
    double setup_s = 0;
    if (todo && !avcodec_find_encoder_by_name(opt.encoder)) {
        fprintf(stderr, "gen_clips: no encoder %s in this libavcodec (%s)\n", opt.encoder,
                AV_STRINGIFY(LIBAVCODEC_VERSION));
        return 1;
    }
    if (todo) {
        if (make_planes()) {
            fprintf(stderr, "gen_clips: out of memory for the texture planes\n");
            return 1;
        }
        setup_s = now_s() - t0;
    }
    const double t1 = now_s();
    pthread_t *const th = calloc((size_t)opt.jobs, sizeof(pthread_t));
    int started = 0;
    for (int j = 0; j < opt.jobs && th; j++)
        if (pthread_create(&th[j], NULL, worker, NULL) == 0)
            started++;
    if (!started)
        worker(NULL);
    for (int j = 0; j < started; j++)
        pthread_join(th[j], NULL);
    free(th);
    const double wall = now_s() - t1;

    int made = 0, kept = 0, failed = 0;
    int64_t frames = 0;
    double synth = 0, cpu = 0;
    for (int i = 0; i < opt.count; i++) {
        Clip *const c = &clips[i];
        struct stat sb;
        if (c->failed || stat(c->path, &sb)) {
            failed++;
            continue;
        }
        c->kbps = (double)sb.st_size * 8 / 1000 / c->seconds;
        printf("%lld %.3f %.0f %s %s\n", (long long)c->frames, c->seconds, c->kbps,
               c->made ? "made" : "kept", c->path);
        if (c->made) {
            made++;
            frames += c->frames;
            synth += c->synth_cpu;
            cpu += c->total_cpu;
        } else
            kept++;
    }
    if (made)
        fprintf(stderr,
                "gen_clips: made %d clips (%lld frames of %dx%d) in %.1f s with %d jobs: %.1f frames/s, "
                "%.2f clips/s; pictures %.0f%% of %.1f CPU s; planes %.2f s; kept %d\n",
                made, (long long)frames, opt.width, opt.height, wall, opt.jobs, (double)frames / wall,
                made / wall, cpu > 0 ? 100 * synth / cpu : 0, cpu, setup_s, kept);
    else if (!opt.quiet && !failed)
        fprintf(stderr, "gen_clips: all %d clips were already there\n", kept);
    if (failed)
        fprintf(stderr, "gen_clips: %d clips failed\n", failed);
    return failed ? 1 : 0;
}
