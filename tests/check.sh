# Sourced by the shell tests: the counterpart of check.h.
#   check DESCRIPTION COMMAND...   runs COMMAND; a failure is counted and named
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
