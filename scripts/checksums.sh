#!/usr/bin/env bash
# Prints the final param_checksum of every tour configuration (chapters 01, 02, 03, 05) and of a
# second seed with Adam, one line each: "config<TAB>checksum". Used to prove that a refactoring
# changed no number: run it before and after, and diff the two outputs.
#
#   scripts/checksums.sh BUILD_DIR [--quick]
#     --quick: only the Adam runs (--epochs 1 --max-steps 200 --seed 3), which take seconds;
#              without it the tour configurations run their full default 20 epochs too.
set -euo pipefail
build=${1:?usage: scripts/checksums.sh BUILD_DIR [--quick]}
quick=${2:-}
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ch01=$build/chapters/01_serial/ch01_serial
ch02=$build/chapters/02_openmp_data_parallel/ch02_openmp
ch03=$build/chapters/03_mpi_data_parallel/ch03_mpi
ch05=$build/chapters/05_model_parallel/ch05_model_parallel
run() {  # name, command...
  local name=$1; shift
  "$@" --no-progress --metrics "$tmp/m.jsonl" >/dev/null
  printf '%s\t%s\n' "$name" "$(tail -n 1 "$tmp/m.jsonl" | grep -oE '"param_checksum":"[0-9a-f]{8}"' | cut -d'"' -f4)"
}
mpi() { OMP_NUM_THREADS=1 mpiexec -n 2 "$@"; }
configs=(
  "ch01|$ch01"
  "ch02 buffers 2 threads|$ch02 --threads 2"
  "ch02 deterministic 2 threads|$ch02 --threads 2 --deterministic"
  "ch02 owner 2 threads|$ch02 --threads 2 --reduce owner"
  "ch02 atomic 1 thread|$ch02 --threads 1 --reduce atomic"
  "ch02 critical 1 thread|$ch02 --threads 1 --reduce critical"
  "ch02 intra-op 2 threads|$ch02 --threads 2 --intra-op"
  "ch03 mpi 2 ranks|mpi $ch03 --batch-size 64 --allreduce mpi"
  "ch03 ring 2 ranks|mpi $ch03 --batch-size 64 --allreduce ring"
  "ch03 bucketed 2 ranks|mpi $ch03 --batch-size 64 --allreduce bucketed"
  "ch05 tp 2|$ch05 --tp 2"
  "ch05 pp 2 gpipe m4|$ch05 --pp 2 --microbatches 4 --schedule gpipe"
  "ch05 pp 2 1f1b m4|$ch05 --pp 2 --microbatches 4 --schedule 1f1b"
)
for c in "${configs[@]}"; do
  name=${c%%|*}; cmd=${c#*|}
  # shellcheck disable=SC2086
  run "adam seed3 200 steps: $name" $cmd --optimizer adam --lr 0.001 --epochs 1 --max-steps 200 --seed 3
  # shellcheck disable=SC2086
  [[ $quick == --quick ]] || run "defaults (20 epochs): $name" $cmd
done
