# file: solutions/ch04/gemm/4_blocked2d.cu
# todo: 04.4
# mistake: the thread's columns of Bs taken 1 apart from tc (tc + j) instead of TN apart (tc * TN + j)
s/b\[j\] = Bs\[k\]\[tc \* TN + j\];/b[j] = Bs[k][tc + j];/
