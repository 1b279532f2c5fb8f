/*
 * Tile preparation on top of libvips: decode with shrink-on-load, turn
 * upright, colour-manage to sRGB, flatten, crop, scale, and convert to
 * the Y'CbCr planes the compositors use.
 */
#include "tiles.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>
#include <vips/vector.h>

#include "color.h"
#include "resample.h"

/* ---------------------------------------------------------------- */
/* Start-up                                                           */

/*
 * Fixed-point versions of gv_rgb_to_yuv(): one table per output and
 * input channel, so a pixel costs three loads and two adds per output.
 * Each entry carries FIX_BITS fraction bits and is off by at most half a
 * unit, so a sum is within 1.5 units of the exact value. A sum whose
 * fraction lies farther than FIX_GUARD units from one half therefore
 * rounds as the exact value (and gv_rgb_to_yuv's double) would; the few
 * closer to a tie go through gv_rgb_to_yuv itself, which keeps the two
 * identical without trusting either side's last bit.
 */
#define FIX_BITS 20
#define FIX_ONE (1 << FIX_BITS)
#define FIX_HALF (1 << (FIX_BITS - 1))
#define FIX_GUARD 4

/* BT.709, as color.c uses them. */
#define KR 0.2126
#define KB 0.0722
#define KG (1.0 - KR - KB)

typedef struct YuvTables {
    int32_t y[3][256], u[3][256], v[3][256];
    int usable; /* 0: the self-check failed, use gv_rgb_to_yuv for everything */
} YuvTables;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;
static YuvTables yuv_tab; /* written once under init_once, read-only after */

static int32_t fix(const double v)
{
    return (int32_t)lround(v * FIX_ONE);
}

static int round_fix(const int32_t sum, int *exact)
{
    const int32_t frac = sum & (FIX_ONE - 1);
    if (abs(frac - FIX_HALF) <= FIX_GUARD)
        *exact = 0;
    return (sum + FIX_HALF) >> FIX_BITS;
}

/* Returns 0 when the tables could not decide, and the caller asks color.c. */
static int rgb_to_yuv_fast(const uint8_t r, const uint8_t g, const uint8_t b, uint8_t *const y,
                           uint8_t *const u, uint8_t *const v)
{
    const YuvTables *const t = &yuv_tab;
    int exact = 1;
    const int yy = round_fix(t->y[0][r] + t->y[1][g] + t->y[2][b], &exact);
    const int uu = round_fix(t->u[0][r] + t->u[1][g] + t->u[2][b], &exact);
    const int vv = round_fix(t->v[0][r] + t->v[1][g] + t->v[2][b], &exact);
    *y = (uint8_t)yy;
    *u = (uint8_t)uu;
    *v = (uint8_t)vv;
    return exact;
}

static void rgb_to_yuv(const uint8_t r, const uint8_t g, const uint8_t b, uint8_t *const y,
                       uint8_t *const u, uint8_t *const v)
{
    if (!yuv_tab.usable || !rgb_to_yuv_fast(r, g, b, y, u, v))
        gv_rgb_to_yuv(r, g, b, y, u, v);
}

static void init_yuv_tables(void)
{
    YuvTables *const t = &yuv_tab;
    const double su = 224.0 / (2.0 * (1.0 - KB)), sv = 224.0 / (2.0 * (1.0 - KR));
    const double ky[3] = { KR, KG, KB };
    const double ku[3] = { -KR, -KG, 1.0 - KB };
    const double kv[3] = { 1.0 - KR, -KG, -KB };
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < 256; i++) {
            const double x = i / 255.0;
            t->y[c][i] = fix((c == 0 ? 16.0 : 0.0) + 219.0 * ky[c] * x);
            t->u[c][i] = fix((c == 0 ? 128.0 : 0.0) + su * ku[c] * x);
            t->v[c][i] = fix((c == 0 ? 128.0 : 0.0) + sv * kv[c] * x);
        }
    }
    /*
     * The tables copy color.c's formula; should that formula ever change
     * without them, this catches it and every pixel takes the slow path.
     * The exhaustive comparison over all 2^24 colours is left to tests.
     */
    t->usable = 1;
    uint32_t seed = 1;
    for (int i = 0; i < 3 * 256 + 65536 && t->usable; i++) {
        uint8_t rgb[3];
        if (i < 3 * 256) {
            rgb[0] = rgb[1] = rgb[2] = 0;
            rgb[i / 256] = (uint8_t)i;
        } else {
            seed = seed * 1664525u + 1013904223u;
            rgb[0] = (uint8_t)(seed >> 8);
            rgb[1] = (uint8_t)(seed >> 16);
            rgb[2] = (uint8_t)(seed >> 24);
        }
        uint8_t a[3], e[3];
        gv_rgb_to_yuv(rgb[0], rgb[1], rgb[2], &e[0], &e[1], &e[2]);
        if (rgb_to_yuv_fast(rgb[0], rgb[1], rgb[2], &a[0], &a[1], &a[2]) && memcmp(a, e, 3))
            t->usable = 0;
    }
}

/* Warnings from loaders ("premature end of JPEG file", "bad profile")
 * would reach stderr from worker threads; what matters is reported
 * through the return value and the reason text instead. */
static void drop_vips_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                          gpointer opaque)
{
    (void)domain;
    (void)level;
    (void)msg;
    (void)opaque;
}

static void init_vips(void)
{
    init_yuv_tables();
    if (VIPS_INIT("gridvid")) {
        vips_error_clear();
        init_result = GV_ERR_DECODE;
        return;
    }
    /*
     * gridvid decodes many images at once on its own worker threads, one
     * image each; vips' own thread pools on top of that would
     * oversubscribe the cores and multiply the buffers in flight, so each
     * vips pipeline runs on one thread.
     */
    vips_concurrency_set(1);
    /*
     * Every image is opened and prepared once. The operation cache would
     * keep recent operations, and with them references to decoded
     * images, alive for nothing but memory.
     */
    vips_cache_set_max(0);
    /*
     * liborc, which libvips uses to compile some pixel loops at run time,
     * races when several threads compile at once (a SEGV in
     * orc_code_allocate_codemem, seen here under AddressSanitizer, and
     * libvips#1211). gridvid builds pipelines on many threads at once; the
     * tile path (shrink-on-load, Lanczos reduce) measured the same speed
     * without it (vipsthumbnail of 12 MP JPEGs: 1.03 s and 1.05 s).
     */
    vips_vector_set_enabled(FALSE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, drop_vips_log, NULL);
}

int gv_tiles_init(void)
{
    pthread_once(&init_once, init_vips);
    return init_result;
}

/* ---------------------------------------------------------------- */
/* Reasons                                                            */

static void set_reason(char *const reason, const size_t len, const char *const fmt, ...)
    GV_PRINTF(3, 4);

static void set_reason(char *const reason, const size_t len, const char *const fmt, ...)
{
    if (!reason || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, len, fmt, ap);
    va_end(ap);
}

/*
 * Takes (and clears) vips' error buffer and reports its first line after
 * what. The buffer is process-wide: when two threads fail at the same
 * moment a message may land with the other image, but every failure is
 * still reported as one.
 */
static int vips_fail(char *const reason, const size_t len, const char *const what)
{
    char *const msg = vips_error_buffer_copy();
    const size_t n = msg ? strcspn(msg, "\n") : 0;
    if (n)
        set_reason(reason, len, "%s: %.*s", what, (int)n, msg);
    else
        set_reason(reason, len, "%s", what);
    g_free(msg);
    return GV_ERR_DECODE;
}

static void errno_reason(char *const reason, const size_t len, const char *const what,
                         const int err)
{
    char buf[128];
    if (strerror_r(err, buf, sizeof(buf)) != 0)
        snprintf(buf, sizeof(buf), "error %d", err);
    set_reason(reason, len, "%s: %s", what, buf);
}

/* ---------------------------------------------------------------- */
/* Where pixels come from                                             */

typedef enum SrcKind { SRC_FILE, SRC_BUFFER, SRC_IMAGE } SrcKind;

typedef struct Src {
    SrcKind kind;
    const char *path;
    const void *data;
    size_t len;
    VipsImage *image;
} Src;

/* vips reads "name[opts]" as a file name followed by load options, so a
 * file whose name ends in ']' is opened as a source instead. */
static int needs_source(const Src *const s)
{
    if (s->kind != SRC_FILE)
        return 0;
    const size_t n = strlen(s->path);
    return n && s->path[n - 1] == ']';
}

/*
 * Loaders gridvid does not hand untrusted bytes to. CSV and matrix files
 * are numeric text that vips picks by file name; the others are large
 * parsers for formats no photo wall is made of (documents, scientific and
 * medical data, slide scans, vips' own memory-mapped format, and
 * ImageMagick, which reads some two hundred formats) and the ones libvips
 * itself marks as unfit for untrusted input. What photos come as (JPEG,
 * PNG, WebP, HEIF/AVIF, TIFF, GIF, JPEG 2000, JPEG XL, PNM, SVG) stays.
 */
static int loader_is_image(const char *const name)
{
    static const char *const refused[] = {
        "VipsForeignLoadCsv",   "VipsForeignLoadMatrix",    "VipsForeignLoadMagick",
        "VipsForeignLoadPdf",   "VipsForeignLoadFits",      "VipsForeignLoadAnalyze",
        "VipsForeignLoadMat",   "VipsForeignLoadOpenslide", "VipsForeignLoadVips",
        "VipsForeignLoadRaw",   "VipsForeignLoadOpenexr",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (vips_isprefix(refused[i], name))
            return 0;
    return 1;
}

/* The loader's type name, or NULL when nothing can read it or its loader
 * is refused (*refused set then). */
static const char *find_loader(const Src *const s, int *const refused)
{
    *refused = 0;
    const char *name = NULL;
    if (needs_source(s)) {
        VipsSource *const vs = vips_source_new_from_file(s->path);
        if (vs) {
            name = vips_foreign_find_load_source(vs);
            g_object_unref(vs);
        }
    } else if (s->kind == SRC_FILE) {
        name = vips_foreign_find_load(s->path);
    } else {
        name = vips_foreign_find_load_buffer(s->data, s->len);
    }
    if (!name)
        vips_error_clear();
    if (name && !loader_is_image(name)) {
        *refused = 1;
        return NULL;
    }
    return name;
}

/*
 * fail_on "error" makes a truncated or corrupt file an error instead of
 * a picture with a grey or smeared part; "warning" would go further and
 * refuse the many harmless files libjpeg and libpng grumble about.
 * vips_thumbnail_buffer and _source in libvips 8.14 do not pass their
 * fail_on to the loader, hence the option string as well.
 */
#define FAIL_ON VIPS_FAIL_ON_ERROR
#define FAIL_ON_OPTION "fail_on=error"

/*
 * Opens the image lazily: only the header is read until something asks
 * for pixels. shrink > 1 asks the JPEG loader for a DCT-scaled decode.
 */
static VipsImage *open_image(const Src *const s, const int shrink)
{
    const VipsAccess seq = VIPS_ACCESS_SEQUENTIAL;
    if (needs_source(s)) {
        VipsSource *const vs = vips_source_new_from_file(s->path);
        if (!vs)
            return NULL;
        VipsImage *const im =
            shrink > 1 ? vips_image_new_from_source(vs, FAIL_ON_OPTION, "access", seq, "shrink",
                                                    shrink, NULL)
                       : vips_image_new_from_source(vs, FAIL_ON_OPTION, "access", seq, NULL);
        g_object_unref(vs);
        return im;
    }
    if (s->kind == SRC_FILE)
        return shrink > 1 ? vips_image_new_from_file(s->path, "access", seq, "fail_on", FAIL_ON,
                                                     "shrink", shrink, NULL)
                          : vips_image_new_from_file(s->path, "access", seq, "fail_on", FAIL_ON,
                                                     NULL);
    if (s->kind == SRC_BUFFER)
        return shrink > 1 ? vips_image_new_from_buffer(s->data, s->len, FAIL_ON_OPTION, "access",
                                                       seq, "shrink", shrink, NULL)
                          : vips_image_new_from_buffer(s->data, s->len, FAIL_ON_OPTION, "access",
                                                       seq, NULL);
    g_object_ref(s->image);
    return s->image;
}

typedef struct ThumbOpts {
    int w, h;
    VipsSize size;
    VipsInteresting crop;
} ThumbOpts;

#define THUMB_ARGS(o)                                                                     \
    (o)->w, "height", (o)->h, "size", (o)->size, "crop", (o)->crop, "fail_on", FAIL_ON

static int thumbnail(const Src *const s, const ThumbOpts *const o, VipsImage **const out)
{
    if (needs_source(s)) {
        VipsSource *const vs = vips_source_new_from_file(s->path);
        if (!vs)
            return -1;
        const int ret =
            vips_thumbnail_source(vs, out, THUMB_ARGS(o), "option_string", FAIL_ON_OPTION, NULL);
        g_object_unref(vs);
        return ret;
    }
    switch (s->kind) {
    case SRC_FILE:
        return vips_thumbnail(s->path, out, THUMB_ARGS(o), NULL);
    case SRC_BUFFER:
        /* vips only reads the buffer; its prototype lacks the const. */
        return vips_thumbnail_buffer((void *)(uintptr_t)s->data, s->len, out, THUMB_ARGS(o),
                                     "option_string", FAIL_ON_OPTION, NULL);
    case SRC_IMAGE:
    default:
        return vips_thumbnail_image(s->image, out, THUMB_ARGS(o), NULL);
    }
}

/* ---------------------------------------------------------------- */
/* Checks shared by probe and load                                    */

/* A regular, non-empty file; tail gets up to tail_len of its last bytes. */
static int check_file(const char *const path, uint8_t *const tail, size_t *const tail_len,
                      char *const reason, const size_t len)
{
    /* O_NONBLOCK: opening a FIFO must not hang the scan. */
    const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        errno_reason(reason, len, "cannot open", errno);
        return GV_ERR_DECODE;
    }
    int ret = GV_ERR_DECODE;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        errno_reason(reason, len, "cannot read", errno);
        goto end;
    }
    if (S_ISDIR(st.st_mode)) {
        set_reason(reason, len, "is a directory");
        goto end;
    }
    if (!S_ISREG(st.st_mode)) {
        set_reason(reason, len, "not a regular file");
        goto end;
    }
    if (st.st_size == 0) {
        set_reason(reason, len, "empty file");
        goto end;
    }
    if (tail) {
        const size_t want = (uint64_t)st.st_size < *tail_len ? (size_t)st.st_size : *tail_len;
        const ssize_t got = pread(fd, tail, want, st.st_size - (off_t)want);
        if (got < 0) {
            errno_reason(reason, len, "cannot read", errno);
            goto end;
        }
        *tail_len = (size_t)got;
    }
    ret = 0;
end:
    close(fd);
    return ret;
}

static int has_bytes(const uint8_t *const hay, const size_t n, const char *const needle,
                     const size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m))
            return 1;
    return 0;
}

/*
 * The width and height a PNM header (P1 to P6, PF, Pf) states, read the
 * way libvips 8.14 reads them: whitespace and '#' comments between tokens
 * (a comment right after another's line being the token), each
 * token taken as atoi() takes it (digits after an optional sign, the rest
 * ignored, no digits being 0). Magnitudes are capped at 2^31. Returns -1
 * when the bytes end before both.
 */
static int pnm_size(const uint8_t *const p, const size_t n, int64_t dim[2])
{
    size_t i = 2;
    for (int k = 0; k < 2; k++) {
        for (;;) {
            while (i < n && (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r')))
                i++;
            if (i < n && p[i] == '#') {
                while (i < n && p[i] != '\n')
                    i++;
                /* libvips takes a comment straight after the line of
                 * another for the number itself ("#b" reads as 0) */
                if (i + 1 < n && p[i + 1] == '#') {
                    i++;
                    break;
                }
                continue;
            }
            break;
        }
        if (i >= n)
            return -1;
        const size_t start = i;
        while (i < n && p[i] != ' ' && !(p[i] >= '\t' && p[i] <= '\r'))
            i++;
        if (i == n)
            return -1; /* the token may go on past what was read */
        size_t j = start;
        const int neg = p[j] == '-';
        j += p[j] == '-' || p[j] == '+';
        int64_t v = 0;
        for (; j < i && p[j] >= '0' && p[j] <= '9'; j++)
            v = v < (INT64_C(1) << 31) ? v * 10 + (p[j] - '0') : v;
        dim[k] = neg ? -v : v;
    }
    return 0;
}

/*
 * libvips' PNM loader takes a width or height out of its range as 1 (with
 * a GLib warning on stderr), and one past 2^31 as whatever atoi() makes of
 * it, so a header claiming 99999999x99999999 would pass as a 1x1 picture.
 * The header's own numbers decide, before libvips reads it (which also
 * keeps a header cut short from reaching it). Returns 0 when they are fine.
 */
static int check_pnm(const Src *const s, const GvTileSpec *const spec, char *const reason,
                     const size_t len)
{
    /* Real headers take a few dozen bytes; comments may make them longer. */
    uint8_t head[4096];
    const uint8_t *p = s->data;
    size_t n = s->len < sizeof(head) ? s->len : sizeof(head);
    if (s->kind == SRC_FILE) {
        const int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            return 0;
        const ssize_t got = pread(fd, head, sizeof(head), 0);
        close(fd);
        p = head;
        n = got > 0 ? (size_t)got : 0;
    }
    int64_t dim[2];
    if (pnm_size(p, n, dim) < 0) {
        if (n < sizeof(head))
            set_reason(reason, len, "truncated");
        else
            set_reason(reason, len, "PNM header longer than %zu bytes", sizeof(head));
        return GV_ERR_DECODE;
    }
    if (dim[0] <= 0 || dim[1] <= 0)
        set_reason(reason, len, "%" PRId64 "x%" PRId64 " has no pixels", dim[0], dim[1]);
    else if (dim[0] > VIPS_MAX_COORD || dim[1] > VIPS_MAX_COORD)
        set_reason(reason, len, "%" PRId64 "x%" PRId64 " is over %d pixels a side", dim[0],
                   dim[1], VIPS_MAX_COORD);
    else if (spec->max_pixels && (uint64_t)(dim[0] * dim[1]) > spec->max_pixels)
        set_reason(reason, len, "%" PRId64 "x%" PRId64 " is over the %" PRIu64 "-pixel limit",
                   dim[0], dim[1], spec->max_pixels);
    else
        return 0;
    return GV_ERR_DECODE;
}

/* Opens the header and applies the pixel limit; returns the header image. */
static int open_checked(const Src *const s, const GvTileSpec *const spec, VipsImage **const out,
                        const char **const loader, char *const reason, const size_t len)
{
    *out = NULL;
    int refused = 0;
    const char *const name = s->kind == SRC_IMAGE ? "image" : find_loader(s, &refused);
    if (!name) {
        set_reason(reason, len, refused ? "not a photo format gridvid reads" : "not an image");
        return GV_ERR_DECODE;
    }
    if (loader)
        *loader = name;
    int ret;
    if (vips_isprefix("VipsForeignLoadPpm", name) && (ret = check_pnm(s, spec, reason, len)) < 0)
        return ret;
    VipsImage *const hdr = open_image(s, 1);
    if (!hdr)
        return vips_fail(reason, len, "truncated or corrupt");
    const uint64_t pixels = (uint64_t)hdr->Xsize * (uint64_t)hdr->Ysize;
    if (spec->max_pixels && pixels > spec->max_pixels) {
        set_reason(reason, len, "%dx%d is over the %" PRIu64 "-pixel limit", hdr->Xsize,
                   hdr->Ysize, spec->max_pixels);
        g_object_unref(hdr);
        return GV_ERR_DECODE;
    }
    *out = hdr;
    return 0;
}

static int spec_ok(const GvTileSpec *const spec)
{
    return spec && spec->w > 0 && spec->h > 0 && spec->w <= VIPS_MAX_COORD &&
           spec->h <= VIPS_MAX_COORD;
}

int gv_tile_probe(const char *const path, const GvTileSpec *const spec, char *const reason,
                  const size_t reason_len, int *const gpu_candidate)
{
    if (gpu_candidate)
        *gpu_candidate = 0;
    if (!path || !spec_ok(spec))
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    uint8_t tail[32];
    size_t tail_len = sizeof(tail);
    if ((ret = check_file(path, tail, &tail_len, reason, reason_len)) < 0)
        return ret;

    const Src s = { .kind = SRC_FILE, .path = path };
    const char *loader = NULL;
    VipsImage *hdr;
    if ((ret = open_checked(&s, spec, &hdr, &loader, reason, reason_len)) < 0)
        return ret;
    const int jpeg = vips_isprefix("VipsForeignLoadJpeg", loader);
    if (gpu_candidate)
        *gpu_candidate = !jpeg && (uint64_t)hdr->Xsize * (uint64_t)hdr->Ysize >
                                      (uint64_t)spec->w * (uint64_t)spec->h;
    g_object_unref(hdr);

    /*
     * Decoding the whole file is what proves it complete; this only
     * catches the common case of a copy cut short, cheaply. Both formats
     * end in a marker (JPEG's EOI, PNG's IEND chunk), which some writers
     * follow with a little padding.
     */
    const int png = vips_isprefix("VipsForeignLoadPng", loader);
    if ((jpeg && !has_bytes(tail, tail_len, "\xff\xd9", 2)) ||
        (png && !has_bytes(tail, tail_len, "IEND", 4))) {
        set_reason(reason, reason_len, "truncated");
        return GV_ERR_DECODE;
    }
    return 0;
}

static int clampi(const int v, const int lo, const int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---------------------------------------------------------------- */
/* Preparing a tile                                                   */

/*
 * Which way smartcrop moves its window. vips' low and high apply to both
 * axes, so "top" on an image that is too wide (the window moves
 * sideways) must ask for the centre; that needs the upright size.
 */
static VipsInteresting pick_interesting(const GvCrop crop, const int iw, const int ih,
                                        const int tw, const int th)
{
    const int too_wide = (int64_t)iw * th > (int64_t)ih * tw;
    switch (crop) {
    case GV_CROP_TOP:
        return too_wide ? VIPS_INTERESTING_CENTRE : VIPS_INTERESTING_LOW;
    case GV_CROP_BOTTOM:
        return too_wide ? VIPS_INTERESTING_CENTRE : VIPS_INTERESTING_HIGH;
    case GV_CROP_LEFT:
        return too_wide ? VIPS_INTERESTING_LOW : VIPS_INTERESTING_CENTRE;
    case GV_CROP_RIGHT:
        return too_wide ? VIPS_INTERESTING_HIGH : VIPS_INTERESTING_CENTRE;
    case GV_CROP_ATTENTION:
        return VIPS_INTERESTING_ATTENTION;
    case GV_CROP_ENTROPY:
        return VIPS_INTERESTING_ENTROPY;
    case GV_CROP_CENTER:
    default:
        return VIPS_INTERESTING_CENTRE;
    }
}

/*
 * From whatever vips_thumbnail returns (grey, grey + alpha, RGBA,
 * 16-bit, an embedded profile still to apply) to 8-bit sRGB: 3 bands, or
 * 4 with alpha. t holds the temporaries.
 */
static int to_srgb8(VipsImage *in, const int apply_profile, VipsImage **const t,
                    VipsImage **const out)
{
    /*
     * The profile is applied to the small image, at a fraction of the
     * cost. Through lcms even an sRGB profile moves a few colours by one
     * step (0.6% with Ghostscript's), but guessing which profiles are
     * "really sRGB" is not worth being wrong about. A broken profile
     * leaves the pixels as they are (taken as sRGB), like a browser.
     */
    if (apply_profile && vips_image_get_typeof(in, VIPS_META_ICC_NAME)) {
        if (vips_icc_transform(in, &t[0], "srgb", "embedded", TRUE, "intent",
                               VIPS_INTENT_RELATIVE, NULL) == 0)
            in = t[0];
        else
            vips_error_clear();
    }
    if (!vips_colourspace_issupported(in)) {
        if (vips_copy(in, &t[1], "interpretation",
                      in->Bands < 3 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB, NULL))
            return -1;
        in = t[1];
    }
    if (in->Type != VIPS_INTERPRETATION_sRGB || in->Bands < 3) {
        if (vips_colourspace(in, &t[2], VIPS_INTERPRETATION_sRGB, NULL))
            return -1;
        in = t[2];
    }
    const int bands = vips_image_hasalpha(in) ? 4 : 3;
    if (in->Bands > bands) {
        if (vips_extract_band(in, &t[3], 0, "n", bands, NULL))
            return -1;
        in = t[3];
    }
    if (in->BandFmt != VIPS_FORMAT_UCHAR) {
        const double s = in->BandFmt == VIPS_FORMAT_USHORT ? 1.0 / 257.0 : 1.0;
        if (vips_linear1(in, &t[4], s, 0.0, "uchar", TRUE, NULL))
            return -1;
        in = t[4];
    }
    *out = in;
    return 0;
}

/*
 * Alpha over the background. vips_flatten truncates on integer pixels;
 * in float it is exact, and the +0.5 before the truncating cast rounds
 * to the nearest (the quotient by 255, an odd number, never ends in one
 * half), so a flat colour comes out as exact as the SPEC's formula.
 */
static int flatten(VipsImage *const in, const uint8_t bg[3], VipsImage **const t,
                   VipsImage **const out)
{
    VipsArrayDouble *const b = vips_array_double_newv(3, (double)bg[0], (double)bg[1],
                                                      (double)bg[2]);
    const int r = vips_cast(in, &t[0], VIPS_FORMAT_FLOAT, NULL) ||
                  vips_flatten(t[0], &t[1], "background", b, "max_alpha", 255.0, NULL) ||
                  vips_linear1(t[1], &t[2], 1.0, 0.5, "uchar", TRUE, NULL);
    vips_area_unref(VIPS_AREA(b));
    if (r)
        return -1;
    *out = t[2];
    return 0;
}

static void rgb_to_tile(const uint8_t *const rgb, GvTile *const t)
{
    const size_t n = (size_t)t->w * (size_t)t->h;
    for (size_t i = 0; i < n; i++)
        rgb_to_yuv(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], &t->y[i], &t->u[i], &t->v[i]);
}

/* Slots for the temporaries of prepare(); to_srgb8 takes 5, flatten 3. */
enum {
    T_HDR,
    T_LOAD,
    T_ICC,
    T_PRE,
    T_PRE_FLAT = T_PRE + 5,
    T_THUMB = T_PRE_FLAT + 3,
    T_CONV,
    T_FLAT = T_CONV + 5,
    T_MEM = T_FLAT + 3,
    T_CROP,
    T_ROT,
    N_TEMP
};

/*
 * Whether the GPU scales this image: a scaler is open, the source cannot
 * shrink while it decodes (everything but JPEG), the crop is a fixed
 * window (attention and entropy look at the scaled image), and the image
 * has at least GV_GPU_SCALE_MIN_RATIO times the tile's pixels. Sources
 * that vips_thumbnail would colour-convert or narrow on the small image
 * (an embedded profile, 16 bits) stay on the CPU unless they are decoded
 * at full size anyway (alpha, WebP).
 */
static int gpu_scale_wanted(const GvTileSpec *const spec, const VipsImage *const hdr,
                            const char *const loader, const int cmyk, const int decode_first,
                            const int enlarge, const int iw, const int ih)
{
    if (!spec->scaler || cmyk || enlarge || vips_isprefix("VipsForeignLoadJpeg", loader))
        return 0;
    if (spec->crop == GV_CROP_ATTENTION || spec->crop == GV_CROP_ENTROPY)
        return 0;
    if (!decode_first && (vips_image_get_typeof((VipsImage *)hdr, VIPS_META_ICC_NAME) ||
                          hdr->BandFmt != VIPS_FORMAT_UCHAR))
        return 0;
    return (double)iw * ih >= spec->gpu_min_ratio * (double)spec->w * spec->h;
}

/* The largest window of the tile's aspect ratio in an iw x ih image, rounded. */
static void crop_window(const int iw, const int ih, const GvTileSpec *const spec, int *const cw,
                        int *const ch)
{
    int w = iw, h = ih;
    if ((int64_t)w * spec->h > (int64_t)h * spec->w)
        w = (int)(((int64_t)h * spec->w * 2 + spec->h) / (2 * (int64_t)spec->h));
    else
        h = (int)(((int64_t)w * spec->h * 2 + spec->w) / (2 * (int64_t)spec->w));
    *cw = clampi(w, 1, iw);
    *ch = clampi(h, 1, ih);
}

/*
 * The GPU path: decode at full size, turn upright, convert to 8-bit sRGB
 * (alpha kept), cut the crop window, and let the scaler flatten and
 * resample it. Should the scaler refuse, gv_resample() does the same on
 * the CPU from the pixels already decoded.
 */
static int prepare_gpu(const Src *const s, const GvTileSpec *const spec, VipsImage **const t,
                       GvTile **const out, char *const reason, const size_t len)
{
    VipsImage *img;
    if (!(t[T_LOAD] = open_image(s, 1)) || vips_autorot(t[T_LOAD], &t[T_ROT], NULL) ||
        to_srgb8(t[T_ROT], 1, &t[T_PRE], &img))
        return vips_fail(reason, len, "truncated or corrupt");
    int cw, ch;
    crop_window(img->Xsize, img->Ysize, spec, &cw, &ch);
    const VipsInteresting it =
        pick_interesting(spec->crop, img->Xsize, img->Ysize, spec->w, spec->h);
    if (vips_smartcrop(img, &t[T_CROP], cw, ch, "interesting", it, NULL))
        return vips_fail(reason, len, "truncated or corrupt");
    img = t[T_CROP];
    const int bands = img->Bands;
    size_t size;
    uint8_t *const pixels = vips_image_write_to_memory(img, &size);
    if (!pixels)
        return vips_fail(reason, len, "truncated or corrupt");
    int ret = 0;
    uint8_t *rgb = NULL;
    GvTile *tile = NULL;
    if ((bands != 3 && bands != 4) || size != (size_t)cw * (size_t)ch * (size_t)bands) {
        set_reason(reason, len, "unexpected pixel layout");
        ret = GV_ERR_DECODE;
        goto end;
    }
    if (!(rgb = malloc((size_t)spec->w * (size_t)spec->h * 3)) ||
        !(tile = gv_tile_alloc(spec->w, spec->h))) {
        ret = -ENOMEM;
        goto end;
    }
    if (gv_scaler_run(spec->scaler, pixels, cw, ch, bands, spec->background, rgb, spec->w,
                      spec->h) < 0 &&
        (ret = gv_resample(pixels, cw, ch, bands, spec->background, rgb, spec->w, spec->h)) < 0)
        goto end;
    rgb_to_tile(rgb, tile);
    *out = tile;
    tile = NULL;
end:
    g_free(pixels);
    free(rgb);
    gv_tile_free(&tile);
    return ret;
}

static int prepare(const Src *const s, const GvTileSpec *const spec, GvTile **const out,
                   char *const reason, const size_t len)
{
    *out = NULL;
    if (!spec_ok(spec))
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;

    /* Owns every temporary: one unref on the way out releases them all. */
    VipsObject *const scope = VIPS_OBJECT(vips_image_new());
    VipsImage **const t = (VipsImage **)vips_object_local_array(scope, N_TEMP);
    uint8_t *pixels = NULL, *sized = NULL;
    GvTile *tile = NULL;

    const char *loader = NULL;
    if ((ret = open_checked(s, spec, &t[T_HDR], &loader, reason, len)) < 0)
        goto end;
    const VipsImage *const hdr = t[T_HDR];
    const int swap = vips_image_get_orientation_swap(t[T_HDR]);
    const int iw = swap ? hdr->Ysize : hdr->Xsize, ih = swap ? hdr->Xsize : hdr->Ysize;
    const int cmyk = hdr->Type == VIPS_INTERPRETATION_CMYK;
    const int decode_first = !cmyk && (vips_image_hasalpha(t[T_HDR]) ||
                                       vips_isprefix("VipsForeignLoadWebp", loader));
    /* Scaling up is left to gv_resample(): vips_resize enlarges with a
     * bicubic, which is below the Lanczos-3 promised. */
    const int enlarge = iw < spec->w || ih < spec->h;
    const int gpu = gpu_scale_wanted(spec, hdr, loader, cmyk, decode_first, enlarge, iw, ih);
    g_object_unref(t[T_HDR]);
    t[T_HDR] = NULL;
    if (gpu) {
        ret = prepare_gpu(s, spec, t, out, reason, len);
        goto end;
    }

    ThumbOpts o = {
        .w = spec->w,
        .h = spec->h,
        .size = VIPS_SIZE_BOTH,
        .crop = pick_interesting(spec->crop, iw, ih, spec->w, spec->h),
    };
    if (enlarge) {
        /* Only decoded, turned and converted; crop and scale follow. */
        o.w = o.h = VIPS_MAX_COORD;
        o.size = VIPS_SIZE_DOWN;
        o.crop = VIPS_INTERESTING_NONE;
    }
    Src from = *s;
    if (cmyk) {
        /*
         * vips_thumbnail turns CMYK into sRGB through its built-in
         * profile, whatever the file embeds (its linear mode would honour
         * it, but decodes at full size in float). So CMYK is decoded here,
         * DCT-scaled like vips_thumbnail would, converted through the
         * embedded profile (the built-in one when there is none) and
         * handed over as sRGB.
         */
        const double common = enlarge ? 1.0 : fmin((double)iw / spec->w, (double)ih / spec->h);
        const int shrink = !vips_isprefix("VipsForeignLoadJpeg", loader) ? 1
                           : common >= 16.0                             ? 8
                           : common >= 8.0                              ? 4
                           : common >= 4.0                              ? 2
                                                                        : 1;
        if (!(t[T_LOAD] = open_image(s, shrink)) ||
            vips_icc_transform(t[T_LOAD], &t[T_ICC], "srgb", "embedded", TRUE, "input_profile",
                               "cmyk", "intent", VIPS_INTENT_RELATIVE, NULL)) {
            ret = vips_fail(reason, len, "truncated or corrupt");
            goto end;
        }
        from = (Src){ .kind = SRC_IMAGE, .image = t[T_ICC] };
    } else if (decode_first) {
        /*
         * Flattening before the resize is the SPEC's order and keeps a
         * flat translucent colour exact; vips_thumbnail would premultiply,
         * shrink and unpremultiply, which moves it by one here and there.
         * libwebp's decode-time rescaler is not exact on flat colours
         * either, and saves little: WebP is decoded at full size anyway.
         */
        VipsImage *pre;
        if (!(t[T_LOAD] = open_image(s, 1)) || to_srgb8(t[T_LOAD], 1, &t[T_PRE], &pre) ||
            (pre->Bands == 4 && flatten(pre, spec->background, &t[T_PRE_FLAT], &pre))) {
            ret = vips_fail(reason, len, "truncated or corrupt");
            goto end;
        }
        from = (Src){ .kind = SRC_IMAGE, .image = pre };
    }
    VipsImage *img;
    if (thumbnail(&from, &o, &t[T_THUMB]) ||
        to_srgb8(t[T_THUMB], !cmyk && !decode_first, &t[T_CONV], &img) ||
        (img->Bands == 4 && flatten(img, spec->background, &t[T_FLAT], &img))) {
        ret = vips_fail(reason, len, "truncated or corrupt");
        goto end;
    }
    if (enlarge) {
        int cw, ch;
        crop_window(img->Xsize, img->Ysize, spec, &cw, &ch);
        const VipsInteresting it =
            pick_interesting(spec->crop, img->Xsize, img->Ysize, spec->w, spec->h);
        if (!(t[T_MEM] = vips_image_copy_memory(img)) ||
            vips_smartcrop(t[T_MEM], &t[T_CROP], cw, ch, "interesting", it, NULL)) {
            ret = vips_fail(reason, len, "truncated or corrupt");
            goto end;
        }
        img = t[T_CROP];
    }

    /* Everything above is lazy: this is where the file is decoded. */
    size_t size;
    if (!(pixels = vips_image_write_to_memory(img, &size))) {
        ret = vips_fail(reason, len, "truncated or corrupt");
        goto end;
    }
    const int sw = img->Xsize, sh = img->Ysize;
    if (size != (size_t)sw * (size_t)sh * 3) {
        set_reason(reason, len, "unexpected pixel layout");
        ret = GV_ERR_DECODE;
        goto end;
    }
    if (!(tile = gv_tile_alloc(spec->w, spec->h))) {
        ret = -ENOMEM;
        goto end;
    }
    /* vips_thumbnail can miss the target by a pixel where the scale
     * rounds down; the stretch that fixes it is invisible. */
    const uint8_t *rgb = pixels;
    if (sw != spec->w || sh != spec->h) {
        if (!(sized = malloc((size_t)spec->w * (size_t)spec->h * 3))) {
            ret = -ENOMEM;
            goto end;
        }
        if ((ret = gv_resample(pixels, sw, sh, 3, NULL, sized, spec->w, spec->h)) < 0)
            goto end;
        rgb = sized;
    }
    rgb_to_tile(rgb, tile);
    *out = tile;
    tile = NULL;
    ret = 0;
end:
    g_object_unref(scope);
    g_free(pixels);
    free(sized);
    gv_tile_free(&tile);
    return ret;
}

int gv_tile_load(const char *const path, const GvTileSpec *const spec, GvTile **const out,
                 char *const reason, const size_t reason_len)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!path)
        return -EINVAL;
    const int ret = check_file(path, NULL, NULL, reason, reason_len);
    if (ret < 0)
        return ret;
    const Src s = { .kind = SRC_FILE, .path = path };
    return prepare(&s, spec, out, reason, reason_len);
}

int gv_tile_load_buffer(const void *const data, const size_t len, const GvTileSpec *const spec,
                        GvTile **const out, char *const reason, const size_t reason_len)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!data && len)
        return -EINVAL;
    if (!len) {
        set_reason(reason, reason_len, "empty file");
        return GV_ERR_DECODE;
    }
    const Src s = { .kind = SRC_BUFFER, .data = data, .len = len };
    return prepare(&s, spec, out, reason, reason_len);
}

/* ---------------------------------------------------------------- */
/* Demo images                                                        */

static void hsv_to_rgb(double h, const double s, const double v, double *const rgb)
{
    h = (h - floor(h)) * 6.0;
    const int i = (int)h % 6;
    const double f = h - floor(h);
    const double p = v * (1.0 - s), q = v * (1.0 - s * f), r = v * (1.0 - s * (1.0 - f));
    const double c[6][3] = {
        { v, r, p }, { q, v, p }, { p, v, r }, { p, q, v }, { r, p, v }, { v, p, q },
    };
    memcpy(rgb, c[i], sizeof(c[i]));
}

static double smoothstep(const double e0, const double e1, const double x)
{
    const double t = x <= e0 ? 0.0 : x >= e1 ? 1.0 : (x - e0) / (e1 - e0);
    return t * t * (3.0 - 2.0 * t);
}

static uint32_t next_rand(uint32_t *const state)
{
    /* xorshift32: enough to scatter circles, the same everywhere. */
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static double rand01(uint32_t *const state)
{
    return (next_rand(state) >> 8) / 16777216.0;
}

/* Max-blends an anti-aliased capsule from (x0,y0) to (x1,y1) into mask. */
static void draw_capsule(uint8_t *const mask, const int w, const int h, const double x0,
                         const double y0, const double x1, const double y1, const double r)
{
    const double dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
    const int xa = clampi((int)floor(fmin(x0, x1) - r - 1), 0, w - 1);
    const int xb = clampi((int)ceil(fmax(x0, x1) + r + 1), 0, w - 1);
    const int ya = clampi((int)floor(fmin(y0, y1) - r - 1), 0, h - 1);
    const int yb = clampi((int)ceil(fmax(y0, y1) + r + 1), 0, h - 1);
    for (int y = ya; y <= yb; y++) {
        for (int x = xa; x <= xb; x++) {
            const double px = x + 0.5 - x0, py = y + 0.5 - y0;
            double u = l2 > 0.0 ? (px * dx + py * dy) / l2 : 0.0;
            u = u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
            const double ex = px - u * dx, ey = py - u * dy;
            const double cover = r - sqrt(ex * ex + ey * ey) + 0.5;
            const int a = cover <= 0.0 ? 0 : cover >= 1.0 ? 255 : (int)lrint(cover * 255.0);
            uint8_t *const m = &mask[(size_t)y * w + x];
            if (a > *m)
                *m = (uint8_t)a;
        }
    }
}

/*
 * Digits are drawn with a small stroke font of lines and elliptic arcs
 * rather than vips_text: pango without any font installed (a bare
 * container, where --demo matters most) lays out garbage and can crash,
 * and this way the picture is the same on every machine.
 */
typedef struct Pen {
    uint8_t *mask;
    int w, h;
    double x0, y0, size, r; /* glyph origin, glyph height, stroke radius */
    double x, y;
    int down;
} Pen;

static void pen_up(Pen *const p)
{
    p->down = 0;
}

/* Glyph coordinates: x from 0 to 0.6, y from 0 (top) to 1. */
static void pen_to(Pen *const p, const double gx, const double gy)
{
    const double x = p->x0 + gx * p->size, y = p->y0 + gy * p->size;
    if (p->down)
        draw_capsule(p->mask, p->w, p->h, p->x, p->y, x, y, p->r);
    p->x = x;
    p->y = y;
    p->down = 1;
}

/* Degrees counter-clockwise from three o'clock, from a0 to a1. */
static void pen_arc(Pen *const p, const double cx, const double cy, const double rx,
                    const double ry, const double a0, const double a1)
{
    const int steps = (int)ceil(fabs(a1 - a0) / 10.0);
    for (int i = 0; i <= steps; i++) {
        const double a = (a0 + (a1 - a0) * i / steps) * M_PI / 180.0;
        pen_to(p, cx + rx * cos(a), cy - ry * sin(a));
    }
}

static void draw_digit(Pen *const p, const int d)
{
    pen_up(p);
    switch (d) {
    case 0:
        pen_arc(p, 0.3, 0.5, 0.3, 0.5, 0.0, 360.0);
        break;
    case 1:
        pen_to(p, 0.08, 0.2);
        pen_to(p, 0.36, 0.0);
        pen_to(p, 0.36, 1.0);
        break;
    case 2:
        pen_arc(p, 0.3, 0.28, 0.3, 0.28, 160.0, -35.0);
        pen_to(p, 0.0, 1.0);
        pen_to(p, 0.6, 1.0);
        break;
    case 3:
        pen_arc(p, 0.3, 0.25, 0.27, 0.25, 150.0, -90.0);
        pen_arc(p, 0.3, 0.74, 0.3, 0.26, 90.0, -150.0);
        break;
    case 4:
        pen_to(p, 0.46, 1.0);
        pen_to(p, 0.46, 0.0);
        pen_to(p, 0.0, 0.68);
        pen_to(p, 0.6, 0.68);
        break;
    case 5:
        pen_to(p, 0.56, 0.0);
        pen_to(p, 0.1, 0.0);
        pen_to(p, 0.06, 0.45);
        pen_arc(p, 0.3, 0.69, 0.3, 0.31, 135.0, -145.0);
        break;
    case 6:
        pen_arc(p, 0.3, 0.69, 0.3, 0.31, 0.0, 360.0);
        pen_up(p);
        pen_to(p, 0.5, 0.0);
        pen_to(p, 0.03, 0.6);
        break;
    case 7:
        pen_to(p, 0.0, 0.0);
        pen_to(p, 0.6, 0.0);
        pen_to(p, 0.18, 1.0);
        break;
    case 8:
        pen_arc(p, 0.3, 0.25, 0.25, 0.25, 0.0, 360.0);
        pen_up(p);
        pen_arc(p, 0.3, 0.73, 0.3, 0.27, 0.0, 360.0);
        break;
    case 9:
    default:
        pen_arc(p, 0.3, 0.31, 0.3, 0.31, 0.0, 360.0);
        pen_up(p);
        pen_to(p, 0.57, 0.4);
        pen_to(p, 0.1, 1.0);
        break;
    }
}

/* Draws the digits of text, centred, about 0.42 of the height tall. */
static void draw_number(uint8_t *const mask, const int w, const int h, const char *const text)
{
    const int n = (int)strlen(text);
    const double advance = 0.84; /* glyph width 0.6, then a gap, in glyph heights */
    double size = 0.42 * h;
    if (size * (advance * n - 0.24) > 0.8 * w)
        size = 0.8 * w / (advance * n - 0.24);
    Pen p = { mask, w, h, (w - size * (advance * n - 0.24)) / 2.0, (h - size) / 2.0, size,
              0.085 * size, 0.0, 0.0, 0 };
    for (int i = 0; i < n; i++, p.x0 += advance * size)
        draw_digit(&p, text[i] - '0');
}

/*
 * A soft diagonal gradient in a hue of its own (golden-ratio steps round
 * the colour wheel keep neighbours apart for any n), a few translucent
 * discs, and k + 1 in white with a shadow.
 */
static void paint_demo(uint8_t *const rgb, uint8_t *const mask, const int w, const int h,
                       const int k)
{
    const double hue = 0.58 + 0.6180339887498949 * k;
    double c0[3], c1[3];
    hsv_to_rgb(hue, 0.50, 0.98, c0);
    hsv_to_rgb(hue + 0.10, 0.85, 0.55, c1);

    enum { N_DISCS = 6 };
    double disc[N_DISCS][5]; /* x, y, radius, tone (0 dark, 1 light), opacity */
    uint32_t seed = 0x9e3779b9u ^ (uint32_t)k * 0x85ebca6bu;
    if (!seed)
        seed = 1;
    const double m = w < h ? w : h;
    for (int i = 0; i < N_DISCS; i++) {
        disc[i][0] = rand01(&seed) * w;
        disc[i][1] = rand01(&seed) * h;
        disc[i][2] = (0.12 + 0.3 * rand01(&seed)) * m;
        disc[i][3] = i & 1;
        disc[i][4] = 0.10 + 0.12 * rand01(&seed);
    }

    char text[16];
    snprintf(text, sizeof(text), "%d", k + 1);
    memset(mask, 0, (size_t)w * h);
    draw_number(mask, w, h, text);
    const int sh = (int)lrint(m / 80.0) + 1;

    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const double t = smoothstep(0.0, 1.0, ((double)x / w + (double)y / h) / 2.0);
            double p[3];
            for (int c = 0; c < 3; c++)
                p[c] = c0[c] + (c1[c] - c0[c]) * t;
            for (int i = 0; i < N_DISCS; i++) {
                const double dx = x + 0.5 - disc[i][0], dy = y + 0.5 - disc[i][1];
                const double d = sqrt(dx * dx + dy * dy);
                const double edge = smoothstep(disc[i][2] - 0.02 * m, disc[i][2], d);
                const double a = disc[i][4] * (1.0 - edge);
                for (int c = 0; c < 3; c++)
                    p[c] += (disc[i][3] - p[c]) * a;
            }
            const int sx = x - sh, sy = y - sh;
            const double shadow =
                sx >= 0 && sy >= 0 ? 0.35 * mask[(size_t)sy * w + sx] / 255.0 : 0.0;
            const double ink = mask[(size_t)y * w + x] / 255.0;
            uint8_t *const o = rgb + ((size_t)y * w + x) * 3;
            for (int c = 0; c < 3; c++) {
                const double v = (p[c] * (1.0 - shadow)) * (1.0 - ink) + ink;
                o[c] = (uint8_t)clampi((int)lrint(v * 255.0), 0, 255);
            }
        }
    }
}

int gv_tile_demo(const int k, const int n, const GvTileSpec *const spec, GvTile **const out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (k < 0 || n <= 0 || k >= n || !spec_ok(spec))
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    /* Drawn larger than the tile so it goes through the same downscale
     * as a photo would. */
    const int w = spec->w + (spec->w + 1) / 2, h = spec->h + (spec->h + 1) / 2;
    if (w > VIPS_MAX_COORD || h > VIPS_MAX_COORD || (size_t)w > SIZE_MAX / 4 / (size_t)h)
        return -ENOMEM;
    uint8_t *const rgb = malloc((size_t)w * h * 3);
    uint8_t *const mask = malloc((size_t)w * h);
    VipsImage *img = NULL, *typed = NULL;
    if (!rgb || !mask) {
        ret = -ENOMEM;
        goto end;
    }
    paint_demo(rgb, mask, w, h, k);
    ret = GV_ERR_DECODE;
    if (!(img = vips_image_new_from_memory(rgb, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR)) ||
        vips_copy(img, &typed, "interpretation", VIPS_INTERPRETATION_sRGB, NULL)) {
        vips_error_clear();
        goto end;
    }
    const Src s = { .kind = SRC_IMAGE, .image = typed };
    char reason[128];
    ret = prepare(&s, spec, out, reason, sizeof(reason));
end:
    if (typed)
        g_object_unref(typed);
    if (img)
        g_object_unref(img);
    free(rgb);
    free(mask);
    return ret;
}

/* ---------------------------------------------------------------- */
/* PNG output                                                         */

/* "dir/.name.tmp-XXXXXX" for "dir/name": beside it, so rename() is atomic. */
static char *temp_name(const char *const path)
{
    const char *const slash = strrchr(path, '/');
    const size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    const size_t n = strlen(path) + sizeof(".tmp-XXXXXX") + 1;
    char *const tmp = malloc(n);
    if (tmp)
        snprintf(tmp, n, "%.*s.%s.tmp-XXXXXX", (int)dir, path, path + dir);
    return tmp;
}

int gv_picture_write_png(const GvPicture *const pic, const char *const path, char *const reason,
                         const size_t reason_len)
{
    if (!pic || !path || pic->width <= 0 || pic->height <= 0 || pic->width > VIPS_MAX_COORD ||
        pic->height > VIPS_MAX_COORD)
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    const int w = pic->width, h = pic->height;
    if ((size_t)w > SIZE_MAX / 3 / (size_t)h)
        return -ENOMEM;
    uint8_t *const rgb = malloc((size_t)w * h * 3);
    char *const tmp = temp_name(path);
    VipsImage *img = NULL, *typed = NULL;
    void *png = NULL;
    size_t png_size = 0;
    int fd = -1, created = 0;
    if (!rgb || !tmp) {
        ret = -ENOMEM;
        goto end;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *const py = pic->data[0] + (size_t)y * pic->linesize[0];
        const uint8_t *const pu = pic->data[1] + (size_t)(y / 2) * pic->linesize[1];
        const uint8_t *const pv = pic->data[2] + (size_t)(y / 2) * pic->linesize[2];
        uint8_t *const o = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++)
            gv_yuv_to_rgb(py[x], pu[x / 2], pv[x / 2], &o[3 * x], &o[3 * x + 1], &o[3 * x + 2]);
    }

    ret = GV_ERR_IO;
    if ((fd = mkstemp(tmp)) < 0) {
        errno_reason(reason, reason_len, "cannot create a temporary file", errno);
        goto end;
    }
    created = 1;
    /* mkstemp makes it private (0600); a PNG is as readable as any file. */
    if (fchmod(fd, 0644) < 0) {
        errno_reason(reason, reason_len, "cannot set permissions", errno);
        goto end;
    }
    /* Low zlib effort: previews and frame sequences are written often,
     * and the default level costs several times the time for a few
     * percent of size. */
    if (!(img = vips_image_new_from_memory(rgb, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR)) ||
        vips_copy(img, &typed, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) ||
        vips_pngsave_buffer(typed, &png, &png_size, "compression", 1, NULL)) {
        vips_fail(reason, reason_len, "cannot write PNG");
        goto end;
    }
    /* Written here rather than through a vips target, whose error
     * ("write error") loses the cause: a full disk must say so. */
    for (size_t done = 0; done < png_size;) {
        const ssize_t n = write(fd, (const uint8_t *)png + done, png_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            errno_reason(reason, reason_len, "cannot write PNG", n < 0 ? errno : EIO);
            goto end;
        }
        done += (size_t)n;
    }
    /* On the disk before its name is: after a power failure the name
     * must not stand for an empty file. */
    if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
        errno_reason(reason, reason_len, "cannot write PNG", errno);
        goto end;
    }
    const int fdc = fd;
    fd = -1;
    /* Where writes are deferred (NFS, quotas), close reports the failure. */
    if (close(fdc) < 0) {
        errno_reason(reason, reason_len, "cannot write PNG", errno);
        goto end;
    }
    if (rename(tmp, path) < 0) {
        errno_reason(reason, reason_len, "cannot rename the temporary file", errno);
        goto end;
    }
    ret = 0;
end:
    g_free(png);
    if (fd >= 0)
        close(fd);
    if (ret < 0 && created)
        unlink(tmp);
    if (typed)
        g_object_unref(typed);
    if (img)
        g_object_unref(img);
    free(tmp);
    free(rgb);
    return ret;
}
