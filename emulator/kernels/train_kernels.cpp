// The training kernels solutions/ch04/train_kernels.cu compiled as C++ for the CUDA emulator (CMake
// cannot compile one file in two languages; this file only includes it).
#include "../../solutions/ch04/train_kernels.cu"
