#!/usr/bin/env bash
# Without a usable GPU, chapter 04's programs exit 2 with ONE stderr line saying "no CUDA device"
# (never a crash). On a machine with a GPU there is nothing to test here: exit 77 (skipped).
# Usage: no_device.sh CH04_CUDA CH04_GEMM CH04_STEP_BENCH
set -u
cuda=$1 gemm=$2 step=$3
if "$gemm" --list-devices >/dev/null 2>&1; then
  echo "a CUDA device is present: skipped"; exit 77
fi
failures=0
err=$(mktemp)
check() {
  "$@" >/dev/null 2>"$err" </dev/null
  local code=$?
  if [[ $code -eq 2 && $(wc -l <"$err") -eq 1 ]] && grep -qF "no CUDA device" "$err"; then
    echo "ok   $(basename "$1"): $(cat "$err")"
  else
    echo "FAIL $*: exit $code, stderr:"; cat "$err"; failures=$((failures + 1))
  fi
}
check "$cuda" --no-progress --epochs 1
check "$cuda" --no-progress --gemm smem --no-graph
check "$gemm"
check "$gemm" --kernel vectorized --m 1000 --n 777 --k 333
check "$gemm" --list-devices
check "$step"
rm -f "$err"
echo "$failures failed"
[[ $failures -eq 0 ]]
