#!/usr/bin/env bash
# ch06_hybrid under mpiexec:
#  1. bad grids and flags: exit 2 with ONE line for the whole job (not one per rank);
#  2. --zero 1 on dp 1 is accepted (it shards over one rank: nothing changes);
#  3. a killed rank ends the job within 10 s;
#  4. a 4-rank job (dp 2 x tp 2) killed with SIGKILL several times while it checkpoints every step,
#     and resumed each time, ends with the SAME param_checksum as an uninterrupted run;
#  5. a checkpoint written on dp 2 x tp 2 resumes on dp 4, on pp 2 x tp 2 and with ZeRO-1: the
#     state is in chapter 01's layout, so any grid can cut it anew.
# Usage: grid.sh MPIEXEC CH06_HYBRID flags|checkpoints   (1-3, or 4-5: the sanitizer builds skip
#        the second, which SIGKILLs whole training runs; environment: the OpenMPI variables)
set -u
mpiexec=$1 exe=$2 part=${3:?usage: grid.sh MPIEXEC CH06_HYBRID flags|checkpoints}
work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n ${job:-} ]] && pkill -9 -s "$job" 2>/dev/null' EXIT
source "$(dirname "$0")/../idx_fixtures.sh"
source "$(dirname "$0")/../mpi_job_lib.sh"  # kill_job, killed_rank_ends_job
good "$work/data"
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
tiny=(--data-dir "$work/data" --no-progress --batch-size 8)

if [[ $part == flags ]]; then
# 1. refusals, each printed once by the whole job
refused() {
  local n=$1 want=$2; shift 2
  timeout 60 "$mpiexec" -n "$n" "$exe" "${tiny[@]}" "$@" >/dev/null 2>"$work/err" </dev/null
  local code=$? lines
  lines=$(grep -c "ch06_hybrid: error" "$work/err")
  if [[ $code -eq 2 && $lines -eq 1 ]] && grep -qF -- "$want" "$work/err"; then
    echo "ok   mpiexec -n $n $*: $(grep ch06_hybrid "$work/err")"
  else fail "mpiexec -n $n $*: exit $code, $lines error lines (want one naming '$want'):"; cat "$work/err"; fi
}
refused 2 "= 4 ranks, but the job has 2" --dp 2 --tp 2
refused 4 "= 2 ranks, but the job has 4" --dp 2
refused 2 "--tp 2: does not divide layer 1's width 33" --tp 2 --hidden 33,16
refused 4 "--pp 4: the network has 3 layers" --pp 4
refused 4 "--pp 2: the network splits into 1 units" --tp 2 --hidden 64 --pp 2
refused 2 "--microbatches" --pp 2 --microbatches 0
refused 2 "--order" --dp 2 --order tp-tp-dp
refused 2 "--zero" --dp 2 --zero 2

# 2. accepted: ZeRO on one dp rank, and every order
for flags in "--zero 1 --tp 2" "--dp 2 --order dp-tp-pp" "--pp 2 --order pp-dp-tp --schedule gpipe --microbatches 3"; do
  # shellcheck disable=SC2086
  timeout 60 "$mpiexec" -n 2 "$exe" "${tiny[@]}" --epochs 1 $flags >"$work/out" 2>"$work/err" </dev/null
  code=$?
  if [[ $code -eq 0 ]] && grep -q '^final' "$work/out"; then echo "ok   mpiexec -n 2 $flags: $(grep '^final' "$work/out")"
  else fail "mpiexec -n 2 $flags: exit $code:"; cat "$work/out" "$work/err"; fi
done

# 3. a rank killed mid-training ends the job
killed_rank_ends_job "$mpiexec" "$exe" "$work/data" --batch-size 8 --tp 2

fi

# 4. and 5. need the real data set (a run long enough to be killed at random moments)
data=${PTT_DATA_DIR:-/usr/share/datasets/fashion-mnist}
if [[ $part != checkpoints ]]; then
  :
elif [[ ! -e $data/train-images-idx3-ubyte.gz && ! -e $data/train-images-idx3-ubyte ]]; then
  echo "SKIP: no Fashion-MNIST in $data"; exit 77
else
  run=(--data-dir "$data" --epochs 2 --hidden 64,32 --batch-size 500 --no-progress)
  grid=(--dp 2 --tp 2)
  checksum() { grep -o 'param_checksum [0-9a-f]*' "$1" | cut -d' ' -f2; }
  timeout 300 "$mpiexec" -n 4 "$exe" "${run[@]}" "${grid[@]}" >"$work/ref" 2>&1 </dev/null
  want=$(checksum "$work/ref")
  ck=$work/run.ckpt
  kills=0 resumes=0
  setsid "$mpiexec" -n 4 "$exe" "${run[@]}" "${grid[@]}" --checkpoint "$ck" --checkpoint-every 1 >"$work/out" 2>&1 </dev/null &
  job=$!
  while ((kills < 4)); do
    for _ in $(seq 1 600); do [[ -f $ck ]] && break; kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
    sleep "0.$((RANDOM % 8))"
    kill -0 "$job" 2>/dev/null || break
    kill_job "$job"; kills=$((kills + 1))
    resume=()
    [[ -f $ck ]] && { resume=(--resume); resumes=$((resumes + 1)); }
    setsid "$mpiexec" -n 4 "$exe" "${run[@]}" "${grid[@]}" --checkpoint "$ck" --checkpoint-every 1 "${resume[@]}" \
      >"$work/out" 2>&1 </dev/null &
    job=$!
  done
  wait "$job"; code=$?; job=
  got=$(checksum "$work/out")
  if [[ $code -eq 0 && -n $want && $got == "$want" ]]; then
    echo "ok   4 ranks killed $kills times, resumed $resumes times: param_checksum $got = uninterrupted run"
  else fail "kill/resume on 4 ranks: exit $code, checksum '$got' vs uninterrupted '$want'"; tail -n 3 "$work/out"; fi

  # 5. the first epoch's checkpoint, resumed on other grids: the second epoch runs there.
  #    The checkpoint of epoch 1 comes from a job killed right after its first save (the end of
  #    epoch 1); the accuracy to reach is the uninterrupted run's.
  acc=$(grep -o 'test acc [0-9.]*' "$work/ref" | tail -n 1 | cut -d' ' -f3)
  one=$work/one.ckpt
  setsid "$mpiexec" -n 4 "$exe" "${run[@]}" "${grid[@]}" --checkpoint "$one" >"$work/first" 2>&1 </dev/null &
  job=$!
  for _ in $(seq 1 3000); do [[ -f $one ]] && break; sleep 0.05; done
  kill_job "$job"; job=
  for other in "--dp 4" "--pp 2 --tp 2 --microbatches 3" "--dp 2 --tp 2 --zero 1" "--dp 1"; do
    n=4; [[ $other == "--dp 1" ]] && n=1
    cp "$one" "$work/other.ckpt"
    # shellcheck disable=SC2086
    timeout 300 "$mpiexec" -n $n "$exe" "${run[@]}" $other --checkpoint "$work/other.ckpt" --resume >"$work/out" 2>&1 </dev/null
    code=$?
    got_acc=$(grep -o 'test acc [0-9.]*' "$work/out" | tail -n 1 | cut -d' ' -f3)
    if [[ $code -eq 0 ]] && ! grep -q '^epoch  1 ' "$work/out" && grep -q '^epoch  2 ' "$work/out" &&
       awk -v a="$got_acc" -v b="$acc" 'BEGIN { d = a - b; exit !(a != "" && d <= 0.01 && d >= -0.01) }'; then
      echo "ok   saved on dp 2 x tp 2 after epoch 1, resumed with $other: test acc $got_acc (uninterrupted $acc)"
    else fail "resume with $other: exit $code, test acc '$got_acc' vs '$acc':"; tail -n 4 "$work/out"; fi
  done
fi

echo "$failures failed"
[[ $failures -eq 0 ]]
