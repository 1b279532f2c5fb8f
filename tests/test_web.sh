#!/usr/bin/env bash
# Outputs for the web and for editors, end to end: an animated GIF with
# one palette for the whole loop (its blocks read by tests/gifinfo.py),
# and transparent-background masters whose alpha decodes where the
# settings put it. Bad combinations exit 2 and leave no file.
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$GV_SOURCE_DIR/tests/check.sh"
unset_setting_keys "$GRIDVID" || exit 1
gifinfo() { python3 "$GV_SOURCE_DIR/tests/gifinfo.py" "$1" | sed -n "s/^$2 //p"; }
# within D of each other
near() { [ "${1:-x}" -ge $(($2 - $3)) ] 2> /dev/null && [ "$1" -le $(($2 + $3)) ]; }
# mean PSNR of two videos' frames, compared as RGB
psnr() {
  ffmpeg -v info -i "$1" -i "$2" -lavfi "[0:v]settb=AVTB,setpts=N,format=rgb24[a];[1:v]settb=AVTB,setpts=N,\
scale=in_color_matrix=bt709:in_range=tv,format=rgb24[b];[a][b]psnr" \
    -f null - 2>&1 | sed -n 's/.*PSNR.* average:\([0-9.]*\).*/\1/p'
}

# six photos of colour gradients (thousands of colours between them)
mkdir photos
vips xyz xy.v 200 200
for i in 1 2 3 4 5 6; do
  vips bandjoin_const xy.v g.v $((40 * i)) &&
    vips linear g.v photos/p$i.png "1 1 0.5" "$((5 * i)) $((50 - 8 * i)) 0" --uchar
done
wall=(photos --size 320x240 --tile-height 80 --gap 20 --rows 2 --background '#3060c0' --fps 12
  --duration 2 --gpu false)

# --- animated GIF: every frame, one palette, the loop's exact length -----------
"$GRIDVID" "${wall[@]}" --audio clicks.wav -o wall.gif 2> err.txt; rc=$?
check "gif: exit 0 ($rc)" [ $rc -eq 0 ]
check "gif: 320x240" [ "$(gifinfo wall.gif size)" = 320x240 ]
check "gif: 24 frames" [ "$(gifinfo wall.gif frames)" = 24 ]
check "gif: loops forever" [ "$(gifinfo wall.gif loop)" = 0 ]
check "gif: a global palette" [ "$(gifinfo wall.gif global_colours)" -gt 0 ]
# one palette: all the frames together show at most 256 colours, where
# the photos have thousands
colours() {
  ffmpeg -v error -i "$1" -f rawvideo -pix_fmt rgb24 - | python3 -c '
import sys
d = sys.stdin.buffer.read()
print(len({d[i:i + 3] for i in range(0, len(d), 3)}))'
}
n=$(colours wall.gif)
check "gif: at most 256 colours over the whole loop ($n)" [ "${n:-999}" -le 256 ]
n=$(colours photos/p3.png)
check "gif: the photos have more than 256 colours ($n)" [ "${n:-0}" -gt 256 ]
read -r -a delays <<< "$(gifinfo wall.gif delays)"
sum=0 odd=0
for d in "${delays[@]}"; do
  sum=$((sum + d))
  [ "$d" = 8 ] || [ "$d" = 9 ] || odd=1
done
check "gif: 1/12 s a frame, in hundredths (${delays[*]})" [ $odd = 0 ]
check "gif: the loop lasts exactly 2 s ($sum cs)" [ $sum = 200 ]
check "gif: the soundtrack is left out, with a warning" grep -q "GIF holds no sound" err.txt
read -r -a px <<< "$(vips getpoint wall.gif[n=1] 5 5 2> /dev/null)"
check "gif: the background's colour within 3 (${px[*]})" \
  bash -c "[ \$(( (${px[0]:-0} - 48) ** 2 <= 9 && (${px[1]:-0} - 96) ** 2 <= 9 && (${px[2]:-0} - 192) ** 2 <= 9 )) = 1 ]"
"$GRIDVID" "${wall[@]}" --crf 0 --quiet -o ref.mkv
p=$(psnr wall.gif ref.mkv)
check "gif: frames within 30 dB of the lossless render ($p dB)" \
  awk -v p="${p:-0}" 'BEGIN { exit !(p >= 30) }'
# a palette made per frame would differ: the same wall twice gives one file
"$GRIDVID" "${wall[@]}" --quiet -o again.gif
check "gif: the same settings give the same file" cmp -s wall.gif again.gif

"$GRIDVID" "${wall[@]}" --fps 60 -o fast.gif 2> err.txt; rc=$?
check "gif at 60 fps: exit 2 ($rc)" [ $rc -eq 2 ]
check "gif at 60 fps: says 50 at most" grep -q "at most 50 frames a second" err.txt
check "gif at 60 fps: no file" [ ! -e fast.gif ]
"$GRIDVID" "${wall[@]}" --size 1920x1080 --fps 30 --duration 60 -o big.gif 2> err.txt; rc=$?
check "gif over MEMORY_LIMIT: exit 2 ($rc)" [ $rc -eq 2 ]
check "gif over MEMORY_LIMIT: names it" grep -q "MEMORY_LIMIT" err.txt
check "gif over MEMORY_LIMIT: no file" [ ! -e big.gif ]
"$GRIDVID" "${wall[@]}" --codec h264 -o bad.gif 2> err.txt; rc=$?
check "gif with CODEC h264: exit 2 ($rc)" [ $rc -eq 2 ]

echo "web: $checks checks, $fails failed"
[ $fails -eq 0 ]
