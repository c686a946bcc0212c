# file: solutions/ch07/proportional_counts.cpp
# todo: 07.3
# mistake: every share rounded down and the samples left over never dealt: up to one sample per rank is lost from each batch
/for (std::size_t j = 0; given < n; j = (j + 1) % order.size())/,+1d
