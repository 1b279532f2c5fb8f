#!/usr/bin/env bash
# GPU compositing and its fallback to the CPU, end to end: the Vulkan
# render (on lavapipe in CI), a GPU that fails at start and one that fails
# mid-run all give the same frames as the CPU reference, with one warning.
# Renders are lossless (CRF 0), so equal frames mean equal compositing.
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
DEVICE=${GV_TEST_GPU_DEVICE:-llvmpipe}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$GV_SOURCE_DIR/tests/check.sh"
unset_setting_keys "$GRIDVID" || exit 1
loud=(--demo --size 320x240 --tile-height 80 --fps 30 --duration 1 --crf 0 --motion-blur 2
      --direction alternate --gap 6 --background '#203040')
common=("${loud[@]}" --quiet)
frames() { ffmpeg -v error -i "$1" -f framemd5 - | grep -v '^#'; }

if ! "$GRIDVID" "${common[@]}" --gpu require --gpu-device "$DEVICE" -o probe.mp4 2>/dev/null; then
  echo "SKIP: no Vulkan device matching '$DEVICE' (install mesa-vulkan-drivers for lavapipe)"
  exit 77
fi

"$GRIDVID" "${common[@]}" --gpu false -o cpu.mp4
frames cpu.mp4 > cpu.md5
check "the CPU reference has 30 frames" [ "$(wc -l < cpu.md5)" -eq 30 ]

"$GRIDVID" "${common[@]}" --gpu require --gpu-device "$DEVICE" -o gpu.mp4 2> err.txt; rc=$?
check "GPU render succeeds" [ $rc -eq 0 ]
check "GPU frames equal the CPU's" cmp -s cpu.md5 <(frames gpu.mp4)

# a GPU that fails at start: true falls back with one warning
sed_warnings() { grep -c 'warning' "$1"; }
"$GRIDVID" "${loud[@]}" --gpu true --gpu-device no-such-gpu -o start.mp4 2> err.txt; rc=$?
check "failure at start: exit 0" [ $rc -eq 0 ]
check "failure at start: one warning" [ "$(sed_warnings err.txt)" -eq 1 ]
check "failure at start: frames equal the CPU's" cmp -s cpu.md5 <(frames start.mp4)

# require fails without a GPU, writing nothing
"$GRIDVID" "${common[@]}" --gpu require --gpu-device no-such-gpu -o none.mp4 2> err.txt; rc=$?
check "require without a GPU exits 1" [ $rc -eq 1 ]
check "require without a GPU writes nothing" [ ! -e none.mp4 ]

# a Vulkan failure mid-run switches to the CPU from that frame on
GV_TEST_GPU_FAIL_AT=10 "$GRIDVID" "${loud[@]}" --gpu require --gpu-device "$DEVICE" \
  -o mid.mp4 2> err.txt; rc=$?
check "failure mid-run: exit 0" [ $rc -eq 0 ]
check "failure mid-run: one warning" [ "$(sed_warnings err.txt)" -eq 1 ]
check "failure mid-run: says so" grep -q "GPU compositing failed" err.txt
check "failure mid-run: frames equal the CPU's" cmp -s cpu.md5 <(frames mid.mp4)

# auto: the CPU renders the first frames while the GPU opens (made slow
# here), then the GPU takes over between two frames, and the video shows
# no seam
long=(--demo --size 320x240 --tile-height 80 --fps 30 --duration 30 --crf 0 --motion-blur 2
      --direction alternate --gap 6 --background '#203040')
"$GRIDVID" "${long[@]}" --quiet --gpu false -o cpu30.mp4
frames cpu30.mp4 > cpu30.md5
GV_TEST_GPU_OPEN_DELAY_MS=300 "$GRIDVID" "${long[@]}" --gpu auto --gpu-device "$DEVICE" \
  --verbose -o late.mp4 2> err.txt; rc=$?
n=$(sed -n 's/.*GPU ready: compositing on it from frame \([0-9]*\).*/\1/p' err.txt)
check "late GPU: exit 0" [ $rc -eq 0 ]
check "late GPU: the CPU rendered frames 0 to $n first" [ "${n:-0}" -gt 0 -a "${n:-0}" -lt 900 ]
check "late GPU: no warning" [ "$(sed_warnings err.txt)" -eq 0 ]
check "late GPU: the summary names the GPU" grep -q "compositor $DEVICE" err.txt
check "late GPU: frames equal the CPU's" cmp -s cpu30.md5 <(frames late.mp4)

# true with a GPU that fails to open on its own thread (found out before
# or after the first frame): one warning, the CPU goes on
"$GRIDVID" "${long[@]}" --gpu true --gpu-device no-such-gpu -o late-none.mp4 2> err.txt; rc=$?
check "late failure: exit 0" [ $rc -eq 0 ]
check "late failure: one warning" [ "$(sed_warnings err.txt)" -eq 1 ]
check "late failure: frames equal the CPU's" cmp -s cpu30.md5 <(frames late-none.mp4)

# GPU tile scaling (tests/test_scaler.c checks its numbers): PNGs of flat
# colours, opaque and translucent, scaled on the GPU give the frames of
# the CPU's scaling, and the summary counts them. lavapipe is a software
# device, which the scaler refuses unless a test switch allows it; the
# other switch makes the tiles wait for the scaler to open.
mkdir png
for c in 3366cc:800x600 cc6633:1000x700 22aa44:900x900; do
  ffmpeg -v error -f lavfi -i "color=c=0x${c%%:*}:s=${c##*:}" -frames:v 1 "png/${c%%:*}.png"
done
ffmpeg -v error -f lavfi -i "color=c=0xe0c01080:s=840x600,format=rgba" -frames:v 1 png/alpha.png
scale=(png --size 320x240 --tile-height 80 --fps 30 --duration 1 --crf 0 --gap 4
       --background '#102030' --progress json)
"$GRIDVID" "${scale[@]}" --gpu false -o scale-cpu.mp4 > cpu.json 2> err.txt; rc=$?
check "PNG tiles on the CPU: exit 0" [ $rc -eq 0 ]
check "PNG tiles on the CPU: none scaled on the GPU" grep -q '"gpu_scaled":0' cpu.json
export GV_TEST_GPU_SCALE_SOFTWARE=1 GV_TEST_GPU_SCALE_WAIT=1
"$GRIDVID" "${scale[@]}" --gpu require --gpu-device "$DEVICE" -o scale-gpu.mp4 > gpu.json 2> err.txt
rc=$?
check "PNG tiles on the GPU: exit 0" [ $rc -eq 0 ]
check "PNG tiles on the GPU: all 4 scaled there" grep -q '"gpu_scaled":4' gpu.json
check "PNG tiles on the GPU: no warning" [ "$(sed_warnings err.txt)" -eq 0 ]
check "PNG tiles on the GPU: frames equal the CPU's" cmp -s <(frames scale-cpu.mp4) <(frames scale-gpu.mp4)
# a Vulkan failure in the scaler: that image and the rest on the CPU
GV_TEST_GPU_SCALE_FAIL_AT=2 "$GRIDVID" "${scale[@]}" --gpu require --gpu-device "$DEVICE" \
  --threads 1 -o scale-fail.mp4 > fail.json 2> err.txt; rc=$?
check "scaler failure: exit 0" [ $rc -eq 0 ]
check "scaler failure: one warning" [ "$(sed_warnings err.txt)" -eq 1 ]
check "scaler failure: says so" grep -q "GPU tile scaling failed" err.txt
check "scaler failure: only the first image scaled there" grep -q '"gpu_scaled":1' fail.json
check "scaler failure: frames equal the CPU's" cmp -s <(frames scale-cpu.mp4) <(frames scale-fail.mp4)
# without the switch, lavapipe scales nothing
unset GV_TEST_GPU_SCALE_SOFTWARE
"$GRIDVID" "${scale[@]}" --gpu require --gpu-device "$DEVICE" -o scale-sw.mp4 > sw.json 2> err.txt
check "software device: no GPU scaling" grep -q '"gpu_scaled":0' sw.json
unset GV_TEST_GPU_SCALE_WAIT

echo "test_gpu_fallback: $checks checks, $fails failed"
[ $fails -eq 0 ]
