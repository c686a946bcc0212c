// Chapter 06: the grid trains exactly as chapter 01 does. For every grid of the world's size
// (run under mpiexec -n 1, 2, 4 and 8), both schedules and ZeRO 0 and 1, the parameters after a
// few steps equal chapter 01's on the same batches — batches whose last one is partial, shards
// that are uneven or empty, micro-batch counts that divide nothing. Also: the parts cover the
// model, the memory accounts match their formulas, and state saved on one grid resumes on another.
#include <gtest/gtest.h>
#include <mpi.h>

#include <sstream>
#include <string>
#include <vector>

#include "ch06/hybrid_model.hpp"
#include "ch06/rank_shard.hpp"
#include "grids.hpp"
#include "ptt/error.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "test_util.hpp"

namespace ptt::ch06 {
namespace {

using ptt::test::relative_error;
using testing::grids_of;
using testing::world_rank;
using testing::world_size;

// Six hidden layers of width 8: seven layers, four tensor-parallel units (three pairs and the
// unpaired output layer), so pp can be 1, 2, 3 or 4 and tp 1, 2, 4 or 8.
const ParamLayout& deep() {
  static const ParamLayout layout({12, 8, 8, 8, 8, 8, 8, 5});
  return layout;
}
// 50 samples in batches of 24: two full batches and one of 2 per epoch; with dp 4 the last one
// leaves two ranks without samples.
const Dataset& data() {
  static const Dataset d = make_synthetic(50, 12, 5, 4);
  return d;
}
constexpr std::size_t kBatch = 24;

std::vector<float> initial(const ParamLayout& layout) {
  std::vector<float> p(layout.size());
  he_init(layout, p, 5);
  return p;
}

// Chapter 01 on the same batches: the reference every rank computes for itself.
std::vector<float> serial(const ParamLayout& layout, const std::string& opt, int steps) {
  std::vector<float> params = initial(layout), grads(layout.size());
  auto optimizer = make_optimizer(opt, layout.size(), 0.05, 0.9);
  BatchSampler sampler(std::size_t(data().size()), kBatch, 11);
  Workspace ws;
  Matrix x;
  std::vector<std::uint8_t> y;
  for (int done = 0, epoch = 1; done < steps; ++epoch) {
    sampler.start_epoch(std::uint64_t(epoch));
    for (std::size_t b = 0; b < sampler.num_batches() && done < steps; ++b, ++done) {
      gather(data(), sampler.batch(b), x, y);
      mlp_forward(layout, params, x, ws);
      mlp_backward(layout, params, y, ws, grads);
      optimizer->step(params, grads);
    }
  }
  return params;
}

// The grid on the same batches, from `start` (chapter 01's layout) for `steps` steps, skipping the
// first `skip` batches; returns the gathered parameters (on rank 0) and optimizer state.
struct Gathered {
  std::vector<float> params, state;
  long steps = 0;
};
Gathered grid_run(const ParamLayout& layout, const Options& o, const std::string& opt, int steps,
                  const Gathered* start = nullptr, int skip = 0) {
  HybridModel model(layout, o, MPI_COMM_WORLD);
  model.make_optimizer(opt, 0.05, 0.9);
  Gathered g{start ? start->params : initial(layout), std::vector<float>(model.full_optimizer_size()), 0};
  if (start) {
    // What was saved was gathered on rank 0: it is everybody's starting point.
    g.state = start->state;
    MPI_Bcast(g.params.data(), int(g.params.size()), MPI_FLOAT, 0, MPI_COMM_WORLD);
    MPI_Bcast(g.state.data(), int(g.state.size()), MPI_FLOAT, 0, MPI_COMM_WORLD);
  }
  model.load_params(g.params);
  model.load_optimizer(g.state, start ? start->steps : 0);
  BatchSampler sampler(std::size_t(data().size()), kBatch, 11);
  for (int done = 0, seen = 0, epoch = 1; done < steps; ++epoch) {
    sampler.start_epoch(std::uint64_t(epoch));
    for (std::size_t b = 0; b < sampler.num_batches() && done < steps; ++b, ++seen) {
      if (seen < skip) continue;
      const StepOutcome out = model.forward_backward(data(), sampler.batch(b), nullptr);
      EXPECT_TRUE(out.finite);
      model.update(0.05, nullptr);
      ++done;
    }
  }
  model.gather_params(g.params);
  model.gather_optimizer(g.state);
  g.steps = model.optimizer_steps();
  EXPECT_NO_THROW(model.check_replicas());
  return g;
}

std::string name(const Options& o) {
  std::ostringstream s;
  s << "grid " << o.grid.dp << "x" << o.grid.pp << "x" << o.grid.tp << " m=" << o.microbatches << " "
    << ch05::schedule_name(o.schedule) << " zero " << o.zero;
  return s.str();
}

// Every grid of this world that the deep net allows, with the options worth varying on it.
std::vector<Options> configurations() {
  std::vector<Options> out;
  for (const Grid& g : grids_of(world_size())) {
    if (g.pp > 4 || (g.tp == 1 && g.pp > 7)) continue;  // more stages than the net's units
    for (auto schedule : {ch05::Schedule::GPipe, ch05::Schedule::OneFOneB}) {
      if (g.pp == 1 && schedule == ch05::Schedule::GPipe) continue;  // one stage: no schedule
      for (int zero : {0, 1}) {
        if (g.dp == 1 && zero == 1) continue;  // ZeRO over one rank changes nothing
        Options o;
        o.grid = g;
        o.schedule = schedule;
        o.zero = zero;
        o.microbatches = g.pp > 1 ? 5 : 1;  // 5 divides neither the batch nor its shards
        o.bucket_bytes = 200;               // several buckets on this small net
        out.push_back(o);
      }
    }
  }
  return out;
}

TEST(Hybrid, EveryGridMatchesChapter01WithSgd) {
  const int steps = 5;  // two epochs' worth of batches: the partial one included
  const std::vector<float> want = serial(deep(), "sgd", steps);
  for (const Options& o : configurations()) {
    const Gathered got = grid_run(deep(), o, "sgd", steps);
    if (world_rank() == 0) {
      EXPECT_LT(relative_error(got.params, want), 1e-5) << name(o);
    }
  }
}

TEST(Hybrid, EveryGridMatchesChapter01WithAdamOnASmallNet) {
  // Adam divides by sqrt(v): tiny rounding differences in small gradients grow, so the net is
  // small and the steps few (chapter 05's tests say the same).
  const ParamLayout small({12, 8, 8, 8, 8, 5});
  const int steps = 4;
  const std::vector<float> want = serial(small, "adam", steps);
  for (Options o : configurations()) {
    if (o.grid.pp > 3) continue;  // the small net has three units
    const Gathered got = grid_run(small, o, "adam", steps);
    if (world_rank() == 0) {
      EXPECT_LT(relative_error(got.params, want), 1e-5) << name(o);
    }
  }
}

TEST(Hybrid, Zero1EqualsPlainDataParallelism) {
  for (Options o : configurations()) {
    if (o.zero != 1) continue;
    const Gathered with = grid_run(deep(), o, "sgd", 5);
    o.zero = 0;
    const Gathered without = grid_run(deep(), o, "sgd", 5);
    // The reduce-scatter may add the dp contributions in another order than the all-reduce.
    if (world_rank() == 0) {
      EXPECT_LT(relative_error(with.params, without.params), 1e-6) << name(o);
    }
  }
}

TEST(Hybrid, ResumesOnTheSameGridBitForBit) {
  for (const Options& o : configurations()) {
    const Gathered whole = grid_run(deep(), o, "adam", 5);
    const Gathered first = grid_run(deep(), o, "adam", 2);
    const Gathered rest = grid_run(deep(), o, "adam", 3, &first, 2);
    if (world_rank() == 0) {
      EXPECT_EQ(rest.params, whole.params) << name(o);
      EXPECT_EQ(rest.state, whole.state) << name(o);
      EXPECT_EQ(rest.steps, 5) << name(o);
    }
  }
}

TEST(Hybrid, StateSavedOnOneGridResumesOnAnother) {
  // Saved on the first configuration of this world, resumed on every other one: the state is
  // re-cut exactly (gathering it back at once gives the same bits), and training continues as
  // chapter 01 would.
  const std::vector<Options> all = configurations();
  const Gathered saved = grid_run(deep(), all.front(), "sgd", 2);
  const std::vector<float> want = serial(deep(), "sgd", 5);
  for (const Options& o : all) {
    const Gathered again = grid_run(deep(), o, "sgd", 0, &saved, 2);
    const Gathered rest = grid_run(deep(), o, "sgd", 3, &saved, 2);
    if (world_rank() == 0) {
      EXPECT_EQ(again.params, saved.params) << name(o);
      EXPECT_EQ(again.state, saved.state) << name(o);
      EXPECT_LT(relative_error(rest.params, want), 1e-5) << name(o);
    }
  }
}

TEST(Hybrid, MemoryAndTrafficMeasuredEqualTheFormulas) {
  for (Options o : configurations()) {
    o.microbatches = o.grid.pp > 1 ? 4 : 1;  // 24 = 4 x 6: the peak micro-batches are equal
    HybridModel model(deep(), o, MPI_COMM_WORLD);
    model.make_optimizer("adam", 0.05, 0.9);
    const std::vector<float> p = initial(deep());
    model.load_params(p);
    BatchSampler sampler(std::size_t(data().size()), kBatch, 11);
    sampler.start_epoch(1);
    model.forward_backward(data(), sampler.batch(0), nullptr);
    model.update(0.05, nullptr);
    const Memory m = model.memory(), f = model.memory_formula();
    EXPECT_EQ(m.params, f.params) << name(o);
    EXPECT_EQ(m.grads, f.grads) << name(o);
    EXPECT_EQ(m.optimizer, f.optimizer) << name(o);
    EXPECT_EQ(m.activations, f.activations) << name(o);
    EXPECT_EQ(m.comm, f.comm) << name(o);
    const Traffic t = model.traffic(), tf = model.traffic_formula();
    EXPECT_EQ(t.tp, tf.tp) << name(o);
    EXPECT_EQ(t.pp, tf.pp) << name(o);
    EXPECT_EQ(t.dp, tf.dp) << name(o);
    // 1F1B holds at most pp - s micro-batches on stage s; GPipe all of them.
    const int m_eff = std::min(o.microbatches, int(shard_range(kBatch, model.coords().dp, o.grid.dp).size()));
    const int want_held =
        o.schedule == ch05::Schedule::GPipe ? m_eff : std::min(o.grid.pp - model.coords().pp, m_eff);
    EXPECT_EQ(model.peak_held(), want_held) << name(o);
  }
}

TEST(Hybrid, Zero1KeepsOneDpthOfTheOptimizerState) {
  for (Options o : configurations()) {
    if (o.zero != 1) continue;
    HybridModel sharded(deep(), o, MPI_COMM_WORLD);
    sharded.make_optimizer("adam", 0.05, 0.9);
    o.zero = 0;
    HybridModel whole(deep(), o, MPI_COMM_WORLD);
    whole.make_optimizer("adam", 0.05, 0.9);
    // Psi floats of my part split into dp shards of floor or ceil(Psi / dp) floats.
    const std::size_t psi = whole.shard().layout.size(), dp = std::size_t(o.grid.dp);
    const std::size_t mine = shard_range(psi, sharded.coords().dp, o.grid.dp).size();
    EXPECT_TRUE(mine == psi / dp || mine == (psi + dp - 1) / dp) << name(o);
    EXPECT_EQ(sharded.memory().optimizer, 2 * mine * sizeof(float)) << name(o);
    EXPECT_EQ(whole.memory().optimizer, 2 * psi * sizeof(float)) << name(o);
  }
}

// --- the parts (no messages: run on every rank alike) ----------------------------------------

TEST(RankShard, PartsCoverEveryParameterOnce) {
  for (int tp : {1, 2, 4, 8})
    for (int pp : {1, 2, 3, 4}) {
      const Grid g{1, pp, tp};
      std::vector<int> covered(deep().size(), 0);
      for (int r = 0; r < g.size(); ++r) {
        const Coords c = grid_coords(g, r);
        const RankShard s = make_rank_shard(deep(), g, c);
        for (std::size_t i = 0; i < s.to_full.size(); ++i) covered[s.to_full[i]] += 1;
      }
      // A split float is on one rank of its stage; a replicated one on all tp of them.
      const std::vector<ch05::Split> splits = ch05::tensor_parallel_splits(deep());
      for (int l = 0; l < deep().num_layers(); ++l) {
        const LayerSlot& s = deep().layer(l);
        const bool replicated_weight = tp == 1 || splits[std::size_t(l)] == ch05::Split::Replicated;
        const bool replicated_bias = tp == 1 || splits[std::size_t(l)] != ch05::Split::Columns;
        for (std::size_t i = s.weight; i < s.bias; ++i)
          ASSERT_EQ(covered[i], replicated_weight ? tp : 1) << "tp " << tp << " pp " << pp << " layer " << l;
        for (std::size_t i = s.bias; i < s.end; ++i)
          ASSERT_EQ(covered[i], replicated_bias ? tp : 1) << "tp " << tp << " pp " << pp << " layer " << l;
      }
    }
}

TEST(RankShard, StagesCutBetweenLayerPairsAndBalanceTheWork) {
  const ParamLayout net({784, 256, 256, 256, 256, 10});  // units (0,1) (2,3) (4) with tp > 1
  EXPECT_EQ(stage_boundaries(net, 2, 2), (std::vector<int>{0, 2, 5}));
  EXPECT_EQ(stage_boundaries(net, 3, 2), (std::vector<int>{0, 2, 4, 5}));
  // With tp 1 every layer is a unit: the big first layer alone against the other four.
  EXPECT_EQ(stage_boundaries(net, 2, 1), (std::vector<int>{0, 1, 5}));
}

TEST(RankShard, RefusesGridsTheModelCannotTake) {
  const ParamLayout net({784, 256, 128, 10});  // two units with tp > 1, three layers with tp 1
  EXPECT_THROW(stage_boundaries(net, 3, 2), InputError);
  EXPECT_THROW(stage_boundaries(net, 4, 1), InputError);
  EXPECT_THROW(stage_boundaries(net, 1, 3), InputError);  // 3 divides neither 256 nor 128
  EXPECT_NO_THROW(stage_boundaries(net, 3, 1));
  EXPECT_NO_THROW(stage_boundaries(net, 2, 4));
}

}  // namespace
}  // namespace ptt::ch06
