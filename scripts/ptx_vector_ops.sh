#!/usr/bin/env bash
# What the compiler makes of GEMM v4 and v5: compiles both stages to PTX (needs nvcc; no GPU) and
# counts their 128-bit (.v4) and 32-bit memory instructions, to show what v5 really adds over v4.
# Usage: scripts/ptx_vector_ops.sh [ARCH]   (default sm_90)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[[ -x $nvcc ]] || { echo "ptx_vector_ops.sh: no nvcc found (set NVCC=/path/to/nvcc)" >&2; exit 2; }
arch=${1:-sm_90}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "$("$nvcc" --version | tail -n 1), -arch=$arch -O3"
printf '%-16s' instruction
stages=(4_blocked2d 5_vectorized)
for s in "${stages[@]}"; do
  "$nvcc" -arch="$arch" -O3 -std=c++17 -ptx -I"$root/contracts" -I"$root/solutions" \
    -I"$root/emulator/include" -I"$root/common/include" "$root/solutions/ch04/gemm/$s.cu" -o "$dir/$s.ptx"
  printf '%14s' "$s"
done
echo
for op in ld.shared.v4.f32 ld.shared.f32 ld.global.v4.f32 ld.global.f32 st.global.v4.f32 st.global.f32; do
  printf '%-16s' "$op"
  for s in "${stages[@]}"; do printf '%14s' "$(grep -cF "$op " "$dir/$s.ptx" || true)"; done
  echo
done
