#!/usr/bin/env bash
# Clips end to end (docs/CLIPS.md): the right clip frame at every output
# frame for 24, 25, 30 and 60 fps sources, loop, bounce and hold, rotated
# phone clips, a GIF with its own delays, an animated WebP, a Live Photo
# pair, the preview,
# the GPU compositor against the CPU, the dry run, and bad clips.
#
# The clips come from tests/makeclip.c: frame n shows bits 7..0 of n as
# eight full-width bands, top to bottom. The wall here is one clip in one
# row as tall as the frame (320x240, tiles 240x240, no gap), so every
# column of every output frame shows the clip: the middle column is read
# back (lossless output) whatever the wall's motion.
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
MAKECLIP=${GV_MAKECLIP:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
. "$GV_SOURCE_DIR/tests/check.sh"
unset_setting_keys "$GRIDVID" || exit 1

loud=(--size 320x240 --tile-height 240 --rows 1 --gap 0 --fps 30 --crf 0)
wall=("${loud[@]}" --quiet)

# The frame numbers shown, one per output frame, read from the middle
# column of a video or a PNG.
read_numbers() {
  ffmpeg -v error -i "$1" -vf format=gray,crop=1:240:160:0 -f rawvideo -pix_fmt gray - |
    python3 -c '
import sys
data = sys.stdin.buffer.read()
for f in range(len(data) // 240):
    col = data[f * 240:(f + 1) * 240]
    n = 0
    for b in range(8):
        n = n * 2 + (col[15 + 30 * b] > 128)
    print(n)
'
}

# What docs/CLIPS.md says frame i shows, for frames 0..count-1 of a
# video at 30 fps: clip frames at the given times (seconds), duration d.
expect_numbers() { # mode count d pts...
  python3 - "$@" <<'EOF'
import math, sys
mode, count, d = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
pts = [float(x) for x in sys.argv[4:]]
eps = 1e-6
def wrap(x, m):
    r = x - m * math.floor(x / m)
    return 0.0 if r < 0 or r > m - eps else r
for i in range(count):
    tau = i * 1 / 30
    if mode == "loop":
        t = wrap(tau, d)
    elif mode == "bounce":
        p = wrap(tau, 2 * d)
        t = p if p <= d else 2 * d - p
    else:
        t = min(tau, d)
    print(max(j for j, p in enumerate(pts) if p <= t + eps))
EOF
}

# Frame times of a constant-rate clip: frames n at fps num/den.
cfr() { python3 -c "import sys; n,a,b=map(int,sys.argv[1:]); print(' '.join(repr(i*b/a) for i in range(n)))" "$@"; }

# One clip of the given rate, played in a 2.5 s wall, mode as given.
play_check() { # name fps_num fps_den frames mode [makeclip options]
  local name=$1 num=$2 den=$3 n=$4 mode=$5
  shift 5
  "$MAKECLIP" "$name.mp4" 160 120 "$num/$den" "$n" libx264 "$@" || return 1
  "$GRIDVID" "${wall[@]}" --duration 2.5 --clip-loop "$mode" -o "$name.out.mp4" "$name.mp4"
  local rc=$?
  check "$name ($mode): renders" [ $rc -eq 0 ]
  read_numbers "$name.out.mp4" > "$name.got"
  # shellcheck disable=SC2046
  expect_numbers "$mode" 75 "$(python3 -c "print($n*$den/$num)")" $(cfr "$n" "$num" "$den") \
    > "$name.want"
  check "$name ($mode): the right clip frame at each of 75 frames" cmp -s "$name.want" "$name.got"
  cmp -s "$name.want" "$name.got" || diff "$name.want" "$name.got" | head -5
}

play_check c24 24 1 24 loop
play_check c25 25 1 25 loop
play_check c30 30 1 30 loop
play_check c60 60 1 60 loop
play_check c2997 30000 1001 20 loop
play_check b24 24 1 24 bounce --gop 5
play_check h25 25 1 25 hold

# a phone clip, turned by its display matrix
for r in 90 180 270; do
  play_check "rot$r" 30 1 30 loop --rotate "$r"
done

# the same clip frames whatever the clip's own frame-rate tag says: a GIF
# with its own delays (10, 20, 30 cs, twice)
"$MAKECLIP" anim.gif 160 120 100 6 gif --delays 10,20,30
"$GRIDVID" "${wall[@]}" --duration 2.5 -o anim.out.mp4 anim.gif
check "GIF: renders" [ $? -eq 0 ]
read_numbers anim.out.mp4 > anim.got
expect_numbers loop 75 1.2 0 0.1 0.3 0.6 0.7 0.9 > anim.want
check "GIF: its frames at their own delays" cmp -s anim.want anim.got

# an animated WebP (libvips reads its pages): 12 frames at 10 fps
if "$MAKECLIP" anim.webp 160 120 10 12 libwebp_anim 2> /dev/null; then
  "$GRIDVID" "${wall[@]}" --duration 2.5 -o webp.out.mp4 anim.webp
  check "WebP: renders" [ $? -eq 0 ]
  read_numbers webp.out.mp4 > webp.got
  # shellcheck disable=SC2046
  expect_numbers loop 75 1.2 $(cfr 12 10 1) > webp.want
  check "WebP: its frames at their times" cmp -s webp.want webp.got
  "$GRIDVID" "${wall[@]}" --duration 2.5 --clip-loop bounce -o webpb.out.mp4 anim.webp
  read_numbers webpb.out.mp4 > webpb.got
  # shellcheck disable=SC2046
  expect_numbers bounce 75 1.2 $(cfr 12 10 1) > webpb.want
  check "WebP: bouncing" cmp -s webpb.want webpb.got
else
  echo "SKIP: this FFmpeg has no animated WebP encoder (libwebp_anim) to make the test file"
fi

# A clip that leaves the frame and comes back: a row of one clip and three
# grey photos slides past a narrow frame at 120 px/s, so the clip shows
# for about 3.3 s in every 8 (its decoder closes while it is away, and
# opens again at the right time). Wherever its columns are, they must read
# the frame the formulas give, counted from its first visible frame.
mkdir away
vips black away/grey.v 64 64 --bands 3 && vips linear away/grey.v away/g.png 1 128 --uchar
for n in b c d; do cp away/g.png "away/$n.png"; done
"$MAKECLIP" away/a.mp4 160 120 30 60 libx264 --gop 15
"$GRIDVID" --size 160x240 --tile-height 240 --rows 1 --gap 0 --fps 30 --crf 0 --quiet \
  --speed 120 --duration 16 -o away.mp4 away/a.mp4 away/b.png away/c.png away/d.png
check "away: renders" [ $? -eq 0 ]
"$GRIDVID" --size 160x240 --tile-height 240 --rows 1 --gap 0 --fps 30 --speed 120 --duration 16 \
  --dry-run away/a.mp4 away/b.png away/c.png away/d.png > plan.txt 2>&1
check "away: the dry run counts its runs on screen" grep -q \
  '^clip away/a.mp4: 2.00 s, 160x120 h264 at 30 fps; shown 6.67 s from 0.00 s in 3 runs over 16.00 s, loops, playing 8.0 times$' plan.txt
from=$(sed -n 's/^clip away\/a.mp4: .* from \([0-9.]*\) s.*/\1/p' plan.txt)
ffmpeg -v error -i away.mp4 -vf format=gray -f rawvideo -pix_fmt gray - | python3 -c '
import math, sys
from0 = round(float(sys.argv[1]) * 30)
data = sys.stdin.buffer.read()
size = 160 * 240
frames = len(data) // size
shown = bad = 0
for i in range(frames):
    f = data[i * size:(i + 1) * size]
    cols = []
    for x in range(160):
        v = [f[(15 + 30 * b) * 160 + x] for b in range(8)]
        if all(p < 40 or p > 215 for p in v):
            cols.append(sum((p > 128) << (7 - b) for b, p in enumerate(v)))
    if len(cols) < 8:
        continue
    shown += 1
    got = sorted(cols)[len(cols) // 2]
    want = math.floor(((i - from0) / 30 % 2) * 30 + 1e-6) % 60
    if got != want:
        bad += 1
        if bad <= 5:
            print("frame %d: clip frame %d, expected %d" % (i, got, want), file=sys.stderr)
print(shown, bad, frames)
' "$from" > away.txt
read -r shown bad total < away.txt
check "away: 480 frames ($total)" [ "$total" = 480 ]
check "away: the clip shows in part of them ($shown)" [ "$shown" -gt 100 ] && [ "$shown" -lt 380 ]
check "away: the right clip frame in every frame that shows it ($bad wrong)" [ "$bad" = 0 ]

# a preview at 0.5 s shows clip frame 12 of a 24 fps loop
"$GRIDVID" "${wall[@]}" --preview p.png --at 0.5 --duration 2.5 c24.mp4
check "preview: written" [ -s p.png ]
check "preview: clip frame 12 at 0.5 s" [ "$(read_numbers p.png)" = 12 ]

# the dry run names the clip and how it plays
"$GRIDVID" "${wall[@]}" --duration 2.5 --dry-run c24.mp4 > plan.txt 2>&1
check "dry run: the clip's line" grep -q \
  '^clip c24.mp4: 1.00 s, 160x120 h264 at 24 fps; shown 2.50 s from 0.00 s, loops, playing 2.5 times$' plan.txt
"$GRIDVID" "${wall[@]}" --duration 2.5 --dry-run --clip-loop hold h25.mp4 > plan.txt 2>&1
check "dry run: hold" grep -q 'then holds its last frame for 1.50 s$' plan.txt

# a Live Photo: a still and a movie of the same name
mkdir live
vips black live/IMG_0001.jpg 160 120 --bands 3 2> /dev/null &&
  vips linear live/IMG_0001.jpg live/red.jpg "1 1 1" "255 0 0" --uchar 2> /dev/null &&
  mv live/red.jpg live/IMG_0001.jpg
"$MAKECLIP" live/IMG_0001.MOV 160 120 24 24 libx264 > /dev/null
"$GRIDVID" "${wall[@]}" --duration 1 --dry-run live > plan.txt 2>&1
check "Live Photo: one image, the movie" grep -q '^clip live/IMG_0001.MOV: ' plan.txt
check "Live Photo: one image used" grep -q '^inputs: 1 images used' plan.txt
"$GRIDVID" "${wall[@]}" --duration 1 -o live.mp4 live
read_numbers live.mp4 > live.got
expect_numbers loop 30 1 $(cfr 24 24 1) > live.want
check "Live Photo: plays the movie" cmp -s live.want live.got
"$GRIDVID" "${wall[@]}" --duration 1 --live-photos still -o still.mp4 live
y=$(ffmpeg -v error -i still.mp4 -vf format=gray,crop=1:1:160:120 -frames:v 1 -f rawvideo -pix_fmt gray - |
  od -An -tu1 | tr -d ' ')
# red, through JPEG's rounding (BT.709 limited range puts pure red at 63)
check "Live Photo, still: the red still (Y' $y)" [ "$y" -ge 50 ] && [ "$y" -le 70 ]

# the GPU compositor gives the CPU's frames
DEVICE=${GV_TEST_GPU_DEVICE:-llvmpipe}
if "$GRIDVID" "${wall[@]}" --duration 1 --gpu require --gpu-device "$DEVICE" -o g.mp4 c24.mp4 \
    2> /dev/null; then
  "$GRIDVID" "${wall[@]}" --duration 1 --gpu false -o c.mp4 c24.mp4
  check "GPU frames equal the CPU's" cmp -s <(ffmpeg -v error -i c.mp4 -f framemd5 - | grep -v '^#') \
    <(ffmpeg -v error -i g.mp4 -f framemd5 - | grep -v '^#')
else
  echo "SKIP: no Vulkan device matching '$DEVICE': GPU against CPU not compared"
fi

# photos and clips together: every frame there, the clips counted
mkdir mixed
for c in red green blue; do
  vips black "mixed/$c.png" 64 48 --bands 3 2> /dev/null
done
cp c24.mp4 mixed/d.mp4
cp anim.gif mixed/e.gif
"$GRIDVID" --size 320x240 --tile-height 80 --fps 30 --duration 2 --quiet --progress json \
  -o mixed.mp4 mixed > mixed.json
check "mixed: 60 frames" [ "$(ffprobe -v error -count_frames -select_streams v \
  -show_entries stream=nb_read_frames -of csv=p=0 mixed.mp4)" = 60 ]

# --verbose says where the render waited: one line, every time a number
# of seconds, none longer than the whole run
"$GRIDVID" --size 320x240 --tile-height 80 --fps 30 --duration 2 -v -o mixed-v.mp4 mixed \
  2> mixed-v.txt
check "waits: one line" [ "$(grep -c '^gridvid: waits: ' mixed-v.txt)" = 1 ]
total=$(sed -n 's/^gridvid: wrote .* in \([0-9.]*\) s, .*/\1/p' mixed-v.txt)
waits=$(sed -n 's/^gridvid: waits: //p' mixed-v.txt | grep -o '[0-9][0-9]*\.[0-9][0-9] s' | cut -d' ' -f1)
check "waits: six times" [ "$(echo "$waits" | grep -c .)" = 6 ]
check "waits: each within the run's ${total:-?} s" python3 -c '
import sys
total = float(sys.argv[1])
times = [float(t) for t in sys.argv[2].split()]
sys.exit(not (total > 0 and all(0 <= t <= total + 0.1 for t in times)))
' "${total:-0}" "$waits"

# a photo that fails while the clips decode: the render starts again
# without it (the workers stop before the list of images changes)
mkdir late
cp c24.mp4 late/a.mp4
cp anim.gif late/d.gif
vips black late/b.png 300 200 --bands 3 2> /dev/null
python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for i in range(len(d) // 3, len(d) // 3 + 40):
    d[i] ^= 0x55
open(sys.argv[2], "wb").write(d)' late/b.png late/c.png
"$GRIDVID" --size 320x240 --fps 30 --duration 2 -o late.mp4 late 2> err.txt
check "late failure among clips: exit 0" [ $? -eq 0 ]
check "late failure among clips: one warning, the file named" \
  [ "$(grep -c 'warning: late/c.png: ' err.txt)" = 1 ]
check "late failure among clips: 60 frames, 3 images, 2 clips" \
  grep -q '60 frames from 3 images (1 skipped).* 2 clips' err.txt

# bad clips: skipped with one warning, or exit 3 with --strict
mkdir bad
head -c "$(($(stat -c %s c30.mp4) / 2))" c30.mp4 > bad/cut.mp4
: > bad/empty.mp4
ffmpeg -v error -f lavfi -i color=c=red:s=64x48:r=1/3600 -frames:v 11 -c:v libx264 bad/long.mp4
cp c24.mp4 bad/good.mp4
"$GRIDVID" "${loud[@]}" --duration 1 --dry-run bad > plan.txt 2> err.txt
check "bad clips: the good one used" grep -q '^inputs: 1 images used, 3 skipped' plan.txt
check "bad clips: the cut one named" grep -q 'bad/cut.mp4: ' err.txt
check "bad clips: the empty one" grep -q 'bad/empty.mp4: empty file' err.txt
check "bad clips: the 11-hour one" grep -q 'bad/long.mp4: 11:00:00 is over the 1-hour clip limit' err.txt
check "bad clips: three warnings, nothing else" [ "$(wc -l < err.txt)" -eq 3 ]
"$GRIDVID" "${wall[@]}" --duration 1 --strict -o strict.mp4 bad/long.mp4 2> /dev/null
check "bad clip with --strict: exit 3" [ $? -eq 3 ]
check "bad clip with --strict: nothing written" [ ! -e strict.mp4 ]

echo "clips: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
