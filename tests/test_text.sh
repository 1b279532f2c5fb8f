#!/usr/bin/env bash
# Words and a logo end to end: the title shows only while it should,
# fading; the logo lands where LOGO_POSITION puts it, in its colour; the
# captions change the tiles' bottoms only; the GPU's frames equal the
# CPU's; bad values exit 2 naming the key. Renders are lossless (CRF 0).
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
DEVICE=${GV_TEST_GPU_DEVICE:-llvmpipe}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$GV_SOURCE_DIR/tests/check.sh"
unset_setting_keys "$GRIDVID" || exit 1
frames() { ffmpeg -v error -i "$1" -f framemd5 - | grep -v '^#' | awk -F, '{print $6}'; }
# luma of pixel (x, y) of frame n of a 320-wide video
luma() {
  ffmpeg -v error -i "$1" -vf "select=eq(n\,$2)" -frames:v 1 -f rawvideo -pix_fmt yuv420p - \
    2> /dev/null | od -An -tu1 -j $(($4 * 320 + $3)) -N1 | tr -d ' '
}
near() { [ "${1:-x}" -ge $(($2 - 1)) ] 2> /dev/null && [ "$1" -le $(($2 + 1)) ]; }

# six flat grey photos, a red logo
mkdir photos
for i in 1 2 3 4 5 6; do
  vips black g.v 200 200 --bands 3 && vips linear g.v photos/p$i.png 1 $((60 + 20 * i)) --uchar
done
vips black r.v 64 32 --bands 3 && vips linear r.v r1.v "0 0 0" "255 0 0" --uchar &&
  vips bandjoin_const r1.v logo.png 255
wall=(photos --size 320x240 --tile-height 80 --fps 10 --duration 6 --crf 0 --quiet)
base=("${wall[@]}" --gpu false)

"$GRIDVID" "${base[@]}" -o plain.mp4
frames plain.mp4 > plain.md5
check "plain: 60 frames" [ "$(wc -l < plain.md5)" -eq 60 ]

# --- the title: from 0 to 2 s, fading in and out over 0.5 s ----------------
"$GRIDVID" "${base[@]}" --title "Summer" --subtitle "at the sea" --title-duration 2 -o title.mp4
frames title.mp4 > title.md5
check "title: frame 0 (opacity 0) is the plain frame" \
  [ "$(sed -n 1p title.md5)" = "$(sed -n 1p plain.md5)" ]
check "title: frames at 0.1 to 1.9 s differ from the plain ones" \
  bash -c 'for n in 2 6 10 16 20; do [ "$(sed -n ${n}p title.md5)" != "$(sed -n ${n}p plain.md5)" ] || exit 1; done'
check "title: from 2 s on, the plain frames again" \
  [ "$(sed -n '21,60p' title.md5)" = "$(sed -n '21,60p' plain.md5)" ]
# the plate is darker than the wall under it, the corner is untouched
check "title: the top left corner is the wall's" [ "$(luma title.mp4 10 2 2)" = "$(luma plain.mp4 10 2 2)" ]

# --- the logo: 10 % of 320 = 32 px wide, 6 px from the edges ----------------
for pos in top-left:22:12 bottom-right:298:228 top-right:298:12 bottom-left:22:228; do
  IFS=: read -r name x y <<< "$pos"
  "$GRIDVID" "${base[@]}" --logo logo.png --logo-size 10 --logo-position "$name" -o logo.mp4
  v=$(luma logo.mp4 0 "$x" "$y")
  check "logo $name: red at ($x, $y) (Y' $v, expected 63)" near "$v" 63
done
"$GRIDVID" "${base[@]}" --logo logo.png --logo-size 10 --logo-position top-left -o logo.mp4
check "logo: beside it the wall" [ "$(luma logo.mp4 0 60 40)" = "$(luma plain.mp4 0 60 40)" ]

# --- captions: the bottom of each tile changes, its top does not ------------
"$GRIDVID" "${base[@]}" --caption filename -o cap.mp4
check "captions: frames differ from the plain ones" \
  [ "$(sed -n 1p plain.md5)" != "$(frames cap.mp4 | sed -n 1p)" ]
check "captions: a tile's top is unchanged" [ "$(luma cap.mp4 0 40 2)" = "$(luma plain.mp4 0 40 2)" ]

# --- both compositors, everything at once ------------------------------------
all=(--title "Summer" --caption filename --logo logo.png --text-style shadow --ken-burns 10
     --camera tilted --motion-blur 2)
"$GRIDVID" "${base[@]}" "${all[@]}" -o all-cpu.mp4
if "$GRIDVID" "${wall[@]}" --gpu require --gpu-device "$DEVICE" --duration 0.5 \
     -o probe.mp4 2> /dev/null; then
  "$GRIDVID" "${wall[@]}" "${all[@]}" --gpu require --gpu-device "$DEVICE" -o all-gpu.mp4
  check "title, captions and logo: GPU frames equal the CPU's" \
    [ "$(frames all-cpu.mp4)" = "$(frames all-gpu.mp4)" ]
else
  echo "note: no Vulkan device matching '$DEVICE': the GPU check is skipped"
fi
"$GRIDVID" photos --size 320x240 --tile-height 80 --title "Summer" --logo logo.png \
  --preview p.png --at 1 --quiet
"$GRIDVID" photos --size 320x240 --tile-height 80 --preview p0.png --at 1 --quiet
check "preview: the title's plate over the wall's centre" \
  [ "$(vips getpoint p.png 160 120)" != "$(vips getpoint p0.png 160 120)" ]
check "preview: the corner without it" [ "$(vips getpoint p.png 2 2)" = "$(vips getpoint p0.png 2 2)" ]

# --- music: the wall steps on the beats of a click track (120 bpm from 0.5 s) ---
ffmpeg -v error -f lavfi -i \
  "aevalsrc='if(gte(t,0.5)*lt(mod(t,0.5),0.01),0.8*sin(2*PI*2000*t)*exp(-mod(t,0.5)*400),0)':s=44100:d=8" \
  clicks.wav
"$GRIDVID" "${base[@]}" --audio clicks.wav --beat-sync steps --dry-run > plan.txt 2>&1
check "beats: the tempo (120 bpm)" grep -Eq "^beats: 1(19|20|21)\.[0-9] bpm" plan.txt
read -r -a bt <<< "$(sed -n 's/^beats: .* at \(.*\) s$/\1/p' plan.txt)"
check "beats: 11 or 12 found in 6 s (${#bt[@]})" [ ${#bt[@]} -ge 11 ] && [ ${#bt[@]} -le 12 ]
ok=1
for t in "${bt[@]}"; do
  # within one frame (1/10 s here; 1/30 s in tests/test_beat.c) of a click
  awk -v t="$t" 'BEGIN { k = int((t - 0.5) / 0.5 + 0.5); d = t - (0.5 + 0.5 * k); exit !(d < 0.034 && d > -0.034) }' || ok=0
done
check "beats: each within 34 ms of a click (${bt[*]})" [ $ok -eq 1 ]
"$GRIDVID" photos --size 320x240 --tile-height 80 --fps 30 --duration 6 --crf 0 --quiet --gpu false \
  --audio clicks.wav --beat-sync steps -o steps.mp4
# holds: runs of equal frames between the steps (at 30 fps, 7 or 8 of each 15)
runs=$(ffmpeg -v error -i steps.mp4 -map 0:v -f framemd5 - | grep -v '^#' | awk -F, '{print $6}' |
       uniq -c | awk '$1 >= 6' | wc -l)
check "steps: the wall holds between beats ($runs holds)" [ "$runs" -ge 10 ]
# pulses: the wall never stops (no two frames alike) and moves otherwise
# than evenly
vframes() { ffmpeg -v error -i "$1" -map 0:v -f framemd5 - | grep -v '^#' | awk -F, '{print $6}'; }
"$GRIDVID" "${base[@]}" --audio clicks.wav --beat-sync pulse -o pulse.mp4
"$GRIDVID" "${base[@]}" --audio clicks.wav -o even.mp4
check "pulse: 60 frames, no two in a row alike" [ "$(vframes pulse.mp4 | uniq | wc -l)" -eq 60 ]
check "pulse: not the even motion" [ "$(vframes pulse.mp4 | sed -n 10p)" != "$(vframes even.mp4 | sed -n 10p)" ]
"$GRIDVID" "${base[@]}" --beat-sync steps -o bad.mp4 2> err.txt; rc=$?
check "beat sync without AUDIO: exit 2 ($rc)" [ $rc -eq 2 ]
check "beat sync without AUDIO: says so" grep -q "BEAT_SYNC.*AUDIO" err.txt

# --- an animated WebP for the web: every frame, looping forever, no sound -------
"$GRIDVID" photos --size 320x240 --tile-height 80 --fps 12 --duration 2 --gpu false \
  --title "Loop" --audio clicks.wav -o wall.webp 2> err.txt; rc=$?
check "webp: exit 0 ($rc)" [ $rc -eq 0 ]
check "webp: 24 frames" [ "$(vipsheader -f n-pages wall.webp 2> /dev/null)" = 24 ]
check "webp: loops forever" [ "$(vipsheader -f loop wall.webp 2> /dev/null)" = 0 ]
check "webp: 1/12 s a frame" bash -c '[ "$(vipsheader -f delay wall.webp | cut -d" " -f1)" -ge 83 ] &&
  [ "$(vipsheader -f delay wall.webp | cut -d" " -f1)" -le 84 ]'
check "webp: the soundtrack is left out, with a warning" grep -q "WebP holds no sound" err.txt
check "webp: 320x240" [ "$(vipsheader -f width wall.webp)x$(vipsheader -f height wall.webp)" = 320x240 ]
# colours as WebP players read them (BT.601 from RGB): BACKGROUND in a gap,
# exactly when lossless (CRF 0), within 3 when lossy
"$GRIDVID" photos --size 320x240 --tile-height 80 --gap 20 --rows 2 --background '#3060c0' \
  --fps 10 --duration 1 --crf 0 --gpu false --quiet -o bg.webp
check "webp lossless: the background's colour exactly" [ "$(vips getpoint bg.webp 5 5)" = "48 96 192 255 " ]
"$GRIDVID" photos --size 320x240 --tile-height 80 --gap 20 --rows 2 --background '#3060c0' \
  --fps 10 --duration 1 --gpu false --quiet -o bg2.webp
read -r -a px <<< "$(vips getpoint bg2.webp 5 5)"
check "webp lossy: the background's colour within 3 (${px[*]})" \
  bash -c "[ \$(( (${px[0]:-0} - 48) ** 2 <= 9 && (${px[1]:-0} - 96) ** 2 <= 9 && (${px[2]:-0} - 192) ** 2 <= 9 )) = 1 ]"
"$GRIDVID" "${base[@]}" --codec h264 -o bad.webp 2> err.txt; rc=$?
check "webp with CODEC h264: exit 2 ($rc)" [ $rc -eq 2 ]

# --- bad values ----------------------------------------------------------------
"$GRIDVID" "${base[@]}" --logo missing.png -o bad.mp4 2> err.txt; rc=$?
check "missing logo: exit 2 ($rc)" [ $rc -eq 2 ]
check "missing logo: names LOGO" grep -q "LOGO" err.txt
check "missing logo: nothing written" [ ! -e bad.mp4 ]
for bad in "--caption exif::x:CAPTION" "--caption title:CAPTION" "--logo-size 0:LOGO_SIZE" \
           "--title-duration 0.1:TITLE_DURATION" "--text-style glow:TEXT_STYLE" \
           "--logo-position middle:LOGO_POSITION" "--text-color nocolour:TEXT_COLOR"; do
  # shellcheck disable=SC2086 # flag and value
  "$GRIDVID" "${base[@]}" ${bad%%:*} -o bad.mp4 2> err.txt; rc=$?
  check "bad ${bad%%:*}: exit 2 ($rc)" [ $rc -eq 2 ]
  check "bad ${bad%%:*}: names ${bad##*:}" grep -q "${bad##*:}" err.txt
done

echo "test_text_cli: $checks checks, $fails failed"
[ $fails -eq 0 ]
