#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vips/vips.h>

#include "color.h"
#include "tiles.h"
#include "view.h"

void gv_overlay_free(GvOverlay **o)
{
    if (!o || !*o)
        return;
    free((*o)->py);
    free((*o)->ca);
    free(*o);
    *o = NULL;
}

static GvOverlay *overlay_alloc(int w, int h)
{
    if (w <= 0 || h <= 0 || (size_t)w > SIZE_MAX / 4 / (size_t)h)
        return NULL;
    GvOverlay *const o = calloc(1, sizeof(*o));
    const size_t n = (size_t)w * (size_t)h;
    if (!o || !(o->py = malloc(4 * n))) {
        free(o);
        return NULL;
    }
    o->w = w;
    o->h = h;
    o->pu = o->py + n;
    o->pv = o->pu + n;
    o->pa = o->pv + n;
    return o;
}

/* An sRGB image with alpha (any format) into a new overlay. */
static int rgba_to_overlay(VipsImage *img, GvOverlay **out, char *reason, size_t len)
{
    VipsImage *s = NULL, *a = NULL, *u = NULL;
    int ret = 0;
    if (vips_colourspace(img, &s, VIPS_INTERPRETATION_sRGB, NULL) ||
        (s->Bands == 3 ? vips_bandjoin_const1(s, &a, 255, NULL) : vips_copy(s, &a, NULL)) ||
        vips_cast(a, &u, VIPS_FORMAT_UCHAR, NULL)) {
        ret = gv_vips_reason(reason, len, "cannot convert the image");
        goto end;
    }
    size_t size;
    uint8_t *const px = vips_image_write_to_memory(u, &size);
    if (!px || u->Bands != 4 || size != (size_t)u->Xsize * u->Ysize * 4) {
        g_free(px);
        ret = gv_vips_reason(reason, len, "cannot read the image's pixels");
        goto end;
    }
    GvOverlay *const o = overlay_alloc(u->Xsize, u->Ysize);
    if (!o) {
        g_free(px);
        ret = -ENOMEM;
        goto end;
    }
    const size_t n = (size_t)o->w * (size_t)o->h;
    for (size_t i = 0; i < n; i++) {
        gv_rgb_to_yuv(px[4 * i], px[4 * i + 1], px[4 * i + 2], &o->py[i], &o->pu[i], &o->pv[i]);
        o->pa[i] = px[4 * i + 3];
    }
    g_free(px);
    *out = o;
end:
    if (u)
        g_object_unref(u);
    if (a)
        g_object_unref(a);
    if (s)
        g_object_unref(s);
    return ret;
}

/* The text as Pango markup in the colour asked for. */
static char *markup(const char *text, const uint8_t rgb[3])
{
    gchar *const esc = g_markup_escape_text(text, -1);
    char *const m = esc ? g_strdup_printf("<span foreground=\"#%02x%02x%02x\">%s</span>", rgb[0],
                                          rgb[1], rgb[2], esc)
                        : NULL;
    g_free(esc);
    return m;
}

/* A canvas of w x h filled with r, g, b, a. */
static VipsImage *canvas(int w, int h, double r, double g, double b, double a)
{
    VipsImage *black = NULL, *filled = NULL;
    const double ink[4] = { r, g, b, a };
    if (vips_black(&black, w, h, "bands", 4, NULL))
        return NULL;
    if (vips_linear(black, &filled, (double[]){ 0, 0, 0, 0 }, (double *)ink, 4, NULL))
        filled = NULL;
    g_object_unref(black);
    if (!filled)
        return NULL;
    VipsImage *u = NULL;
    vips_cast(filled, &u, VIPS_FORMAT_UCHAR, NULL);
    g_object_unref(filled);
    if (u)
        u->Type = VIPS_INTERPRETATION_sRGB;
    return u;
}

/* The height of one line and the advance from line to line of text set
 * in `font` whose first character is `first` (a fallback font may stand
 * taller than the font asked for); 0 on failure. */
static void line_metrics(const char *first, const char *font, int *one, int *advance)
{
    *one = *advance = 0;
    gchar *const e = g_markup_escape_text(first, -1);
    gchar *const m1 = e ? g_strdup_printf("%s", e) : NULL;
    gchar *const m2 = e ? g_strdup_printf("%s\n%s", e, e) : NULL;
    VipsImage *a = NULL, *b = NULL;
    if (m1 && m2 && !vips_text(&a, m1, "font", font, "dpi", 72, NULL) &&
        !vips_text(&b, m2, "font", font, "dpi", 72, NULL)) {
        *one = a->Ysize;
        *advance = b->Ysize - a->Ysize;
    } else {
        vips_error_clear();
    }
    if (a)
        g_object_unref(a);
    if (b)
        g_object_unref(b);
    g_free(e);
    g_free(m1);
    g_free(m2);
}

/* gv_text_render() for Pango markup m (owned by the caller); `first` is
 * the text's first character, for measuring its lines (NULL: 1.25 em). */
static int render_markup(const char *m, const char *first, const GvTextLook *look, int max_w,
                         int max_lines, GvOverlay **out, char *reason, size_t len)
{
    const int px = look->px > 2 ? look->px : 2;
    const int pad = look->style == GV_TEXT_NONE ? 0 : (px + 2) / 3;
    const int inner = max_w - 2 * pad;
    if (inner < px)
        return 0; /* no room for a letter */
    char font[256];
    snprintf(font, sizeof(font), "%s %d", look->font && *look->font ? look->font : "Sans", px);
    /* owns every temporary: one unref on the way out releases them all */
    VipsObject *const scope = VIPS_OBJECT(vips_image_new());
    VipsImage **const t = (VipsImage **)vips_object_local_array(scope, 10);
    enum { TEXT, CUT, ALPHA, BLUR, BLACK, SHADOW, CLEAR, BASE, COMPOSED, OUT };
    int ret = 0;
    /* at 72 dpi a size in points is one in pixels */
    if (vips_text(&t[TEXT], m, "font", font, "dpi", 72, "width", inner, "wrap",
                  VIPS_TEXT_WRAP_WORD_CHAR, "rgba", TRUE, "align", VIPS_ALIGN_CENTRE, NULL)) {
        ret = gv_vips_reason(reason, len, "cannot render the text");
        goto end;
    }
    /* at most max_lines lines: cut after the last whole one */
    const int full = t[TEXT]->Ysize;
    int most = max_lines > 0 ? (int)ceil(max_lines * px * 1.25) : full;
    if (max_lines > 0 && first && full > (int)ceil(max_lines * px * 1.1)) {
        int one, advance;
        line_metrics(first, font, &one, &advance);
        if (one > 0 && advance > 0)
            most = one + (max_lines - 1) * advance;
    }
    if (vips_crop(t[TEXT], &t[CUT], 0, 0, t[TEXT]->Xsize, full < most ? full : most, NULL)) {
        ret = gv_vips_reason(reason, len, "cannot render the text");
        goto end;
    }
    const int cw = t[CUT]->Xsize, ch = t[CUT]->Ysize;
    const int w = cw + 2 * pad, h = ch + 2 * pad;
    int bad;
    if (look->style == GV_TEXT_PLATE) {
        bad = !(t[BASE] = canvas(w, h, 0, 0, 0, 150));
    } else if (look->style == GV_TEXT_SHADOW) {
        /* the letters' alpha, blurred, in black, offset down and right */
        const int off = px / 14 + 1;
        bad = vips_extract_band(t[CUT], &t[ALPHA], 3, NULL) ||
              vips_gaussblur(t[ALPHA], &t[BLUR], px / 12.0 + 0.8, "precision",
                             VIPS_PRECISION_INTEGER, NULL) ||
              vips_black(&t[BLACK], cw, ch, "bands", 3, NULL) ||
              vips_bandjoin2(t[BLACK], t[BLUR], &t[SHADOW], NULL) ||
              !(t[CLEAR] = canvas(w, h, 0, 0, 0, 0));
        if (!bad) {
            t[SHADOW]->Type = VIPS_INTERPRETATION_sRGB;
            bad = vips_composite2(t[CLEAR], t[SHADOW], &t[BASE], VIPS_BLEND_MODE_OVER, "x",
                                  pad + off, "y", pad + off, NULL);
        }
    } else {
        bad = !(t[BASE] = canvas(w, h, 0, 0, 0, 0));
    }
    if (bad ||
        vips_composite2(t[BASE], t[CUT], &t[COMPOSED], VIPS_BLEND_MODE_OVER, "x", pad, "y", pad,
                        NULL) ||
        vips_cast(t[COMPOSED], &t[OUT], VIPS_FORMAT_UCHAR, NULL)) {
        ret = gv_vips_reason(reason, len, "cannot render the text");
        goto end;
    }
    ret = rgba_to_overlay(t[OUT], out, reason, len);
end:
    g_object_unref(scope);
    return ret;
}

int gv_text_render(const char *text, const GvTextLook *look, int max_w, int max_lines,
                   GvOverlay **out, char *reason, size_t len)
{
    *out = NULL;
    if (!text || !*text)
        return 0;
    char *const m = markup(text, look->rgb);
    /* the first character, for measuring lines */
    const gchar *const next = g_utf8_find_next_char(text, NULL);
    char *const first = next ? g_strndup(text, (gsize)(next - text)) : g_strdup(text);
    if (!m || !first) {
        g_free(m);
        g_free(first);
        return -ENOMEM;
    }
    const int ret = render_markup(m, first, look, max_w, max_lines, out, reason, len);
    g_free(m);
    g_free(first);
    return ret;
}

int gv_logo_load(const char *path, int width, GvOverlay **out, char *reason, size_t len)
{
    *out = NULL;
    if (gv_tiles_init() < 0)
        return GV_ERR_DECODE;
    VipsImage *img = NULL, *rot = NULL, *s = NULL, *pre = NULL, *res = NULL, *un = NULL;
    int ret = 0;
    if (!(img = vips_image_new_from_file(path, NULL)) || vips_autorot(img, &rot, NULL) ||
        vips_colourspace(rot, &s, VIPS_INTERPRETATION_sRGB, NULL)) {
        ret = gv_vips_reason(reason, len, "cannot read the logo");
        goto end;
    }
    if (s->Xsize > 16384 || s->Ysize > 16384) {
        snprintf(reason, len, "a logo of %dx%d is too large (at most 16384 a side)", s->Xsize,
                 s->Ysize);
        ret = GV_ERR_DECODE;
        goto end;
    }
    /* scaled with its alpha premultiplied, so edges do not darken */
    VipsImage *with_alpha = NULL;
    if (s->Bands == 3 ? vips_bandjoin_const1(s, &with_alpha, 255, NULL)
                      : vips_copy(s, &with_alpha, NULL)) {
        ret = gv_vips_reason(reason, len, "cannot read the logo");
        goto end;
    }
    const double scale = (double)width / with_alpha->Xsize;
    const int bad = vips_premultiply(with_alpha, &pre, NULL) ||
                    vips_resize(pre, &res, scale, "kernel", VIPS_KERNEL_LANCZOS3, NULL) ||
                    vips_unpremultiply(res, &un, NULL);
    g_object_unref(with_alpha);
    if (bad) {
        ret = gv_vips_reason(reason, len, "cannot scale the logo");
        goto end;
    }
    un->Type = VIPS_INTERPRETATION_sRGB;
    ret = rgba_to_overlay(un, out, reason, len);
end:
    if (un)
        g_object_unref(un);
    if (res)
        g_object_unref(res);
    if (pre)
        g_object_unref(pre);
    if (s)
        g_object_unref(s);
    if (rot)
        g_object_unref(rot);
    if (img)
        g_object_unref(img);
    return ret;
}

/* ---- blending ---- */

#define FULL (255u * 256u)

void gv_overlay_blend_picture(const GvOverlay *o, GvPicture *pic, int g)
{
    if (!o || g <= 0)
        return;
    const uint32_t gg = (uint32_t)(g > 256 ? 256 : g);
    const int x0 = o->x < 0 ? 0 : o->x, y0 = o->y < 0 ? 0 : o->y;
    const int x1 = o->x + o->w < pic->width ? o->x + o->w : pic->width;
    const int y1 = o->y + o->h < pic->height ? o->y + o->h : pic->height;
    for (int y = y0; y < y1; y++) {
        uint8_t *const d = pic->data[0] + (size_t)y * pic->linesize[0];
        const size_t row = (size_t)(y - o->y) * (size_t)o->w;
        for (int x = x0; x < x1; x++) {
            const size_t i = row + (size_t)(x - o->x);
            const uint32_t a = o->pa[i] * gg;
            if (a)
                d[x] = (uint8_t)((d[x] * (FULL - a) + o->py[i] * a + FULL / 2) / FULL);
        }
    }
    /* chroma: the alpha-weighted mean over each 2 x 2 block (x, y even) */
    for (int cy = y0 / 2; cy < (y1 + 1) / 2; cy++) {
        uint8_t *const du = pic->data[1] + (size_t)cy * pic->linesize[1];
        uint8_t *const dv = pic->data[2] + (size_t)cy * pic->linesize[2];
        for (int cx = x0 / 2; cx < (x1 + 1) / 2; cx++) {
            uint32_t sa = 0, su = 0, sv = 0;
            if (o->ca && !(o->x & 1) && !(o->y & 1)) {
                const size_t i = (size_t)(cy - o->y / 2) * (size_t)((o->w + 1) / 2) +
                                 (size_t)(cx - o->x / 2);
                sa = o->ca[i] * gg;
                su = o->cu[i] * gg;
                sv = o->cv[i] * gg;
            } else {
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        const int x = 2 * cx + dx - o->x, y = 2 * cy + dy - o->y;
                        if (x < 0 || y < 0 || x >= o->w || y >= o->h)
                            continue;
                        const size_t i = (size_t)y * (size_t)o->w + (size_t)x;
                        const uint32_t a = o->pa[i] * gg;
                        sa += a;
                        su += o->pu[i] * a;
                        sv += o->pv[i] * a;
                    }
            }
            if (!sa)
                continue;
            du[cx] = (uint8_t)((du[cx] * (4 * FULL - sa) + su + 2 * FULL) / (4 * FULL));
            dv[cx] = (uint8_t)((dv[cx] * (4 * FULL - sa) + sv + 2 * FULL) / (4 * FULL));
        }
    }
}

int gv_overlay_prepare(GvOverlay *o)
{
    if (!o || o->ca)
        return 0;
    const int cw = (o->w + 1) / 2, ch = (o->h + 1) / 2;
    const size_t n = (size_t)cw * (size_t)ch;
    if (!(o->ca = calloc(3 * n, sizeof(*o->ca))))
        return -ENOMEM;
    o->cu = o->ca + n;
    o->cv = o->cu + n;
    for (int y = 0; y < o->h; y++)
        for (int x = 0; x < o->w; x++) {
            const size_t i = (size_t)y * (size_t)o->w + (size_t)x;
            const size_t c = (size_t)(y / 2) * (size_t)cw + (size_t)(x / 2);
            o->ca[c] += o->pa[i];
            o->cu[c] += (uint32_t)o->pu[i] * o->pa[i];
            o->cv[c] += (uint32_t)o->pv[i] * o->pa[i];
        }
    return 0;
}

void gv_overlay_blend_tile(const GvOverlay *o, GvTile *t, int x, int y)
{
    if (!o)
        return;
    for (int oy = 0; oy < o->h; oy++) {
        const int ty = y + oy;
        if (ty < 0 || ty >= t->h)
            continue;
        for (int ox = 0; ox < o->w; ox++) {
            const int tx = x + ox;
            if (tx < 0 || tx >= t->w)
                continue;
            const size_t i = (size_t)oy * (size_t)o->w + (size_t)ox;
            const size_t j = (size_t)ty * (size_t)t->w + (size_t)tx;
            const uint32_t a = o->pa[i] * 256u;
            t->y[j] = (uint8_t)((t->y[j] * (FULL - a) + o->py[i] * a + FULL / 2) / FULL);
            t->u[j] = (uint8_t)((t->u[j] * (FULL - a) + o->pu[i] * a + FULL / 2) / FULL);
            t->v[j] = (uint8_t)((t->v[j] * (FULL - a) + o->pv[i] * a + FULL / 2) / FULL);
        }
    }
}

/* ---- captions ---- */

/* The value part of a libvips EXIF string, "VALUE (VALUE, FORMAT, N
 * components, N bytes)": the VALUE that the parentheses repeat (a value may
 * hold " (" itself). */
static char *exif_value(VipsImage *img, const char *name)
{
    const char *s = NULL;
    if (vips_image_get_typeof(img, name) == 0 || vips_image_get_string(img, name, &s) || !s)
        return NULL;
    size_t n = strlen(s);
    for (const char *p = strstr(s, " ("); p; p = strstr(p + 1, " (")) {
        const size_t v = (size_t)(p - s);
        if (!strncmp(p + 2, s, v) && (p[2 + v] == ',' || p[2 + v] == ')')) {
            n = v;
            break;
        }
    }
    char *const out = strndup(s, n);
    /* trailing blanks that some cameras pad with */
    for (size_t i = out ? strlen(out) : 0; i > 0 && out[i - 1] == ' '; i--)
        out[i - 1] = 0;
    if (out && !*out) {
        free(out);
        return NULL;
    }
    return out;
}

/* Replaces XML's five entities in place. */
static void xml_unescape(char *s)
{
    static const struct {
        const char *e;
        char c;
    } ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
                 { "&apos;", '\'' } };
    char *w = s;
    for (const char *r = s; *r;) {
        size_t i = 0;
        for (; i < sizeof(ents) / sizeof(ents[0]); i++)
            if (!strncmp(r, ents[i].e, strlen(ents[i].e)))
                break;
        if (i < sizeof(ents) / sizeof(ents[0])) {
            *w++ = ents[i].c;
            r += strlen(ents[i].e);
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
}

/* s with blanks (spaces, tabs, line breaks) trimmed at both ends, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    for (size_t i = strlen(s); i > 0 && strchr(" \t\n\r", s[i - 1]); i--)
        s[i - 1] = 0;
    return s;
}

/* An XMP property NAME (with its prefix, e.g. dc:title or xmp:Rating):
 * <NAME>value</NAME>, the first <rdf:li> inside it, or NAME="value" (or
 * NAME='value') as an attribute; entities decoded, blanks trimmed. */
static char *xmp_value(VipsImage *img, const char *name)
{
    const void *data;
    size_t size;
    if (vips_image_get_typeof(img, VIPS_META_XMP_NAME) == 0 ||
        vips_image_get_blob(img, VIPS_META_XMP_NAME, &data, &size) || size > (16 << 20))
        return NULL;
    char *const xmp = strndup(data, size);
    if (!xmp)
        return NULL;
    const size_t nl = strlen(name);
    char *out = NULL;
    for (const char *p = strstr(xmp, name); p && !out; p = strstr(p + 1, name)) {
        const char before = p > xmp ? p[-1] : ' ';
        const char after = p[nl];
        if (before == '<' && (after == '>' || after == ' ' || after == '\t' || after == '\n')) {
            /* an element: its text, or that of its first rdf:li */
            const char *open = strchr(p, '>');
            if (!open || open[-1] == '/')
                continue;
            open++;
            /* in an rdf:Alt, Bag or Seq: the first rdf:li before </NAME> */
            char closing[80];
            snprintf(closing, sizeof(closing), "</%s>", name);
            const char *const close = strstr(open, closing);
            const char *li = strstr(open, "<rdf:li");
            if (li && (!close || li < close) && (li = strchr(li, '>')))
                open = li + 1;
            const char *const end = strchr(open, '<');
            if (end)
                out = strndup(open, (size_t)(end - open));
        } else if ((before == ' ' || before == '\t' || before == '\n') && after == '=' &&
                   (p[nl + 1] == '"' || p[nl + 1] == '\'')) {
            const char q = p[nl + 1];
            const char *const end = strchr(p + nl + 2, q);
            if (end)
                out = strndup(p + nl + 2, (size_t)(end - (p + nl + 2)));
        }
    }
    free(xmp);
    if (!out)
        return NULL;
    xml_unescape(out);
    char *const t = trim(out);
    char *const r = *t ? strdup(t) : NULL;
    free(out);
    return r;
}

static char *sidecar(const char *path)
{
    const char *const slash = strrchr(path, '/');
    const char *const dot = strrchr(path, '.');
    const size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    char *const name = malloc(stem + 5);
    if (!name)
        return NULL;
    memcpy(name, path, stem);
    memcpy(name + stem, ".txt", 5);
    /* a regular file only: a FIFO or device would block or never end */
    struct stat st;
    FILE *const f = stat(name, &st) == 0 && S_ISREG(st.st_mode) ? fopen(name, "rb") : NULL;
    free(name);
    if (!f)
        return NULL;
    char buf[1025];
    const size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    /* only text: invalid UTF-8 is not shown */
    if (!*buf || !g_utf8_validate(buf, -1, NULL))
        return NULL;
    return strdup(buf);
}

char *gv_caption_text(const char *path, const char *mode)
{
    if (!path || !mode || !strcmp(mode, "none"))
        return NULL;
    if (!strcmp(mode, "filename")) {
        const char *const slash = strrchr(path, '/');
        const char *const base = slash ? slash + 1 : path;
        const char *const dot = strrchr(base, '.');
        char *const s = strndup(base, dot && dot > base ? (size_t)(dot - base) : strlen(base));
        if (s && !g_utf8_validate(s, -1, NULL)) {
            free(s);
            return NULL;
        }
        return s;
    }
    if (!strcmp(mode, "sidecar"))
        return sidecar(path);
    const int date = !strcmp(mode, "date");
    if (!date && strncmp(mode, "exif:", 5))
        return NULL;
    VipsImage *const img = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!img) {
        vips_error_clear();
        return NULL;
    }
    char *v = NULL;
    if (date) {
        if (!(v = exif_value(img, "exif-ifd2-DateTimeOriginal")))
            v = exif_value(img, "exif-ifd0-DateTime");
        /* "YYYY:MM:DD HH:MM:SS" -> "YYYY-MM-DD"; a blank date is none */
        if (v && strlen(v) >= 10 && v[4] == ':' && v[7] == ':') {
            v[4] = v[7] = '-';
            v[10] = 0;
        }
        if (v && !(v[0] >= '0' && v[0] <= '9')) {
            free(v);
            v = NULL;
        }
    } else {
        char name[96];
        for (int ifd = 0; ifd < 5 && !v; ifd++) {
            snprintf(name, sizeof(name), "exif-ifd%d-%s", ifd, mode + 5);
            v = exif_value(img, name);
        }
        if (!v)
            v = xmp_value(img, mode + 5);
    }
    g_object_unref(img);
    if (v && !g_utf8_validate(v, -1, NULL)) {
        free(v);
        v = NULL;
    }
    return v;
}

/* Text cut to at most `most` bytes, at a character's start. */
static void cut_utf8(char *s, size_t most)
{
    if (strlen(s) <= most)
        return;
    size_t i = most;
    while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
        i--;
    s[i] = 0;
}

int gv_caption_make(const GvCaptionSpec *c, const char *path, const GvTile *t, GvOverlay **out)
{
    *out = NULL;
    char *const text = gv_caption_text(path, c->mode);
    if (!text)
        return 0;
    /* two lines of a tile hold far less: a huge field costs no more */
    cut_utf8(text, 1024);
    /* what every window of the zoom or pan shares (src/view.c): the
     * closest zoom's, or for a panorama both ends of its pan */
    const GvViewLook look_t = { t->focus_x, t->focus_y, t->aspect };
    double a[4], b[4];
    gv_view_window(c->ken_burns, c->crop, &look_t, t->w, t->h, 1, 0, a);
    gv_view_window(c->ken_burns, c->crop, &look_t, t->w, t->h, 1, 1, b);
    const double left = fmax(a[0], b[0]), top = fmax(a[1], b[1]);
    const double wn = fmin(a[0] + a[2], b[0] + b[2]) - left;
    const double hn = fmin(a[1] + a[3], b[1] + b[3]) - top;
    const double kb = 1 + c->ken_burns / 100;
    GvTextLook look = c->look;
    look.px = (int)floor(look.px * c->scale / kb + 0.5);
    const int margin = look.px / 3;
    GvOverlay *o = NULL;
    char reason[128];
    int ret = gv_text_render(text, &look, (int)wn - 2 * margin, 2, &o, reason, sizeof(reason));
    free(text);
    if (ret < 0 || !o)
        return ret == -ENOMEM ? ret : 0; /* a caption that cannot render is left out */
    o->x = (int)floor(left + (wn - o->w) / 2 + 0.5);
    o->y = (int)floor(top + hn - margin - o->h + 0.5);
    *out = o;
    return 0;
}

int gv_caption_apply(const GvCaptionSpec *c, const char *path, GvTile *t)
{
    GvOverlay *o = NULL;
    const int ret = gv_caption_make(c, path, t, &o);
    if (o)
        gv_overlay_blend_tile(o, t, o->x, o->y);
    gv_overlay_free(&o);
    return ret;
}

/* ---- the title card and the logo ---- */

int gv_overlays_init(GvOverlays *ov, const GvSettings *s, const GvLog *log)
{
    memset(ov, 0, sizeof(*ov));
    ov->fps_num = s->fps_num;
    ov->fps_den = s->fps_den;
    ov->title_s = s->title_duration;
    char reason[256] = "";
    int ret = 0;
    const int has_title = s->title && *s->title, has_sub = s->subtitle && *s->subtitle;
    if ((has_title || has_sub) && (ret = gv_tiles_init()) < 0)
        return ret;
    if (has_title || has_sub) {
        const int px = s->title_size > 0 ? s->title_size : (s->height + 6) / 12;
        const GvTextLook look = { s->font, px,
                                  { s->text_color[0], s->text_color[1], s->text_color[2] },
                                  s->text_style };
        /* the title, and under it the subtitle at 55 % of its size, as one
         * block with one plate behind both */
        gchar *const et = g_markup_escape_text(has_title ? s->title : "", -1);
        gchar *const es = g_markup_escape_text(has_sub ? s->subtitle : "", -1);
        gchar *const m = g_strdup_printf(
            "<span foreground=\"#%02x%02x%02x\">%s%s<span size=\"%d\">%s</span></span>",
            look.rgb[0], look.rgb[1], look.rgb[2], et, has_title && has_sub ? "\n" : "",
            px * 55 / 100 * 1024, es);
        g_free(et);
        g_free(es);
        if (!m)
            return -ENOMEM;
        GvOverlay *t = NULL;
        ret = render_markup(m, NULL, &look, s->width * 9 / 10, 6, &t, reason, sizeof(reason));
        g_free(m);
        if (ret < 0) {
            if (ret != -ENOMEM)
                gv_log(log, GV_LOG_ERROR, "TITLE: %s", reason);
            return ret == -ENOMEM ? ret : GV_ERR_SETTING;
        }
        if (t) {
            t->x = ((s->width - t->w) / 2) & ~1;
            t->y = ((s->height - t->h) / 2) & ~1;
        }
        ov->title = t;
        if (gv_overlay_prepare(t) < 0) {
            gv_overlays_free(ov);
            return -ENOMEM;
        }
    }
    if (s->logo && *s->logo) {
        const int w = (int)floor(s->width * s->logo_size / 100 + 0.5);
        if ((ret = gv_logo_load(s->logo, w > 1 ? w : 1, &ov->logo, reason, sizeof(reason))) < 0) {
            if (ret != -ENOMEM)
                gv_log(log, GV_LOG_ERROR, "LOGO: '%s': %s", s->logo, reason);
            gv_overlays_free(ov);
            return ret == -ENOMEM ? ret : GV_ERR_SETTING;
        }
        GvOverlay *const l = ov->logo;
        const int m = ((s->width < s->height ? s->width : s->height) * 3 / 100) & ~1;
        const GvLogoPosition p = s->logo_position;
        const int right = p == GV_LOGO_BOTTOM_RIGHT || p == GV_LOGO_TOP_RIGHT;
        const int bottom = p == GV_LOGO_BOTTOM_RIGHT || p == GV_LOGO_BOTTOM_LEFT;
        l->x = p == GV_LOGO_CENTER ? (s->width - l->w) / 2 : right ? s->width - m - l->w : m;
        l->y = p == GV_LOGO_CENTER ? (s->height - l->h) / 2 : bottom ? s->height - m - l->h : m;
        l->x &= ~1;
        l->y &= ~1;
        if (gv_overlay_prepare(l) < 0) {
            gv_overlays_free(ov);
            return -ENOMEM;
        }
    }
    return 0;
}

int gv_title_opacity(const GvOverlays *ov, int64_t frame)
{
    if (!ov->title || ov->fps_num <= 0)
        return 0;
    const double t = (double)frame * ov->fps_den / ov->fps_num, d = ov->title_s;
    /* fades of half a second, or a quarter of a short title each */
    const double fade = d >= 2 ? 0.5 : d / 4;
    if (t >= d)
        return 0;
    const double g = fmin(fmin((t + 1e-9) / fade, (d - t) / fade), 1);
    return g <= 0 ? 0 : (int)floor(256 * g + 0.5);
}

void gv_overlays_apply(const GvOverlays *ov, int64_t frame, GvPicture *pic)
{
    if (!ov)
        return;
    if (ov->title)
        gv_overlay_blend_picture(ov->title, pic, gv_title_opacity(ov, frame));
    if (ov->logo)
        gv_overlay_blend_picture(ov->logo, pic, 256);
}

void gv_overlays_finish(const GvOverlays *ov, int64_t frame, GvPicture *pic, GvPicture *over)
{
    gv_overlays_apply(ov, frame, pic);
    if (!over)
        return;
    gv_overlays_apply(ov, frame, over);
    gv_alpha_resolve(pic, over, 0, pic->height);
}

void gv_overlays_free(GvOverlays *ov)
{
    if (!ov)
        return;
    gv_overlay_free(&ov->title);
    gv_overlay_free(&ov->logo);
}
