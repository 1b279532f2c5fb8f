#!/usr/bin/env bash
# The shared library exports exactly the functions the public header
# declares with GV_API, and the header declares no function without it.
set -u
build=${GV_BUILD_DIR:?}
header=${GV_SOURCE_DIR:?}/include/gridvid/gridvid.h
lib=$build/libgridvid.so
if [ ! -e "$lib" ] || ! nm -D --defined-only "$lib" > /dev/null 2>&1; then
  echo "SKIP: needs an ELF libgridvid.so and nm -D"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

# Declarations start at the beginning of a line and end at ';'.
awk '/^GV_API /{ d = 1 } d { buf = buf $0 " " } d && /;/ { print buf; buf = ""; d = 0 }' "$header" |
  sed -E 's/^GV_API[^(]*[^A-Za-z0-9_](gv_[A-Za-z0-9_]+)[[:space:]]*\(.*$/\1/' |
  sort -u > "$work/declared"
# Any other function declaration of a gv_ name, e.g. one missing GV_API.
grep -E '^[A-Za-z].*[^A-Za-z0-9_]gv_[A-Za-z0-9_]+[[:space:]]*\(' "$header" |
  grep -v '^GV_API ' > "$work/unmarked"

# Every defined dynamic symbol, whatever its kind (code, data, weak).
# The linker's own markers are not the library's.
nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' |
  grep -vE '^(_init|_fini|_edata|_end|__bss_start)$' | sed 's/@.*//' | sort -u > "$work/exported"
nm -D --defined-only "$lib" | awk 'NF >= 3 && $2 != "T" { print $3 " (" $2 ")" }' |
  grep -vE '^(_init|_fini|_edata|_end|__bss_start) ' > "$work/not_code"

if [ "$(wc -l < "$work/declared")" -lt 10 ] || grep -v '^gv_' "$work/declared"; then
  echo "FAIL: could not read the GV_API declarations of $header:" >&2
  cat "$work/declared" >&2
  fails=$((fails + 1))
fi
if [ -s "$work/unmarked" ]; then
  echo "FAIL: functions declared without GV_API (not exported):" >&2
  cat "$work/unmarked" >&2
  fails=$((fails + 1))
fi
if ! diff -u --label declared --label exported "$work/declared" "$work/exported" > "$work/diff"; then
  echo "FAIL: exports differ from the header ('-' declared only, '+' exported only):" >&2
  cat "$work/diff" >&2
  fails=$((fails + 1))
fi
if [ -s "$work/not_code" ]; then
  echo "FAIL: exported symbols that are not functions:" >&2
  cat "$work/not_code" >&2
  fails=$((fails + 1))
fi
[ "$fails" -eq 0 ] && echo "ok: $(wc -l < "$work/exported") functions, all declared in the header"
[ "$fails" -eq 0 ]
