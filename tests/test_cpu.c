/* The CPU reference compositor against values worked out by hand from the
 * SPEC's sampling rules: integer and fractional offsets, gaps, background,
 * chroma siting, motion blur, rows and columns. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layout.h"
#include "render/compositor.h"

#define NT 4

static GvTile *tiles[NT];
static const uint8_t BG[3] = { 16, 128, 128 };

/* image k: Y = 20 + 40 k (flat) or a gradient; U = 100 + k, V = 150 - k */
static void make_tiles(int tw, int th, int gradient)
{
    for (int k = 0; k < NT; k++) {
        gv_tile_free(&tiles[k]);
        tiles[k] = gv_tile_alloc(tw, th);
        for (int y = 0; y < th; y++)
            for (int x = 0; x < tw; x++) {
                const int i = y * tw + x;
                tiles[k]->y[i] = (uint8_t)(gradient ? 20 + 40 * k + 3 * x + y : 20 + 40 * k);
                tiles[k]->u[i] = (uint8_t)(100 + k);
                tiles[k]->v[i] = (uint8_t)(150 - k);
            }
    }
}

typedef struct Frame {
    GvPicture pic;
    uint8_t buf[64 * 64 * 2];
} Frame;

static void render(const GvLayout *l, int64_t frame, Frame *f)
{
    memset(f, 0xAA, sizeof(*f));
    f->pic.width = l->p.width;
    f->pic.height = l->p.height;
    f->pic.data[0] = f->buf;
    f->pic.linesize[0] = l->p.width;
    f->pic.data[1] = f->buf + l->p.width * l->p.height;
    f->pic.linesize[1] = l->p.width / 2;
    f->pic.data[2] = f->pic.data[1] + l->p.width / 2 * (l->p.height / 2);
    f->pic.linesize[2] = l->p.width / 2;
    GvOffset offs[64];
    gv_frame_offsets(l, frame, offs);
    gv_cpu_render(l, BG, (const GvTile *const *)tiles, offs, &f->pic, 0, l->p.height);
}

static int Y(const Frame *f, int x, int y)
{
    return f->pic.data[0][y * f->pic.linesize[0] + x];
}

static int U(const Frame *f, int cx, int cy)
{
    return f->pic.data[1][cy * f->pic.linesize[1] + cx];
}

static GvLayoutParams base(int w, int h, int t, int gap, int frames_per_s)
{
    return (GvLayoutParams){
        .width = w, .height = h, .kind = GV_LAYOUT_ROWS, .tile_w = t, .tile_h = t, .gap = gap,
        .n_images = NT, .duration = 1, .fps_num = frames_per_s, .fps_den = 1, .motion_blur = 1,
    };
}

static void test_integer_offsets(void)
{
    /* 16x8, tiles 4x4: 2 rows, row 0 = images 0, 2; row 1 = 1, 3; P = 8;
     * 8 frames: u = i pixels */
    make_tiles(4, 4, 1);
    GvLayout l;
    GvLayoutParams p = base(16, 8, 4, 0, 8);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    Frame f;
    render(&l, 0, &f);
    CHECK_INT(Y(&f, 0, 0), 20);              /* image 0 (0, 0) */
    CHECK_INT(Y(&f, 5, 2), 20 + 80 + 3 + 2); /* image 2 (1, 2) */
    CHECK_INT(Y(&f, 9, 0), 20 + 3);          /* period 8: image 0 (1, 0) */
    CHECK_INT(Y(&f, 0, 4), 60);              /* row 1 starts with image 1 */
    render(&l, 3, &f);
    CHECK_INT(Y(&f, 0, 0), 20 + 9);          /* strip position 3 */
    CHECK_INT(Y(&f, 1, 0), 100);             /* position 4: image 2 (0, 0) */
    CHECK_INT(U(&f, 0, 0), 100);             /* chroma at luma x = 0 */
    CHECK_INT(U(&f, 1, 0), 102);             /* luma x = 2: image 2 */
    gv_layout_free(&l);
}

static void test_fractional_offset(void)
{
    /* 16 frames: u = i / 2, so frame 1 samples halfway between pixels */
    make_tiles(4, 4, 0);
    GvLayout l;
    GvLayoutParams p = base(16, 8, 4, 0, 16);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    Frame f;
    render(&l, 1, &f);
    CHECK_INT(Y(&f, 2, 0), 20);              /* 2.5: inside image 0 */
    CHECK_INT(Y(&f, 3, 0), (20 + 100) / 2);  /* 3.5: between image 0 and 2 */
    CHECK_INT(Y(&f, 7, 1), (100 + 20) / 2);  /* 7.5: image 2 and, wrapping, 0 */
    CHECK_INT(U(&f, 1, 0), 100);             /* luma x = 2: 2.5 in image 0 */
    gv_layout_free(&l);
}

static void test_gap_and_background(void)
{
    /* gap 2: cstep 6, P = 12; rows: R = ceil(10 / 6) = 2, y0 = (8 - 10) / 2 = -1 */
    make_tiles(4, 4, 0);
    GvLayout l;
    GvLayoutParams p = base(16, 8, 4, 2, 12);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.first, -1);
    Frame f;
    render(&l, 0, &f);
    CHECK_INT(Y(&f, 3, 0), 20);  /* row 0 covers y -1..2 */
    CHECK_INT(Y(&f, 4, 0), 16);  /* gap in the strip */
    CHECK_INT(Y(&f, 6, 0), 100); /* image 2 */
    CHECK_INT(Y(&f, 0, 3), 16);  /* gap between rows: y 3, 4 */
    CHECK_INT(Y(&f, 0, 4), 16);
    CHECK_INT(Y(&f, 0, 5), 60);  /* row 1: y 5..8 */
    /* chroma line 1 averages luma lines 2 (image 0, U 100) and 3 (gap, 128) */
    CHECK_INT(U(&f, 0, 1), (100 * 256 + 128 * 256 + 256) / 512);
    /* chroma line 2 averages lines 4 (gap) and 5 (image 1, U 101) */
    CHECK_INT(U(&f, 0, 2), (128 * 256 + 101 * 256 + 256) / 512);
    gv_layout_free(&l);
}

static void test_motion_blur(void)
{
    /* 8 frames, P = 8, n = 2: frame 1 samples p = 1/8 -+ 1/64, u = 0.875 and 1.125 */
    make_tiles(4, 4, 0);
    GvLayout l;
    GvLayoutParams p = base(16, 8, 4, 0, 8);
    p.motion_blur = 2;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    Frame f;
    render(&l, 1, &f);
    /* x = 3: 3.875 -> 0.125 * 20 + 0.875 * 100 = 90; 4.125 -> 100; mean 95 */
    CHECK_INT(Y(&f, 3, 0), (20 * 32 + 100 * 224 + 100 * 256 + 256) / 512);
    CHECK_INT(Y(&f, 3, 0), 95);
    CHECK_INT(Y(&f, 1, 0), 20);
    gv_layout_free(&l);
}

static void test_alternate(void)
{
    /* row 1 moves right: frame 1 of 8 has u = -1, strip position x - 1 */
    make_tiles(4, 4, 0);
    GvLayout l;
    GvLayoutParams p = base(16, 8, 4, 0, 8);
    p.direction = GV_DIRECTION_ALTERNATE;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    Frame f;
    render(&l, 1, &f);
    CHECK_INT(Y(&f, 3, 0), 100); /* row 0, position 4: image 2 */
    CHECK_INT(Y(&f, 0, 4), 140); /* row 1, position -1 = 7: image 3 */
    CHECK_INT(Y(&f, 4, 4), 60);  /* row 1, position 3: image 1 */
    gv_layout_free(&l);
}

static void test_columns(void)
{
    /* 8x16, columns of 4: column 0 = images 0, 2; column 1 = 1, 3; P = 8
     * vertical; 16 frames: u = i / 2 */
    make_tiles(4, 4, 1);
    GvLayout l;
    GvLayoutParams p = base(8, 16, 4, 0, 16);
    p.kind = GV_LAYOUT_COLUMNS;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.n_lanes, 2);
    Frame f;
    render(&l, 0, &f);
    CHECK_INT(Y(&f, 1, 2), 20 + 3 + 2);       /* image 0 (1, 2) */
    CHECK_INT(Y(&f, 1, 5), 20 + 80 + 3 + 1);  /* image 2 (1, 1) */
    CHECK_INT(Y(&f, 6, 0), 60 + 6);           /* image 1 (2, 0) */
    render(&l, 1, &f);
    /* y = 3 reads 3.5: image 0 line 3 and image 2 line 0, x = 0 */
    CHECK_INT(Y(&f, 0, 3), (23 * 128 + 100 * 128 + 128) / 256);
    gv_layout_free(&l);
}

int main(void)
{
    test_integer_offsets();
    test_fractional_offset();
    test_gap_and_background();
    test_motion_blur();
    test_alternate();
    test_columns();
    for (int k = 0; k < NT; k++)
        gv_tile_free(&tiles[k]);
    return check_report("test_cpu");
}
