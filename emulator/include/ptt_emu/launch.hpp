// ptt_emu/launch.hpp — the two spellings that differ between nvcc and the CUDA emulator, as macros
// that chapter 04's kernel files use: a kernel launch and a __shared__ declaration.
//
//   PTT_LAUNCH(kernel, grid, block, shmem, stream)(args...)
//       nvcc:     kernel<<<grid, block, shmem, stream>>>(args...)
//       emulator: ptt::emu::launch(...)(args...), every CUDA thread a fiber (emulator/README.md)
//   PTT_SHARED(type, name, dims);                  e.g. PTT_SHARED(float, As, [kTile][kTile]);
//   PTT_SHARED_ALIGNED(align, type, name, dims);   e.g. PTT_SHARED_ALIGNED(16, float, As, [BK][BM]);
//       nvcc:     __shared__ [__align__(align)] type name dims;
//       emulator: a reference to this block's emulated shared storage (NaN at the start of a block)
//
// Header only, no dependency: the nvcc build includes it and links nothing of the emulator.
#pragma once

#if defined(__CUDACC__)

#define PTT_LAUNCH(kernel, grid, block, shmem, stream) kernel<<<grid, block, shmem, stream>>>
#define PTT_SHARED(type, name, dims) __shared__ type name dims
#define PTT_SHARED_ALIGNED(align, type, name, dims) \
  __shared__ __align__(align)                       \
  type name dims

#else

#include "ptt_emu/emulator.hpp"

#define PTT_LAUNCH(kernel, grid, block, shmem, stream) \
  ::ptt::emu::launch(kernel, #kernel, grid, block, shmem, stream, __FILE__, __LINE__)
#define PTT_SHARED(type, name, dims) PTT_SHARED_ALIGNED(alignof(type), type, name, dims)
#define PTT_SHARED_ALIGNED(align, type, name, dims)                                   \
  static const ::ptt::emu::SharedSite name##_ptt_emu_site{#name, __FILE__, __LINE__}; \
  type(&name) dims = *static_cast<type(*) dims>(                                      \
      ::ptt::emu::shared_memory(name##_ptt_emu_site, sizeof(type dims), static_cast<std::size_t>(align)))

#endif
