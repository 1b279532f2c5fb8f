#!/usr/bin/env bash
# Bad and unusual input (SPEC.md "Bad input", "Tiles"): every bad file is
# skipped with exactly one warning "path: reason", or is fatal with exit 3
# under --strict; the video is still right (frame count, images used, the
# valid images' colours); nothing crashes, hangs (every run is under
# `timeout`) or grows (peak memory of every run is measured).
#
# Everything is generated here: vips and ffmpeg make the pictures, and
# badimg (tests/badimg.c) what they will not: a PNG header claiming
# 60000x60000, EXIF orientations, ten thousand files, peak memory.
set -u
GRIDVID=${GRIDVID:-$GV_BUILD_DIR/gridvid}
BADIMG=${GV_BADIMG:-$GV_BUILD_DIR/tests/badimg}
work=$(mktemp -d)
# Another user (nobody) reads the inputs in the permission checks.
chmod 755 "$work"
trap 'chmod -R u+rwx "$work" 2> /dev/null; rm -rf "$work"' EXIT
cd "$work"
. "$GV_SOURCE_DIR/tests/check.sh"
note() { echo "test_badinput: $*"; }
unset_setting_keys "$GRIDVID" || exit 1

# Sanitizer builds use several times the memory and time.
if ldd "$GRIDVID" "$GV_BUILD_DIR/libgridvid.so" 2> /dev/null | grep -q 'libasan'; then
  mem_limit=$((1500 * 1024)) slow=4
else
  mem_limit=$((300 * 1024)) slow=1
fi

# g ARGS...: gridvid under a time limit; sets rc and rss (KiB); stdout in
# out.txt, stderr in err.txt.
g() {
  "$BADIMG" maxrss rss.txt timeout -k 5 $((${T:-60} * slow)) "$GRIDVID" "$@" > out.txt 2> err.txt
  rc=$?
  rss=$(cat rss.txt 2> /dev/null || echo 0)
  if [ "$rss" -gt "$mem_limit" ]; then
    echo "FAIL: gridvid $* used $rss KiB (limit $mem_limit)" >&2
    fails=$((fails + 1))
  fi
  if [ $rc -eq 124 ] || [ $rc -eq 137 ] || [ $rc -ge 128 -a $rc -ne 130 ]; then
    echo "FAIL: gridvid $* hung or crashed (exit $rc)" >&2
    fails=$((fails + 1))
    tail -5 err.txt >&2
  fi
}
json() { grep -o "\"$1\":[0-9]*" out.txt | tail -1 | cut -d: -f2; }
warnings_for() { grep -cF "gridvid: warning: $1: " err.txt; }
frames() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
  -of csv=p=0 "$1"; }
# near FILE X Y R G B TOL: the pixel is within TOL of the colour.
near() {
  local v
  read -r -a v <<< "$(vips getpoint "$1" "$2" "$3" 2> /dev/null)"
  [ ${#v[@]} -ge 3 ] || return 1
  local e=("$4" "$5" "$6") c d
  for c in 0 1 2; do
    d=$(( ${v[c]%.*} - e[c] ))
    [ ${d#-} -le "$7" ] || { echo "  pixel ($2,$3) of $1 is ${v[*]}, expected ${e[*]}" >&2; return 1; }
  done
}
no_temp() { [ -z "$(find . -name '*.gvtmp-*' -o -name '*.tmp-*' | head -1)" ]; }

# Options: a 5-frame video of 2x1 tiles, and a one-frame preview that
# shows exactly the first image as one 64x32 tile.
R=(--size 128x64 --tile-height 32 --aspect 2:1 --duration 0.5 --fps 10 --gpu false
   --encoder libx264 --preset ultrafast --progress json)
P=(--size 64x32 --tile-height 32 --aspect 2:1 --gpu false --progress json)

# --- material ---------------------------------------------------------
colour() { # OUT.v R G B [W H]
  vips black "$1.0.v" "${5:-64}" "${6:-32}" --bands 3 &&
    vips linear "$1.0.v" "$1" "1 1 1" "$2 $3 $4" --uchar && rm -f "$1.0.v"
}
colour red.v 255 0 0
colour green.v 0 255 0
colour blue.v 0 0 255
colour white.v 255 255 255
colour grey.v 100 100 100
vips gaussnoise noise1.v 400 300 --mean 128 --sigma 40
vips bandjoin "noise1.v noise1.v noise1.v" noise3.v
vips cast noise3.v noise.v uchar
vips copy noise.v noise.jpg
vips copy noise.v noise.png
vips copy noise.v noise.webp
half() { head -c $(( $(stat -c %s "$1") / 2 )) "$1" > "$2"; }

mkdir mix mix/x.jpg
vips copy red.v mix/b1.png
vips copy green.v mix/b2.jpg
vips copy blue.v mix/b3.webp
vips copy white.v mix/b4.ppm
vips copy red.v mix/x.jpg/inside.png
: > mix/a1-empty.jpg
half noise.jpg mix/a2-truncated.jpg
half noise.png mix/a3-truncated.png
half noise.webp mix/a4-truncated.webp
echo "this is text, not a picture" > mix/a5-text.jpg
"$BADIMG" png-header 60000 60000 mix/a6-60000x60000.png
# Damaged inside, ends intact: passes the cheap check, and only decoding
# it finds the damage (the render starts again without it).
cp noise.png mix/a7-corrupt-inside.png
dd if=/dev/zero of=mix/a7-corrupt-inside.png bs=1 seek=$(( $(stat -c %s noise.png) / 2 )) \
  count=64 conv=notrunc 2> /dev/null
printf 'P6\n0 0\n255\n' > mix/a8-zero-size.ppm
# libvips reads a PNM width or height out of its range as 1 (or, past
# 2^31, as atoi wraps it): these would pass as 1x1 pictures.
printf 'P6\n99999999 99999999\n255\n\0\0\0' > mix/a9-ppm-99999999.ppm
printf 'P6\n4294967297 4294967297\n255\n\0\0\0' > mix/a9-ppm-2e32plus1.ppm
ln -s nowhere.jpg mix/c-dangling.jpg
bad=(a1-empty.jpg a2-truncated.jpg a3-truncated.png a4-truncated.webp a5-text.jpg
     a6-60000x60000.png a7-corrupt-inside.png a8-zero-size.ppm a9-ppm-99999999.ppm
     a9-ppm-2e32plus1.ppm)

# --- a folder of bad files among good ones -----------------------------
g mix -o mix.mp4 "${R[@]}"
check "mixed folder renders (exit 0)" [ $rc -eq 0 ]
check "mixed folder: 5 frames" [ "$(frames mix.mp4)" = 5 ]
check "mixed folder: the 4 good images are used" [ "$(json images)" = 4 ]
check "mixed folder: the 10 bad files and the dangling link are counted as skipped" [ "$(json skipped)" = 11 ]
for f in "${bad[@]}"; do
  check "$f: exactly one warning 'path: reason'" [ "$(warnings_for "mix/$f")" = 1 ]
done
check "dangling link: one warning" [ "$(warnings_for mix/c-dangling.jpg)" = 1 ]
only_warnings() { # nothing in err.txt but gridvid's warnings and summary
  local stray
  stray=$(grep -v -e '^gridvid: warning: ' -e '^gridvid: wrote ' err.txt)
  [ -z "$stray" ] || { sed 's/^/  stray: /' <<< "$stray" >&2; return 1; }
}
check "mixed folder: nothing on stderr but gridvid's warnings (no library noise)" only_warnings
check "PNM claiming 99999999x99999999: refused as too large" \
  grep -q "a9-ppm-99999999.ppm: 99999999x99999999 is over" err.txt
check "60000x60000 refused by the pixel limit" grep -q "a6-60000x60000.png: .*pixel limit" err.txt
check "a directory named x.jpg is not a bad file" [ "$(grep -c 'x.jpg' err.txt)" = 0 ]
check "mixed folder: no error line" [ "$(grep -c 'gridvid: error' err.txt)" = 0 ]
check "mixed folder: no temporary file" no_temp
ffmpeg -v error -i mix.mp4 -frames:v 1 -y f0.png
check "mixed folder: the first tile is the first good image (red)" near f0.png 16 16 255 0 0 40
check "mixed folder: the second row is the second good image (green)" near f0.png 16 48 0 255 0 40
check "mixed folder: the third good image (blue)" near f0.png 80 16 0 0 255 40

# --- each bad file alone, before a good one: skip, or exit 3 with --strict
for f in "${bad[@]}"; do
  rm -rf one && mkdir one && cp "mix/$f" one/ && cp mix/b1.png one/
  g one --preview one.png "${P[@]}"
  check "$f: skipped (exit 0)" [ $rc -eq 0 ]
  check "$f: one warning" [ "$(warnings_for "one/$f")" = 1 ]
  check "$f: the good image is used" [ "$(json images)" = 1 ]
  check "$f: the good image (red) is shown" near one.png 32 16 255 0 0 40
  rm -f one.png
  g one --preview one.png "${P[@]}" --strict
  check "$f: --strict exits 3" [ $rc -eq 3 ]
  check "$f: --strict names it" grep -qF "one/$f: " err.txt
  check "$f: --strict writes nothing" [ ! -e one.png ]
  check "$f: --strict leaves no temporary file" no_temp
done
# Known gap, reported rather than checked: a JPEG cut short and given its
# end marker back decodes (libjpeg fills the rest with grey and only warns,
# and gridvid fails JPEGs on errors, not on warnings).
half noise.jpg cut-eoi.jpg && printf '\377\331' >> cut-eoi.jpg
g cut-eoi.jpg --preview cut.png "${P[@]}"
if [ $rc -eq 0 ]; then
  note "known gap: a JPEG cut short with its end marker put back is used (grey fill)"
fi

# --- formats refused for untrusted input: ImageMagick's (BMP here), vips'
# own memory-mapped format, FITS. One warning each; the good image is used.
for f in refused.bmp refused.v refused.fits; do
  rm -rf one && mkdir one && cp mix/b1.png one/
  if ! vips copy blue.v "one/$f" 2> /dev/null; then
    note "this libvips cannot write ${f#*.}: not checked"
    continue
  fi
  g one --preview one.png "${P[@]}"
  check "$f: skipped (exit 0)" [ $rc -eq 0 ]
  check "$f: one warning naming the reason" \
    [ "$(grep -cF "one/$f: not a photo format gridvid reads" err.txt)" = 1 ]
  check "$f: only the good image is used" [ "$(json images)" = 1 ]
  check "$f: the good image (red) is shown" near one.png 32 16 255 0 0 40
  rm -f one.png
done

g mix/a5-text.jpg -o only.mp4 "${R[@]}"
check "no usable image: exit 3" [ $rc -eq 3 ]
check "no usable image: a clear error" grep -q "no usable image" err.txt
check "no usable image: nothing written" [ ! -e only.mp4 ]

# --- decompression bombs: refused from the header, quickly, in little memory
T=10 g mix/a6-60000x60000.png mix/b1.png --preview bomb.png "${P[@]}"
check "60000x60000 PNG: skipped within 10 s, $rss KiB" [ $rc -eq 0 ]
check "60000x60000 PNG: used less than 200 MB" [ "$rss" -lt $((200 * 1024 * slow)) ]
# A real 196-megapixel PNG (a compressed bomb just under the limit, with
# alpha): decoded as a stream, in bounded memory.
vips black big.v 14000 14000 --bands 4
vips copy big.v "big.png[compression=9]" && rm -f big.v
T=120 g big.png --preview big-p.png "${P[@]}"
check "196-megapixel PNG: used (exit 0)" [ $rc -eq 0 ]
check "196-megapixel PNG: in bounded memory (${rss} KiB)" [ "$rss" -lt "$mem_limit" ]
note "196-megapixel PNG: ${rss} KiB"
rm -f big.png
g mix/b1.png --preview limit.png "${P[@]}" --max-pixels 2000
check "--max-pixels 2000 refuses a 64x32 image (exit 3)" [ $rc -eq 3 ]
check "--max-pixels names the limit" grep -q "2000-pixel limit" err.txt

# --- unusual but valid images: used, with the right colour ----------------
mkdir odd
vips colourspace red.v odd/cmyk.jpg cmyk
vips cast red.v r16a.v ushort && vips linear r16a.v r16b.v 257 0 && vips cast r16b.v r16c.v ushort &&
  vips copy r16c.v r16.v --interpretation rgb16 && vips copy r16.v odd/16bit.png
vips extract_band grey.v odd/grey.png 0
vips extract_band grey.v odd/grey.jpg 0
vips black a0.v 64 32 && vips linear a0.v a.v 1 0 --uchar && vips bandjoin "red.v a.v" odd/transparent.png
vips linear a0.v a128.v 1 255 --uchar && vips bandjoin "red.v a128.v" odd/opaque-alpha.png
ffmpeg -v error -f lavfi -i "color=c=red:s=64x32:r=5:d=0.4" -f lavfi -i "color=c=blue:s=64x32:r=5:d=0.4" \
  -filter_complex "[0][1]concat=n=2:v=1" -y odd/animated.gif
ffmpeg -v error -f lavfi -i "color=c=red:s=64x32:r=5:d=0.4" -f lavfi -i "color=c=blue:s=64x32:r=5:d=0.4" \
  -filter_complex "[0][1]concat=n=2:v=1" -c:v libwebp_anim -loop 0 -y odd/animated.webp
vips copy red.v odd/jpeg-named.png.tmp.jpg && mv odd/jpeg-named.png.tmp.jpg odd/jpeg-named.png
colour tiny.v 255 0 0 1 1 && vips copy tiny.v odd/1x1.png
colour wide.v 255 0 0 4000 1 && vips copy wide.v odd/4000x1.png
colour tall.v 255 0 0 1 4000 && vips copy tall.v odd/1x4000.png
expect() { # FILE R G B [more gridvid options]: used alone, the tile's centre colour
  local f=$1 r=$2 gg=$3 b=$4; shift 4
  rm -f odd.png
  g "$f" --preview odd.png "${P[@]}" "$@"
  check "$f: used (exit 0)" [ $rc -eq 0 ]
  check "$f: no warning" [ "$(grep -c warning err.txt)" = 0 ]
  check "$f: colour" near odd.png 32 16 "$r" "$gg" "$b" 40
}
# CMYK red goes through the CMYK profile: a little off pure red.
expect odd/cmyk.jpg 235 45 45
expect odd/16bit.png 255 0 0
expect odd/grey.png 100 100 100
expect odd/grey.jpg 100 100 100
expect odd/transparent.png 0 0 255 --background blue
expect odd/opaque-alpha.png 255 0 0 --background blue
# animations play (docs/CLIPS.md): red for 0.4 s, then blue
expect odd/animated.gif 255 0 0
expect odd/animated.webp 255 0 0
expect odd/animated.gif 0 0 255 --at 0.5
expect odd/animated.webp 0 0 255 --at 0.5
expect odd/jpeg-named.png 255 0 0
expect odd/1x1.png 255 0 0
expect odd/4000x1.png 255 0 0
expect odd/1x4000.png 255 0 0
if vips -l foreign 2> /dev/null | grep -q heifload && vips copy red.v odd/red.heic 2> /dev/null; then
  expect odd/red.heic 255 0 0
else
  note "HEIC: this libvips cannot read or write it; not tested"
fi

# JPEG headers are read by gridvid's own reader (src/jpeginfo.c); one
# longer than it reads (two 64 KB comments before the frame header) goes
# to libvips. Both paths give the same picture and the same refusal.
vips copy red.v odd/plain.jpg
vips copy red.v "odd/progressive.jpg[interlace]"
python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
comment = b"\xff\xfe" + (65535).to_bytes(2, "big") + b"x" * 65533
open(sys.argv[2], "wb").write(d[:2] + comment * 2 + d[2:])
' odd/plain.jpg odd/long-header.jpg
for f in plain progressive long-header; do
  expect odd/$f.jpg 255 0 0
  g odd/$f.jpg --preview lim.png "${P[@]}" --max-pixels 2000
  check "$f.jpg: --max-pixels refuses it (exit 3)" [ $rc -eq 3 ]
  check "$f.jpg: the refusal names its size" \
    grep -qF "odd/$f.jpg: 64x32 is over the 2000-pixel limit" err.txt
done
head -c 1000 odd/long-header.jpg > odd/cut-header.jpg
g odd/cut-header.jpg mix/b1.png -o cut.mp4 "${R[@]}"
check "a JPEG cut inside its header: skipped (exit 0)" [ $rc -eq 0 ]
check "a JPEG cut inside its header: one warning" [ "$(warnings_for odd/cut-header.jpg)" = 1 ]
# a zip archive (here the fuzzer's 53 bytes that made cfitsio ask for
# 3.9 GB) is not an image, and no loader is asked
cp "$GV_SOURCE_DIR/tests/fuzz/corpus/image/zip-header-cfitsio-inflates-3.9GB.bin" odd/archive.jpg
g odd/archive.jpg mix/b1.png -o zip.mp4 "${R[@]}"
check "a zip archive: skipped (exit 0)" [ $rc -eq 0 ]
check "a zip archive: not an image" grep -qF "odd/archive.jpg: not an image" err.txt
check "a zip archive: in bounded memory (${rss} KiB)" [ "$rss" -lt "$mem_limit" ]

# --- EXIF orientation: each of the eight comes out upright ----------------
# Upright picture U: red | blue over green | white. Each file holds U
# turned by the inverse of its orientation, so only honouring the tag
# gives U back.
colour q.v 0 0 0 32 16
colour qr.v 255 0 0 32 16; colour qb.v 0 0 255 32 16
colour qg.v 0 255 0 32 16; colour qw.v 255 255 255 32 16
vips arrayjoin "qr.v qb.v qg.v qw.v" U.v --across 2
for n in 1 2 3 4 5 6 7 8; do
  case $n in
    1) vips copy U.v S.v ;;
    2) vips flip U.v S.v horizontal ;;
    3) vips rot U.v S.v d180 ;;
    4) vips flip U.v S.v vertical ;;
    5) vips rot U.v t.v d90 && vips flip t.v S.v horizontal ;;   # transpose
    6) vips rot U.v S.v d270 ;;
    7) vips rot U.v t.v d270 && vips flip t.v S.v horizontal ;;  # transverse
    8) vips rot U.v S.v d90 ;;
  esac
  vips copy S.v "S.jpg[strip,Q=95]"
  "$BADIMG" exif S.jpg $n "orient$n.jpg"
  rm -f o.png
  g "orient$n.jpg" --preview o.png "${P[@]}"
  check "EXIF orientation $n: exit 0" [ $rc -eq 0 ]
  check "EXIF orientation $n: upright" \
    eval 'near o.png 16 8 255 0 0 40 && near o.png 48 8 0 0 255 40 && near o.png 16 24 0 255 0 40 && near o.png 48 24 255 255 255 40'
done

# --- names with spaces and Japanese ----------------------------------------
mkdir names
vips copy red.v "names/my photo 1.png"
vips copy green.v "names/写真 2.png"
echo "not a picture" > "names/壊れた 画像.jpg"
g names -o names.mp4 "${R[@]}"
check "names with spaces and Japanese: exit 0" [ $rc -eq 0 ]
check "names: both pictures used" [ "$(json images)" = 2 ]
check "names: the bad one named exactly, once" [ "$(warnings_for "names/壊れた 画像.jpg")" = 1 ]
# A name holding a newline and a terminal escape: one warning line each,
# the control bytes shown as \xNN, no forged line, no escape sequence.
mkdir ctl
vips copy red.v ctl/ok.png
printf 'x' > "ctl/bad
gridvid: error: forged.jpg"
printf 'x' > "ctl/esc$(printf '\033')[31mred.jpg"
g ctl --preview ctl.png "${P[@]}"
check "control bytes in names: exit 0" [ $rc -eq 0 ]
check "control bytes in names: one line per warning" [ "$(grep -c . err.txt)" = 3 ]
check "a newline in a name forges no line" [ "$(grep -c '^gridvid: error' err.txt)" = 0 ]
check "a newline in a name is shown escaped" grep -qF 'ctl/bad\x0agridvid: error: forged.jpg: not an image' err.txt
check "an escape in a name is shown escaped" grep -qF 'ctl/esc\x1b[31mred.jpg: not an image' err.txt
check "no escape byte reaches stderr" [ "$(grep -c "$(printf '\033')" err.txt)" = 0 ]
g "names/写真 2.png" --preview "names/プレビュー.png" "${P[@]}"
check "a Japanese input and preview name: exit 0" [ $rc -eq 0 ]
check "a Japanese preview name: written" near "names/プレビュー.png" 32 16 0 255 0 40

# --- unreadable files and folders ----------------------------------------
mkdir -p perm/sub
vips copy red.v perm/a.png
vips copy green.v perm/sub/b.png
vips copy blue.v perm/locked.png
chmod 000 perm/locked.png
mkdir perm/closed && vips copy white.v perm/closed/c.png && chmod 000 perm/closed
mkdir -m 777 permout
if [ "$(id -u)" -ne 0 ]; then
  as_other() { "$@"; }
elif command -v setpriv > /dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2> /dev/null; then
  as_other() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
  as_other=""
fi
if [ "$(type -t as_other)" = function ] && ! as_other cat perm/locked.png > /dev/null 2>&1; then
  rc=0
  as_other timeout $((60 * slow)) "$GRIDVID" perm --recursive -o permout/perm.mp4 "${R[@]}" \
    > out.txt 2> err.txt || rc=$?
  check "unreadable file and folder: exit 0" [ $rc -eq 0 ]
  check "unreadable file: one warning" [ "$(warnings_for perm/locked.png)" = 1 ]
  check "unreadable file: the reason" grep -q "locked.png: .*Permission denied" err.txt
  check "unreadable folder: one warning" [ "$(grep -c 'perm/closed' err.txt)" = 1 ]
  check "unreadable: the readable pictures are used" [ "$(json images)" = 2 ]
  rc=0
  as_other timeout $((60 * slow)) "$GRIDVID" perm/locked.png perm/a.png --strict \
    -o permout/strict.mp4 "${R[@]}" > out.txt 2> err.txt || rc=$?
  check "unreadable file with --strict: exit 3" [ $rc -eq 3 ]
else
  note "unreadable files: running as root with no other user to switch to (root reads" \
       "every file whatever its mode); not tested"
fi
chmod 755 perm/closed; chmod 644 perm/locked.png

# --- things that are not files ------------------------------------------
mkfifo fifo.jpg
T=20 g fifo.jpg mix/b1.png --preview fifo.png "${P[@]}"
check "a FIFO given as input: no hang, exit 0" [ $rc -eq 0 ]
check "a FIFO: one warning" grep -q "fifo.jpg: not a regular file" err.txt
mkdir fifodir && mkfifo fifodir/pipe.png && vips copy red.v fifodir/a.png
T=20 g fifodir --preview fifo2.png "${P[@]}"
check "a FIFO in a folder: no hang, exit 0" [ $rc -eq 0 ]
T=20 g /dev/zero mix/b1.png --preview dev.png "${P[@]}"
check "/dev/zero as input: exit 0" [ $rc -eq 0 ]
check "/dev/zero as input: one warning" [ "$(warnings_for /dev/zero)" = 1 ]
g no-such-file.png -o x.mp4 "${R[@]}"
check "a missing input: exit 3" [ $rc -eq 3 ]
check "a missing input: named" grep -q "no-such-file.png" err.txt

# --- symbolic link loops under --recursive ------------------------------
mkdir -p tree/a/sub
vips copy red.v tree/a/1.png
vips copy green.v tree/a/sub/2.png
ln -s .. tree/a/up
ln -s . tree/a/self
ln -s ../.. tree/a/sub/loop
ln -s a tree/b
ln -s ../tree tree/a/sub/outside
T=30 g tree --recursive --dry-run "${R[@]}"
check "symlink loops: finishes (exit 0)" [ $rc -eq 0 ]
check "symlink loops: each picture once" grep -q "inputs: 2 images used" out.txt
T=30 g tree --recursive -o tree.mp4 "${R[@]}"
check "symlink loops: renders" [ $rc -eq 0 ]
check "symlink loops: two pictures in the video" [ "$(json images)" = 2 ]

# --- bad settings files: exit 2 with the file named, nothing written ------
mkdir envdir
head -c 20000000 /dev/zero > big.env
head -c 4096 /dev/urandom > random.env
printf 'FPS=30\0\n' > nul.env
printf 'FPS="30\n' > quote.env
for e in envdir big.env random.env nul.env quote.env; do
  g mix/b1.png -o env.mp4 "${R[@]}" --env-file "$e"
  check "--env-file $e: exit 2" [ $rc -eq 2 ]
  check "--env-file $e: names the file" grep -q "gridvid: $e" err.txt
  check "--env-file $e: nothing written" [ ! -e env.mp4 ]
done

# --- a tree 300 folders deep: cut at 256 levels with one warning ---------
mkdir deep && vips copy red.v deep/top.png
deep=deep
for i in $(seq 1 300); do deep=$deep/d; done
mkdir -p "$deep" && vips copy green.v "$deep/bottom.png"
T=30 g deep --recursive --dry-run "${R[@]}"
check "300 folders deep: finishes (exit 0)" [ $rc -eq 0 ]
check "300 folders deep: one warning at the cut" [ "$(grep -c 'deeper than' err.txt)" = 1 ]
check "300 folders deep: what is above the cut is used" grep -q "inputs: 1 images used" out.txt

# --- ten thousand files ---------------------------------------------------
mkdir many
"$BADIMG" ppms many 10000
start=$(date +%s)
T=120 g many --dry-run "${R[@]}"
took=$(( $(date +%s) - start ))
check "10000 files: plan (exit 0)" [ $rc -eq 0 ]
check "10000 files: all used" grep -q "inputs: 10000 images used" out.txt
check "10000 files: planned in bounded time (${took} s)" [ $took -le $((60 * slow)) ]
check "10000 files: planned in bounded memory (${rss} KiB)" [ "$rss" -lt $((150 * 1024 * slow)) ]
note "10000 files: plan in ${took} s, ${rss} KiB"
start=$(date +%s)
T=300 g many -o many.mp4 --size 320x240 --tile-height 16 --duration 2 --fps 10 --gpu false \
  --encoder libx264 --preset ultrafast --progress json
took=$(( $(date +%s) - start ))
check "10000 files: render (exit 0)" [ $rc -eq 0 ]
check "10000 files: every image used" [ "$(json images)" = 10000 ]
check "10000 files: 20 frames" [ "$(frames many.mp4)" = 20 ]
check "10000 files: rendered in bounded memory (${rss} KiB)" [ "$rss" -lt "$mem_limit" ]
note "10000 files: render in ${took} s, ${rss} KiB"

echo "test_badinput: $checks checks, $fails failed"
[ $fails -eq 0 ]
