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
