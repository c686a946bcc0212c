#!/usr/bin/env bash
# Runs a test command only where a CUDA device is usable; exits 77 (skipped) elsewhere.
# Usage: needs_device.sh CH04_GEMM COMMAND [ARGS...]   (ch04_gemm --list-devices is the probe)
set -u
probe=$1; shift
"$probe" --list-devices >/dev/null 2>&1 || { echo "SKIP: no CUDA device"; exit 77; }
exec "$@"
