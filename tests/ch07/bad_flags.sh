#!/usr/bin/env bash
# ch07_uneven's own flags: each bad value exits 2 with one stderr line naming the flag, as one
# process and under mpiexec (printed once for the whole job, not once per rank); and a short
# local-SGD run on a tiny data set ends cleanly with every rank's replica identical.
# Usage: bad_flags.sh CH07_UNEVEN [MPIEXEC]   (environment: the OpenMPI variables of the test)
set -u
source "$(dirname "$0")/../bad_flags_lib.sh"
source "$(dirname "$0")/../idx_fixtures.sh"
exe=$1 mpiexec=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work" "$refused_err"' EXIT
good "$work/data"
check() { expect_refused "$1" "$exe" --no-progress --data-dir "$work/data" "${@:2}"; }
check --split --split shuffled
check --alpha --alpha 0
check --alpha --alpha -0.5
check --sync-every --sync-every 0
check --sync-every --sync-every -3
check --sync-every --sync-every often
check --sync-every --sync-every 4x
check --sync-once --sync-once --sync-every 4
check --classes-per-rank --classes-per-rank 0
check --classes-per-rank --classes-per-rank 11
check --slow-rank --slow-rank 1
check --slow-rank --slow-rank -2
check --slowdown --slowdown 0.5
check --balance --balance fastest
check --balance --balance speed --split by-class
check --balance --balance speed --sync-every 4
check --rebalance-every --rebalance-every 0
check --imbalance --imbalance 0,2,4:0
check --imbalance --imbalance 0,2,4:1.5
check --imbalance --imbalance 0,12:0.5
check --imbalance --imbalance 0,2,4
check --imbalance --imbalance 0:0.5 --sync-every 4
check --class-balance --class-balance oversample
check --class-balance --class-balance weights --sync-once

if [[ -n $mpiexec ]]; then
  # Under mpiexec: the job fails, and the error line appears once, not once per rank.
  for flags in "--alpha 0" "--sync-every 0" "--classes-per-rank 11" "--slow-rank 3"; do
    # shellcheck disable=SC2086
    timeout 60 "$mpiexec" -n 3 "$exe" --no-progress --data-dir "$work/data" $flags >/dev/null 2>"$work/err" </dev/null
    code=$?
    lines=$(grep -c "ch07_uneven: error" "$work/err")
    if [[ $code -ne 0 && $code -ne 124 && $lines -eq 1 ]]; then echo "ok   mpiexec -n 3 $flags: $(grep ch07_uneven "$work/err")"
    else echo "FAIL mpiexec -n 3 $flags: exit $code, $lines error lines:"; cat "$work/err"; failures=$((failures + 1)); fi
  done
  # Clean runs on 3 ranks: by-class shards with averaging at each epoch's end, once at the end,
  # every 3 steps; and a slow rank with speed-proportional parts.
  bc="--split by-class --classes-per-rank 1"
  for sync in "$bc --sync-every epoch" "$bc --sync-once" "$bc --sync-every 3" \
              "--split random --balance speed --rebalance-every 2 --slow-rank 1 --slowdown 2" \
              "--split dirichlet --imbalance 0,2:0.5 --class-balance weights" "--imbalance 0,2:0.5 --class-balance resample" \
              "--split dirichlet --alpha 0.1 --sync-every 2 --class-balance resample"; do
    # shellcheck disable=SC2086
    timeout 60 "$mpiexec" -n 3 "$exe" --no-progress --data-dir "$work/data" --epochs 2 --batch-size 8 \
      $sync --metrics "$work/m.jsonl" >"$work/out" 2>"$work/err" </dev/null
    code=$?
    if [[ $code -eq 0 ]] && grep -q '"final":true' "$work/m.jsonl" && grep -q '"sync_bytes_per_rank"' "$work/m.jsonl"; then
      if [[ $sync == *imbalance* ]] && ! grep -q '"macro_f1"' "$work/m.jsonl"; then
        echo "FAIL mpiexec -n 3 $sync: no macro_f1 in the final record"; failures=$((failures + 1)); continue
      fi
      echo "ok   mpiexec -n 3 $sync: $(grep '^final' "$work/out")"
    else echo "FAIL mpiexec -n 3 $sync: exit $code:"; cat "$work/out" "$work/err"; failures=$((failures + 1)); fi
  done
fi
finish
