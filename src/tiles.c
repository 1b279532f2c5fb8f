/*
 * Tile preparation on top of libvips: decode with shrink-on-load, turn
 * upright, colour-manage to sRGB, flatten, crop, scale, and convert to
 * the Y'CbCr planes the compositors use. Also libvips' start-up and the
 * translation of its errors, which png.c shares.
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
#include "jpeginfo.h"
#include "resample.h"

/* ---------------------------------------------------------------- */
/* Start-up                                                           */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

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
 * The buffer is process-wide: when two threads fail at the same moment a
 * message may land with the other image, but every failure is still
 * reported as one.
 */
int gv_vips_reason(char *const reason, const size_t len, const char *const what)
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

void gv_errno_reason(char *const reason, const size_t len, const char *const what,
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

/*
 * Whether the file starts like a compressed archive (zip, gzip, compress,
 * pack, LZH). No photo format does; cfitsio, which libvips' FITS loader
 * asks whether a file is FITS, opens such a file by inflating all of it
 * into memory first, at the size its header claims: a 53-byte file
 * starting "PK" asked for 3.9 GB (found by fuzz_image).
 */
static int compressed_archive(const char *const path)
{
    uint8_t head[2];
    const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return 0;
    const ssize_t got = pread(fd, head, sizeof(head), 0);
    close(fd);
    return got == 2 && ((head[0] == 'P' && head[1] == 'K') ||
                        (head[0] == 0x1f && (head[1] == 0x8b || head[1] == 0x9d ||
                                             head[1] == 0x1e || head[1] == 0xa0)));
}

/* The loader's type name, or NULL when nothing can read it or its loader
 * is refused (*refused set then). */
static const char *find_loader(const Src *const s, int *const refused)
{
    *refused = 0;
    const char *name = NULL;
    if (s->kind == SRC_FILE && compressed_archive(s->path))
        return NULL;
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

/* A regular, non-empty file; head (when not NULL) gets up to head_len of
 * its first bytes, and tail up to tail_len of its last. */
static int check_file(const char *const path, uint8_t *const head, size_t *const head_len,
                      uint8_t *const tail, size_t *const tail_len, char *const reason,
                      const size_t len)
{
    /* O_NONBLOCK: opening a FIFO must not hang the scan. */
    const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        gv_errno_reason(reason, len, "cannot open", errno);
        return GV_ERR_DECODE;
    }
    int ret = GV_ERR_DECODE;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        gv_errno_reason(reason, len, "cannot read", errno);
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
    if (head) {
        const ssize_t got = pread(fd, head, *head_len, 0);
        if (got < 0) {
            gv_errno_reason(reason, len, "cannot read", errno);
            goto end;
        }
        *head_len = (size_t)got;
    }
    if (tail) {
        const size_t want = (uint64_t)st.st_size < *tail_len ? (size_t)st.st_size : *tail_len;
        const ssize_t got = pread(fd, tail, want, st.st_size - (off_t)want);
        if (got < 0) {
            gv_errno_reason(reason, len, "cannot read", errno);
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
 * The fewest bytes the pixels of a PNM of magic P<kind> and size dim can
 * take: one a sample for the ASCII kinds (a digit; P1 needs no space),
 * the packed size for the binary ones. 0 for kinds not checked.
 */
static uint64_t pnm_min_bytes(const uint8_t kind, const int64_t dim[2])
{
    const uint64_t w = (uint64_t)dim[0], h = (uint64_t)dim[1];
    switch (kind) {
    case '1':
    case '2':
    case '5':
        return w * h;
    case '3':
    case '6':
        return 3 * w * h;
    case '4':
        return (w + 7) / 8 * h;
    case 'f':
        return 4 * w * h;
    case 'F':
        return 12 * w * h;
    default:
        return 0;
    }
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
    uint64_t size = s->len;
    if (s->kind == SRC_FILE) {
        const int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            return 0;
        struct stat st;
        size = fstat(fd, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
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
    else if (size < pnm_min_bytes(p[1], dim))
        /* libvips would read the missing samples one failed read at a
         * time: tens of seconds for an 18-byte file claiming 38 MP */
        set_reason(reason, len, "truncated");
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
        return gv_vips_reason(reason, len, "truncated or corrupt");
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

int gv_tile_spec_ok(const GvTileSpec *const spec)
{
    return spec && spec->w > 0 && spec->h > 0 && spec->w <= VIPS_MAX_COORD &&
           spec->h <= VIPS_MAX_COORD;
}

/* The bytes of a JPEG header the quick probe reads: EXIF with its
 * thumbnail and an ICC profile fit in most; longer headers take libvips'. */
#define JPEG_HEAD_BYTES 65536

/*
 * A JPEG's header, from the file's first len bytes, read with gridvid's
 * own reader (jpeginfo.h) instead of libvips' loader search and header
 * load (the probe of 1000 photos: 0.7 CPU-seconds, was 1.9). Only a header that
 * libjpeg reads without complaint is taken (8-bit, baseline, extended or
 * progressive Huffman coding, every quantization table defined, within
 * libjpeg's 65500 pixels a side); anything else, or a header longer
 * than JPEG_HEAD_BYTES, returns -1 and goes to libvips, which says what
 * is wrong with it. Returns 0 and fills *info otherwise.
 */
static int quick_jpeg_header(const uint8_t *const head, const size_t len, GvJpegInfo *const info)
{
    const int ok = len > 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff &&
                   gv_jpeg_info(head, len, info) == 0 && info->precision == 8 &&
                   info->sof <= 2 && !info->qt_missing && info->width <= 65500 &&
                   info->height <= 65500;
    return ok ? 0 : -1;
}

int gv_tile_probe(const char *const path, const GvTileSpec *const spec, char *const reason,
                  const size_t reason_len, int *const gpu_candidate)
{
    if (gpu_candidate)
        *gpu_candidate = 0;
    if (!path || !gv_tile_spec_ok(spec))
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    /* the file's first bytes, for the quick JPEG header (without memory
     * for them, libvips reads the header), and its last */
    uint8_t *const head = malloc(JPEG_HEAD_BYTES);
    size_t head_len = head ? JPEG_HEAD_BYTES : 0;
    uint8_t tail[32];
    size_t tail_len = sizeof(tail);
    ret = check_file(path, head, &head_len, tail, &tail_len, reason, reason_len);
    GvJpegInfo info;
    const int quick = ret == 0 && head && quick_jpeg_header(head, head_len, &info) == 0;
    free(head);
    if (ret < 0)
        return ret;

    int jpeg, larger, animated = 0;
    const char *loader = NULL;
    if (quick) {
        const uint64_t pixels = (uint64_t)info.width * (uint64_t)info.height;
        if (spec->max_pixels && pixels > spec->max_pixels) {
            set_reason(reason, reason_len, "%dx%d is over the %" PRIu64 "-pixel limit",
                       info.width, info.height, spec->max_pixels);
            return GV_ERR_DECODE;
        }
        jpeg = 1;
        larger = pixels > (uint64_t)spec->w * (uint64_t)spec->h;
    } else {
        const Src s = { .kind = SRC_FILE, .path = path };
        VipsImage *hdr;
        if ((ret = open_checked(&s, spec, &hdr, &loader, reason, reason_len)) < 0)
            return ret;
        jpeg = vips_isprefix("VipsForeignLoadJpeg", loader);
        larger = (uint64_t)hdr->Xsize * (uint64_t)hdr->Ysize >
                 (uint64_t)spec->w * (uint64_t)spec->h;
        animated = (vips_isprefix("VipsForeignLoadGif", loader) ||
                    vips_isprefix("VipsForeignLoadNsgif", loader) ||
                    vips_isprefix("VipsForeignLoadWebp", loader)) &&
                   vips_image_get_n_pages(hdr) > 1;
        g_object_unref(hdr);
    }
    if (gpu_candidate)
        *gpu_candidate = (!jpeg && larger ? GV_PROBE_GPU_SCALE : 0) |
                         (jpeg && larger ? GV_PROBE_JPEG_ENGINE : 0) |
                         (animated ? GV_PROBE_ANIMATED : 0);

    /*
     * Decoding the whole file is what proves it complete; this only
     * catches the common case of a copy cut short, cheaply. Both formats
     * end in a marker (JPEG's EOI, PNG's IEND chunk), which some writers
     * follow with a little padding.
     */
    const int png = loader && vips_isprefix("VipsForeignLoadPng", loader);
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

static void crop_window(const int iw, const int ih, const GvTileSpec *const spec, int *const cw,
                        int *const ch);
static VipsInteresting pick_interesting(const GvCrop crop, const int iw, const int ih,
                                        const int tw, const int th);

int gv_tile_crop_rect(const int iw, const int ih, const GvTileSpec *const spec, int rect[4])
{
    if (spec->crop == GV_CROP_ATTENTION || spec->crop == GV_CROP_ENTROPY || iw < 1 || ih < 1)
        return -EINVAL;
    int cw, ch;
    crop_window(iw, ih, spec, &cw, &ch);
    /* where vips_smartcrop() puts a window of that size */
    switch (pick_interesting(spec->crop, iw, ih, spec->w, spec->h)) {
    case VIPS_INTERESTING_LOW:
        rect[0] = rect[1] = 0;
        break;
    case VIPS_INTERESTING_HIGH:
        rect[0] = iw - cw;
        rect[1] = ih - ch;
        break;
    default:
        rect[0] = (iw - cw) / 2;
        rect[1] = (ih - ch) / 2;
        break;
    }
    rect[2] = cw;
    rect[3] = ch;
    return 0;
}

int gv_tile_smart_rect(const uint8_t *const rgb, const int w, const int h,
                       const GvTileSpec *const spec, int rect[4])
{
    if (!rgb || w < 1 || h < 1 || w > VIPS_MAX_COORD || h > VIPS_MAX_COORD ||
        !gv_tile_spec_ok(spec) || (size_t)w > SIZE_MAX / 3 / (size_t)h)
        return -EINVAL;
    if (spec->crop != GV_CROP_ATTENTION && spec->crop != GV_CROP_ENTROPY)
        return gv_tile_crop_rect(w, h, spec, rect);
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    int cw, ch;
    crop_window(w, h, spec, &cw, &ch);
    VipsImage *img, *typed = NULL, *cut = NULL;
    /* vips_smartcrop() chooses the window while it is built, and the
     * result's offsets say where: minus the window's origin. */
    if (!(img = vips_image_new_from_memory(rgb, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR)) ||
        vips_copy(img, &typed, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) ||
        vips_smartcrop(typed, &cut, cw, ch, "interesting",
                       pick_interesting(spec->crop, w, h, spec->w, spec->h), NULL)) {
        vips_error_clear();
        ret = GV_ERR_DECODE;
    } else {
        rect[0] = clampi(-cut->Xoffset, 0, w - cw);
        rect[1] = clampi(-cut->Yoffset, 0, h - ch);
        rect[2] = cw;
        rect[3] = ch;
    }
    if (cut)
        g_object_unref(cut);
    if (typed)
        g_object_unref(typed);
    if (img)
        g_object_unref(img);
    return ret;
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
    gv_rgb_to_yuv_n(rgb, (size_t)t->w * (size_t)t->h, t->y, t->u, t->v);
}

/* Slots for the temporaries of prepare(); to_srgb8 takes 5, flatten 3. */
enum {
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

/* What the header says about an image, and so how it is prepared. */
typedef struct Plan {
    int iw, ih;       /* upright size */
    int jpeg;         /* shrinks while it decodes */
    int cmyk;         /* converted here through its own profile */
    int decode_first; /* alpha or WebP: decoded and flattened at full size */
    int enlarge;      /* smaller than the tile on a side */
    int gpu;          /* scaled by spec->scaler */
} Plan;

/*
 * Whether the GPU scales this image: a scaler is open, the source cannot
 * shrink while it decodes (everything but JPEG), the crop is a fixed
 * window (attention and entropy look at the scaled image), and the image
 * has at least GV_GPU_SCALE_MIN_RATIO times the tile's pixels. Sources
 * that vips_thumbnail would colour-convert or narrow on the small image
 * (an embedded profile, 16 bits) stay on the CPU unless they are decoded
 * at full size anyway (alpha, WebP).
 */
static int gpu_scale_wanted(const GvTileSpec *const spec, VipsImage *const hdr,
                            const Plan *const p)
{
    if (!spec->scaler || p->cmyk || p->enlarge || p->jpeg)
        return 0;
    if (spec->crop == GV_CROP_ATTENTION || spec->crop == GV_CROP_ENTROPY)
        return 0;
    if (!p->decode_first &&
        (vips_image_get_typeof(hdr, VIPS_META_ICC_NAME) || hdr->BandFmt != VIPS_FORMAT_UCHAR))
        return 0;
    return (double)p->iw * p->ih >= spec->gpu_min_ratio * (double)spec->w * spec->h;
}

/* Reads the header (applying the pixel limit) and plans from it. */
static int plan_image(const Src *const s, const GvTileSpec *const spec, Plan *const p,
                      char *const reason, const size_t len)
{
    VipsImage *hdr;
    const char *loader = NULL;
    const int ret = open_checked(s, spec, &hdr, &loader, reason, len);
    if (ret < 0)
        return ret;
    const int swap = vips_image_get_orientation_swap(hdr);
    p->iw = swap ? hdr->Ysize : hdr->Xsize;
    p->ih = swap ? hdr->Xsize : hdr->Ysize;
    p->jpeg = vips_isprefix("VipsForeignLoadJpeg", loader);
    p->cmyk = hdr->Type == VIPS_INTERPRETATION_CMYK;
    p->decode_first =
        !p->cmyk && (vips_image_hasalpha(hdr) || vips_isprefix("VipsForeignLoadWebp", loader));
    /* Scaling up is left to gv_resample(): vips_resize enlarges with a
     * bicubic, which is below the Lanczos-3 promised. */
    p->enlarge = p->iw < spec->w || p->ih < spec->h;
    p->gpu = gpu_scale_wanted(spec, hdr, p);
    g_object_unref(hdr);
    return 0;
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
        return gv_vips_reason(reason, len, "truncated or corrupt");
    int cw, ch;
    crop_window(img->Xsize, img->Ysize, spec, &cw, &ch);
    const VipsInteresting it =
        pick_interesting(spec->crop, img->Xsize, img->Ysize, spec->w, spec->h);
    if (vips_smartcrop(img, &t[T_CROP], cw, ch, "interesting", it, NULL))
        return gv_vips_reason(reason, len, "truncated or corrupt");
    img = t[T_CROP];
    const int bands = img->Bands;
    size_t size;
    uint8_t *const pixels = vips_image_write_to_memory(img, &size);
    if (!pixels)
        return gv_vips_reason(reason, len, "truncated or corrupt");
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

/*
 * Turns img, 8-bit sRGB, into a new tile. Everything before is lazy:
 * this is where the file is decoded.
 */
static int write_tile(VipsImage *const img, const GvTileSpec *const spec, GvTile **const out,
                      char *const reason, const size_t len)
{
    size_t size;
    uint8_t *const pixels = vips_image_write_to_memory(img, &size);
    if (!pixels)
        return gv_vips_reason(reason, len, "truncated or corrupt");
    int ret = 0;
    uint8_t *sized = NULL;
    GvTile *tile = NULL;
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
end:
    g_free(pixels);
    free(sized);
    gv_tile_free(&tile);
    return ret;
}

/*
 * What vips_thumbnail starts from: the source itself, or where
 * vips_thumbnail would get it wrong, the source already decoded and
 * converted here. Returns 0 or -1 with vips' error set.
 */
static int thumbnail_source(const Src *const s, const GvTileSpec *const spec,
                            const Plan *const p, VipsImage **const t, Src *const from)
{
    *from = *s;
    if (p->cmyk) {
        /*
         * vips_thumbnail turns CMYK into sRGB through its built-in
         * profile, whatever the file embeds (its linear mode would honour
         * it, but decodes at full size in float). So CMYK is decoded here,
         * DCT-scaled like vips_thumbnail would, converted through the
         * embedded profile (the built-in one when there is none) and
         * handed over as sRGB.
         */
        const double common =
            p->enlarge ? 1.0 : fmin((double)p->iw / spec->w, (double)p->ih / spec->h);
        const int shrink = !p->jpeg         ? 1
                           : common >= 16.0 ? 8
                           : common >= 8.0  ? 4
                           : common >= 4.0  ? 2
                                            : 1;
        if (!(t[T_LOAD] = open_image(s, shrink)) ||
            vips_icc_transform(t[T_LOAD], &t[T_ICC], "srgb", "embedded", TRUE, "input_profile",
                               "cmyk", "intent", VIPS_INTENT_RELATIVE, NULL))
            return -1;
        *from = (Src){ .kind = SRC_IMAGE, .image = t[T_ICC] };
    } else if (p->decode_first) {
        /*
         * Flattening before the resize is the SPEC's order and keeps a
         * flat translucent colour exact; vips_thumbnail would premultiply,
         * shrink and unpremultiply, which moves it by one here and there.
         * libwebp's decode-time rescaler is not exact on flat colours
         * either, and saves little: WebP is decoded at full size anyway.
         */
        VipsImage *pre;
        if (!(t[T_LOAD] = open_image(s, 1)) || to_srgb8(t[T_LOAD], 1, &t[T_PRE], &pre) ||
            (pre->Bands == 4 && flatten(pre, spec->background, &t[T_PRE_FLAT], &pre)))
            return -1;
        *from = (Src){ .kind = SRC_IMAGE, .image = pre };
    }
    return 0;
}

/*
 * From vips_thumbnail to flat 8-bit sRGB: the tile's size and crop, or
 * for an image smaller than the tile, its crop window at the image's own
 * scale (gv_resample() enlarges it). Returns 0 or -1 with vips' error set.
 */
static int thumbnail_srgb(const Src *const from, const GvTileSpec *const spec,
                          const Plan *const p, VipsImage **const t, VipsImage **const out)
{
    ThumbOpts o = { .w = spec->w, .h = spec->h, .size = VIPS_SIZE_BOTH };
    if (p->enlarge) {
        /* Only decoded, turned and converted; crop and scale follow. */
        o.w = o.h = VIPS_MAX_COORD;
        o.size = VIPS_SIZE_DOWN;
        o.crop = VIPS_INTERESTING_NONE;
    } else {
        o.crop = pick_interesting(spec->crop, p->iw, p->ih, spec->w, spec->h);
    }
    VipsImage *img;
    if (thumbnail(from, &o, &t[T_THUMB]) ||
        to_srgb8(t[T_THUMB], !p->cmyk && !p->decode_first, &t[T_CONV], &img) ||
        (img->Bands == 4 && flatten(img, spec->background, &t[T_FLAT], &img)))
        return -1;
    if (p->enlarge) {
        int cw, ch;
        crop_window(img->Xsize, img->Ysize, spec, &cw, &ch);
        const VipsInteresting it =
            pick_interesting(spec->crop, img->Xsize, img->Ysize, spec->w, spec->h);
        if (!(t[T_MEM] = vips_image_copy_memory(img)) ||
            vips_smartcrop(t[T_MEM], &t[T_CROP], cw, ch, "interesting", it, NULL))
            return -1;
        img = t[T_CROP];
    }
    *out = img;
    return 0;
}

/* The CPU path: vips_thumbnail shrinks (on load where it can) and crops. */
static int prepare_cpu(const Src *const s, const GvTileSpec *const spec, const Plan *const p,
                       VipsImage **const t, GvTile **const out, char *const reason,
                       const size_t len)
{
    Src from;
    VipsImage *img;
    if (thumbnail_source(s, spec, p, t, &from) || thumbnail_srgb(&from, spec, p, t, &img))
        return gv_vips_reason(reason, len, "truncated or corrupt");
    return write_tile(img, spec, out, reason, len);
}

int gv_tile_find_focus(GvTile *const t)
{
    const size_t n = (size_t)t->w * (size_t)t->h;
    uint8_t *const rgb = malloc(n * 3);
    if (!rgb)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        gv_yuv_to_rgb(t->y[i], t->u[i], t->v[i], &rgb[3 * i], &rgb[3 * i + 1], &rgb[3 * i + 2]);
    VipsImage *img = vips_image_new_from_memory(rgb, n * 3, t->w, t->h, 3, VIPS_FORMAT_UCHAR);
    VipsImage *typed = NULL, *cut = NULL;
    int ax = 0, ay = 0;
    /* the window's size hardly matters: attention_x/_y are the centre of
     * the interest map, where the window is placed around */
    if (img && !vips_copy(img, &typed, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) &&
        !vips_smartcrop(typed, &cut, t->w > 2 ? t->w / 2 : 1, t->h > 2 ? t->h / 2 : 1,
                        "interesting", VIPS_INTERESTING_ATTENTION, "attention_x", &ax,
                        "attention_y", &ay, NULL)) {
        t->focus_x = (float)((ax + 0.5) / t->w);
        t->focus_y = (float)((ay + 0.5) / t->h);
    } else {
        vips_error_clear();
    }
    if (cut)
        g_object_unref(cut);
    if (typed)
        g_object_unref(typed);
    if (img)
        g_object_unref(img);
    free(rgb);
    return 0;
}

static int prepare(const Src *const s, const GvTileSpec *const spec, GvTile **const out,
                   char *const reason, const size_t len)
{
    *out = NULL;
    if (!gv_tile_spec_ok(spec))
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    Plan p;
    if ((ret = plan_image(s, spec, &p, reason, len)) < 0)
        return ret;
    /* Owns every temporary: one unref on the way out releases them all. */
    VipsObject *const scope = VIPS_OBJECT(vips_image_new());
    VipsImage **const t = (VipsImage **)vips_object_local_array(scope, N_TEMP);
    ret = p.gpu ? prepare_gpu(s, spec, t, out, reason, len)
                : prepare_cpu(s, spec, &p, t, out, reason, len);
    g_object_unref(scope);
    if (ret == 0 && *out) {
        (*out)->aspect = (float)(((double)p.iw / p.ih) / ((double)spec->w / spec->h));
        if (spec->find_focus && (spec->crop == GV_CROP_ATTENTION || spec->crop == GV_CROP_ENTROPY) &&
            (ret = gv_tile_find_focus(*out)) < 0)
            gv_tile_free(out);
    }
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
    const int ret = check_file(path, NULL, NULL, NULL, NULL, reason, reason_len);
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

int gv_tile_load_rgb(const uint8_t *const rgb, const int w, const int h,
                     const GvTileSpec *const spec, GvTile **const out, char *const reason,
                     const size_t reason_len)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!rgb || w <= 0 || h <= 0 || !gv_tile_spec_ok(spec))
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    if (w > VIPS_MAX_COORD || h > VIPS_MAX_COORD || (size_t)w > SIZE_MAX / 3 / (size_t)h)
        return -ENOMEM;
    VipsImage *img = NULL, *typed = NULL;
    if (!(img = vips_image_new_from_memory(rgb, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR)) ||
        vips_copy(img, &typed, "interpretation", VIPS_INTERPRETATION_sRGB, NULL)) {
        ret = gv_vips_reason(reason, reason_len, "cannot read the pixels");
        goto end;
    }
    const Src s = { .kind = SRC_IMAGE, .image = typed };
    ret = prepare(&s, spec, out, reason, reason_len);
end:
    if (typed)
        g_object_unref(typed);
    if (img)
        g_object_unref(img);
    return ret;
}

/* ---------------------------------------------------------------- */
/* Animations read with libvips (animated WebP)                       */

/* More pages than this is not an animation gridvid plays. */
#define ANIM_MAX_PAGES 100000
/* A page that asks for no time shows this long, as browsers do. */
#define ANIM_DEFAULT_DELAY_MS 100

struct GvAnim {
    char *path;
    GvTileSpec spec;
    VipsImage *all;   /* every page, one under the other, read top to bottom */
    int w, page_h, pages;
    int next_page;    /* pages before it were read: an earlier one reopens */
    double *pts;      /* per page, seconds; pts[pages] is the end */
    int have_rect, rect[4]; /* a smart crop's window, chosen on the first page */
};

static int anim_reopen(GvAnim *a)
{
    if (a->all)
        g_object_unref(a->all);
    a->next_page = 0;
    a->all = NULL;
    return vips_webpload(a->path, &a->all, "n", -1, "access", VIPS_ACCESS_SEQUENTIAL,
                         "fail_on", VIPS_FAIL_ON_ERROR, NULL) ? -1 : 0;
}

/* Frame times from the pages' delays (libvips' "delay", milliseconds). */
static int anim_times(GvAnim *a)
{
    int *delay = NULL, n = 0;
    if (vips_image_get_typeof(a->all, "delay") &&
        vips_image_get_array_int(a->all, "delay", &delay, &n) < 0)
        delay = NULL;
    if (!(a->pts = malloc(sizeof(*a->pts) * ((size_t)a->pages + 1))))
        return -ENOMEM;
    double t = 0;
    for (int i = 0; i < a->pages; i++) {
        a->pts[i] = t;
        const int ms = delay && i < n && delay[i] > 0 ? delay[i] : ANIM_DEFAULT_DELAY_MS;
        t += ms / 1000.0;
    }
    a->pts[a->pages] = t;
    return 0;
}

int gv_anim_open(GvAnim **out, const char *path, const GvTileSpec *spec, char *reason,
                 size_t len)
{
    *out = NULL;
    if (!path || !gv_tile_spec_ok(spec))
        return -EINVAL;
    int ret = gv_tiles_init();
    if (ret < 0)
        return ret;
    GvAnim *a = calloc(1, sizeof(*a));
    if (!a || !(a->path = strdup(path))) {
        free(a);
        return -ENOMEM;
    }
    a->spec = *spec;
    if (anim_reopen(a) < 0) {
        ret = gv_vips_reason(reason, len, "truncated or corrupt");
        goto fail;
    }
    a->w = a->all->Xsize;
    a->page_h = vips_image_get_page_height(a->all);
    a->pages = a->page_h > 0 ? a->all->Ysize / a->page_h : 0;
    ret = GV_ERR_DECODE;
    if (a->pages < 2 || a->pages > ANIM_MAX_PAGES) {
        set_reason(reason, len, a->pages < 2 ? "not an animation" : "%d frames: too many",
                   a->pages);
        goto fail;
    }
    if (spec->max_pixels && (uint64_t)a->w * (uint64_t)a->page_h > spec->max_pixels) {
        set_reason(reason, len, "%dx%d is over the %" PRIu64 "-pixel limit", a->w, a->page_h,
                   spec->max_pixels);
        goto fail;
    }
    if ((ret = anim_times(a)) < 0)
        goto fail;
    *out = a;
    return 0;
fail:
    gv_anim_close(&a);
    return ret;
}

int gv_anim_size(const GvAnim *a, int *w, int *h)
{
    *w = a->w;
    *h = a->page_h;
    return a->pages;
}

double gv_anim_time(const GvAnim *a, int page)
{
    return a->pts[page < 0 ? 0 : page > a->pages ? a->pages : page];
}

/* Page p in memory, as 8-bit sRGB (with alpha where it has one). */
static int anim_page(GvAnim *a, int p, VipsImage **t, VipsImage **out)
{
    if (p < a->next_page && anim_reopen(a) < 0)
        return -1;
    if (vips_crop(a->all, &t[0], 0, p * a->page_h, a->w, a->page_h, NULL) ||
        !(t[1] = vips_image_copy_memory(t[0])))
        return -1;
    a->next_page = p + 1;
    return to_srgb8(t[1], 0, t + 2, out);
}

/* With a smart crop: the window, chosen once on the first page's pixels. */
static int anim_rect(GvAnim *a, VipsImage *page, VipsImage **t)
{
    int cw, ch;
    crop_window(a->w, a->page_h, &a->spec, &cw, &ch);
    if (vips_smartcrop(page, &t[0], cw, ch, "interesting",
                       pick_interesting(a->spec.crop, a->w, a->page_h, a->spec.w, a->spec.h),
                       NULL))
        return -1;
    a->rect[0] = clampi(-t[0]->Xoffset, 0, a->w - cw);
    a->rect[1] = clampi(-t[0]->Yoffset, 0, a->page_h - ch);
    a->rect[2] = cw;
    a->rect[3] = ch;
    a->have_rect = 1;
    return 0;
}

int gv_anim_tile(GvAnim *a, int p, GvTile **out, char *reason, size_t len)
{
    *out = NULL;
    if (p < 0 || p >= a->pages)
        return -EINVAL;
    VipsObject *const scope = VIPS_OBJECT(vips_image_new());
    VipsImage **const t = (VipsImage **)vips_object_local_array(scope, 20);
    VipsImage *page, *first;
    int ret = 0;
    const int smart = a->spec.crop == GV_CROP_ATTENTION || a->spec.crop == GV_CROP_ENTROPY;
    GvTileSpec spec = a->spec;
    /* a smart crop's window comes from the first page, whichever is read
     * first, so that every page and every opening agree */
    if ((smart && !a->have_rect && (anim_page(a, 0, t + 12, &first) || anim_rect(a, first, t + 8))) ||
        anim_page(a, p, t, &page)) {
        ret = gv_vips_reason(reason, len, "truncated or corrupt");
    } else {
        if (smart) {
            /* the window has the tile's aspect: centred, it is all of it */
            spec.crop = GV_CROP_CENTER;
            if (vips_crop(page, &t[9], a->rect[0], a->rect[1], a->rect[2], a->rect[3], NULL))
                ret = gv_vips_reason(reason, len, "truncated or corrupt");
            page = t[9];
        }
        const Src s = { .kind = SRC_IMAGE, .image = page };
        if (ret == 0)
            ret = prepare(&s, &spec, out, reason, len);
    }
    g_object_unref(scope);
    return ret;
}

void gv_anim_close(GvAnim **pa)
{
    GvAnim *const a = *pa;
    if (!a)
        return;
    if (a->all)
        g_object_unref(a->all);
    free(a->pts);
    free(a->path);
    free(a);
    *pa = NULL;
}
