#!/usr/bin/env bash
# Proves the exercise tests catch wrong answers, not only the untouched stubs: each file
# tests/chNN/mistakes/NN.k-NAME.sed is a sed script that plants one plausible learner's mistake
# (header lines "# file: PATH", "# todo: NN.k", "# mistake: WORDS") in the chapter's SOLUTION
# file; the chapter's solution tests are rebuilt with it and the tests of TODO(NN.k)
# (tests/chNN/todo_tests.txt) must fail (a failed assertion, a crash or a hang all count).
#
# The working tree is never modified. Mistakes are planted in scratch copies of the source tree
# (BUILD_DIR/mistakes/slotK/), configured once and rebuilt incrementally (only the mutated file
# and the links it feeds; with ccache, restoring the solution costs a cache hit); every scratch
# file is put back on exit, Ctrl-C included. Each slot runs its mistakes one after the other,
# the slots in parallel. Before any mistake, the unmutated solution must pass the same tests.
#
# Usage: scripts/check_mistakes.sh BUILD_DIR [--all | --subset N | --only NN.k] [--jobs J]
#   --all        every mistake (the default); --all and --subset also check every TODO has at least 3
#   --subset N   N mistakes from two chapters, a different pair and set each day of the year
#                (PTT_MISTAKES_DAY=D picks day D's set); CI runs a subset
#   --only NN.k  the mistakes of TODO(NN.k)
#   --jobs J     J scratch trees at once (default: the number of cores / 2, at least 1)
# BUILD_DIR is the main build; its build type and PTT_NATIVE are reused. Exit 1 if a mistake is
# not caught, does not change its file, or does not compile; 2 on bad usage.
set -euo pipefail
usage() { sed -n '14,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 1 && $1 != -* ]] || usage
build=$(cd "$1" 2>/dev/null && pwd) || { echo "check_mistakes: no build directory '$1'" >&2; exit 2; }
shift
root=$(cd "$(dirname "$0")/.." && pwd)
mode=all subset=0 only='' nslots=$(( $(nproc 2>/dev/null || echo 2) / 2 ))
while [[ $# -gt 0 ]]; do
  case $1 in
    --all) mode=all; shift ;;
    --subset) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; mode=subset subset=$2; shift 2 ;;
    --only) [[ ${2:-} =~ ^[0-9][0-9]\.[0-9]+$ ]] || usage; mode=only only=$2; shift 2 ;;
    --jobs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; nslots=$2; shift 2 ;;
    *) usage ;;
  esac
done
((nslots >= 1)) || nslots=1
cache=$build/CMakeCache.txt
[[ -f $cache ]] || { echo "check_mistakes: $build has no CMakeCache.txt (configure it first)" >&2; exit 2; }
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$cache" | head -n 1; }

# --- the mistakes to run --------------------------------------------------------------------------
all=()
while IFS= read -r f; do all+=("$f"); done < <(cd "$root" && ls tests/ch*/mistakes/*.sed 2>/dev/null | sort)
[[ ${#all[@]} -gt 0 ]] || { echo "check_mistakes: no tests/chNN/mistakes/*.sed found" >&2; exit 1; }
status=0
header() { sed -n "s/^# $1: //p" "$2" | head -n 1; }
# Each file must name its target and its TODO (the file name's prefix), and the TODO must be mapped.
for m in "${all[@]}"; do
  name=$(basename "$m" .sed) ch=$(basename "$(dirname "$(dirname "$m")")")
  file=$(header file "$root/$m") todo=$(header todo "$root/$m")
  if [[ -z $file || ! -f $root/$file ]]; then echo "FAIL $m: '# file:' names no file of the tree"; status=1
  elif [[ $todo != "${name%%-*}" ]]; then echo "FAIL $m: '# todo: $todo' does not match its name"; status=1
  elif ! grep -qE "^${todo}[[:space:]]" "$root/tests/$ch/todo_tests.txt" 2>/dev/null; then
    echo "FAIL $m: TODO($todo) is not in tests/$ch/todo_tests.txt"; status=1
  elif [[ -z $(header mistake "$root/$m") ]]; then echo "FAIL $m: no '# mistake:' line"; status=1
  fi
done
((status == 0)) || exit 1
if [[ $mode != only ]]; then  # every TODO needs at least three mistakes (checked in CI's subset runs too)
  for map in "$root"/tests/ch*/todo_tests.txt; do
    ch=$(basename "$(dirname "$map")")
    while read -r todo _; do
      [[ -z $todo || $todo == \#* ]] && continue
      count=$(ls "$root/tests/$ch/mistakes/$todo"-*.sed 2>/dev/null | wc -l)
      ((count >= 3)) || { echo "FAIL TODO($todo): $count mistake(s) in tests/$ch/mistakes, at least 3 needed"; status=1; }
    done <"$map"
  done
fi
picked=() what=''
case $mode in
  all) picked=("${all[@]}") what=all ;;
  only) for m in "${all[@]}"; do [[ $(basename "$m") == "$only"-* ]] && picked+=("$m"); done
        [[ ${#picked[@]} -gt 0 ]] || { echo "check_mistakes: no mistakes for TODO($only)" >&2; exit 2; }
        what="TODO($only)" ;;
  subset)
    # N mistakes from two chapters, the day's pair (a scratch tree builds only their tests, which
    # is most of the cost), a stride apart and shifted by the day: consecutive days rotate the
    # pair through every chapter and the offset through each chapter's mistakes.
    day=${PTT_MISTAKES_DAY:-$((10#$(date +%j)))}
    mapfile -t chapters < <(printf '%s\n' "${all[@]}" | awk -F/ '{ print $2 }' | sort -u)
    pair=("${chapters[$((day % ${#chapters[@]}))]}" "${chapters[$(((day + 1) % ${#chapters[@]}))]}")
    pool=()
    for m in "${all[@]}"; do [[ " ${pair[*]} " == *" $(basename "$(dirname "$(dirname "$m")")") "* ]] && pool+=("$m"); done
    total=${#pool[@]}
    ((subset < total)) || subset=$total
    stride=$((total / subset))
    for ((i = 0; i < subset; ++i)); do picked+=("${pool[$(( (day + i * stride) % total ))]}"); done
    mapfile -t picked < <(printf '%s\n' "${picked[@]}" | sort -u)
    what="the subset of day $day (chapters ${pair[*]#ch})" ;;
esac

# --- scratch trees --------------------------------------------------------------------------------
# Each slot mirrors the layout of the source and build directories below their common ancestor, so
# the compiler sees the same relative paths as in the main build and ccache (base_dir) can share
# objects with it when that was built with CCACHE_BASEDIR set to that ancestor.
ancestor=$root  # '' stands for /, so that rel_src and rel_bld always start with /
while [[ $build != "$ancestor" && $build != "$ancestor"/* ]]; do
  ancestor=$(dirname "$ancestor"); [[ $ancestor == / ]] && ancestor=''
done
rel_src=${root#"$ancestor"} rel_bld=${build#"$ancestor"}
scratch=$build/mistakes
mkdir -p "$scratch"
exec 9>"$scratch/lock"
flock -n 9 || { echo "check_mistakes: another check_mistakes.sh is running on $build" >&2; exit 2; }
# The tree's files: tracked and untracked but not ignored (no build outputs), or all outside git.
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git -C "$root" ls-files -co --exclude-standard)
else
  files=$(cd "$root" && find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi
# sync_slot DIR: make DIR's copy equal to the tree; a file is rewritten (new mtime, so the build
# sees it) only when its content differs, which also undoes a mistake left by an interrupted run.
sync_slot() {
  local src=$1$rel_src f
  while IFS= read -r f; do
    [[ -f $root/$f ]] || continue  # deleted but not yet committed
    if ! cmp -s "$root/$f" "$src/$f"; then mkdir -p "$(dirname "$src/$f")"; cat "$root/$f" >"$src/$f"; fi
  done <<<"$files"
}
slots=()
for ((k = 1; k <= nslots && k <= ${#picked[@]}; ++k)); do slots+=("$scratch/slot$k"); done
# Every slot runs as a job of its own process group (set -m), so that stopping one stops its build
# and its tests too; then every scratch file goes back to the tree's content. A file planted when
# the run stopped is also marked (slot/planted): the next run touches it, so that an object built
# from the mistake can never look newer than the restored source.
pids=()
restore_all() {
  local pid s
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for s in "${slots[@]}"; do [[ -d $s$rel_src ]] && sync_slot "$s"; done
}
trap 'restore_all' EXIT
trap 'echo "check_mistakes: interrupted; scratch trees restored" >&2; exit 130' INT TERM

# The test binary of each chapter's solution (chapter 04: its kernels on the CUDA emulator).
target_of() { if [[ $1 == ch04 ]]; then echo ch04_emulator_tests; else echo "${1}_tests"; fi; }
binary_of() { if [[ $1 == ch04 ]]; then echo tests/ch04/emulator/ch04_emulator_tests; else echo "tests/$1/solution/${1}_tests"; fi; }
filter_of() { awk -v t="$2" '$1 == t { print $2 }' "$root/tests/$1/todo_tests.txt"; }
launcher_of() { [[ -f $root/tests/$1/launcher ]] && cat "$root/tests/$1/launcher" || true; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
       OMPI_MCA_mpi_yield_when_idle=1 OMP_NUM_THREADS=1
per_slot=${CMAKE_BUILD_PARALLEL_LEVEL:-$(( $(nproc 2>/dev/null || echo 2) / ${#slots[@]} ))}
((per_slot >= 1)) || per_slot=1
launcher_cache=$(cache_value CMAKE_CXX_COMPILER_LAUNCHER)
[[ -n $launcher_cache ]] || { command -v ccache >/dev/null && launcher_cache=ccache || true; }

# why_stopped SOURCE_DIR < OUTPUT: the line that says why a run stopped: a checked call's "file:line: CALL
# failed: WHY" (shortened to file:line: WHY), else a signal, an error or an exception, else the last.
why_stopped() {
  local out line pattern
  out=$(cat)
  for pattern in ' failed: ' 'Signal: ' 'error|what\(\)'; do
    line=$(grep -m 1 -E "$pattern" <<<"$out" || true)
    [[ -n $line ]] && break
  done
  [[ -n $line ]] || line=$(grep -v '^\s*$' <<<"$out" | tail -n 1 || true)
  [[ $line == *' failed: '* ]] && line="${line%%: *}: ${line##* failed: }"
  line=${line//"$1/"/}  # paths relative to the tree: absolute, or relative to the build (ccache)
  sed -E 's#^(\.\./)+[^/ ]+/##' <<<"$line"
}

# run_tests SLOT CH FILTER: runs the filter on the slot's binary; prints the run's output.
run_tests() {
  local launch=() bin
  bin=$1$rel_bld/$(binary_of "$2")
  read -r -a launch <<<"$(launcher_of "$2")"
  timeout -k 10 180 "${launch[@]}" "$bin" --gtest_color=no --gtest_filter="$3" </dev/null 2>&1
}

# slot_main SLOT MISTAKES...: configure, build the chapters' test binaries, check the unmutated
# solution passes, then plant each mistake, rebuild, run, print one line, and put the file back.
slot_main() {
  local slot=$1; shift
  local src=$slot$rel_src bld=$slot$rel_bld log=$slot/log m ch chs=() targets=()
  export CCACHE_BASEDIR=$slot
  sync_slot "$slot"
  if [[ -f $slot/planted ]]; then touch "$src/$(cat "$slot/planted")"; rm -f "$slot/planted"; fi
  for m in "$@"; do ch=$(basename "$(dirname "$(dirname "$m")")"); [[ " ${chs[*]} " == *" $ch "* ]] || chs+=("$ch"); done
  for ch in "${chs[@]}"; do targets+=("$(target_of "$ch")"); done
  # Configured on every run (the main build's options may have changed; unchanged, nothing rebuilds).
  # No -Werror: a mistake may well warn. No CUDA: chapter 04's kernel is tested on the emulator.
  cmake -S "$src" -B "$bld" -G "$(cache_value CMAKE_GENERATOR)" -DCMAKE_BUILD_TYPE="$(cache_value CMAKE_BUILD_TYPE)" \
    -DPTT_NATIVE="$(cache_value PTT_NATIVE)" -DPTT_WARNINGS_AS_ERRORS=OFF -DPTT_ENABLE_CUDA=OFF \
    -DPTT_BUILD_EXERCISE_TESTS=OFF ${launcher_cache:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher_cache"} >"$log" 2>&1 ||
    { echo "FAIL $(basename "$slot"): configuring the scratch tree failed (see $log)"; return 1; }
  echo "$(basename "$slot"): building ${targets[*]} in the scratch tree, then checking the unmutated solution"
  cmake --build "$bld" -j "$per_slot" --target "${targets[@]}" >"$log" 2>&1 ||
    { echo "FAIL $(basename "$slot"): the unmutated solution does not build (see $log)"; return 1; }
  for ch in "${chs[@]}"; do  # the baseline: every TODO's tests pass on the solution
    local todo filter
    while read -r todo filter; do
      [[ -z $todo || $todo == \#* ]] && continue
      run_tests "$slot" "$ch" "$filter" >"$log" 2>&1 ||
        { echo "FAIL $ch TODO($todo): its tests fail on the unmutated solution (see $log)"; return 1; }
    done <"$root/tests/$ch/todo_tests.txt"
  done
  local rc=0 name todo file what out code first last
  for m in "$@"; do
    name=$(basename "$m" .sed) ch=$(basename "$(dirname "$(dirname "$m")")")
    todo=$(header todo "$root/$m") file=$(header file "$root/$m") what=$(header mistake "$root/$m")
    local label
    label=$(printf 'TODO(%s) %-32s' "$todo" "${name#*-}")
    if ! sed -f "$root/$m" "$root/$file" >"$slot/mutant" 2>"$log"; then
      echo "ERROR       $label sed failed: $(head -n 1 "$log")"; rc=1; continue
    fi
    if cmp -s "$slot/mutant" "$root/$file"; then
      echo "ERROR       $label does not change $file (its sed matches nothing)"; rc=1; continue
    fi
    echo "$file" >"$slot/planted"
    cat "$slot/mutant" >"$src/$file"
    if ! cmake --build "$bld" -j "$per_slot" --target "$(target_of "$ch")" >"$log" 2>&1; then
      echo "ERROR       $label does not compile: $(grep -m 1 'error' "$log" || tail -n 1 "$log")"; rc=1
    else
      code=0
      out=$(run_tests "$slot" "$ch" "$(filter_of "$ch" "$todo")") || code=$?
      first=$(grep -m 1 -oE '^\[  FAILED  \] [^ ,]+' <<<"$out" | cut -c 14- || true)
      if ((code == 0)); then
        echo "NOT CAUGHT  $label $what"; rc=1
      elif ((code == 124 || code == 137)); then
        echo "caught      $label (the tests hung and were killed)"
      elif [[ -n $first ]]; then
        echo "caught      $label ($first failed)"
      else
        last=$(why_stopped "$src" <<<"$out")
        echo "caught      $label (the tests stopped with status $code: ${last:0:120})"
      fi
    fi
    cat "$root/$file" >"$src/$file"  # back to the solution (new mtime: rebuilt next time)
    rm -f "$slot/planted"
  done
  return $rc
}

echo "== mistakes: ${#picked[@]} of ${#all[@]} ($what), in ${#slots[@]} scratch tree(s) under $scratch"
start=$SECONDS
# Slot k takes the k-th contiguous block of the (sorted) list: few chapters each, so few builds.
set -m
for ((k = 0; k < ${#slots[@]}; ++k)); do
  from=$((k * ${#picked[@]} / ${#slots[@]})) to=$(((k + 1) * ${#picked[@]} / ${#slots[@]}))
  slot_main "${slots[k]}" "${picked[@]:from:to-from}" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
echo "== mistakes: $((SECONDS - start)) s; $([[ $status == 0 ]] && echo 'every mistake was caught' || echo 'FAILED: see the lines above')"
exit $status
