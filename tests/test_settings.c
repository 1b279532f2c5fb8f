/*
 * The defaults are the key table's default texts, parsed (config.c): this
 * test holds them to SPEC.md's values field by field, and checks that
 * every default text parses as a value of its key, so --help, the man
 * page and gv_default_settings() say the same thing.
 */
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
    static const char *const described[] = { "AUDIO", "GPU_DEVICE", "TEMP_DIR", "PREVIEW" };
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
    test_enum_names();
    return check_report("settings");
}
