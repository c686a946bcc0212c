// emulator_asan_probe.cpp — planted memory bugs that only a sanitizer sees, run on the emulator
// built with AddressSanitizer + UBSan (the asan preset). Each case launches one small kernel; the
// CTest registration (tests/ch04/emulator/CMakeLists.txt) expects the sanitizer's report for the
// bug cases and a clean exit for "clean", which runs the same kernels without their bugs.
//   emulator_asan_probe clean | global_oob | shared_oob | misaligned_float4
#include <cuda_runtime.h>  // the emulator's stand-in (emulator/standin)

#include <cstdio>
#include <cstring>
#include <string>

#include "ptt_emu/launch.hpp"

namespace {

constexpr int kN = 64;

/// Global memory: thread i copies in[i + shift] to out[i]; shift 1 reads one float past the end.
__global__ void copy_shifted(const float* in, float* out, int shift) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  out[i] = in[i + shift];
}

/// Shared memory: a 32-float tile, thread t writes tile[t + shift] through a pointer (as kernels
/// index shared buffers; UBSan's bounds check sees only array types); shift 1 writes past the tile.
__global__ void shared_shifted(float* out, int shift) {
  PTT_SHARED(float, tile, [32]);
  const int t = static_cast<int>(threadIdx.x);
  float* base = tile;
  base[t + shift] = static_cast<float>(t);
  __syncthreads();
  out[t] = tile[t];
}

/// 128-bit loads: thread t reads the float4 at in + 4t + offset; offset 1 is misaligned.
__global__ void load_float4(const float* in, float* out, int offset) {
  const int t = static_cast<int>(threadIdx.x);
  const float4 v = *reinterpret_cast<const float4*>(in + 4 * t + offset);
  out[t] = v.x + v.y + v.z + v.w;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  const bool clean = what == "clean";
  if (!clean && what != "global_oob" && what != "shared_oob" && what != "misaligned_float4") {
    std::fprintf(stderr, "usage: emulator_asan_probe clean|global_oob|shared_oob|misaligned_float4\n");
    return 2;
  }
  float *in = nullptr, *out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&in), (kN + 4) * sizeof(float));  // 4 spare for the float4 case
  cudaMalloc(reinterpret_cast<void**>(&out), kN * sizeof(float));
  cudaMemset(in, 0, (kN + 4) * sizeof(float));
  if (clean || what == "global_oob")  // reads in[kN + 4] when shifted by 5: past the allocation
    PTT_LAUNCH(copy_shifted, dim3(2), dim3(32), 0, nullptr)(in, out, clean ? 4 : 5);
  if (clean || what == "shared_oob")
    PTT_LAUNCH(shared_shifted, dim3(1), dim3(32), 0, nullptr)(out, clean ? 0 : 1);
  if (clean || what == "misaligned_float4")
    PTT_LAUNCH(load_float4, dim3(1), dim3(16), 0, nullptr)(in, out, clean ? 0 : 1);
  cudaFree(in);
  cudaFree(out);
  std::printf("%s: no report\n", what.c_str());
  return 0;
}
