/*
 * What the rest of gridvid asks of the settings module besides the
 * public gv_settings_* functions.
 */
#ifndef GV_CONFIG_H
#define GV_CONFIG_H

#include "gridvid/gridvid.h"

/* The canonical name of value for the enum key `key` ("CROP_POSITION",
 * "EASING", ...), as the key's table spells it first; "?" otherwise. */
const char *gv_setting_name(const char *key, int value);

/* Where temporary files go: TEMP_DIR, else $TMPDIR, else /tmp. */
const char *gv_settings_temp_dir(const GvSettings *s);

#endif
