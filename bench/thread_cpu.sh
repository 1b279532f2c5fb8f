#!/usr/bin/env bash
# CPU time of a command's threads by name: runs the command, samples
# /proc/PID/task/*/stat every 0.05 s, and prints each thread name's CPU
# seconds (user + system, at its last sample; threads that end between two
# samples lose at most 0.05 s each), most first. Shows where "gridvid's
# own" CPU time goes (issue 12); the encoder's threads are named by it.
#
# Usage: bench/thread_cpu.sh COMMAND [ARGS...]
set -uo pipefail
"$@" &
pid=$!
declare -A last
hz=$(getconf CLK_TCK)
while kill -0 "$pid" 2> /dev/null; do
  for st in /proc/"$pid"/task/*/stat; do
    line=$(cat "$st" 2> /dev/null) || continue
    tid=${st#/proc/$pid/task/}; tid=${tid%/stat}
    name=${line#*(}; name=${name%)*}
    rest=${line##*) }
    read -r -a f <<< "$rest"
    last["$tid"]="$name ${f[11]} ${f[12]}"
  done
  sleep 0.05
done
wait "$pid"
rc=$?
for tid in "${!last[@]}"; do echo "${last[$tid]}"; done |
  awk -v hz="$hz" '{ n = $1; for (i = 2; i < NF - 1; i++) n = n " " $i; cpu[n] += ($(NF - 1) + $NF) / hz; k[n]++ }
    END { for (n in cpu) printf "%8.2f s  %3d thread(s)  %s\n", cpu[n], k[n], n }' | sort -rn
exit $rc
