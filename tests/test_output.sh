#!/usr/bin/env bash
# Faults the operating system deals to the output (SPEC.md "Output",
# "Progress and exit", "Bad input"): a file-size limit with SIGXFSZ at
# its default (the CLI ignores it, so the write fails with EFBIG), a full
# file system, an output that can never be written (found before any
# work: exit 2), and the temporaries of runs that were killed (removed by
# the next run to the same output, those of live runs left alone).
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
BADIMG=${GV_BADIMG:-$GV_BUILD_DIR/tests/badimg}
work=$(mktemp -d)
chmod 755 "$work"
mounted=""
cleanup() {
  [ -n "$mounted" ] && umount "$mounted" 2> /dev/null
  [ -n "${pid:-}" ] && kill -KILL "$pid" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
. "$GV_SOURCE_DIR/tests/check.sh"
note() { echo "test_output: $*"; }
unset_setting_keys "$GRIDVID" || exit 1
time_factor "$GRIDVID"

temps() { find "$@" -name '*.gvtmp-*' 2> /dev/null; }
no_temp() { [ -z "$(temps "$@" | head -1)" ]; }
intact() { [ "$(cat "$1")" = "earlier output" ]; }
# only FILE... in DIR: nothing else was left there
only() { local dir=$1; shift; [ "$(ls -A "$dir" | sort)" = "$(printf '%s\n' "$@" | sort)" ]; }
not() { ! "$@"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

mkdir imgs
for i in 1 2 3 4 5 6; do
  printf 'P6\n40 30\n255\n' > imgs/img$i.ppm
  head -c $((40 * 30 * 3)) /dev/zero | tr '\0' "\\$((100 + i * 10))" >> imgs/img$i.ppm
done
# A render whose file is about a megabyte, and a short one.
BIG=(--demo --size 640x360 --duration 4 --fps 30 --gpu false --encoder libx264 --preset ultrafast
     --crf 10)
R=(imgs --size 64x48 --duration 0.5 --fps 10 --gpu false --encoder libx264 --preset ultrafast)

# --- a file-size limit: SIGXFSZ left at its default ---------------------
# `ulimit -f` in a subshell is setrlimit(RLIMIT_FSIZE) in the child that
# runs gridvid; nothing here ignores SIGXFSZ for it.
limited() { # KiB CMD...
  local kib=$1; shift
  (ulimit -f "$kib"; exec "$@")
}
mkdir fsize
echo "earlier output" > fsize/v.mp4
limited 200 timeout $((120 * slow)) "$GRIDVID" "${BIG[@]}" -o fsize/v.mp4 2> err.txt; rc=$?
check "file-size limit: exit 1, not killed by SIGXFSZ ($rc)" [ $rc -eq 1 ]
check "file-size limit: the error names the output" grep -q "error: .*fsize/v.mp4.*File too large" err.txt
check "file-size limit: warned before the render" grep -q "warning: fsize/v.mp4: files are limited to" err.txt
check "file-size limit: earlier output intact" intact fsize/v.mp4
check "file-size limit: no other file left" only fsize v.mp4
grep -E 'error|warning' err.txt | head -3 | sed 's/^/  /'

# The soundtrack goes through the same muxer.
if ffmpeg -v error -f lavfi -i sine=frequency=440:duration=5 -c:a pcm_s16le tone.wav 2> /dev/null; then
  limited 200 timeout $((120 * slow)) "$GRIDVID" "${BIG[@]}" --audio tone.wav -o fsize/v.mp4 \
    2> err.txt; rc=$?
  check "file-size limit with audio: exit 1 ($rc)" [ $rc -eq 1 ]
  check "file-size limit with audio: the error names the output" grep -q "error: .*fsize/v.mp4.*File too large" err.txt
  check "file-size limit with audio: earlier output intact" intact fsize/v.mp4
  check "file-size limit with audio: no other file left" only fsize v.mp4
else
  note "no ffmpeg to make a soundtrack; the file-size limit with audio is not tested"
fi

# The preview PNG: a noisy 1280x720 frame is far over 16 KiB.
echo "earlier output" > fsize/p.png
limited 16 timeout $((60 * slow)) "$GRIDVID" --demo --size 1280x720 --gpu false \
  --preview fsize/p.png 2> err.txt; rc=$?
check "preview, file-size limit: exit 1 ($rc)" [ $rc -eq 1 ]
check "preview, file-size limit: the error names the preview" grep -q "error: .*fsize/p.png: .*File too large" err.txt
check "preview, file-size limit: earlier output intact" intact fsize/p.png
check "preview, file-size limit: no other file left" only fsize v.mp4 p.png

# The PNG frame sequence (STREAM_PROCESSING=false).
mkdir frames
limited 200 timeout $((120 * slow)) "$GRIDVID" "${BIG[@]}" -o fsize/v.mp4 --stream false \
  --temp-dir frames 2> err.txt; rc=$?
check "frame sequence, file-size limit: exit 1 ($rc)" [ $rc -eq 1 ]
check "frame sequence, file-size limit: the error names the file" grep -q "error: .*File too large" err.txt
check "frame sequence, file-size limit: frames removed" [ -z "$(ls -A frames)" ]
check "frame sequence, file-size limit: earlier output intact" intact fsize/v.mp4
check "frame sequence, file-size limit: no other file left" only fsize v.mp4 p.png

# --- a full file system (ENOSPC) -------------------------------------------
mkdir small
if mount -t tmpfs -o size=256k gvoutput "$work/small" 2> /dev/null; then
  mounted="$work/small"
  echo "earlier output" > small/v.mp4
  echo "earlier output" > small/p.png
  timeout $((120 * slow)) "$GRIDVID" "${BIG[@]}" -o small/v.mp4 2> err.txt; rc=$?
  check "full file system: exit 1 ($rc)" [ $rc -eq 1 ]
  check "full file system: the error names the output" grep -q "error: .*small/v.mp4.*No space left on device" err.txt
  check "full file system: warned before the render" grep -q "warning: small/v.mp4: .* free on its file system" err.txt
  check "full file system: earlier output intact" intact small/v.mp4
  timeout $((60 * slow)) "$GRIDVID" --demo --size 1920x1080 --gpu false --preview small/p.png \
    2> err.txt; rc=$?
  check "preview, full file system: exit 1 ($rc)" [ $rc -eq 1 ]
  check "preview, full file system: the error names the preview" grep -q "error: .*small/p.png: .*No space left on device" err.txt
  check "preview, full file system: earlier output intact" intact small/p.png
  check "full file system: no other file left" only small v.mp4 p.png
  umount "$work/small" && mounted=""
else
  note "full file system: cannot mount a small tmpfs here (not permitted); not tested"
fi

# --- outputs that can never be written: exit 2 before any work ------------
# 10000 inputs take seconds to probe: the answer must come before that.
mkdir many && "$BADIMG" ppms many 10000
mkdir isdir.mp4
start=$(date +%s%N)
timeout 60 "$GRIDVID" many --gpu false --duration 600 -o isdir.mp4 2> err.txt; rc=$?
took=$(ms_since "$start")
check "output is a folder: exit 2 ($rc)" [ $rc -eq 2 ]
check "output is a folder: within a second (${took} ms)" [ "$took" -lt $((1000 * slow)) ]
check "output is a folder: a clear error" grep -q "error: cannot write isdir.mp4: it is a folder" err.txt
check "output is a folder: nothing written" [ -z "$(ls -A isdir.mp4)" ]
check "output is a folder: no temporary file" no_temp .
timeout 60 "$GRIDVID" "${R[@]}" -o new.mp4/ 2> err.txt; rc=$?
check "output ending in '/': exit 2 ($rc)" [ $rc -eq 2 ]
check "output ending in '/': no file" [ ! -e new.mp4 ]
timeout 60 "$GRIDVID" "${R[@]}" --preview isdir.mp4 2> /dev/null; rc=$?
check "preview is a folder: exit 2 ($rc)" [ $rc -eq 2 ]
mkfifo fifo.mp4
timeout 60 "$GRIDVID" "${R[@]}" -o fifo.mp4 2> err.txt; rc=$?
check "output is a FIFO: exit 2 ($rc)" [ $rc -eq 2 ]
check "output is a FIFO: a clear error" grep -q "error: cannot write fifo.mp4: it is not a regular file" err.txt
check "output is a FIFO: still a FIFO" [ -p fifo.mp4 ]

# The output is one of the inputs: a preview written into the folder it
# reads, and a PNG named .mp4 (gridvid reads files by their content).
mkdir self
"$GRIDVID" "${R[@]}" --preview self/a.png 2> /dev/null
cp self/a.png self/b.mp4
sum_before=$(cat self/a.png self/b.mp4 | md5sum)
timeout 60 "$GRIDVID" self --size 64x48 --gpu false --preview self/a.png 2> err.txt; rc=$?
check "preview is an input in a listed folder: exit 2 ($rc)" [ $rc -eq 2 ]
check "preview is an input: a clear error" grep -q "error: cannot write self/a.png: it is the input self/a.png" err.txt
timeout 60 "$GRIDVID" self/b.mp4 imgs --size 64x48 --gpu false -o self/b.mp4 2> err.txt; rc=$?
check "output is an input given by name: exit 2 ($rc)" [ $rc -eq 2 ]
check "output is an input: a clear error" grep -q "error: cannot write self/b.mp4: it is the input" err.txt
check "output is an input: the inputs unchanged" [ "$(cat self/a.png self/b.mp4 | md5sum)" = "$sum_before" ]
check "output is an input: no temporary file" no_temp self

# A missing folder stays a failure of the run (exit 1), found before work.
start=$(date +%s%N)
timeout 60 "$GRIDVID" many --gpu false --duration 600 -o missing/out.mp4 2> err.txt; rc=$?
took=$(ms_since "$start")
check "missing output folder: exit 1 ($rc)" [ $rc -eq 1 ]
check "missing output folder: within a second (${took} ms)" [ "$took" -lt $((1000 * slow)) ]
check "missing output folder: a clear error" grep -q "error: cannot write missing/out.mp4: No such file or directory" err.txt

# --- temporaries of dead runs -----------------------------------------------
wait_for() { # PHASE FILE: until gridvid's JSON progress reaches PHASE
  local i
  for i in $(seq 1 $((600 * slow))); do
    grep -q "\"phase\":\"$1\"" "$2" 2> /dev/null && return 0
    kill -0 "$pid" 2> /dev/null || return 1
    sleep 0.02
  done
  return 1
}
mkdir dead
echo "earlier output" > dead/k.mp4
"$GRIDVID" "${BIG[@]}" --duration 60 -o dead/k.mp4 --progress json > prog.txt 2> /dev/null &
pid=$!
wait_for render prog.txt
kill -KILL $pid; wait $pid 2> /dev/null; pid=""
left=$(temps dead)
check "SIGKILL: the run leaves its temporary" [ -n "$left" ]
# What a dead run leaves, and names that only look like it: kept.
: > dead/.k.mp4.gvtmp-0123abcd
: > dead/.k.mp4.gvtmp-notmine1
: > dead/.k.mp4.gvtmp-0123abcd0
: > dead/.other.mp4.gvtmp-0123abcd
timeout $((60 * slow)) "$GRIDVID" "${R[@]}" -o dead/k.mp4 2> err.txt; rc=$?
check "next run after SIGKILL: exit 0 ($rc)" [ $rc -eq 0 ]
check "next run after SIGKILL: the dead runs' temporaries removed" [ ! -e "$left" -a ! -e dead/.k.mp4.gvtmp-0123abcd ]
check "next run after SIGKILL: said once" [ "$(grep -c 'removed 2 temporary files of dead/k.mp4' err.txt)" = 1 ]
check "next run after SIGKILL: other files kept" only dead k.mp4 .k.mp4.gvtmp-notmine1 \
  .k.mp4.gvtmp-0123abcd0 .other.mp4.gvtmp-0123abcd
rm -f dead/.k.mp4.gvtmp-notmine1 dead/.k.mp4.gvtmp-0123abcd0 dead/.other.mp4.gvtmp-0123abcd

# A live run's temporary is locked: a second run to the same output
# leaves it alone, and the first still finishes its own.
"$GRIDVID" "${BIG[@]}" --duration 60 -o dead/k.mp4 --progress json > prog.txt 2> /dev/null &
pid=$!
wait_for render prog.txt
live=$(temps dead)
timeout $((60 * slow)) "$GRIDVID" "${R[@]}" -o dead/k.mp4 2> err.txt; rc=$?
check "second run beside a live one: exit 0 ($rc)" [ $rc -eq 0 ]
check "second run beside a live one: the live temporary kept" [ -n "$live" -a -e "$live" ]
check "second run beside a live one: nothing said about it" not grep -q "removed" err.txt
kill -INT $pid; wait $pid; rc=$?; pid=""
check "the live run, interrupted: exit 130 ($rc)" [ $rc -eq 130 ]
check "the live run, interrupted: its temporary removed" no_temp dead

# The preview's temporaries are the same.
: > dead/.p.png.gvtmp-89abcdef
timeout $((60 * slow)) "$GRIDVID" "${R[@]}" --preview dead/p.png 2> err.txt; rc=$?
check "preview after a dead run: exit 0 ($rc)" [ $rc -eq 0 ]
check "preview after a dead run: its temporary removed" no_temp dead
check "preview after a dead run: said once" [ "$(grep -c 'removed 1 temporary file of dead/p.png' err.txt)" = 1 ]

echo "test_output: $checks checks, $fails failed"
[ $fails -eq 0 ]
