// The learner's fused epilogue exercises/ch04/bias_activation.cu compiled as C++ for the CUDA
// emulator (CMake cannot compile one file in two languages; this file only includes it).
#include "../../exercises/ch04/bias_activation.cu"
