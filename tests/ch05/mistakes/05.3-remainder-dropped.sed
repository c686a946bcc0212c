# file: solutions/ch05/microbatches.cpp
# todo: 05.3
# mistake: the sizes rounded down and the remainder forgotten: the last B mod m rows belong to no micro-batch
s|const std::size_t extra = rows % m; |const std::size_t extra = 0; |
