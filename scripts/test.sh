#!/usr/bin/env bash
# Sets everything up, builds with warnings as errors and runs the tests:
# once in a release build, once under AddressSanitizer and
# UndefinedBehaviorSanitizer. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh || exit 1

passed=0
failed=0
failed_names=()
run_suite() {
  local dir=$1
  meson test -C "$dir" --print-errorlogs --num-processes "${GV_TEST_JOBS:-2}"
  local log="$dir/meson-logs/testlog.json"
  local p f
  p=$(grep -c '"result": "OK"' "$log" || true)
  f=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  passed=$((passed + p))
  failed=$((failed + f))
  # the names of the failed tests, to be listed again at the very end
  local name
  while IFS= read -r name; do
    [ -n "$name" ] && failed_names+=("$dir: $name (log: $dir/meson-logs/testlog.txt)")
  done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t.get("result") in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"):
        print(t["name"], t["result"])
' "$log")
}

run_suite build

if [ "${GV_SANITIZE:-1}" = 1 ]; then
  if [ ! -f build-san/build.ninja ]; then
    meson setup build-san --buildtype=debug --werror -Db_sanitize=address,undefined -Db_lundef=false
  fi
  ninja -C build-san || exit 1
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
  run_suite build-san
fi

# Fuzz smoke (issue 6): each libFuzzer target for GV_FUZZ_SECONDS (30 s
# by default) from its kept and generated inputs, where clang and its
# libFuzzer runtime exist. Each target counts as one test.
fuzz_smoke() {
  local secs=${GV_FUZZ_SECONDS:-30}
  if [ "$secs" = 0 ]; then
    echo "fuzz smoke: skipped (GV_FUZZ_SECONDS=0)"
    return
  fi
  if ! command -v clang > /dev/null ||
     ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
       clang -x c -fsanitize=fuzzer,address,undefined -o /dev/null - 2> /dev/null; then
    echo "fuzz smoke: skipped (no clang with the libFuzzer runtime)"
    return
  fi
  mkdir -p build-fuzz
  if ! tests/fuzz/build.sh build-fuzz > build-fuzz/build.log 2>&1; then
    cat build-fuzz/build.log
    echo "fuzz smoke: the fuzzers did not build"
    failed=$((failed + 1))
    failed_names+=("fuzz build (log: build-fuzz/build.log)")
    return
  fi
  local out
  out=$(tests/fuzz/run.sh "$secs" build-fuzz 2>&1)
  echo "$out"
  passed=$((passed + $(grep -c '^fuzz [a-z]*: ok' <<< "$out")))
  failed=$((failed + $(grep -c '^fuzz [a-z]*: FAILED' <<< "$out")))
  local line
  while IFS= read -r line; do
    [ -n "$line" ] && failed_names+=("$line")
  done < <(grep '^fuzz [a-z]*: FAILED' <<< "$out")
}
fuzz_smoke

for name in "${failed_names[@]}"; do
  echo "FAILED: $name"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
