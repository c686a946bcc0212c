// contracts/ch04/gemm_problem.hpp — chapter 04's contract for every GEMM kernel (the stages in
// solutions/ch04/gemm/, the exercise exercises/ch04/3_smem.cu): what they compute, in plain pointers.
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N]        (row-major, FP32)
//
// op(X) is X or X^T: an Operand knows its storage (row-major with leading dimension ld) and
// whether it is read transposed. The MLP needs three products (ptt/layers.hpp):
//   forward  Y  = X · W^T   (A = X,     B = W transposed)
//   weights  dW = dY^T · X  (A = dY transposed, B = X)
//   inputs   dX = dY · W    (A = dY,    B = W)
// so every kernel takes both flags at run time (the branch is the same for every thread: free).
// Compiled by nvcc (kernels) and by the host compiler (CPU reference, tests): PTT_HD marks
// functions that run on both sides.
#pragma once

#ifdef __CUDACC__
#define PTT_HD __host__ __device__
#else
#define PTT_HD
#endif

namespace ptt::ch04 {

/// One operand of a GEMM: element (r, c) of op(X).
struct Operand {
  const float* data = nullptr;  ///< storage, row-major
  int ld = 0;                   ///< leading dimension (row stride) of the storage
  bool trans = false;           ///< read the storage transposed
  /// @brief Where element (r, c) of op(X) is stored, in elements from @p data. In 64 bits: a
  /// 50000 x 50000 matrix has more elements than an int counts (2^31 - 1), and r * ld in int
  /// arithmetic would overflow (undefined behaviour; in practice a wrong, negative offset).
  PTT_HD long long offset(int r, int c) const {
    return trans ? static_cast<long long>(c) * ld + r : static_cast<long long>(r) * ld + c;
  }
  /// @brief Element (r, c) of op(X): X[r, c], or X[c, r] when transposed.
  PTT_HD float at(int r, int c) const { return data[offset(r, c)]; }
};

/// C[M, N] = op(A)[M, K] · op(B)[K, N], C row-major with leading dimension ldc.
struct GemmProblem {
  int M = 0, N = 0, K = 0;
  Operand A, B;
  float* C = nullptr;
  int ldc = 0;
  /// @brief Where C[r, c] is stored, in elements from C (64 bits, as Operand::offset).
  PTT_HD long long c_offset(int r, int c) const { return static_cast<long long>(r) * ldc + c; }
};

}  // namespace ptt::ch04
