// Chapter 07: the imbalanced training set and its fixes. --imbalance parses strictly and keeps the
// promised fraction; the class-weighted gradient equals the weighted sum of per-sample gradients
// (any rank count); resampling draws balanced classes, reproducibly; the per-class report.
#include "ch07/imbalance.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <numeric>

#include "ch03/mpi_runtime.hpp"
#include "ch07/uneven_step.hpp"
#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "test_util.hpp"

namespace ptt::ch07 {
namespace {

using test::relative_error;

TEST(Imbalance, ParsesClassesAndFraction) {
  const Imbalance im = parse_imbalance("0,2,4:0.05", 10);
  EXPECT_EQ(im.classes, (std::vector<int>{0, 2, 4}));
  EXPECT_DOUBLE_EQ(im.fraction, 0.05);
  EXPECT_EQ(parse_imbalance("9:1", 10).classes, std::vector<int>{9});
  for (const char* bad :
       {"0,2,4", ":0.5", "0,2:", "0,x:0.5", "0,10:0.5", "-1:0.5", "0:0", "0:1.5", "0:abc", "0:-0.1"})
    EXPECT_THROW(parse_imbalance(bad, 10), InputError) << bad;
}

TEST(Imbalance, KeepsTheFractionOfTheListedClassesOnly) {
  const auto y = make_synthetic(5000, 4, 10, 3).y;
  const Imbalance im = parse_imbalance("1,7:0.1", 10);
  const auto keep = imbalance_keep(y, im, 5);
  EXPECT_EQ(keep, imbalance_keep(y, im, 5)) << "reproducible by seed";
  EXPECT_NE(keep, imbalance_keep(y, im, 6)) << "another seed, other samples";
  for (int c = 0; c < 10; ++c) {
    long all = 0, kept = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      if (y[i] == c) ++all, kept += keep[i];
    const long want = (c == 1 || c == 7) ? std::max(1L, std::lround(0.1 * double(all))) : all;
    EXPECT_EQ(kept, want) << "class " << c;
  }
}

TEST(Imbalance, ClassBalancedDrawIsBalancedAndReproducible) {
  // Class sizes 1, 10, 100, ..., 10^4: the draw still gives each class about a fifth.
  std::vector<std::vector<std::uint32_t>> members(6);  // class 5 empty: never drawn
  std::uint32_t next = 0;
  for (int c = 0, size = 1; c < 5; ++c, size *= 10)
    for (int j = 0; j < size; ++j) members[std::size_t(c)].push_back(next++);
  const auto drawn = class_balanced_draw(members, 50000, 1, 7);
  ASSERT_EQ(drawn.size(), 50000u);
  EXPECT_EQ(drawn, class_balanced_draw(members, 50000, 1, 7));
  EXPECT_NE(drawn, class_balanced_draw(members, 50000, 1, 8)) << "another step, another batch";
  std::vector<long> per_class(6);
  for (std::uint32_t i : drawn) {
    std::size_t c = 0;
    while (c < 5 && i >= members[c].back() + 1) ++c;
    ASSERT_LT(c, 5u) << "drew a sample outside the members";
    ++per_class[c];
  }
  for (int c = 0; c < 5; ++c)
    EXPECT_NEAR(double(per_class[std::size_t(c)]) / 50000.0, 0.2, 0.01) << "class " << c;
  EXPECT_EQ(per_class[5], 0);
}

TEST(Imbalance, ClassReportRecallPrecisionMacroF1) {
  ConfusionMatrix m(2);
  Matrix logits(4, 2);
  logits << 1, 0,  // predicts 0
      1, 0,        // predicts 0
      0, 1,        // predicts 1
      1, 0;        // predicts 0
  const std::vector<std::uint8_t> truth{0, 0, 1, 1};
  m.add(logits, truth);
  const ClassReport r = class_report(m);
  EXPECT_DOUBLE_EQ(r.recall[0], 1.0);
  EXPECT_DOUBLE_EQ(r.recall[1], 0.5);
  EXPECT_DOUBLE_EQ(r.precision[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.precision[1], 1.0);
  EXPECT_NEAR(r.macro_f1, (0.8 + 2.0 / 3.0) / 2.0, 1e-12);
}

// The class-weighted step equals sum_i (w_{y_i} / W) grad l_i over the kept samples of each batch,
// computed here one sample at a time in double, on any number of ranks, with dropped samples.
TEST(Imbalance, WeightedGradientEqualsWeightedSumOfSampleGradients) {
  int p = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  const Dataset data = make_synthetic(203, 24, 5, 2);
  const std::vector<int> sizes{24, 20, 5};
  TrainConfig cfg;
  cfg.optimizer = "sgd";
  cfg.lr = 0.05;
  cfg.momentum = 0.9;
  cfg.seed = 11;
  const long steps = 15;
  const auto keep = imbalance_keep(data.y, parse_imbalance("1,3:0.2", 5), 2);
  const auto w = inverse_frequency_weights(data.y, keep, 5);

  Mlp model(sizes);
  he_init(model.layout, model.params, 3);
  UnevenStep step(model, data, cfg, make_split({SplitKind::Dirichlet, 0.3, 2}, data.y, 5, p, 4),
                  SyncOptions{}, MPI_COMM_WORLD);
  step.set_classes({keep, ClassBalance::Weights, w});
  Checkpointer checkpoints(cfg, nlohmann::json::object(), false);
  const DivergenceGuard guard(model.layout, checkpoints);
  PhaseTimer phases;
  BatchSampler sampler(203, 16, cfg.seed);
  step.push_state(0);

  std::vector<float> ref(model.layout.size()), grads(model.layout.size()), one(model.layout.size());
  he_init(model.layout, ref, 3);
  Sgd sgd(ref.size(), float(cfg.lr), float(cfg.momentum));
  Workspace ws;
  Matrix x;
  std::vector<std::uint8_t> y;
  long done = 0;
  for (int epoch = 1; done < steps; ++epoch) {
    EpochStats stats;
    sampler.start_epoch(std::uint64_t(epoch));
    step.start_epoch({epoch, sampler, 0, done, steps});
    for (std::size_t b = 0; b < sampler.num_batches() && done < steps; ++b, ++done) {
      const auto batch = sampler.batch(b);
      step.step(batch, StepContext{done + 1, epoch, cfg.lr, phases, guard}, stats);
      double total = 0.0;
      for (std::uint32_t i : batch)
        if (keep[i]) total += w[data.y[i]];
      std::vector<double> sum(ref.size(), 0.0);
      for (std::uint32_t i : batch) {
        if (!keep[i]) continue;
        gather(data, std::span<const std::uint32_t>(&i, 1), x, y);
        mlp_forward(model.layout, ref, x, ws);
        mlp_backward(model.layout, ref, y, ws, one);
        for (std::size_t j = 0; j < one.size(); ++j) sum[j] += w[data.y[i]] / total * double(one[j]);
      }
      for (std::size_t j = 0; j < grads.size(); ++j) grads[j] = float(sum[j]);
      sgd.step(ref, grads);
    }
  }
  EXPECT_LT(relative_error(model.params, ref), 1e-5);
  EXPECT_NO_THROW(ch03::check_replicas(model.params, MPI_COMM_WORLD));
}

}  // namespace
}  // namespace ptt::ch07
