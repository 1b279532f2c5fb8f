#!/usr/bin/env bash
# gridvid's benchmark (issue 3): runs, side by side on the same photos,
#   gridvid            the tool, once per variant (--variant)
#   encode floor       the same frames encoded with the same encoder settings,
#                      nothing else (bench/encode_floor.c says how and why)
#   tile floor         vipsthumbnail over the same images, same tile size and
#                      crop, one process per core
#   ffmpeg             the plain ffmpeg command line an expert would write for
#                      the same wall
# and prints wall time, CPU time and peak memory of each, and the ratios the
# issue's targets are stated in.
#
# Usage: bench/run.sh [OPTIONS]      (from any directory)
#   --quick              few photos and short videos, to try it out
#   --only W1,W3         run only these workloads (default W1,W2,W3)
#   --images DIR         use the photos in DIR (natural order, first N for a
#                        workload of N) instead of generated ones
#   --work DIR           work folder (default bench/work, git-ignored):
#                        generated photos (kept across runs), outputs, results
#   --results FILE       where the full results go
#                        (default WORK/results-DATE.txt)
#   --variant LABEL=ARGS one gridvid row with these extra arguments, e.g.
#                        --variant cpu='--gpu false' --variant gpu='--gpu true';
#                        ARGS starting with @python render through the Python
#                        package instead (bench/gridvid_py.py), e.g.
#                        --variant cli='' --variant python='@python';
#                        repeatable; default a single row 'gridvid'
#   --ffmpeg MODE        once (default): each image decoded once, the row strip
#                        repeated with the loop filter; loop: the literal
#                        '-loop 1 -framerate FPS -t DUR -i IMG' inputs, which
#                        make ffmpeg decode every image again for every frame;
#                        both; none
#   --ffmpeg-w2 MODE     auto (default): run ffmpeg on W2 only if the memory it
#                        is estimated to need fits under the cap; run; skip
#   --mem-cap GB         ffmpeg is killed above this resident memory
#                        (default 90% of the memory available at start)
#   --timeout S          kill any measured command after S s (default 3600)
#   --ffmpeg-timeout S   the same for ffmpeg rows (default 1800)
#   --jobs N             processes for generating photos and the tile floor
#                        (default: one per core)
#   --reps N             measure each row N times and keep the fastest
#                        (default 1; others' work on the machine only slows)
#   --no-install         never try apt-get (it is tried only as root, only for
#                        missing tools, and its failure is ignored)
#   --keep               keep the raw frame file of the encode floor
# Environment: GRIDVID (the binary; default BUILD/gridvid of this checkout, then
# gridvid on PATH), GRIDVID_ARGS (extra arguments for every gridvid row),
# GV_BENCH_HELPERS (folder holding gen_photos, encode_floor, tile_floor).
#
# Needs bash; gridvid. Optional, each row skipped with a note when missing:
# GNU time (else python3, else bash's own timing without peak memory), ffmpeg,
# vipsthumbnail (else bench/tile_floor), the helpers of bench/ (built by meson
# into BUILD/bench/, else compiled here with cc and pkg-config when possible).
set -uo pipefail
shopt -s nullglob

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench_dir/.." && pwd)
invocation="$0 $*"

work=""
images_dir=""
only="W1,W2,W3"
quick=0
results=""
variants=()
ffmpeg_mode=once
ffmpeg_w2=auto
mem_cap_gb=""
timeout_s=3600
ffmpeg_timeout_s=1800
jobs=""
reps=1
install=1
keep=0

die() { echo "run.sh: $*" >&2; exit 2; }
say() { echo "[bench] $*" >&2; }

while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --only) only=${2:?}; shift ;;
    --only=*) only=${1#*=} ;;
    --images) images_dir=${2:?}; shift ;;
    --images=*) images_dir=${1#*=} ;;
    --work) work=${2:?}; shift ;;
    --work=*) work=${1#*=} ;;
    --results) results=${2:?}; shift ;;
    --results=*) results=${1#*=} ;;
    --variant) variants+=("${2:?}"); shift ;;
    --variant=*) variants+=("${1#*=}") ;;
    --ffmpeg) ffmpeg_mode=${2:?}; shift ;;
    --ffmpeg=*) ffmpeg_mode=${1#*=} ;;
    --ffmpeg-w2) ffmpeg_w2=${2:?}; shift ;;
    --ffmpeg-w2=*) ffmpeg_w2=${1#*=} ;;
    --mem-cap) mem_cap_gb=${2:?}; shift ;;
    --mem-cap=*) mem_cap_gb=${1#*=} ;;
    --timeout) timeout_s=${2:?}; shift ;;
    --timeout=*) timeout_s=${1#*=} ;;
    --ffmpeg-timeout) ffmpeg_timeout_s=${2:?}; shift ;;
    --ffmpeg-timeout=*) ffmpeg_timeout_s=${1#*=} ;;
    --jobs) jobs=${2:?}; shift ;;
    --jobs=*) jobs=${1#*=} ;;
    --reps) reps=${2:?}; shift ;;
    --reps=*) reps=${1#*=} ;;
    --no-install) install=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
case $ffmpeg_mode in once|loop|both|none) ;; *) die "--ffmpeg: once, loop, both or none" ;; esac
case $ffmpeg_w2 in auto|run|skip) ;; *) die "--ffmpeg-w2: auto, run or skip" ;; esac
[ ${#variants[@]} -gt 0 ] || variants=("gridvid=")

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
jobs=${jobs:-$cores}
work=${work:-${GV_BENCH_WORK:-$bench_dir/work}}
mkdir -p "$work" || die "cannot create $work"
work=$(cd "$work" && pwd)
stamp=$(date +%Y%m%d-%H%M%S)
results=${results:-$work/results-$stamp.txt}
run_dir=$work/runs/$stamp
mkdir -p "$run_dir" "$(dirname "$results")" || die "cannot create $run_dir"

# have, now, find_gnu_time, timer, measure_best ..., shared with clips.sh;
# GV_BENCH_WITHOUT="time python3 ..." (see lib.sh) makes have act as if
# those tools were missing, to try the fallbacks of a bare machine
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$bench_dir/lib.sh"

# ---------------------------------------------------------------- preflight
find_gnu_time
missing_pkgs=()
[ -n "$gnu_time" ] || missing_pkgs+=(time)
have ffmpeg || missing_pkgs+=(ffmpeg)
{ have vipsthumbnail && have vips; } || missing_pkgs+=(libvips-tools)
if [ ${#missing_pkgs[@]} -gt 0 ] && [ "$install" = 1 ] && [ "$(id -u)" = 0 ] && have apt-get; then
  say "installing ${missing_pkgs[*]} with apt-get (failure is ignored)"
  to=""; have timeout && to="timeout 300"
  export DEBIAN_FRONTEND=noninteractive
  $to apt-get install -y -q --no-install-recommends "${missing_pkgs[@]}" >"$run_dir/apt.log" 2>&1 ||
    { $to apt-get update -q >>"$run_dir/apt.log" 2>&1 &&
      $to apt-get install -y -q --no-install-recommends "${missing_pkgs[@]}" >>"$run_dir/apt.log" 2>&1; } ||
    say "apt-get failed (see $run_dir/apt.log); going on without ${missing_pkgs[*]}"
  find_gnu_time
fi
has_ffmpeg=0; have ffmpeg && has_ffmpeg=1
has_vipsthumbnail=0; have vipsthumbnail && has_vipsthumbnail=1
has_vips=0; have vips && has_vips=1

gridvid=${GRIDVID:-}
if [ -z "$gridvid" ]; then
  if [ -x "$root/build/gridvid" ]; then gridvid=$root/build/gridvid
  elif have gridvid; then gridvid=$(command -v gridvid)
  fi
fi
[ -n "$gridvid" ] && [ -x "$gridvid" ] || die "no gridvid binary: build it (meson setup build && ninja -C build) or set GRIDVID"
gridvid=$(cd "$(dirname "$gridvid")" && pwd)/$(basename "$gridvid")

# Helpers: from GV_BENCH_HELPERS, the build folder beside gridvid, this
# checkout's build, or compiled here into WORK/bin.
find_helper() {
  local name=$1 d dirs=("${GV_BENCH_HELPERS:-}" "$(dirname "$gridvid")/bench" "$root/build/bench" "$work/bin")
  # one at least as new as its source
  for d in "${dirs[@]}"; do
    [ -n "$d" ] && [ -x "$d/$name" ] && [ ! "$bench_dir/$name.c" -nt "$d/$name" ] && { echo "$d/$name"; return 0; }
  done
  if have cc && have pkg-config; then
    local pkgs=vips
    [ "$name" = encode_floor ] && pkgs="libavformat libavcodec libavutil"
    mkdir -p "$work/bin"
    # shellcheck disable=SC2046,SC2086
    cc -std=c11 -O2 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE "$bench_dir/$name.c" -o "$work/bin/$name" \
       $(pkg-config --cflags --libs $pkgs 2>/dev/null) >>"$run_dir/helpers.log" 2>&1 &&
      { echo "$work/bin/$name"; return 0; }
  fi
  # else any (copied trees can make sources look newer than what was built from them)
  for d in "${dirs[@]}"; do
    [ -n "$d" ] && [ -x "$d/$name" ] && { echo "$d/$name"; return 0; }
  done
  return 1
}
gen_photos=$(find_helper gen_photos) || gen_photos=""
encode_floor=$(find_helper encode_floor) || encode_floor=""
tile_floor=$(find_helper tile_floor) || tile_floor=""

mem_avail_kb=$(awk '/^MemAvailable:/{print $2}' /proc/meminfo 2>/dev/null)
mem_avail_kb=${mem_avail_kb:-0}
if [ -n "$mem_cap_gb" ]; then
  mem_cap_kb=$(awk -v g="$mem_cap_gb" 'BEGIN{printf "%d", g * 1048576}')
else
  mem_cap_kb=$((mem_avail_kb * 9 / 10))
fi

ffmpeg_major=0
[ $has_ffmpeg = 1 ] && ffmpeg_major=$(ffmpeg -hide_banner -version 2>/dev/null | sed -n '1s/^ffmpeg version [^0-9]*\([0-9]*\).*/\1/p')
ffmpeg_major=${ffmpeg_major:-0}

# ---------------------------------------------------------------- workloads
# name photos size fps seconds motion-blur
if [ "$quick" = 1 ]; then
  workloads=("W1 24 1920x1080 30 2 1" "W2 120 1920x1080 30 2 1" "W3 24 3840x2160 60 1 8")
else
  workloads=("W1 200 1920x1080 30 10 1" "W2 1000 1920x1080 30 10 1" "W3 200 3840x2160 60 10 8")
fi
tile=360   # the default IMAGE_HEIGHT and 1:1 aspect: tiles of 360x360
selected=()
for w in "${workloads[@]}"; do
  n=${w%% *}
  [[ ",$only," == *",$n,"* ]] && selected+=("$w")
done
[ ${#selected[@]} -gt 0 ] || die "--only $only names no workload (W1, W2, W3)"

# ---------------------------------------------------------------- results
{
  echo "gridvid benchmark, $(date '+%Y-%m-%d %H:%M:%S %z')"
  echo "command: $invocation"
  echo "machine: $(uname -srm), $cores cores, $(awk '/^model name/{sub(/.*: /,"");print;exit}' /proc/cpuinfo 2>/dev/null)"
  echo "memory: $(awk '/^MemTotal:/{printf "%.1f GiB total", $2/1048576}' /proc/meminfo 2>/dev/null), $((mem_avail_kb / 1024)) MiB available at start"
  have nvidia-smi && echo "gpu: $(nvidia-smi -L 2>/dev/null | head -3 | tr '\n' ' ')"
  echo "gridvid: $gridvid ($("$gridvid" --version 2>&1 | head -1))"
  (cd "$root" && git rev-parse --short HEAD 2>/dev/null | sed 's/^/checkout: /' && git status --porcelain 2>/dev/null | grep -q . && echo "checkout has uncommitted changes") || true
  echo "ffmpeg: $([ $has_ffmpeg = 1 ] && ffmpeg -hide_banner -version | head -1 || echo missing)"
  echo "vipsthumbnail: $([ $has_vipsthumbnail = 1 ] && vips --version 2>/dev/null || echo missing)"
  echo "timing: $(timer_kind)"
  echo "helpers: gen_photos=${gen_photos:-none} encode_floor=${encode_floor:-none} tile_floor=${tile_floor:-none}"
  echo "gridvid extra args: ${GRIDVID_ARGS:-none}; variants: ${variants[*]}"
  echo "ffmpeg memory cap: $((mem_cap_kb / 1024)) MiB; raw logs: $run_dir"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) (other work on the machine slows every row)"
  echo
  echo "Rows: gridvid: the tool, with --progress json (its first line with a frame"
  echo "done gives the time to first frame, to 0.25 s). encode floor: gridvid's"
  echo "frames, decoded into a file beforehand, encoded by libx264 with gridvid's"
  echo "settings (bench/encode_floor.c). tile floor: vipsthumbnail --size 360x360"
  echo "--smartcrop centre over the same photos, one process per core (xargs -P),"
  echo "VIPS_CONCURRENCY=1 each; its peak memory is one process's. ffmpeg: one"
  echo "input per photo, decoded once (-framerate FPS -i IMG), crop to a square,"
  echo "scale to 360 (lanczos), hstack per row, the strip doubled so the window"
  echo "wraps, repeated with loop, crop x='mod(t*P/DUR,P)', vstack, libx264 crf"
  echo "23 preset faster. ffmpeg -loop 1: the same with '-loop 1 -framerate FPS"
  echo "-t DUR -i IMG' inputs, which decode every photo again for every frame."
  echo
} >"$results"
log() { echo "$*" >>"$results"; }
rows=$run_dir/rows.tsv
: >"$rows"
# row WORKLOAD WHAT WALL USER SYS RSS_KB RC NOTE
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; }

# ---------------------------------------------------------------- measuring
write_measure_py

# Kills the measured command when it runs past LIMIT s or its resident memory
# passes CAP_KB (0: no cap), and records the highest resident memory seen.
watchdog() {
  local pidf=$1 limit=$2 cap_kb=$3 killf=$4 t0 pid="" rss peak=0 i
  t0=$(now)
  for i in $(seq 1 100); do [ -s "$pidf" ] && break; sleep 0.05; done
  pid=$(cat "$pidf" 2>/dev/null)
  [ -n "$pid" ] || return 0
  while [ -d /proc/"$pid" ]; do
    rss=$(awk '/^VmRSS:/{print $2}' /proc/"$pid"/status 2>/dev/null)
    rss=${rss:-0}
    [ "$rss" -gt "$peak" ] && peak=$rss
    if [ "$cap_kb" -gt 0 ] && [ "$rss" -gt "$cap_kb" ]; then
      echo "killed: resident memory passed the cap of $((cap_kb / 1024)) MiB" >"$killf"
      kill -KILL "$pid" 2>/dev/null; break
    fi
    if [ "$limit" -gt 0 ] && awk -v a="$t0" -v b="$(now)" -v l="$limit" 'BEGIN{exit !(b - a > l)}'; then
      echo "killed: still running after ${limit} s" >"$killf"
      kill -KILL "$pid" 2>/dev/null; break
    fi
    sleep 0.5
  done
  echo "$peak" >"$killf.peak"
}

# measure NAME LIMIT_S CAP_KB STAMP CMD...
# Runs CMD measured; stdout to RUN/NAME.out (each line prefixed by the seconds
# since launch when STAMP is 1), stderr to RUN/NAME.err. Sets M_WALL M_USER
# M_SYS M_RSS (KiB) M_RC M_NOTE.
measure() {
  local name=$1 limit=$2 cap_kb=$3 stampit=$4; shift 4
  local tf=$run_dir/$name.time pidf=$run_dir/$name.pid killf=$run_dir/$name.killed
  rm -f "$tf" "$pidf" "$killf" "$killf.peak"
  local load0; load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
  local t0; t0=$(now)
  if [ "$stampit" = 1 ]; then
    ( timer "$tf" bash -c 'echo $$ >"$0"; ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"' "$pidf" "$@" |
        while IFS= read -r line; do
          printf '%s %s\n' "$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.3f", b - a}')" "$line"
        done >"$run_dir/$name.out" ) 2>"$run_dir/$name.err" &
  else
    ( timer "$tf" bash -c 'echo $$ >"$0"; ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"' "$pidf" "$@" \
        >"$run_dir/$name.out" ) 2>"$run_dir/$name.err" &
  fi
  local mpid=$!
  watchdog "$pidf" "$limit" "$cap_kb" "$killf" &
  local wpid=$!
  wait "$mpid"
  local wrc=$?
  wait "$wpid" 2>/dev/null
  local line sig
  line=$(grep -E '^[0-9.]+ [0-9.?]+ [0-9.?]+ [0-9?]+ -?[0-9]+$' "$tf" 2>/dev/null | tail -1)
  read -r M_WALL M_USER M_SYS M_RSS M_RC <<<"${line:-? ? ? ? $wrc}"
  # GNU time gives status 0 for a command killed by a signal
  sig=$(sed -n 's/^Command terminated by signal \([0-9]*\).*/\1/p' "$tf" 2>/dev/null)
  [ -n "$sig" ] && M_RC=$((128 + sig))
  M_NOTE=""
  [ -s "$killf" ] && M_NOTE=$(cat "$killf")
  [ "$M_RC" != 0 ] && [ -z "$M_NOTE" ] && M_NOTE="failed (exit $M_RC): $(grep -v '^\s*$' "$run_dir/$name.err" | tail -1 | cut -c1-120)"
  local cmd="$*"
  [ ${#cmd} -gt 600 ] && cmd="${cmd:0:600} ... ($# arguments in all)"
  {
    echo "--- $name: $cmd"
    echo "    load average before: $load0"
    echo "    wall ${M_WALL} s, user ${M_USER} s, sys ${M_SYS} s, peak RSS ${M_RSS} KiB, exit ${M_RC}${M_NOTE:+; $M_NOTE}"
    [ "$cap_kb" -gt 0 ] && [ -s "$killf.peak" ] && echo "    highest RSS sampled every 0.5 s: $(cat "$killf.peak") KiB"
    if [ -s "$run_dir/$name.err" ]; then echo "    stderr (last lines):"; tail -5 "$run_dir/$name.err" | cut -c1-300 | sed 's/^/      /'; fi
  } >>"$results"
  rm -f "$pidf"
}

# ---------------------------------------------------------------- photos
max_n=0
for w in "${selected[@]}"; do read -r _ n _ <<<"$w"; [ "$n" -gt "$max_n" ] && max_n=$n; done

pool=()
if [ -n "$images_dir" ]; then
  [ -d "$images_dir" ] || die "--images $images_dir: not a folder"
  images_dir=$(cd "$images_dir" && pwd)
  while IFS= read -r f; do pool+=("$f"); done < <(
    find "$images_dir" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \
      -o -iname '*.webp' -o -iname '*.tif' -o -iname '*.tiff' -o -iname '*.heic' -o -iname '*.avif' \) |
      LC_ALL=C sort -V)
  [ ${#pool[@]} -gt 0 ] || die "--images $images_dir: no images in it"
  pool_name=$(echo "$images_dir" | cksum | cut -d' ' -f1)
  log "photos: ${#pool[@]} from $images_dir"
else
  # generated: 4000x3000, quality 90; the folder name says how they were made
  photos=$work/photos-4000x3000-q90-v1
  [ -z "$gen_photos" ] && photos=$work/photos-4000x3000-q90-vipscli-v1
  mkdir -p "$photos"
  have_n=$(find "$photos" -maxdepth 1 -name 'img*.jpg' | wc -l)
  if [ "$have_n" -lt "$max_n" ]; then
    say "generating $((max_n - have_n)) photos of 4000x3000 in $photos ($jobs at a time; kept for later runs)"
    t0=$(now)
    if [ -n "$gen_photos" ]; then
      for ((j = 0; j < jobs; j++)); do
        VIPS_CONCURRENCY=1 "$gen_photos" "$photos" "$max_n" --jobs "$jobs" --job "$j" &
      done
      wait
    elif [ $has_vips = 1 ]; then
      # the same kind of picture with the vips command: soft colour structure
      # made small and enlarged, luminance texture and grain, quality 90 4:2:0
      gen_one() {
        local i=$1 out=$2 t
        t=$(mktemp -d)
        local s=$((i * 7919))
        vips perlin "$t/r.v" 500 375 --cell-size 64 --seed $((s + 1)) &&
          vips perlin "$t/g.v" 500 375 --cell-size 48 --seed $((s + 2)) &&
          vips perlin "$t/b.v" 500 375 --cell-size 80 --seed $((s + 3)) &&
          vips bandjoin "$t/r.v $t/g.v $t/b.v" "$t/c.v" &&
          vips linear "$t/c.v" "$t/l.v" "$((60 + i % 50)) $((70 + i % 37)) $((55 + i % 41))" \
            "$((80 + i * 37 % 100)) $((80 + i * 53 % 100)) $((80 + i * 71 % 100))" --uchar &&
          vips zoom "$t/l.v" "$t/z.v" 8 8 &&
          vips gaussblur "$t/z.v" "$t/s.v" 4 --precision integer &&
          vips perlin "$t/n.v" 4000 3000 --cell-size 2 --seed $((s + 4)) &&
          vips linear "$t/n.v" "$t/m.v" 28 0 &&
          vips add "$t/s.v" "$t/m.v" "$t/a.v" &&
          vips cast "$t/a.v" "$t/u.v" uchar &&
          vips jpegsave "$t/u.v" "$t/o.jpg" --Q 90 --subsample-mode on --strip &&
          mv "$t/o.jpg" "$out"
        rm -rf "$t"
      }
      export -f gen_one
      for ((i = 1; i <= max_n; i++)); do
        f=$(printf '%s/img%04d.jpg' "$photos" "$i")
        [ -s "$f" ] || printf '%s %s\n' "$i" "$f"
      done | VIPS_CONCURRENCY=1 xargs -P "$jobs" -L 1 bash -c 'gen_one "$0" "$1"'
    else
      die "cannot make test photos: no gen_photos helper (build with subdir('bench') or install cc, pkg-config, libvips-dev) and no vips command; or give --images DIR"
    fi
    log "generated $((max_n - have_n)) photos in $(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.0f", b - a}') s with ${gen_photos:-the vips command}"
  fi
  for ((i = 1; i <= max_n; i++)); do pool+=("$(printf '%s/img%04d.jpg' "$photos" "$i")"); done
  for f in "${pool[@]}"; do [ -s "$f" ] || die "photo $f was not made (see the messages above)"; done
  pool_name=$(basename "$photos")
  log "photos: $photos ($(du -sh "$photos" 2>/dev/null | cut -f1) for $(find "$photos" -maxdepth 1 -name 'img*.jpg' | wc -l) files)"
fi
log

# A folder holding the first N photos (links), so that gridvid is given a folder.
set_dir() {
  local n=$1 d=$work/sets/$pool_name-$1 f i=0
  if [ ! -f "$d/.complete" ]; then
    rm -rf "$d"; mkdir -p "$d"
    for f in "${pool[@]:0:$n}"; do
      ln "$f" "$d/" 2>/dev/null || ln -s "$f" "$d/" || cp "$f" "$d/"
      i=$((i + 1))
    done
    touch "$d/.complete"
  fi
  echo "$d"
}

# ---------------------------------------------------------------- ffmpeg
# Writes the filter graph and input arguments of the expert ffmpeg line.
# ffmpeg_line MODE SETDIR W H FPS SECONDS OUT SCRIPT -> FF_ARGS
ffmpeg_line() {
  local mode=$1 dir=$2 W=$3 H=$4 fps=$5 secs=$6 out=$7 script=$8
  local files=("$dir"/*) frames rows n k r
  frames=$(awk -v f="$fps" -v d="$secs" 'BEGIN{printf "%d", f * d + 0.5}')
  n=${#files[@]}
  rows=$(((H + tile - 1) / tile))
  FF_ARGS=(-nostdin -hide_banner -v error -y)
  for f in "${files[@]}"; do
    if [ "$mode" = loop ]; then FF_ARGS+=(-loop 1 -framerate "$fps" -t "$secs" -i "$f")
    else FF_ARGS+=(-framerate "$fps" -i "$f"); fi
  done
  {
    for ((k = 0; k < n; k++)); do
      echo "[$k:v]crop=w='min(iw,ih)':h='min(iw,ih)',scale=$tile:$tile:flags=lanczos,format=yuv420p[t$k];"
    done
    local stack=""
    for ((r = 0; r < rows; r++)); do
      local ins="" m=0 period copies c cat=""
      for ((k = r; k < n; k += rows)); do ins+="[t$k]"; m=$((m + 1)); done
      period=$((m * tile))
      copies=$((1 + (W + period - 1) / period))
      if [ "$m" -ge 2 ]; then echo "${ins}hstack=inputs=${m}[s$r];"; else echo "${ins}null[s$r];"; fi
      printf '[s%d]split=%d' "$r" "$copies"
      for ((c = 0; c < copies; c++)); do printf '[s%d_%d]' "$r" "$c"; cat+="[s${r}_$c]"; done
      echo ";"
      printf '%shstack=inputs=%d' "$cat" "$copies"
      # once: one frame per strip, repeated; loop: the inputs give every frame
      [ "$mode" = once ] && printf ',loop=loop=%d:size=1:start=0' "$((frames - 1))"
      echo ",crop=w=$W:h=$tile:x='mod(t*$period/$secs,$period)':y=0[r$r];"
      stack+="[r$r]"
    done
    local y0=$(((H - rows * tile) / 2))
    if [ "$rows" -ge 2 ]; then printf '%svstack=inputs=%d' "$stack" "$rows"; else printf '%snull' "$stack"; fi
    [ "$y0" -ne 0 ] && printf ',crop=w=%d:h=%d:x=0:y=%d' "$W" "$H" "$((-y0))"
    echo "[v]"
  } >"$script"
  if [ "$ffmpeg_major" -ge 7 ]; then FF_ARGS+=(-/filter_complex "$script")
  else FF_ARGS+=(-filter_complex_script "$script"); fi
  FF_ARGS+=(-map '[v]' -frames:v "$frames" -c:v libx264 -crf 23 -preset faster -profile:v high
            -pix_fmt yuv420p -movflags +faststart -progress "${out%.mp4}.progress" "$out")
}

# ---------------------------------------------------------------- run
ffmpeg_kb_per_image=""   # measured on W1, to estimate W2
for w in "${selected[@]}"; do
  read -r wl n size fps secs blur <<<"$w"
  W=${size%x*}; H=${size#*x}
  frames=$(awk -v f="$fps" -v d="$secs" 'BEGIN{printf "%d", f * d + 0.5}')
  dir=$(set_dir "$n")
  files=("$dir"/*)
  n_have=${#files[@]}
  out=$run_dir/$wl
  desc="$wl: $n_have photos -> ${W}x${H} ${fps} fps, ${secs} s ($frames frames)$([ "$blur" -gt 1 ] && echo ", motion blur $blur")"
  [ "$n_have" -lt "$n" ] && desc+=" (only $n_have photos available of $n)"
  say "$desc"
  log "=== $desc"
  log "photos: $dir"
  cat "${files[@]}" >/dev/null   # the same warm page cache for every contender

  # gridvid, once per variant
  first_video=""
  for v in "${variants[@]}"; do
    label=${v%%=*}; vargs=${v#*=}
    name="$wl-gridvid"; [ ${#variants[@]} -gt 1 ] && name="$wl-gridvid-$label"
    what="gridvid"; [ ${#variants[@]} -gt 1 ] && what="gridvid $label"
    gv_args=("$dir" -o "$out-$label.mp4" --size "${W}x${H}" --fps "$fps" --duration "$secs" --progress json)
    [ "$blur" -gt 1 ] && gv_args+=(--motion-blur "$blur")
    # a variant whose arguments start with @python renders through the
    # Python package (bench/gridvid_py.py) instead of the command line
    gv_cmd=("$gridvid")
    if [[ $vargs == @python* ]]; then
      vargs=${vargs#@python}
      gv_cmd=(env GV_PYTHON_DIR="$(dirname "$gridvid")/python" python3 "$bench_dir/gridvid_py.py")
    fi
    # shellcheck disable=SC2206
    gv_args+=(${GRIDVID_ARGS:-} $vargs)
    say "  $what"
    measure_best "$name" "$timeout_s" 0 1 "${gv_cmd[@]}" "${gv_args[@]}"
    note=$M_NOTE
    name=$M_NAME
    # time to first frame: the first progress line with frame >= 1 (lines come
    # every 0.25 s at most, so this is an upper bound), since launch
    ttff=$(grep -m1 -E '"frame":[1-9]' "$run_dir/$name.out" | cut -d' ' -f1)
    ttff_in=$(grep -m1 -E '"frame":[1-9]' "$run_dir/$name.out" | sed -nE 's/.*"elapsed":([0-9.]+).*/\1/p')
    done_line=$(grep '"phase":"done"' "$run_dir/$name.out" | tail -1 | cut -d' ' -f2-)
    [ -n "$ttff" ] && note="first frame by ${ttff} s${note:+; $note}"
    [ -n "$done_line" ] && log "    gridvid says: $done_line"
    [ -n "$ttff" ] && log "    first progress line with a frame done: ${ttff} s after launch (gridvid's own clock: ${ttff_in} s)"
    row "$wl" "$what" "$M_WALL" "$M_USER" "$M_SYS" "$M_RSS" "$M_RC" "$note"
    [ "$M_RC" = 0 ] && [ -z "$first_video" ] && [ -s "$out-$label.mp4" ] && first_video=$out-$label.mp4
  done

  # encode floor: gridvid's frames, decoded to a file first (not timed)
  raw=$work/tmp/raw-$wl.yuv
  mkdir -p "$work/tmp"
  need_kb=$(( W * H * 3 / 2 * frames / 1024 ))
  free_kb=$(df -Pk "$work/tmp" | awk 'NR==2{print $4}')
  if [ -z "$first_video" ]; then
    row "$wl" "encode floor" - - - - - "skipped: needs gridvid's video"
  elif [ "${free_kb:-0}" -lt $((need_kb + 1048576)) ]; then
    row "$wl" "encode floor" - - - - - "skipped: raw frames need $((need_kb / 1048576 + 1)) GB of disk in $work/tmp"
  elif [ -n "$encode_floor" ]; then
    say "  encode floor"
    if info=$("$encode_floor" decode "$first_video" "$raw" 2>"$run_dir/$wl-decode.err"); then
      read -r vw vh vfps vframes <<<"$info"
      [ "$vframes" != "$frames" ] && log "    note: gridvid's video has $vframes frames, $frames expected"
      measure_best "$wl-encode-floor" "$timeout_s" 0 0 "$encode_floor" encode "$raw" "$vw" "$vh" "$vfps" "$out-encode-floor.mp4"
      row "$wl" "encode floor" "$M_WALL" "$M_USER" "$M_SYS" "$M_RSS" "$M_RC" "$M_NOTE"
    else
      row "$wl" "encode floor" - - - - - "failed: decoding gridvid's video: $(tail -1 "$run_dir/$wl-decode.err")"
    fi
  elif [ $has_ffmpeg = 1 ]; then
    say "  encode floor (ffmpeg)"
    if ffmpeg -nostdin -v error -y -i "$first_video" -f rawvideo -pix_fmt yuv420p "$raw" 2>"$run_dir/$wl-decode.err"; then
      measure_best "$wl-encode-floor" "$timeout_s" 0 0 ffmpeg -nostdin -v error -y -f rawvideo -pix_fmt yuv420p \
        -s "${W}x${H}" -framerate "$fps" -i "$raw" -c:v libx264 -crf 23 -preset faster -profile:v high \
        -color_primaries bt709 -color_trc bt709 -colorspace bt709 -movflags +faststart "$out-encode-floor.mp4"
      row "$wl" "encode floor" "$M_WALL" "$M_USER" "$M_SYS" "$M_RSS" "$M_RC" "ffmpeg from a raw file${M_NOTE:+; $M_NOTE}"
    else
      row "$wl" "encode floor" - - - - - "failed: decoding gridvid's video with ffmpeg"
    fi
  else
    row "$wl" "encode floor" - - - - - "skipped: no encode_floor helper and no ffmpeg"
  fi
  [ "$keep" = 1 ] || rm -f "$raw"

  # tile floor: the same tiles with vipsthumbnail, one process per core, each
  # with one libvips thread (processes, not threads, share out the images)
  tiles=$work/tmp/tiles-$wl
  rm -rf "$tiles"; mkdir -p "$tiles"
  per=$(( (n_have + jobs * 4 - 1) / (jobs * 4) ))
  if [ $has_vipsthumbnail = 1 ] || [ -n "$tile_floor" ]; then
    if [ $has_vipsthumbnail = 1 ]; then
      tf_cmd="vipsthumbnail --size ${tile}x${tile} --smartcrop centre -o '$tiles/%s.v'"
      tf_what="tile floor"
    else
      tf_cmd="'$tile_floor' $tile $tile '$tiles'"
      tf_what="tile floor"
      tf_note="bench/tile_floor (vips_thumbnail, as vipsthumbnail)"
    fi
    say "  tile floor"
    measure_best "$wl-tile-floor" "$timeout_s" 0 0 env VIPS_CONCURRENCY=1 bash -c \
      "printf '%s\\0' \"\$@\" | xargs -0 -n $per -P $jobs $tf_cmd" _ "${files[@]}"
    made=$(find "$tiles" -name '*.v' | wc -l)
    note=${tf_note:-}
    [ "$made" -ne "$n_have" ] && note+="${note:+; }only $made of $n_have tiles made"
    note+="${note:+; }peak memory of one of $jobs processes${M_NOTE:+; $M_NOTE}"
    row "$wl" "$tf_what" "$M_WALL" "$M_USER" "$M_SYS" "$M_RSS" "$M_RC" "$note"
  else
    row "$wl" "tile floor" - - - - - "skipped: no vipsthumbnail and no tile_floor helper"
  fi
  rm -rf "$tiles"

  # ffmpeg, the expert command line
  modes=()
  case $ffmpeg_mode in once) modes=(once) ;; loop) modes=(loop) ;; both) modes=(once loop) ;; esac
  for mode in "${modes[@]}"; do
    what="ffmpeg"; [ "$mode" = loop ] && what="ffmpeg -loop 1"
    if [ $has_ffmpeg = 0 ]; then row "$wl" "$what" - - - - - "skipped: no ffmpeg here"; continue; fi
    if [ "$blur" -gt 1 ]; then
      row "$wl" "$what" - - - - - "skipped: motion blur would need tmix over ${blur}x the frames; no plain line does it"
      continue
    fi
    if [ "$wl" = W2 ] && [ "$ffmpeg_w2" != run ]; then
      per_img=${ffmpeg_kb_per_image:-25000}
      est_kb=$((per_img * n_have))
      if [ "$ffmpeg_w2" = skip ] || [ "$est_kb" -gt "$mem_cap_kb" ]; then
        how="from W1 in this run"; [ -z "$ffmpeg_kb_per_image" ] && how="at about 25 MB a photo, as measured on W1 on a 2-core machine"
        row "$wl" "$what" - - - - - "skipped: needs about $((est_kb / 1048576 + 1)) GB ($how), cap $((mem_cap_kb / 1048576)) GB"
        continue
      fi
    fi
    say "  $what"
    ffmpeg_line "$mode" "$dir" "$W" "$H" "$fps" "$secs" "$out-ffmpeg-$mode.mp4" "$run_dir/$wl-ffmpeg-$mode.filter"
    measure_best "$wl-ffmpeg-$mode" "$ffmpeg_timeout_s" "$mem_cap_kb" 0 ffmpeg "${FF_ARGS[@]}"
    note=$M_NOTE
    if [ "$M_RC" != 0 ]; then
      got=$(grep '^frame=' "$out-ffmpeg-$mode.progress" 2>/dev/null | tail -1 | cut -d= -f2)
      [ -n "$got" ] && note+=" after $got of $frames frames"
      [ -n "$got" ] && [ "$got" -gt 0 ] && [ "$M_WALL" != "?" ] &&
        note+=" (all frames at that rate: about $(awk -v w="$M_WALL" -v g="$got" -v f="$frames" 'BEGIN{printf "%.0f", w * f / g}') s)"
    fi
    log "    filter graph: $run_dir/$wl-ffmpeg-$mode.filter ($(wc -c <"$run_dir/$wl-ffmpeg-$mode.filter") bytes); command: ffmpeg ${FF_ARGS[*]:0:12} ... (${#files[@]} inputs)"
    row "$wl" "$what" "$M_WALL" "$M_USER" "$M_SYS" "$M_RSS" "$M_RC" "$note"
    if [ "$wl" = W1 ] && [ "$mode" = once ] && [ "$M_RC" = 0 ] && [ "$M_RSS" != "?" ]; then
      ffmpeg_kb_per_image=$((M_RSS / n_have))
    fi
  done
  # a frame of each video at a third of its length, to look at
  if [ $has_ffmpeg = 1 ]; then
    for v in "$out"-*.mp4; do
      ffmpeg -nostdin -v error -y -ss "$(awk -v d="$secs" 'BEGIN{print d / 3}')" -i "$v" -frames:v 1 "${v%.mp4}.png" 2>/dev/null
    done
  fi
  log
done

# ---------------------------------------------------------------- report
report() {
  awk -F'\t' '
    function num(x) { return x ~ /^[0-9.]+$/ }
    function cpu(u, s) { return (num(u) && num(s)) ? sprintf("%.1f", u + s) : "-" }
    function mb(k) { return num(k) ? sprintf("%.0f", k / 1024) : "-" }
    {
      wl = $1; what = $2
      if (!(wl in seen)) { seen[wl] = 1; order[++nw] = wl }
      i = ++nrow[wl]; W[wl, i] = what; wall[wl, i] = $3; u[wl, i] = $4; s[wl, i] = $5
      rss[wl, i] = $6; rc[wl, i] = $7; note[wl, i] = $8
      if ($7 == "0") {
        ok[wl, what] = 1; Wt[wl, what] = $3; Rs[wl, what] = $6
        if (num($4) && num($5)) C[wl, what] = $4 + $5
      }
      if (what ~ /^gridvid/) isgv[what] = 1
    }
    END {
      for (j = 1; j <= nw; j++) {
        wl = order[j]
        printf "%s\n  %-16s %8s %8s %9s  %s\n", wl, "", "wall s", "cpu s", "peak MB", "notes"
        for (i = 1; i <= nrow[wl]; i++)
          printf "  %-16s %8s %8s %9s  %s\n", W[wl, i], (rc[wl, i] == "0" ? wall[wl, i] : "-"),
                 (rc[wl, i] == "0" ? cpu(u[wl, i], s[wl, i]) : "-"), (rc[wl, i] == "0" ? mb(rss[wl, i]) : "-"), note[wl, i]
        floors = ok[wl, "encode floor"] && ok[wl, "tile floor"]
        if (floors) printf "  %-16s %8.2f  (encode floor + tile floor)\n", "floors", Wt[wl, "encode floor"] + Wt[wl, "tile floor"]
        for (g in isgv) {
          if (!ok[wl, g]) continue
          tag = (g == "gridvid") ? "" : " [" substr(g, 9) "]"
          if (floors) {
            printf "  ratio%s: gridvid / (encode + tile floor) wall = %.2f (target <= 1.1 on 1080p)\n", tag,
                   Wt[wl, g] / (Wt[wl, "encode floor"] + Wt[wl, "tile floor"])
            if (C[wl, g] != "" && C[wl, "encode floor"] != "" && C[wl, "tile floor"] != "" &&
                C[wl, "encode floor"] + C[wl, "tile floor"] > 0)
              printf "  ratio%s: gridvid / (encode + tile floor) cpu  = %.2f (less hurt by other work on the machine)\n", tag,
                     C[wl, g] / (C[wl, "encode floor"] + C[wl, "tile floor"])
          }
          if (ok[wl, "ffmpeg"]) {
            printf "  ratio%s: ffmpeg / gridvid wall = %.1f (target >= 3 on 2 cores, >= 10 on 16)\n", tag, Wt[wl, "ffmpeg"] / Wt[wl, g]
            if (C[wl, g] != "" && C[wl, "ffmpeg"] != "")
              printf "  ratio%s: ffmpeg / gridvid cpu  = %.1f\n", tag, C[wl, "ffmpeg"] / C[wl, g]
          }
          if (ok[wl, "ffmpeg -loop 1"])
            printf "  ratio%s: ffmpeg -loop 1 / gridvid wall = %.1f\n", tag, Wt[wl, "ffmpeg -loop 1"] / Wt[wl, g]
          if (ok[wl, "encode floor"] && num(Rs[wl, g]) && num(Rs[wl, "encode floor"]))
            printf "  ratio%s: gridvid peak - encode floor peak = %+.0f MB (target <= 100)\n", tag,
                   (Rs[wl, g] - Rs[wl, "encode floor"]) / 1024
        }
      }
      for (g in isgv)
        if (ok["W1", g] && ok["W2", g] && num(Rs["W1", g]) && num(Rs["W2", g]))
          printf "W2 vs W1: %s peak memory grows by %+.0f MB (target < 20)\n", g, (Rs["W2", g] - Rs["W1", g]) / 1024
    }' "$rows"
}
{
  echo "=== rows (workload, what, wall s, user s, sys s, peak RSS KiB, exit, note)"
  cat "$rows"
  echo
  echo "=== summary"
  report
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) on $cores cores"
} >>"$results"
say "full results: $results"
echo
report
echo "($cores cores; load average now $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null); full results in $results)"
