#!/usr/bin/env bash
# Proves the exercise tests test something: built against the UNTOUCHED exercise stubs, every test
# that covers a TODO must fail. Also checks that every TODO(NN.k) in exercises/chNN has tests.
# Usage: scripts/check_exercise_stubs.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: check_exercise_stubs.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for exdir in "$root"/exercises/ch*/; do
  ch=$(basename "$exdir")          # ch01
  num=${ch#ch}                     # 01
  map=$root/tests/$ch/todo_tests.txt
  bin=$build/tests/$ch/exercise/${ch}_tests_exercise
  [[ -f $map ]] || { echo "FAIL $ch: no $map"; status=1; continue; }
  # The GPU chapter is built only where CMake finds nvcc (its chapter directory shows it was).
  if [[ $ch == ch04 && ! -d $build/chapters/04_cuda_kernels ]]; then
    echo "skip $ch: $build was configured without CUDA (no nvcc), so its tests were not built"; continue
  fi
  [[ -x $bin ]] || { echo "FAIL $ch: $bin not built"; status=1; continue; }
  # Every TODO in the exercise sources must be listed in the map, and vice versa.
  todos=$(grep -rhoE "TODO\($num\.[0-9]+\)" "$exdir" | sort -u | sed -E 's/TODO\((.*)\)/\1/')
  for todo in $todos; do
    grep -qE "^$todo[[:space:]]" "$map" || { echo "FAIL $ch: TODO($todo) has no tests in $map"; status=1; }
  done
  # Chapters whose tests need several processes name their launcher (e.g. "mpiexec -n 3").
  launch=()
  if [[ -f $root/tests/$ch/launcher ]]; then
    read -r -a launch <"$root/tests/$ch/launcher"
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
           OMPI_MCA_mpi_yield_when_idle=1 OMP_NUM_THREADS=1
  fi
  while read -r todo filter; do
    [[ -z $todo || $todo == \#* ]] && continue
    grep -qF "TODO($todo)" -r "$exdir" || { echo "FAIL $ch: $map lists $todo, the exercise has no TODO($todo)"; status=1; continue; }
    out=$(timeout --foreground 300 "${launch[@]}" "$bin" --gtest_color=no --gtest_filter="$filter" 2>&1 </dev/null || true)
    failed=$(grep -c '^\[  FAILED  \] .*(' <<<"$out" || true)
    passed=$(grep '^\[       OK \]' <<<"$out" || true)
    if [[ $failed -eq 0 ]]; then
      echo "FAIL $ch TODO($todo): no test matching '$filter' failed on the stub; the run printed:"
      tail -n 15 <<<"$out"; status=1
    elif [[ -n $passed ]]; then
      echo "FAIL $ch TODO($todo): these tests PASS on the stub, so they do not test it:"; echo "$passed"; status=1
    else
      echo "ok   $ch TODO($todo): $failed test(s) matching '$filter' fail on the stub, as they must"
    fi
  done <"$map"
done
exit $status
