#!/usr/bin/env bash
# Chapter 04's own flags: each bad value exits 2 with one stderr line naming the flag. Flags are
# checked before the GPU is probed, so this runs on any machine.
# Usage: bad_flags.sh CH04_CUDA CH04_GEMM CH04_STEP_BENCH
set -u
cuda=$1 gemm=$2 step=$3
source "$(dirname "$0")/../bad_flags_lib.sh"
check() { expect_refused "$@"; }
check --gemm "$cuda" --no-progress --gemm bogus
check --gemm "$cuda" --no-progress --gemm cublas-tf32
check --batch-size "$cuda" --no-progress --batch-size 0
check --graph "$cuda" --no-progress --graph=maybe
check --kernel "$gemm" --kernel x
check --m "$gemm" --kernel naive --m 0
check --n "$gemm" --kernel naive --n -3
check --k "$gemm" --k many
check --sweep "$gemm" --sweep --kernel smem
check --gemm "$step" --gemm cublas,nope
check --batch-size "$step" --hidden 256,128
check --hidden "$step" --hidden 256,x --batch-size 8
finish
