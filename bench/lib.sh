# shellcheck shell=bash disable=SC2154
# (SC2154: work and reps are the sourcing script's)
# What bench/run.sh and bench/clips.sh share: finding tools and timing a
# command (wall, user, sys, peak RSS, exit status). Sourced, never run:
#   . "$bench_dir/lib.sh"
# Sourcing only defines functions and sets gnu_time=""; nothing is run or
# written. It holds
#   have TOOL           TOOL is on PATH and not named in GV_BENCH_WITHOUT
#   now                 seconds since the epoch, with a fraction
#   find_gnu_time       sets gnu_time to a working GNU time, if any
#   timer_kind          which timer measures: GNU time, python3 or bash
#   write_measure_py    writes WORK/bin/measure.py (the python3 timer) and
#                       sets measure_py to it
#   timer OUT CMD...    runs CMD, writes "wall user sys maxrss_kb rc" to OUT:
#                       GNU time, else python3 (measure.py), else bash's times
#                       (no peak memory: "?")
#   measure_best NAME ARGS...  measure, --reps times; keeps the fastest
# The sourcing script must: set work (its absolute work folder) before
# write_measure_py; call find_gnu_time and write_measure_py before timer;
# set reps and define measure NAME ARGS... (which sets M_WALL M_USER M_SYS
# M_RSS M_RC M_NOTE) before measure_best. GV_BENCH_WITHOUT="time python3
# ffmpeg ..." (environment, read at each call) makes have and find_gnu_time
# act as if those tools were missing, to try the fallbacks of a bare machine.

gnu_time=""

have() {
  case " ${GV_BENCH_WITHOUT:-} " in *" $1 "*) return 1 ;; esac
  command -v "$1" >/dev/null 2>&1
}
now() { if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/,/.}"; else date +%s.%N; fi; }

find_gnu_time() {
  local t
  case " ${GV_BENCH_WITHOUT:-} " in *" time "*) return 1 ;; esac
  for t in /usr/bin/time "$(command -v gtime 2>/dev/null)"; do
    [ -n "$t" ] && [ -x "$t" ] && "$t" -f %e -o /dev/null true 2>/dev/null && { gnu_time=$t; return 0; }
  done
  return 1
}

# the order timer tries them in
timer_kind() {
  echo "${gnu_time:-$(have python3 && echo 'python3 wait4' || echo 'bash times (no peak memory)')}"
}

write_measure_py() {
  measure_py=$work/bin/measure.py
  mkdir -p "$work/bin"
  cat >"$measure_py" <<'EOF'
# python3 measure.py OUT CMD...: wall, user, sys, max RSS (KiB), exit status of CMD
import os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t
rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
with open(out, "w") as f:
    f.write("%.2f %.2f %.2f %d %d\n" % (wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, rc))
sys.exit(rc)
EOF
}

timer() {  # timer OUTFILE CMD...: runs CMD, writes "wall user sys maxrss_kb rc"
  local out=$1; shift
  if [ -n "$gnu_time" ]; then
    "$gnu_time" -f '%e %U %S %M %x' -o "$out" "$@"
  elif have python3; then
    python3 "$measure_py" "$out" "$@"
  else
    local t0 t1 rc
    t0=$(now)
    ( "$@" ); rc=$?
    t1=$(now)
    # the second line of times: user and system time of the children, as 1m2.5s
    # (into a file: in a pipe or $(...) the builtin would run in a fresh subshell that has no children)
    times >"$out.times"
    awk -v a="$t0" -v b="$t1" -v rc="$rc" 'NR == 2 {
      split($1, u, /[ms]/); split($2, s, /[ms]/)
      printf "%.2f %.2f %.2f ? %d\n", b - a, u[1] * 60 + u[2], s[1] * 60 + s[2], rc }' "$out.times" >"$out"
    rm -f "$out.times"
    return $rc
  fi
}

# measure_best NAME ARGS...: measure NAME ARGS..., --reps times; keeps the
# fastest run that succeeded (other work on the machine only ever slows a run
# down) and sets M_NAME to its name.
measure_best() {
  local name=$1; shift
  local i nm b="" bnote=""
  for ((i = 1; i <= reps; i++)); do
    nm=$name; [ "$reps" -gt 1 ] && nm=$name-r$i
    measure "$nm" "$@"
    if [ -z "$b" ] || { [ "$M_RC" = 0 ] && { [ "${b##* }" != 0 ] ||
         awk -v a="$M_WALL" -v w="${b%% *}" 'BEGIN{exit !(a < w)}'; }; }; then
      b="$M_WALL $M_USER $M_SYS $M_RSS $nm $M_RC"; bnote=$M_NOTE
    fi
    [ "$M_RC" = 0 ] || break
  done
  # shellcheck disable=SC2034  # M_NAME is for the script
  read -r M_WALL M_USER M_SYS M_RSS M_NAME M_RC <<<"$b"
  M_NOTE=$bnote
  [ "$reps" -gt 1 ] && M_NOTE="fastest of $i${M_NOTE:+; $M_NOTE}"
  return 0
}
