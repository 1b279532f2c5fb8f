#!/usr/bin/env bash
# The command line: settings precedence (flag > environment > .env >
# default), bad values (exit 2, key named, nothing written), exit codes,
# and interruption (exit 130, no partial file, earlier output kept).
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$GV_SOURCE_DIR/tests/check.sh"

mkdir imgs
for i in 1 2 3 4 5 6; do
  printf 'P6\n40 30\n255\n' > imgs/img$i.ppm
  head -c $((40 * 30 * 3)) /dev/zero | tr '\0' "\\$((100 + i * 10))" >> imgs/img$i.ppm
done

size_of() { ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$1"; }
# keep the user's environment out of the tests: every key gridvid reads
unset_setting_keys "$GRIDVID" || exit 1
time_factor "$GRIDVID"
# the list is the whole table: every key SPEC.md names is in it
for key in OUTPUT_FILENAME FPS ANIMATION_DURATION ASPECT_RATIO_W ASPECT_RATIO_H CROP_POSITION \
  IMAGE_HEIGHT THREAD_COUNT USE_GPU GPU_MEMORY_LIMIT MEMORY_BATCH_SIZE STREAM_PROCESSING \
  TEMP_DIR USE_VIDEOTOOLBOX WIDTH HEIGHT LAYOUT ROWS GAP BACKGROUND DIRECTION EASING SPEED \
  MOTION_BLUR ENCODER CODEC CRF PRESET BITRATE AUDIO GPU_DEVICE; do
  check "--help lists the key $key" grep -qx "$key" <<< "$setting_keys"
done
check "no settings key is left in the environment" \
  [ -z "$(env | cut -d= -f1 | grep -xF "$setting_keys")" ]

# --- precedence ---
printf 'WIDTH=64\nHEIGHT=48\n' > .env
"$GRIDVID" imgs --preview p1.png --quiet
check ".env beats the default" [ "$(size_of p1.png)" = "64,48" ]
WIDTH=96 "$GRIDVID" imgs --preview p2.png --quiet
check "environment beats .env" [ "$(size_of p2.png)" = "96,48" ]
WIDTH=96 "$GRIDVID" imgs --preview p3.png --quiet --width 128
check "flag beats environment" [ "$(size_of p3.png)" = "128,48" ]
printf 'WIDTH="80"  # quoted, with a comment\nexport HEIGHT=40\n' > other.env
"$GRIDVID" imgs --preview p4.png --quiet --env-file other.env
check "--env-file, quotes, export" [ "$(size_of p4.png)" = "80,40" ]
rm .env
"$GRIDVID" imgs --preview p5.png --quiet --size 320x180
check "--size" [ "$(size_of p5.png)" = "320,180" ]

# --- bad values: exit 2, the key, the value, nothing written ---
"$GRIDVID" imgs -o bad.mp4 --fps 0 2> err.txt; rc=$?
check "--fps 0 exits 2" [ $rc -eq 2 ]
check "--fps 0 names FPS and the value" grep -q "FPS: '0'" err.txt
check "--fps 0 writes nothing" [ ! -e bad.mp4 ]
printf 'ANIMATION_DURATION=soon\n' > .env
"$GRIDVID" imgs -o bad.mp4 2> err.txt; rc=$?
check "bad .env value exits 2" [ $rc -eq 2 ]
check "bad .env value names the key" grep -q "ANIMATION_DURATION: 'soon'" err.txt
rm .env
WIDTH=1001 "$GRIDVID" imgs -o bad.mp4 2> err.txt; rc=$?
check "odd width exits 2" [ $rc -eq 2 ]
check "odd width names WIDTH" grep -q "WIDTH" err.txt
"$GRIDVID" imgs -o bad.mp4 --easing bouncy 2> err.txt; rc=$?
check "bad easing exits 2" [ $rc -eq 2 ]
check "bad easing lists what is accepted" grep -q "ease-in-out" err.txt
"$GRIDVID" imgs -o bad.mp4 --memory-limit 2GB 2> err.txt; rc=$?
check "--memory-limit 2GB exits 2" [ $rc -eq 2 ]
check "--memory-limit 2GB names MEMORY_LIMIT and says what is accepted" \
  grep -q "MEMORY_LIMIT: '2GB' is not valid: expected auto" err.txt
MEMORY_LIMIT=-1 "$GRIDVID" imgs -o bad.mp4 2> err.txt; rc=$?
check "MEMORY_LIMIT=-1 exits 2" [ $rc -eq 2 ]
"$GRIDVID" imgs -o bad.mp4 --no-such-flag 2> /dev/null; rc=$?
check "unknown flag exits 2" [ $rc -eq 2 ]
"$GRIDVID" imgs --preview frame.jpg 2> err.txt; rc=$?
check "a preview not named .png exits 2" [ $rc -eq 2 ]
check "a preview not named .png: the key and value are named" grep -q "PREVIEW: 'frame.jpg'" err.txt
check "a preview not named .png: nothing written" [ ! -e frame.jpg ]
"$GRIDVID" 2> /dev/null; rc=$?
check "no input exits 2" [ $rc -eq 2 ]
check "nothing was written by bad settings" [ ! -e bad.mp4 ]

# --- exit codes of running ---
mkdir empty
echo "text" > empty/notes.jpg
"$GRIDVID" empty -o none.mp4 2> err.txt; rc=$?
check "no usable image exits 3" [ $rc -eq 3 ]
check "the skipped file is named once" [ "$(grep -c 'notes.jpg' err.txt)" = 1 ]
check "no usable image writes nothing" [ ! -e none.mp4 ]
cp -r imgs mixed && echo "text" > mixed/img0.jpg
"$GRIDVID" mixed -o strict.mp4 --strict --size 64x48 2> err.txt; rc=$?
check "--strict makes a bad file fatal (3)" [ $rc -eq 3 ]
"$GRIDVID" mixed -o ok.mp4 --size 64x48 --duration 1 2> err.txt; rc=$?
check "a bad file is skipped (exit 0)" [ $rc -eq 0 ]
check "a bad file is named in a warning" grep -q "warning: .*img0.jpg: " err.txt
"$GRIDVID" imgs -o missing-dir/x.mp4 --size 64x48 --duration 1 2> err.txt; rc=$?
check "missing output directory exits 1" [ $rc -eq 1 ]
"$GRIDVID" imgs -o plain.mp4 --size 64x48 --duration 1 --progress json > prog.txt; rc=$?
check "json progress run succeeds" [ $rc -eq 0 ]
check "json progress lines" grep -q '^{"phase":' prog.txt

# --- interruption: exit 130, earlier output intact, no temporary left ---
for sig in INT TERM; do
  echo "earlier output" > keep.mp4
  "$GRIDVID" --demo -o keep.mp4 --duration 120 --quiet &
  pid=$!
  # the run is under way once its temporary exists
  check "SIG$sig: the video is being written to a temporary file" \
    wait_until $((20 * slow)) sh -c 'ls -A | grep -q gvtmp'
  sleep 0.3 # frames in flight, as a user's Ctrl-C finds them
  start=$(date +%s%N)
  kill -$sig $pid
  wait $pid; rc=$?
  took=$(( ($(date +%s%N) - start) / 1000000 ))
  check "SIG$sig exits 130" [ $rc -eq 130 ]
  check "SIG$sig stops within a second (${took} ms)" [ $took -lt $((1000 * slow)) ]
  check "SIG$sig keeps the earlier output" [ "$(cat keep.mp4)" = "earlier output" ]
  check "SIG$sig leaves no temporary file" [ -z "$(ls -A | grep gvtmp)" ]
done

echo "test_cli: $checks checks, $fails failed"
[ $fails -eq 0 ]
