# file: solutions/ch02/shards.cpp
# todo: 02.2
# mistake: w_k = 1 / K for every shard instead of n_k / n (wrong when the shards are uneven)
s|static_cast<float>(s.size()) / static_cast<float>(n)|1.0f / static_cast<float>(shards.size())|
