// Chapter 03: after k steps the distributed trainer's weights equal chapter 01's trained on the
// same global batches, for every allreduce, and all ranks hold the same bits.
#include "ch03/distributed.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include "ch03/mpi_runtime.hpp"
#include "mpi_test_util.hpp"
#include "ptt/checksum.hpp"
#include "ptt/data.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "test_util.hpp"

namespace ptt::ch03 {
namespace {

using test::relative_error;
using test::world_size;

struct TrainedRun {
  std::vector<float> params;
  std::vector<float> losses;
};

// Chapter 01 on the global batches: the reference every rank computes for itself.
TrainedRun serial(const Dataset& data, const ParamLayout& layout, std::size_t global_batch, int steps) {
  TrainedRun r{std::vector<float>(layout.size()), {}};
  he_init(layout, r.params, 3);
  std::vector<float> grads(layout.size());
  Sgd sgd(layout.size(), 0.05f, 0.9f);
  BatchSampler sampler(std::size_t(data.size()), global_batch, 11);
  Workspace ws;
  Matrix x;
  std::vector<std::uint8_t> y;
  int done = 0;
  for (int epoch = 1; done < steps; ++epoch) {
    sampler.start_epoch(std::uint64_t(epoch));
    for (std::size_t b = 0; b < sampler.num_batches() && done < steps; ++b, ++done) {
      gather(data, sampler.batch(b), x, y);
      mlp_forward(layout, r.params, x, ws);
      r.losses.push_back(mlp_backward(layout, r.params, y, ws, grads));
      sgd.step(r.params, grads);
    }
  }
  return r;
}

TrainedRun distributed(const Dataset& data, const ParamLayout& layout, std::size_t global_batch, int steps,
                       const Options& options) {
  TrainedRun r{std::vector<float>(layout.size()), {}};
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) he_init(layout, r.params, 3);
  MPI_Bcast(r.params.data(), int(r.params.size()), MPI_FLOAT, 0, MPI_COMM_WORLD);
  std::vector<float> grads(layout.size());
  Sgd sgd(layout.size(), 0.05f, 0.9f);
  DistributedStep step(layout, options, MPI_COMM_WORLD);
  BatchSampler sampler(std::size_t(data.size()), global_batch, 11);
  int done = 0;
  for (int epoch = 1; done < steps; ++epoch) {
    sampler.start_epoch(std::uint64_t(epoch));
    for (std::size_t b = 0; b < sampler.num_batches() && done < steps; ++b, ++done)
      r.losses.push_back(step.step(r.params, grads, data, sampler.batch(b), &sgd, nullptr).loss);
  }
  return r;
}

class MatchesSerial : public ::testing::TestWithParam<AllreduceKind> {};

TEST_P(MatchesSerial, AfterStepsOverUnevenAndPartialBatches) {
  // 203 samples, global batch 8 per rank: the last batch of each epoch is partial, and with 4
  // ranks its 3 samples leave a rank with an empty shard. 30 steps cross an epoch boundary.
  const Dataset data = make_synthetic(203, 24, 5, 2);
  const ParamLayout layout({24, 20, 12, 5});
  const std::size_t global_batch = 8 * std::size_t(world_size());
  const int steps = int((203 + global_batch - 1) / global_batch) + 3;
  Options options;
  options.allreduce = GetParam();
  options.bucket_bytes = 512;  // several buckets for this small net
  const TrainedRun ref = serial(data, layout, global_batch, steps);
  const TrainedRun got = distributed(data, layout, global_batch, steps, options);
  EXPECT_LT(relative_error(got.params, ref.params), 1e-5);
  EXPECT_EQ(got.losses.size(), ref.losses.size());
  for (std::size_t s = 0; s < std::min(ref.losses.size(), got.losses.size()); ++s)
    EXPECT_NEAR(got.losses[s], ref.losses[s], 1e-5 * ref.losses[s]);
  EXPECT_NO_THROW(check_replicas(got.params, MPI_COMM_WORLD)) << "ranks disagree";
}

INSTANTIATE_TEST_SUITE_P(Allreduce, MatchesSerial,
                         ::testing::Values(AllreduceKind::Mpi, AllreduceKind::Ring, AllreduceKind::Bucketed),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case AllreduceKind::Mpi:
                               return std::string("mpi");
                             case AllreduceKind::Ring:
                               return std::string("ring");
                             default:
                               return std::string("bucketed");
                           }
                         });

TEST(Bucketed, EqualsUnbucketedGradient) {
  const Dataset data = make_synthetic(64, 24, 5, 7);
  const ParamLayout layout({24, 20, 16, 12, 5});
  std::vector<float> params(layout.size());
  he_init(layout, params, 1);
  std::vector<std::uint32_t> batch(64);
  for (std::uint32_t i = 0; i < 64; ++i) batch[i] = i;
  std::vector<float> plain(layout.size()), bucketed(layout.size());
  Options o;
  DistributedStep(layout, o, MPI_COMM_WORLD).step(params, plain, data, batch, nullptr, nullptr);
  for (std::size_t bytes :
       {std::size_t(1), std::size_t(900), std::size_t(1) << 20}) {  // per layer, mixed, one bucket
    o.allreduce = AllreduceKind::Bucketed;
    o.bucket_bytes = bytes;
    DistributedStep step(layout, o, MPI_COMM_WORLD);
    step.step(params, bucketed, data, batch, nullptr, nullptr);
    EXPECT_LT(relative_error(bucketed, plain), 1e-6) << "bucket bytes " << bytes;
  }
}

TEST(Bucketed, BucketsCoverTheBufferFromTheTop) {
  const ParamLayout layout({24, 20, 16, 12, 5});
  EXPECT_EQ(BucketedAllreduce(layout, 1, MPI_COMM_WORLD).buckets(), 4u);        // one per layer
  EXPECT_EQ(BucketedAllreduce(layout, 1 << 30, MPI_COMM_WORLD).buckets(), 1u);  // all in one
}

TEST(Replicas, DivergenceIsDetected) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<float> params(100, 1.0f);
  EXPECT_NO_THROW(check_replicas(params, MPI_COMM_WORLD));
  if (world_size() > 1) {
    if (rank == world_size() - 1) params[42] = std::nextafter(1.0f, 2.0f);
    EXPECT_THROW(check_replicas(params, MPI_COMM_WORLD), std::runtime_error);
  }
}

}  // namespace
}  // namespace ptt::ch03
