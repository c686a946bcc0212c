// Chapter 03: the distributed gradient step and its allreduces (see distributed.hpp).
#include "ch03/distributed.hpp"

#include "ch03/ring_allreduce.hpp"
#include "ptt/error.hpp"
#include "ptt/metrics.hpp"

namespace ptt::ch03 {

void mpi_allreduce(std::span<float> data, MPI_Comm comm) {
  if (data.empty()) return;
  PTT_MPI_CHECK(
      MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_FLOAT, MPI_SUM, comm));
}

BucketedAllreduce::BucketedAllreduce(const ParamLayout& layout, std::size_t bucket_bytes, MPI_Comm comm)
    : layout_(layout), comm_(comm) {
  // From the top layer down (the order backward finishes them), whole layers per bucket (TODO(03.3)).
  for (const GradientBucket& b : gradient_buckets(layout, bucket_bytes))
    buckets_.push_back(Bucket{b.lowest_layer, b.begin, b.end});
}

void BucketedAllreduce::start(std::span<float> grads, float weight) {
  PTT_CHECK(grads.size() == layout_.size(), "buffer does not match the layout");
  grads_ = grads;
  weight_ = weight;
}

void BucketedAllreduce::layer_done(int l) {
  const LayerSlot& s = layout_.layer(l);
  for (std::size_t i = s.weight; i < s.end; ++i) grads_[i] *= weight_;  // g_r -> (n_r / n) g_r
  for (Bucket& b : buckets_) {
    if (b.lowest_layer == l) {
      PTT_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, grads_.data() + b.begin, static_cast<int>(b.end - b.begin),
                                   MPI_FLOAT, MPI_SUM, comm_, &b.request));
    } else if (b.request != MPI_REQUEST_NULL) {
      // MPI moves a non-blocking collective forward only inside MPI calls: poke it.
      int done = 0;
      PTT_MPI_CHECK(MPI_Test(&b.request, &done, MPI_STATUS_IGNORE));
    }
  }
}

void BucketedAllreduce::finish() {
  for (Bucket& b : buckets_) PTT_MPI_CHECK(MPI_Wait(&b.request, MPI_STATUS_IGNORE));
}

DistributedStep::DistributedStep(const ParamLayout& layout, const Options& options, MPI_Comm comm)
    : layout_(layout),
      options_(options),
      comm_(comm),
      threads_(layout, ch02::Options{options.threads, false, 1, ch02::Reduction::Buffers}),
      buckets_(layout, options.bucket_bytes, comm) {
  PTT_MPI_CHECK(MPI_Comm_rank(comm, &rank_));
  PTT_MPI_CHECK(MPI_Comm_size(comm, &world_));
}

StepResult DistributedStep::step(std::span<float> params, std::span<float> grads, const Dataset& data,
                                 std::span<const std::uint32_t> batch, Optimizer* optimizer,
                                 PhaseTimer* timer) {
  const Range mine = shard_range(batch.size(), rank_, world_);
  const float weight = static_cast<float>(mine.size()) / static_cast<float>(batch.size());
  {
    Stopwatch t;
    gather(data, batch.subspan(mine.begin, mine.size()), x_, y_);
    if (timer) timer->add(Phase::Data, t.seconds());
  }
  float local_loss = 0.0f;
  std::size_t local_correct = 0;
  if (options_.allreduce == AllreduceKind::Bucketed) {
    buckets_.start(grads, weight);
    if (mine.size() > 0) {
      Stopwatch t;
      mlp_forward(layout_, params, x_, ws_);
      if (timer) timer->add(Phase::Forward, t.seconds());
      t.reset();
      local_loss = mlp_backward(layout_, params, y_, ws_, grads, [this](int l) { buckets_.layer_done(l); });
      local_correct = count_correct(ws_.logits(), y_);
      if (timer) timer->add(Phase::Backward, t.seconds());
    } else {  // an empty shard still takes part in every bucket's allreduce, with zeros
      std::fill(grads.begin(), grads.end(), 0.0f);
      for (int l = layout_.num_layers() - 1; l >= 0; --l) buckets_.layer_done(l);
    }
    Stopwatch t;
    buckets_.finish();
    if (timer) timer->add(Phase::Reduce, t.seconds());
  } else {
    if (mine.size() > 0) {
      local_loss = threads_.gradient(params, x_, y_, grads, timer);
      local_correct = threads_.last_correct();
    } else {
      std::fill(grads.begin(), grads.end(), 0.0f);
    }
    Stopwatch t;
    if (weight != 1.0f)  // g_r -> (n_r / n) g_r (one rank owns the whole batch: nothing to scale)
      for (float& g : grads) g *= weight;
    if (options_.allreduce == AllreduceKind::Ring)
      ring_allreduce(grads, comm_);
    else
      mpi_allreduce(grads, comm_);
    if (timer) timer->add(Phase::Reduce, t.seconds());
  }
  // The batch's loss and accuracy, combined like the gradient. A rank that is ahead waits here
  // for the others, so this is Reduce time too: the phases add up to the whole step.
  double stats[2] = {static_cast<double>(weight) * local_loss, static_cast<double>(local_correct)};
  {
    Stopwatch t;
    PTT_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, stats, 2, MPI_DOUBLE, MPI_SUM, comm_));
    if (timer) timer->add(Phase::Reduce, t.seconds());
  }
  if (optimizer != nullptr) {
    Stopwatch t;
    optimizer->step(params, grads);
    if (timer) timer->add(Phase::Update, t.seconds());
  }
  return {static_cast<float>(stats[0]), static_cast<std::size_t>(stats[1])};
}

}  // namespace ptt::ch03
