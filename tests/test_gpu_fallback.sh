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
fails=0
checks=0
check() {
  local what=$1; shift
  checks=$((checks + 1))
  if ! "$@"; then echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
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

echo "test_gpu_fallback: $checks checks, $fails failed"
[ $fails -eq 0 ]
