# file: solutions/ch04/gemm/4_blocked2d.cu
# todo: 04.4
# mistake: the thread's rows of As taken 1 apart from tr (tr + i) instead of TM apart (tr * TM + i): threads share rows, most rows of C get another row's values
s/a\[i\] = As\[k\]\[tr \* TM + i\];/a[i] = As[k][tr + i];/
