#!/usr/bin/env bash
# The public header stands on its own: a file that includes nothing but
# <gridvid/gridvid.h> compiles as strict C99 and as C++11, warnings as
# errors, and including it twice is harmless.
set -u
src=${GV_SOURCE_DIR:?}
cc=${CC:-cc}
cxx=${CXX:-c++}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

# Touches every public type and function, so that a declaration that only
# breaks when used (a missing extern "C", a C-only construct) shows.
cat > "$work/tu.c" <<'TU'
#include <gridvid/gridvid.h>
#include <gridvid/gridvid.h>

typedef int (*Fn)(GvContext **, const GvSettings *);
int gv_header_check(void);
int gv_header_check(void)
{
    GvSettings s;
    GvSummary sum;
    GvProgress p;
    GvContext *ctx = 0;
    char err[64];
    const Fn open = gv_open;
    gv_default_settings(&s);
    s.layout = GV_LAYOUT_COLUMNS;
    s.direction = GV_DIRECTION_ALTERNATE;
    s.easing = GV_EASING_EASE_IN_OUT;
    s.crop = GV_CROP_ATTENTION;
    s.gpu = GV_GPU_FALSE;
    s.order = GV_ORDER_GIVEN;
    s.log_level = GV_LOG_DEBUG;
    p.phase = GV_PHASE_RENDER;
    (void)p;
    if (gv_settings_set(&s, "FPS", "25", err, sizeof(err)) < 0 ||
        gv_settings_validate(&s, err, sizeof(err)) < 0 || gv_setting_count() < 1 ||
        !gv_setting_info(0) || gv_env_parse("", 0, 0, 0, err, sizeof(err)) == 0)
        return 1;
    if (open(&ctx, &s) == 0) {
        gv_cancel(ctx);
        if (gv_run(ctx) == GV_ERR_CANCELLED)
            gv_get_summary(ctx, &sum);
        gv_close(&ctx);
    }
    return gv_version() >> 16 == GV_VERSION_MAJOR && gv_version_string() &&
                   gv_strerror(GV_ERR_SETTING) && GV_ERR_BAD_INPUT < 0 && GV_ERR_IO < 0 &&
                   GV_ERR_DECODE < 0 && GV_ERR_ENCODE < 0 && GV_ERR_GPU < 0
               ? 0
               : 2;
}
TU
cp "$work/tu.c" "$work/tu.cc"

compile() { # description, compiler and flags...
  local what=$1; shift
  if ! "$@" -I"$src/include" -c -o "$work/tu.o" 2> "$work/err.txt"; then
    echo "FAIL: the header does not compile as $what:" >&2
    cat "$work/err.txt" >&2
    fails=$((fails + 1))
  else
    echo "ok: $what"
  fi
}

strict=(-Wall -Wextra -Werror -pedantic)
compile "C99" "$cc" -std=c99 "${strict[@]}" -Wstrict-prototypes -Wmissing-prototypes \
  -Wshadow -Wvla "$work/tu.c"
compile "C11" "$cc" -std=c11 "${strict[@]}" "$work/tu.c"
if command -v "$cxx" > /dev/null; then
  compile "C++11" "$cxx" -std=c++11 "${strict[@]}" -Wold-style-cast "$work/tu.cc"
  # extern "C": C++ calls the functions by their C names
  if command -v nm > /dev/null && [ -f "$work/tu.o" ]; then
    if ! nm -u "$work/tu.o" | grep -qE '(^|[ _])gv_run$' || nm -u "$work/tu.o" | grep -q 'gv_run[^ ]'; then
      echo "FAIL: C++ does not see the functions as extern \"C\":" >&2
      nm -u "$work/tu.o" | grep gv_ >&2
      fails=$((fails + 1))
    else
      echo "ok: extern \"C\""
    fi
  fi
else
  echo "FAIL: no C++ compiler ($cxx)" >&2
  fails=$((fails + 1))
fi
[ "$fails" -eq 0 ]
