#!/usr/bin/env bash
# ch03_mpi's own flags: each bad value exits 2 with one stderr line naming the flag.
set -u
exe=$1
failures=0
err=$(mktemp)
check() {
  local want=$1; shift
  "$exe" --no-progress "$@" >/dev/null 2>"$err" </dev/null
  local code=$?
  if [[ $code -eq 2 && $(wc -l <"$err") -eq 1 ]] && grep -qF -- "$want" "$err"; then echo "ok   $*: $(cat "$err")"
  else echo "FAIL $*: exit $code, stderr:"; cat "$err"; failures=$((failures + 1)); fi
}
check --allreduce --allreduce tree
check --bucket-kb --bucket-kb 0
check --threads --threads 0
check --threads --threads -1
check --allreduce --allreduce bucketed --threads 2
check --check-every --check-every -5
rm -f "$err"
echo "$failures failed"
[[ $failures -eq 0 ]]
