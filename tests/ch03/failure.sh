#!/usr/bin/env bash
# Chapter 03 under mpiexec: only rank 0 talks; a rank with bad input, or a rank that is killed,
# ends the WHOLE job quickly with a non-zero code — never a hang.
# Usage: failure.sh MPIEXEC CH03_MPI   (environment: the OpenMPI variables of the CTest test)
set -u
mpiexec=$1 exe=$2
work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n ${job:-} ]] && pkill -9 -s "$job" 2>/dev/null' EXIT
source "$(dirname "$0")/../idx_fixtures.sh"
source "$(dirname "$0")/../mpi_job_lib.sh"
good "$work/data"
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# 1. Ranks other than 0 stay quiet: two epochs on two ranks print two epoch lines, not four.
timeout 60 "$mpiexec" -n 2 "$exe" --data-dir "$work/data" --epochs 2 --batch-size 4 --no-progress >"$work/out" 2>"$work/err"
code=$?
lines=$(grep -c '^epoch' "$work/out")
if [[ $code -eq 0 && $lines -eq 2 && $(grep -c '^final' "$work/out") -eq 1 ]]; then echo "ok   only rank 0 prints ($lines epoch lines)"
else fail "quiet ranks: exit $code, $lines epoch lines:"; cat "$work/out" "$work/err"; fi

# 2. Bad input on one rank only (MPMD launch: rank 1 gets a missing data directory).
start=$SECONDS
timeout 60 "$mpiexec" -n 1 "$exe" --data-dir "$work/data" --no-progress : -n 1 "$exe" --data-dir "$work/missing" --no-progress \
  >"$work/out" 2>"$work/err"
code=$? took=$((SECONDS - start))
if [[ $code -ne 0 && $code -ne 124 && $took -le 30 ]] && [[ $(grep -c "ch03_mpi: error (rank 1): $work/missing" "$work/err") -eq 1 ]]; then
  echo "ok   bad input on rank 1: exit $code after ${took}s, one line: $(grep ch03_mpi "$work/err")"
else fail "bad input on one rank: exit $code after ${took}s:"; cat "$work/err"; fi

# 3. A rank killed mid-training: the job ends within 10 s, non-zero.
killed_rank_ends_job "$mpiexec" "$exe" "$work/data" --batch-size 4

# 4. Checkpoints: rank 0 writes, every rank resumes. The job is killed (mpiexec and its ranks,
#    SIGKILL) once the first epoch's checkpoint exists; the resumed job ends with the same
#    param_checksum as an uninterrupted one.
data=${PTT_DATA_DIR:-/usr/share/datasets/fashion-mnist}
if [[ -e $data/train-images-idx3-ubyte.gz || -e $data/train-images-idx3-ubyte ]]; then
  run=(--data-dir "$data" --epochs 3 --hidden 32 --batch-size 64 --no-progress)
  timeout 120 "$mpiexec" -n 2 "$exe" "${run[@]}" >"$work/ref" 2>&1 </dev/null
  want=$(grep -o 'param_checksum [0-9a-f]*' "$work/ref")
  setsid "$mpiexec" -n 2 "$exe" "${run[@]}" --checkpoint "$work/ck" >"$work/out" 2>&1 </dev/null &
  job=$!
  for _ in $(seq 1 2400); do [[ -f $work/ck ]] && break; sleep 0.05; done
  kill_job "$job"; job=
  if grep -q '^final' "$work/out"; then echo "note the job finished before it could be killed; resuming its last checkpoint"; fi
  timeout 120 "$mpiexec" -n 2 "$exe" "${run[@]}" --checkpoint "$work/ck" --resume >"$work/out" 2>&1 </dev/null
  got=$(grep -o 'param_checksum [0-9a-f]*' "$work/out")
  if [[ -n $want && $got == "$want" ]]; then echo "ok   killed after the first checkpoint and resumed on 2 ranks: $got, as uninterrupted"
  else fail "checkpoint resume on 2 ranks: '$got' vs uninterrupted '$want'"; tail -n 3 "$work/out"; fi
else
  echo "skip checkpoint resume: no Fashion-MNIST in $data"
fi

echo "$failures failed"
[[ $failures -eq 0 ]]
