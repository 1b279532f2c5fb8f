#include "jpeginfo.h"

#include <errno.h>
#include <string.h>

/* mluc records searched for the profile's name: real profiles have a few. */
#define MAX_MLUC_RECORDS 64

enum {
    M_SOF0 = 0xC0, M_DHT = 0xC4, M_JPG = 0xC8, M_DAC = 0xCC, M_SOF15 = 0xCF,
    M_RST0 = 0xD0, M_RST7 = 0xD7, M_SOI = 0xD8, M_EOI = 0xD9, M_SOS = 0xDA,
    M_DQT = 0xDB, M_DRI = 0xDD, M_APP1 = 0xE1, M_APP2 = 0xE2, M_APP14 = 0xEE, M_TEM = 0x01,
};

typedef struct State {
    GvJpegInfo info;
    int seen_sof;
    int tq[4];         /* quantization table of each frame component */
    unsigned qt_mask;  /* tables defined so far */
    unsigned qt16;     /* ... of which 16-bit */
    unsigned ht_mask;  /* Huffman tables defined so far: bit 4 * class + index */
    int icc_first;     /* the first ICC segment has been looked at */
} State;

static unsigned rd16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned tiff16(const uint8_t *p, const int le)
{
    return le ? (unsigned)p[1] << 8 | p[0] : rd16(p);
}

static uint32_t tiff32(const uint8_t *p, const int le)
{
    return le ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : rd32(p);
}

/* EXIF orientation from an APP1 payload, IFD0 only; 1 when absent or invalid. */
static int exif_orientation(const uint8_t *p, const size_t n)
{
    if (n < 6 + 8 || memcmp(p, "Exif\0\0", 6) != 0)
        return 1;
    const uint8_t *const t = p + 6; /* TIFF header: offsets count from here */
    const size_t tn = n - 6;
    int le;
    if (t[0] == 'I' && t[1] == 'I')
        le = 1;
    else if (t[0] == 'M' && t[1] == 'M')
        le = 0;
    else
        return 1;
    if (tiff16(t + 2, le) != 42)
        return 1;
    const uint32_t ifd = tiff32(t + 4, le);
    if (ifd > tn || tn - ifd < 2)
        return 1;
    /* A count past the segment is cut to the entries that fit: a cut IFD
     * still holds whole entries, and the segment bounds the loop. */
    size_t count = tiff16(t + ifd, le);
    const size_t fit = (tn - ifd - 2) / 12;
    if (count > fit)
        count = fit;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *const e = t + ifd + 2 + 12 * i;
        if (tiff16(e, le) != 0x0112)
            continue;
        /* SHORT, the value inline. */
        const uint32_t n_values = tiff32(e + 4, le);
        if (tiff16(e + 2, le) != 3 || n_values < 1 || n_values > 2)
            return 1;
        const unsigned o = tiff16(e + 8, le);
        return o >= 1 && o <= 8 ? (int)o : 1;
    }
    return 1;
}

/* Whether s[0..n) contains "sRGB": ASCII (step 1) or UTF-16BE (step 2). */
static int has_srgb(const uint8_t *s, const size_t n, const size_t step)
{
    static const char key[4] = { 's', 'R', 'G', 'B' };
    for (size_t i = 0; n >= 4 * step && i <= n - 4 * step; i += step) {
        int j = 0;
        while (j < 4 && (step == 1 || s[i + 2 * (size_t)j] == 0) &&
               s[i + step * (size_t)j + step - 1] == (uint8_t)key[j])
            j++;
        if (j == 4)
            return 1;
    }
    return 0;
}

/* The text of a 'desc' tag: textDescriptionType (ICC v2, ASCII) or
 * multiLocalizedUnicodeType (v4, UTF-16BE records). */
static int desc_names_srgb(const uint8_t *d, const size_t n)
{
    if (n < 12)
        return 0;
    if (memcmp(d, "desc", 4) == 0) {
        const uint32_t count = rd32(d + 8);
        return has_srgb(d + 12, count < n - 12 ? count : n - 12, 1);
    }
    if (memcmp(d, "mluc", 4) != 0 || n < 16)
        return 0;
    const uint32_t n_rec = rd32(d + 8), rec_size = rd32(d + 12);
    if (rec_size < 12)
        return 0;
    const size_t fit = (n - 16) / rec_size;
    for (size_t i = 0; i < n_rec && i < fit && i < MAX_MLUC_RECORDS; i++) {
        const uint8_t *const r = d + 16 + i * rec_size;
        const uint32_t len = rd32(r + 4), off = rd32(r + 8);
        if (off <= n && len <= n - off && has_srgb(d + off, len, 2))
            return 1;
    }
    return 0;
}

/* Whether the ICC profile bytes p[0..n) (the first segment's share) hold a
 * 'desc' tag, wholly inside them, whose text names sRGB. */
static int icc_is_srgb(const uint8_t *p, size_t n)
{
    if (n < 132 || memcmp(p + 36, "acsp", 4) != 0)
        return 0;
    const uint32_t declared = rd32(p);
    if (declared < n)
        n = declared;
    if (n < 132)
        return 0;
    const uint32_t n_tags = rd32(p + 128);
    const size_t fit = (n - 132) / 12;
    for (size_t i = 0; i < n_tags && i < fit; i++) {
        const uint8_t *const e = p + 132 + 12 * i;
        if (memcmp(e, "desc", 4) != 0)
            continue;
        const uint32_t off = rd32(e + 4), size = rd32(e + 8);
        return off <= n && size <= n - off && desc_names_srgb(p + off, size);
    }
    return 0;
}

static int parse_sof(State *st, const int marker, const uint8_t *p, const size_t n)
{
    GvJpegInfo *const in = &st->info;
    if (st->seen_sof || n < 6)
        return -EINVAL;
    const int nf = p[5];
    if (nf < 1 || nf > 4 || n != 6 + 3 * (size_t)nf)
        return -EINVAL;
    in->sof = marker - M_SOF0;
    in->precision = p[0];
    in->height = (int)rd16(p + 1);
    in->width = (int)rd16(p + 3);
    in->components = nf;
    /* Height 0 defers it to a DNL marker, which libjpeg does not support either. */
    if (in->width == 0 || in->height == 0)
        return -EINVAL;
    const int lossless = (in->sof & 3) == 3;
    if (lossless ? in->precision < 2 || in->precision > 16
                 : in->precision != 8 && in->precision != 12)
        return -EINVAL;
    for (int c = 0; c < nf; c++) {
        const uint8_t *const q = p + 6 + 3 * c;
        in->id[c] = q[0];
        in->h[c] = q[1] >> 4;
        in->v[c] = q[1] & 15;
        st->tq[c] = q[2];
        if (in->h[c] < 1 || in->h[c] > 4 || in->v[c] < 1 || in->v[c] > 4 || q[2] > 3)
            return -EINVAL;
    }
    st->seen_sof = 1;
    return 0;
}

static int parse_dht(State *st, const uint8_t *p, const size_t n)
{
    /* Each table takes at least 17 bytes: the loop ends. */
    for (size_t i = 0; i < n;) {
        if (n - i < 17)
            return -EINVAL;
        const int tc = p[i] >> 4, th = p[i] & 15;
        size_t symbols = 0;
        for (int k = 1; k <= 16; k++)
            symbols += p[i + (size_t)k];
        if (tc > 1 || th > 3 || symbols > 256 || symbols > n - i - 17)
            return -EINVAL;
        st->ht_mask |= 1u << (4 * tc + th);
        i += 17 + symbols;
    }
    return 0;
}

static int parse_dqt(State *st, const uint8_t *p, const size_t n)
{
    for (size_t i = 0; i < n;) {
        const int pq = p[i] >> 4, tq = p[i] & 15;
        const size_t size = 1 + 64 * (size_t)(pq + 1);
        if (pq > 1 || tq > 3 || size > n - i)
            return -EINVAL;
        st->qt_mask |= 1u << tq;
        st->qt16 = pq ? st->qt16 | 1u << tq : st->qt16 & ~(1u << tq);
        i += size;
    }
    return 0;
}

/* The header of the first scan: its components must be the frame's. What
 * the tables look like at this point is what the decoder will use. */
static int parse_sos(State *st, const uint8_t *p, const size_t n)
{
    GvJpegInfo *const in = &st->info;
    if (!st->seen_sof || n < 1)
        return -EINVAL;
    const int ns = p[0];
    if (ns < 1 || ns > 4 || n != 4 + 2 * (size_t)ns)
        return -EINVAL;
    /* A scan uses DC tables when it starts at coefficient 0, AC tables when
     * it goes past it (a progressive DC scan has none). */
    const int ss = p[1 + 2 * ns], se = p[2 + 2 * ns];
    in->has_dht = 1;
    for (int s = 0; s < ns; s++) {
        const int cs = p[1 + 2 * s], td = p[2 + 2 * s] >> 4, ta = p[2 + 2 * s] & 15;
        int c = 0;
        while (c < in->components && in->id[c] != cs)
            c++;
        if (c == in->components || td > 3 || ta > 3)
            return -EINVAL;
        const int dc_missing = ss == 0 && !(st->ht_mask & 1u << td);
        const int ac_missing = se > 0 && !(st->ht_mask & 1u << (4 + ta));
        if (dc_missing || ac_missing)
            in->has_dht = 0;
    }
    for (int c = 0; c < in->components; c++) {
        if (!(st->qt_mask & 1u << st->tq[c]))
            in->qt_missing = 1;
        if (st->qt16 & 1u << st->tq[c])
            in->qt16 = 1;
    }
    return 0;
}

static int parse_app(State *st, const int marker, const uint8_t *p, const size_t n)
{
    GvJpegInfo *const in = &st->info;
    if (marker == M_APP1 && n > 4 && memcmp(p, "Exif", 4) == 0) {
        /* libvips keeps the last Exif segment: its orientation counts. */
        in->orientation = exif_orientation(p, n);
    } else if (marker == M_APP2 && n > 14 && memcmp(p, "ICC_PROFILE", 12) == 0) {
        in->has_icc = 1;
        /* Chunks number from 1; a profile split over several is sRGB only
         * when the description lies wholly in the first one. */
        if (p[12] == 1 && !st->icc_first) {
            st->icc_first = 1;
            in->icc_srgb = icc_is_srgb(p + 14, n - 14);
        }
    } else if (marker == M_APP14 && n >= 12 && memcmp(p, "Adobe", 5) == 0) {
        in->adobe_transform = p[11];
    }
    return 0;
}

static int parse_segment(State *st, const int marker, const uint8_t *p, const size_t n)
{
    switch (marker) {
    case M_DHT:
        return parse_dht(st, p, n);
    case M_DQT:
        return parse_dqt(st, p, n);
    case M_DRI:
        if (n != 2)
            return -EINVAL;
        st->info.restart_interval = (int)rd16(p);
        return 0;
    case M_JPG:
    case M_DAC:
        return 0;
    default:
        if (marker >= M_SOF0 && marker <= M_SOF15)
            return parse_sof(st, marker, p, n);
        return parse_app(st, marker, p, n);
    }
}

int gv_jpeg_info(const uint8_t *data, const size_t len, GvJpegInfo *info)
{
    if (!data || len < 4 || data[0] != 0xFF || data[1] != M_SOI)
        return -EINVAL;
    State st;
    memset(&st, 0, sizeof(st));
    st.info.orientation = 1;
    st.info.adobe_transform = -1;

    size_t pos = 2;
    for (int k = 0; k < GV_JPEG_MAX_MARKERS; k++) {
        if (pos >= len || data[pos] != 0xFF)
            return -EINVAL;
        while (pos < len && data[pos] == 0xFF)
            pos++;
        if (pos >= len)
            return -EINVAL;
        const int marker = data[pos++];
        if (marker == M_TEM || (marker >= M_RST0 && marker <= M_RST7))
            continue;
        /* 0x00 (a stuffed byte), the reserved 0x02..0xBF, a second SOI or
         * an EOI before any scan: not a JPEG header. */
        if (marker < M_SOF0 || marker == M_SOI || marker == M_EOI || len - pos < 2)
            return -EINVAL;
        const size_t seg = rd16(data + pos);
        if (seg < 2 || seg > len - pos)
            return -EINVAL;
        const uint8_t *const p = data + pos + 2;
        pos += seg;
        if (marker == M_SOS) {
            const int r = parse_sos(&st, p, seg - 2);
            if (r == 0)
                *info = st.info;
            return r;
        }
        const int r = parse_segment(&st, marker, p, seg - 2);
        if (r < 0)
            return r;
    }
    return -EINVAL;
}

static const char *coding_problem(const GvJpegInfo *in)
{
    switch (in->sof) {
    case 0:
    case 1:
        return NULL;
    case 2:
        return "progressive";
    case 3:
        return "lossless";
    case 5:
    case 6:
    case 7:
        return "hierarchical";
    default:
        return "arithmetic coding";
    }
}

static const char *colour_problem(const GvJpegInfo *in)
{
    if (in->components == 4)
        return in->adobe_transform == 2 ? "YCCK" : "CMYK";
    if (in->components == 2)
        return "2 components";
    if (in->components != 3)
        return NULL;
    /* libjpeg takes either sign for RGB, depending on the other markers:
     * both send the file to libvips. */
    if (in->adobe_transform == 0 || (in->id[0] == 'R' && in->id[1] == 'G' && in->id[2] == 'B'))
        return "RGB JPEG";
    if (in->h[1] != 1 || in->v[1] != 1 || in->h[2] != 1 || in->v[2] != 1)
        return "chroma sampling";
    if (in->h[0] == 4 && in->v[0] == 1)
        return "4:1:1 subsampling";
    if (in->h[0] > 2 || in->v[0] > 2)
        return "subsampling";
    return NULL;
}

int gv_jpeg_engine_ok(const GvJpegInfo *info, const uint64_t max_pixels, const char **why)
{
    const char *r = coding_problem(info);
    if (!r && info->precision != 8)
        r = info->precision == 12 ? "12-bit" : "not 8-bit";
    if (!r)
        r = colour_problem(info);
    if (!r && !info->has_dht)
        r = "no Huffman tables";
    if (!r && info->qt_missing)
        r = "no quantization table";
    if (!r && info->qt16)
        r = "16-bit quantization table";
    if (!r && info->has_icc && !info->icc_srgb)
        r = "ICC profile";
    if (!r && (info->width < 1 || info->width > 65535 || info->height < 1 ||
               info->height > 65535))
        r = "size";
    if (!r && max_pixels && (uint64_t)info->width * (uint64_t)info->height > max_pixels)
        r = "too many pixels";
    if (why)
        *why = r;
    return r == NULL;
}
