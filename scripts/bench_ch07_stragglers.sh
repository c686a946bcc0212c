#!/usr/bin/env bash
# Chapter 07's straggler measurement: 2 ranks (one per core: with more ranks than cores a
# sleeping rank frees a core for the others and the effect hides), rank 1 slowed F x by sleeping
# (F - 1) x its measured compute time, with equal parts of each global batch and with
# speed-proportional parts (--balance speed). Step time = rank 0's training time / steps (median
# of REPEATS runs), against the prediction "a synchronous step waits for the slowest rank":
#   equal parts:  t(F) = t(1) + (F - 1) c          (c: one rank's compute for half the batch)
#   speed parts:  t(F) = t(1) + (2F / (F + 1) - 1) c  (the fast rank takes F / (F + 1) of it)
# where t(1) and c come from the F = 1 run (c = forward + backward per step on rank 0).
# Usage: scripts/bench_ch07_stragglers.sh BUILD_DIR OUT.jsonl [STEPS] [REPEATS] [GLOBAL_BATCH]
set -euo pipefail
build=${1:?usage: bench_ch07_stragglers.sh BUILD_DIR OUT.jsonl [STEPS] [REPEATS] [GLOBAL_BATCH]} out=${2:?}
steps=${3:-50} repeats=${4:-3} batch=${5:-1024}
exe=$build/chapters/07_uneven_data/ch07_uneven
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
: >"$out"
for rep in $(seq 1 "$repeats"); do  # interleaved, so that a disturbance hits every variant alike
  for f in 1 2 4; do
    for balance in none speed; do
      mpiexec -n 2 "$exe" --no-progress --epochs 1 --max-steps "$steps" --batch-size "$batch" --split random --slow-rank 1 \
        --slowdown "$f" --balance "$balance" --rebalance-every 20 --metrics "$tmp" >/dev/null
      tail -n 1 "$tmp" | python3 -c "import json,sys; d=json.load(sys.stdin); d['rep']=$rep; d['balance_flag']='$balance'; print(json.dumps(d))" >>"$out"
    done
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def key(d): return (d["slowdown"], d["balance_flag"])
groups = {}
for d in runs:
    p = d["phase_seconds"]
    groups.setdefault(key(d), []).append((sum(p.values()) / d["steps"], (p.get("forward", 0) + p.get("backward", 0)) / d["steps"], d.get("last_parts")))
med = {k: (statistics.median(v[0] for v in vs), statistics.median(v[1] for v in vs), vs[-1][2]) for k, vs in groups.items()}
t1, c = med[(1.0, "none")][0], med[(1.0, "none")][1]
print(f"2 ranks, global batch {runs[0]['global_batch']}; F = 1, equal parts: step {t1*1e3:.2f} ms, of which compute c = {c*1e3:.2f} ms\n")
print("| slowdown F | parts | measured step (ms) | predicted (ms) | parts of the last batch (rank 0, rank 1) |")
print("| ---: | --- | ---: | ---: | --- |")
for f in (1.0, 2.0, 4.0):
    for b in ("none", "speed"):
        t, _, parts = med[(f, b)]
        pred = t1 + ((f - 1) if b == "none" else (2 * f / (f + 1) - 1)) * c
        print(f"| {f:g} | {'equal' if b == 'none' else 'by speed'} | {t*1e3:.2f} | {pred*1e3:.2f} | {', '.join(map(str, parts)) if parts else 'by who holds what (about half each)'} |")
PY
