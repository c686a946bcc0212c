// Chapter 02 solution: the padded gradient buffers, and the parallel region in which the threads
// compute the shards' gradients into them and combine them (contracts/ch02/parallel_gradient.hpp).
#include "ch02/parallel_gradient.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "ptt/error.hpp"
#include "ptt/metrics.hpp"

namespace ptt::ch02 {

void GradientBuffers::Free::operator()(float* p) const { std::free(p); }

GradientBuffers::GradientBuffers(std::size_t count, std::size_t length)
    : count_(count), length_(length), stride_((length + kLineFloats - 1) / kLineFloats * kLineFloats) {
  PTT_CHECK(count > 0, "need at least one buffer");
  // One block, 64-byte aligned: with the stride a whole number of lines, every buffer starts on
  // a line of its own.
  const std::size_t bytes = std::max<std::size_t>(count_ * stride_ * sizeof(float), 64);
  data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (!data_) throw std::bad_alloc();
}

//! [parallel_gradient]
void parallel_gradient(const ParamLayout& layout, std::span<const float> params, const ShardedBatch& batch,
                       const ShardMemory& memory, std::span<float> grads, int threads, RegionHooks& hooks) {
  PTT_CHECK(threads > 0, "need at least one thread");
  const std::size_t K = batch.shards.size();
  const std::size_t P = grads.size();
  const std::size_t chunks = (P + kCombineChunk - 1) / kCombineChunk;

#pragma omp parallel num_threads(threads)
  {
    // Forward: every shard against the same parameters, in its own workspace.
    // schedule(static) gives thread t shard t in fast mode (K = threads).
#pragma omp for schedule(static)
    for (std::size_t k = 0; k < K; ++k) {
      const Range s = batch.shards[k];
      if (s.size() == 0) continue;
      mlp_forward(layout, params,
                  batch.x.middleRows(static_cast<Eigen::Index>(s.begin), static_cast<Eigen::Index>(s.size())),
                  memory.workspaces[k]);
    }  // implicit barrier
#pragma omp master
    hooks.phase_done(Phase::Forward);

    // Backward: shard k's mean gradient g_k into its own buffer; no thread writes another's.
#pragma omp for schedule(static)
    for (std::size_t k = 0; k < K; ++k) {
      const Range s = batch.shards[k];
      if (s.size() == 0) continue;
      const auto labels = batch.y.subspan(s.begin, s.size());
      memory.stats[k].loss = mlp_backward(layout, params, labels, memory.workspaces[k], memory.buffers[k]);
      memory.stats[k].correct = count_correct(memory.workspaces[k].logits(), labels);
    }  // implicit barrier: every buffer is complete
#pragma omp master
    hooks.phase_done(Phase::Backward);

    // Reduce: g = sum_k w_k g_k, in parallel over fixed-size chunks of the parameters, the shards
    // in index order inside each chunk: the same operations for any number of threads.
#pragma omp for schedule(static)
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::size_t begin = c * kCombineChunk;
      const std::size_t end = std::min(P, begin + kCombineChunk);
      combine_range(memory.buffers, batch.weights, grads, begin, end);
      hooks.combined(begin, end);
    }  // implicit barrier: grads is complete
#pragma omp master
    hooks.phase_done(Phase::Reduce);

    hooks.region_end();
  }
}
//! [parallel_gradient]

}  // namespace ptt::ch02
