/* Every formula of SPEC.md's layout and motion sections, checked against
 * values worked out by hand. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layout.h"

static GvLayoutParams params(int w, int h, int tw, int th, int gap, int n)
{
    return (GvLayoutParams){
        .width = w, .height = h, .kind = GV_LAYOUT_ROWS, .tile_w = tw, .tile_h = th,
        .gap = gap, .n_images = n, .duration = 10, .fps_num = 30, .fps_den = 1,
        .motion_blur = 1,
    };
}

static void test_tile_width(void)
{
    CHECK_INT(gv_tile_width(360, 1, 1), 360);
    CHECK_INT(gv_tile_width(360, 16, 9), 640);
    /* 101 * 4/3 = 134.67 -> 2 * floor(67.33 + 0.5) = 134 */
    CHECK_INT(gv_tile_width(101, 4, 3), 134);
    /* 3 * 1/1 / 2 = 1.5: a tie rounds up to 2 * 2 */
    CHECK_INT(gv_tile_width(3, 1, 1), 4);
    /* 5 / 2 = 2.5 -> 6; 7 * 2/3 / 2 = 2.33 -> 4 */
    CHECK_INT(gv_tile_width(5, 1, 1), 6);
    CHECK_INT(gv_tile_width(7, 2, 3), 4);
    CHECK_INT(gv_tile_width(0, 1, 1), 0);
}

static void test_frame_count(void)
{
    CHECK_INT(gv_frame_count(30, 1, 10), 300);
    CHECK_INT(gv_frame_count(30000, 1001, 10), 300); /* 299.7 */
    CHECK_INT(gv_frame_count(25, 1, 0.3), 8);        /* 7.5 rounds up */
    CHECK_INT(gv_frame_count(24, 1, 1.02), 24);      /* 24.48 */
    CHECK_INT(gv_frame_count(60, 1, 0.025), 2);      /* 1.5 */
    CHECK_INT(gv_frame_count(0, 1, 10), -1);
}

static void test_rows_and_y0(void)
{
    GvLayout l;
    GvLayoutParams p = params(1920, 1080, 360, 360, 0, 30);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.n_lanes, 3);
    CHECK_INT(l.first, 0);
    gv_layout_free(&l);

    /* R = ceil(1080 / 400) = 3, block 1200, y0 = -60 */
    p = params(1920, 1080, 400, 400, 0, 30);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.n_lanes, 3);
    CHECK_INT(l.first, -60);
    CHECK_INT(l.lanes[2].pos, 740);
    gv_layout_free(&l);

    /* with a gap: R = ceil(1090 / 410) = 3, block 1220, y0 = -70 */
    p = params(1920, 1080, 400, 400, 10, 30);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.n_lanes, 3);
    CHECK_INT(l.first, -70);
    CHECK_INT(l.lanes[1].pos, -70 + 410);
    gv_layout_free(&l);

    /* (8 - 9) / 2 = -0.5 floors to -1 */
    p = params(16, 8, 4, 3, 0, 6);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.n_lanes, 3);
    CHECK_INT(l.first, -1);
    gv_layout_free(&l);

    /* ROWS set explicitly: block 2 * 360 = 720 centred in 1080 */
    p = params(1920, 1080, 360, 360, 0, 30);
    p.lanes = 2;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.n_lanes, 2);
    CHECK_INT(l.first, 180);
    gv_layout_free(&l);
}

static void test_column_major(void)
{
    GvLayout l;
    GvLayoutParams p = params(640, 300, 100, 100, 10, 7);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.n_lanes, 3); /* ceil(310 / 110) */
    /* row 0: 0 3 6, row 1: 1 4, row 2: 2 5 */
    CHECK_INT(l.lanes[0].n, 3);
    CHECK_INT(l.lanes[1].n, 2);
    CHECK_INT(l.lanes[2].n, 2);
    CHECK_INT(gv_lane_image(&l, 0, 2), 6);
    CHECK_INT(gv_lane_image(&l, 1, 1), 4);
    CHECK_INT(gv_lane_image(&l, 2, 0), 2);
    /* periods n (tw + g) */
    CHECK_INT(l.lanes[0].period, 330);
    CHECK_INT(l.lanes[1].period, 220);
    gv_layout_free(&l);

    /* fewer images than rows: the last row is empty */
    p = params(640, 300, 100, 100, 10, 2);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.lanes[2].n, 0);
    CHECK_INT(l.lanes[2].period, 0);
    gv_layout_free(&l);
}

static void test_lane_at(void)
{
    GvLayout l;
    GvLayoutParams p = params(640, 300, 100, 100, 10, 9);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    /* y0 = floor((300 - 320) / 2) = -10: row 0 spans -10..89, gap 90..99 */
    int t = -1;
    CHECK_INT(gv_lane_at(&l, 0, &t), 0);
    CHECK_INT(t, 10);
    CHECK_INT(gv_lane_at(&l, 89, &t), 0);
    CHECK_INT(gv_lane_at(&l, 90, &t), -1);
    CHECK_INT(gv_lane_at(&l, 100, &t), 1);
    CHECK_INT(t, 0);
    CHECK_INT(gv_lane_at(&l, -11, &t), -1);
    gv_layout_free(&l);
}

static void test_easing(void)
{
    CHECK_NEAR(gv_ease(GV_EASING_LINEAR, 0.25), 0.25, 1e-12);
    CHECK_NEAR(gv_ease(GV_EASING_EASE_IN_OUT, 0.25), (1 - cos(M_PI / 4)) / 2, 1e-12);
    CHECK_NEAR(gv_ease(GV_EASING_EASE_IN_OUT, 0.5), 0.5, 1e-12);
    CHECK_NEAR(gv_ease(GV_EASING_EASE_IN, 0.5), 1 - cos(M_PI / 4), 1e-12);
    CHECK_NEAR(gv_ease(GV_EASING_EASE_OUT, 0.5), sin(M_PI / 4), 1e-12);
    CHECK_NEAR(gv_ease(GV_EASING_EASE_OUT, 1.0), 1.0, 1e-12);
    /* just outside [0, 1) the formulas apply as written */
    CHECK_NEAR(gv_ease(GV_EASING_EASE_OUT, -0.01), sin(-0.01 * M_PI / 2), 1e-12);
    CHECK_NEAR(gv_ease(GV_EASING_LINEAR, -0.01), -0.01, 1e-12);
}

static void test_offsets(void)
{
    GvLayout l;
    GvLayoutParams p = params(640, 300, 100, 100, 10, 9); /* 3 rows of 3, P = 330 */
    p.direction = GV_DIRECTION_ALTERNATE;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.frames, 300);
    /* p_i = i / F: frame 150 is half-way, u = +-L/2 */
    CHECK_NEAR(gv_sample_progress(150, 300, 0, 1), 0.5, 1e-12);
    CHECK_NEAR(gv_lane_offset(&l, 0, 0.5), 165, 1e-9);
    CHECK_NEAR(gv_lane_offset(&l, 1, 0.5), -165, 1e-9);
    CHECK_NEAR(gv_lane_offset(&l, 2, 0.5), 165, 1e-9);
    /* frame 1: u = 330 / 300 = 1.1 -> position 1 + 26/256 (25.6 rounds to 26) */
    GvOffset o[3];
    gv_frame_offsets(&l, 1, o);
    CHECK_INT(o[0].pos, 1);
    CHECK_INT(o[0].frac, 26);
    /* right-moving row: u = -1.1 -> -2 + 230/256, reduced mod 330 = 328 */
    CHECK_INT(o[1].pos, 328);
    CHECK_INT(o[1].frac, 230);
    gv_layout_free(&l);

    p.direction = GV_DIRECTION_RIGHT;
    p.easing = GV_EASING_EASE_IN;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_NEAR(gv_lane_offset(&l, 0, 0.5), -330 * (1 - cos(M_PI / 4)), 1e-9);
    gv_layout_free(&l);

    /* SPEED sets the same travel for every row: 50 px/s * 10 s */
    p = params(640, 300, 100, 100, 10, 9);
    p.speed = 50;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_NEAR(l.lanes[0].travel, 500, 1e-9);
    CHECK_NEAR(gv_lane_offset(&l, 2, 1.0), 500, 1e-9);
    gv_layout_free(&l);

    /* quantising: a negative offset wraps into [0, P) */
    GvOffset q = gv_offset_quantize(-0.25, 330);
    CHECK_INT(q.pos, 329);
    CHECK_INT(q.frac, 192);
    q = gv_offset_quantize(10.3, 330);
    CHECK_INT(q.pos, 10);
    CHECK_INT(q.frac, 77);
    q = gv_offset_quantize(660.0, 330);
    CHECK_INT(q.pos, 0);
    CHECK_INT(q.frac, 0);
}

static void test_blur_times(void)
{
    /* n = 4, F = 100, frame 10: 0.1 + ((j + 0.5) / 4 - 0.5) / 200 */
    CHECK_NEAR(gv_sample_progress(10, 100, 0, 4), 0.1 - 0.375 / 200, 1e-12);
    CHECK_NEAR(gv_sample_progress(10, 100, 1, 4), 0.1 - 0.125 / 200, 1e-12);
    CHECK_NEAR(gv_sample_progress(10, 100, 3, 4), 0.1 + 0.375 / 200, 1e-12);
    /* frame 0, first sample: just before 0 */
    CHECK(gv_sample_progress(0, 100, 0, 4) < 0);
    CHECK_NEAR(gv_sample_progress(7, 100, 0, 1), 0.07, 1e-12);
}

static void test_lifetimes(void)
{
    GvLayout l;
    /* one row of 2 images, 200 px period, frame 640 wide: always both */
    GvLayoutParams p = params(640, 100, 100, 100, 0, 2);
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.n_lanes, 1);
    int64_t first[2], last[2];
    gv_layout_lifetimes(&l, first, last);
    CHECK_INT(first[0], 0);
    CHECK_INT(last[0], 299);
    CHECK_INT(first[1], 0);
    CHECK_INT(last[1], 299);
    gv_layout_free(&l);

    /* one row of 10 images of 100 px, 200 px wide frame, 10 fps for 10 s:
     * P = 1000, u = 10 i px. Image 5 spans strip 500..599; the window of
     * frame i is [10 i, 10 i + 200], so it shows from i = 30 to i = 59. */
    p = params(200, 100, 100, 100, 0, 10);
    p.fps_num = 10;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    int64_t f10[10], l10[10];
    gv_layout_lifetimes(&l, f10, l10);
    CHECK_INT(f10[5], 30);
    CHECK_INT(l10[5], 59);
    /* image 0 is visible at the start and again at the end (wrapping) */
    CHECK_INT(f10[0], 0);
    CHECK_INT(l10[0], 99);
    CHECK_INT(gv_frame_images(&l, 30, NULL, NULL), 3); /* 3, 4, 5 */
    gv_layout_free(&l);
}

static void test_columns(void)
{
    GvLayout l;
    GvLayoutParams p = params(1080, 1920, 200, 100, 0, 20);
    p.kind = GV_LAYOUT_COLUMNS;
    CHECK_INT(gv_layout_init(&l, &p), 0);
    /* columns are tw = 200 wide across x: ceil(1080 / 200) = 6 */
    CHECK_INT(l.n_lanes, 6);
    CHECK_INT(l.first, (1080 - 1200) / 2);
    CHECK_INT(l.main_len, 1920);
    CHECK_INT(l.step, 100);
    CHECK_INT(l.lanes[0].period, 4 * 100);
    gv_layout_free(&l);
}

int main(void)
{
    test_tile_width();
    test_frame_count();
    test_rows_and_y0();
    test_column_major();
    test_lane_at();
    test_easing();
    test_offsets();
    test_blur_times();
    test_lifetimes();
    test_columns();
    return check_report("test_layout");
}
