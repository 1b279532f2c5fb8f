#!/usr/bin/env bash
# `meson install` puts everything a user and a programmer need in place,
# and examples/render.c builds against the installed files alone, through
# pkg-config, and renders a video.
set -u
build=${GV_BUILD_DIR:?}
src=${GV_SOURCE_DIR:?}
meson=${MESON:-meson}
cc=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$src/tests/check.sh"
# the caller's settings (USE_GPU, ...) stay out of the runs
unset_setting_keys "$build/gridvid" || exit 1
fails=0
check() { # description, command...
  local what=$1; shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAIL: $what" >&2
    fails=$((fails + 1))
  fi
}
for tool in "$meson" pkg-config ffprobe; do
  command -v "$tool" > /dev/null || { echo "SKIP: needs $tool"; exit 77; }
done

stage=$work/stage
if ! "$meson" install -C "$build" --destdir "$stage" --no-rebuild > "$work/install.txt" 2>&1; then
  cat "$work/install.txt" >&2
  echo "FAIL: meson install --destdir" >&2
  exit 1
fi
pc=$(find "$stage" -name gridvid.pc | head -n 1)
if [ -z "$pc" ]; then
  echo "FAIL: no gridvid.pc installed" >&2
  exit 1
fi
prefix=$(sed -n 's/^prefix=//p' "$pc")
root=$stage$prefix
# The staged gridvid.pc with its prefix moved into the stage. (pkg-config's
# --define-variable=prefix would move the prefix of every package it reads,
# glib's and vips' too, and PKG_CONFIG_SYSROOT_DIR every path.)
mkdir "$work/pc"
sed "s|^prefix=.*|prefix=$root|" "$pc" > "$work/pc/gridvid.pc"
export PKG_CONFIG_PATH=$work/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
libdir=$(pkg-config --variable=libdir gridvid)

check "the header is installed" [ -f "$root/include/gridvid/gridvid.h" ]
exists() { for f; do [ -e "$f" ] && return 0; done; return 1; }
check "the library is installed" exists "$libdir/libgridvid.so" "$libdir/libgridvid.dylib"
check "the command is installed" [ -x "$root/bin/gridvid" ]
check "the man page is installed" [ -f "$root/share/man/man1/gridvid.1" ]
check "bash completion is installed" [ -f "$root/share/bash-completion/completions/gridvid" ]
check "zsh completion is installed" [ -f "$root/share/zsh/site-functions/_gridvid" ]
check "the example is installed" [ -f "$root/share/doc/gridvid/examples/render.c" ]
check "the bash completion loads" bash -c \
  "source '$root/share/bash-completion/completions/gridvid' && complete -p gridvid > /dev/null"

# A sanitized build needs its runtime in the program too.
sanitize=$("$meson" introspect "$build" --buildoptions |
  grep -o '{"name": "b_sanitize"[^}]*' |
  sed -nE -e 's/.*"value": \[([^]]*)\].*/\1/p' -e t -e 's/.*"value": "([^"]*)".*/\1/p' |
  tr -d ' "')
san_flags=()
if [ -n "$sanitize" ] && [ "$sanitize" != none ]; then
  san_flags=(-fsanitize="$sanitize")
fi

# Only what pkg-config says: no path into the source or build tree.
if ! flags=$(pkg-config --cflags --libs gridvid); then
  echo "FAIL: pkg-config --cflags --libs gridvid" >&2
  exit 1
fi
check "pkg-config points into the staged tree" grep -q -- "-I$root/include" <<< "$flags"
check "gridvid --version prints the version pkg-config gives" \
  [ "$(LD_LIBRARY_PATH=$libdir DYLD_LIBRARY_PATH=$libdir "$root/bin/gridvid" --version)" = \
  "gridvid $(pkg-config --modversion gridvid)" ]
# shellcheck disable=SC2086 # $flags is a list of words
if ! "$cc" -std=c11 -Wall -Wextra -Werror -pedantic "${san_flags[@]}" "$src/examples/render.c" \
  $flags -pthread -o "$work/render" 2> "$work/cc.txt"; then
  cat "$work/cc.txt" >&2
  echo "FAIL: examples/render.c does not build against the installed library" >&2
  exit 1
fi
echo "ok: examples/render.c builds with pkg-config's flags alone"

cd "$work" || exit 1
export LD_LIBRARY_PATH=$libdir DYLD_LIBRARY_PATH=$libdir
./render --demo wall.mp4 SIZE=160x120 ANIMATION_DURATION=1 \
  USE_GPU=false > out.txt 2> err.txt
rc=$?
check "the example exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat err.txt >&2
if [ "$(uname -s)" = Linux ]; then
  check "the example uses the installed library" \
    grep -q "$libdir/libgridvid" < <(LD_TRACE_LOADED_OBJECTS=1 ./render 2>&1)
fi
check "the video exists" [ -s wall.mp4 ]
probe=$(ffprobe -v error -count_frames -select_streams v:0 \
  -show_entries stream=width,height,nb_read_frames -of csv=p=0 wall.mp4 2>&1)
check "ffprobe sees 160x120 and 30 frames (got '$probe')" [ "$probe" = "160,120,30" ]
check "the example prints a summary" grep -q "wall.mp4: 30 frames from 30 images" out.txt

[ "$fails" -eq 0 ]
