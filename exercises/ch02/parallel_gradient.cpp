// Chapter 02 exercise: the padded gradient buffers, and the OpenMP parallel region in which the
// threads compute the shards' gradients into them and combine them. Fill in TODO(02.4) (both
// functions below); contracts/ch02/parallel_gradient.hpp and contracts/ch02/gradient_buffers.hpp
// state what they must do, and chapters/02_openmp_data_parallel/README.md explains why.
// Do TODO(02.3) first: the combination uses your combine_range.
// Check your work with:  ./tutorial check 02
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
    : count_(count), length_(length), stride_(length) {
  PTT_CHECK(count > 0, "need at least one buffer");
  // TODO(02.4), part 1: lay the buffers out so that no two share a 64-byte cache line. As given,
  //   buffer k starts right where buffer k-1 ends, on no particular boundary: two threads writing
  //   the end of one buffer and the start of the next write to the same line (false sharing).
  //   The contract (gradient_buffers.hpp) says what stride() and the block's alignment must be,
  //   and which allocation std::free can release.
  data_.reset(static_cast<float*>(std::malloc(std::max<std::size_t>(count_ * stride_ * sizeof(float), 1))));
  if (!data_) throw std::bad_alloc();
}

void parallel_gradient(const ParamLayout& layout, std::span<const float> params, const ShardedBatch& batch,
                       const ShardMemory& memory, std::span<float> grads, int threads, RegionHooks& hooks) {
  PTT_CHECK(threads > 0, "need at least one thread");
  // TODO(02.4), part 2: one OpenMP parallel region of exactly `threads` threads, in which
  //   1. the shards are shared among the threads, and each non-empty shard k runs forward on its
  //      own rows into its own workspace;
  //   2. then backward into its OWN gradient buffer, writing its loss and correct predictions
  //      into its own stats slot (no two threads may ever write the same memory);
  //   3. then the threads share fixed chunks of kCombineChunk parameters and combine each chunk
  //      over all shards with their weights (your combine_range), telling hooks.combined about
  //      each chunk, so that the result has the same bits for any number of threads.
  //   Each phase ends with a barrier, after which thread 0 alone calls hooks.phase_done(phase);
  //   last, every thread of the region calls hooks.region_end() (the trainer's update).
  //   Why one region and not three: every fork and join costs, and the update that follows
  //   wants the chunks still in the cache of the thread that combined them.
  (void)layout;
  (void)params;
  (void)batch;
  (void)memory;
  (void)grads;
  (void)hooks;
}

}  // namespace ptt::ch02
