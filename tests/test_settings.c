/*
 * The defaults are the key table's default texts, parsed (config.c): this
 * test holds them to SPEC.md's values field by field, and checks that
 * every default text parses as a value of its key, so --help, the man
 * page and gv_default_settings() say the same thing.
 */
#include <math.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "gridvid/gridvid.h"

static void test_spec_defaults(void)
{
    GvSettings s;
    memset(&s, 0x5a, sizeof(s));
    gv_default_settings(&s);
    CHECK(s.output && !strcmp(s.output, "output.mp4"));
    CHECK_INT(s.width, 1920);
    CHECK_INT(s.height, 1080);
    CHECK_INT(s.fps_num, 30);
    CHECK_INT(s.fps_den, 1);
    CHECK_NEAR(s.duration, 10.0, 0);
    CHECK_INT(s.layout, GV_LAYOUT_ROWS);
    CHECK_INT(s.rows, 0);
    CHECK_INT(s.aspect_w, 1);
    CHECK_INT(s.aspect_h, 1);
    CHECK_INT(s.tile_height, 360);
    CHECK_INT(s.crop, GV_CROP_CENTER);
    CHECK_INT(s.gap, 0);
    CHECK_INT(s.background[0], 0);
    CHECK_INT(s.background[1], 0);
    CHECK_INT(s.background[2], 0);
    CHECK_INT(s.direction, GV_DIRECTION_LEFT);
    CHECK_INT(s.easing, GV_EASING_LINEAR);
    CHECK_NEAR(s.speed, 0.0, 0);
    CHECK_INT(s.motion_blur, 1);
    CHECK_INT(s.order, GV_ORDER_NAME);
    CHECK_INT(s.shuffle_seed, 0);
    CHECK_INT(s.recursive, 0);
    CHECK_INT(s.strict, 0);
    CHECK(s.max_pixels == UINT64_C(200000000));
    CHECK(s.codec == NULL);
    CHECK(s.encoder && !strcmp(s.encoder, "auto"));
    CHECK_INT(s.crf, 23);
    CHECK(s.preset && !strcmp(s.preset, "faster"));
    CHECK_INT(s.bitrate, 5000000);
    CHECK(s.audio == NULL);
    CHECK_INT(s.videotoolbox, 1);
    CHECK_INT(s.gpu, GV_GPU_AUTO);
    CHECK_INT(s.gpu_decode, GV_GPU_AUTO);
    CHECK_INT(s.clip_loop, GV_CLIP_LOOP);
    CHECK_INT(s.clip_start, GV_CLIP_START_VISIBLE);
    CHECK_INT(s.live_photos, GV_LIVE_PLAY);
    CHECK_NEAR(s.ken_burns, 0.0, 0);
    CHECK_INT(s.camera, GV_CAMERA_NONE);
    CHECK_NEAR(s.tilt, 0.0, 0);
    CHECK_NEAR(s.turn, 0.0, 0);
    CHECK_NEAR(s.fov, 50.0, 0);
    CHECK_NEAR(s.distance, 1.0, 0);
    CHECK_NEAR(s.depth_fade, 0.0, 0);
    CHECK(s.title == NULL);
    CHECK(s.subtitle == NULL);
    CHECK_NEAR(s.title_duration, 4.0, 0);
    CHECK(s.font && !strcmp(s.font, "Sans"));
    CHECK_INT(s.title_size, 0);
    CHECK_INT(s.text_color[0], 255);
    CHECK_INT(s.text_color[1], 255);
    CHECK_INT(s.text_color[2], 255);
    CHECK_INT(s.text_style, GV_TEXT_PLATE);
    CHECK(s.caption == NULL);
    CHECK_INT(s.caption_size, 0);
    CHECK(s.logo == NULL);
    CHECK_INT(s.logo_position, GV_LOGO_BOTTOM_RIGHT);
    CHECK_NEAR(s.logo_size, 15.0, 0);
    CHECK_INT(s.beat_sync, GV_BEAT_OFF);
    CHECK(s.gpu_device == NULL);
    CHECK_INT(s.gpu_memory_mib, 2048);
    CHECK_INT(s.memory_limit_mib, 0); /* auto */
    CHECK_INT(s.threads, 0);
    CHECK_INT(s.batch, 0);
    CHECK_INT(s.stream, 1);
    CHECK(s.temp_dir == NULL);
    CHECK(s.preview == NULL);
    CHECK_NEAR(s.preview_at, 0.0, 0);
    CHECK_INT(s.log_level, GV_LOG_WARNING);
    CHECK(s.log == NULL && s.progress == NULL && s.plan == NULL);
    CHECK_INT(s.dry_run, 0);
    CHECK_INT(s.demo, 0);
    static const uint8_t zero[sizeof(s.reserved)];
    CHECK(!memcmp(s.reserved, zero, sizeof(zero)));
    /* the defaults are valid once there is something to show */
    s.demo = 1;
    char err[256] = "";
    CHECK_INT(gv_settings_validate(&s, err, sizeof(err)), 0);
    if (err[0])
        fprintf(stderr, "defaults: %s\n", err);
}

/* Every default text is a value its key accepts, except those of optional
 * keys, which describe the unset state in words. */
static void test_default_texts_parse(void)
{
    static const char *const described[] = { "AUDIO", "GPU_DEVICE", "TEMP_DIR", "PREVIEW",
                                              "TITLE", "SUBTITLE", "LOGO" };
    for (int i = 0; i < gv_setting_count(); i++) {
        const GvSettingInfo *const k = gv_setting_info(i);
        int is_described = 0;
        for (size_t j = 0; j < sizeof(described) / sizeof(described[0]); j++)
            is_described |= !strcmp(k->key, described[j]);
        GvSettings s;
        gv_default_settings(&s);
        char err[256] = "";
        const int ret = gv_settings_set(&s, k->key, k->def, err, sizeof(err));
        if (is_described)
            continue;
        if (ret != 0)
            fprintf(stderr, "%s: default \"%s\" does not parse: %s\n", k->key, k->def, err);
        CHECK_INT(ret, 0);
    }
}

/* MEMORY_LIMIT: auto or 0 (both stored as 0), or whole MiB up to 1 TiB;
 * anything else is refused with the key named and nothing stored. */
static void test_memory_limit(void)
{
    static const struct {
        const char *v;
        int ret, mib;
    } cases[] = {
        { "auto", 0, 0 },   { "AUTO", 0, 0 },          { "0", 0, 0 },
        { "1", 0, 1 },      { "2048", 0, 2048 },       { "1048576", 0, 1048576 },
        { "-1", GV_ERR_SETTING, 7 }, { "1.5", GV_ERR_SETTING, 7 },
        { "2G", GV_ERR_SETTING, 7 }, { "1048577", GV_ERR_SETTING, 7 },
        { "", GV_ERR_SETTING, 7 },   { "auto ", GV_ERR_SETTING, 7 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        GvSettings s;
        gv_default_settings(&s);
        s.memory_limit_mib = 7;
        char err[256] = "";
        CHECK_INT(gv_settings_set(&s, "MEMORY_LIMIT", cases[i].v, err, sizeof(err)),
                  cases[i].ret);
        CHECK_INT(s.memory_limit_mib, cases[i].mib);
        if (cases[i].ret)
            CHECK(!strncmp(err, "MEMORY_LIMIT: '", 15));
    }
    GvSettings s;
    gv_default_settings(&s);
    s.demo = 1;
    s.memory_limit_mib = -1;
    char err[256] = "";
    CHECK_INT(gv_settings_validate(&s, err, sizeof(err)), GV_ERR_SETTING);
    CHECK(strstr(err, "MEMORY_LIMIT") != NULL);
}

/* KEN_BURNS and the camera: each value within its range is stored as
 * written (TILT and TURN may be negative); anything else is refused with
 * the key named and nothing stored, by gv_settings_set() and, for a value
 * set in the struct directly, by gv_settings_validate(). */
/* gv_settings_validate() refuses s, naming key first: "KEY: '...". */
static void check_invalid(const GvSettings *s, const char *key)
{
    char err[256] = "";
    CHECK_INT(gv_settings_validate(s, err, sizeof(err)), GV_ERR_SETTING);
    char want[64];
    snprintf(want, sizeof(want), "%s: '", key);
    if (strncmp(err, want, strlen(want)))
        fprintf(stderr, "validate %s: %s\n", key, err);
    CHECK(!strncmp(err, want, strlen(want)));
}

static void test_camera(void)
{
    static const struct {
        const char *key, *v;
        int ret;
        double want;
    } cases[] = {
        { "KEN_BURNS", "0", 0, 0 },        { "KEN_BURNS", "12.5", 0, 12.5 },
        { "KEN_BURNS", "50", 0, 50 },      { "KEN_BURNS", "50.01", GV_ERR_SETTING, 0 },
        { "KEN_BURNS", "-1", GV_ERR_SETTING, 0 }, { "KEN_BURNS", "ten", GV_ERR_SETTING, 0 },
        { "TILT", "25", 0, 25 },           { "TILT", "-80", 0, -80 },
        { "TILT", "-12.5", 0, -12.5 },     { "TILT", "-0", 0, 0 },
        { "TILT", "80.5", GV_ERR_SETTING, 0 }, { "TILT", "-81", GV_ERR_SETTING, 0 },
        { "TILT", "--5", GV_ERR_SETTING, 0 },  { "TILT", "-", GV_ERR_SETTING, 0 },
        { "TILT", "+5", GV_ERR_SETTING, 0 },   { "TILT", "1e1", GV_ERR_SETTING, 0 },
        { "TURN", "-15", 0, -15 },         { "TURN", "80", 0, 80 },
        { "TURN", "90", GV_ERR_SETTING, 0 },   { "TURN", "", GV_ERR_SETTING, 0 },
        { "FOV", "10", 0, 10 },            { "FOV", "120", 0, 120 },
        { "FOV", "9.9", GV_ERR_SETTING, 0 },   { "FOV", "-50", GV_ERR_SETTING, 0 },
        { "FOV", "wide", GV_ERR_SETTING, 0 },
        { "DISTANCE", "0.25", 0, 0.25 },   { "DISTANCE", "8", 0, 8 },
        { "DISTANCE", "1.5", 0, 1.5 },     { "DISTANCE", "0.2", GV_ERR_SETTING, 0 },
        { "DISTANCE", "0", GV_ERR_SETTING, 0 }, { "DISTANCE", "8.5", GV_ERR_SETTING, 0 },
        { "DISTANCE", "-1", GV_ERR_SETTING, 0 },
        { "DEPTH_FADE", "0", 0, 0 },       { "DEPTH_FADE", "100", 0, 100 },
        { "DEPTH_FADE", "100.5", GV_ERR_SETTING, 0 }, { "DEPTH_FADE", "-5", GV_ERR_SETTING, 0 },
        { "DEPTH_FADE", "50%", GV_ERR_SETTING, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        GvSettings s;
        gv_default_settings(&s);
        double *const field = !strcmp(cases[i].key, "KEN_BURNS") ? &s.ken_burns
                              : !strcmp(cases[i].key, "TILT")    ? &s.tilt
                              : !strcmp(cases[i].key, "TURN")    ? &s.turn
                              : !strcmp(cases[i].key, "FOV")     ? &s.fov
                              : !strcmp(cases[i].key, "DISTANCE") ? &s.distance
                                                                  : &s.depth_fade;
        const double before = *field;
        char err[256] = "";
        const int ret = gv_settings_set(&s, cases[i].key, cases[i].v, err, sizeof(err));
        if (ret != cases[i].ret)
            fprintf(stderr, "%s=%s: %d (%s)\n", cases[i].key, cases[i].v, ret, err);
        CHECK_INT(ret, cases[i].ret);
        if (cases[i].ret) {
            CHECK_NEAR(*field, before, 0);
            char want[64];
            snprintf(want, sizeof(want), "%s: '", cases[i].key);
            CHECK(!strncmp(err, want, strlen(want)));
            CHECK(strstr(err, "expected") != NULL);
        } else {
            CHECK_NEAR(*field, cases[i].want, 0);
            s.demo = 1;
            CHECK_INT(gv_settings_validate(&s, err, sizeof(err)), 0);
        }
    }

    static const struct {
        const char *v;
        int ret, camera;
    } cams[] = {
        { "none", 0, GV_CAMERA_NONE },   { "tilted", 0, GV_CAMERA_TILTED },
        { "floor", 0, GV_CAMERA_FLOOR }, { "side", 0, GV_CAMERA_SIDE },
        { "FLOOR", 0, GV_CAMERA_FLOOR }, { "fisheye", GV_ERR_SETTING, GV_CAMERA_SIDE },
        { "", GV_ERR_SETTING, GV_CAMERA_SIDE }, { "1", GV_ERR_SETTING, GV_CAMERA_SIDE },
    };
    for (size_t i = 0; i < sizeof(cams) / sizeof(cams[0]); i++) {
        GvSettings s;
        gv_default_settings(&s);
        s.camera = GV_CAMERA_SIDE;
        char err[256] = "";
        CHECK_INT(gv_settings_set(&s, "CAMERA", cams[i].v, err, sizeof(err)), cams[i].ret);
        CHECK_INT(s.camera, cams[i].camera);
        if (cams[i].ret)
            CHECK(!strncmp(err, "CAMERA: '", 9) && strstr(err, "none, tilted, floor or side"));
    }
    CHECK(!strcmp(gv_setting_name("CAMERA", GV_CAMERA_TILTED), "tilted"));

    /* BACKGROUND: a colour, or transparent (alpha, the colour black);
     * a bad value changes neither */
    {
        GvSettings s;
        gv_default_settings(&s);
        char err[256] = "";
        CHECK_INT(s.transparent, 0);
        CHECK_INT(gv_settings_set(&s, "BACKGROUND", "Transparent", err, sizeof(err)), 0);
        CHECK_INT(s.transparent, 1);
        CHECK_INT(s.background[0] | s.background[1] | s.background[2], 0);
        CHECK_INT(gv_settings_set(&s, "BACKGROUND", "transparentish", err, sizeof(err)),
                  GV_ERR_SETTING);
        CHECK(strstr(err, "BACKGROUND") && strstr(err, "or transparent"));
        CHECK_INT(s.transparent, 1);
        CHECK_INT(gv_settings_set(&s, "BACKGROUND", "#102030", err, sizeof(err)), 0);
        CHECK_INT(s.transparent, 0);
        CHECK_INT(s.background[0], 0x10);
        CHECK_INT(s.background[1], 0x20);
        CHECK_INT(s.background[2], 0x30);
        CHECK_INT(gv_settings_set(&s, "BACKGROUND", "#12345", err, sizeof(err)), GV_ERR_SETTING);
        CHECK_INT(s.background[2], 0x30);
        CHECK_INT(s.transparent, 0);
    }

    /* set in the struct, out of range: gv_settings_validate() names the key */
    static const char *const keys[] = { "KEN_BURNS", "TILT", "TURN", "FOV", "DISTANCE",
                                        "DEPTH_FADE", "CAMERA" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        GvSettings s;
        gv_default_settings(&s);
        s.demo = 1;
        switch (i) {
        case 0: s.ken_burns = 60; break;
        case 1: s.tilt = -90; break;
        case 2: s.turn = NAN; break; /* out of every range */
        case 3: s.fov = 5; break;
        case 4: s.distance = 0; break;
        case 5: s.depth_fade = 101; break;
        default: s.camera = (GvCamera)(GV_CAMERA_SIDE + 1); break;
        }
        check_invalid(&s, keys[i]);
    }
}

/* Checks that key=v is refused: the setting error, naming the key, saying
 * what is expected, and nothing stored (s is compared whole). */
static void check_refused(const char *key, const char *v)
{
    GvSettings s, before;
    gv_default_settings(&s);
    before = s;
    char err[256] = "";
    const int ret = gv_settings_set(&s, key, v, err, sizeof(err));
    if (ret != GV_ERR_SETTING)
        fprintf(stderr, "%s=%s: %d (%s)\n", key, v, ret, err);
    CHECK_INT(ret, GV_ERR_SETTING);
    char want[64];
    snprintf(want, sizeof(want), "%s: '", key);
    CHECK(!strncmp(err, want, strlen(want)));
    CHECK(strstr(err, "expected") != NULL);
    CHECK(!memcmp(&s, &before, sizeof(s)));
}

/* Sets key=v, which must be taken, and checks that the whole is valid. */
static void set_ok(GvSettings *s, const char *key, const char *v)
{
    gv_default_settings(s);
    char err[256] = "";
    const int ret = gv_settings_set(s, key, v, err, sizeof(err));
    if (ret)
        fprintf(stderr, "%s=%s: %d (%s)\n", key, v, ret, err);
    CHECK_INT(ret, 0);
    s->demo = 1;
    CHECK_INT(gv_settings_validate(s, err, sizeof(err)), 0);
}

/* The title, captions and logo: values within range are stored as
 * written; out of range, not a number, an unknown name or a malformed
 * caption is refused with the key named, by gv_settings_set() and, set in
 * the struct directly, by gv_settings_validate(). */
static void test_words(void)
{
    GvSettings s;
    set_ok(&s, "TITLE", "Summer 2026");
    CHECK(s.title && !strcmp(s.title, "Summer 2026"));
    set_ok(&s, "TITLE", "");
    CHECK(s.title == NULL);
    set_ok(&s, "SUBTITLE", "Lisbon \xc3\xa0 Porto");
    CHECK(s.subtitle && !strcmp(s.subtitle, "Lisbon \xc3\xa0 Porto"));
    set_ok(&s, "LOGO", "logo.png");
    CHECK(s.logo && !strcmp(s.logo, "logo.png"));
    set_ok(&s, "LOGO", "");
    CHECK(s.logo == NULL);
    set_ok(&s, "FONT", "Noto Sans CJK JP");
    CHECK(s.font && !strcmp(s.font, "Noto Sans CJK JP"));

    static const struct {
        const char *key, *v;
        double want;
    } reals[] = {
        { "TITLE_DURATION", "0.5", 0.5 }, { "TITLE_DURATION", "3600", 3600 },
        { "TITLE_DURATION", "7.25", 7.25 }, { "LOGO_SIZE", "1", 1 },
        { "LOGO_SIZE", "100", 100 },      { "LOGO_SIZE", "12.5", 12.5 },
    };
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        set_ok(&s, reals[i].key, reals[i].v);
        CHECK_NEAR(!strcmp(reals[i].key, "LOGO_SIZE") ? s.logo_size : s.title_duration,
                   reals[i].want, 0);
    }
    set_ok(&s, "TITLE_SIZE", "2000");
    CHECK_INT(s.title_size, 2000);
    set_ok(&s, "CAPTION_SIZE", "1000");
    CHECK_INT(s.caption_size, 1000);
    set_ok(&s, "CAPTION_SIZE", "24");
    CHECK_INT(s.caption_size, 24);
    set_ok(&s, "TEXT_COLOR", "#102030");
    CHECK(s.text_color[0] == 0x10 && s.text_color[1] == 0x20 && s.text_color[2] == 0x30);
    set_ok(&s, "TEXT_COLOR", "yellow");
    CHECK(s.text_color[0] == 255 && s.text_color[1] == 255 && s.text_color[2] == 0);
    set_ok(&s, "TEXT_COLOR", "1, 2,3");
    CHECK(s.text_color[0] == 1 && s.text_color[1] == 2 && s.text_color[2] == 3);
    set_ok(&s, "TEXT_STYLE", "shadow");
    CHECK_INT(s.text_style, GV_TEXT_SHADOW);
    set_ok(&s, "TEXT_STYLE", "NONE");
    CHECK_INT(s.text_style, GV_TEXT_NONE);
    static const struct {
        const char *v;
        int pos;
    } positions[] = {
        { "bottom-right", GV_LOGO_BOTTOM_RIGHT }, { "bottom-left", GV_LOGO_BOTTOM_LEFT },
        { "top-right", GV_LOGO_TOP_RIGHT },       { "top-left", GV_LOGO_TOP_LEFT },
        { "center", GV_LOGO_CENTER },             { "Top-Left", GV_LOGO_TOP_LEFT },
    };
    for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
        set_ok(&s, "LOGO_POSITION", positions[i].v);
        CHECK_INT(s.logo_position, positions[i].pos);
    }
    CHECK(!strcmp(gv_setting_name("LOGO_POSITION", GV_LOGO_TOP_LEFT), "top-left"));
    CHECK(!strcmp(gv_setting_name("TEXT_STYLE", GV_TEXT_PLATE), "plate"));

    /* captions: the keywords in their one spelling, exif:FIELD as written */
    static const struct {
        const char *v, *want;
    } captions[] = {
        { "none", NULL },          { "NONE", NULL },
        { "filename", "filename" }, { "Filename", "filename" },
        { "date", "date" },        { "sidecar", "sidecar" },
        { "exif:Model", "exif:Model" }, { "exif:ImageDescription", "exif:ImageDescription" },
        { "exif:x", "exif:x" },    { "exif:exif-ifd0-Model_2", "exif:exif-ifd0-Model_2" },
        { "exif:dc:title", "exif:dc:title" },
        { "exif:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "exif:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
    };
    for (size_t i = 0; i < sizeof(captions) / sizeof(captions[0]); i++) {
        set_ok(&s, "CAPTION", captions[i].v);
        if (captions[i].want)
            CHECK(s.caption && !strcmp(s.caption, captions[i].want));
        else
            CHECK(s.caption == NULL);
    }

    static const struct {
        const char *key, *v;
    } bad[] = {
        /* out of range */
        { "TITLE_DURATION", "0.4" },  { "TITLE_DURATION", "0" },
        { "TITLE_DURATION", "3600.5" }, { "TITLE_DURATION", "-1" },
        { "TITLE_SIZE", "2001" },     { "TITLE_SIZE", "-1" },
        { "CAPTION_SIZE", "1001" },   { "CAPTION_SIZE", "-5" },
        { "LOGO_SIZE", "0.5" },       { "LOGO_SIZE", "0" },
        { "LOGO_SIZE", "100.5" },     { "LOGO_SIZE", "-15" },
        { "TEXT_COLOR", "256,0,0" },  { "TEXT_COLOR", "#12345" },
        /* not a number */
        { "TITLE_DURATION", "four" }, { "TITLE_DURATION", "4s" },
        { "TITLE_DURATION", "" },     { "TITLE_SIZE", "big" },
        { "TITLE_SIZE", "1.5" },      { "CAPTION_SIZE", "x" },
        { "LOGO_SIZE", "15%" },       { "LOGO_SIZE", "1e1" },
        /* unknown names */
        { "TEXT_STYLE", "outline" },  { "TEXT_STYLE", "" },
        { "LOGO_POSITION", "middle" }, { "LOGO_POSITION", "top" },
        { "LOGO_POSITION", "bottom_right" }, { "TEXT_COLOR", "chartreuse" },
        { "CAPTION", "name" },        { "CAPTION", "" },
        { "CAPTION", "exif:" },       { "CAPTION", "exif" },
        { "CAPTION", "exif:Model Name" }, { "CAPTION", "exif:a.b" },
        { "CAPTION", "xmp:Title" },   { "CAPTION", "filename " },
        { "CAPTION", "exif::title" }, { "CAPTION", "exif:dc:" },  { "CAPTION", "exif:a:b:c" },
        { "CAPTION", "exif:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
        { "FONT", "" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_refused(bad[i].key, bad[i].v);

    /* set in the struct, out of range: gv_settings_validate() names the key */
    static const char *const keys[] = { "TITLE_DURATION", "FONT",          "TITLE_SIZE",
                                        "TEXT_STYLE",     "CAPTION",       "CAPTION_SIZE",
                                        "LOGO_POSITION",  "LOGO_SIZE",     "LOGO_SIZE",
                                        "FONT",           "CAPTION" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        gv_default_settings(&s);
        s.demo = 1;
        switch (i) {
        case 0: s.title_duration = 0.25; break;
        case 1: s.font = ""; break;
        case 2: s.title_size = 2001; break;
        case 3: s.text_style = (GvTextStyle)(GV_TEXT_NONE + 1); break;
        case 4: s.caption = "exif:"; break;
        case 5: s.caption_size = -1; break;
        case 6: s.logo_position = (GvLogoPosition)-1; break;
        case 7: s.logo_size = 101; break;
        case 8: s.logo_size = NAN; break;
        case 9: s.font = NULL; break;
        default: s.caption = "Filename"; break; /* the struct holds one spelling */
        }
        check_invalid(&s, keys[i]);
    }
    /* "none" in the struct is no caption, as NULL is */
    gv_default_settings(&s);
    s.demo = 1;
    s.caption = "none";
    CHECK_INT(gv_settings_validate(&s, NULL, 0), 0);
}

/* BEAT_SYNC: off, steps or pulse in any case; anything else is refused
 * with the key named and nothing stored. The beats come from AUDIO, so
 * steps or pulse without it is a bad setting naming BEAT_SYNC and AUDIO;
 * with an audio path set, the whole is valid. */
static void test_beat_sync(void)
{
    static const struct {
        const char *v;
        int sync;
    } good[] = {
        { "off", GV_BEAT_OFF },     { "steps", GV_BEAT_STEPS }, { "pulse", GV_BEAT_PULSE },
        { "Steps", GV_BEAT_STEPS }, { "PULSE", GV_BEAT_PULSE }, { "OFF", GV_BEAT_OFF },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        GvSettings s;
        gv_default_settings(&s);
        s.demo = 1;
        char err[256] = "";
        CHECK_INT(gv_settings_set(&s, "AUDIO", "music.mp3", err, sizeof(err)), 0);
        CHECK_INT(gv_settings_set(&s, "BEAT_SYNC", good[i].v, err, sizeof(err)), 0);
        CHECK_INT(s.beat_sync, good[i].sync);
        const int ret = gv_settings_validate(&s, err, sizeof(err));
        if (ret)
            fprintf(stderr, "BEAT_SYNC=%s with AUDIO: %d (%s)\n", good[i].v, ret, err);
        CHECK_INT(ret, 0);
    }
    CHECK(!strcmp(gv_setting_name("BEAT_SYNC", GV_BEAT_OFF), "off"));
    CHECK(!strcmp(gv_setting_name("BEAT_SYNC", GV_BEAT_STEPS), "steps"));
    CHECK(!strcmp(gv_setting_name("BEAT_SYNC", GV_BEAT_PULSE), "pulse"));

    static const char *const bad[] = { "on", "beat", "step", "pulses", "", "1", "true",
                                       "steps " };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_refused("BEAT_SYNC", bad[i]);

    /* off needs nothing; steps and pulse need AUDIO (NULL or empty is none) */
    GvSettings s;
    gv_default_settings(&s);
    s.demo = 1;
    CHECK_INT(gv_settings_validate(&s, NULL, 0), 0);
    static const char *const no_audio[] = { NULL, "" };
    for (int sync = GV_BEAT_STEPS; sync <= GV_BEAT_PULSE; sync++) {
        for (size_t i = 0; i < sizeof(no_audio) / sizeof(no_audio[0]); i++) {
            gv_default_settings(&s);
            s.demo = 1;
            s.beat_sync = (GvBeatSync)sync;
            s.audio = no_audio[i];
            char err[256] = "";
            CHECK_INT(gv_settings_validate(&s, err, sizeof(err)), GV_ERR_SETTING);
            if (strncmp(err, "BEAT_SYNC ", 10) || !strstr(err, "needs AUDIO"))
                fprintf(stderr, "BEAT_SYNC without AUDIO: %s\n", err);
            CHECK(!strncmp(err, "BEAT_SYNC ", 10));
            CHECK(strstr(err, sync == GV_BEAT_STEPS ? "steps" : "pulse") != NULL);
            CHECK(strstr(err, "needs AUDIO") != NULL);
        }
        gv_default_settings(&s);
        s.demo = 1;
        s.beat_sync = (GvBeatSync)sync;
        s.audio = "music.flac";
        CHECK_INT(gv_settings_validate(&s, NULL, 0), 0);
    }

    /* set in the struct, out of range: gv_settings_validate() names the key */
    static const int out[] = { -1, GV_BEAT_PULSE + 1 };
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
        gv_default_settings(&s);
        s.demo = 1;
        s.audio = "music.mp3";
        s.beat_sync = (GvBeatSync)out[i];
        char err[256] = "";
        CHECK_INT(gv_settings_validate(&s, err, sizeof(err)), GV_ERR_SETTING);
        if (strncmp(err, "BEAT_SYNC: '", 12))
            fprintf(stderr, "validate BEAT_SYNC: %s\n", err);
        CHECK(!strncmp(err, "BEAT_SYNC: '", 12));
    }
}

/* The names the plan prints are the table's first spelling. */
static void test_enum_names(void)
{
    CHECK(!strcmp(gv_setting_name("CROP_POSITION", GV_CROP_CENTER), "center"));
    CHECK(!strcmp(gv_setting_name("CROP_POSITION", GV_CROP_ENTROPY), "entropy"));
    CHECK(!strcmp(gv_setting_name("EASING", GV_EASING_EASE_IN_OUT), "ease-in-out"));
    CHECK(!strcmp(gv_setting_name("EASING", GV_EASING_EASE_OUT), "ease-out"));
    CHECK(!strcmp(gv_setting_name("USE_GPU", GV_GPU_FALSE), "false"));
    CHECK(!strcmp(gv_setting_name("EASING", 99), "?"));
    CHECK(!strcmp(gv_setting_name("GAP", 0), "?"));
    CHECK(!strcmp(gv_setting_name("NO_SUCH_KEY", 0), "?"));
}

int main(void)
{
    test_spec_defaults();
    test_default_texts_parse();
    test_memory_limit();
    test_camera();
    test_words();
    test_beat_sync();
    test_enum_names();
    return check_report("settings");
}
