/* The formulas of docs/VIEW.md (Ken Burns and the camera), checked
 * against values worked out by hand or by an independent closed form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layout.h"
#include "picture.h"
#include "color.h"
#include "render/compositor.h"
#include "tiles.h"
#include "view.h"

static GvViewParams vparams(int w, int h, int tw, int th)
{
    return (GvViewParams){
        .width = w, .height = h, .kind = GV_LAYOUT_ROWS, .tile_w = tw, .tile_h = th,
        .crop = GV_CROP_CENTER, .fov = 50, .distance = 1,
    };
}

static GvLayoutParams lparams(int w, int h, int tw, int th, int n)
{
    return (GvLayoutParams){
        .width = w, .height = h, .kind = GV_LAYOUT_ROWS, .tile_w = tw, .tile_h = th,
        .n_images = n, .duration = 10, .fps_num = 30, .fps_den = 1, .motion_blur = 1,
    };
}

static void test_presets(void)
{
    GvSettings s;
    memset(&s, 0, sizeof(s));
    s.width = 1920;
    s.height = 1080;
    s.tile_height = 360;
    s.aspect_w = s.aspect_h = 1;
    GvViewParams p = gv_view_params(&s);
    CHECK_INT(p.camera, 0);
    CHECK_NEAR(p.fov, 50, 0);
    s.camera = GV_CAMERA_TILTED;
    p = gv_view_params(&s);
    CHECK_INT(p.camera, 1);
    CHECK_NEAR(p.tilt, 25, 0);
    CHECK_NEAR(p.turn, -15, 0);
    s.turn = 10; /* an explicit value replaces the preset's */
    p = gv_view_params(&s);
    CHECK_NEAR(p.tilt, 25, 0);
    CHECK_NEAR(p.turn, 10, 0);
    s.camera = GV_CAMERA_NONE;
    s.turn = 0;
    s.tilt = 5; /* a tilt alone turns the camera on */
    p = gv_view_params(&s);
    CHECK_INT(p.camera, 1);
    s.tilt = 0;
    s.camera = GV_CAMERA_FLOOR;
    p = gv_view_params(&s);
    CHECK_NEAR(p.tilt, 60, 0);
    s.camera = GV_CAMERA_SIDE;
    p = gv_view_params(&s);
    CHECK_NEAR(p.turn, 35, 0);
    CHECK_NEAR(p.tilt, 0, 0);
}

static void test_projection(void)
{
    GvView v;
    GvViewParams p = vparams(640, 360, 90, 90);
    p.camera = 1;
    /* a camera square to the wall at distance 1 sees the frame itself */
    CHECK_INT(gv_view_init(&v, &p), 0);
    double x, y, d;
    CHECK_INT(gv_view_project(&v, 17, 301, &x, &y, &d), 1);
    CHECK_NEAR(x, 17, 1e-9);
    CHECK_NEAR(y, 301, 1e-9);
    /* map words: 1/256 pixel, footprint 1 (lod 0 -> 32768), fade 256 */
    const int32_t *m = v.map + 3 * (301 * 640 + 17);
    CHECK_INT(m[0], 17 * 256);
    CHECK_INT(m[1], 301 * 256);
    CHECK_INT((uint32_t)m[2], 32768u | 256u << 16);
    CHECK_NEAR(v.magnification, 1, 1e-9);
    CHECK_INT(v.src_w, 90);
    gv_view_free(&v);

    /* twice as far: everything half size about the centre (319.5, 179.5) */
    p.distance = 2;
    CHECK_INT(gv_view_init(&v, &p), 0);
    CHECK_INT(gv_view_project(&v, 20, 40, &x, &y, &d), 1);
    CHECK_NEAR(x, 319.5 + 2 * (20 - 319.5), 1e-9);
    CHECK_NEAR(y, 179.5 + 2 * (40 - 179.5), 1e-9);
    /* one output pixel spans two wall pixels: lod 256 */
    m = v.map + 3 * (40 * 640 + 20);
    CHECK_INT((uint32_t)m[2] & 0xffffu, 32768 + 256);
    gv_view_free(&v);

    /* tilt t: a pixel dy below the centre sees Y - cy = D dy / (dy sin t + f cos t) */
    p.distance = 1;
    p.tilt = 30;
    CHECK_INT(gv_view_init(&v, &p), 0);
    const double f = 180 / tan(25 * M_PI / 180), t = 30 * M_PI / 180;
    for (int yy = 0; yy < 360; yy += 37) {
        const double dy = yy - 179.5;
        CHECK_INT(gv_view_project(&v, 319.5, yy, &x, &y, &d), 1);
        CHECK_NEAR(x, 319.5, 1e-9);
        CHECK_NEAR(y - 179.5, f * dy / (dy * sin(t) + f * cos(t)), 1e-9);
    }
    /* the top leans away: the top of the frame sees more wall than the bottom */
    double ytop, ybot;
    gv_view_project(&v, 319.5, 0, &x, &ytop, &d);
    gv_view_project(&v, 319.5, 359, &x, &ybot, &d);
    CHECK(179.5 - ytop > ybot - 179.5);
    /* the wall's near part is magnified: tiles are prepared larger */
    CHECK(v.magnification > 1.05 && v.magnification <= 2);
    CHECK_INT(v.src_w, 2 * (int)floor(90 * v.magnification / 2 + 0.5));
    CHECK(v.levels > 1);
    CHECK_INT(v.lw[1], v.src_w >> 1);
    CHECK_INT(v.loff[1], (int64_t)v.src_w * v.src_h);
    gv_view_free(&v);

    /* turn u: the centre line's pixel dx right sees X - cx = D dx / (f cos u - dx sin u)... */
    p.tilt = 0;
    p.turn = 20;
    CHECK_INT(gv_view_init(&v, &p), 0);
    const double u = 20 * M_PI / 180;
    for (int xx = 0; xx < 640; xx += 71) {
        const double dx = xx - 319.5;
        CHECK_INT(gv_view_project(&v, xx, 179.5, &x, &y, &d), 1);
        CHECK_NEAR(y, 179.5, 1e-9);
        CHECK_NEAR(x - 319.5, f * dx / (f * cos(u) - dx * sin(u)), 1e-9);
    }
    gv_view_free(&v);

    /* beyond GV_VIEW_FAR times the centre's distance the wall is not drawn */
    p.turn = 0;
    p.tilt = 70;
    p.fov = 60;
    CHECK_INT(gv_view_init(&v, &p), 0);
    CHECK_INT(gv_view_project(&v, 319.5, 0, &x, &y, &d), 0);
    CHECK_INT((uint32_t)v.map[3 * 5 + 2], GV_VIEW_NONE);
    CHECK_INT(gv_view_project(&v, 319.5, 359, &x, &y, &d), 1);
    gv_view_free(&v);
}

static void test_fade(void)
{
    GvView v;
    GvViewParams p = vparams(640, 360, 90, 90);
    p.camera = 1;
    p.tilt = 40;
    p.depth_fade = 100;
    CHECK_INT(gv_view_init(&v, &p), 0);
    double x, y, d;
    /* fade = 1 - (d - D) / (3 D), 256ths: 256 at the centre's depth */
    const double f = 180 / tan(25 * M_PI / 180);
    for (int yy = 0; yy < 360; yy += 50) {
        if (!gv_view_project(&v, 100, yy, &x, &y, &d))
            continue;
        const double fade = fmin(fmax(1 - (d - f) / (3 * f), 0), 1);
        const uint32_t w = (uint32_t)v.map[3 * (yy * 640 + 100) + 2];
        CHECK_INT(w >> 16, (uint32_t)floor(256 * fade + 0.5));
    }
    gv_view_free(&v);
}

static void test_zoom_and_copies(void)
{
    GvView v;
    GvViewParams p = vparams(400, 100, 100, 100);
    p.ken_burns = 10;
    CHECK_INT(gv_view_init(&v, &p), 0);
    CHECK_INT(v.active, 1);
    CHECK(v.map == NULL);
    CHECK_INT(v.levels, 1);
    /* prepared at 1.1 x: 110 x 110 */
    CHECK_INT(v.src_w, 110);
    CHECK_INT(v.src_h, 110);
    CHECK_NEAR(gv_view_zoom(v.p.ken_burns, 1, 0), 1, 1e-12);
    CHECK_NEAR(gv_view_zoom(v.p.ken_burns, 1, 0.5), 1.05, 1e-12);
    CHECK_NEAR(gv_view_zoom(v.p.ken_burns, 1, 1), 1.1, 1e-12);
    CHECK_NEAR(gv_view_zoom(v.p.ken_burns, 0, 0), 1.1, 1e-12);
    CHECK_NEAR(gv_view_zoom(v.p.ken_burns, 0, 1), 1, 1e-12);
    CHECK_NEAR(gv_view_zoom(v.p.ken_burns, 1, 2), 1.1, 1e-12); /* clamped */

    /* one row of 8 images moving left; frame 0: offset 0 */
    GvLayout l;
    GvLayoutParams lp = lparams(400, 100, 100, 100, 8);
    CHECK_INT(gv_layout_init(&l, &lp), 0);
    gv_view_attach(&v, &l);
    CHECK_INT(l.n_lanes, 1);
    CHECK_INT(l.lanes[0].vis_lo, 0);
    CHECK_INT(l.lanes[0].vis_hi, 400);
    GvOffset offs[1] = { { 0, 0 } };
    GvViewRun run;
    GvViewInst in[16];
    CHECK(gv_view_max_insts(&v, &l) >= 5);
    const int n = gv_view_frame(&v, &l, offs, NULL, &run, in);
    /* columns 0..4 (x = 400 is the interpolation neighbour's column 4) */
    CHECK_INT(n, 5);
    CHECK_INT(run.first, 0);
    CHECK_INT(run.count, 5);
    /* column 1: centre at 149.5, q = (149.5 + 50) / 500 = 0.399; moving
     * left, tau = 1 - q = 0.601; column 1 of lane 0 zooms out:
     * z = 1 + 0.1 (1 - tau) = 1.0399 */
    const double z = 1 + 0.1 * (1 - (1 - 199.5 / 500));
    const double wn = 110 / z, left = 0.5 * (110 - wn);
    CHECK_INT(in[1].ax, (int32_t)floor(65536 * wn / 100 + 0.5));
    CHECK_INT(in[1].bx, (int32_t)floor(256 * (left + 0.5 * wn / 100 - 0.5) + 0.5));
    CHECK_INT(in[1].ay, in[1].ax);
    CHECK_INT(in[1].lod, (int32_t)floor(256 * log2(wn / 100) + 0.5));
    /* column 2 zooms in: centre 249.5, tau = 1 - 299.5 / 500 */
    const double z2 = 1 + 0.1 * (1 - 299.5 / 500);
    CHECK_INT(in[2].ax, (int32_t)floor(65536 * (110 / z2) / 100 + 0.5));
    gv_layout_free(&l);

    /* focus: CROP_POSITION top keeps the window's top at the source's top */
    p.crop = GV_CROP_TOP;
    gv_view_free(&v);
    CHECK_INT(gv_view_init(&v, &p), 0);
    CHECK_INT(gv_layout_init(&l, &lp), 0);
    gv_view_attach(&v, &l);
    gv_view_frame(&v, &l, offs, NULL, &run, in);
    const double wn2 = 110 / z2;
    CHECK_INT(in[2].by, (int32_t)floor(256 * (0.5 * wn2 / 100 - 0.5) + 0.5));
    CHECK_INT(in[2].bx, (int32_t)floor(256 * (0.5 * (110 - wn2) + 0.5 * wn2 / 100 - 0.5) + 0.5));
    gv_layout_free(&l);

    /* a point of interest found in the tile replaces the crop's; a
     * panorama (aspect >= 1.5 over the tile's) pans at the full zoom */
    GvViewLook looks[8];
    for (int k = 0; k < 8; k++)
        looks[k] = (GvViewLook){ 0.2f, 0.9f, 1 };
    looks[2].aspect = 2; /* column 2: wide, pans left to right as tau grows (it zooms in) */
    looks[3].aspect = 0.5f; /* column 3: tall, pans bottom to top (it zooms out) */
    CHECK_INT(gv_layout_init(&l, &lp), 0);
    gv_view_attach(&v, &l);
    gv_view_frame(&v, &l, offs, looks, &run, in);
    const double wn1 = 110 / z;
    CHECK_INT(in[1].bx, (int32_t)floor(256 * (0.2f * (110 - wn1) + 0.5 * wn1 / 100 - 0.5) + 0.5));
    CHECK_INT(in[1].by, (int32_t)floor(256 * (0.9f * (110 - wn1) + 0.5 * wn1 / 100 - 0.5) + 0.5));
    const double tau2 = 1 - 299.5 / 500, wp = 110 / 1.1;
    CHECK_INT(in[2].ax, (int32_t)floor(65536 * wp / 100 + 0.5));
    CHECK_INT(in[2].bx, (int32_t)floor(256 * (tau2 * (110 - wp) + 0.5 * wp / 100 - 0.5) + 0.5));
    CHECK_INT(in[2].by, (int32_t)floor(256 * (0.9f * (110 - wp) + 0.5 * wp / 100 - 0.5) + 0.5));
    const double tau3 = 1 - 399.5 / 500;
    CHECK_INT(in[3].by, (int32_t)floor(256 * ((1 - tau3) * (110 - wp) + 0.5 * wp / 100 - 0.5) + 0.5));
    CHECK_INT(in[3].bx, (int32_t)floor(256 * (0.2f * (110 - wp) + 0.5 * wp / 100 - 0.5) + 0.5));
    gv_layout_free(&l);
    gv_view_free(&v);
}

static void test_chain(void)
{
    GvView v;
    GvViewParams p = vparams(64, 64, 4, 2);
    p.camera = 1;
    p.distance = 4; /* minifies: mip levels */
    CHECK_INT(gv_view_init(&v, &p), 0);
    CHECK_INT(v.src_w, 4);
    CHECK_INT(v.src_h, 2);
    CHECK_INT(v.levels, 3); /* 4x2, 2x1, 1x1 */
    CHECK_INT(v.chain_bytes, 8 + 2 + 1);
    GvTile *t = gv_tile_alloc(4, 2);
    const uint8_t px[8] = { 10, 20, 30, 41, 50, 60, 70, 80 };
    memcpy(t->y, px, 8);
    memset(t->u, 7, 8);
    memset(t->v, 200, 8);
    uint8_t chain[33];
    gv_view_chain(&v, t, chain);
    CHECK_INT(chain[8], (10 + 20 + 50 + 60 + 2) / 4);
    CHECK_INT(chain[9], (30 + 41 + 70 + 80 + 2) / 4);
    CHECK_INT(chain[10], (chain[8] + chain[9] + chain[8] + chain[9] + 2) / 4);
    CHECK_INT(chain[11 + 9], 7);
    CHECK_INT(chain[22 + 10], 200);
    gv_tile_free(&t);
    gv_view_free(&v);
}

/* A camera square to the wall at distance 1 and no zoom shows what the
 * plain compositor shows, wherever offsets are whole pixels. */
static void test_identity_render(void)
{
    const int w = 96, h = 64, tw = 20, th = 16, n = 9;
    GvView v;
    GvViewParams p = vparams(w, h, tw, th);
    p.camera = 1;
    CHECK_INT(gv_view_init(&v, &p), 0);
    CHECK_INT(v.src_w, tw);
    GvLayout plain, viewed;
    GvLayoutParams lp = lparams(w, h, tw, th, n);
    lp.gap = 3;
    lp.fps_num = 23; /* period 3 * 23 = 69 px per row, over 23 frames: whole pixels */
    lp.duration = 3;
    lp.speed = 23;
    CHECK_INT(gv_layout_init(&plain, &lp), 0);
    lp.view_cross = gv_view_cross(&v, th, lp.gap);
    CHECK_INT(gv_layout_init(&viewed, &lp), 0);
    gv_view_attach(&v, &viewed);
    /* the camera sees exactly the frame: no lane added */
    CHECK_INT(viewed.n_lanes, plain.n_lanes);
    GvTile *tiles[9];
    for (int k = 0; k < n; k++) {
        tiles[k] = gv_tile_alloc(tw, th);
        for (int i = 0; i < 3 * tw * th; i++)
            tiles[k]->y[i] = (uint8_t)(i * 7 + k * 31);
    }
    const uint8_t bg[3] = { 16, 128, 128 };
    uint8_t *buf = malloc(2 * (size_t)w * h * 3 / 2);
    GvPicture a = { w, h, { buf, buf + w * h, buf + w * h * 5 / 4 }, { w, w / 2, w / 2 } };
    uint8_t *b2 = buf + (size_t)w * h * 3 / 2;
    GvPicture b = { w, h, { b2, b2 + w * h, b2 + w * h * 5 / 4 }, { w, w / 2, w / 2 } };
    GvOffset offs[8];
    int same = 1;
    for (int64_t f = 0; f < plain.frames; f += 5) {
        gv_frame_offsets(&plain, f, offs);
        for (int r = 0; r < plain.n_lanes; r++)
            CHECK_INT(offs[r].frac, 0);
        CHECK_INT(gv_cpu_render(&plain, bg, (const GvTile *const *)tiles, offs, &a, 0, h), 0);
        CHECK_INT(gv_cpu_render(&viewed, bg, (const GvTile *const *)tiles, offs, &b, 0, h), 0);
        same &= !memcmp(buf, b2, (size_t)w * h * 3 / 2);
    }
    CHECK(same);
    for (int k = 0; k < n; k++)
        gv_tile_free(&tiles[k]);
    free(buf);
    gv_layout_free(&plain);
    gv_layout_free(&viewed);
    gv_view_free(&v);
}

/* A tilted camera sees more rows: the lanes extend, every pixel that sees
 * the wall lies in a lane or a gap, and the windows say which part. */
static void test_extension(void)
{
    GvView v;
    GvViewParams p = vparams(640, 360, 80, 80);
    p.camera = 1;
    p.tilt = 45;
    CHECK_INT(gv_view_init(&v, &p), 0);
    const int cross = gv_view_cross(&v, 80, 0);
    CHECK(cross > 360);
    CHECK(v.cross_lo < 0);
    GvLayout l;
    GvLayoutParams lp = lparams(640, 360, 80, 80, 40);
    lp.view_cross = cross;
    CHECK_INT(gv_layout_init(&l, &lp), 0);
    CHECK(l.n_lanes > 5);
    gv_view_attach(&v, &l);
    CHECK((int64_t)l.first * 256 <= (int64_t)v.cross_lo * 256);
    CHECK((int64_t)(l.first + l.n_lanes * 80) >= v.cross_hi);
    /* the top lanes are farther: their windows are wider */
    const GvLane *top = NULL, *bottom = NULL;
    for (int r = 0; r < l.n_lanes; r++)
        if (l.lanes[r].vis_lo <= l.lanes[r].vis_hi) {
            if (!top)
                top = &l.lanes[r];
            bottom = &l.lanes[r];
        }
    CHECK(top && bottom && top->vis_hi - top->vis_lo > bottom->vis_hi - bottom->vis_lo);
    gv_layout_free(&l);
    gv_view_free(&v);
}

/* The point of interest of a smart crop: libvips' attention centre, found
 * in the prepared tile. */
static void test_focus(void)
{
    if (gv_tiles_init() < 0) {
        CHECK(0);
        return;
    }
    GvTile *t = gv_tile_alloc(96, 64);
    uint8_t y, u, v, ys, us, vs;
    gv_rgb_to_yuv(128, 128, 128, &y, &u, &v);
    gv_rgb_to_yuv(230, 40, 30, &ys, &us, &vs);
    for (int i = 0; i < 96 * 64; i++) {
        const int x = i % 96, yy = i / 96;
        const int in = x >= 60 && x < 84 && yy >= 6 && yy < 26; /* saturated, edged */
        t->y[i] = in ? ys : y;
        t->u[i] = in ? us : u;
        t->v[i] = in ? vs : v;
    }
    CHECK_NEAR(t->focus_x, -1, 0);
    CHECK_INT(gv_tile_find_focus(t), 0);
    CHECK(t->focus_x > 0.55 && t->focus_x < 0.95);
    CHECK(t->focus_y > 0.0 && t->focus_y < 0.45);
    gv_tile_free(&t);
}

int main(void)
{
    test_focus();
    test_presets();
    test_projection();
    test_fade();
    test_zoom_and_copies();
    test_chain();
    test_identity_render();
    test_extension();
    return check_report("view");
}
