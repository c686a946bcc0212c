# file: solutions/ch04/gemm/3_smem.cu
# todo: 04.2
# mistake: the dot product reads Bs[tx][k] (a row of Bs) instead of Bs[k][tx] (its column)
s/acc += As\[ty\]\[k\] \* Bs\[k\]\[tx\];/acc += As[ty][k] * Bs[tx][k];/
