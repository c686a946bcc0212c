#!/usr/bin/env bash
# scripts/todo_status.sh (`./tutorial check NN`, `./tutorial progress`) on a half-done tree, in
# seconds: a scratch build directory (a tiny CMake project, so that "building" the exercise
# targets is real) whose chapter 01 exercise binary runs the SOLUTION's tests for TODO(01.1) and
# the untouched stub's for the others, and whose chapter 02 exercise does not compile.
# Usage: todo_status_test.sh SOURCE_DIR CH01_SOLUTION_TESTS CH01_EXERCISE_TESTS
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: todo_status_test.sh SOURCE_DIR CH01_SOLUTION_TESTS CH01_EXERCISE_TESTS" >&2; exit 2; }
src=$1 solution=$2 exercise=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$scratch/out"; exit 1; }

mkdir -p "$scratch/project" "$scratch/build/tests/ch01/exercise" "$scratch/build/tests/ch02/exercise"
cat >"$scratch/project/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(half_done LANGUAGES CXX)
option(PTT_BUILD_EXERCISE_TESTS "" ON)
add_custom_target(ch01_tests_exercise)
add_library(ch02_tests_exercise STATIC shards.cpp)
EOF
printf 'int shard_weights() { return 0 }\n' >"$scratch/project/shards.cpp"  # a learner's missing ';'
cmake -S "$scratch/project" -B "$scratch/build" >/dev/null
# Chapter 01 half done: TODO(01.1)'s tests (LinearForward.*) from the solution, the rest from the stub.
cat >"$scratch/build/tests/ch01/exercise/ch01_tests_exercise" <<EOF
#!/usr/bin/env bash
case "\$*" in *--gtest_filter=LinearForward.*) exec "$solution" "\$@" ;; *) exec "$exercise" "\$@" ;; esac
EOF
chmod +x "$scratch/build/tests/ch01/exercise/ch01_tests_exercise"

status=0
"$src/scripts/todo_status.sh" "$scratch/build" 01 >"$scratch/out" 2>&1 || status=$?
[[ $status -eq 1 ]] || fail "a half-done chapter 01 must exit 1, not $status"
[[ $(wc -l <"$scratch/out") -eq 4 ]] || fail "one line per TODO of chapter 01 (4) expected"
[[ $(sed -n 1p "$scratch/out") == 'TODO(01.1) passing' ]] || fail "TODO(01.1) must pass"
for k in 2 3 4; do
  grep -qE "^TODO\(01\.$k\) failing: [A-Za-z]+\.[A-Za-z]+ \(tests/ch01/layers_test\.cpp:[0-9]+\): .+" "$scratch/out" ||
    fail "TODO(01.$k) must fail with its first failed check: Suite.Test (file:line): what"
done
"$src/scripts/todo_status.sh" "$scratch/build" 01 --row >"$scratch/out" 2>&1 || true
grep -qE '^01 +1 / 4$' "$scratch/out" || fail "progress row '01  1 / 4' expected"

status=0
"$src/scripts/todo_status.sh" "$scratch/build" 02 >"$scratch/out" 2>&1 || status=$?
[[ $status -eq 1 ]] || fail "a chapter that does not compile must exit 1, not $status"
[[ $(wc -l <"$scratch/out") -eq 1 ]] || fail "a chapter that does not compile: one line expected"
grep -qE "^chapter 02: exercises/ch02 does not compile: .*shards\.cpp:1:.*error" "$scratch/out" ||
  fail "the compiler's first error line expected"
"$src/scripts/todo_status.sh" "$scratch/build" 02 --row >"$scratch/out" 2>&1 || true
grep -qE '^02 +does not compile: .*error' "$scratch/out" || fail "progress row '02  does not compile: ...' expected"
echo "ok: one line per TODO on a half-done chapter, and one line for a chapter that does not compile"
