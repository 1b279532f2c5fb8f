/* The JPEG header reader and the hardware decoder's admission rule, on
 * JPEG headers assembled here byte by byte: the coding processes, bit
 * depths, colour models and samplings the engine refuses, EXIF orientation
 * in both byte orders, sRGB and other ICC profiles, and malformed,
 * truncated and random input, each copied to a buffer of its exact size
 * so that AddressSanitizer sees any read past the end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jpeginfo.h"

typedef struct Buf {
    uint8_t d[8192];
    size_t n;
    size_t sos_end; /* where the first SOS segment ends */
} Buf;

static void put8(Buf *b, const unsigned v)
{
    if (b->n < sizeof(b->d))
        b->d[b->n++] = (uint8_t)v;
}

static void put16(Buf *b, const unsigned v)
{
    put8(b, v >> 8);
    put8(b, v & 255);
}

static void putn(Buf *b, const void *p, const size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(b, ((const uint8_t *)p)[i]);
}

static void segment(Buf *b, const int marker, const void *p, const size_t n)
{
    put8(b, 0xFF);
    put8(b, (unsigned)marker);
    put16(b, (unsigned)n + 2);
    putn(b, p, n);
}

/* What the assembled file holds. */
typedef struct Jpeg {
    int sof, precision, w, h, nc;
    uint8_t id[4], hv[4], tq[4];
    int adobe;   /* APP14 transform, -1: no APP14 */
    int dht;     /* 0: none, 1: DC tables only, 2: DC and AC */
    int dqt;     /* 0: none, 1: 8-bit tables, 2: table 0 16-bit */
    int dri;     /* restart interval, 0: no DRI */
    const Buf *extra; /* segments inserted after APP0 */
} Jpeg;

static Jpeg ycbcr420(void)
{
    const Jpeg j = { 0, 8, 8, 8, 3, { 1, 2, 3, 0 }, { 0x22, 0x11, 0x11, 0 }, { 0, 1, 1, 0 },
                     -1, 2, 1, 0, NULL };
    return j;
}

static void put_tables(Buf *b, const Jpeg *j)
{
    if (j->dqt) {
        Buf q = { .n = 0 };
        put8(&q, j->dqt == 2 ? 0x10 : 0x00);
        for (int i = 0; i < (j->dqt == 2 ? 128 : 64); i++)
            put8(&q, 1);
        put8(&q, 0x01);
        for (int i = 0; i < 64; i++)
            put8(&q, 2);
        segment(b, 0xDB, q.d, q.n);
    }
    Buf h = { .n = 0 };
    for (int t = 0; t < (j->dht == 2 ? 4 : j->dht == 1 ? 2 : 0); t++) {
        put8(&h, (unsigned)((t / 2) << 4 | (t % 2))); /* class 0 DC, 1 AC; index 0, 1 */
        for (int k = 0; k < 16; k++)
            put8(&h, k == 1 ? 2 : 0);
        put8(&h, 0);
        put8(&h, 1);
    }
    if (h.n)
        segment(b, 0xC4, h.d, h.n);
}

static void make(Buf *b, const Jpeg *j)
{
    static const uint8_t jfif[] = { 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0 };
    memset(b, 0, sizeof(*b));
    put16(b, 0xFFD8);
    segment(b, 0xE0, jfif, sizeof(jfif));
    if (j->extra)
        putn(b, j->extra->d, j->extra->n);
    if (j->adobe >= 0) {
        const uint8_t adobe[12] = { 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0,
                                    (uint8_t)j->adobe };
        segment(b, 0xEE, adobe, sizeof(adobe));
    }
    put_tables(b, j);
    Buf f = { .n = 0 };
    put8(&f, (unsigned)j->precision);
    put16(&f, (unsigned)j->h);
    put16(&f, (unsigned)j->w);
    put8(&f, (unsigned)j->nc);
    for (int c = 0; c < j->nc; c++) {
        put8(&f, j->id[c]);
        put8(&f, j->hv[c]);
        put8(&f, j->tq[c]);
    }
    segment(b, 0xC0 + j->sof, f.d, f.n);
    if (j->dri) {
        const uint8_t dri[2] = { (uint8_t)(j->dri >> 8), (uint8_t)j->dri };
        segment(b, 0xDD, dri, 2);
    }
    Buf s = { .n = 0 };
    put8(&s, (unsigned)j->nc);
    for (int c = 0; c < j->nc; c++) {
        put8(&s, j->id[c]);
        put8(&s, c == 0 ? 0x00 : 0x11);
    }
    put8(&s, 0);
    put8(&s, 63);
    put8(&s, 0);
    segment(b, 0xDA, s.d, s.n);
    b->sos_end = b->n;
    static const uint8_t scan[] = { 0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9 };
    putn(b, scan, sizeof(scan));
}

/* gv_jpeg_info on a copy of data[0..n) in a buffer of exactly n bytes. */
static int info_of(const uint8_t *data, const size_t n, GvJpegInfo *info)
{
    uint8_t *const copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    if (n)
        memcpy(copy, data, n);
    const int r = gv_jpeg_info(copy, n, info);
    free(copy);
    return r;
}

/* The engine's verdict on j: NULL when accepted, else the reason. */
static const char *verdict(const Jpeg *j, GvJpegInfo *info)
{
    Buf b;
    make(&b, j);
    memset(info, 0x55, sizeof(*info));
    if (info_of(b.d, b.n, info) != 0)
        return "(not parsed)";
    const char *why = "(unset)";
    const int ok = gv_jpeg_engine_ok(info, 0, &why);
    CHECK(ok == (why == NULL));
    return why;
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

#define CHECK_WHY(j, expected)                                                          \
    do {                                                                                \
        GvJpegInfo i_;                                                                  \
        const char *const w_ = verdict(&(j), &i_);                                      \
        CHECK(same(w_, (expected)));                                                    \
        if (!same(w_, (expected)))                                                      \
            fprintf(stderr, "  reason: %s\n", w_ ? w_ : "(accepted)");                  \
    } while (0)

static void test_baseline_420_is_read_and_accepted(void)
{
    const Jpeg j = ycbcr420();
    Buf b;
    make(&b, &j);
    GvJpegInfo in;
    CHECK_INT(info_of(b.d, b.n, &in), 0);
    CHECK_INT(in.width, 8);
    CHECK_INT(in.height, 8);
    CHECK_INT(in.components, 3);
    CHECK_INT(in.precision, 8);
    CHECK_INT(in.sof, 0);
    CHECK_INT(in.h[0], 2);
    CHECK_INT(in.v[0], 2);
    CHECK_INT(in.h[1], 1);
    CHECK_INT(in.v[2], 1);
    CHECK_INT(in.id[2], 3);
    CHECK_INT(in.orientation, 1);
    CHECK_INT(in.has_icc, 0);
    CHECK_INT(in.icc_srgb, 0);
    CHECK_INT(in.adobe_transform, -1);
    CHECK_INT(in.restart_interval, 0);
    CHECK_INT(in.has_dht, 1);
    CHECK_INT(in.qt_missing, 0);
    CHECK_INT(in.qt16, 0);
    const char *why = "x";
    CHECK_INT(gv_jpeg_engine_ok(&in, 0, &why), 1);
    CHECK(why == NULL);
    CHECK_INT(gv_jpeg_engine_ok(&in, 64, NULL), 1);
    CHECK_INT(gv_jpeg_engine_ok(&in, 63, &why), 0);
    CHECK(why && strcmp(why, "too many pixels") == 0);
}

static void test_supported_samplings_are_accepted(void)
{
    static const uint8_t luma[] = { 0x11, 0x21, 0x12, 0x22 };
    for (int i = 0; i < 4; i++) {
        Jpeg j = ycbcr420();
        j.hv[0] = luma[i];
        CHECK_WHY(j, NULL);
    }
    Jpeg grey = ycbcr420();
    grey.nc = 1;
    grey.hv[0] = 0x11;
    CHECK_WHY(grey, NULL);
    Jpeg extended = ycbcr420();
    extended.sof = 1;
    CHECK_WHY(extended, NULL);
    Jpeg ycc = ycbcr420();
    ycc.adobe = 1;
    CHECK_WHY(ycc, NULL);
    Jpeg big = ycbcr420();
    big.w = big.h = 65535;
    GvJpegInfo in;
    CHECK(verdict(&big, &in) == NULL);
    CHECK_INT(in.width, 65535);
    CHECK_INT(in.height, 65535);
}

static void test_other_coding_processes_are_refused(void)
{
    static const struct {
        int sof;
        const char *why;
    } cases[] = { { 2, "progressive" }, { 3, "lossless" }, { 5, "hierarchical" },
                  { 9, "arithmetic coding" }, { 10, "arithmetic coding" } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Jpeg j = ycbcr420();
        j.sof = cases[i].sof;
        GvJpegInfo in;
        CHECK_WHY(j, cases[i].why);
        verdict(&j, &in);
        CHECK_INT(in.sof, cases[i].sof);
    }
    Jpeg twelve = ycbcr420();
    twelve.sof = 1;
    twelve.precision = 12;
    GvJpegInfo in;
    CHECK_WHY(twelve, "12-bit");
    verdict(&twelve, &in);
    CHECK_INT(in.precision, 12);
}

static void test_other_colour_models_are_refused(void)
{
    Jpeg cmyk = ycbcr420();
    cmyk.nc = 4;
    cmyk.id[3] = 4;
    cmyk.hv[0] = cmyk.hv[3] = 0x11;
    cmyk.adobe = 0;
    GvJpegInfo in;
    CHECK_WHY(cmyk, "CMYK");
    verdict(&cmyk, &in);
    CHECK_INT(in.components, 4);
    CHECK_INT(in.adobe_transform, 0);
    Jpeg ycck = cmyk;
    ycck.adobe = 2;
    CHECK_WHY(ycck, "YCCK");

    Jpeg rgb = ycbcr420();
    rgb.hv[0] = 0x11;
    rgb.adobe = 0;
    CHECK_WHY(rgb, "RGB JPEG");
    Jpeg named = ycbcr420();
    named.hv[0] = 0x11;
    named.id[0] = 'R';
    named.id[1] = 'G';
    named.id[2] = 'B';
    CHECK_WHY(named, "RGB JPEG");
}

static void test_unsupported_samplings_are_refused(void)
{
    Jpeg s411 = ycbcr420();
    s411.hv[0] = 0x41;
    CHECK_WHY(s411, "4:1:1 subsampling");
    Jpeg s410 = ycbcr420();
    s410.hv[0] = 0x42;
    CHECK_WHY(s410, "subsampling");
    Jpeg s311 = ycbcr420();
    s311.hv[0] = 0x31;
    CHECK_WHY(s311, "subsampling");
    Jpeg chroma = ycbcr420();
    chroma.hv[1] = 0x21;
    CHECK_WHY(chroma, "chroma sampling");
}

static void test_missing_or_odd_tables_are_refused(void)
{
    Jpeg none = ycbcr420();
    none.dht = 0;
    CHECK_WHY(none, "no Huffman tables");
    Jpeg dc_only = ycbcr420();
    dc_only.dht = 1;
    CHECK_WHY(dc_only, "no Huffman tables");
    Jpeg no_qt = ycbcr420();
    no_qt.dqt = 0;
    CHECK_WHY(no_qt, "no quantization table");
    Jpeg qt16 = ycbcr420();
    qt16.dqt = 2;
    CHECK_WHY(qt16, "16-bit quantization table");
    Jpeg dri = ycbcr420();
    dri.dri = 4;
    GvJpegInfo in;
    CHECK(verdict(&dri, &in) == NULL);
    CHECK_INT(in.restart_interval, 4);
}

/* An APP1 Exif segment: IFD0 with Make, then `tag` of `type` holding value. */
static void put_exif(Buf *b, const int le, const unsigned tag, const unsigned type,
                     const unsigned value, const unsigned entries)
{
    Buf e = { .n = 0 };
    putn(&e, "Exif\0\0", 6);
#define W16(v) (le ? (put8(&e, (v) & 255), put8(&e, (v) >> 8)) : put16(&e, (v)))
#define W32(v) (le ? (W16((v) & 0xFFFF), W16((v) >> 16)) : (W16((v) >> 16), W16((v) & 0xFFFF)))
    putn(&e, le ? "II" : "MM", 2);
    W16(42u);
    W32(8u);
    W16(entries);
    W16(0x010Fu); /* Make, ASCII "Cam" inline */
    W16(2u);
    W32(4u);
    putn(&e, "Cam", 4);
    W16(tag);
    W16(type);
    W32(1u);
    if (type == 3) {
        W16(value);
        W16(0u);
    } else {
        W32(value);
    }
    W32(0u);
#undef W32
#undef W16
    segment(b, 0xE1, e.d, e.n);
}

static int orientation_of(const Buf *extra)
{
    Jpeg j = ycbcr420();
    j.extra = extra;
    GvJpegInfo in;
    const char *const why = verdict(&j, &in);
    CHECK(why == NULL);
    return in.orientation;
}

static void test_exif_orientation_in_both_byte_orders(void)
{
    Buf x = { .n = 0 };
    put_exif(&x, 1, 0x0112, 3, 6, 2);
    CHECK_INT(orientation_of(&x), 6);
    x.n = 0;
    put_exif(&x, 0, 0x0112, 3, 6, 2);
    CHECK_INT(orientation_of(&x), 6);
    x.n = 0;
    put_exif(&x, 0, 0x0112, 3, 8, 2);
    CHECK_INT(orientation_of(&x), 8);
    /* Out of range, the wrong type, another tag: 1. */
    x.n = 0;
    put_exif(&x, 1, 0x0112, 3, 9, 2);
    CHECK_INT(orientation_of(&x), 1);
    x.n = 0;
    put_exif(&x, 1, 0x0112, 4, 6, 2);
    CHECK_INT(orientation_of(&x), 1);
    x.n = 0;
    put_exif(&x, 1, 0x0132, 3, 6, 2);
    CHECK_INT(orientation_of(&x), 1);
    /* An entry count past the segment: the entries that fit still count;
     * an IFD0 counted as holding only Make hides the orientation. */
    x.n = 0;
    put_exif(&x, 1, 0x0112, 3, 6, 60000);
    CHECK_INT(orientation_of(&x), 6);
    x.n = 0;
    put_exif(&x, 1, 0x0112, 3, 6, 1);
    CHECK_INT(orientation_of(&x), 1);
    /* IFD0 offset past the segment. */
    x.n = 0;
    put_exif(&x, 0, 0x0112, 3, 6, 2);
    x.d[4 + 6 + 4 + 3] = 0xF0;
    CHECK_INT(orientation_of(&x), 1);
    /* Two Exif segments: the last one counts, as in libvips. */
    x.n = 0;
    put_exif(&x, 1, 0x0112, 3, 6, 2);
    put_exif(&x, 0, 0x0112, 3, 3, 2);
    CHECK_INT(orientation_of(&x), 3);
}

/* An ICC profile whose tag table holds 'wtpt' and then 'desc', of type
 * 'desc' (v2) or 'mluc' (v4), followed by 64 bytes of other tags' data.
 * Returns its size. */
static size_t make_icc(uint8_t *p, const char *name, const int mluc)
{
    const size_t len = strlen(name);
    memset(p, 0, 1024);
    memcpy(p + 36, "acsp", 4);
    p[131] = 2;
    memcpy(p + 132, "wtpt", 4);
    p[139] = 156;
    p[143] = 20;
    memcpy(p + 144, "desc", 4);
    p[151] = 176;
    memcpy(p + 156, "XYZ ", 4);
    uint8_t *const d = p + 176;
    size_t size;
    if (mluc) {
        memcpy(d, "mluc", 4);
        d[11] = 1;
        d[15] = 12;
        memcpy(d + 16, "enUS", 4);
        d[23] = (uint8_t)(2 * len);
        d[27] = 28;
        for (size_t i = 0; i < len; i++)
            d[28 + 2 * i + 1] = (uint8_t)name[i];
        size = 28 + 2 * len;
    } else {
        memcpy(d, "desc", 4);
        d[11] = (uint8_t)(len + 1);
        memcpy(d + 12, name, len);
        size = 12 + len + 1 + 4 + 4 + 2 + 1 + 67;
    }
    p[155] = (uint8_t)size;
    const size_t total = 176 + size + 64;
    p[2] = (uint8_t)(total >> 8);
    p[3] = (uint8_t)total;
    return total;
}

static void put_icc_chunk(Buf *b, const uint8_t *p, const size_t n, const int seq, const int count)
{
    Buf s = { .n = 0 };
    putn(&s, "ICC_PROFILE", 12);
    put8(&s, (unsigned)seq);
    put8(&s, (unsigned)count);
    putn(&s, p, n);
    segment(b, 0xE2, s.d, s.n);
}

static const char *icc_verdict(const Buf *extra, GvJpegInfo *in)
{
    Jpeg j = ycbcr420();
    j.extra = extra;
    return verdict(&j, in);
}

static void test_icc_profiles(void)
{
    uint8_t p[1024];
    Buf x = { .n = 0 };
    GvJpegInfo in;
    static const struct {
        const char *name;
        int mluc, srgb;
    } cases[] = { { "sRGB IEC61966-2.1", 0, 1 }, { "sRGB", 1, 1 },
                  { "Adobe RGB (1998)", 0, 0 }, { "Display P3", 1, 0 } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        x.n = 0;
        put_icc_chunk(&x, p, make_icc(p, cases[i].name, cases[i].mluc), 1, 1);
        const char *const why = icc_verdict(&x, &in);
        CHECK_INT(in.has_icc, 1);
        CHECK_INT(in.icc_srgb, cases[i].srgb);
        CHECK(cases[i].srgb ? why == NULL : why && strcmp(why, "ICC profile") == 0);
    }
    /* Split in two: sRGB only while the description is in the first chunk. */
    const size_t n = make_icc(p, "sRGB IEC61966-2.1", 0);
    x.n = 0;
    put_icc_chunk(&x, p, n - 20, 1, 2);
    put_icc_chunk(&x, p + n - 20, 20, 2, 2);
    CHECK(icc_verdict(&x, &in) == NULL);
    CHECK_INT(in.icc_srgb, 1);
    x.n = 0;
    put_icc_chunk(&x, p, 200, 1, 2);
    put_icc_chunk(&x, p + 200, n - 200, 2, 2);
    CHECK(icc_verdict(&x, &in) != NULL);
    CHECK_INT(in.has_icc, 1);
    CHECK_INT(in.icc_srgb, 0);
    /* A profile whose declared size ends inside the description. */
    p[2] = 0;
    p[3] = 200;
    x.n = 0;
    put_icc_chunk(&x, p, n, 1, 1);
    CHECK(icc_verdict(&x, &in) != NULL);
    CHECK_INT(in.icc_srgb, 0);
    /* An mluc record count past the tag: only the records inside count. */
    const size_t m = make_icc(p, "Display P3", 1);
    memset(p + 176 + 8, 0xFF, 4);
    x.n = 0;
    put_icc_chunk(&x, p, m, 1, 1);
    CHECK(icc_verdict(&x, &in) != NULL);
    CHECK_INT(in.icc_srgb, 0);
    make_icc(p, "sRGB", 1);
    memset(p + 176 + 8, 0xFF, 4);
    x.n = 0;
    put_icc_chunk(&x, p, m, 1, 1);
    CHECK(icc_verdict(&x, &in) == NULL);
    CHECK_INT(in.icc_srgb, 1);
    /* mluc records shorter than their 12 bytes. */
    for (int rec_size = 0; rec_size < 12; rec_size += 8) {
        make_icc(p, "sRGB", 1);
        p[176 + 15] = (uint8_t)rec_size;
        x.n = 0;
        put_icc_chunk(&x, p, m, 1, 1);
        CHECK(icc_verdict(&x, &in) != NULL);
        CHECK_INT(in.icc_srgb, 0);
    }
    /* Only a second chunk; a first chunk that is not a profile. */
    make_icc(p, "sRGB IEC61966-2.1", 0);
    x.n = 0;
    put_icc_chunk(&x, p + 200, n - 200, 2, 2);
    CHECK(icc_verdict(&x, &in) != NULL);
    CHECK_INT(in.icc_srgb, 0);
    memset(p + 36, 0, 4);
    x.n = 0;
    put_icc_chunk(&x, p, n, 1, 1);
    CHECK(icc_verdict(&x, &in) != NULL);
    CHECK_INT(in.icc_srgb, 0);
}

static void test_fill_bytes_and_standalone_markers(void)
{
    const Jpeg j = ycbcr420();
    Buf b, c = { .n = 0 };
    make(&b, &j);
    /* SOI, TEM, RST3, then each marker after extra fill bytes. */
    putn(&c, b.d, 2);
    putn(&c, "\xFF\x01\xFF\xD3", 4);
    for (size_t i = 2; i < b.n; i++) {
        if (b.d[i] == 0xFF && i < b.sos_end)
            putn(&c, "\xFF\xFF", 2);
        put8(&c, b.d[i]);
    }
    GvJpegInfo in;
    CHECK_INT(info_of(c.d, c.n, &in), 0);
    CHECK_INT(in.width, 8);
    CHECK_INT(in.components, 3);
}

/* Changes the file's byte at `at` and expects -EINVAL. */
static void check_broken(const size_t at, const uint8_t value, const char *what)
{
    const Jpeg j = ycbcr420();
    Buf b;
    make(&b, &j);
    b.d[at] = value;
    GvJpegInfo in;
    const int r = info_of(b.d, b.n, &in);
    if (r != -EINVAL)
        fprintf(stderr, "  %s: %d\n", what, r);
    CHECK_INT(r, -EINVAL);
}

static size_t find_marker(const Buf *b, const int marker)
{
    for (size_t i = 2; i + 1 < b->n; i++)
        if (b->d[i] == 0xFF && b->d[i + 1] == marker)
            return i;
    abort();
}

static void test_malformed_headers_are_refused(void)
{
    const Jpeg j = ycbcr420();
    Buf b;
    make(&b, &j);
    const size_t sof = find_marker(&b, 0xC0), sos = find_marker(&b, 0xDA);
    const size_t dht = find_marker(&b, 0xC4);
    check_broken(0, 0x89, "not SOI");
    check_broken(sof + 1, 0xD8, "second SOI");
    check_broken(sof + 1, 0xD9, "EOI before the scan");
    check_broken(sof + 1, 0x02, "reserved marker");
    check_broken(sof, 0x00, "no marker");
    check_broken(sof + 3, 1, "segment length 1");
    check_broken(sof + 2, 0xFF, "segment past the end");
    check_broken(sof + 6, 0, "height 0");
    check_broken(sof + 8, 0, "width 0");
    check_broken(sof + 9, 5, "5 components");
    check_broken(sof + 9, 0, "0 components");
    check_broken(sof + 11, 0x02, "sampling factor 0");
    check_broken(sof + 11, 0x52, "sampling factor 5");
    check_broken(sof + 12, 4, "quantization table 4");
    check_broken(sof + 4, 7, "7-bit DCT");
    check_broken(sos + 5, 9, "scan component not in the frame");
    check_broken(sos + 6, 0x40, "scan table 4");
    check_broken(dht + 4, 0x20, "table class 2");
    check_broken(dht + 6, 200, "more codes than the segment holds");
    check_broken(sos + 1, 0xC1, "second SOF");
    check_broken(sof + 1, 0xFE, "no SOF before the scan"); /* SOF turned into a COM */

    static const uint8_t short_soi[] = { 0xFF, 0xD8, 0xFF };
    GvJpegInfo in;
    CHECK_INT(info_of(short_soi, sizeof(short_soi), &in), -EINVAL);
    CHECK_INT(info_of(short_soi, 0, &in), -EINVAL);
    CHECK_INT(gv_jpeg_info(NULL, 0, &in), -EINVAL);
    /* Bytes between segments, even ones that would read as a segment. */
    Buf c = { .n = 0 };
    putn(&c, b.d, sof);
    put8(&c, 0x00);
    putn(&c, b.d + sof, b.n - sof);
    CHECK_INT(info_of(c.d, c.n, &in), -EINVAL);
    c.n = 0;
    putn(&c, b.d, sof);
    putn(&c, "\xFE\x00\x02", 3);
    putn(&c, b.d + sof, b.n - sof);
    CHECK_INT(info_of(c.d, c.n, &in), -EINVAL);
    /* A DHT segment at the end of the data whose table is cut short. */
    static const uint8_t cut_dht[] = { 0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x07, 0x00, 0, 0, 0, 0 };
    CHECK_INT(info_of(cut_dht, sizeof(cut_dht), &in), -EINVAL);
    /* Lossless precision 2..16, DCT 8 or 12. */
    Jpeg lossless = j;
    lossless.sof = 3;
    lossless.precision = 16;
    CHECK_WHY(lossless, "lossless");
    lossless.precision = 1;
    CHECK_WHY(lossless, "(not parsed)");
    Jpeg dct = j;
    dct.sof = 1;
    dct.precision = 16;
    CHECK_WHY(dct, "(not parsed)");
}

/* A segment that ends the data, after an SOI (and SOF0 when sof): no scan
 * follows, so -EINVAL, and any read past the segment is past the buffer. */
static void check_last_segment(const int sof, const int marker, const void *p, const size_t n)
{
    static const uint8_t sof0[] = { 8, 0, 8, 0, 8, 1, 1, 0x11, 0 };
    Buf b = { .n = 0 };
    put16(&b, 0xFFD8);
    if (sof)
        segment(&b, 0xC0, sof0, sizeof(sof0));
    segment(&b, marker, p, n);
    GvJpegInfo in;
    CHECK_INT(info_of(b.d, b.n, &in), -EINVAL);
}

static void test_short_segments_at_the_end(void)
{
    check_last_segment(0, 0xE1, "Exif\0\0II", 8);
    check_last_segment(0, 0xE1, "Exif\0\0II*\0\x08\0\0\0\x01\0", 16);
    check_last_segment(0, 0xE2, "ICC_PROFILE\0\x01\x01", 14);
    check_last_segment(0, 0xE2, "ICC_PROFILE\0\x01\x01\0\0\0\x80", 18);
    check_last_segment(0, 0xC0, "\x08\x00", 2);
    check_last_segment(1, 0xDA, "", 0);
    check_last_segment(0, 0xEE, "Adobe\0\x64\0\0\0", 11);
    check_last_segment(0, 0xDB, "\x00\x01", 2);
    check_last_segment(0, 0xDD, "\x00", 1);
    check_last_segment(0, 0xC0, "\x08\x00\x08\x00\x08\x03", 6);
    check_last_segment(1, 0xDA, "\x01\x01\x00\x00", 4);
    check_last_segment(1, 0xDA, "\x02\x01\x00\x00\x3F\x00", 6);
    /* ICC profiles whose 'desc' tag, the last bytes, is too short to hold
     * its header. */
    for (int mluc = 0; mluc < 2; mluc++) {
        const size_t size = mluc ? 12 : 4;
        uint8_t icc[14 + 160] = "ICC_PROFILE";
        uint8_t *const p = icc + 14;
        icc[12] = icc[13] = 1;
        p[3] = (uint8_t)(144 + size);
        memcpy(p + 36, "acsp", 4);
        p[131] = 1;
        memcpy(p + 132, "desc", 4);
        p[139] = 144;
        p[143] = (uint8_t)size;
        memcpy(p + 144, mluc ? "mluc" : "desc", 4);
        p[144 + 11] = mluc ? 0xFF : 0;
        check_last_segment(1, 0xE2, icc, 14 + 144 + size);
    }
}

static void test_marker_limit(void)
{
    const Jpeg j = ycbcr420();
    Buf b, c;
    make(&b, &j);
    for (int n_tem = 900; n_tem <= 1000; n_tem += 100) {
        c.n = 0;
        putn(&c, b.d, 2);
        for (int i = 0; i < n_tem; i++)
            putn(&c, "\xFF\x01", 2);
        putn(&c, b.d + 2, b.n - 2);
        GvJpegInfo in;
        CHECK_INT(info_of(c.d, c.n, &in), n_tem == 900 ? 0 : -EINVAL);
    }
}

/* Every prefix of every file: -EINVAL until the first SOS segment is
 * whole, the full header's values from there on. */
static void check_prefixes(const Buf *b)
{
    GvJpegInfo full, in;
    CHECK_INT(info_of(b->d, b->n, &full), 0);
    int bad = 0;
    for (size_t n = 0; n <= b->n; n++) {
        const int r = info_of(b->d, n, &in);
        if (r != (n < b->sos_end ? -EINVAL : 0) ||
            (r == 0 && memcmp(&in, &full, sizeof(in)) != 0))
            bad++;
    }
    CHECK_INT(bad, 0);
}

static void test_truncated_inputs(void)
{
    uint8_t p[1024];
    Buf x = { .n = 0 };
    put_exif(&x, 0, 0x0112, 3, 6, 2);
    put_icc_chunk(&x, p, make_icc(p, "sRGB", 1), 1, 1);
    Jpeg j = ycbcr420();
    j.extra = &x;
    j.adobe = 1;
    j.dri = 8;
    Buf b;
    make(&b, &j);
    check_prefixes(&b);
    j = ycbcr420();
    make(&b, &j);
    check_prefixes(&b);
}

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static int sane(const int r, const GvJpegInfo *in)
{
    if (r == -EINVAL)
        return 1;
    const char *why;
    gv_jpeg_engine_ok(in, 0, &why);
    return r == 0 && in->width >= 1 && in->height >= 1 && in->components >= 1 &&
           in->components <= 4 && in->orientation >= 1 && in->orientation <= 8 &&
           in->adobe_transform >= -1 && in->adobe_transform <= 255;
}

/* Random bytes after an SOI, and valid files with random bytes changed. */
static void test_garbage(void)
{
    uint32_t seed = 12345;
    uint8_t junk[600];
    int insane = 0;
    GvJpegInfo in;
    for (int k = 0; k < 3000; k++) {
        const size_t n = rnd(&seed) % sizeof(junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)rnd(&seed);
        if (n >= 2 && k % 2) {
            junk[0] = 0xFF;
            junk[1] = 0xD8;
        }
        insane += !sane(info_of(junk, n, &in), &in);
    }
    uint8_t p[1024];
    Buf x = { .n = 0 };
    put_exif(&x, 1, 0x0112, 3, 6, 2);
    put_icc_chunk(&x, p, make_icc(p, "sRGB IEC61966-2.1", 0), 1, 1);
    Jpeg j = ycbcr420();
    j.extra = &x;
    Buf b, c;
    make(&b, &j);
    for (int k = 0; k < 20000; k++) {
        c = b;
        for (int m = 0; m < 1 + k % 4; m++)
            c.d[2 + rnd(&seed) % (c.n - 2)] = (uint8_t)rnd(&seed);
        insane += !sane(info_of(c.d, c.n, &in), &in);
    }
    CHECK_INT(insane, 0);
}

int main(void)
{
    test_baseline_420_is_read_and_accepted();
    test_supported_samplings_are_accepted();
    test_other_coding_processes_are_refused();
    test_other_colour_models_are_refused();
    test_unsupported_samplings_are_refused();
    test_missing_or_odd_tables_are_refused();
    test_exif_orientation_in_both_byte_orders();
    test_icc_profiles();
    test_fill_bytes_and_standalone_markers();
    test_malformed_headers_are_refused();
    test_short_segments_at_the_end();
    test_marker_limit();
    test_truncated_inputs();
    test_garbage();
    return check_report("jpeginfo");
}
