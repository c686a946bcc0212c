# file: solutions/ch02/shards.cpp
# todo: 02.2
# mistake: w_k = float(n_k / n): the division is done in integers, so every weight is 0 (or 1 for one shard)
s|static_cast<float>(s.size()) / static_cast<float>(n)|static_cast<float>(s.size() / n)|
