#!/usr/bin/env bash
# ch08_plan's flags: each bad value exits 2 with one stderr line naming the flag (or the
# machine.json field); a good run ranks and explains layouts, writes JSON, and the machine it
# saves as machine.json gives the same table when read back.
# With CH08_CALIBRATE: its bad flags too, and a quick calibration that the planner accepts.
# Usage: bad_flags.sh CH08_PLAN [CH08_CALIBRATE]
set -u
source "$(dirname "$0")/../bad_flags_lib.sh"
exe=$1 calibrate=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work" "$refused_err"' EXIT
big=(--hidden 8192,8192,8192 --batch 4096)
check() { expect_refused "$1" "$exe" "${@:2}"; }
check --workers --hidden 8192,8192,8192 --batch 4 --workers 7    # 7 divides no width, exceeds the 4 layers and the 4 rows
check --workers --workers 0
check --batch --batch 0
check --batch --batch -5
check --memory-gb --memory-gb 0
check --memory-gb --memory-gb -80
check --machine --machine tpu-pod
check --machine --machine "$work/missing.json"
check --hidden --hidden 256,0
check --precision --precision half
check --optimizer --optimizer lamb
check --top --top 0
check --threads --threads   # the h100-cluster profile has no thread link
check --inputs --inputs 0
check --outputs --outputs -10
check --explain --workers 8 --explain "dp=4,pp=1,tp=1"
check --explain --workers 8 --explain "dp=8,colour=2"
check --explain --workers 8 --explain "tp=8" --hidden 100   # 8 does not divide 100
echo '{"name": "x", "flops_fp32": 1e12}' >"$work/partial.json"
check flops_mixed --machine "$work/partial.json"
echo '{"name": "x", ' >"$work/broken.json"
check broken.json --machine "$work/broken.json"
# A malformed GEMM table (machine.json's optional gemm_fp32): each exits 2 naming the field.
"$exe" --save-machine "$work/base.json" --workers 2 >/dev/null 2>&1
table() {  # table NAME ROWS...: base.json with a gemm_fp32 row per count (rates 1e9; COUNT:bad = forward rate 0)
  local name=$1 entries='' sep=''
  shift
  for r in "$@"; do
    local rate=1e9 rows=$r
    [[ $r == *:bad ]] && rate=0 rows=${r%:bad}
    entries+="$sep{\"rows\": $rows, \"forward_1_thread\": $rate, \"backward_1_thread\": 1e9, \"forward_all_cores\": 1e9, \"backward_all_cores\": 1e9}"
    sep=', '
  done
  sed "1s|^{|{\"gemm_fp32\": [$entries],|" "$work/base.json" >"$work/$name.json"
}
table empty
check "gemm_fp32' must be a non-empty array" --machine "$work/empty.json"
table zero 8 64:bad
check "gemm_fp32[1]: field 'forward_1_thread' must be positive" --machine "$work/zero.json"
table unsorted 8 64 16
check "gemm_fp32[2]: field 'rows' must be larger" --machine "$work/unsorted.json"
table duplicate 8 8
check "gemm_fp32[1]: field 'rows' must be larger" --machine "$work/duplicate.json"
table good 8 64
if "$exe" --machine "$work/good.json" --workers 2 >"$work/out" 2>"$work/err"; then
  echo "ok   a well-formed gemm_fp32 table is accepted"
else
  echo "FAIL a well-formed gemm_fp32 table:"; cat "$work/out" "$work/err"; failures=$((failures + 1))
fi

# A good run: a table, five reasons, a JSON list; the saved machine reads back to the same table.
if "$exe" "${big[@]}" --workers 64 --optimizer adam --top 5 --json "$work/plan.json" \
     --save-machine "$work/h100.json" >"$work/out1" 2>"$work/err" &&
   "$exe" "${big[@]}" --workers 64 --optimizer adam --top 5 --machine "$work/h100.json" >"$work/out2" 2>>"$work/err" &&
   grep -q '^   1  dp=' "$work/out1" && grep -q '^  1\. dp=' "$work/out1" &&
   grep -q '"samples_per_s"' "$work/plan.json" &&
   diff <(tail -n +2 "$work/out1") <(tail -n +2 "$work/out2") >/dev/null; then
  echo "ok   a ranked plan, its JSON, and the same table from the saved machine.json"
else
  echo "FAIL the good run:"; cat "$work/out1" "$work/err"; failures=$((failures + 1))
fi
# The JSON's memory parts add up to its total, and every layout carries the planner's reason
# (scripts/ch08_pages.py builds the "Which strategy, when?" page from them).
if python3 - "$work/plan.json" >"$work/out" 2>&1 <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
parts = ("memory_params_bytes", "memory_grads_bytes", "memory_optimizer_bytes", "memory_activations_bytes",
         "memory_buffers_bytes")
for e in plan:
    total = sum(e[k] for k in parts)
    assert abs(total - e["memory_bytes"]) <= 1e-9 * e["memory_bytes"], (e, total)
    assert e["reason"], e
best = plan[0]
assert best["tp"] == 1 or f"tp {best['tp']}" in best["reason"], best
assert best["zero"] == 0 or f"ZeRO-{best['zero']}" in best["reason"], best
PY
then
  echo "ok   --json: memory parts add up to memory_bytes, every layout has a reason"
else
  echo "FAIL --json's memory parts or reasons:"; cat "$work/out"; failures=$((failures + 1))
fi
if "$exe" "${big[@]}" --workers 64 --explain "dp=8,tp=8,zero=1" >"$work/out" 2>"$work/err" && grep -q "bubble" "$work/out"; then
  echo "ok   --explain prints every term"
else
  echo "FAIL --explain:"; cat "$work/out" "$work/err"; failures=$((failures + 1))
fi

if [[ -n $calibrate ]]; then
  expect_refused --out "$calibrate" --repeats 1 --copy-mb 1
  expect_refused "$work/no/such/dir" "$calibrate" --out "$work/no/such/dir/m.json" --repeats 1 --copy-mb 1
  expect_refused --link-gbps "$calibrate" --out "$work/c.json" --link-gbps 0
  expect_refused --hidden "$calibrate" --out "$work/c.json" --hidden 0
  expect_refused --rows "$calibrate" --out "$work/c.json" --rows 0,8
  expect_refused --rows "$calibrate" --out "$work/c.json" --rows 64,8
  expect_refused --rows "$calibrate" --out "$work/c.json" --rows 8,8
  expect_refused --sample-ms "$calibrate" --out "$work/c.json" --sample-ms 0
  # --links: chapter 03's measured all-reduces (scripts/bench_ch03_hosts.py's JSON Lines).
  hosts=$(dirname "$0")/../../chapters/03_mpi_data_parallel/results_two_hosts.jsonl
  expect_refused --links "$calibrate" --out "$work/c.json" --links "$work/none.jsonl"
  echo 'not json' >"$work/bad.jsonl"
  expect_refused "line 1" "$calibrate" --out "$work/c.json" --links "$work/bad.jsonl"
  echo '{"kind": "allreduce", "link": "shared memory", "alpha_s": 1e-6, "bandwidth_Bps": 1e9}' >"$work/nosizes.jsonl"
  expect_refused "'sizes'" "$calibrate" --out "$work/c.json" --links "$work/nosizes.jsonl"
  shm='{"kind": "allreduce", "link": "shared memory", "ranks": 2, "sizes": ['
  echo "$shm"'{"bytes": 4096, "mpi_s": 0}, {"bytes": 65536, "mpi_s": 3e-5}]}' >"$work/zero.jsonl"
  expect_refused "positive bytes and seconds" "$calibrate" --out "$work/c.json" --links "$work/zero.jsonl"
  echo "$shm"'{"bytes": 4096, "mpi_s": 3e-5}, {"bytes": 65536, "mpi_s": 1e-5}]}' >"$work/shrinks.jsonl"
  expect_refused "both positive" "$calibrate" --out "$work/c.json" --links "$work/shrinks.jsonl"
  echo "$shm"'{"bytes": 4096, "mpi_s": 5e-6}, {"bytes": 65536, "mpi_s": 3e-5}]}' >"$work/one.jsonl"
  expect_refused "'veth'" "$calibrate" --out "$work/c.json" --links "$work/one.jsonl"
  expect_refused --links "$calibrate" --out "$work/c.json" --links "$hosts" --link-gbps 3
  if "$calibrate" --out "$work/l.json" --repeats 1 --sample-ms 5 --copy-mb 8 --links "$hosts" >"$work/out" 2>"$work/err" &&
     "$exe" --machine "$work/l.json" --workers 4 >>"$work/out" 2>>"$work/err" &&
     grep -q "MPI_Allreduce alpha-beta fit.*TCP between two network namespaces" "$work/l.json"; then
    echo "ok   ch08_calibrate --links takes chapter 03's measured shared-memory and TCP links"
  else
    echo "FAIL ch08_calibrate --links:"; cat "$work/out" "$work/err"; failures=$((failures + 1))
  fi
  # A shared-memory record on more ranks than any machine here has cores: the crowded node's link,
  # fitted on those ranks; the committed file (2 ranks, within the cores) gives none.
  { grep -v '"shared memory"' "$hosts"
    echo '{"kind": "allreduce", "link": "shared memory", "ranks": 4096, "sizes": [{"bytes": 4096, "mpi_s": 1e-2}, {"bytes": 16777216, "mpi_s": 2e-1}]}'
    grep '"shared memory"' "$hosts"; } >"$work/crowded.jsonl"
  if "$calibrate" --out "$work/o.json" --repeats 1 --sample-ms 5 --copy-mb 8 --links "$work/crowded.jsonl" >"$work/out" 2>"$work/err" &&
     grep -q '"oversubscribed_link"' "$work/o.json" && grep -q "on 4096 ranks sharing" "$work/o.json" &&
     grep -q "on 2 ranks (least squares" "$work/o.json" && ! grep -q '"oversubscribed_link"' "$work/l.json"; then
    echo "ok   ch08_calibrate --links: a record on more ranks than cores becomes oversubscribed_link"
  else
    echo "FAIL ch08_calibrate --links, oversubscribed:"; cat "$work/out" "$work/err"; failures=$((failures + 1))
  fi
  # A quick calibration (rates are not checked: no timing asserts) that the planner reads back.
  if "$calibrate" --out "$work/c.json" --repeats 1 --sample-ms 5 --copy-mb 8 >"$work/out" 2>"$work/err" &&
     "$exe" --machine "$work/c.json" --workers 2 >>"$work/out" 2>>"$work/err" && grep -q "measured by ch08_calibrate" "$work/c.json" &&
     [[ $(grep -c '"backward_all_cores"' "$work/c.json") -eq 8 ]]; then
    echo "ok   ch08_calibrate writes a machine.json with an 8-row GEMM table that ch08_plan reads"
  else
    echo "FAIL ch08_calibrate:"; cat "$work/out" "$work/err"; failures=$((failures + 1))
  fi
fi
finish
