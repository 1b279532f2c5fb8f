#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer) straight from the sources, and a seed corpus
# of small images of every format libvips reads here.
#
#   tests/fuzz/build.sh [OUTDIR]        default OUTDIR: build-fuzz
#
# Then tests/fuzz/run.sh runs them. Needs clang (with its libFuzzer
# runtime), pkg-config and libvips' development files; vips and ffmpeg
# for the seeds.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$src/build-fuzz}
mkdir -p "$out"
CC=${FUZZ_CC:-clang}

flags=(-std=c11 -g -O1 -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE
       -I"$src/include" -I"$src/src" -Wall -Wextra -Wno-unused-parameter)

"$CC" "${flags[@]}" -o "$out/fuzz_env" \
  "$src/tests/fuzz/fuzz_env.c" "$src/src/config.c" "$src/src/layout.c" "$src/src/log.c" -lm

"$CC" "${flags[@]}" -o "$out/fuzz_jpeginfo" "$src/tests/fuzz/fuzz_jpeginfo.c" "$src/src/jpeginfo.c"

# shellcheck disable=SC2207
vips_flags=($(pkg-config --cflags --libs vips))
"$CC" "${flags[@]}" -o "$out/fuzz_image" \
  "$src/tests/fuzz/fuzz_image.c" "$src/src/tiles.c" "$src/src/color.c" "$src/src/jpeginfo.c" \
  "$src/src/picture.c" "$src/src/log.c" "$src/src/resample.c" "$src/src/gpu/stub.c" \
  "${vips_flags[@]}" -lpthread -lm

# Seeds: one small picture per format and kind, made fresh each build.
seeds="$out/seeds-image"
if command -v vips > /dev/null && [ ! -e "$seeds/.done" ]; then
  rm -rf "$seeds"
  mkdir -p "$seeds"
  t=$(mktemp -d)
  trap 'rm -rf "$t"' EXIT
  vips black "$t/b.v" 23 17 --bands 3
  vips linear "$t/b.v" "$t/rgb.v" "1 1 1" "40 160 220" --uchar
  vips black "$t/a.v" 23 17
  vips linear "$t/a.v" "$t/alpha.v" 1 128 --uchar
  vips bandjoin "$t/rgb.v $t/alpha.v" "$t/rgba.v"
  vips extract_band "$t/rgb.v" "$t/grey.v" 1
  vips cast "$t/rgb.v" "$t/rgb16.v" ushort
  vips copy "$t/rgb16.v" "$t/rgb16i.v" --interpretation rgb16
  for f in jpg png webp gif tif ppm; do
    vips copy "$t/rgb.v" "$seeds/rgb.$f" 2> /dev/null || true
    vips copy "$t/grey.v" "$seeds/grey.$f" 2> /dev/null || true
  done
  for f in png webp tif gif; do
    vips copy "$t/rgba.v" "$seeds/rgba.$f" 2> /dev/null || true
  done
  vips copy "$t/rgb16i.v" "$seeds/rgb16.png" 2> /dev/null || true
  vips colourspace "$t/rgb.v" "$seeds/cmyk.jpg[strip]" cmyk 2> /dev/null || true
  vips copy "$t/rgb.v" "$seeds/progressive.jpg[interlace]" 2> /dev/null || true
  vips copy "$t/rgb.v" "$seeds/interlaced.png[interlace]" 2> /dev/null || true
  vips copy "$t/rgb.v" "$seeds/rgb.heic" 2> /dev/null || true
  vips copy "$t/rgb.v" "$seeds/rgb.jp2" 2> /dev/null || true
  printf '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="20" height="10" fill="red"/></svg>' > "$seeds/rect.svg"
  if command -v ffmpeg > /dev/null; then
    ffmpeg -v error -f lavfi -i testsrc=size=24x16:rate=5:duration=0.6 -y "$seeds/anim.gif" || true
    ffmpeg -v error -f lavfi -i testsrc=size=24x16:rate=5:duration=0.6 -loop 0 -y "$seeds/anim.webp" || true
  fi
  find "$seeds" -size 0 -delete
  touch "$seeds/.done"
fi
echo "built $out/fuzz_env and $out/fuzz_image"
