#!/usr/bin/env bash
# Every bad input to a chapter executable exits with code 2 and ONE line on stderr that names the
# option or file, leaves no metrics file behind, and leaves an existing one untouched.
# Usage: bad_input.sh <chapter-executable> [extra flags for every run, e.g. --threads 2]
set -u
exe=$1; shift
extra=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

source "$(dirname "$0")/../idx_fixtures.sh"

# expect NAME SUBSTRING ARGS...: exit code 2, exactly one stderr line containing SUBSTRING,
# and the pre-existing metrics file unchanged.
expect() {
  local name=$1 want=$2; shift 2
  echo "previous" >"$work/metrics.jsonl"
  "$exe" --no-progress --epochs 1 --metrics "$work/metrics.jsonl" "${extra[@]}" "$@" >"$work/out" 2>"$work/err" </dev/null
  local code=$? lines
  lines=$(wc -l <"$work/err")
  if [[ $code -ne 2 ]]; then echo "FAIL $name: exit code $code, want 2"; failures=$((failures + 1))
  elif [[ $lines -ne 1 ]]; then echo "FAIL $name: $lines stderr lines, want 1:"; cat "$work/err"; failures=$((failures + 1))
  elif ! grep -qF -- "$want" "$work/err"; then echo "FAIL $name: stderr lacks '$want':"; cat "$work/err"; failures=$((failures + 1))
  elif [[ $(cat "$work/metrics.jsonl") != previous ]] || ls "$work" | grep -q partial; then
    echo "FAIL $name: the metrics file was touched or debris left"; failures=$((failures + 1))
  else echo "ok   $name: $(cat "$work/err")"; fi
}

good "$work/good"
# Positive control: the valid set trains, exits 0 and writes a complete metrics file.
if "$exe" --no-progress --epochs 1 --batch-size 8 --data-dir "$work/good" --metrics "$work/ok.jsonl" "${extra[@]}" >/dev/null 2>"$work/err" &&
   tail -n 1 "$work/ok.jsonl" | grep -q '"final":true'; then echo "ok   valid data trains and writes metrics"
else echo "FAIL valid data set was refused:"; cat "$work/err"; failures=$((failures + 1)); fi

expect "missing data directory" "/nonexistent/dir" --data-dir /nonexistent/dir
d=$work/trunc; good "$d"; truncate -s 1000 "$d/train-images-idx3-ubyte"
expect "truncated image file" "train-images-idx3-ubyte: truncated" --data-dir "$d"
d=$work/truncgz; good "$d"; gz=$d/t10k-images-idx3-ubyte.gz; head -c $(($(stat -c %s "$gz") - 12)) "$gz" >"$gz.tmp"; mv "$gz.tmp" "$gz"
expect "truncated gzip file" "t10k-images-idx3-ubyte.gz" --data-dir "$d"
d=$work/magic; good "$d"; printf 'GIF89a-not-an-idx-file' >"$d/train-labels-idx1-ubyte"
expect "wrong magic" "train-labels-idx1-ubyte: not an IDX file" --data-dir "$d"
d=$work/dims; good "$d"; cp "$d/train-labels-idx1-ubyte" "$d/train-images-idx3-ubyte"
expect "image file with label dimensions" "expected 3 dimensions" --data-dir "$d"
d=$work/size; good "$d"; rm "$d/t10k-images-idx3-ubyte.gz"; images "$d/t10k-images-idx3-ubyte" 20 27 27
expect "train/test image size mismatch" "different sizes" --data-dir "$d"
d=$work/label; good "$d"; labels "$d/train-labels-idx1-ubyte" 40 17
expect "label out of range" "label 17 at index 39" --data-dir "$d"
d=$work/count; good "$d"; labels "$d/train-labels-idx1-ubyte" 39
expect "image/label count mismatch" "39 labels" --data-dir "$d"
expect "unwritable metrics path" "--metrics" --data-dir "$work/good" --metrics /nonexistent/dir/m.jsonl
expect "negative learning rate" "--lr" --data-dir "$work/good" --lr -1
expect "batch size 0" "--batch-size" --data-dir "$work/good" --batch-size 0
expect "hidden sizes abc" "--hidden" --data-dir "$work/good" --hidden abc
expect "unknown optimizer" "--optimizer" --data-dir "$work/good" --optimizer rmsprop
expect "zero epochs" "--epochs" --data-dir "$work/good" --epochs 0
expect "unknown schedule" "--lr-schedule" --data-dir "$work/good" --lr-schedule linear
expect "non-numeric seed" "--seed" --data-dir "$work/good" --seed twelve
expect "unknown flag" "--frobnicate" --data-dir "$work/good" --frobnicate

echo "$failures failed"
[[ $failures -eq 0 ]]
