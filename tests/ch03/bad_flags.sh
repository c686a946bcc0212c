#!/usr/bin/env bash
# ch03_mpi's own flags: each bad value exits 2 with one stderr line naming the flag.
set -u
source "$(dirname "$0")/../bad_flags_lib.sh"
exe=$1
check() { expect_refused "$1" "$exe" --no-progress "${@:2}"; }
check --allreduce --allreduce tree
check --bucket-kb --bucket-kb 0
check --threads --threads 0
check --threads --threads -1
check --allreduce --allreduce bucketed --threads 2
check --check-every --check-every -5
finish
