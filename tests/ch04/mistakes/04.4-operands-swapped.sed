# file: solutions/ch04/gemm/4_blocked2d.cu
# todo: 04.4
# mistake: A and B swapped: the thread's values of A read from Bs at its rows and of B from As at its columns
s/a\[i\] = As\[k\]\[tr \* TM + i\];/a[i] = Bs[k][tr * TM + i];/
s/b\[j\] = Bs\[k\]\[tc \* TN + j\];/b[j] = As[k][tc * TN + j];/
