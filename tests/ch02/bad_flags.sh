#!/usr/bin/env bash
# ch02_openmp's own flags, and ch02_gemm_shape's: each bad value exits 2 with one stderr line
# naming the flag.
set -u
source "$(dirname "$0")/../bad_flags_lib.sh"
exe=$1 shape=$2
check() { expect_refused "$1" "$exe" --no-progress "${@:2}"; }
check --threads --threads 0
check --threads --threads -2
check --threads --threads many
check --shards --shards 0
check --reduce --reduce magic
check --reduce --reduce atomic --deterministic
check --reduce --reduce owner --deterministic
expect_refused --batch "$shape" --batch 0
expect_refused --outputs "$shape" --outputs wide
expect_refused --threads "$shape" --threads 1
expect_refused --repeats "$shape" --repeats -3
finish
