# file: solutions/ch02/parallel_gradient.cpp
# todo: 02.4
# mistake: the shard means averaged with equal weights 1/K instead of n_k / n: the samples of small shards count more (and an empty shard's garbage counts)
s/combine_range(memory.buffers, batch.weights, grads, begin, end);/combine_range(memory.buffers, std::vector<float>(K, 1.0f \/ static_cast<float>(K)), grads, begin, end);/
