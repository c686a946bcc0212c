// The GEMM stage solutions/ch04/gemm/6_warptiled.cu compiled as C++ for the CUDA emulator (CMake cannot
// compile one file in two languages; this file only includes it).
#include "../../solutions/ch04/gemm/6_warptiled.cu"
