#!/usr/bin/env bash
# Fuzzes the readers of untrusted files (IDX data, checkpoints) with libFuzzer, ASan and UBSan.
# Usage: scripts/fuzz.sh [SECONDS per target, default 30]
# Builds the "fuzz" preset (clang), then runs both targets at once from the committed seed corpus
# (copied, so the repository's corpus is not modified). A finding leaves a crash-* file and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number" >&2; exit 2; }
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
work=build/fuzz/run
rm -rf "$work"; mkdir -p "$work"
pids=()
for target in idx checkpoint; do
  mkdir -p "$work/$target"
  cp fuzz/corpus/$target/* "$work/$target/"
  (cd "$work" && exec ../fuzz/${target}_fuzzer "$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
     -timeout=10 -print_final_stats=1 >"$target.log" 2>&1) &
  pids+=($!)
done
status=0
for i in 0 1; do wait "${pids[$i]}" || status=1; done
for target in idx checkpoint; do
  echo "== $target: $(grep -E '^stat::number_of_executed_units' "$work/$target.log" | awk '{print $2}') inputs in ${seconds}s, corpus $(ls "$work/$target" | wc -l) files, $(grep -cE 'ERROR|deadly signal' "$work/$target.log") findings"
done
ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null && status=1
[[ $status -eq 0 ]] && echo "fuzz: no findings" || { echo "fuzz: FINDINGS (see $work)"; tail -n 30 "$work"/*.log; }
exit $status
