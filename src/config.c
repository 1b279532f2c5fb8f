/*
 * Settings: defaults, the table of keys (shared by the CLI's flags, the
 * environment and .env files), parsing values from text, the .env format
 * and the whole-settings check. No I/O: callers bring the text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codecs.h"
#include "config.h"
#include "gridvid/gridvid.h"
#include "layout.h"
#include "log.h"

/* Enum fields are stored through the table's offsets as int. */
_Static_assert(sizeof(GvCrop) == sizeof(int), "enum size");
_Static_assert(sizeof(GvLayoutKind) == sizeof(int), "enum size");
_Static_assert(sizeof(GvDirection) == sizeof(int), "enum size");
_Static_assert(sizeof(GvEasing) == sizeof(int), "enum size");
_Static_assert(sizeof(GvGpuMode) == sizeof(int), "enum size");
_Static_assert(sizeof(GvOrder) == sizeof(int), "enum size");
_Static_assert(sizeof(GvClipLoop) == sizeof(int), "enum size");
_Static_assert(sizeof(GvClipStart) == sizeof(int), "enum size");
_Static_assert(sizeof(GvLivePhotos) == sizeof(int), "enum size");
_Static_assert(sizeof(GvCamera) == sizeof(int), "enum size");
_Static_assert(sizeof(GvTextStyle) == sizeof(int), "enum size");
_Static_assert(sizeof(GvLogoPosition) == sizeof(int), "enum size");
_Static_assert(sizeof(GvBeatSync) == sizeof(int), "enum size");

#define MAX_FPS 1000
#define MAX_DURATION 3600
#define MAX_SIZE 16384
#define MIN_SIZE 16
#define MAX_ASPECT 10000
#define MAX_TILE_HEIGHT 16384
#define MAX_TILE_WIDTH 65536
#define MAX_SPEED 1000000
#define MAX_BITRATE INT64_C(10000000000)
#define MAX_PIXELS_LIMIT UINT64_C(1000000000000)
#define MAX_MEMORY_LIMIT 1048576 /* MiB */
#define MAX_EXIF_FIELD 64 /* characters of CAPTION's exif:FIELD */
/* Longest part of a rejected value quoted back in a message. */
#define QUOTE_MAX 64

/* ------------------------------------------------------------------ */
/* Small text helpers (ASCII only: the locale must not change parsing) */

static int is_digit(const int c)
{
    return c >= '0' && c <= '9';
}

static int lower(const int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        const int ca = lower((unsigned char)*a), cb = lower((unsigned char)*b);
        if (ca != cb || !ca)
            return ca - cb;
    }
}

static void set_err(char *err, const size_t errlen, const char *fmt, ...) GV_PRINTF(3, 4);
static void set_err(char *err, const size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/*
 * Copies a value for quoting in a message: it may hold any bytes (it can
 * come from a fuzzed .env file), so control and non-ASCII bytes are
 * escaped and long values are cut.
 */
static void quote_mem(char *dst, const size_t size, const char *v, const size_t n)
{
    size_t o = 0, i = 0;
    for (; i < n && i < QUOTE_MAX && o + 8 < size; i++) {
        const unsigned char c = (unsigned char)v[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            dst[o++] = (char)c;
        else
            o += (size_t)snprintf(dst + o, size - o, c == '\\' ? "\\\\" : "\\x%02x", c);
    }
    if (i < n && o + 4 <= size)
        o += (size_t)snprintf(dst + o, size - o, "...");
    dst[o] = '\0';
}

static void quote(char *dst, const size_t size, const char *v)
{
    quote_mem(dst, size, v, strlen(v));
}

static int bad_value(char *err, const size_t errlen, const char *key, const char *value,
                     const char *expect)
{
    char q[QUOTE_MAX * 4 + 8];
    quote(q, sizeof(q), value);
    set_err(err, errlen, "%s: '%s' is not valid: %s", key, q, expect);
    return GV_ERR_SETTING;
}

/* ------------------------------------------------------------------ */
/* Numbers: strict, exact, no locale, no sign (but for signed reals)  */

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        const uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Plain decimal integer: one or more digits and nothing else. */
static int parse_u64(const char *v, uint64_t *out)
{
    uint64_t n = 0;
    if (!is_digit((unsigned char)*v))
        return -1;
    for (; is_digit((unsigned char)*v); v++) {
        const unsigned d = (unsigned)(*v - '0');
        if (n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return *v ? -1 : 0;
}

/*
 * A decimal "12", "12.5", ".5" or "12." as the exact fraction num/den with
 * den a power of ten. Parsing stops at the first other byte; *end points
 * there. Values needing more than 18 significant digits are refused
 * rather than rounded, so what is stored is what was written.
 */
static int parse_decimal(const char *v, uint64_t *num, uint64_t *den, const char **end)
{
    const uint64_t limit = UINT64_C(1000000000000000000);
    uint64_t n = 0, d = 1;
    int digits = 0;
    for (; is_digit((unsigned char)*v); v++, digits++) {
        if (n >= limit / 10)
            return -1;
        n = n * 10 + (uint64_t)(*v - '0');
    }
    if (*v == '.') {
        v++;
        /* Trailing zeros of the fraction add nothing; skipping them keeps
         * "29.970000000000000000" representable. */
        const char *last = v;
        for (const char *p = v; is_digit((unsigned char)*p); p++)
            if (*p != '0')
                last = p + 1;
        for (; is_digit((unsigned char)*v); v++, digits++) {
            if (v >= last)
                continue;
            if (n >= limit / 10 || d >= limit / 10)
                return -1;
            n = n * 10 + (uint64_t)(*v - '0');
            d *= 10;
        }
    }
    if (!digits)
        return -1;
    *num = n;
    *den = d;
    *end = v;
    return 0;
}

/* A decimal as a double; both parts are below 2^60, so the division
 * rounds once (exactly for the usual values). A leading '-' is taken only
 * when signed (for keys whose range goes below 0); "-0" is 0. */
static int parse_real(const char *v, const int signed_ok, double *out)
{
    uint64_t n, d;
    const char *end;
    const int neg = signed_ok && *v == '-';
    if (parse_decimal(v + neg, &n, &d, &end) < 0 || *end)
        return -1;
    *out = (double)n / (double)d;
    if (neg && n)
        *out = -*out;
    return 0;
}

/*
 * "A" or "A<sep>B" (sep one of seps) with decimal A and B, as a reduced
 * fraction with both parts at most max. The ratio must be positive.
 */
static int parse_ratio(const char *v, const char *seps, const uint64_t max, int *num, int *den)
{
    uint64_t an, ad, bn = 1, bd = 1;
    const char *end;
    if (parse_decimal(v, &an, &ad, &end) < 0)
        return -1;
    if (*end) {
        if (!strchr(seps, *end) || parse_decimal(end + 1, &bn, &bd, &end) < 0 || *end)
            return -1;
    }
    if (!an || !bn)
        return -1;
    /* (an / ad) / (bn / bd) = (an * bd) / (ad * bn); reduce crosswise
     * first so that the products stay small. */
    uint64_t g = gcd_u64(an, bn);
    an /= g;
    bn /= g;
    g = gcd_u64(ad, bd);
    ad /= g;
    bd /= g;
    if (an > UINT64_MAX / bd || ad > UINT64_MAX / bn)
        return -1;
    uint64_t n = an * bd, d = ad * bn;
    g = gcd_u64(n, d);
    n /= g;
    d /= g;
    if (n > max || d > max)
        return -1;
    *num = (int)n;
    *den = (int)d;
    return 0;
}

/* A count with an optional decimal k/M/G suffix (powers of 1000):
 * "5000000", "5M", "2.5M", "800k". The result must be whole. */
static int parse_si(const char *v, const uint64_t max, uint64_t *out)
{
    uint64_t n, d, mult = 1;
    const char *end;
    if (parse_decimal(v, &n, &d, &end) < 0)
        return -1;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mult = UINT64_C(1000); break;
        case 'm': case 'M': mult = UINT64_C(1000000); break;
        case 'g': case 'G': mult = UINT64_C(1000000000); break;
        default: return -1;
        }
        if (end[1])
            return -1;
    }
    const uint64_t g = gcd_u64(mult, d);
    mult /= g;
    d /= g;
    if (n % d)
        return -1;
    n /= d;
    if (n > UINT64_MAX / mult)
        return -1;
    n *= mult;
    if (n > max)
        return -1;
    *out = n;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = { "true", "1", "yes", "on" };
    static const char *const no[] = { "false", "0", "no", "off" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!ascii_casecmp(v, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!ascii_casecmp(v, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Named values                                                        */

typedef struct Name {
    const char *name;
    int value;
} Name;

static int lookup(const Name *names, const char *v, int *out)
{
    for (; names->name; names++) {
        if (!ascii_casecmp(v, names->name)) {
            *out = names->value;
            return 0;
        }
    }
    return -1;
}

static const Name crop_names[] = {
    { "center", GV_CROP_CENTER }, { "centre", GV_CROP_CENTER },
    { "top", GV_CROP_TOP },       { "bottom", GV_CROP_BOTTOM },
    { "left", GV_CROP_LEFT },     { "right", GV_CROP_RIGHT },
    { "attention", GV_CROP_ATTENTION }, { "entropy", GV_CROP_ENTROPY },
    { NULL, 0 },
};

static const Name gpu_names[] = {
    { "auto", GV_GPU_AUTO },   { "require", GV_GPU_REQUIRE },
    { "true", GV_GPU_TRUE },   { "1", GV_GPU_TRUE },   { "yes", GV_GPU_TRUE },
    { "on", GV_GPU_TRUE },     { "false", GV_GPU_FALSE }, { "0", GV_GPU_FALSE },
    { "no", GV_GPU_FALSE },    { "off", GV_GPU_FALSE },
    { NULL, 0 },
};

static const Name layout_names[] = {
    { "rows", GV_LAYOUT_ROWS }, { "columns", GV_LAYOUT_COLUMNS }, { NULL, 0 },
};

/* up and down name the same motions for columns; they are accepted
 * whatever the layout, since LAYOUT may be set after DIRECTION. */
static const Name direction_names[] = {
    { "left", GV_DIRECTION_LEFT },   { "right", GV_DIRECTION_RIGHT },
    { "alternate", GV_DIRECTION_ALTERNATE },
    { "up", GV_DIRECTION_LEFT },     { "down", GV_DIRECTION_RIGHT },
    { NULL, 0 },
};

static const Name easing_names[] = {
    { "linear", GV_EASING_LINEAR },   { "ease-in-out", GV_EASING_EASE_IN_OUT },
    { "ease-in", GV_EASING_EASE_IN }, { "ease-out", GV_EASING_EASE_OUT },
    { NULL, 0 },
};

static const Name clip_loop_names[] = {
    { "loop", GV_CLIP_LOOP }, { "bounce", GV_CLIP_BOUNCE }, { "hold", GV_CLIP_HOLD },
    { NULL, 0 },
};

static const Name clip_start_names[] = {
    { "visible", GV_CLIP_START_VISIBLE }, { "zero", GV_CLIP_START_ZERO }, { NULL, 0 },
};

static const Name live_names[] = {
    { "play", GV_LIVE_PLAY }, { "still", GV_LIVE_STILL }, { NULL, 0 },
};

static const Name camera_names[] = {
    { "none", GV_CAMERA_NONE }, { "tilted", GV_CAMERA_TILTED }, { "floor", GV_CAMERA_FLOOR },
    { "side", GV_CAMERA_SIDE }, { NULL, 0 },
};

static const Name text_style_names[] = {
    { "plate", GV_TEXT_PLATE }, { "shadow", GV_TEXT_SHADOW }, { "none", GV_TEXT_NONE },
    { NULL, 0 },
};

static const Name logo_position_names[] = {
    { "bottom-right", GV_LOGO_BOTTOM_RIGHT }, { "bottom-left", GV_LOGO_BOTTOM_LEFT },
    { "top-right", GV_LOGO_TOP_RIGHT },       { "top-left", GV_LOGO_TOP_LEFT },
    { "center", GV_LOGO_CENTER },             { "centre", GV_LOGO_CENTER },
    { NULL, 0 },
};

static const Name beat_sync_names[] = {
    { "off", GV_BEAT_OFF }, { "steps", GV_BEAT_STEPS }, { "pulse", GV_BEAT_PULSE },
    { NULL, 0 },
};

static const struct {
    const char *name, *alias;
} codecs[] = {
#define CODEC(id, name, alias) { name, alias },
    GV_CODECS(CODEC)
#undef CODEC
};

/* The canonical spelling, so that later stages compare one name per codec. */
static const char *codec_name(const char *v)
{
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
        if (!ascii_casecmp(v, codecs[i].name) ||
            (codecs[i].alias && !ascii_casecmp(v, codecs[i].alias)))
            return codecs[i].name;
    return NULL;
}

typedef struct Size {
    const char *name;
    int w, h;
} Size;

static const Size sizes[] = {
    { "720p", 1280, 720 },  { "1080p", 1920, 1080 }, { "1440p", 2560, 1440 },
    { "4k", 3840, 2160 },   { "2160p", 3840, 2160 }, { "reel", 1080, 1920 },
    { "square", 1080, 1080 },
};

typedef struct Colour {
    const char *name;
    uint8_t rgb[3];
} Colour;

/* CSS values of the usual names. */
static const Colour colours[] = {
    { "black", { 0, 0, 0 } },         { "white", { 255, 255, 255 } },
    { "gray", { 128, 128, 128 } },    { "grey", { 128, 128, 128 } },
    { "silver", { 192, 192, 192 } },  { "red", { 255, 0, 0 } },
    { "green", { 0, 128, 0 } },       { "lime", { 0, 255, 0 } },
    { "blue", { 0, 0, 255 } },        { "navy", { 0, 0, 128 } },
    { "yellow", { 255, 255, 0 } },    { "cyan", { 0, 255, 255 } },
    { "aqua", { 0, 255, 255 } },      { "magenta", { 255, 0, 255 } },
    { "fuchsia", { 255, 0, 255 } },   { "orange", { 255, 165, 0 } },
    { "purple", { 128, 0, 128 } },    { "pink", { 255, 192, 203 } },
    { "brown", { 165, 42, 42 } },     { "maroon", { 128, 0, 0 } },
    { "olive", { 128, 128, 0 } },     { "teal", { 0, 128, 128 } },
};

static int hex_digit(const int c)
{
    if (is_digit(c))
        return c - '0';
    if (lower(c) >= 'a' && lower(c) <= 'f')
        return lower(c) - 'a' + 10;
    return -1;
}

static int parse_colour(const char *v, uint8_t rgb[3])
{
    for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++) {
        if (!ascii_casecmp(v, colours[i].name)) {
            memcpy(rgb, colours[i].rgb, 3);
            return 0;
        }
    }
    const char *hex = NULL;
    if (v[0] == '#')
        hex = v + 1;
    else if (v[0] == '0' && lower((unsigned char)v[1]) == 'x')
        hex = v + 2;
    if (hex) {
        const size_t n = strlen(hex);
        if (n != 3 && n != 6)
            return -1;
        uint8_t c[3];
        for (int k = 0; k < 3; k++) {
            if (n == 3) {
                const int x = hex_digit((unsigned char)hex[k]);
                if (x < 0)
                    return -1;
                c[k] = (uint8_t)(x * 17);
            } else {
                const int hi = hex_digit((unsigned char)hex[2 * k]);
                const int lo = hex_digit((unsigned char)hex[2 * k + 1]);
                if (hi < 0 || lo < 0)
                    return -1;
                c[k] = (uint8_t)(hi * 16 + lo);
            }
        }
        memcpy(rgb, c, 3);
        return 0;
    }
    /* r,g,b with optional spaces after the commas */
    uint8_t c[3];
    for (int k = 0; k < 3; k++) {
        if (k) {
            if (*v != ',')
                return -1;
            v++;
            while (*v == ' ')
                v++;
        }
        unsigned x = 0;
        int digits = 0;
        for (; is_digit((unsigned char)*v) && digits < 4; v++, digits++)
            x = x * 10 + (unsigned)(*v - '0');
        if (!digits || x > 255)
            return -1;
        c[k] = (uint8_t)x;
    }
    if (*v)
        return -1;
    memcpy(rgb, c, 3);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

typedef enum Type {
    T_STRING,   /* borrowed, must not be empty */
    T_OPTIONAL, /* borrowed; empty means unset (NULL) */
    T_INT,      /* int in [lo, hi] */
    T_REAL,     /* double in [rlo, rhi], or (rlo, rhi] when open */
    T_BOOL,     /* int 0 or 1 */
    T_ENUM,     /* int from names */
    T_CUSTOM,   /* parse() */
} Type;

typedef struct Key Key;

/* Parses v and stores it in s only when valid; may point *expect at a
 * more precise explanation than the key's own. */
typedef int (*ParseFn)(GvSettings *s, const char *v, const char **expect);

struct Key {
    GvSettingInfo info;
    Type type;
    size_t off;
    int64_t lo, hi;
    double rlo, rhi; /* T_REAL's range: its ends need not be whole */
    int open;
    const Name *names;
    ParseFn parse;
    const char *expect;
};

static int parse_fps(GvSettings *s, const char *v, const char **expect)
{
    int n, d;
    if (parse_ratio(v, "/", INT32_MAX, &n, &d) < 0)
        return -1;
    if ((int64_t)n > (int64_t)MAX_FPS * d) {
        *expect = "expected a positive frame rate of at most 1000";
        return -1;
    }
    s->fps_num = n;
    s->fps_den = d;
    return 0;
}

static int parse_aspect(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    int w, h;
    if (parse_ratio(v, ":/", MAX_ASPECT, &w, &h) < 0 || !strpbrk(v, ":/"))
        return -1;
    s->aspect_w = w;
    s->aspect_h = h;
    return 0;
}

static int parse_size(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (!ascii_casecmp(v, sizes[i].name)) {
            s->width = sizes[i].w;
            s->height = sizes[i].h;
            return 0;
        }
    }
    uint64_t w = 0, h = 0;
    const char *x = strpbrk(v, "xX");
    if (!x || x == v)
        return -1;
    /* Each side alone: parse_u64 wants the whole string to be digits. */
    for (const char *p = v; p < x; p++) {
        if (!is_digit((unsigned char)*p) || w > MAX_SIZE)
            return -1;
        w = w * 10 + (uint64_t)(*p - '0');
    }
    if (parse_u64(x + 1, &h) < 0)
        return -1;
    if (w < MIN_SIZE || w > MAX_SIZE || h < MIN_SIZE || h > MAX_SIZE)
        return -1;
    s->width = (int)w;
    s->height = (int)h;
    return 0;
}

static int parse_background(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    uint8_t rgb[3] = { 0, 0, 0 };
    const int transparent = !ascii_casecmp(v, "transparent");
    if (!transparent && parse_colour(v, rgb) < 0)
        return -1;
    memcpy(s->background, rgb, 3);
    s->transparent = transparent;
    return 0;
}

static int parse_text_color(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    return parse_colour(v, s->text_color);
}

/* CAPTION's keywords, in the one spelling later stages compare against. */
static const char *const caption_words[] = { "filename", "date", "sidecar" };

/*
 * A caption as the struct may hold it: NULL or "none" (none), one of
 * caption_words, or "exif:" and 1 to MAX_EXIF_FIELD of [A-Za-z0-9_-].
 */
static int caption_ok(const char *v)
{
    if (!v || !strcmp(v, "none"))
        return 1;
    for (size_t i = 0; i < sizeof(caption_words) / sizeof(caption_words[0]); i++)
        if (!strcmp(v, caption_words[i]))
            return 1;
    static const char prefix[] = "exif:";
    if (strncmp(v, prefix, sizeof(prefix) - 1))
        return 0;
    /* a name, or an XMP property with its prefix (dc:title): one colon
     * inside at most */
    size_t n = 0, colons = 0;
    for (const char *p = v + sizeof(prefix) - 1; *p; p++, n++) {
        const int c = (unsigned char)*p;
        if (c == ':' && n > 0 && p[1] && !colons++)
            continue;
        if (!is_digit(c) && !(lower(c) >= 'a' && lower(c) <= 'z') && c != '_' && c != '-')
            return 0;
    }
    return n >= 1 && n <= MAX_EXIF_FIELD;
}

/* none (stored as NULL), filename, date, sidecar (any case, stored in
 * their one spelling), or exif:FIELD (stored as written). */
static int parse_caption(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    if (!ascii_casecmp(v, "none")) {
        s->caption = NULL;
        return 0;
    }
    for (size_t i = 0; i < sizeof(caption_words) / sizeof(caption_words[0]); i++) {
        if (!ascii_casecmp(v, caption_words[i])) {
            s->caption = caption_words[i];
            return 0;
        }
    }
    if (!caption_ok(v))
        return -1;
    s->caption = v;
    return 0;
}

static int parse_codec(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    /* auto: the container's own default (h264, or vp9 for .webm) */
    if (!ascii_casecmp(v, "auto")) {
        s->codec = NULL;
        return 0;
    }
    const char *const c = codec_name(v);
    if (!c)
        return -1;
    s->codec = c;
    return 0;
}

static int parse_encoder(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    if (!*v)
        return -1;
    /* Store the one spelling later stages compare against. */
    s->encoder = ascii_casecmp(v, "auto") ? v : "auto";
    return 0;
}

static int parse_bitrate(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    uint64_t b;
    if (parse_si(v, (uint64_t)MAX_BITRATE, &b) < 0 || !b)
        return -1;
    s->bitrate = (int64_t)b;
    return 0;
}

static int parse_max_pixels(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    uint64_t n;
    if (parse_si(v, MAX_PIXELS_LIMIT, &n) < 0 || !n)
        return -1;
    s->max_pixels = n;
    return 0;
}

static int parse_order(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    static const Name orders[] = {
        { "name", GV_ORDER_NAME },   { "mtime", GV_ORDER_MTIME },
        { "shuffle", GV_ORDER_SHUFFLE }, { "given", GV_ORDER_GIVEN },
        { NULL, 0 },
    };
    int o;
    if (!lookup(orders, v, &o)) {
        s->order = (GvOrder)o;
        s->shuffle_seed = 0;
        return 0;
    }
    static const char prefix[] = "shuffle:";
    const size_t n = sizeof(prefix) - 1;
    uint64_t seed;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)v[i]) != prefix[i])
            return -1;
    if (parse_u64(v + n, &seed) < 0)
        return -1;
    s->order = GV_ORDER_SHUFFLE;
    s->shuffle_seed = seed;
    return 0;
}

/* auto, or MiB; 0 is auto too, as THREAD_COUNT's 0 is. */
static int parse_memory_limit(GvSettings *s, const char *v, const char **expect)
{
    (void)expect;
    uint64_t n = 0;
    if (ascii_casecmp(v, "auto") && (parse_u64(v, &n) < 0 || n > MAX_MEMORY_LIMIT))
        return -1;
    s->memory_limit_mib = (int)n;
    return 0;
}

#define OFF(field) offsetof(GvSettings, field)

#define STRING(k, f, a, h, d, field, e) \
    { .info = { k, f, a, h, d }, .type = T_STRING, .off = OFF(field), .expect = e }
#define OPTIONAL(k, f, a, h, d, field) \
    { .info = { k, f, a, h, d }, .type = T_OPTIONAL, .off = OFF(field) }
#define INT(k, f, a, h, d, field, l, u) \
    { .info = { k, f, a, h, d }, .type = T_INT, .off = OFF(field), .lo = l, .hi = u }
#define REAL(k, f, a, h, d, field, l, u, o, e) \
    { .info = { k, f, a, h, d }, .type = T_REAL, .off = OFF(field), .rlo = l, .rhi = u, \
      .open = o, .expect = e }
#define BOOL(k, f, a, h, d, field) \
    { .info = { k, f, a, h, d }, .type = T_BOOL, .off = OFF(field), \
      .expect = "expected true or false (also 1/0, yes/no, on/off)" }
#define ENUM(k, f, a, h, d, field, n, e) \
    { .info = { k, f, a, h, d }, .type = T_ENUM, .off = OFF(field), .names = n, .expect = e }
#define CUSTOM(k, f, a, h, d, fn, e) \
    { .info = { k, f, a, h, d }, .type = T_CUSTOM, .parse = fn, .expect = e }

/*
 * Every key, in the order --help lists them. SIZE and ASPECT set two
 * fields at once; they come before WIDTH, HEIGHT and ASPECT_RATIO_* so
 * that a caller applying a whole layer in table order lets the specific
 * key win.
 */
static const Key keys[] = {
    STRING("OUTPUT_FILENAME", "--output", "FILE",
           "output video; .mp4, .mov, .mkv, .webm, or an animated .webp or .gif", "output.mp4", output,
           "expected a file path"),
    CUSTOM("SIZE", "--size", "WxH|PRESET",
           "frame size: WxH, 720p, 1080p, 1440p, 4k, reel (1080x1920) or square",
           "1080p", parse_size,
           "expected WxH (each 16 to 16384) or 720p, 1080p, 1440p, 4k, 2160p, reel or square"),
    INT("WIDTH", "--width", "PIXELS", "frame width, even", "1920", width, MIN_SIZE, MAX_SIZE),
    INT("HEIGHT", "--height", "PIXELS", "frame height, even", "1080", height, MIN_SIZE, MAX_SIZE),
    CUSTOM("FPS", "--fps", "N[/D]", "frames per second: 30, 29.97 or 30000/1001", "30",
           parse_fps, "expected a positive frame rate such as 30, 29.97 or 30000/1001"),
    REAL("ANIMATION_DURATION", "--duration", "SECONDS", "length of the video", "10", duration,
         0, MAX_DURATION, 1, "expected seconds greater than 0 and at most 3600, such as 10 or 7.5"),
    ENUM("LAYOUT", "--layout", "rows|columns", "rows slide sideways, columns up and down",
         "rows", layout, layout_names, "expected rows or columns"),
    INT("ROWS", "--rows", "N", "rows (columns) of tiles, 0 = as many as fill the frame", "0",
        rows, 0, 1000),
    CUSTOM("ASPECT", "--aspect", "W:H", "tile aspect ratio (sets ASPECT_RATIO_W and _H)", "1:1",
           parse_aspect, "expected W:H with positive numbers up to 10000, such as 16:9 or 4:5"),
    INT("ASPECT_RATIO_W", "--aspect-ratio-w", "N", "tile aspect ratio, width part", "1",
        aspect_w, 1, MAX_ASPECT),
    INT("ASPECT_RATIO_H", "--aspect-ratio-h", "N", "tile aspect ratio, height part", "1",
        aspect_h, 1, MAX_ASPECT),
    INT("IMAGE_HEIGHT", "--tile-height", "PIXELS", "tile height", "360", tile_height, 1,
        MAX_TILE_HEIGHT),
    ENUM("CROP_POSITION", "--crop", "POSITION",
         "center, top, bottom, left, right, attention or entropy", "center", crop, crop_names,
         "expected center, top, bottom, left, right, attention or entropy"),
    INT("GAP", "--gap", "PIXELS", "space between tiles", "0", gap, 0, 4096),
    CUSTOM("BACKGROUND", "--background", "COLOUR",
           "a colour name, #rrggbb, #rgb or r,g,b; or transparent (alpha: ProRes 4444, VP9 or "
           "WebP)",
           "black", parse_background,
           "expected a colour name (black, white, gray, red, green, blue, ...), #rgb, #rrggbb, "
           "r,g,b with each 0 to 255, or transparent"),
    ENUM("DIRECTION", "--direction", "DIR", "left, right or alternate; up and down for columns",
         "left", direction, direction_names,
         "expected left, right or alternate (or up and down for columns)"),
    ENUM("EASING", "--easing", "CURVE", "linear, ease-in-out, ease-in or ease-out", "linear",
         easing, easing_names, "expected linear, ease-in-out, ease-in or ease-out"),
    REAL("SPEED", "--speed", "PX_PER_S",
         "px/s for every row; 0 = each row travels its own length once", "0",
         speed, 0, MAX_SPEED, 0, "expected pixels per second from 0 to 1000000"),
    INT("MOTION_BLUR", "--motion-blur", "N", "samples per frame, 1 = off", "1", motion_blur, 1,
        64),
    CUSTOM("ORDER", "--order", "ORDER", "name, mtime, shuffle (seed 0), shuffle:SEED or given",
           "name", parse_order,
           "expected name, mtime, shuffle, shuffle:SEED (SEED a whole number) or given"),
    BOOL("RECURSIVE", "--recursive", NULL, "descend into subdirectories", "false", recursive),
    BOOL("STRICT", "--strict", NULL, "stop at the first bad input file (exit 3)", "false",
         strict),
    ENUM("CLIP_LOOP", "--clip-loop", "loop|bounce|hold",
         "a clip shorter than its tile is shown: from the start again, backwards and forwards, "
         "or its last frame stays", "loop", clip_loop, clip_loop_names,
         "expected loop, bounce or hold"),
    ENUM("CLIP_START", "--clip-start", "visible|zero",
         "a clip starts when its tile first shows, or with the video", "visible", clip_start,
         clip_start_names, "expected visible or zero"),
    ENUM("LIVE_PHOTOS", "--live-photos", "play|still",
         "a still with a movie of the same name beside it plays the movie, or shows the still",
         "play", live_photos, live_names, "expected play or still"),
    REAL("KEN_BURNS", "--ken-burns", "PERCENT",
         "each tile zooms by this much while it crosses the frame, in or out in turn, towards "
         "its focus (panoramas and tall images pan instead); 0 = off", "0", ken_burns, 0, 50, 0,
         "expected a percentage from 0 to 50, such as 10"),
    ENUM("CAMERA", "--camera", "none|tilted|floor|side",
         "the wall seen through a perspective camera: none (flat), tilted, floor or side",
         "none", camera, camera_names, "expected none, tilted, floor or side"),
    REAL("TILT", "--tilt", "DEGREES",
         "the wall turned about its horizontal axis, positive: its top leans away; "
         "0 = CAMERA's angle", "0", tilt, -80, 80, 0,
         "expected degrees from -80 to 80, such as 25"),
    REAL("TURN", "--turn", "DEGREES",
         "the wall turned about its vertical axis, positive: its right side goes away; "
         "0 = CAMERA's angle", "0", turn, -80, 80, 0,
         "expected degrees from -80 to 80, such as -15"),
    REAL("FOV", "--fov", "DEGREES", "the camera's vertical field of view", "50", fov, 10, 120,
         0, "expected degrees from 10 to 120, such as 50"),
    REAL("DISTANCE", "--distance", "FACTOR",
         "the camera's distance from the wall, 1 = the wall's centre at its own scale, "
         "larger is farther", "1", distance, 0.25, 8, 0,
         "expected a factor from 0.25 to 8, such as 1 or 1.5"),
    REAL("DEPTH_FADE", "--depth-fade", "PERCENT",
         "how much the far wall fades into BACKGROUND (100: fully at 4 x the centre's distance)",
         "0", depth_fade, 0, 100, 0, "expected a percentage from 0 to 100, such as 30"),
    OPTIONAL("TITLE", "--title", "TEXT",
             "a title card over the wall for its first TITLE_DURATION seconds", "none", title),
    OPTIONAL("SUBTITLE", "--subtitle", "TEXT", "a smaller line under the title", "none",
             subtitle),
    REAL("TITLE_DURATION", "--title-duration", "SECONDS",
         "how long the title shows, fading in and out", "4", title_duration, 0.5, MAX_DURATION,
         0, "expected seconds from 0.5 to 3600, such as 4"),
    STRING("FONT", "--font", "NAME",
           "the font family of all text, such as Sans, DejaVu Serif or Noto Sans CJK JP", "Sans",
           font, "expected a font family name such as Sans or DejaVu Serif"),
    INT("TITLE_SIZE", "--title-size", "PIXELS",
        "the title's text height, 0 = a twelfth of the frame height", "0", title_size, 0, 2000),
    CUSTOM("TEXT_COLOR", "--text-color", "COLOUR",
           "the colour of all text: a colour name, #rrggbb, #rgb or r,g,b", "white",
           parse_text_color,
           "expected a colour name (black, white, gray, red, green, blue, ...), #rgb, #rrggbb "
           "or r,g,b with each 0 to 255"),
    ENUM("TEXT_STYLE", "--text-style", "plate|shadow|none",
         "what keeps text readable: a translucent dark plate behind it, a soft shadow, or "
         "nothing", "plate", text_style, text_style_names, "expected plate, shadow or none"),
    CUSTOM("CAPTION", "--caption", "none|filename|date|exif:FIELD|sidecar",
           "a caption in every tile: the file's name, the capture date, an EXIF or XMP field "
           "such as exif:Model, or the text of the .txt file beside the image",
           "none", parse_caption,
           "expected none, filename, date, sidecar, or exif: and a field name of 1 to 64 "
           "letters, digits, _ or - (and one colon inside, for XMP) such as exif:Model or "
           "exif:dc:title"),
    INT("CAPTION_SIZE", "--caption-size", "PIXELS",
        "the caption's text height, 0 = a twelfth of the tile height (at least 10)", "0",
        caption_size, 0, 1000),
    OPTIONAL("LOGO", "--logo", "FILE",
             "an image (a PNG with alpha, or any) drawn over the whole video", "none", logo),
    ENUM("LOGO_POSITION", "--logo-position", "top-left|top-right|bottom-left|bottom-right|center",
         "where the logo goes in the frame", "bottom-right", logo_position, logo_position_names,
         "expected top-left, top-right, bottom-left, bottom-right or center"),
    REAL("LOGO_SIZE", "--logo-size", "PERCENT",
         "the logo's width as a percentage of the frame's width", "15", logo_size, 1, 100, 0,
         "expected a percentage from 1 to 100, such as 15"),
    ENUM("BEAT_SYNC", "--beat-sync", "off|steps|pulse",
         "the wall's motion follows the beat of AUDIO: rows move in eased steps that land on "
         "the beats (steps), or speed up in pulses on them (pulse); the video still loops "
         "seamlessly", "off", beat_sync, beat_sync_names, "expected off, steps or pulse"),
    CUSTOM("MAX_PIXELS", "--max-pixels", "N", "refuse larger images (k, M, G suffixes)", "200M",
           parse_max_pixels, "expected a pixel count from 1 to 1000G such as 200000000 or 200M"),
    CUSTOM("CODEC", "--codec", "CODEC",
           "auto (h264; vp9 for .webm; webp for .webp; gif for .gif), h264, hevc, av1, prores, vp9, "
           "webp or gif",
           "auto", parse_codec,
           "expected auto, h264, hevc (or h265), av1, prores, vp9, webp or gif"),
    CUSTOM("ENCODER", "--encoder", "NAME", "auto, or an FFmpeg encoder such as libx264",
           "auto", parse_encoder, "expected auto or an FFmpeg encoder name"),
    INT("CRF", "--crf", "N", "quality of software encoders, lower is better", "23", crf, 0, 63),
    STRING("PRESET", "--preset", "NAME", "software encoder speed preset", "faster", preset,
           "expected an encoder preset name such as faster"),
    CUSTOM("BITRATE", "--bitrate", "BITS", "bits per second for hardware encoders (k, M, G)",
           "5M", parse_bitrate,
           "expected bits per second from 1 to 10G, such as 5000000, 5M or 800k"),
    OPTIONAL("AUDIO", "--audio", "FILE", "audio to mux in, cut to the video's length", "none",
             audio),
    BOOL("USE_VIDEOTOOLBOX", "--videotoolbox", "BOOL", "prefer VideoToolbox on macOS", "true",
         videotoolbox),
    ENUM("USE_GPU", "--gpu", "auto|true|false|require",
         "GPU when one works (true: warn if not), CPU only, or GPU or fail", "auto", gpu,
         gpu_names, "expected auto, true, false or require"),
    ENUM("GPU_DECODE", "--gpu-decode", "auto|true|false|require",
         "JPEG decoding on the GPU's JPEG engine where there is one (true: warn if not), never, "
         "or engine or fail", "auto", gpu_decode, gpu_names,
         "expected auto, true, false or require"),
    OPTIONAL("GPU_DEVICE", "--gpu-device", "NAME",
             "use the Vulkan device whose name contains NAME", "first suitable", gpu_device),
    INT("GPU_MEMORY_LIMIT", "--gpu-memory", "MIB", "memory the GPU path may hold", "2048",
        gpu_memory_mib, 64, 1048576),
    CUSTOM("MEMORY_LIMIT", "--memory-limit", "MIB|auto",
           "memory the frames may hold, sizing the encoder's threads and look-ahead; "
           "auto or 0 = 2048", "auto", parse_memory_limit,
           "expected auto, or MiB as a whole number from 0 (auto) to 1048576"),
    INT("THREAD_COUNT", "--threads", "N", "worker threads, 0 = one per core", "0", threads, 0,
        1024),
    INT("MEMORY_BATCH_SIZE", "--batch", "N", "images decoded at once, 0 = 2 x threads", "0",
        batch, 0, 4096),
    BOOL("STREAM_PROCESSING", "--stream", "BOOL",
         "false: also keep every frame as PNG in TEMP_DIR", "true", stream),
    OPTIONAL("TEMP_DIR", "--temp-dir", "DIR", "where temporary files go", "system temp",
             temp_dir),
    OPTIONAL("PREVIEW", "--preview", "FILE.png", "write one frame as PNG instead of a video",
             "none", preview),
    REAL("PREVIEW_AT", "--at", "SECONDS", "time of the preview frame", "0", preview_at, 0,
         MAX_DURATION, 0, "expected seconds from 0 to 3600"),
};

#define N_KEYS ((int)(sizeof(keys) / sizeof(keys[0])))

static const Key *find_key(const char *key)
{
    for (int i = 0; i < N_KEYS; i++)
        if (!strcmp(keys[i].info.key, key))
            return &keys[i];
    return NULL;
}

static void store(GvSettings *s, const size_t off, const void *v, const size_t size)
{
    memcpy((char *)s + off, v, size);
}

/* Whether d is within a T_REAL key's range (false for NaN). */
static int real_in_range(const Key *k, const double d)
{
    return d >= k->rlo && d <= k->rhi && !(k->open && d == k->rlo);
}

/* Parses v for k and stores it; s is untouched on failure. */
static int apply(GvSettings *s, const Key *k, const char *v, const char **expect)
{
    switch (k->type) {
    case T_STRING:
        if (!*v)
            return -1;
        store(s, k->off, &v, sizeof(v));
        return 0;
    case T_OPTIONAL: {
        const char *const p = *v ? v : NULL;
        store(s, k->off, &p, sizeof(p));
        return 0;
    }
    case T_INT: {
        uint64_t u;
        if (parse_u64(v, &u) < 0 || u < (uint64_t)k->lo || u > (uint64_t)k->hi)
            return -1;
        const int i = (int)u;
        store(s, k->off, &i, sizeof(i));
        return 0;
    }
    case T_REAL: {
        double d;
        if (parse_real(v, k->rlo < 0, &d) < 0 || !real_in_range(k, d))
            return -1;
        store(s, k->off, &d, sizeof(d));
        return 0;
    }
    case T_BOOL: {
        int b;
        if (parse_bool(v, &b) < 0)
            return -1;
        store(s, k->off, &b, sizeof(b));
        return 0;
    }
    case T_ENUM: {
        int e;
        if (lookup(k->names, v, &e) < 0)
            return -1;
        store(s, k->off, &e, sizeof(e));
        return 0;
    }
    case T_CUSTOM:
        return k->parse(s, v, expect);
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                 */

/*
 * The defaults are the table's: every key's default text is parsed as a
 * value would be, so --help, the man page and the library cannot
 * disagree. Optional keys describe their unset state in words ("none",
 * "system temp") and stay NULL.
 */
GV_API void gv_default_settings(GvSettings *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < N_KEYS; i++) {
        const char *expect = NULL;
        /* tests/test_settings.c checks that every default parses */
        if (keys[i].type != T_OPTIONAL)
            apply(s, &keys[i], keys[i].info.def, &expect);
    }
    s->log_level = GV_LOG_WARNING;
}

const char *gv_setting_name(const char *key, const int value)
{
    const Key *const k = find_key(key);
    if (!k || k->type != T_ENUM)
        return "?";
    for (const Name *n = k->names; n->name; n++)
        if (n->value == value)
            return n->name;
    return "?";
}

const char *gv_settings_temp_dir(const GvSettings *s)
{
    if (s->temp_dir)
        return s->temp_dir;
    const char *const env = getenv("TMPDIR");
    return env && *env ? env : "/tmp";
}

GV_API int gv_setting_count(void)
{
    return N_KEYS;
}

GV_API const GvSettingInfo *gv_setting_info(const int i)
{
    return i >= 0 && i < N_KEYS ? &keys[i].info : NULL;
}

GV_API int gv_settings_set(GvSettings *s, const char *key, const char *value, char *err,
                           const size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (!s || !key)
        return -EINVAL;
    const Key *const k = find_key(key);
    if (!k) {
        char q[QUOTE_MAX * 4 + 8];
        quote(q, sizeof(q), key);
        set_err(err, errlen, "%s: unknown setting", q);
        return -ENOENT;
    }
    if (!value) {
        set_err(err, errlen, "%s: no value given", k->info.key);
        return GV_ERR_SETTING;
    }
    const char *expect = k->expect;
    if (apply(s, k, value, &expect) < 0) {
        char range[64];
        if (!expect) {
            snprintf(range, sizeof(range), "expected a whole number from %" PRId64 " to %" PRId64,
                     k->lo, k->hi);
            expect = range;
        }
        return bad_value(err, errlen, k->info.key, value, expect);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* .env                                                                */

static int is_space(const int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_key_start(const int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_key_char(const int c)
{
    return is_key_start(c) || is_digit(c);
}

/*
 * One line without its newline. Fills buf with "KEY\0VALUE\0" and sets
 * *has to 1 for a pair, 0 for a blank or comment line; buf has room for
 * n + 2 bytes. Returns 0, or -1 with *why set for a malformed line.
 */
static int parse_line(const char *p, const size_t n, char *buf, int *has, const char **why)
{
    size_t i = 0;
    *has = 0;
    while (i < n && is_space((unsigned char)p[i]))
        i++;
    if (i == n || p[i] == '#')
        return 0;

    if (n - i > 6 && !memcmp(p + i, "export", 6) && is_space((unsigned char)p[i + 6])) {
        size_t j = i + 6;
        while (j < n && is_space((unsigned char)p[j]))
            j++;
        /* "export = 1" sets a key named export */
        if (j < n && p[j] != '=')
            i = j;
    }

    const size_t ks = i;
    if (!is_key_start((unsigned char)p[i])) {
        *why = "expected KEY=value";
        return -1;
    }
    while (i < n && is_key_char((unsigned char)p[i]))
        i++;
    const size_t klen = i - ks;
    while (i < n && is_space((unsigned char)p[i]))
        i++;
    if (i == n || p[i] != '=') {
        *why = i < n && i == ks + klen ? "a key holds only letters, digits and _"
                                       : "expected KEY=value";
        return -1;
    }
    i++;
    while (i < n && is_space((unsigned char)p[i]))
        i++;

    memcpy(buf, p + ks, klen);
    buf[klen] = '\0';
    char *const val = buf + klen + 1;
    size_t o = 0;

    if (i < n && (p[i] == '"' || p[i] == '\'')) {
        const char q = p[i++];
        for (;;) {
            if (i == n) {
                *why = "the quoted value has no closing quote";
                return -1;
            }
            const char c = p[i++];
            if (c == q)
                break;
            if (c == '\0') {
                *why = "the value holds a NUL byte";
                return -1;
            }
            if (q == '"' && c == '\\' && i < n && (p[i] == '"' || p[i] == '\\' || p[i] == 'n')) {
                val[o++] = p[i] == 'n' ? '\n' : p[i];
                i++;
                continue;
            }
            val[o++] = c;
        }
        while (i < n && is_space((unsigned char)p[i]))
            i++;
        if (i < n && p[i] != '#') {
            *why = "unexpected text after the closing quote";
            return -1;
        }
    } else {
        const size_t vs = i;
        size_t end = n;
        /* As in the shell, '#' starts a comment only after a space, so
         * that BACKGROUND=#102030 keeps its colour and "KEY= # note" is
         * empty. p[vs - 1] is '=' or a space. */
        for (size_t j = vs; j < n; j++) {
            if (p[j] == '#' && is_space((unsigned char)p[j - 1])) {
                end = j;
                break;
            }
        }
        while (end > vs && is_space((unsigned char)p[end - 1]))
            end--;
        if (memchr(p + vs, '\0', end - vs)) {
            *why = "the value holds a NUL byte";
            return -1;
        }
        memcpy(val, p + vs, end - vs);
        o = end - vs;
    }
    val[o] = '\0';
    *has = 1;
    return 0;
}

GV_API int gv_env_parse(const char *text, const size_t len, const GvEnvCallback cb,
                        void *opaque, char *err, const size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if ((!text && len) || !cb)
        return -EINVAL;
    if (len > SIZE_MAX - 2)
        return -ENOMEM;
    /* Key and value of any line fit in its own length plus two NULs. */
    char *const buf = malloc(len + 2);
    if (!buf)
        return -ENOMEM;

    int ret = 0, line = 0;
    size_t pos = 0;
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        pos = 3;
    while (pos < len) {
        if (line < INT32_MAX)
            line++;
        const char *const p = text + pos;
        const char *const nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        pos += n + (nl != NULL);
        if (n && p[n - 1] == '\r')
            n--;

        int has;
        const char *why = NULL;
        if (parse_line(p, n, buf, &has, &why) < 0) {
            char q[QUOTE_MAX * 4 + 8];
            quote_mem(q, sizeof(q), p, n);
            set_err(err, errlen, ".env line %d: %s: '%s'", line, why, q);
            ret = GV_ERR_SETTING;
            goto end;
        }
        if (has) {
            const char *const key = buf;
            if ((ret = cb(opaque, key, key + strlen(key) + 1, line)) != 0)
                goto end;
        }
    }
end:
    free(buf);
    return ret;
}

/* ------------------------------------------------------------------ */
/* The whole                                                           */

static int bad_int(char *err, const size_t errlen, const char *key, const int64_t v,
                   const char *expect)
{
    char t[32];
    snprintf(t, sizeof(t), "%" PRId64, v);
    return bad_value(err, errlen, key, t, expect);
}

static int bad_real(char *err, const size_t errlen, const char *key, const double v,
                    const char *expect)
{
    char t[64];
    snprintf(t, sizeof(t), "%g", v);
    return bad_value(err, errlen, key, t, expect);
}

static int in_range(const int v, const int lo, const int hi)
{
    return v >= lo && v <= hi;
}

/* The setting's own message for an int field out of its table range. */
static int check_int(char *err, const size_t errlen, const char *key, const int v)
{
    const Key *const k = find_key(key);
    if (v >= k->lo && v <= k->hi)
        return 0;
    char range[64];
    snprintf(range, sizeof(range), "expected a whole number from %" PRId64 " to %" PRId64, k->lo,
             k->hi);
    return bad_int(err, errlen, key, v, range);
}

/* The setting's own message for a real field out of its table range. */
static int check_real(char *err, const size_t errlen, const char *key, const double v)
{
    const Key *const k = find_key(key);
    if (real_in_range(k, v))
        return 0;
    return bad_real(err, errlen, key, v, k->expect);
}

static int check_enum(char *err, const size_t errlen, const char *key, const int v, const int n)
{
    if (v >= 0 && v < n)
        return 0;
    return bad_int(err, errlen, key, v, find_key(key)->expect);
}

/* KEN_BURNS and the camera's settings. */
static int check_view(const GvSettings *s, char *err, const size_t errlen)
{
    int ret;
    if ((ret = check_real(err, errlen, "KEN_BURNS", s->ken_burns)) < 0 ||
        (ret = check_enum(err, errlen, "CAMERA", (int)s->camera, GV_CAMERA_SIDE + 1)) < 0 ||
        (ret = check_real(err, errlen, "TILT", s->tilt)) < 0 ||
        (ret = check_real(err, errlen, "TURN", s->turn)) < 0 ||
        (ret = check_real(err, errlen, "FOV", s->fov)) < 0 ||
        (ret = check_real(err, errlen, "DISTANCE", s->distance)) < 0 ||
        (ret = check_real(err, errlen, "DEPTH_FADE", s->depth_fade)) < 0)
        return ret;
    return 0;
}

/* The title, captions and logo. */
static int check_words(const GvSettings *s, char *err, const size_t errlen)
{
    int ret;
    if ((ret = check_real(err, errlen, "TITLE_DURATION", s->title_duration)) < 0)
        return ret;
    if (!s->font || !*s->font)
        return bad_value(err, errlen, "FONT", "", find_key("FONT")->expect);
    if ((ret = check_int(err, errlen, "TITLE_SIZE", s->title_size)) < 0 ||
        (ret = check_enum(err, errlen, "TEXT_STYLE", (int)s->text_style, GV_TEXT_NONE + 1)) < 0)
        return ret;
    if (!caption_ok(s->caption))
        return bad_value(err, errlen, "CAPTION", s->caption, find_key("CAPTION")->expect);
    if ((ret = check_int(err, errlen, "CAPTION_SIZE", s->caption_size)) < 0 ||
        (ret = check_enum(err, errlen, "LOGO_POSITION", (int)s->logo_position,
                          GV_LOGO_CENTER + 1)) < 0 ||
        (ret = check_real(err, errlen, "LOGO_SIZE", s->logo_size)) < 0)
        return ret;
    return 0;
}

/* BEAT_SYNC: the beats come from AUDIO, so anything but off needs it. */
static int check_music(const GvSettings *s, char *err, const size_t errlen)
{
    int ret;
    if ((ret = check_enum(err, errlen, "BEAT_SYNC", (int)s->beat_sync, GV_BEAT_PULSE + 1)) < 0)
        return ret;
    if (s->beat_sync != GV_BEAT_OFF && (!s->audio || !*s->audio)) {
        set_err(err, errlen, "BEAT_SYNC %s needs AUDIO: the beats come from the soundtrack",
                gv_setting_name("BEAT_SYNC", (int)s->beat_sync));
        return GV_ERR_SETTING;
    }
    return 0;
}

/* What goes beyond the sliding wall: zoom and camera, words and logo, music. */
static int check_effects(const GvSettings *s, char *err, const size_t errlen)
{
    int ret;
    if ((ret = check_view(s, err, errlen)) < 0 || (ret = check_words(s, err, errlen)) < 0 ||
        (ret = check_music(s, err, errlen)) < 0)
        return ret;
    return 0;
}

GV_API int gv_settings_validate(const GvSettings *s, char *err, const size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (!s)
        return -EINVAL;
    int ret;

    if (s->n_inputs < 0 || (s->n_inputs > 0 && !s->inputs)) {
        set_err(err, errlen, "inputs: %d given without a list", s->n_inputs);
        return GV_ERR_SETTING;
    }
    for (int i = 0; i < s->n_inputs; i++) {
        if (!s->inputs[i] || !*s->inputs[i]) {
            set_err(err, errlen, "input %d is empty", i + 1);
            return GV_ERR_SETTING;
        }
    }
    if (!s->demo && !s->n_inputs) {
        set_err(err, errlen, "no input: name directories or image files, or use the demo");
        return GV_ERR_SETTING;
    }
    if (!s->preview && (!s->output || !*s->output))
        return bad_value(err, errlen, "OUTPUT_FILENAME", s->output ? s->output : "",
                         "expected a file path");

    static const char even[] = "expected an even number from 16 to 16384";
    if (!in_range(s->width, MIN_SIZE, MAX_SIZE) || (s->width & 1))
        return bad_int(err, errlen, "WIDTH", s->width, even);
    if (!in_range(s->height, MIN_SIZE, MAX_SIZE) || (s->height & 1))
        return bad_int(err, errlen, "HEIGHT", s->height, even);

    if (s->fps_num <= 0 || s->fps_den <= 0 ||
        (int64_t)s->fps_num > (int64_t)MAX_FPS * s->fps_den) {
        char t[48];
        snprintf(t, sizeof(t), "%d/%d", s->fps_num, s->fps_den);
        return bad_value(err, errlen, "FPS", t,
                         "expected a positive frame rate of at most 1000 such as 30, 29.97 or "
                         "30000/1001");
    }
    if (!(s->duration > 0 && s->duration <= MAX_DURATION))
        return bad_real(err, errlen, "ANIMATION_DURATION", s->duration,
                        find_key("ANIMATION_DURATION")->expect);
    if (gv_frame_count(s->fps_num, s->fps_den, s->duration) < 1)
        return bad_real(err, errlen, "ANIMATION_DURATION", s->duration,
                        "expected a duration of at least one frame at this FPS");

    if ((ret = check_int(err, errlen, "ASPECT_RATIO_W", s->aspect_w)) < 0 ||
        (ret = check_int(err, errlen, "ASPECT_RATIO_H", s->aspect_h)) < 0 ||
        (ret = check_int(err, errlen, "IMAGE_HEIGHT", s->tile_height)) < 0)
        return ret;
    const int tw = gv_tile_width(s->tile_height, s->aspect_w, s->aspect_h);
    if (tw < 2 || tw > MAX_TILE_WIDTH) {
        char t[96];
        snprintf(t, sizeof(t), "expected a tile width (%d at ASPECT %d:%d) from 2 to %d", tw,
                 s->aspect_w, s->aspect_h, MAX_TILE_WIDTH);
        return bad_int(err, errlen, "IMAGE_HEIGHT", s->tile_height, t);
    }

    if ((ret = check_enum(err, errlen, "CROP_POSITION", (int)s->crop, GV_CROP_ENTROPY + 1)) < 0 ||
        (ret = check_enum(err, errlen, "LAYOUT", (int)s->layout, GV_LAYOUT_COLUMNS + 1)) < 0 ||
        (ret = check_enum(err, errlen, "DIRECTION", (int)s->direction,
                          GV_DIRECTION_ALTERNATE + 1)) < 0 ||
        (ret = check_enum(err, errlen, "EASING", (int)s->easing, GV_EASING_EASE_OUT + 1)) < 0 ||
        (ret = check_enum(err, errlen, "USE_GPU", (int)s->gpu, GV_GPU_REQUIRE + 1)) < 0 ||
        (ret = check_enum(err, errlen, "GPU_DECODE", (int)s->gpu_decode, GV_GPU_REQUIRE + 1)) < 0 ||
        (ret = check_enum(err, errlen, "CLIP_LOOP", (int)s->clip_loop, GV_CLIP_HOLD + 1)) < 0 ||
        (ret = check_enum(err, errlen, "CLIP_START", (int)s->clip_start,
                          GV_CLIP_START_ZERO + 1)) < 0 ||
        (ret = check_enum(err, errlen, "LIVE_PHOTOS", (int)s->live_photos, GV_LIVE_STILL + 1)) < 0)
        return ret;
    if ((int)s->order < 0 || (int)s->order > GV_ORDER_GIVEN)
        return bad_int(err, errlen, "ORDER", (int)s->order, find_key("ORDER")->expect);
    if ((int)s->log_level < GV_LOG_ERROR || (int)s->log_level > GV_LOG_DEBUG) {
        set_err(err, errlen, "log level %d is not valid: expected 0 to 3", (int)s->log_level);
        return GV_ERR_SETTING;
    }

    if ((ret = check_int(err, errlen, "ROWS", s->rows)) < 0 ||
        (ret = check_int(err, errlen, "GAP", s->gap)) < 0 ||
        (ret = check_int(err, errlen, "MOTION_BLUR", s->motion_blur)) < 0 ||
        (ret = check_int(err, errlen, "THREAD_COUNT", s->threads)) < 0 ||
        (ret = check_int(err, errlen, "MEMORY_BATCH_SIZE", s->batch)) < 0 ||
        (ret = check_int(err, errlen, "GPU_MEMORY_LIMIT", s->gpu_memory_mib)) < 0 ||
        (ret = check_int(err, errlen, "CRF", s->crf)) < 0)
        return ret;
    if (!(s->speed >= 0 && s->speed <= MAX_SPEED))
        return bad_real(err, errlen, "SPEED", s->speed, find_key("SPEED")->expect);
    if ((ret = check_effects(s, err, errlen)) < 0)
        return ret;
    if (s->bitrate <= 0 || s->bitrate > MAX_BITRATE)
        return bad_int(err, errlen, "BITRATE", s->bitrate, find_key("BITRATE")->expect);
    if (s->memory_limit_mib < 0 || s->memory_limit_mib > MAX_MEMORY_LIMIT)
        return bad_int(err, errlen, "MEMORY_LIMIT", s->memory_limit_mib,
                       find_key("MEMORY_LIMIT")->expect);
    if (!s->max_pixels || s->max_pixels > MAX_PIXELS_LIMIT) {
        char t[32];
        snprintf(t, sizeof(t), "%" PRIu64, s->max_pixels);
        return bad_value(err, errlen, "MAX_PIXELS", t, find_key("MAX_PIXELS")->expect);
    }

    if (!s->encoder || !*s->encoder)
        return bad_value(err, errlen, "ENCODER", "", find_key("ENCODER")->expect);
    if (s->codec && !codec_name(s->codec))
        return bad_value(err, errlen, "CODEC", s->codec,
                         find_key("CODEC")->expect);
    if (!s->preset || !*s->preset)
        return bad_value(err, errlen, "PRESET", "", find_key("PRESET")->expect);

    if (!(s->preview_at >= 0 && s->preview_at <= s->duration)) {
        char t[96];
        snprintf(t, sizeof(t), "expected seconds from 0 to ANIMATION_DURATION (%g)", s->duration);
        return bad_real(err, errlen, "PREVIEW_AT", s->preview_at, t);
    }
    if (s->preview) {
        /* the preview is PNG: a name saying otherwise would mislead */
        const size_t n = strlen(s->preview);
        if (n < 5 || strcasecmp(s->preview + n - 4, ".png") != 0)
            return bad_value(err, errlen, "PREVIEW", s->preview, "expected a file name ending in .png");
    }
    return 0;
}
