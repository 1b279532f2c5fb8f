#!/usr/bin/env bash
# Installs what gridvid needs to build, test and benchmark on Debian or
# Ubuntu, then configures and builds it in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck disable=SC2207
packages=($(grep -v '^#' scripts/packages))
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The fuzzers need clang's libFuzzer runtime, packaged apart on Debian
# and Ubuntu (libclang-rt-N-dev); without it the fuzz smoke is skipped.
if command -v clang > /dev/null &&
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
     clang -x c -fsanitize=fuzzer -o /dev/null - 2> /dev/null; then
  v=$(clang -dumpversion | cut -d. -f1)
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
    "libclang-rt-$v-dev" || echo "setup: no libFuzzer runtime for clang $v; fuzzing skipped"
fi

builddir=${GV_BUILD:-build}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" --buildtype=release --werror ${GV_MESON_ARGS:-}
fi
ninja -C "$builddir"
