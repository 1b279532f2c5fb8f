#!/usr/bin/env bash
# The man page and the bash and zsh completions know every flag that
# `gridvid --help` lists, and the man page carries the program's version.
set -u
gridvid=${GRIDVID:-${GV_BUILD_DIR:?}/gridvid}
src=${GV_SOURCE_DIR:?}
man=$src/docs/gridvid.1
. "$src/tests/check.sh"
unset_setting_keys "$gridvid" || exit 1
fails=0

flags=$("$gridvid" --help | grep -E '^  -' | cut -c3-30 |
  grep -oE '(^|[ ,])--?[a-z][a-z0-9-]*' | tr -d ' ,' | sort -u)
if [ "$(wc -w <<< "$flags")" -lt 40 ]; then
  echo "FAIL: could not read the flags of gridvid --help: $flags" >&2
  exit 1
fi

for flag in $flags; do
  # roff writes a minus as \-, and an option in bold
  roff="\\fB${flag//-/\\-}\\fR"
  grep -qF -- "$roff" "$man" || { echo "FAIL: $flag is not in docs/gridvid.1" >&2; fails=$((fails + 1)); }
  for f in "$src/completions/gridvid.bash" "$src/completions/_gridvid"; do
    grep -qE -- "(^|[^a-z-])$flag([^a-z-]|\$)" "$f" ||
      { echo "FAIL: $flag is not in ${f#"$src"/}" >&2; fails=$((fails + 1)); }
  done
done

version=$("$gridvid" --version | sed 's/^gridvid //')
grep -q "^\.TH GRIDVID 1 \"[^\"]*\" \"gridvid $version\"" "$man" ||
  { echo "FAIL: docs/gridvid.1 is not for gridvid $version" >&2; fails=$((fails + 1)); }

if command -v groff > /dev/null; then
  warnings=$(groff -man -Tutf8 -wall "$man" 2>&1 > /dev/null)
  [ -z "$warnings" ] || { echo "FAIL: groff warns about docs/gridvid.1:" >&2; echo "$warnings" >&2; fails=$((fails + 1)); }
fi
bash -n "$src/completions/gridvid.bash" || fails=$((fails + 1))
if command -v zsh > /dev/null; then
  zsh -n "$src/completions/_gridvid" || fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] && echo "ok: $(wc -w <<< "$flags") flags documented and completed"
[ "$fails" -eq 0 ]
