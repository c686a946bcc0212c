#!/usr/bin/env bash
# ch02_openmp's own flags: each bad value exits 2 with one stderr line naming the flag.
set -u
exe=$1
failures=0
check() {
  local want=$1; shift
  "$exe" --no-progress "$@" >/dev/null 2>/tmp/ptt_ch02_err.$$ </dev/null
  local code=$?
  if [[ $code -eq 2 && $(wc -l </tmp/ptt_ch02_err.$$) -eq 1 ]] && grep -qF -- "$want" /tmp/ptt_ch02_err.$$; then
    echo "ok   $*: $(cat /tmp/ptt_ch02_err.$$)"
  else
    echo "FAIL $*: exit $code, stderr:"; cat /tmp/ptt_ch02_err.$$; failures=$((failures + 1))
  fi
}
check --threads --threads 0
check --threads --threads -2
check --threads --threads many
check --shards --shards 0
check --reduce --reduce magic
check --reduce --reduce atomic --deterministic
rm -f /tmp/ptt_ch02_err.$$
echo "$failures failed"
[[ $failures -eq 0 ]]
