/* Clip time (docs/CLIPS.md, src/cliptime.c): the clip time each output
 * frame shows for loop, bounce and hold, from the first visible frame or
 * from the video's start, and the frame a time selects, at the exact
 * values the formulas give. */
#include "check.h"
#include "cliptime.h"
#include "layout.h"
#include "tiles.h"
#include "tilestore.h"

/* The clip frame of a constant-rate clip (n frames at fps) that frame i
 * shows: the last whose time k / fps has begun by the clip time. */
static int shown_frame(const GvClipTiming *t, int64_t i, int n, double fps)
{
    const double ct = gv_clip_time(t, i);
    int k = 0;
    while (k + 1 < n && gv_clip_shown_by((k + 1) / fps, ct))
        k++;
    return k;
}

static void test_loop(void)
{
    /* a 24 fps clip of 24 frames (1 s) in a 30 fps video */
    GvClipTiming t = { .fps_num = 30, .fps_den = 1, .first = 0, .duration = 1.0,
                       .loop = GV_CLIP_LOOP, .start = GV_CLIP_START_VISIBLE };
    const int want[] = { 0, 0, 1, 2, 3, 4, 4, 5, 6, 7, 8 };
    for (int i = 0; i < 11; i++)
        CHECK_INT(shown_frame(&t, i, 24, 24), want[i]);
    /* one second on, the loop starts again: exactly frame 0 at 1 s */
    CHECK_NEAR(gv_clip_time(&t, 30), 0.0, 0);
    CHECK_INT(shown_frame(&t, 29, 24, 24), 23);
    CHECK_INT(shown_frame(&t, 30, 24, 24), 0);
    CHECK_INT(shown_frame(&t, 31, 24, 24), 0);
    CHECK_INT(shown_frame(&t, 32, 24, 24), 1);
    /* 29.97 fps video, 1001-tick frames: 30000 frames later is 1001 s */
    t.fps_num = 30000;
    t.fps_den = 1001;
    t.duration = 6.0;
    CHECK_NEAR(gv_clip_time(&t, 30000), 5.0, 1e-9);
}

static void test_start(void)
{
    GvClipTiming t = { .fps_num = 30, .fps_den = 1, .first = 45, .duration = 2.0,
                       .loop = GV_CLIP_LOOP, .start = GV_CLIP_START_VISIBLE };
    /* visible: the clip starts at its first visible frame */
    CHECK_NEAR(gv_clip_time(&t, 45), 0.0, 0);
    CHECK_NEAR(gv_clip_time(&t, 60), 0.5, 1e-12);
    CHECK_NEAR(gv_clip_time(&t, 10), 0.0, 0); /* before it: its start */
    /* zero: the video's time, so frame 45 is 1.5 s into the clip */
    t.start = GV_CLIP_START_ZERO;
    CHECK_NEAR(gv_clip_time(&t, 45), 1.5, 1e-12);
    CHECK_NEAR(gv_clip_time(&t, 60), 0.0, 0);
    CHECK_NEAR(gv_clip_time(&t, 75), 0.5, 1e-12);
}

static void test_bounce(void)
{
    /* 10 fps video, 1 s clip of 10 frames at 10 fps: forwards 0..9,
     * the end (t = 1) shows the last frame, then backwards */
    GvClipTiming t = { .fps_num = 10, .fps_den = 1, .first = 0, .duration = 1.0,
                       .loop = GV_CLIP_BOUNCE, .start = GV_CLIP_START_VISIBLE };
    const int want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };
    for (int i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++)
        CHECK_INT(shown_frame(&t, i, 10, 10), want[i]);
    CHECK_NEAR(gv_clip_time(&t, 10), 1.0, 0);
    CHECK_NEAR(gv_clip_time(&t, 15), 0.5, 1e-12);
    CHECK_NEAR(gv_clip_time(&t, 20), 0.0, 0);
}

static void test_hold(void)
{
    GvClipTiming t = { .fps_num = 25, .fps_den = 1, .first = 5, .duration = 0.4,
                       .loop = GV_CLIP_HOLD, .start = GV_CLIP_START_VISIBLE };
    CHECK_NEAR(gv_clip_time(&t, 5), 0.0, 0);
    CHECK_NEAR(gv_clip_time(&t, 10), 0.2, 1e-12);
    CHECK_NEAR(gv_clip_time(&t, 15), 0.4, 0);
    CHECK_NEAR(gv_clip_time(&t, 1000), 0.4, 0);
    CHECK_INT(shown_frame(&t, 1000, 10, 25), 9);
}

static void test_degenerate(void)
{
    /* a clip of unknown or zero duration shows its first picture */
    GvClipTiming t = { .fps_num = 30, .fps_den = 1, .first = 0, .duration = 0,
                       .loop = GV_CLIP_LOOP, .start = GV_CLIP_START_VISIBLE };
    CHECK_NEAR(gv_clip_time(&t, 100), 0.0, 0);
    t.loop = GV_CLIP_BOUNCE;
    CHECK_NEAR(gv_clip_time(&t, 100), 0.0, 0);
    /* a frame within the epsilon has begun; one beyond has not */
    CHECK(gv_clip_shown_by(0.1 + 5e-7, 0.1));
    CHECK(!gv_clip_shown_by(0.1 + 2e-6, 0.1));
}

/* How many clip decoders are open at once, for the memory budget: a clip
 * opens 16 frames before a run that shows it and stays open over short
 * gaps only. One row of tiles 100 wide moving 1 px a frame. */
static void test_open_clips(void)
{
    GvLayoutParams p = {
        .width = 100, .height = 100, .kind = GV_LAYOUT_ROWS, .tile_w = 100, .tile_h = 100,
        .n_images = 8, .duration = 10, .fps_num = 80, .fps_den = 1, .motion_blur = 1,
    };
    GvLayout l;
    GvTileSchedule s;
    unsigned char flags[8] = { GV_PROBE_CLIP, 0, 0, 0, GV_PROBE_CLIP, 0, 0, 0 };
    CHECK_INT(gv_layout_init(&l, &p), 0);
    CHECK_INT(l.frames, 800);
    /* image 0 shows at frames 0-99 and 700-799, image 4 at 300-499: never
     * together, and 700 - 99 frames apart is a gap that closes image 0's */
    CHECK_INT(gv_tile_schedule_init(&s, &l, 3, flags), 0);
    CHECK_INT(s.span_index[1] - s.span_index[0], 2);
    CHECK_INT(s.spans[s.span_index[4]].from, 300);
    CHECK_INT(s.spans[s.span_index[4]].to, 499);
    CHECK_INT(s.max_clips, 1);
    gv_tile_schedule_free(&s);
    /* image 2 (frames 100-299) overlaps image 0's decoder, open 3 frames
     * past frame 99, and image 4's, opened 16 frames before frame 300 */
    flags[2] = GV_PROBE_CLIP;
    CHECK_INT(gv_tile_schedule_init(&s, &l, 3, flags), 0);
    CHECK_INT(s.max_clips, 2);
    gv_tile_schedule_free(&s);
    /* without clips, none */
    CHECK_INT(gv_tile_schedule_init(&s, &l, 3, NULL), 0);
    CHECK_INT(s.max_clips, 0);
    gv_tile_schedule_free(&s);
    gv_layout_free(&l);
}

int main(void)
{
    test_open_clips();
    test_loop();
    test_start();
    test_bounce();
    test_hold();
    test_degenerate();
    return check_report("cliptime");
}
