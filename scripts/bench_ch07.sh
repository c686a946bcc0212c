#!/usr/bin/env bash
# Chapter 07's measurements: test accuracy and bytes communicated per rank for each split and each
# averaging period, on R ranks (default 5; more ranks than cores are oversubscribed, which slows
# the runs but does not change the accuracy: every run is seeded and its result does not depend
# on timing). Writes one JSON line per run (the final metrics record) and prints a Markdown table.
# Usage: scripts/bench_ch07.sh BUILD_DIR OUT.jsonl [RANKS] [EPOCHS]
set -euo pipefail
build=${1:?usage: bench_ch07.sh BUILD_DIR OUT.jsonl [RANKS] [EPOCHS]} out=${2:?} ranks=${3:-5} epochs=${4:-2}
exe=$build/chapters/07_uneven_data/ch07_uneven
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
       OMPI_MCA_mpi_yield_when_idle=1 OMP_NUM_THREADS=1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
: >"$out"
splits=("random" "stratified" "by-class --classes-per-rank 2" "dirichlet --alpha 0.1")
syncs=("--sync-every 1" "--sync-every 4" "--sync-every 16" "--sync-every 64" "--sync-every epoch" "--sync-once")
printf '| split | sync | test acc | syncs | MB sent per rank |\n| --- | --- | ---: | ---: | ---: |\n'
for split in "${splits[@]}"; do
  for sync in "${syncs[@]}"; do
    # shellcheck disable=SC2086
    mpiexec -n "$ranks" "$exe" --no-progress --epochs "$epochs" --split $split $sync --metrics "$tmp" >/dev/null
    tail -n 1 "$tmp" >>"$out"
    python3 - "$tmp" "$split" "$sync" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(f"| {sys.argv[2]} | {sys.argv[3]} | {d['test_acc']:.4f} | {d['syncs']} | {d['sync_bytes_per_rank'] / 1e6:.1f} |")
PY
  done
done
