#!/usr/bin/env bash
# `meson install` puts the Python package where the Python that meson
# found looks for packages, and the staged package, found through
# PYTHONPATH alone, loads the staged library (not the build tree's, not a
# system one), renders, runs as `python3 -m gridvid` through the staged
# command, and runs examples/render.py.
set -u
build=${GV_BUILD_DIR:?}
src=${GV_SOURCE_DIR:?}
python=${GV_PYTHON:?}
meson=${MESON:-meson}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$src/tests/check.sh"
# the caller's settings (USE_GPU, ...) stay out of the runs
unset_setting_keys "$build/gridvid" || exit 1
# nothing but the staged files may lead the package to a library (meson
# test puts the build folder on the library path)
unset GRIDVID_LIBRARY GRIDVID_EXECUTABLE PYTHONPATH LD_LIBRARY_PATH
for tool in "$meson" ffprobe; do
  command -v "$tool" > /dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
# A library built with AddressSanitizer loads into Python only after its
# runtime (see tests/test_python.py).
asan=$(ldd "$build/libgridvid.so" 2> /dev/null | sed -n 's/.*libasan\.so[^ ]* => \([^ ]*\).*/\1/p')
if [ -n "$asan" ]; then
  # detect_leaks=0 last, so that it wins over the suite's detect_leaks=1:
  # the interpreter (meson's too) never frees all it holds at exit
  export LD_PRELOAD=$asan ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
fi

stage=$work/stage
if ! "$meson" install -C "$build" --destdir "$stage" --no-rebuild > "$work/install.txt" 2>&1; then
  cat "$work/install.txt" >&2
  echo "FAIL: meson install --destdir" >&2
  exit 1
fi
init=$(find "$stage" -path '*/gridvid/__init__.py' | head -n 1)
if [ -z "$init" ]; then
  echo "FAIL: no gridvid/__init__.py installed" >&2
  exit 1
fi
pkg=$(dirname "$init")
site=$(dirname "$pkg")
# Where meson meant it to go, without the stage: a folder of the site
# directory of this Python (or of its scheme for another prefix).
site_unstaged=${site#"$stage"}
prefix=$(sed -n 's/^prefix=//p' "$(find "$stage" -name gridvid.pc | head -n 1)")

for f in __init__.py __main__.py _lib.py _paths.py _plan.py _png.py _settings.py py.typed; do
  check "gridvid/$f is installed" [ -f "$pkg/$f" ]
done
check "examples/render.py is installed" [ -f "$stage$prefix/share/doc/gridvid/examples/render.py" ]
check "the package is under the prefix ($site_unstaged)" \
  [ "${site_unstaged#"$prefix"/}" != "$site_unstaged" ]
check "_paths.py names the library relative to the package first" \
  grep -q "^LIBRARY = \['\.\./" "$pkg/_paths.py"

cd "$work" || exit 1
export PYTHONPATH=$site
"$python" - > lib.txt 2> err.txt <<'PY'
import os, gridvid
print(os.path.realpath(gridvid.library_path()))
print(gridvid.version())
PY
rc=$?
check "the staged package imports" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat err.txt >&2
check "it loads the staged library ($(head -n 1 lib.txt))" \
  grep -q "^$(realpath "$stage")/.*libgridvid" <(head -n 1 lib.txt)
version=$("$meson" introspect "$build" --projectinfo | sed -E 's/.*"version": "([^"]*)".*/\1/')
check "the version is the project's" [ "$(tail -n 1 lib.txt)" = "$version" ]

"$python" - > summary.txt 2> err.txt <<'PY'
import gridvid
s = gridvid.render(None, "wall.mp4", demo=True, size=(160, 120), animation_duration=1,
                   use_gpu=False)
print(s["frames"], s["images_used"], s["output"])
PY
rc=$?
check "the staged package renders" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat err.txt >&2
check "the summary (got '$(cat summary.txt)')" [ "$(cat summary.txt)" = "30 30 wall.mp4" ]
probe=$(ffprobe -v error -count_frames -select_streams v:0 \
  -show_entries stream=width,height,nb_read_frames -of csv=p=0 wall.mp4 2>&1)
check "ffprobe sees 160x120 and 30 frames (got '$probe')" [ "$probe" = "160,120,30" ]

# python3 -m gridvid runs the staged command, which finds the staged
# library as the staged command does in tests/test_install.sh: through the
# library path (an installed one, through the system's).
libdir=$(dirname "$(head -n 1 lib.txt)")
check "python3 -m gridvid --version" \
  [ "$(LD_LIBRARY_PATH=$libdir "$python" -m gridvid --version)" = "gridvid $version" ]
exe=$("$python" -c 'from gridvid import _lib; print(_lib.executable_candidates()[0])')
check "python3 -m gridvid runs the staged command ($exe)" \
  [ "$(realpath "$exe")" = "$(realpath "$stage$prefix/bin/gridvid")" ]

"$python" "$stage$prefix/share/doc/gridvid/examples/render.py" --demo example.mp4 \
  SIZE=160x120 ANIMATION_DURATION=1 USE_GPU=false > out.txt 2> err.txt
rc=$?
check "examples/render.py exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat err.txt >&2
check "examples/render.py prints the summary ($(cat out.txt))" \
  grep -q "^example.mp4: 30 frames from 30 images (0 skipped)" out.txt
"$python" "$stage$prefix/share/doc/gridvid/examples/render.py" --demo bad.mp4 FPS=0 \
  > out.txt 2> err.txt
rc=$?
check "examples/render.py exits 2 for a bad setting (got $rc)" [ "$rc" -eq 2 ]
check "examples/render.py names the key" grep -q "FPS: '0' is not valid" err.txt

echo "python_install: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
