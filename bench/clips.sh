#!/usr/bin/env bash
# gridvid's clip benchmark (the clip target): a wall of 24 clips (1080p
# H.264, 10 to 30 s each) and 100 photos into 1080p30 for 20 s. Runs, side
# by side,
#   photos only        gridvid on the 100 photos alone, same settings: what
#                      the clips' memory is measured against
#   clips wall         gridvid on the photos and the clips in one folder, the
#                      clips spread over the wall by name order
#   encode floor       the clips wall's frames encoded with gridvid's encoder
#                      settings, nothing else (bench/encode_floor.c)
#   clip floor         each clip decoded for the time its tile is shown and
#                      each picture shown scaled to the tile, by gridvid's own
#                      clip player, one clip per core at a time; no
#                      compositing, no encoding (bench/clip_floor.c). When
#                      each clip shows comes from gridvid --dry-run on the
#                      same folder.
# and prints wall time, CPU time and peak memory of each, and the target's
# ratios: clips wall / (encode floor + clip floor) (target <= 1.2) and
# clips wall peak - photos only peak (target <= 150 MB). The photos' own
# decoding is in the clips wall but in neither floor; "clip share" (clips
# wall - photos only, beside the clip floor) shows what the clips alone add.
#
# Usage: bench/clips.sh [OPTIONS]    (from any directory)
#   --quick              4 clips of 2 to 4 s at 640x360 and 10 photos into
#                        4 s of 1080p30, to try it out
#   --work DIR           work folder (default bench/work/clips, git-ignored):
#                        generated clips and photos (kept across runs),
#                        outputs, results
#   --images DIR         use the photos in DIR (natural order, the first 100)
#                        instead of generated ones
#   --results FILE       where the full results go (default WORK/results-DATE.txt)
#   --variant LABEL=ARGS a photos-only and a clips-wall row with these extra
#                        gridvid arguments, e.g. --variant cpu='--gpu-decode false';
#                        repeatable; default one pair 'gridvid'. Each variant
#                        has its clip floor, from its own plan; the encode
#                        floor is measured once, on the first clips wall's
#                        video.
#   --floor-args ARGS    extra arguments for clip_floor, e.g. '--no-hwaccel'
#                        (it tries a hardware decoder first, as gridvid's
#                        GPU_DECODE=auto does)
#   --jobs N             clips and photos made at a time (default: one per core)
#   --reps N             measure each row N times and keep the fastest (default 1)
#   --timeout S          kill any measured command after S s (default 3600)
#   --no-install         never try apt-get (it is tried only as root, only for
#                        missing tools, and its failure is ignored)
#   --keep               keep the raw frame file of the encode floor
# Environment: GRIDVID (the binary; default BUILD/gridvid of this checkout, then
# gridvid on PATH), GRIDVID_ARGS (extra arguments for every gridvid row),
# GV_BENCH_HELPERS (folder holding gen_clips, gen_photos, encode_floor,
# clip_floor), CLIP_LOOP and CLIP_START (read by gridvid, and so by the clip
# floor), GV_BENCH_WITHOUT="time python3 ..." (act as if those tools were
# missing, to try the fallbacks of a bare machine).
#
# Needs bash, coreutils, gridvid and the helpers of bench/, built by meson
# into BUILD/bench/ (gen_clips, gen_photos and encode_floor are compiled here
# when missing; clip_floor links gridvid's internal library and is built only
# by meson); no ffmpeg or ffprobe tool. GNU time, else python3, measures;
# without either there is no peak memory. The clips are made by gen_clips
# (bench/gen_clips.c) through libavcodec's libx264, so they are the same on
# every machine with the same libraries: camera-like content (a panning,
# swaying texture with sub-pixel motion, a second layer and a block moving
# their own ways, a drifting gradient, temporal grain), preset veryfast, CRF
# 21 capped at 16 Mb/s, key frames every 2 s: about 6 Mb/s at 1080p30, so
# that they cost what camera footage costs to decode, not what flat test
# patterns do; one single-threaded encoder per core.
set -uo pipefail
shopt -s nullglob

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench_dir/.." && pwd)
invocation="$0 $*"

work=""
images_dir=""
quick=0
results=""
variants=()
floor_args=""
jobs=""
reps=1
timeout_s=3600
install=1
keep=0

die() { echo "clips.sh: $*" >&2; exit 2; }
say() { echo "[bench] $*" >&2; }

while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --work) work=${2:?}; shift ;;
    --work=*) work=${1#*=} ;;
    --images) images_dir=${2:?}; shift ;;
    --images=*) images_dir=${1#*=} ;;
    --results) results=${2:?}; shift ;;
    --results=*) results=${1#*=} ;;
    --variant) variants+=("${2:?}"); shift ;;
    --variant=*) variants+=("${1#*=}") ;;
    --floor-args) floor_args=${2?}; shift ;;
    --floor-args=*) floor_args=${1#*=} ;;
    --jobs) jobs=${2:?}; shift ;;
    --jobs=*) jobs=${1#*=} ;;
    --reps) reps=${2:?}; shift ;;
    --reps=*) reps=${1#*=} ;;
    --timeout) timeout_s=${2:?}; shift ;;
    --timeout=*) timeout_s=${1#*=} ;;
    --no-install) install=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[ ${#variants[@]} -gt 0 ] || variants=("gridvid=")

# the workload: photos clips clip-size clip-seconds(min max) output fps seconds
if [ "$quick" = 1 ]; then
  n_photos=10 n_clips=4 clip_w=640 clip_h=360 len_min=2 len_max=4 size=1920x1080 fps=30 secs=4
else
  n_photos=100 n_clips=24 clip_w=1920 clip_h=1080 len_min=10 len_max=30 size=1920x1080 fps=30 secs=20
fi
frames=$(awk -v f="$fps" -v d="$secs" 'BEGIN{printf "%d", f * d + 0.5}')

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
jobs=${jobs:-$cores}
work=${work:-${GV_BENCH_WORK:-$bench_dir/work/clips}}
mkdir -p "$work" || die "cannot create $work"
work=$(cd "$work" && pwd)
stamp=$(date +%Y%m%d-%H%M%S)
results=${results:-$work/results-$stamp.txt}
run_dir=$work/runs/$stamp
mkdir -p "$run_dir" "$(dirname "$results")" || die "cannot create $run_dir"

# have, now, find_gnu_time, timer, measure_best ..., shared with run.sh;
# GV_BENCH_WITHOUT="time python3 ..." (see lib.sh) makes have act as if
# those tools were missing, to try the fallbacks of a bare machine
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$bench_dir/lib.sh"

# ---------------------------------------------------------------- preflight
find_gnu_time
missing_pkgs=()
[ -n "$gnu_time" ] || missing_pkgs+=(time)
if [ ${#missing_pkgs[@]} -gt 0 ] && [ "$install" = 1 ] && [ "$(id -u)" = 0 ] && have apt-get; then
  say "installing ${missing_pkgs[*]} with apt-get (failure is ignored)"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get install -y -q --no-install-recommends "${missing_pkgs[@]}" >"$run_dir/apt.log" 2>&1 ||
    { timeout 300 apt-get update -q >>"$run_dir/apt.log" 2>&1 &&
      timeout 300 apt-get install -y -q --no-install-recommends "${missing_pkgs[@]}" >>"$run_dir/apt.log" 2>&1; } ||
    say "apt-get failed (see $run_dir/apt.log); going on without ${missing_pkgs[*]}"
  find_gnu_time
fi

gridvid=${GRIDVID:-}
if [ -z "$gridvid" ]; then
  if [ -x "$root/build/gridvid" ]; then gridvid=$root/build/gridvid
  elif have gridvid; then gridvid=$(command -v gridvid)
  fi
fi
[ -n "$gridvid" ] && [ -x "$gridvid" ] || die "no gridvid binary: build it (meson setup build && ninja -C build) or set GRIDVID"
gridvid=$(cd "$(dirname "$gridvid")" && pwd)/$(basename "$gridvid")

# Helpers: from GV_BENCH_HELPERS, the build folder beside gridvid, this
# checkout's build, or (not clip_floor) compiled here into WORK/bin.
find_helper() {
  local name=$1 d dirs=("${GV_BENCH_HELPERS:-}" "$(dirname "$gridvid")/bench" "$root/build/bench" "$work/bin")
  for d in "${dirs[@]}"; do
    [ -n "$d" ] && [ -x "$d/$name" ] && [ ! "$bench_dir/$name.c" -nt "$d/$name" ] && { echo "$d/$name"; return 0; }
  done
  if [ "$name" != clip_floor ] && have cc && have pkg-config; then
    local pkgs=vips
    case $name in encode_floor|gen_clips) pkgs="libavformat libavcodec libavutil" ;; esac
    mkdir -p "$work/bin"
    # shellcheck disable=SC2046,SC2086
    cc -std=c11 -O2 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE "$bench_dir/$name.c" -o "$work/bin/$name" \
       $(pkg-config --cflags --libs $pkgs 2>/dev/null) -pthread -lm >>"$run_dir/helpers.log" 2>&1 &&
      { echo "$work/bin/$name"; return 0; }
  fi
  for d in "${dirs[@]}"; do
    [ -n "$d" ] && [ -x "$d/$name" ] && { echo "$d/$name"; return 0; }
  done
  return 1
}
gen_clips=$(find_helper gen_clips) || gen_clips=""
gen_photos=$(find_helper gen_photos) || gen_photos=""
encode_floor=$(find_helper encode_floor) || encode_floor=""
clip_floor=$(find_helper clip_floor) || clip_floor=""

# ---------------------------------------------------------------- results
{
  echo "gridvid clip benchmark, $(date '+%Y-%m-%d %H:%M:%S %z')"
  echo "command: $invocation"
  echo "machine: $(uname -srm), $cores cores, $(awk '/^model name/{sub(/.*: /,"");print;exit}' /proc/cpuinfo 2>/dev/null)"
  echo "memory: $(awk '/^MemTotal:/{printf "%.1f GiB total", $2/1048576}' /proc/meminfo 2>/dev/null)"
  have nvidia-smi && echo "gpu: $(nvidia-smi -L 2>/dev/null | head -3 | tr '\n' ' ')"
  echo "gridvid: $gridvid ($("$gridvid" --version 2>&1 | head -1))"
  (cd "$root" && git rev-parse --short HEAD 2>/dev/null | sed 's/^/checkout: /' && git status --porcelain 2>/dev/null | grep -q . && echo "checkout has uncommitted changes") || true
  echo "clips made by: $([ -n "$gen_clips" ] && "$gen_clips" --version 2>&1 | head -1 || echo 'no gen_clips')"
  echo "timing: $(timer_kind)"
  echo "helpers: gen_clips=${gen_clips:-none} gen_photos=${gen_photos:-none} encode_floor=${encode_floor:-none} clip_floor=${clip_floor:-none}"
  echo "gridvid extra args: ${GRIDVID_ARGS:-none}; variants: ${variants[*]}; clip_floor args: ${floor_args:-none}"
  echo "workload: $n_photos photos + $n_clips clips (${clip_w}x${clip_h} H.264, $len_min to $len_max s) -> ${size} ${fps} fps, ${secs} s ($frames frames)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) (other work on the machine slows every row)"
  echo "raw logs: $run_dir"
  echo
} >"$results"
log() { echo "$*" >>"$results"; }
rows=$run_dir/rows.tsv
: >"$rows"
# row WHAT WALL USER SYS RSS_KB RC NOTE
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; }

# ---------------------------------------------------------------- measuring
write_measure_py

# measure NAME CMD...: stdout to RUN/NAME.out, stderr to RUN/NAME.err; sets
# M_WALL M_USER M_SYS M_RSS (KiB) M_RC M_NOTE. Killed after --timeout s
# (timeout's own memory is less than any command's: the peak is the command's).
measure() {
  local name=$1; shift
  local tf=$run_dir/$name.time line sig load0
  load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
  rm -f "$tf"
  timer "$tf" timeout -k 10 "$timeout_s" "$@" >"$run_dir/$name.out" 2>"$run_dir/$name.err"
  local wrc=$?
  line=$(grep -E '^[0-9.]+ [0-9.?]+ [0-9.?]+ [0-9?]+ -?[0-9]+$' "$tf" 2>/dev/null | tail -1)
  read -r M_WALL M_USER M_SYS M_RSS M_RC <<<"${line:-? ? ? ? $wrc}"
  sig=$(sed -n 's/^Command terminated by signal \([0-9]*\).*/\1/p' "$tf" 2>/dev/null)
  [ -n "$sig" ] && M_RC=$((128 + sig))
  M_NOTE=""
  [ "$M_RC" = 124 ] && M_NOTE="killed: still running after $timeout_s s"
  [ "$M_RC" != 0 ] && [ -z "$M_NOTE" ] && M_NOTE="failed (exit $M_RC): $(grep -v '^\s*$' "$run_dir/$name.err" | tail -1 | cut -c1-120)"
  {
    echo "--- $name: $*"
    echo "    load average before: $load0"
    echo "    wall ${M_WALL} s, user ${M_USER} s, sys ${M_SYS} s, peak RSS ${M_RSS} KiB, exit ${M_RC}${M_NOTE:+; $M_NOTE}"
    if [ -s "$run_dir/$name.err" ]; then echo "    stderr (last lines):"; tail -5 "$run_dir/$name.err" | cut -c1-300 | sed 's/^/      /'; fi
  } >>"$results"
}

# ---------------------------------------------------------------- clips
# gen_clips makes them (clip j lasts len_min + (len_max - len_min) * (j - 1)
# / (N - 1) s, to whole frames) and keeps those already made with the same
# settings; it prints "FRAMES SECONDS KBPS made|kept PATH" for each.
[ -n "$gen_clips" ] ||
  die "no gen_clips helper: build it (ninja -C build bench/gen_clips), or install cc, pkg-config and libavcodec-dev"
clips=$work/clips-${clip_w}x${clip_h}-30fps-gen
say "clips: $n_clips of ${clip_w}x${clip_h} in $clips (made $jobs at a time when missing; kept for later runs)"
"$gen_clips" "$clips" "$n_clips" "$clip_w" "$clip_h" 30 "$len_min" "$len_max" --jobs "$jobs" \
  2>&1 >"$run_dir/gen_clips.out" | tee "$run_dir/gen_clips.err" | sed 's/^/[bench] /' >&2
[ "${PIPESTATUS[0]}" = 0 ] || die "gen_clips failed (see the messages above, $run_dir/gen_clips.err)"
clip_files=()
clips_made=0
while read -r _ _ _ state f; do
  clip_files+=("$f")
  [ "$state" = made ] && clips_made=$((clips_made + 1))
done <"$run_dir/gen_clips.out"
[ ${#clip_files[@]} = "$n_clips" ] || die "gen_clips gave ${#clip_files[@]} clips of $n_clips (see $run_dir/gen_clips.out)"
for f in "${clip_files[@]}"; do [ -s "$f" ] || die "clip $f is missing"; done
log "clips: $clips ($(du -sh "$clips" | cut -f1) for ${#clip_files[@]} files; $clips_made made now)"
grep -E '^gen_clips: made [0-9]+ clips' "$run_dir/gen_clips.err" | sed 's/^/  /' >>"$results"
awk '{ n = split($5, p, "/"); kb += $3 * $2; s += $2
       printf "  %s: %d frames, %.2f s, %.0f kb/s (%s)\n", p[n], $1, $2, $3, $4 }
     END { if (s > 0) printf "  all: %.1f s, %.0f kb/s on average\n", s, kb / s }' \
  "$run_dir/gen_clips.out" >>"$results"

# ---------------------------------------------------------------- photos
photo_files=()
if [ -n "$images_dir" ]; then
  [ -d "$images_dir" ] || die "--images $images_dir: not a folder"
  while IFS= read -r f; do photo_files+=("$f"); done < <(
    find "$(cd "$images_dir" && pwd)" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \
      -o -iname '*.webp' -o -iname '*.tif' -o -iname '*.tiff' -o -iname '*.heic' -o -iname '*.avif' \) |
      LC_ALL=C sort -V | head -n "$n_photos")
  pool_name=photos-$(echo "$images_dir" | cksum | cut -d' ' -f1)
else
  # gen_photos' 4000x3000 JPEGs; run.sh's, when it has made enough
  photos=$work/photos-4000x3000-q90-v1
  [ "$(find "$bench_dir/work/photos-4000x3000-q90-v1" -maxdepth 1 -name 'img*.jpg' 2>/dev/null | wc -l)" -ge "$n_photos" ] &&
    photos=$bench_dir/work/photos-4000x3000-q90-v1
  mkdir -p "$photos"
  have_n=$(find "$photos" -maxdepth 1 -name 'img*.jpg' | wc -l)
  if [ "$have_n" -lt "$n_photos" ]; then
    [ -n "$gen_photos" ] || die "no gen_photos helper (build with meson, or install cc, pkg-config, libvips-dev); or give --images DIR"
    say "generating $((n_photos - have_n)) photos of 4000x3000 in $photos ($jobs at a time; kept for later runs)"
    for ((j = 0; j < jobs; j++)); do
      VIPS_CONCURRENCY=1 "$gen_photos" "$photos" "$n_photos" --jobs "$jobs" --job "$j" &
    done
    wait
  fi
  for ((i = 1; i <= n_photos; i++)); do photo_files+=("$(printf '%s/img%04d.jpg' "$photos" "$i")"); done
  pool_name=$(basename "$photos")
fi
for f in "${photo_files[@]}"; do [ -s "$f" ] || die "photo $f is missing"; done
[ ${#photo_files[@]} -ge "$n_photos" ] || say "only ${#photo_files[@]} photos of $n_photos"
log "photos: ${#photo_files[@]} from $(dirname "${photo_files[0]}")"

# The two folders, of links: the photos alone; the photos with the clips
# spread evenly among them in name order (clip j at place (j - 1/2) * all / N).
link() { ln -f "$1" "$2" 2>/dev/null || ln -sf "$1" "$2"; }
photo_set=$work/sets/$pool_name-${#photo_files[@]}
wall_set=$work/sets/$pool_name-${#photo_files[@]}-$(basename "$clips")-$n_clips
# Made anew each run (a few hundred links): a clip remade under its name
# would otherwise stay behind a hard link to the old one.
rm -rf "$photo_set" "$wall_set"
mkdir -p "$photo_set" "$wall_set" || die "cannot create $photo_set, $wall_set"
total=$((${#photo_files[@]} + n_clips)) p=0 j=0
for ((k = 0; k < total; k++)); do
  if [ "$j" -lt "$n_clips" ] && [ $(((2 * j + 1) * total / (2 * n_clips))) -le "$k" ]; then
    link "${clip_files[$j]}" "$(printf '%s/%04d.mp4' "$wall_set" "$k")"; j=$((j + 1))
  else
    ext=${photo_files[$p]##*.}
    link "${photo_files[$p]}" "$(printf '%s/%04d.%s' "$wall_set" "$k" "$ext")"
    link "${photo_files[$p]}" "$(printf '%s/%04d.%s' "$photo_set" "$p" "$ext")"; p=$((p + 1))
  fi
done
log "folders: $photo_set, $wall_set"
cat "${photo_files[@]}" "${clip_files[@]}" >/dev/null   # the same warm page cache for every row
log

# ---------------------------------------------------------------- run
out=$run_dir/out
first_video=""
for v in "${variants[@]}"; do
  label=${v%%=*} vargs=${v#*=} tag=""
  [ ${#variants[@]} -gt 1 ] && tag=" $label"
  # shellcheck disable=SC2206
  extra=(${GRIDVID_ARGS:-} $vargs)
  for set in photos wall; do
    if [ "$set" = photos ]; then dir=$photo_set what="photos only$tag"; else dir=$wall_set what="clips wall$tag"; fi
    say "$what"
    measure_best "$set-$label" "$gridvid" "$dir" -o "$out-$set-$label.mp4" --size "$size" --fps "$fps" \
      --duration "$secs" "${extra[@]}"
    row "$what" "$M_WALL" "$M_USER" "$M_SYS" "$M_RSS" "$M_RC" "$M_NOTE"
    [ "$set" = wall ] && [ "$M_RC" = 0 ] && [ -z "$first_video" ] && [ -s "$out-$set-$label.mp4" ] &&
      first_video=$out-$set-$label.mp4
  done
done

# encode floor: the clips wall's frames, decoded into a file first (not timed)
raw=$work/tmp/raw.yuv
mkdir -p "$work/tmp"
if [ -z "$first_video" ]; then
  row "encode floor" - - - - - "skipped: needs the clips wall's video"
elif [ -z "$encode_floor" ]; then
  row "encode floor" - - - - - "skipped: no encode_floor helper"
else
  say "encode floor"
  if info=$("$encode_floor" decode "$first_video" "$raw" 2>"$run_dir/decode.err"); then
    read -r vw vh vfps vframes <<<"$info"
    [ "$vframes" != "$frames" ] && log "note: the clips wall's video has $vframes frames, $frames expected"
    measure_best encode-floor "$encode_floor" encode "$raw" "$vw" "$vh" "$vfps" "$out-encode-floor.mp4"
    row "encode floor" "$M_WALL" "$M_USER" "$M_SYS" "$M_RSS" "$M_RC" "$M_NOTE"
  else
    row "encode floor" - - - - - "failed: decoding the clips wall's video: $(tail -1 "$run_dir/decode.err")"
  fi
fi
[ "$keep" = 1 ] || rm -f "$raw"

# clip floor, for each variant: its plan (gridvid --dry-run), then clip_floor over it
for v in "${variants[@]}"; do
  label=${v%%=*} vargs=${v#*=} what="clip floor"
  [ ${#variants[@]} -gt 1 ] && what="clip floor $label"
  if [ -z "$clip_floor" ]; then
    row "$what" - - - - - "skipped: no clip_floor helper (ninja -C build bench/clip_floor)"; continue
  fi
  say "$what"
  # shellcheck disable=SC2206
  extra=(${GRIDVID_ARGS:-} $vargs)
  plan=$run_dir/plan-$label.txt
  if ! "$gridvid" "$wall_set" -o "$out-plan.mp4" --size "$size" --fps "$fps" --duration "$secs" \
       "${extra[@]}" --dry-run >"$plan" 2>"$run_dir/plan-$label.err"; then
    row "$what" - - - - - "failed: gridvid --dry-run: $(grep -v '^\s*$' "$run_dir/plan-$label.err" | tail -1 | cut -c1-120)"
    continue
  fi
  # the tiles' size and crop, the frame rate, as gridvid planned them;
  # CLIP_LOOP and CLIP_START as gridvid reads them (environment, then arguments)
  read -r tw th crop < <(sed -nE 's/^tiles: ([0-9]+)x([0-9]+), crop ([a-z]+).*/\1 \2 \3/p' "$plan" | head -1)
  pfps=$(sed -nE 's/^frame: [0-9]+x[0-9]+, ([0-9]+\/[0-9]+) fps.*/\1/p' "$plan" | head -1)
  loop=${CLIP_LOOP:-loop} start=${CLIP_START:-visible}
  for ((i = 0; i < ${#extra[@]}; i++)); do
    case ${extra[$i]} in
      --clip-loop) loop=${extra[$((i + 1))]:-$loop} ;; --clip-loop=*) loop=${extra[$i]#*=} ;;
      --clip-start) start=${extra[$((i + 1))]:-$start} ;; --clip-start=*) start=${extra[$i]#*=} ;;
    esac
  done
  n_plan=$(grep -c '^clip .*; shown ' "$plan")
  log "plan: $plan ($n_plan clips shown; tiles ${tw:-?}x${th:-?}, crop ${crop:-?}, ${pfps:-?} fps, CLIP_LOOP $loop, CLIP_START $start)"
  if [ -z "${tw:-}" ] || [ -z "$pfps" ] || [ "$n_plan" = 0 ]; then
    row "$what" - - - - - "skipped: the plan has no clip lines (or no tiles/frame line): $plan"
    continue
  fi
  # shellcheck disable=SC2086
  measure_best "clip-floor-$label" "$clip_floor" "$plan" "$pfps" "$tw" "$th" "$loop" --start "$start" \
    --crop "$crop" $floor_args
  note=$(tail -1 "$run_dir/$M_NAME.out" | sed -E 's/, threads.*//')
  row "$what" "$M_WALL" "$M_USER" "$M_SYS" "$M_RSS" "$M_RC" "$note${M_NOTE:+; $M_NOTE}"
done

# ---------------------------------------------------------------- report
report() {
  awk -F'\t' '
    function num(x) { return x ~ /^[0-9.]+$/ }
    function cpu(u, s) { return (num(u) && num(s)) ? sprintf("%.1f", u + s) : "-" }
    function mb(k) { return num(k) ? sprintf("%.0f", k / 1024) : "-" }
    {
      n++; what[n] = $1; ok = $6 == "0"
      printf "  %-20s %8s %8s %9s  %s\n", $1, ok ? $2 : "-", ok ? cpu($3, $4) : "-", ok ? mb($5) : "-", $7
      if (ok) { W[$1] = $2; R[$1] = $5; if (num($3) && num($4)) C[$1] = $3 + $4 }
    }
    BEGIN { printf "  %-20s %8s %8s %9s  %s\n", "", "wall s", "cpu s", "peak MB", "notes" }
    END {
      for (i = 1; i <= n; i++) {
        g = what[i]
        if (g !~ /^clips wall/ || !(g in W)) continue
        sfx = substr(g, 11); tag = sfx == "" ? "" : " [" substr(sfx, 2) "]"
        cf = "clip floor" sfx; ef = "encode floor"
        if ((ef in W) && (cf in W)) {
          fc = ((ef in C) && (cf in C)) ? sprintf("%.1f", C[ef] + C[cf]) : "-"
          printf "  %-20s %8.2f %8s            (encode floor + %s)\n", "floors" sfx, W[ef] + W[cf], fc, cf
          printf "  ratio%s: clips wall / (encode + clip floor) wall = %.2f (target <= 1.2)\n", tag,
                 W[g] / (W[ef] + W[cf])
          if ((g in C) && fc != "-" && C[ef] + C[cf] > 0)
            printf "  ratio%s: clips wall / (encode + clip floor) cpu  = %.2f (less hurt by other work on the machine)\n",
                   tag, C[g] / (C[ef] + C[cf])
        }
        p = "photos only" sfx
        if ((p in W) && (cf in W) && (g in C) && (p in C) && (cf in C))
          printf "  clip share%s: clips wall - photos only = %.2f s wall, %.1f s cpu (clip floor: %.2f, %.1f)\n",
                 tag, W[g] - W[p], C[g] - C[p], W[cf], C[cf]
        if ((p in R) && num(R[g]) && num(R[p]))
          printf "  memory%s: clips wall peak - photos only peak = %+.0f MB (target <= 150)\n", tag, (R[g] - R[p]) / 1024
      }
    }' "$rows"
}
{
  echo
  echo "=== rows (what, wall s, user s, sys s, peak RSS KiB, exit, note)"
  cat "$rows"
  echo
  echo "=== summary"
  report
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) on $cores cores"
} >>"$results"
say "full results: $results"
echo
echo "$n_photos photos + $n_clips clips (${clip_w}x${clip_h}, $len_min-$len_max s) -> $size ${fps} fps, ${secs} s"
report
echo "($cores cores; load average now $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null); full results in $results)"
