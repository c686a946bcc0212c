# file: solutions/ch05/balanced_partition.cpp
# todo: 05.2
# mistake: walking back, every boundary is read from the row of all N items (cut[k][N]) instead of from where the later part starts
s|for (std::size_t k = P; k >= 1; --k) bounds\[k - 1\] = cut\[k\]\[static_cast<std::size_t>(bounds\[k\])\];|for (std::size_t k = P; k >= 1; --k) bounds[k - 1] = cut[k][N];|
