# Sourced by the shell tests: the counterpart of check.h.
#   check DESCRIPTION COMMAND...   runs COMMAND; a failure is counted and named
#   unset_setting_keys GRIDVID     keeps the caller's settings out of the runs
# The test ends with: echo "NAME: $checks checks, $fails failed"; [ $fails -eq 0 ]
fails=0
checks=0
check() {
  local what=$1; shift
  checks=$((checks + 1))
  if ! "$@"; then
    echo "FAIL: $what" >&2
    fails=$((fails + 1))
  fi
}

# unset_setting_keys GRIDVID: unsets every settings key that GRIDVID reads
# from the environment (the KEY of each "KEY, default ..." line of
# `GRIDVID --help`), so that none of the caller's own (GAP, USE_GPU, ...)
# reaches the runs. The keys stay listed in $setting_keys. Fails, saying
# why, when the list cannot be read.
unset_setting_keys() {
  local help
  if ! help=$("$1" --help); then
    echo "FAIL: '$1 --help' failed: cannot list the settings keys" >&2
    return 1
  fi
  setting_keys=$(sed -n 's/^ \{2,\}\([A-Z][A-Z0-9_]*\), default .*/\1/p' <<< "$help")
  if [ -z "$setting_keys" ]; then
    echo "FAIL: no settings keys in '$1 --help'" >&2
    return 1
  fi
  # shellcheck disable=SC2086 # one word per key
  unset $setting_keys
}

# time_factor GRIDVID: sets $slow, the factor by which the time bounds of
# the shell tests widen: 4 for a sanitizer build (ASan and UBSan make the
# pipeline 3 to 4 times slower), doubled again when the machine is loaded
# (a 1-minute load average above its number of cores). The bounds stay
# promises about responsiveness (a signal stops a run within a second on
# an idle machine), not measurements of speed; bench/ measures speed.
time_factor() {
  slow=1
  if ldd "$1" "${GV_BUILD_DIR:-.}/libgridvid.so" 2> /dev/null | grep -q libasan; then
    slow=4
  fi
  local load cores
  load=$(cut -d' ' -f1 /proc/loadavg 2> /dev/null | cut -d. -f1)
  cores=$(nproc 2> /dev/null || echo 1)
  if [ -n "$load" ] && [ "$load" -ge "$cores" ]; then
    slow=$((slow * 2))
  fi
}

# wait_until SECONDS COMMAND...: runs COMMAND every 20 ms until it succeeds
# (0) or SECONDS pass (1): tests wait for a condition, never a fixed time.
wait_until() {
  local limit=$(( $1 * 50 )) i; shift
  for ((i = 0; i < limit; i++)); do
    "$@" && return 0
    sleep 0.02
  done
  return 1
}
