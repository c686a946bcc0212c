# file: solutions/ch04/gemm/4_blocked2d.cu
# todo: 04.4
# mistake: the accumulators reset to 0 at every call: each k-tile starts over, only the last one counts
/float a\[TM\], b\[TN\];  \/\/ this k.s operands, in registers/a\
  for (int i = 0; i < TM; ++i)\
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;
