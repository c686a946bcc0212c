# file: solutions/ch04/gemm/3_smem.cu
# todo: 04.1
# mistake: off by one: A's load uses k0 + tx <= K, so it reads one column past K
s/k0 + tx < p.K/k0 + tx <= p.K/
