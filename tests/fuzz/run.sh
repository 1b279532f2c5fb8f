#!/usr/bin/env bash
# Runs the fuzzers built by tests/fuzz/build.sh, each for SECONDS, on a
# working corpus seeded with the kept inputs (tests/fuzz/corpus/) and the
# generated seeds. A crash leaves its input in OUTDIR/artifacts/ and makes
# the script fail; keep it in tests/fuzz/corpus/ once fixed.
#
#   tests/fuzz/run.sh SECONDS [OUTDIR] [env|image|jpeginfo ...]
#
# Prints one line per fuzzer: "fuzz NAME: ok|FAILED, N runs in S s".
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:?usage: run.sh SECONDS [OUTDIR] [env|image|jpeginfo ...]}
out=${2:-$src/build-fuzz}
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(env image jpeginfo)

export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export LSAN_OPTIONS=suppressions=$src/tests/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$out/artifacts"
status=0
for t in "${targets[@]}"; do
  corpus="$out/corpus-$t"
  mkdir -p "$corpus"
  extra=("$src/tests/fuzz/corpus/$t")
  [ -d "$out/seeds-$t" ] && extra+=("$out/seeds-$t")
  # A fixed seed (GV_FUZZ_SEED, 1 unless set; 0 is libFuzzer's "random")
  # makes the smoke run of CI try the same inputs in the same order every
  # time: a run fails because of the code, not the dice. Fuzzing for
  # real sets GV_FUZZ_SEED=0.
  args=(-seed="${GV_FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=20 -rss_limit_mb=3072 -max_len=65536
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-")
  [ -f "$src/tests/fuzz/fuzz_$t.dict" ] && args+=(-dict="$src/tests/fuzz/fuzz_$t.dict")
  log="$out/fuzz_$t.log"
  start=$(date +%s)
  "$out/fuzz_$t" "${args[@]}" "$corpus" "${extra[@]}" > "$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: ok, ${runs:-?} runs in $took s"
  else
    status=1
    echo "fuzz $t: FAILED (exit $rc), ${runs:-?} runs in $took s; see $log" >&2
    grep -m5 -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" >&2
  fi
done
exit $status
