#!/usr/bin/env bash
# Checkpoints end to end, for a chapter executable:
#  1. a run killed with SIGKILL at random moments (many of them during a checkpoint write, which
#     happens every step) and resumed until it finishes ends with the SAME param_checksum as an
#     uninterrupted run, and every resume finds a loadable checkpoint;
#  2. damaged or foreign checkpoints are refused (exit 2, one line) and left untouched;
#  3. a diverging run (huge learning rate) stops with exit 1 naming the step, and keeps the last good
#     checkpoint.
# Usage: checkpoint.sh EXE [flags for every run]    (needs the Fashion-MNIST data set)
set -u
exe=$1; shift
extra=("$@")
data=${PTT_DATA_DIR:-/usr/share/datasets/fashion-mnist}
if [[ ! -e $data/train-images-idx3-ubyte.gz && ! -e $data/train-images-idx3-ubyte ]]; then
  echo "SKIP: no Fashion-MNIST in $data"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
base=(--epochs 2 --batch-size 100 --no-progress "${extra[@]}")
run=("${base[@]}" --hidden 128,64)
checksum() { grep -o 'param_checksum [0-9a-f]*' "$1" | cut -d' ' -f2; }

# 1. kill and resume
"$exe" "${run[@]}" >"$work/ref.out" 2>&1 || fail "reference run failed: $(tail -n 1 "$work/ref.out")"
want=$(checksum "$work/ref.out")
ck=$work/run.ckpt
"$exe" "${run[@]}" --checkpoint "$ck" --checkpoint-every 1 >"$work/out" 2>&1 &
pid=$!
kills=0 resumes=0
while ((kills < 6)); do
  # Let the run get going (on a loaded machine loading the data takes a while), then kill it at a
  # random moment; with a checkpoint every step, many kills land in the middle of a write.
  for _ in $(seq 1 600); do [[ -f $ck ]] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  sleep "0.$((RANDOM % 8))"
  kill -0 "$pid" 2>/dev/null || break
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; kills=$((kills + 1))
  if [[ -f $ck ]]; then
    "$exe" "${run[@]}" --checkpoint "$ck" --checkpoint-every 1 --resume >"$work/out" 2>&1 &
    resumes=$((resumes + 1))
  else
    "$exe" "${run[@]}" --checkpoint "$ck" --checkpoint-every 1 >"$work/out" 2>&1 &
  fi
  pid=$!
done
wait "$pid"; code=$?
got=$(checksum "$work/out")
if [[ ${code:-1} -eq 0 && $got == "$want" ]]; then echo "ok   killed $kills times, resumed $resumes times: param_checksum $got = uninterrupted run"
else fail "kill/resume: exit ${code:-?}, checksum '$got' vs uninterrupted '$want'"; tail -n 3 "$work/out"; fi

# 2. refusals: each exits 2 with one line and leaves the file as it was
refuse() {
  local name=$1 want_msg=$2 file=$3; shift 3
  local before after
  before=$(md5sum <"$file")
  local flags=("${run[@]}")
  [[ ${1:-} == --hidden ]] && flags=("${base[@]}")  # the shape refusal brings its own --hidden
  "$exe" "${flags[@]}" --checkpoint "$file" --resume "$@" >/dev/null 2>"$work/err"
  local code=$?
  after=$(md5sum <"$file")
  if [[ $code -eq 2 && $(wc -l <"$work/err") -eq 1 && $before == "$after" ]] && grep -qF -- "$want_msg" "$work/err"; then
    echo "ok   refuses $name: $(cat "$work/err")"
  else fail "refusal of $name: exit $code, file changed: $([[ $before == "$after" ]] && echo no || echo YES):"; cat "$work/err"; fi
}
good=$work/good.ckpt
"$exe" "${run[@]}" --max-steps 0 --epochs 2 --checkpoint "$good" --checkpoint-every 50 >/dev/null 2>&1 &
pid=$!; sleep 1.5; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
[[ -f $good ]] || "$exe" "${run[@]}" --checkpoint "$good" >/dev/null 2>&1
size=$(stat -c %s "$good")
head -c $((size / 2)) "$good" >"$work/truncated.ckpt"; refuse "a truncated file" "truncated" "$work/truncated.ckpt"
cp "$good" "$work/flipped.ckpt"; printf '\xff' | dd of="$work/flipped.ckpt" bs=1 seek=$((size - 100)) conv=notrunc status=none
refuse "a flipped byte" "checksum mismatch" "$work/flipped.ckpt"
cp "$good" "$work/version.ckpt"; printf '\x07' | dd of="$work/version.ckpt" bs=1 seek=8 conv=notrunc status=none
refuse "an unknown version" "unknown checkpoint version 7" "$work/version.ckpt"
refuse "another model shape" "check --hidden" "$good" --hidden 64
refuse "another seed" "seed" "$good" --seed 99
refuse "a missing file" "cannot open" "$work/none.ckpt" 2>/dev/null || true

# 3. divergence: exit 1 with the step named; the last good checkpoint stays loadable
"$exe" "${run[@]}" --lr 1e6 --lr-schedule constant --checkpoint "$work/div.ckpt" --checkpoint-every 1 >/dev/null 2>"$work/err"
code=$?
if [[ $code -eq 1 ]] && grep -q "training diverged at step [0-9]* (epoch 1)" "$work/err" && [[ -f $work/div.ckpt ]] &&
   "$exe" "${run[@]}" --lr 1e6 --lr-schedule constant --checkpoint "$work/div.ckpt" --resume 2>&1 >/dev/null | grep -q "training diverged"; then
  echo "ok   divergence stops the run: $(cat "$work/err")"
else fail "divergence: exit $code:"; cat "$work/err"; fi

echo "$failures failed"
[[ $failures -eq 0 ]]
