# file: solutions/ch04/gemm/3_smem.cu
# todo: 04.2
# mistake: the sum restarts at 0 in every tile instead of continuing from acc: only the last tile of K counts
/for (int k = 0; k < kTile; ++k) acc +=/i\
  acc = 0.0f;
