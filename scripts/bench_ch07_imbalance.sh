#!/usr/bin/env bash
# Chapter 07's imbalance measurement: a training set that keeps only FRACTION of some classes
# (default 0,2,4:0.05), trained synchronously on R ranks with no fix, with the class-weighted loss
# and with class-balanced resampling, next to the full data set; test accuracy, macro-F1 and the
# recall of every class (the test set is balanced and untouched).
# Usage: scripts/bench_ch07_imbalance.sh BUILD_DIR OUT.jsonl [RANKS] [EPOCHS] [IMBALANCE]
set -euo pipefail
build=${1:?usage: bench_ch07_imbalance.sh BUILD_DIR OUT.jsonl [RANKS] [EPOCHS] [IMBALANCE]} out=${2:?}
ranks=${3:-2} epochs=${4:-2} imbalance=${5:-0,2,4:0.05}
exe=$build/chapters/07_uneven_data/ch07_uneven
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
: >"$out"
for run in "full data set|" "$imbalance, no fix|--imbalance $imbalance" \
           "$imbalance, class weights|--imbalance $imbalance --class-balance weights" \
           "$imbalance, resampling|--imbalance $imbalance --class-balance resample"; do
  IFS='|' read -r name flags <<<"$run"
  # shellcheck disable=SC2086
  mpiexec -n "$ranks" "$exe" --no-progress --epochs "$epochs" $flags --metrics "$tmp" >/dev/null
  tail -n 1 "$tmp" | python3 -c "import json,sys; d=json.load(sys.stdin); d['name']='$name'; print(json.dumps(d))" >>"$out"
done
python3 - "$out" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
print("| training set | test acc | macro-F1 | recall per class 0..9 | seconds |")
print("| --- | ---: | ---: | --- | ---: |")
for d in runs:
    rec = " ".join(f"{x:.2f}" for x in d["recall"])
    print(f"| {d['name']} | {d['test_acc']:.4f} | {d['macro_f1']:.4f} | {rec} | {d['seconds']:.1f} |")
PY
