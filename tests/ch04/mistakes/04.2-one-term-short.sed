# file: solutions/ch04/gemm/3_smem.cu
# todo: 04.2
# mistake: off by one: k < kTile - 1, the tile's last term is left out
s/for (int k = 0; k < kTile; ++k) acc +=/for (int k = 0; k < kTile - 1; ++k) acc +=/
