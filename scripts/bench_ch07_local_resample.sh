#!/usr/bin/env bash
# Chapter 07: does class-balanced resampling WITHIN each rank's shard help local SGD on skewed
# shards? Dirichlet alpha = 0.1 and by-class K = 2 (the control: its ranks' classes are already
# balanced, so only the switch from a shuffled sweep to draws with replacement changes), averaging
# every 16 steps and once per epoch, with --class-balance none and resample.
# Usage: scripts/bench_ch07_local_resample.sh BUILD_DIR OUT.jsonl [RANKS] [EPOCHS]
set -euo pipefail
build=${1:?usage: bench_ch07_local_resample.sh BUILD_DIR OUT.jsonl [RANKS] [EPOCHS]} out=${2:?} ranks=${3:-5} epochs=${4:-2}
exe=$build/chapters/07_uneven_data/ch07_uneven
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
       OMPI_MCA_mpi_yield_when_idle=1 OMP_NUM_THREADS=1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
: >"$out"
echo "| split | sync | --class-balance | test acc | macro-F1 |"
echo "| --- | --- | --- | ---: | ---: |"
for split in "dirichlet --alpha 0.1" "by-class --classes-per-rank 2"; do
  for sync in "--sync-every 16" "--sync-every epoch"; do
    for cb in none resample; do
      # shellcheck disable=SC2086
      mpiexec -n "$ranks" "$exe" --no-progress --epochs "$epochs" --split $split $sync --class-balance $cb \
        --metrics "$tmp" >/dev/null
      tail -n 1 "$tmp" >>"$out"
      tail -n 1 "$tmp" | python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"| $split | $sync | $cb | {d['test_acc']:.4f} | {d['macro_f1']:.4f} |\")"
    done
  done
done
