# file: solutions/ch04/gemm/3_smem.cu
# todo: 04.1
# mistake: A's tile reads column k0 + ty instead of k0 + tx (the tile of A is loaded transposed)
s/p.A.at(row, k0 + tx)/p.A.at(row, k0 + ty)/
