#!/usr/bin/env bash
# Ken Burns and the camera end to end (docs/VIEW.md): the Vulkan render
# (lavapipe in CI) and a GPU lost mid-run give the CPU reference's frames;
# the wall beyond the camera's far limit is BACKGROUND exactly; the zoom
# moves pixels inside still tiles; --dry-run says what the view does; bad
# values exit 2 naming the key. Renders are lossless (CRF 0).
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
DEVICE=${GV_TEST_GPU_DEVICE:-llvmpipe}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$GV_SOURCE_DIR/tests/check.sh"
unset_setting_keys "$GRIDVID" || exit 1
base=(--demo --size 320x240 --tile-height 80 --fps 30 --duration 1 --crf 0 --quiet)
frames() { ffmpeg -v error -i "$1" -f framemd5 - | grep -v '^#'; }
# luma of pixel (x, y) of frame n of a video
luma() {
  ffmpeg -v error -i "$1" -vf "select=eq(n\,$2)" -frames:v 1 -f rawvideo -pix_fmt yuv420p - \
    2> /dev/null | od -An -tu1 -j $(($4 * 320 + $3)) -N1 | tr -d ' '
}

# --- the GPU and the CPU agree, for both looks and both layouts ----------
gpu=1
if ! "$GRIDVID" "${base[@]}" --camera tilted --gpu require --gpu-device "$DEVICE" \
     -o probe.mp4 2>/dev/null; then
  echo "note: no Vulkan device matching '$DEVICE': GPU checks skipped"
  gpu=0
fi
looks=(
  "--camera tilted --ken-burns 12 --motion-blur 2 --direction alternate --gap 6"
  "--camera floor --depth-fade 70 --background #203040"
  "--ken-burns 20 --crop top --easing ease-in-out"
  "--layout columns --size 240x320 --camera side --ken-burns 8 --motion-blur 3"
)
for i in "${!looks[@]}"; do
  # shellcheck disable=SC2206 # the options split into words
  opts=(${looks[$i]})
  "$GRIDVID" "${base[@]}" "${opts[@]}" --gpu false -o cpu$i.mp4; rc=$?
  check "look $i (${looks[$i]}): CPU render exit 0 ($rc)" [ $rc -eq 0 ]
  check "look $i: 30 frames" [ "$(frames cpu$i.mp4 | wc -l)" -eq 30 ]
  [ $gpu -eq 1 ] || continue
  "$GRIDVID" "${base[@]}" "${opts[@]}" --gpu require --gpu-device "$DEVICE" -o gpu$i.mp4
  check "look $i: GPU frames equal the CPU's" cmp -s <(frames cpu$i.mp4) <(frames gpu$i.mp4)
done
if [ $gpu -eq 1 ]; then
  GV_TEST_GPU_FAIL_AT=12 "$GRIDVID" "${base[@]/--quiet/--progress=plain}" --camera tilted --ken-burns 12 --motion-blur 2 \
    --direction alternate --gap 6 --gpu true --gpu-device "$DEVICE" -o lost.mp4 2> err.txt
  check "GPU lost mid-run: frames equal the CPU's" cmp -s <(frames cpu0.mp4) <(frames lost.mp4)
  check "GPU lost mid-run: one warning" [ "$(grep -c warning err.txt)" -eq 1 ]
fi

# clips play through the view too: a clip's tile changes every frame
if [ $gpu -eq 1 ] && [ -x "${GV_MAKECLIP:-}" ]; then
  mkdir mixed
  "$GV_MAKECLIP" mixed/a.mp4 320 240 25 50 libx264 > /dev/null &&
    "$GV_MAKECLIP" mixed/b.mp4 240 320 30 40 libx264 > /dev/null &&
    "$GRIDVID" --demo --size 64x64 --tile-height 64 --preview mixed/c.png --quiet
  clipwall=(mixed --size 320x240 --tile-height 80 --fps 30 --duration 1 --crf 0 --quiet
            --camera tilted --ken-burns 12 --motion-blur 2)
  "$GRIDVID" "${clipwall[@]}" --gpu false -o clips-cpu.mp4
  "$GRIDVID" "${clipwall[@]}" --gpu require --gpu-device "$DEVICE" -o clips-gpu.mp4
  check "clips through the view: GPU frames equal the CPU's" \
    cmp -s <(frames clips-cpu.mp4) <(frames clips-gpu.mp4)
  check "clips through the view: 30 frames" [ "$(frames clips-cpu.mp4 | wc -l)" -eq 30 ]
fi

# --- exact pixels ---------------------------------------------------------
# tilt 70 with a 90 degree view: the top line looks past 8 times the
# centre's distance, so it is BACKGROUND (red: Y' 63 in BT.709 limited range)
"$GRIDVID" "${base[@]}" --tilt 70 --fov 90 --background red --gpu false -o far.mp4
check "far wall: top left is BACKGROUND" [ "$(luma far.mp4 0 0 0)" = 63 ]
check "far wall: top centre is BACKGROUND" [ "$(luma far.mp4 7 160 0)" = 63 ]
check "far wall: the bottom shows the wall" [ "$(luma far.mp4 7 160 239)" != 63 ]
# a camera square to the wall at distance 1 (a turn of 0.0001 degrees turns
# it on) shows the plain wall: same frames as no camera at all, where the
# rows move by whole pixels (60 px/s at 30 fps; tiles never blend then)
"$GRIDVID" "${base[@]}" --gpu false --speed 60 -o plain.mp4
"$GRIDVID" "${base[@]}" --gpu false --speed 60 --turn 0.0001 -o square.mp4
check "square camera: the plain wall's frames" cmp -s <(frames plain.mp4) <(frames square.mp4)
# the zoom moves pixels inside the tiles, so frames differ from the plain wall's
"$GRIDVID" "${base[@]}" --gpu false --speed 60 --ken-burns 10 -o kb.mp4
check "ken burns: frames differ from the plain wall's" \
  bash -c "! cmp -s <(ffmpeg -v error -i plain.mp4 -f framemd5 - | grep -v '^#') \
                    <(ffmpeg -v error -i kb.mp4 -f framemd5 - | grep -v '^#')"
# the preview renders the view too: beyond the far limit is BACKGROUND
"$GRIDVID" "${base[@]}" --tilt 70 --fov 90 --background red --preview far.png --at 0.5
read -r -a px <<< "$(vips getpoint far.png 160 0 2> /dev/null)"
check "preview: the far wall is BACKGROUND (${px[*]})" \
  [ "${px[0]:-0}" -ge 253 ] && [ "${px[1]:-9}" -le 2 ] && [ "${px[2]:-9}" -le 2 ]
read -r -a px <<< "$(vips getpoint far.png 160 239 2> /dev/null)"
check "preview: the near wall is not (${px[*]})" [ "${px[0]:-255}${px[1]:-0}" != 2550 ]

# --- what --dry-run says ----------------------------------------------------
"$GRIDVID" "${base[@]}" --camera tilted --ken-burns 10 --dry-run > plan.txt 2>&1
check "dry run: the camera's line" grep -q "^camera: tilt 25, turn -15, fov 50, distance 1" plan.txt
check "dry run: the zoom's line" grep -q "^ken burns: 10%" plan.txt
check "dry run: tiles prepared larger" grep -Eq "^tiles prepared at [0-9]+x[0-9]+ \(1\.[0-9]+x\)" plan.txt
check "dry run: lanes seen" grep -q "seen from" plan.txt

# --- bad values -------------------------------------------------------------
for bad in "--ken-burns 60:KEN_BURNS" "--tilt 85:TILT" "--turn -90:TURN" "--fov 5:FOV" \
           "--distance 0.1:DISTANCE" "--depth-fade 120:DEPTH_FADE" "--camera sideways:CAMERA"; do
  # shellcheck disable=SC2086 # flag and value
  "$GRIDVID" "${base[@]}" ${bad%%:*} -o bad.mp4 2> err.txt; rc=$?
  check "bad ${bad%%:*}: exit 2 ($rc)" [ $rc -eq 2 ]
  check "bad ${bad%%:*}: names ${bad##*:}" grep -q "${bad##*:}" err.txt
  check "bad ${bad%%:*}: nothing written" [ ! -e bad.mp4 ]
done
TILT=95 "$GRIDVID" "${base[@]}" -o bad.mp4 2> err.txt; rc=$?
check "bad TILT from the environment: exit 2 ($rc)" [ $rc -eq 2 ]
printf 'KEN_BURNS=12\nCAMERA=tilted\n' > view.env
"$GRIDVID" "${base[@]}" --env-file view.env --dry-run > plan.txt 2>&1
check ".env: the camera and the zoom" grep -q "^ken burns: 12%" plan.txt

echo "test_view_cli: $checks checks, $fails failed"
[ $fails -eq 0 ]
