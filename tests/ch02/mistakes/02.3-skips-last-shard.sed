# file: solutions/ch02/shards.cpp
# todo: 02.3
# mistake: off by one: the loop over shards stops one early, the last shard never counts
s/for (std::size_t k = 1; k < g.count(); ++k)/for (std::size_t k = 1; k + 1 < g.count(); ++k)/
