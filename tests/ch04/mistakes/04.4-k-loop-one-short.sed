# file: solutions/ch04/gemm/4_blocked2d.cu
# todo: 04.4
# mistake: off by one: k < BK - 1, the tile's last k is left out
s/for (int k = 0; k < BK; ++k) {/for (int k = 0; k < BK - 1; ++k) {/
