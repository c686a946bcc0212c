# file: solutions/ch04/gemm/4_blocked2d.cu
# todo: 04.4
# mistake: the micro-tile transposed: acc[i][j] gets a[j] * b[i], the product of row j and column i
s/acc\[i\]\[j\] += a\[i\] \* b\[j\];/acc[i][j] += a[j] * b[i];/
