# Sourced by tests/chNN/bad_flags.sh: the check that a bad command line is refused properly.
#
#   expect_refused WANT COMMAND [ARGS...]   runs COMMAND; passes when it exits 2 with exactly one
#                                           line on stderr containing WANT (the flag it names)
#   finish                                  prints the count and returns non-zero on any failure
failures=0
refused_err=$(mktemp)
trap 'rm -f "$refused_err"' EXIT

expect_refused() {
  local want=$1; shift
  "$@" >/dev/null 2>"$refused_err" </dev/null
  local code=$?
  local shown="$(basename "$1") ${*:2}"
  if [[ $code -eq 2 && $(wc -l <"$refused_err") -eq 1 ]] && grep -qF -- "$want" "$refused_err"; then
    echo "ok   $shown: $(cat "$refused_err")"
  else
    echo "FAIL $shown: exit $code, stderr:"; cat "$refused_err"; failures=$((failures + 1))
  fi
}

finish() {
  echo "$failures failed"
  [[ $failures -eq 0 ]]
}
