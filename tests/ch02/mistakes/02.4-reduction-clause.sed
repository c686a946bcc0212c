# file: solutions/ch02/parallel_gradient.cpp
# todo: 02.4
# mistake: the shards combined with OpenMP's reduction clause: each thread sums its own shards, then the threads' sums are added, so the order of the additions depends on the number of threads
/^#pragma omp parallel num_threads(threads)$/i\
  float* const sum = grads.data();
/\/\/ Reduce: g = sum_k w_k g_k/,/implicit barrier: grads is complete/c\
#pragma omp single\
    std::fill(grads.begin(), grads.end(), 0.0f);\
#pragma omp for schedule(static) reduction(+ : sum[:P])\
    for (std::size_t k = 0; k < K; ++k) {\
      if (batch.weights[k] == 0.0f) continue;\
      const float* gk = memory.buffers[k].data();\
      for (std::size_t i = 0; i < P; ++i) sum[i] += batch.weights[k] * gk[i];\
    }  // implicit barrier: grads is complete\
#pragma omp for schedule(static)\
    for (std::size_t c = 0; c < chunks; ++c) hooks.combined(c * kCombineChunk, std::min(P, (c + 1) * kCombineChunk));
