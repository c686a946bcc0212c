# file: solutions/ch04/gemm/4_blocked2d.cu
# todo: 04.4
# mistake: the accumulators overwritten instead of added to (acc = a * b): only the last k of the last k-tile counts
s/acc\[i\]\[j\] += a\[i\] \* b\[j\];/acc[i][j] = a[i] * b[j];/
