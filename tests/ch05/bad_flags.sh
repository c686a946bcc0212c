#!/usr/bin/env bash
# ch05_model_parallel's own flags: each bad value exits 2 with one stderr line naming the flag.
set -u
source "$(dirname "$0")/../bad_flags_lib.sh"
exe=$1
check() { expect_refused "$1" "$exe" --no-progress --max-steps 2 "${@:2}"; }
check --tp --tp 0
check --tp --tp -1
check --tp --tp 1000
check "--tp 3: does not divide" --tp 3
check --pp --pp 0
check "--pp 4: the MLP has only 3 layers" --pp 4
check "--tp and --pp" --tp 2 --pp 2
check --microbatches --microbatches 0
check --microbatches --batch-size 16 --microbatches 17
check --schedule --schedule zero-bubble
check "--trace /nonexistent-dir/t.json" --trace /nonexistent-dir/t.json
finish
