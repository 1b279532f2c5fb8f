/* Words and a logo (src/text.c): text rendered as libvips renders it, a
 * Japanese line in its font's glyphs (no tofu boxes), exact blending, the
 * title's fades, and every kind of caption. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vips/vips.h>

#include "check.h"
#include "color.h"
#include "text.h"
#include "tiles.h"

/* The alpha of vips_text() for markup m in font f (72 dpi, as gridvid). */
static VipsImage *reference_alpha(const char *m, const char *font)
{
    VipsImage *t = NULL, *a = NULL;
    if (vips_text(&t, m, "font", font, "dpi", 72, "rgba", TRUE, "align", VIPS_ALIGN_CENTRE, NULL) ||
        vips_extract_band(t, &a, 3, NULL)) {
        if (t)
            g_object_unref(t);
        return NULL;
    }
    g_object_unref(t);
    return a;
}

/* Whether the overlay's alpha equals image a's, pixel for pixel. */
static int alpha_equals(const GvOverlay *o, VipsImage *a)
{
    size_t size;
    uint8_t *const px = vips_image_write_to_memory(a, &size);
    int same = px && a->Xsize == o->w && a->Ysize == o->h && size == (size_t)o->w * o->h &&
               !memcmp(px, o->pa, size);
    g_free(px);
    return same;
}

static void test_render(void)
{
    const GvTextLook look = { "DejaVu Sans", 40, { 255, 255, 255 }, GV_TEXT_NONE };
    GvOverlay *o = NULL;
    char reason[256] = "";
    CHECK_INT(gv_text_render("gridvid 123", &look, 2000, 1, &o, reason, sizeof(reason)), 0);
    CHECK(o != NULL);
    if (!o)
        return;
    /* the letters as libvips draws them, white (Y' 235, neutral chroma) */
    VipsImage *a = reference_alpha("<span foreground=\"#ffffff\">gridvid 123</span>", "DejaVu Sans 40");
    CHECK(a && alpha_equals(o, a));
    int opaque = 0;
    for (int i = 0; i < o->w * o->h; i++)
        if (o->pa[i] == 255) {
            opaque++;
            CHECK_INT(o->py[i], 235);
            CHECK_INT(o->pu[i], 128);
        }
    CHECK(opaque > 100);
    if (a)
        g_object_unref(a);
    gv_overlay_free(&o);

    /* a plate: opaque text over black at alpha 150 all round, padded */
    GvTextLook plate = look;
    plate.style = GV_TEXT_PLATE;
    CHECK_INT(gv_text_render("gridvid 123", &plate, 2000, 1, &o, reason, sizeof(reason)), 0);
    CHECK(o && o->pa[0] == 150 && o->py[0] == 16);
    gv_overlay_free(&o);
    /* empty text, and no room for a letter: nothing */
    CHECK_INT(gv_text_render("", &look, 2000, 1, &o, reason, sizeof(reason)), 0);
    CHECK(o == NULL);
    CHECK_INT(gv_text_render("x", &look, 10, 1, &o, reason, sizeof(reason)), 0);
    CHECK(o == NULL);
    /* wrapped into at most two lines of a narrow width */
    CHECK_INT(gv_text_render("one two three four five six seven eight", &look, 200, 2, &o, reason,
                             sizeof(reason)),
              0);
    CHECK(o && o->w <= 200 && o->h <= (int)ceil(2 * 40 * 1.25));
    gv_overlay_free(&o);
}

/* A Japanese caption in a Latin font falls back to an installed Japanese
 * font: its glyphs equal that font's, not the missing-glyph boxes. */
static void test_japanese(void)
{
    const char *const jp = "夏の写真";
    const GvTextLook look = { "DejaVu Sans", 48, { 255, 255, 255 }, GV_TEXT_NONE };
    GvOverlay *o = NULL;
    char reason[256] = "";
    CHECK_INT(gv_text_render(jp, &look, 2000, 1, &o, reason, sizeof(reason)), 0);
    VipsImage *own = reference_alpha("<span foreground=\"#ffffff\">夏の写真</span>", "IPAGothic 48");
    /* four code points no font has: four boxes */
    VipsImage *tofu =
        reference_alpha("<span foreground=\"#ffffff\">\xf3\xb0\x80\x80\xf3\xb0\x80\x81"
                        "\xf3\xb0\x80\x82\xf3\xb0\x80\x83</span>", "DejaVu Sans 48");
    if (!own) {
        printf("note: no IPAGothic font (fonts-ipafont-gothic): the Japanese check is skipped\n");
    } else {
        CHECK(o && alpha_equals(o, own));
        CHECK(o && tofu && !alpha_equals(o, tofu));
    }
    if (own)
        g_object_unref(own);
    if (tofu)
        g_object_unref(tofu);
    gv_overlay_free(&o);
}

static GvOverlay *flat_overlay(int w, int h, uint8_t y, uint8_t u, uint8_t v, uint8_t a)
{
    GvOverlay *o = calloc(1, sizeof(*o));
    o->w = w;
    o->h = h;
    o->py = malloc((size_t)w * h * 4);
    o->pu = o->py + w * h;
    o->pv = o->pu + w * h;
    o->pa = o->pv + w * h;
    memset(o->py, y, (size_t)w * h);
    memset(o->pu, u, (size_t)w * h);
    memset(o->pv, v, (size_t)w * h);
    memset(o->pa, a, (size_t)w * h);
    return o;
}

static void test_blend(void)
{
    uint8_t buf[16 * 16 * 3 / 2];
    memset(buf, 100, 16 * 16);
    memset(buf + 256, 50, 128);
    GvPicture pic = { 16, 16, { buf, buf + 256, buf + 320 }, { 16, 8, 8 } };
    GvOverlay *o = flat_overlay(4, 4, 200, 240, 10, 255);
    o->x = 2;
    o->y = 4;
    gv_overlay_blend_picture(o, &pic, 256);
    CHECK_INT(buf[4 * 16 + 2], 200);  /* covered: the overlay */
    CHECK_INT(buf[4 * 16 + 1], 100);  /* beside it: untouched */
    CHECK_INT(buf[256 + 2 * 8 + 1], 240); /* chroma under it */
    CHECK_INT(buf[256 + 2 * 8 + 0], 50);
    CHECK_INT(buf[320 + 2 * 8 + 1], 10);
    /* half opacity: (100 * (65280 - a) + 200 a + 32640) / 65280, a = 255 * 128 */
    memset(buf, 100, 16 * 16);
    gv_overlay_blend_picture(o, &pic, 128);
    CHECK_INT(buf[5 * 16 + 3], (100 * (65280 - 32640) + 200 * 32640 + 32640) / 65280);
    /* nothing at opacity 0, and half of an overlay off the picture is cut */
    memset(buf, 100, 16 * 16);
    gv_overlay_blend_picture(o, &pic, 0);
    CHECK_INT(buf[5 * 16 + 3], 100);
    o->x = 14;
    gv_overlay_blend_picture(o, &pic, 256);
    CHECK_INT(buf[4 * 16 + 15], 200);
    CHECK_INT(buf[4 * 16 + 13], 100);
    /* into a tile: every plane, alpha 51 (a fifth) */
    GvTile *t = gv_tile_alloc(8, 8);
    memset(t->y, 100, 64 * 3);
    GvOverlay *f = flat_overlay(2, 2, 200, 200, 200, 51);
    gv_overlay_blend_tile(f, t, 6, 7);
    CHECK_INT(t->y[7 * 8 + 6], (100 * (65280 - 51 * 256) + 200 * 51 * 256 + 32640) / 65280);
    CHECK_INT(t->v[7 * 8 + 7], 120);
    CHECK_INT(t->y[6 * 8 + 6], 100);
    gv_tile_free(&t);
    gv_overlay_free(&f);
    gv_overlay_free(&o);
}

/* Prepared (chroma summed once) and unprepared blends agree exactly. */
static void test_prepared(void)
{
    uint8_t a[16 * 16 * 3 / 2], b[16 * 16 * 3 / 2];
    for (size_t i = 0; i < sizeof(a); i++)
        a[i] = b[i] = (uint8_t)(i * 37 + 11);
    GvPicture pa = { 16, 16, { a, a + 256, a + 320 }, { 16, 8, 8 } };
    GvPicture pb = { 16, 16, { b, b + 256, b + 320 }, { 16, 8, 8 } };
    GvOverlay *o = flat_overlay(7, 5, 0, 0, 0, 0);
    for (int i = 0; i < 35; i++) {
        o->py[i] = (uint8_t)(i * 53);
        o->pu[i] = (uint8_t)(i * 29 + 3);
        o->pv[i] = (uint8_t)(i * 17 + 90);
        o->pa[i] = (uint8_t)(i % 5 == 0 ? 0 : i % 7 == 0 ? 255 : i * 41);
    }
    o->x = 12; /* partly off the right edge */
    o->y = 4;
    gv_overlay_blend_picture(o, &pa, 200);
    CHECK_INT(gv_overlay_prepare(o), 0);
    gv_overlay_blend_picture(o, &pb, 200);
    CHECK(!memcmp(a, b, sizeof(a)));
    gv_overlay_free(&o);
}

static void test_title_fade(void)
{
    GvOverlays ov = { .title = flat_overlay(2, 2, 0, 0, 0, 0), .title_s = 4, .fps_num = 30,
                      .fps_den = 1 };
    CHECK_INT(gv_title_opacity(&ov, 0), 0);
    CHECK_INT(gv_title_opacity(&ov, 3), 51);     /* 0.1 s of a 0.5 s fade: 256 / 5 */
    CHECK_INT(gv_title_opacity(&ov, 15), 256);   /* 0.5 s */
    CHECK_INT(gv_title_opacity(&ov, 60), 256);
    CHECK_INT(gv_title_opacity(&ov, 117), 51);   /* 0.1 s before the end */
    CHECK_INT(gv_title_opacity(&ov, 120), 0);
    CHECK_INT(gv_title_opacity(&ov, 500), 0);
    ov.title_s = 1; /* a short title fades over a quarter each way */
    CHECK_INT(gv_title_opacity(&ov, 3), 102);    /* 0.1 s of 0.25 s: 0.4 */
    gv_overlays_free(&ov);
}

static void test_captions(const char *dir)
{
    char path[512], side[512];
    CHECK(gv_caption_text("/a/b/IMG_0012.jpeg", "none") == NULL);
    char *s = gv_caption_text("/a/b/IMG_0012.jpeg", "filename");
    CHECK(s && !strcmp(s, "IMG_0012"));
    free(s);
    s = gv_caption_text("noext", "filename");
    CHECK(s && !strcmp(s, "noext"));
    free(s);

    /* a JPEG with EXIF fields, written by libvips from its exif-* fields */
    snprintf(path, sizeof(path), "%s/beach.jpg", dir);
    VipsImage *img = NULL, *img2 = NULL;
    CHECK(!vips_black(&img, 32, 32, "bands", 3, NULL));
    CHECK(!vips_copy(img, &img2, NULL));
    vips_image_set_string(img2, "exif-ifd2-DateTimeOriginal", "2019:06:01 12:34:56");
    vips_image_set_string(img2, "exif-ifd0-Model", "Camera X100");
    CHECK(!vips_jpegsave(img2, path, NULL));
    g_object_unref(img);
    g_object_unref(img2);
    s = gv_caption_text(path, "date");
    CHECK(s && !strcmp(s, "2019-06-01"));
    free(s);
    s = gv_caption_text(path, "exif:Model");
    CHECK(s && !strcmp(s, "Camera X100"));
    free(s);
    CHECK(gv_caption_text(path, "exif:LensModel") == NULL);
    CHECK(gv_caption_text(path, "sidecar") == NULL);
    snprintf(side, sizeof(side), "%s/beach.txt", dir);
    FILE *f = fopen(side, "w");
    fputs("Low tide, Brittany\nsecond line\n", f);
    fclose(f);
    s = gv_caption_text(path, "sidecar");
    CHECK(s && !strcmp(s, "Low tide, Brittany"));
    free(s);
    /* XMP: an element's text (its first rdf:li), an attribute, entities */
    snprintf(path, sizeof(path), "%s/x.jpg", dir);
    CHECK(!vips_black(&img, 16, 16, "bands", 3, NULL));
    CHECK(!vips_copy(img, &img2, NULL));
    static const char xmp[] =
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description xmp:Rating=\"4\" "
        "xmp:Label='Red'><dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">  Fish &amp; chips"
        "\n</rdf:li></rdf:Alt></dc:title><photoshop:City>Brest</photoshop:City>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>";
    vips_image_set_blob_copy(img2, VIPS_META_XMP_NAME, xmp, sizeof(xmp) - 1);
    vips_image_set_string(img2, "exif-ifd0-DateTime", "    :  :     :  :  ");
    CHECK(!vips_jpegsave(img2, path, NULL));
    g_object_unref(img);
    g_object_unref(img2);
    s = gv_caption_text(path, "exif:dc:title");
    CHECK(s && !strcmp(s, "Fish & chips"));
    free(s);
    s = gv_caption_text(path, "exif:photoshop:City");
    CHECK(s && !strcmp(s, "Brest"));
    free(s);
    s = gv_caption_text(path, "exif:xmp:Rating");
    CHECK(s && !strcmp(s, "4"));
    free(s);
    s = gv_caption_text(path, "exif:xmp:Label");
    CHECK(s && !strcmp(s, "Red"));
    free(s);
    CHECK(gv_caption_text(path, "exif:Rating") == NULL); /* not a suffix match */
    CHECK(gv_caption_text(path, "date") == NULL); /* a blank date is none */
    unlink(path);

    /* not UTF-8: nothing shown */
    f = fopen(side, "w");
    fputs("\xff\xfe bad", f);
    fclose(f);
    CHECK(gv_caption_text(path, "sidecar") == NULL);
    unlink(side);
    unlink(path);
}

int main(void)
{
    if (gv_tiles_init() < 0) {
        printf("cannot start libvips\n");
        return 1;
    }
    char dir[] = "/tmp/gv-text-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_render();
    test_japanese();
    test_blend();
    test_prepared();
    test_title_fade();
    test_captions(dir);
    rmdir(dir);
    return check_report("text");
}
