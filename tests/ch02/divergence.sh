#!/usr/bin/env bash
# The divergence guard in every mode of ch02_openmp (and --intra-op, chapter 01's step): a huge
# learning rate makes the loss overflow within a few steps; the run must stop with exit code 1 and
# one line naming the step N and its epoch, keep the checkpoint of step N-1 as the last good one,
# and a run resumed from that checkpoint must diverge at the same step N (the checkpoint holds the
# state before step N, not a state that step N's update reached).
# Usage: divergence.sh EXE    (needs the Fashion-MNIST data set)
set -u
exe=$1
data=${PTT_DATA_DIR:-/usr/share/datasets/fashion-mnist}
if [[ ! -e $data/train-images-idx3-ubyte.gz && ! -e $data/train-images-idx3-ubyte ]]; then
  echo "SKIP: no Fashion-MNIST in $data"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
run=(--threads 2 --hidden 64 --batch-size 100 --epochs 1 --no-progress --lr 1e6 --lr-schedule constant)
for mode in "--reduce buffers" "--reduce owner" "--reduce atomic" "--reduce critical" "--deterministic" "--intra-op"; do
  ck=$work/run.ckpt
  rm -f "$ck"
  # shellcheck disable=SC2086
  "$exe" "${run[@]}" $mode --checkpoint "$ck" --checkpoint-every 1 >/dev/null 2>"$work/err"
  code=$?
  err=$(cat "$work/err")
  step=$(grep -oE 'training diverged at step [0-9]+ \(epoch 1\)' <<<"$err" | grep -oE '[0-9]+' | head -n 1)
  if [[ $code -ne 1 || $(wc -l <"$work/err") -ne 1 || -z $step ]]; then
    echo "FAIL $mode: exit $code, stderr:"; echo "$err"; failures=$((failures + 1)); continue
  fi
  if ! grep -qF "Last good checkpoint: $ck (step $((step - 1)))" <<<"$err"; then
    echo "FAIL $mode: the last good checkpoint is not step $((step - 1)): $err"; failures=$((failures + 1)); continue
  fi
  # shellcheck disable=SC2086
  "$exe" "${run[@]}" $mode --checkpoint "$ck" --resume >/dev/null 2>"$work/err2"
  code=$?
  if [[ $code -eq 1 ]] && grep -qF "training diverged at step $step (epoch 1)" "$work/err2"; then
    echo "ok   $mode: $err"
  else
    echo "FAIL $mode: resumed from step $((step - 1)), exit $code:"; cat "$work/err2"; failures=$((failures + 1))
  fi
done
echo "$failures failed"
[[ $failures -eq 0 ]]
