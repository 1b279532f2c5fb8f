#!/usr/bin/env bash
# Rules of the source tree that keep it readable (docs/ARCHITECTURE.md):
# - no function in src/ longer than 120 lines;
# - the environment is read only by the settings (src/config.c) and the
#   test-switch reader (src/hooks.c);
# - each third-party library is included by its own module only:
#   libav* by src/encode/ and src/clip.c, libvips by src/tiles.c, src/text.c and
#   src/png.c, Vulkan by src/gpu/ and the Vulkan compositor.
set -u
src=${GV_SOURCE_DIR:?}
. "$src/tests/check.sh"
cd "$src" || exit 1
max=120

# A function body runs from a "{" in column 0 to the next "}" in column 0
# (the style of every file here); its name is the last line before it that
# starts in column 0 with an identifier and has a "(".
long_functions() {
  find src -name '*.c' | sort | while read -r f; do
    awk -v max="$max" -v file="$f" '
      /^[A-Za-z_].*\(/ { sig = $0; line = NR }
      /^\{/ { start = NR }
      /^\}/ { if (start && NR - start + 1 > max)
                printf "%s:%d: %d lines: %s\n", file, line, NR - start + 1, sig
              start = 0 }' "$f"
  done
}
out=$(long_functions)
check "functions over $max lines:
$out" test -z "$out"

# Sanity of the measure itself: it must see a long function as long.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{ echo 'int f(void)'; echo '{'; for _ in $(seq 130); do echo '    x++;'; done; echo '}'; } > "$tmp/long.c"
seen=$(cd "$tmp" && mkdir -p src && mv long.c src/ && long_functions)
check "the length check finds a 132-line function" grep -q 'src/long.c:1: 132 lines' <<< "$seen"

out=$(grep -rn 'getenv *(' src --include='*.c' --include='*.h' | grep -vE '^src/(config|hooks)\.c:')
check "getenv outside src/config.c and src/hooks.c:
$out" test -z "$out"

out=$(grep -rlE '#include <lib(avcodec|avformat|avutil|swresample|swscale)/' src |
      grep -vE '^src/(encode/|clip\.c$)')
check "libav* included outside src/encode/ and src/clip.c: $out" test -z "$out"

out=$(grep -rl '#include <vips/' src | grep -vE '^src/(tiles|png|text)\.c$')
check "libvips included outside src/tiles.c, src/png.c and src/text.c: $out" test -z "$out"

out=$(grep -rl '#include <vulkan/' src | grep -vE '^src/(gpu|render/vulkan)/')
check "Vulkan included outside src/gpu/ and src/render/vulkan/: $out" test -z "$out"

echo "source: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
