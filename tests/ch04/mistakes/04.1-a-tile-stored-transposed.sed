# file: solutions/ch04/gemm/3_smem.cu
# todo: 04.1
# mistake: the element of A is stored at As[tx][ty] instead of As[ty][tx]
s/As\[ty\]\[tx\] = /As[tx][ty] = /
