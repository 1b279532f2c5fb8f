#!/usr/bin/env bash
# Faults while running (SPEC.md "Bad input", "Output", "Progress and exit"):
# the disk filling up, an output directory that is missing or read-only,
# SIGINT/SIGTERM/SIGHUP at several points. Each must end with a clear
# error and the SPEC's exit code (1, or 130 when interrupted), any earlier
# output intact and no temporary file left. Under the sanitizer build the
# same runs are leak-checked (LeakSanitizer at exit).
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
BADIMG=${GV_BADIMG:-$GV_BUILD_DIR/tests/badimg}
work=$(mktemp -d)
chmod 755 "$work"
mounted=""
cleanup() {
  [ -n "$mounted" ] && umount "$mounted" 2> /dev/null
  chmod -R u+rwx "$work" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
. "$GV_SOURCE_DIR/tests/check.sh"
note() { echo "test_faults: $*"; }
unset_setting_keys "$GRIDVID" || exit 1
time_factor "$GRIDVID"

no_temp() { # DIR...: no temporary file of gridvid's in them
  [ -z "$(find "$@" \( -name '*.gvtmp-*' -o -name '*.tmp-*' -o -name 'gridvid-frames-*' \) \
    2> /dev/null | head -1)" ]
}
intact() { [ "$(cat "$1")" = "earlier output" ]; }
frames() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
  -of csv=p=0 "$1"; }

mkdir imgs
for i in 1 2 3 4 5 6; do
  printf 'P6\n40 30\n255\n' > imgs/img$i.ppm
  head -c $((40 * 30 * 3)) /dev/zero | tr '\0' "\\$((100 + i * 10))" >> imgs/img$i.ppm
done
# A render of a few seconds at a size whose file is some hundreds of kB.
BIG=(--demo --size 640x360 --duration 4 --fps 30 --gpu false --encoder libx264 --preset ultrafast
     --crf 10)

# --- disk full: RLIMIT_FSIZE (write fails with EFBIG) -------------------
# SIGXFSZ is ignored, as a shell's `trap '' XFSZ` leaves it for the
# program, so that the write returns the error instead of killing.
limited() { # KiB CMD...
  local kib=$1; shift
  (trap '' XFSZ; ulimit -f "$kib"; exec "$@")
}
echo "earlier output" > full.mp4
limited 64 timeout $((120 * slow)) "$GRIDVID" "${BIG[@]}" -o full.mp4 2> err.txt; rc=$?
check "file size limit: exit 1" [ $rc -eq 1 ]
check "file size limit: a clear error naming the output" grep -q "error: .*full.mp4.*File too large" err.txt
check "file size limit: earlier output intact" intact full.mp4
check "file size limit: no temporary file" no_temp .
grep error err.txt | head -2 | sed 's/^/  /'

# The PNG frame sequence (STREAM_PROCESSING=false) fills the disk first.
mkdir frames
echo "earlier output" > seq.mp4
limited 64 timeout $((120 * slow)) "$GRIDVID" "${BIG[@]}" -o seq.mp4 --stream false \
  --temp-dir frames 2> err.txt; rc=$?
check "frame sequence, file size limit: exit 1" [ $rc -eq 1 ]
check "frame sequence, file size limit: a clear error" grep -q "error: .*File too large" err.txt
check "frame sequence, file size limit: earlier output intact" intact seq.mp4
check "frame sequence, file size limit: frames removed" [ -z "$(ls -A frames)" ]
check "frame sequence, file size limit: no temporary file" no_temp .

# A real full file system, where one can be mounted (a container may not).
mkdir small
if mount -t tmpfs -o size=256k gvtest "$work/small" 2> /dev/null; then
  mounted="$work/small"
  echo "earlier output" > small/out.mp4
  timeout $((120 * slow)) "$GRIDVID" "${BIG[@]}" -o small/out.mp4 2> err.txt; rc=$?
  check "full file system: exit 1" [ $rc -eq 1 ]
  check "full file system: a clear error" grep -q "error: .*out.mp4.*No space left on device" err.txt
  check "full file system: earlier output intact" intact small/out.mp4
  check "full file system: no temporary file" no_temp small
  check "full file system: space given back" [ "$(du -sk small | cut -f1)" -lt 16 ]
  umount "$work/small" && mounted=""
else
  note "full file system: cannot mount a small tmpfs here (not permitted); RLIMIT_FSIZE above stands in"
fi

# --- output directory missing, not a directory, read-only ---------------
R=(imgs --size 64x48 --duration 0.5 --fps 10 --gpu false --encoder libx264 --preset ultrafast)
timeout 60 "$GRIDVID" "${R[@]}" -o missing/out.mp4 2> err.txt; rc=$?
check "missing output directory: exit 1" [ $rc -eq 1 ]
check "missing output directory: a clear error" grep -q "error: cannot write missing/out.mp4: No such file" err.txt
echo "a file" > afile
timeout 60 "$GRIDVID" "${R[@]}" -o afile/out.mp4 2> err.txt; rc=$?
check "output under a file: exit 1" [ $rc -eq 1 ]
check "output under a file: a clear error" grep -q "error: .*afile/out.mp4: Not a directory" err.txt
timeout 60 "$GRIDVID" "${R[@]}" -o /proc/gridvid-test.mp4 2> err.txt; rc=$?
check "output in /proc: exit 1" [ $rc -eq 1 ]
check "output in /proc: an error" grep -q "error: .*/proc/gridvid-test.mp4" err.txt
mkdir isdir.mp4
timeout 60 "$GRIDVID" "${R[@]}" -o isdir.mp4 2> err.txt; rc=$?
check "output is a directory: exit 2 (a bad setting, found before any work)" [ $rc -eq 2 ]
check "output is a directory: a clear error" grep -q "error: .*isdir.mp4" err.txt
check "output is a directory: no temporary file" no_temp .
timeout 60 "$GRIDVID" imgs --preview missing/p.png --size 64x48 --gpu false 2> err.txt; rc=$?
check "preview into a missing directory: exit 1" [ $rc -eq 1 ]
check "preview into a missing directory: a clear error" grep -q "error: .*missing/p.png: .*No such file" err.txt
timeout 60 "$GRIDVID" "${R[@]}" -o tmp.mp4 --stream false --temp-dir missing 2> err.txt; rc=$?
check "frame folder in a missing TEMP_DIR: exit 1" [ $rc -eq 1 ]
check "frame folder in a missing TEMP_DIR: a clear error" grep -q "error: cannot create a frame folder in missing" err.txt
check "frame folder in a missing TEMP_DIR: no temporary file" no_temp .

# Read-only: root writes anyway, so as another user where there is one,
# and through a read-only bind mount where mounting is allowed.
mkdir -m 555 ro
echo "earlier output" > ro-keep && chmod 444 ro-keep
if [ "$(id -u)" -ne 0 ]; then
  other() { "$@"; }
elif command -v setpriv > /dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2> /dev/null; then
  other() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
fi
if [ "$(type -t other)" = function ]; then
  other timeout 60 "$GRIDVID" "${R[@]}" -o ro/out.mp4 2> err.txt; rc=$?
  check "read-only directory: exit 1" [ $rc -eq 1 ]
  check "read-only directory: a clear error" grep -q "error: cannot write ro/out.mp4: Permission denied" err.txt
  check "read-only directory: nothing written" [ -z "$(ls -A ro)" ]
  other timeout 60 "$GRIDVID" imgs --preview ro/p.png --size 64x48 --gpu false 2> err.txt; rc=$?
  check "preview into a read-only directory: exit 1" [ $rc -eq 1 ]
  check "preview into a read-only directory: a clear error" grep -q "error: .*ro/p.png: .*Permission denied" err.txt
else
  note "read-only directory as another user: no other user to switch to; not tested"
fi
mkdir robind
if mount --bind -o ro "$work/robind" "$work/robind" 2> /dev/null ||
   { mount --bind "$work/robind" "$work/robind" 2> /dev/null &&
     mount -o remount,bind,ro "$work/robind" 2> /dev/null; }; then
  mounted="$work/robind"
  timeout 60 "$GRIDVID" "${R[@]}" -o robind/out.mp4 2> err.txt; rc=$?
  check "read-only file system: exit 1" [ $rc -eq 1 ]
  check "read-only file system: a clear error" grep -q "error: cannot write robind/out.mp4: Read-only file system" err.txt
  umount "$work/robind" && mounted=""
else
  note "read-only bind mount: not permitted here; not tested"
fi

# --- signals at several points: exit 130 within a second -----------------
# wait_for PHASE FILE: until gridvid's JSON progress reaches PHASE.
wait_for() {
  local i
  for i in $(seq 1 $((600 * slow))); do
    grep -q "\"phase\":\"$1\"" "$2" 2> /dev/null && return 0
    kill -0 "$pid" 2> /dev/null || return 1
    sleep 0.02
  done
  return 1
}
# gridvid keeps running on a hangup when it starts with SIGHUP ignored (as
# under nohup), so the signal tests start it with every signal's default
# action, whatever this suite inherited: a suite run under nohup once
# failed every SIGHUP check here. env --default-signal is coreutils 8.31.
launch=(env --default-signal=HUP,INT,TERM)
if ! env --default-signal=HUP true 2> /dev/null; then
  launch=()
  note "env --default-signal missing: gridvid inherits this shell's signal actions"
fi
# interrupt SIG PHASE ARGS...: runs gridvid -o keep.mp4 ARGS, sends SIG once
# PHASE is reached; sets rc, took (ms) and phase (the last phase printed).
interrupt() {
  local sig=$1 at=$2; shift 2
  echo "earlier output" > keep.mp4
  "${launch[@]}" "$GRIDVID" "$@" -o keep.mp4 --progress json > prog.txt 2> err.txt &
  pid=$!
  if ! wait_for "$at" prog.txt; then
    note "SIG$sig at $at: the run ended before reaching it"
  fi
  local start
  start=$(date +%s%N)
  kill -"$sig" $pid 2> /dev/null
  wait $pid; rc=$?
  took=$(( ($(date +%s%N) - start) / 1000000 ))
  phase=$(grep -o '"phase":"[a-z]*"' prog.txt | grep -v done | tail -1 | cut -d'"' -f4)
}
mkdir many && "$BADIMG" ppms many 10000
for sig in INT TERM HUP; do
  interrupt $sig scan many --size 320x240 --tile-height 16 --duration 2 --gpu false \
    --encoder libx264 --preset ultrafast
  check "SIG$sig while scanning 10000 files: exit 130" [ $rc -eq 130 ]
  check "SIG$sig while scanning: stops within a second (${took} ms)" [ $took -lt $((1000 * slow)) ]
  check "SIG$sig while scanning: earlier output intact" intact keep.mp4
  check "SIG$sig while scanning: no temporary file" no_temp .
  note "SIG$sig sent in phase '$phase' of the 10000-file run, stopped in $took ms"

  interrupt $sig render "${BIG[@]}" --duration 60
  check "SIG$sig while rendering: exit 130" [ $rc -eq 130 ]
  check "SIG$sig while rendering: stops within a second (${took} ms)" [ $took -lt $((1000 * slow)) ]
  check "SIG$sig while rendering: earlier output intact" intact keep.mp4
  check "SIG$sig while rendering: no temporary file" no_temp .
done

# Under nohup (SIGHUP ignored at start) a hangup does not stop the run.
if env --ignore-signal=HUP true 2> /dev/null; then
  saved=("${launch[@]}")
  launch=(env --ignore-signal=HUP)
  interrupt HUP render "${BIG[@]}" --duration 2
  launch=("${saved[@]}")
  check "SIGHUP under nohup: the run goes on and completes (exit $rc)" [ $rc -eq 0 ]
  check "SIGHUP under nohup: the output is complete" [ "$(frames keep.mp4)" = 60 ]
fi

# While writing the frame sequence: its folder goes too.
mkdir seqtmp
interrupt INT render "${BIG[@]}" --duration 60 --stream false --temp-dir seqtmp
check "SIGINT with a frame sequence: exit 130" [ $rc -eq 130 ]
check "SIGINT with a frame sequence: frames removed" [ -z "$(ls -A seqtmp)" ]
check "SIGINT with a frame sequence: earlier output intact" intact keep.mp4

# While finishing (flushing the encoder, moving the index to the front):
# either the run stops (130, earlier output intact) or the signal came
# too late to matter and the output is complete; never anything between.
interrupt INT finish "${BIG[@]}" --duration 8
check "SIGINT while finishing: exit 130 or 0 ($rc)" [ $rc -eq 130 -o $rc -eq 0 ]
check "SIGINT while finishing: within a second (${took} ms)" [ $took -lt $((1000 * slow)) ]
if [ $rc -eq 130 ]; then
  check "SIGINT while finishing: earlier output intact" intact keep.mp4
else
  check "SIGINT while finishing: the output is complete" [ "$(frames keep.mp4)" = 240 ]
  note "SIGINT while finishing: the run completed and exited 0 (the signal came after the last frame)"
fi
check "SIGINT while finishing: no temporary file" no_temp .

echo "test_faults: $checks checks, $fails failed"
[ $fails -eq 0 ]
