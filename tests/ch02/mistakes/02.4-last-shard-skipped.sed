# file: solutions/ch02/parallel_gradient.cpp
# todo: 02.4
# mistake: off by one in the backward loop over shards: the last shard's gradient is never computed, its buffer combined as it was
/\/\/ Backward: shard k/,/implicit barrier: every buffer is complete/s/for (std::size_t k = 0; k < K; ++k) {/for (std::size_t k = 0; k < K - 1; ++k) {/
