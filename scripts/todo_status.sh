#!/usr/bin/env bash
# Where the learner stands on chapter NN: builds the chapter's tests against exercises/chNN (only
# those targets), runs each TODO's tests (tests/chNN/todo_tests.txt; under tests/chNN/launcher for
# the MPI chapters) and prints one line per TODO:
#   TODO(02.1) passing
#   TODO(02.2) failing: ShardWeights.ProportionalToShardSizes (tests/ch02/...:47): expected equal ...
# or, when the exercise does not compile, one line with the compiler's first error.
# `./tutorial check NN` prints these lines; `./tutorial progress` prints --row for every chapter.
#
# Usage: scripts/todo_status.sh BUILD_DIR NN [--row]
#   --row   one line instead: "NN  PASSING / TOTAL" or "NN  does not compile: ..." (or "skipped: ...")
# Exit 0 when every TODO passes, 1 when one fails or the chapter does not compile, 2 on bad usage.
set -euo pipefail
usage() { sed -n '10,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 2 && $2 =~ ^[0-9][0-9]$ ]] || usage
build=$1 num=$2 row=0
[[ ${3:-} == --row ]] && row=1
[[ $# -le 2 || $row == 1 ]] || usage
[[ $# -le 3 ]] || usage
root=$(cd "$(dirname "$0")/.." && pwd)
ch=ch$num map=$root/tests/ch$num/todo_tests.txt
[[ -d $root/exercises/$ch ]] || { echo "todo_status: chapter $num has no exercises" >&2; exit 2; }
[[ -f $build/CMakeCache.txt ]] || { echo "todo_status: $build is not configured (run ./tutorial check $num)" >&2; exit 2; }
grep -q '^PTT_BUILD_EXERCISE_TESTS:BOOL=ON' "$build/CMakeCache.txt" ||
  { echo "todo_status: $build was configured with PTT_BUILD_EXERCISE_TESTS=OFF; reconfigure it with ON" >&2; exit 2; }

# The chapter's exercise test binaries (target|path), where its configuration built the chapter.
binaries=()
case $num in
  04) binaries+=("ch04_emulator_tests_exercise|tests/ch04/emulator_exercise/ch04_emulator_tests_exercise")
      [[ -d $build/tests/ch04/exercise ]] && binaries+=("ch04_tests_exercise|tests/ch04/exercise/ch04_tests_exercise") ;;
  *) binaries+=("${ch}_tests_exercise|tests/$ch/exercise/${ch}_tests_exercise") ;;
esac
say_row() { printf '%-9s %s\n' "$num" "$1"; }
if [[ ! -d $build/tests/$ch && $num != 04 ]]; then
  msg="skipped: $build has no tests for chapter $num (MPI not found at configure time?)"
  if ((row)); then say_row "$msg"; else echo "chapter $num: $msg"; fi
  exit 1
fi

# Build only these targets; a compile error is reported with its first line, paths made relative.
targets=()
for b in "${binaries[@]}"; do targets+=("${b%%|*}"); done
if ! out=$(cmake --build "$build" --target "${targets[@]}" 2>&1); then
  first=$(grep -m 1 -E 'error|undefined reference' <<<"$out" || tail -n 1 <<<"$out")
  first=${first//"$root/"/}
  [[ $first == ../* ]] && first=$(sed -E 's#^(\.\./)+[^/ ]+/##' <<<"$first")  # relative (ccache base_dir)
  if ((row)); then say_row "does not compile: ${first:0:160}"; else echo "chapter $num: exercises/$ch does not compile: $first"; fi
  exit 1
fi

launch=()
if [[ -f $root/tests/$ch/launcher ]]; then
  read -r -a launch <"$root/tests/$ch/launcher"
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
         OMPI_MCA_mpi_yield_when_idle=1
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

# first_failure OUTPUT: the first failed assertion of a GoogleTest run, in one line:
# "Suite.Name (file:line): what failed"; gtest's "Expected equality of these values:" block (its
# operands indented by 2, their values by 4, the test's own message not at all) becomes
# "expected equal: a = 1 and b = 2 -- message".
first_failure() {
  awk '
    /^\[ RUN      \] / { test = $4 }
    !found && /: Failure$/ {
      found = 1; loc = $0; sub(/: Failure$/, "", loc)
      i = index(loc, "tests/"); if (i > 0) loc = substr(loc, i)
      next
    }
    found && (/^\[/ || /: Failure$/) { exit }
    found && /^Expected equality of these values:/ { eq = 1; next }
    found && eq && /^    Which is: / { v = $0; sub(/^ *Which is: /, "", v); val[n] = v; next }
    found && eq && /^  [^ ]/ { v = $0; sub(/^ +/, "", v); ops[++n] = v; next }
    found && eq && n in val && /^[-+0-9.e ]+$/ { val[n] = val[n] " / " $0; next }  # a matrix row
    found {
      line = $0; gsub(/^[ \t]+|[ \t]+$/, "", line)
      if (line != "") text = text (text == "" ? "" : " ") line
    }
    END {
      if (!found) exit 1
      if (eq) {
        what = "expected equal:"
        for (k = 1; k <= n; ++k) {
          op = ops[k]
          if (k in val && length(op) > 40) op = substr(op, 1, 24) "..."  # code: its value says more
          what = what (k > 1 ? " and " : " ") op (k in val ? " = " val[k] : "")
        }
        if (text != "") what = what " -- " text
      } else what = text
      gsub(/[ \t]+/, " ", what)
      printf "%s (%s): %s\n", test, loc, what
    }' <<<"$1"
}

passing=0 total=0 failed=0
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
while read -r todo filter; do
  [[ -z $todo || $todo == \#* ]] && continue
  total=$((total + 1))
  verdict=passing ran=0
  for b in "${binaries[@]}"; do
    bin=$build/${b#*|} code=0
    # stdout alone: under mpiexec the other ranks' lines (stderr) would interleave with rank 0's report.
    out=$(timeout -k 10 300 "${launch[@]}" "$bin" --gtest_color=no --gtest_filter="$filter" </dev/null 2>"$errors") ||
      code=$?
    grep -qE '^\[==========\] [1-9][0-9]* tests? from .* ran' <<<"$out" && ran=1
    ((code == 0)) && continue
    # A filter lists the TODO's own tests first, then shared ones (03.1: RingReduceScatter.*, then
    # RingAllreduce.*): when the first pattern's tests fail too, their failure says more.
    if [[ $filter == *:* && $row == 0 ]]; then
      first_code=0
      first_out=$(timeout -k 10 300 "${launch[@]}" "$bin" --gtest_color=no --gtest_filter="${filter%%:*}" \
                    </dev/null 2>/dev/null) || first_code=$?
      if ((first_code != 0)) && first_failure "$first_out" >/dev/null; then out=$first_out; fi
    fi
    if ((code == 124 || code == 137)); then verdict="failing: the tests hung and were stopped after 300 s"
    elif msg=$(first_failure "$out"); then verdict="failing: $msg"
    else
      # The line that says why: a checked call's "file:line: CALL failed: WHY" (shortened to
      # file:line: WHY), else a signal, an error or an exception, else the last line.
      all_out=$(cat - "$errors" <<<"$out") why=''
      for pattern in ' failed: ' 'Signal: ' 'error|what\(\)'; do
        why=$(grep -m 1 -E "$pattern" <<<"$all_out" || true)
        [[ -n $why ]] && break
      done
      [[ -n $why ]] || why=$(grep -v '^\s*$' <<<"$all_out" | tail -n 1 || true)
      [[ $why == *' failed: '* ]] && why="${why%%: *}: ${why##* failed: }"
      verdict="failing: the tests stopped with status $code: ${why#"$root/"}"
    fi
    break
  done
  [[ $verdict == passing && $ran == 0 ]] && verdict="failing: no test matched '$filter' (tests/$ch/todo_tests.txt)"
  if [[ $verdict == passing ]]; then passing=$((passing + 1)); else failed=1; fi
  if ((!row)); then
    line="TODO($todo) $verdict"
    ((${#line} <= 240)) || line="${line:0:237}..."
    echo "$line"
  fi
done <"$map"
((row)) && say_row "$passing / $total"
exit $failed
