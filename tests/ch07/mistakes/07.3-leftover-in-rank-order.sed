# file: solutions/ch07/proportional_counts.cpp
# todo: 07.3
# mistake: the samples left over go to ranks 0, 1, ... in order (as chapter 02's shards), whatever their remainders
/std::stable_sort(order.begin(), order.end(),/,+1d
