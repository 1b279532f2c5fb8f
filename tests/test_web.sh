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

# --- a transparent background -------------------------------------------------
# flat photos, motion blur (edges partly covered); rendered with alpha
# (lossless WebP), and opaque over black and over white (lossless H.264),
# whose luma difference gives each pixel's coverage independently:
# alpha = 255 (1 - (W - B) / 219)
mkdir flat
for i in 1 2 3 4 5 6; do
  vips black g.v 120 120 --bands 3 &&
    vips linear g.v flat/p$i.png 1 "$((30 * i)) $((200 - 25 * i)) $((40 + 30 * (i % 3)))" --uchar
done
loud=(flat --size 320x240 --tile-height 80 --gap 20 --rows 2 --fps 12 --duration 1
  --motion-blur 4 --crf 0)
clear=("${loud[@]}" --gpu false --quiet)
"$GRIDVID" "${clear[@]}" --background transparent -o t.webp; rc=$?
check "transparent webp: exit 0 ($rc)" [ $rc -eq 0 ]
"$GRIDVID" "${clear[@]}" --background black -o black.mkv &&
  "$GRIDVID" "${clear[@]}" --background white -o white.mkv
vips copy "t.webp[n=-1]" t.v && vips rawsave t.v t.rgba
ffmpeg -v error -i black.mkv -f rawvideo -pix_fmt yuv420p black.yuv
ffmpeg -v error -i white.mkv -f rawvideo -pix_fmt yuv420p white.yuv
python3 - > alpha.txt << 'PY'
w, h = 320, 240
rgba = open('t.rgba', 'rb').read()
blk = open('black.yuv', 'rb').read()
wht = open('white.yuv', 'rb').read()
photos = [(30 * i, 200 - 25 * i, 40 + 30 * (i % 3)) for i in range(1, 7)]
frames = len(blk) // (w * h * 3 // 2)
worst_a = clear_gap = solid = partial = worst_c = worst_w = 0
for f in range(frames):
    y0 = f * w * h * 3 // 2
    for i in range(w * h):
        a = rgba[4 * (f * w * h + i) + 3]
        b, wh = blk[y0 + i], wht[y0 + i]
        want = 255 * (1 - (wh - b) / 219)
        worst_a = max(worst_a, abs(a - want))
        if wh - b == 219 and a != 0:
            clear_gap += 1
        if wh == b and a != 255:
            solid += 1
        if a == 0:
            continue
        r, g, bl = rgba[4 * (f * w * h + i):4 * (f * w * h + i) + 3]
        d = min(max(abs(r - p[0]), abs(g - p[1]), abs(bl - p[2])) for p in photos)
        if a < 255:
            partial += 1
        if a >= 128:
            worst_c = max(worst_c, d)
        worst_w = max(worst_w, d * a / 255)
print('frames', frames)
print('alpha_error %.2f' % worst_a)
print('gaps_not_clear', clear_gap)
print('covered_not_solid', solid)
print('partial', partial)
print('colour_error_half_or_more', worst_c)
print('colour_error_weighted %.2f' % worst_w)
PY
val() { sed -n "s/^$1 //p" alpha.txt; }
cat alpha.txt
check "transparent: 12 frames ($(val frames))" [ "$(val frames)" = 12 ]
check "transparent: alpha within 2 of the coverage over black and white ($(val alpha_error))" \
  awk -v e="$(val alpha_error)" 'BEGIN { exit !(e != "" && e <= 2) }'
check "transparent: the background is clear, alpha 0 exactly ($(val gaps_not_clear) not)" \
  [ "$(val gaps_not_clear)" = 0 ]
check "transparent: covered pixels are opaque, 255 exactly ($(val covered_not_solid) not)" \
  [ "$(val covered_not_solid)" = 0 ]
check "transparent: the blurred edges are partly covered ($(val partial) pixels)" \
  [ "$(val partial)" -gt 1000 ]
check "transparent: colour of pixels half covered or more is the photo's, within 4 ($(val colour_error_half_or_more))" \
  [ "$(val colour_error_half_or_more)" -le 4 ]
check "transparent: colour error weighted by alpha at most 8 ($(val colour_error_weighted))" \
  awk -v e="$(val colour_error_weighted)" 'BEGIN { exit !(e != "" && e <= 8) }'

# the GPU's frames equal the CPU's
if "$GRIDVID" "${clear[@]}" --background transparent --gpu require --gpu-device llvmpipe \
  -o g.webp 2> err.txt; then
  vips copy "g.webp[n=-1]" g.v && vips rawsave g.v g.rgba
  check "transparent: the GPU's frames equal the CPU's" cmp -s t.rgba g.rgba
  # the GPU lost at frame 5: the CPU renders the frames in flight again
  GV_TEST_GPU_FAIL_AT=5 "$GRIDVID" "${loud[@]}" --background transparent --gpu true \
    --gpu-device llvmpipe -o f.webp 2> err.txt
  vips copy "f.webp[n=-1]" f.v && vips rawsave f.v f.rgba
  check "transparent: the GPU lost at frame 5, frames equal the CPU's" cmp -s t.rgba f.rgba
  check "transparent: the GPU lost at frame 5, one warning" grep -q "continuing on the CPU" err.txt
else
  echo "SKIP: transparent on the GPU: no Vulkan device ($(tail -1 err.txt))"
fi

# the preview: a PNG with alpha, the video's frame at that time (frame 6 at 12 fps)
"$GRIDVID" "${clear[@]}" --background transparent --preview p.png --at 0.5; rc=$?
check "transparent preview: exit 0 ($rc)" [ $rc -eq 0 ]
check "transparent preview: RGBA" [ "$(vipsheader -f bands p.png)" = 4 ]
vips rawsave p.png p.rgba
check "transparent preview: the video's frame 6, alpha and colour" python3 -c '
p = open("p.rgba", "rb").read()
n = len(p)
v = open("t.rgba", "rb").read()[6 * n:7 * n]
same = all(p[i + 3] == v[i + 3] and (p[i + 3] == 0 or p[i:i + 3] == v[i:i + 3]) for i in range(0, n, 4))
clear = sum(1 for i in range(3, n, 4) if p[i] == 0)
sys_exit = 0 if same and clear > 0 else 1
raise SystemExit(sys_exit)'

# ProRes 4444 and VP9 with alpha, decoded back
"$GRIDVID" "${clear[@]}" --background transparent -o t.mov; rc=$?
check "transparent mov: exit 0 ($rc)" [ $rc -eq 0 ]
check "transparent mov: ProRes 4444" [ "$(ffprobe -v error -show_entries stream=profile -of csv=p=0 t.mov)" = 4444 ]
# alpha of pixel (x, y) of frame 0, 16 bits, and of a yuva420p decode, 8 bits
alpha16() {
  ffmpeg -v error ${3:-} -i "$1" -frames:v 1 -f rawvideo -pix_fmt yuva444p16le - 2> /dev/null |
    od -An -tu2 -j $(((3 * 320 * 240 + $2) * 2)) -N2 | tr -d ' '
}
alpha8() {
  ffmpeg -v error ${3:-} -i "$1" -frames:v 1 -f rawvideo -pix_fmt yuva420p - 2> /dev/null |
    od -An -tu1 -j $((320 * 240 * 3 / 2 + $2)) -N1 | tr -d ' '
}
# (5, 5) is in the gap above the first row; (150, 60) inside a tile of it
check "transparent mov: clear in a gap" [ "$(alpha16 t.mov $((5 * 320 + 5)))" = 0 ]
check "transparent mov: opaque in a tile" [ "$(alpha16 t.mov $((60 * 320 + 150)))" = 65535 ]
"$GRIDVID" "${clear[@]}" --background transparent -o t.webm; rc=$?
check "transparent webm: exit 0 ($rc)" [ $rc -eq 0 ]
check "transparent webm: AlphaMode 1" \
  [ "$(ffprobe -v error -show_entries stream_tags=alpha_mode -of csv=p=0 t.webm)" = 1 ]
check "transparent webm: clear in a gap" [ "$(alpha8 t.webm $((5 * 320 + 5)) '-c:v libvpx-vp9')" = 0 ]
check "transparent webm: opaque in a tile" \
  [ "$(alpha8 t.webm $((60 * 320 + 150)) '-c:v libvpx-vp9')" = 255 ]

for out in t.mp4 t.gif; do
  "$GRIDVID" "${clear[@]}" --background transparent -o "$out" 2> err.txt; rc=$?
  check "transparent $out: exit 2 ($rc)" [ $rc -eq 2 ]
  check "transparent $out: says which outputs keep alpha" grep -q "needs an output that keeps alpha" err.txt
  check "transparent $out: no file" [ ! -e "$out" ]
done
"$GRIDVID" "${clear[@]}" --background transparent --codec h264 -o t2.mkv 2> err.txt; rc=$?
check "transparent with CODEC h264: exit 2 ($rc)" [ $rc -eq 2 ]

echo "web: $checks checks, $fails failed"
[ $fails -eq 0 ]
