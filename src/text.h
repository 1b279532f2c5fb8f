/*
 * Words and a logo over the wall: the title card, captions in the tiles
 * and a logo, each rendered once (text by libvips through Pango,
 * HarfBuzz and fontconfig: any installed font, script and direction) into
 * an overlay of Y'CbCr and alpha, then blended into tiles (captions) or
 * into finished frames (title, logo) by the same code whichever compositor
 * made them, so that CPU and GPU frames stay identical.
 */
#ifndef GV_TEXT_H
#define GV_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "gridvid/gridvid.h"
#include "log.h"
#include "picture.h"

/* An image to blend: 4:4:4 Y'CbCr (BT.709 limited range) and alpha,
 * planes of w * h bytes in one allocation; placed at (x, y). */
typedef struct GvOverlay {
    int x, y, w, h;
    uint8_t *py, *pu, *pv, *pa;
    /* for frames (gv_overlay_prepare()): per 2 x 2 block from (0, 0), the
     * sum of alpha and of chroma times alpha; NULL until prepared */
    uint32_t *ca, *cu, *cv;
} GvOverlay;

/* Sums each 2 x 2 block's chroma for gv_overlay_blend_picture(), which is
 * then cheaper and gives the same result. Returns 0 or -ENOMEM. */
int gv_overlay_prepare(GvOverlay *o);

/* How text looks. */
typedef struct GvTextLook {
    const char *font;   /* Pango family, e.g. "Sans" */
    int px;             /* text height (the font's em) in pixels */
    uint8_t rgb[3];
    GvTextStyle style;  /* plate, shadow or none */
} GvTextLook;

/*
 * Renders UTF-8 text (plain, not markup) at most max_w wide, wrapped at
 * words and cut after max_lines lines, with the look's plate or shadow.
 * Returns 0, GV_ERR_DECODE (libvips could not render it: reason says
 * why) or -ENOMEM. *out is NULL for empty text.
 */
int gv_text_render(const char *text, const GvTextLook *look, int max_w, int max_lines,
                   GvOverlay **out, char *reason, size_t len);

/* Loads an image file (a PNG with alpha, or any other) as an overlay
 * `width` pixels wide. Returns 0, GV_ERR_DECODE or -ENOMEM. */
int gv_logo_load(const char *path, int width, GvOverlay **out, char *reason, size_t len);

void gv_overlay_free(GvOverlay **o);

/* Blends o at its place into a yuv420p picture (x, y even), at opacity
 * g from 0 to 256; what lies outside the picture is left out. */
void gv_overlay_blend_picture(const GvOverlay *o, GvPicture *pic, int g);

/* Blends o at (x, y) into a tile. */
void gv_overlay_blend_tile(const GvOverlay *o, GvTile *t, int x, int y);

/*
 * The caption of an image per CAPTION: "filename" (the name without
 * folder and extension), "date" (EXIF DateTimeOriginal, else DateTime,
 * as YYYY-MM-DD), "exif:NAME" (that EXIF tag, else an XMP property of
 * that name), "sidecar" (the text of PATH less its extension plus
 * ".txt", at most 1 KB, first line). Returns a new string, or NULL where
 * there is none (or for "none").
 */
char *gv_caption_text(const char *path, const char *mode);

/* Captions in tiles (CAPTION). */
typedef struct GvCaptionSpec {
    const char *mode;         /* filename, date, exif:NAME or sidecar */
    GvTextLook look;          /* px: the height on screen */
    double scale;             /* prepared tile / tile on screen (src/view.h) */
    double ken_burns;         /* percent: the caption stays in what the zoom keeps */
    GvCrop crop;              /* the zoom's focus where the tile has none */
} GvCaptionSpec;

/*
 * Draws image path's caption at the bottom of tile t, inside the part of
 * it that stays on screen through a Ken Burns zoom or pan. No caption is
 * no change. Returns 0, or -ENOMEM.
 */
int gv_caption_apply(const GvCaptionSpec *c, const char *path, GvTile *t);

/* The caption gv_caption_apply() draws, placed in tile coordinates, for
 * drawing into many tiles of one size (a clip's pictures). *out is NULL
 * where there is none. Returns 0 or -ENOMEM. */
int gv_caption_make(const GvCaptionSpec *c, const char *path, const GvTile *t, GvOverlay **out);

/* The title card and the logo of a run, ready to blend into frames. */
typedef struct GvOverlays {
    GvOverlay *title;
    GvOverlay *logo;
    double title_s;           /* seconds the title shows */
    int fps_num, fps_den;
} GvOverlays;

/* Renders what settings s ask for. Returns 0, GV_ERR_DECODE (a logo that
 * cannot be read: logged), GV_ERR_SETTING or -ENOMEM. */
int gv_overlays_init(GvOverlays *ov, const GvSettings *s, const GvLog *log);

/* Blends the title (faded in and out) and the logo into frame i. */
void gv_overlays_apply(const GvOverlays *ov, int64_t frame, GvPicture *pic);

/* A composited frame's last step, for the video and the preview alike:
 * the overlays; and with a transparent background (over: the same frame
 * composited over GV_UNDER_WHITE, else NULL) the overlays on over too and
 * pic made the straight-alpha frame (gv_alpha_resolve()). */
void gv_overlays_finish(const GvOverlays *ov, int64_t frame, GvPicture *pic, GvPicture *over);

/* The title's opacity at frame i, 0 to 256. */
int gv_title_opacity(const GvOverlays *ov, int64_t frame);

void gv_overlays_free(GvOverlays *ov);

#endif
