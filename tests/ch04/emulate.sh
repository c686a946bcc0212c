#!/usr/bin/env bash
# The trainer on the CPU emulator: a few steps with our tiled kernel and with emulated cuBLAS, eager
# and with graph replay, must finish (exit 0) with finite losses and report "emulated": true; a bad
# flag still exits 2 with one line. Usage: emulate.sh PROGRAM [FLAGS...]
# (PROGRAM is ch04_emulated, or "ch04_cuda --emulate", which hands its flags to ch04_emulated.)
set -u
failures=0
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() {  # run NAME FLAGS...
  local name=$1; shift
  "$@" --max-steps 3 --hidden 24 --batch-size 40 --no-progress --metrics "$dir/$name.jsonl" \
    >"$dir/$name.out" 2>&1 </dev/null
  local code=$? last
  last=$(tail -n 1 "$dir/$name.jsonl" 2>/dev/null)
  if [[ $code -eq 0 ]] && grep -q '"final":true' <<<"$last" && grep -q '"emulated":true' <<<"$last" &&
     grep -q '"steps":3' <<<"$last" && ! grep -qiE 'nan|inf' <<<"$last"; then
    echo "ok   $name: $(grep '^final:' "$dir/$name.out")"
  else
    echo "FAIL $name: exit $code"; cat "$dir/$name.out"; echo "$last"; failures=$((failures + 1))
  fi
}
run smem_graph "$@" --gemm smem --graph
run cublas_eager "$@" --gemm cublas --no-graph
"$@" --gemm bogus >/dev/null 2>"$dir/err" </dev/null
code=$?
if [[ $code -eq 2 && $(wc -l <"$dir/err") -eq 1 ]]; then
  echo "ok   bad flag: $(cat "$dir/err")"
else
  echo "FAIL bad flag: exit $code, stderr:"; cat "$dir/err"; failures=$((failures + 1))
fi
echo "$failures failed"
[[ $failures -eq 0 ]]
