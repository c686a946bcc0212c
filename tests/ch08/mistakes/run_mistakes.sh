#!/usr/bin/env bash
# Proves that the exercise tests catch plausible wrong answers, not only the untouched stubs:
# each NN.k_*.sed here plants one mistake in a copy of the SOLUTION file it names, the chapter's
# solution tests are rebuilt, and at least one test of that TODO (tests/chNN/todo_tests.txt)
# must fail. The solution file is restored after every mistake (and on exit).
#
# A mistake file: "# target: solutions/chNN/file.cpp", "# todo: NN.k", "# mistake: in words",
# then sed commands. A sed script that changes nothing is itself a failure (the solution moved on).
# Usage: tests/chNN/mistakes/run_mistakes.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: run_mistakes.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
ch=$(basename "$(dirname "$here")")  # ch08
map=$root/tests/$ch/todo_tests.txt
bin=$build/tests/$ch/solution/${ch}_tests
status=0 backup="" target=""
restore() { if [[ -n $backup ]]; then cp "$backup" "$target"; rm -f "$backup"; backup=""; fi; }
trap restore EXIT
for mistake in "$here"/*.sed; do
  name=$(basename "$mistake" .sed)
  target=$root/$(sed -n 's/^# target: //p' "$mistake")
  todo=$(sed -n 's/^# todo: //p' "$mistake")
  filter=$(awk -v t="$todo" '$1 == t { print $2 }' "$map")
  [[ -f $target && -n $filter ]] || { echo "FAIL $name: no target file or no tests for TODO($todo)"; status=1; continue; }
  backup=$(mktemp)
  cp "$target" "$backup"
  sed -i -f "$mistake" "$target"
  if cmp -s "$target" "$backup"; then
    echo "FAIL $name: the sed script changed nothing in $target"; status=1; restore; continue
  fi
  if ! ninja -C "$build" "${ch}_tests" >/dev/null 2>&1; then
    echo "ok   $name: does not compile"; restore; continue
  fi
  out=$("$bin" --gtest_color=no --gtest_filter="$filter" 2>&1 </dev/null)
  failed=$(grep -c '^\[  FAILED  \] .*(' <<<"$out" || true)
  if [[ $failed -gt 0 ]]; then echo "ok   $name: $failed test(s) of TODO($todo) fail"
  else echo "FAIL $name: every test of TODO($todo) passes with this mistake"; status=1; fi
  restore
done
ninja -C "$build" "${ch}_tests" >/dev/null 2>&1 || { echo "FAIL: the restored solution does not build"; status=1; }
exit $status
