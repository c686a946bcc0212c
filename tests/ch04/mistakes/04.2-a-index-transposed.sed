# file: solutions/ch04/gemm/3_smem.cu
# todo: 04.2
# mistake: the dot product reads As[k][ty] (a column of As) instead of As[ty][k] (its row)
s/acc += As\[ty\]\[k\] \* Bs\[k\]\[tx\];/acc += As[k][ty] * Bs[k][tx];/
