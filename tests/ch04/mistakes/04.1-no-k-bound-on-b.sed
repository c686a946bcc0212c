# file: solutions/ch04/gemm/3_smem.cu
# todo: 04.1
# mistake: B's load checks only col < N, not k0 + ty < K: the last tile reads rows of B past K
s/Bs\[ty\]\[tx\] = (k0 + ty < p.K && col < p.N)/Bs[ty][tx] = (col < p.N)/
