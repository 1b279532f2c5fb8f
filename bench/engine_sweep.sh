#!/usr/bin/env bash
# The JPEG engines' knobs on W2 (issue 12): runs gridvid on bench/run.sh's
# W2 photos (1000 of 12 MP into 1080p30, 10 s) once per setting of the
# benchmark switches GV_ENGINE_THREADS, GV_ENGINE_BATCH and GV_ENGINE_AHEAD
# (src/hooks.h), the default first and last, and prints wall time, CPU
# time, peak memory, the photos the engines took and the engines' own
# wait/run times from --verbose. Run bench/run.sh --only W2 first (it
# makes the photos and measures the floors).
#
# Usage: bench/engine_sweep.sh WORK OUTDIR THREADS:BATCH:AHEAD...
set -uo pipefail
work=${1:?work folder of bench/run.sh}
out=${2:?output folder}
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gridvid=${GRIDVID:-$here/../build/gridvid}
dir=$(ls -d "$work"/sets/*-1000 | head -1)
[ -d "$dir" ] || { echo "no W2 set under $work/sets" >&2; exit 1; }
cat "$dir"/* > /dev/null
waits=()
printf '%-10s %7s %7s %8s %13s  %s\n' "t:b:a" "wall s" "CPU s" "peak MB" "encoder/own" "engines"
for v in 2:32:2 "$@" 2:32:2; do
  IFS=: read -r t b a <<< "$v"
  log=$out/sweep-$t-$b-$a.log
  python3 -c '
import resource, subprocess, sys, time
t = time.time()
subprocess.run(sys.argv[1:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("TIME %.2f %.2f %.2f %d" % (time.time() - t, r.ru_utime, r.ru_stime, r.ru_maxrss), file=sys.stderr)
' env GV_ENGINE_THREADS="$t" GV_ENGINE_BATCH="$b" \
    GV_ENGINE_AHEAD="$a" "$gridvid" "$dir" -o "$out/sweep.mp4" --size 1920x1080 --fps 30 \
    --duration 10 -v > "$log" 2>&1
  read -r _ wall u s kb <<< "$(grep '^TIME' "$log")"
  eng=$(grep -o 'JPEG engine: [0-9]* images decoded on .*, [0-9]* by libvips; its thread ran batches [0-9.]* s and waited for files [0-9.]* s' "$log" |
    sed 's/JPEG engine: \([0-9]*\) images decoded on .*, \([0-9]*\) by libvips; its thread ran batches \([0-9.]*\) s and waited for files \([0-9.]*\) s/\1 engine, \2 libvips; ran \3 s, waited \4 s/')
  own=$(sed -n "s/.*the encoder \([0-9.]*\) s, gridvid's own \([0-9.]*\) s.*/\1\/\2/p" "$log" | head -1)
  printf '%-10s %7s %7.1f %8d %13s  %s\n' "$v" "$wall" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u + s}')" \
    $((kb / 1024)) "${own:-?}" "${eng:-?}"
  waits+=("$v: $(sed -n 's/^gridvid: waits: //p' "$log")")
done
printf '\nwhere each run waited (--verbose):\n'
printf '  %s\n' "${waits[@]}"
