// Whole-trainer behaviour: learning happens, results are reproducible, real data trains.
#include <gtest/gtest.h>

#include <filesystem>

#include "ptt/checksum.hpp"
#include "ptt/data.hpp"
#include "ptt/metrics.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"

namespace ptt {
namespace {

struct RunResult {
  std::vector<float> epoch_loss;
  std::string checksum;
  double train_accuracy = 0.0;
};

// The chapter 01 loop, without timers and printing.
RunResult train(const Dataset& data, std::vector<int> sizes, const std::string& opt, double lr, int epochs,
                std::uint64_t seed, std::size_t batch = 32) {
  Mlp model(std::move(sizes));
  he_init(model.layout, model.params, seed);
  auto optimizer = make_optimizer(opt, model.params.size(), lr, 0.9);
  BatchSampler sampler(std::size_t(data.size()), batch, seed);
  Workspace ws;
  Matrix x;
  std::vector<std::uint8_t> y;
  RunResult r;
  for (int e = 1; e <= epochs; ++e) {
    EpochStats stats;
    sampler.start_epoch(std::uint64_t(e));
    for (std::size_t b = 0; b < sampler.num_batches(); ++b) {
      gather(data, sampler.batch(b), x, y);
      mlp_forward(model.layout, model.params, x, ws);
      const float loss = mlp_backward(model.layout, model.params, y, ws, model.grads);
      optimizer->step(model.params, model.grads);
      stats.add(loss, count_correct(ws.logits(), y), y.size());
    }
    r.epoch_loss.push_back(float(stats.loss()));
    r.train_accuracy = stats.accuracy();
  }
  r.checksum = param_checksum(model.params);
  return r;
}

TEST(Training, LossDecreasesOnSyntheticData) {
  const Dataset data = make_synthetic(600, 20, 4, 11);
  for (const char* opt : {"sgd", "adam"}) {
    const RunResult r = train(data, {20, 16, 4}, opt, std::string(opt) == "sgd" ? 0.05 : 0.01, 5, 1);
    EXPECT_LT(r.epoch_loss.back(), 0.5f * r.epoch_loss.front()) << opt;
    EXPECT_GT(r.train_accuracy, 0.9) << opt;
  }
}

TEST(Training, SameSeedGivesBitIdenticalParameters) {
  const Dataset data = make_synthetic(300, 12, 3, 5);
  const RunResult a = train(data, {12, 10, 8, 3}, "sgd", 0.05, 2, 42);
  const RunResult b = train(data, {12, 10, 8, 3}, "sgd", 0.05, 2, 42);
  EXPECT_EQ(a.checksum, b.checksum);
  const RunResult c = train(data, {12, 10, 8, 3}, "sgd", 0.05, 2, 43);
  EXPECT_NE(a.checksum, c.checksum);
}

TEST(Training, RealFashionMnistShortRun) {
  const std::string dir = default_data_dir();
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(dir + "/train-images-idx3-ubyte"))
    GTEST_SKIP() << "Fashion-MNIST not found in " << dir << " (install dataset-fashion-mnist)";
  TrainTest data = load_fashion_mnist(dir);
  // One epoch over the first 12000 training images reaches well above chance (0.1).
  data.train.x.conservativeResize(12000, Eigen::NoChange);
  data.train.y.resize(12000);
  Mlp model({784, 64, 10});
  he_init(model.layout, model.params, 1);
  Sgd sgd(model.params.size(), 0.05f, 0.9f);
  BatchSampler sampler(12000, 64, 1);
  sampler.start_epoch(1);
  Workspace ws;
  Matrix x;
  std::vector<std::uint8_t> y;
  for (std::size_t b = 0; b < sampler.num_batches(); ++b) {
    gather(data.train, sampler.batch(b), x, y);
    mlp_forward(model.layout, model.params, x, ws);
    mlp_backward(model.layout, model.params, y, ws, model.grads);
    sgd.step(model.params, model.grads);
  }
  const Evaluation ev = evaluate(model.layout, model.params, data.test, data.classes);
  EXPECT_GT(ev.accuracy, 0.78);
  EXPECT_EQ(ev.confusion.total(), 10000);
}

}  // namespace
}  // namespace ptt
