# file: solutions/ch05/microbatches.cpp
# todo: 05.3
# mistake: every micro-batch gets ceil(B/m) rows and no remainder is kept: the last ones run past the batch
s|const std::size_t base = rows / m; |const std::size_t base = (rows + m - 1) / m; |
s|const std::size_t extra = rows % m; |const std::size_t extra = 0; |
