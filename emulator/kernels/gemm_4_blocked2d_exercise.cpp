// The learner's GEMM stage exercises/ch04/4_blocked2d.cu compiled as C++ for the CUDA emulator
// (CMake cannot compile one file in two languages; this file only includes it).
#include "../../exercises/ch04/4_blocked2d.cu"
