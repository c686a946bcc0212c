# file: solutions/ch02/shards.cpp
# todo: 02.2
# mistake: w_k = n_k: the shard size, never divided by the batch size n
s|static_cast<float>(s.size()) / static_cast<float>(n)|static_cast<float>(s.size())|
