#!/usr/bin/env bash
# Every C++ and CUDA file of the project follows .clang-format, as formatted by Debian 12's
# clang-format-14 (pinned: other versions format some constructs differently). CI runs it.
#
#   scripts/check_format.sh          list the files that differ (exit 1 if any)
#   scripts/check_format.sh --fix    reformat them in place
#
# A learner whose filled-in exercise files differ only needs `scripts/check_format.sh --fix`
# (or their editor's clang-format with this repository's .clang-format) before `.ci/run`;
# `./tutorial test` and `./tutorial check` never look at formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=$(command -v clang-format-14 || true)
[[ -n $tool ]] || { echo "check_format: clang-format-14 not found (apt-get install clang-format-14)" >&2; exit 2; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.cu' '*.cuh' '*.h')
if [[ ${1:-} == --fix ]]; then
  "$tool" -i "${files[@]}"
  echo "formatted ${#files[@]} files"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$tool" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [[ ${#bad[@]} -gt 0 ]]; then
  printf 'not formatted (scripts/check_format.sh --fix): %s\n' "${bad[@]}"
  exit 1
fi
echo "format: all ${#files[@]} C++/CUDA files follow .clang-format (clang-format-14)"
