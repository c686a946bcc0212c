// Chapter 05: the model split between workers trains exactly like chapter 01's serial MLP.
//   - tensor parallel: logits, loss and every gradient equal the serial ones for 1, 2, 4 workers;
//   - pipeline parallel: GPipe and 1F1B with p in {1..4} and m in {1, p, 4p, one that does not
//     divide the batch}: the weights after k steps equal chapter 01's on the same batches;
//   - failures stop every worker (an exception or a stuck peer), never a hang;
//   - the trace is valid JSON with one event per operation.
// Relative errors are max-abs-difference over max-abs-value; the tolerance 1e-5 allows only for
// the different summation order of the split matrix products.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ch05/channel.hpp"
#include "ch05/pipeline_engine.hpp"
#include "ch05/pipeline_mlp.hpp"
#include "ch05/tensor_parallel.hpp"
#include "ch05/worker_pool.hpp"
#include "ptt/error.hpp"
#include "ptt/layers.hpp"
#include "ptt/metrics_log.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "test_util.hpp"

namespace ptt::ch05 {
namespace {

constexpr double kTol = 1e-5;

struct Batch {
  Matrix X;
  std::vector<std::uint8_t> y;
};
Batch random_batch(Eigen::Index rows, int features, int classes, std::uint64_t stream) {
  Batch b{test::random_matrix(rows, features, stream),
          std::vector<std::uint8_t>(static_cast<std::size_t>(rows))};
  for (std::size_t i = 0; i < b.y.size(); ++i)
    b.y[i] = static_cast<std::uint8_t>((i * 7 + stream) % std::size_t(classes));
  return b;
}

/// Chapter 01: k steps of forward, backward and optimizer update on the given batches.
std::vector<float> serial_train(const ParamLayout& layout, std::vector<float> params,
                                const std::vector<Batch>& batches, const std::string& optimizer,
                                std::vector<float>* losses = nullptr) {
  std::vector<float> grads(layout.size());
  auto opt = make_optimizer(optimizer, layout.size(), 0.05, 0.9);
  Workspace ws;
  for (const Batch& b : batches) {
    mlp_forward(layout, params, b.X, ws);
    const float loss = mlp_backward(layout, params, b.y, ws, grads);
    if (losses) losses->push_back(loss);
    opt->step(params, grads);
  }
  return params;
}

/// The same steps through a ModelParallel.
std::vector<float> parallel_train(ModelParallel& mp, const ParamLayout& layout,
                                  const std::vector<float>& params0, const std::vector<Batch>& batches,
                                  const std::string& optimizer, std::vector<float>* losses = nullptr) {
  mp.scatter_params(params0);
  mp.make_optimizers(optimizer, 0.05, 0.9);
  mp.set_timeout(std::chrono::milliseconds(20000));  // a deadlock fails the test, it does not hang it
  for (const Batch& b : batches) {
    const float loss = mp.forward_backward(b.X, b.y);
    if (losses) losses->push_back(loss);
    mp.update(0.05);
  }
  std::vector<float> out(layout.size(), std::numeric_limits<float>::quiet_NaN());
  mp.gather_params(out);
  return out;
}

std::vector<float> initial_params(const ParamLayout& layout) {
  std::vector<float> p(layout.size());
  he_init(layout, p, 7);
  // non-zero biases, so that a bias added twice (or never) shows
  for (int l = 0; l < layout.num_layers(); ++l)
    linear_view(layout, std::span<float>(p), l).b =
        test::random_vector(layout.layer(l).out, 90 + std::uint64_t(l)) * 0.1f;
  return p;
}

// For every test of the binary (step_test.cpp's too): Eigen on one thread, our threads are the workers.
class Environment : public ::testing::Environment {
  void SetUp() override { Eigen::setNbThreads(1); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new Environment);

// --- tensor parallel ---------------------------------------------------------------------------

TEST(TensorParallel, SplitsPairLayersFromTheInput) {
  EXPECT_EQ(tensor_parallel_splits(ParamLayout({784, 256, 128, 10})),
            (std::vector<Split>{Split::Columns, Split::Rows, Split::Replicated}));
  EXPECT_EQ(tensor_parallel_splits(ParamLayout({9, 8, 8, 8, 3})),
            (std::vector<Split>{Split::Columns, Split::Rows, Split::Columns, Split::Rows}));
  EXPECT_EQ(tensor_parallel_splits(ParamLayout({9, 3})), (std::vector<Split>{Split::Replicated}));
}

TEST(TensorParallel, ShardIsAnMlpWithSplitWidths) {
  TensorParallelMlp tp(ParamLayout({784, 256, 128, 10}), 4, false);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(tp.worker(k).layout.sizes(), (std::vector<int>{784, 64, 128, 10}));
}

TEST(TensorParallel, RefusesAWorkerCountThatDoesNotDivideAWidth) {
  EXPECT_THROW(TensorParallelMlp(ParamLayout({784, 256, 128, 10}), 3, false), InputError);
  EXPECT_THROW(TensorParallelMlp(ParamLayout({9, 8, 8, 6, 3}), 4, false), InputError);  // layer 3's width 6
  EXPECT_NO_THROW(TensorParallelMlp(ParamLayout({9, 8, 8, 6, 3}), 2, false));
}

TEST(TensorParallel, ScatterThenGatherIsTheIdentity) {
  const ParamLayout layout({23, 16, 12, 8, 5});
  const std::vector<float> p = initial_params(layout);
  TensorParallelMlp tp(layout, 4, false);
  tp.scatter_params(p);
  std::vector<float> back(layout.size(), -1.0f);
  tp.gather_params(back);
  EXPECT_EQ(back, p);
}

class TensorParallelWorkers : public ::testing::TestWithParam<std::tuple<int, std::vector<int>>> {};

TEST_P(TensorParallelWorkers, LogitsLossAndGradientsEqualSerial) {
  const auto& [workers, sizes] = GetParam();
  const ParamLayout layout(sizes);
  const std::vector<float> p = initial_params(layout);
  const Batch b = random_batch(13, sizes.front(), sizes.back(), 3);
  // serial
  Workspace ws;
  std::vector<float> grads(layout.size());
  mlp_forward(layout, p, b.X, ws);
  const Matrix logits = ws.logits();
  const float loss = mlp_backward(layout, p, b.y, ws, grads);
  // tensor parallel
  TensorParallelMlp tp(layout, workers, true);
  tp.scatter_params(p);
  tp.set_timeout(std::chrono::milliseconds(20000));
  const float tp_loss = tp.forward_backward(b.X, b.y);
  std::vector<float> tp_grads(layout.size(), std::numeric_limits<float>::quiet_NaN());
  tp.gather_grads(tp_grads);
  EXPECT_NEAR(tp_loss, loss, kTol * std::abs(loss));
  EXPECT_LT(test::relative_error({tp.logits().data(), std::size_t(tp.logits().size())},
                                 {logits.data(), std::size_t(logits.size())}),
            kTol);
  for (int l = 0; l < layout.num_layers(); ++l) {
    const LayerSlot& s = layout.layer(l);
    EXPECT_LT(test::relative_error(std::span(tp_grads).subspan(s.weight, s.end - s.weight),
                                   std::span(grads).subspan(s.weight, s.end - s.weight)),
              kTol)
        << "layer " << l << " with " << workers << " workers";
  }
  // Replicated parameters' gradients are the same bits on every worker (fixed summation order).
  for (int k = 1; k < workers; ++k) {
    const Worker& w0 = tp.worker(0);
    const Worker& wk = tp.worker(k);
    const int last = layout.num_layers() - 1;
    if (tp.splits().back() == Split::Replicated) {
      const LayerSlot& s = w0.layout.layer(last);
      for (std::size_t i = s.weight; i < s.end; ++i) ASSERT_EQ(w0.grads[i], wk.grads[i]) << "worker " << k;
    }
  }
  // Two all-reduces per layer pair and step (forward output, backward input gradient), none for
  // the first layer's input gradient.
  int reduces = 0;
  for (const Event& e : tp.timeline().events()) reduces += e.kind == OpKind::AllReduce;
  int pairs = 0;
  for (Split s : tp.splits()) pairs += s == Split::Rows;
  EXPECT_EQ(reduces, workers * (2 * pairs - 1));
}

INSTANTIATE_TEST_SUITE_P(Workers, TensorParallelWorkers,
                         ::testing::Combine(::testing::Values(1, 2, 4),
                                            ::testing::Values(std::vector<int>{23, 16, 12, 5},
                                                              std::vector<int>{23, 16, 12, 8, 5},
                                                              std::vector<int>{784, 256, 128, 10})));

TEST(TensorParallel, WeightsAfterStepsEqualSerialSgdAndAdam) {
  const ParamLayout layout({23, 16, 12, 8, 5});
  const std::vector<float> p = initial_params(layout);
  std::vector<Batch> batches;
  for (int k = 0; k < 4; ++k) batches.push_back(random_batch(17 + k, 23, 5, 10 + std::uint64_t(k)));
  for (const std::string opt : {"sgd", "adam"})
    for (int workers : {2, 4}) {
      const std::vector<float> want = serial_train(layout, p, batches, opt);
      TensorParallelMlp tp(layout, workers, false);
      const std::vector<float> got = parallel_train(tp, layout, p, batches, opt);
      EXPECT_LT(test::relative_error(got, want), kTol) << opt << ", " << workers << " workers";
    }
}

// --- pipeline parallel -------------------------------------------------------------------------

class PipelineCase : public ::testing::TestWithParam<std::tuple<Schedule, int, int>> {};

TEST_P(PipelineCase, WeightsAfterStepsEqualSerial) {
  const auto& [schedule, p, m] = GetParam();
  const ParamLayout layout({23, 16, 12, 8, 5});  // four layers: up to four stages
  const std::vector<float> p0 = initial_params(layout);
  std::vector<Batch> batches;  // 24 rows: m = 7 does not divide it; a short last batch of 10
  for (int k = 0; k < 3; ++k) batches.push_back(random_batch(24, 23, 5, 20 + std::uint64_t(k)));
  batches.push_back(random_batch(10, 23, 5, 30));
  std::vector<float> serial_losses, pipe_losses;
  const std::vector<float> want = serial_train(layout, p0, batches, "sgd", &serial_losses);
  PipelineMlp pipe(layout, p, m, schedule, false);
  const std::vector<float> got = parallel_train(pipe, layout, p0, batches, "sgd", &pipe_losses);
  EXPECT_LT(test::relative_error(got, want), kTol);
  for (std::size_t k = 0; k < batches.size(); ++k)
    EXPECT_NEAR(pipe_losses[k], serial_losses[k], kTol * serial_losses[k]);
  // Peak stored activations in the last step (m' = min(m, 10) micro-batches): GPipe all of them,
  // 1F1B at most p - s on stage s.
  const int used = std::min(m, 10);
  for (int s = 0; s < p; ++s) {
    const int want_peak = schedule == Schedule::GPipe ? used : std::min(p - s, used);
    EXPECT_EQ(pipe.peak_stored()[std::size_t(s)], want_peak) << "stage " << s;
  }
}

std::vector<std::tuple<Schedule, int, int>> pipeline_cases() {
  std::vector<std::tuple<Schedule, int, int>> cases;
  for (Schedule s : {Schedule::GPipe, Schedule::OneFOneB})
    for (int p = 1; p <= 4; ++p)
      for (int m : {1, p, 4 * p, 7}) cases.emplace_back(s, p, m);
  return cases;
}
INSTANTIATE_TEST_SUITE_P(SchedulesStagesMicroBatches, PipelineCase, ::testing::ValuesIn(pipeline_cases()),
                         [](const auto& param_info) {
                           return schedule_name(std::get<0>(param_info.param)) + "_p" +
                                  std::to_string(std::get<1>(param_info.param)) + "_m" +
                                  std::to_string(std::get<2>(param_info.param)) + "_" +
                                  std::to_string(param_info.index);
                         });

/// The weights after @p steps steps of 1F1B with @p stages stages and 5 micro-batches equal
/// chapter 01's, with optimizer @p opt, on random batches of @p rows rows.
void expect_1f1b_equals_serial(const std::vector<int>& sizes, int stages, int steps, Eigen::Index rows,
                               const std::string& opt) {
  const ParamLayout layout(sizes);
  const std::vector<float> p0 = initial_params(layout);
  std::vector<Batch> batches;
  for (int k = 0; k < steps; ++k)
    batches.push_back(random_batch(rows, sizes.front(), sizes.back(), 40 + std::uint64_t(k)));
  const std::vector<float> want = serial_train(layout, p0, batches, opt);
  PipelineMlp pipe(layout, stages, 5, Schedule::OneFOneB, false);
  EXPECT_LT(test::relative_error(parallel_train(pipe, layout, p0, batches, opt), want), kTol);
}

TEST(Pipeline, TheRealShapeEqualsSerial) { expect_1f1b_equals_serial({784, 256, 128, 10}, 3, 2, 32, "sgd"); }

// Adam on the small network (on the 784-wide one, Adam's first steps divide each gradient by its
// own size, so a weight whose gradient is near zero turns rounding-level differences into
// lr-sized ones; with SGD, whose update is linear in the gradient, the tests above compare them).
TEST(Pipeline, AdamEqualsSerial) { expect_1f1b_equals_serial({23, 16, 12, 8, 5}, 4, 3, 24, "adam"); }

TEST(Pipeline, OptimizerStateGathersAndScattersThroughTheShards) {
  const ParamLayout layout({23, 16, 12, 8, 5});
  const std::vector<float> p0 = initial_params(layout);
  for (const std::string opt : {"sgd", "adam"}) {
    PipelineMlp pipe(layout, 3, 4, Schedule::OneFOneB, false);
    parallel_train(pipe, layout, p0, {random_batch(12, 23, 5, 50)}, opt);
    // Chapter 01's layout: k floats per parameter (SGD's velocity, Adam's m and v).
    const std::size_t k = opt == "adam" ? 2 : 1;
    ASSERT_EQ(pipe.optimizer_state_size(), k * layout.size()) << opt;
    std::vector<float> full(pipe.optimizer_state_size(), std::numeric_limits<float>::quiet_NaN());
    pipe.gather_optimizer(full);
    PipelineMlp other(layout, 2, 1, Schedule::GPipe, false);  // another split of the same model
    other.make_optimizers(opt, 0.05, 0.9);
    other.scatter_optimizer(full, pipe.optimizer_steps());
    std::vector<float> again(full.size(), -1.0f);
    other.gather_optimizer(again);
    EXPECT_EQ(again, full) << opt;
    EXPECT_EQ(other.optimizer_steps(), opt == "adam" ? 1 : 0);  // SGD keeps no count
    EXPECT_TRUE(std::any_of(full.begin(), full.end(), [](float v) { return v != 0.0f; }));
    // The same state in chapter 01's optimizer: one step of it from the same start gives the same state.
    auto serial = make_optimizer(opt, layout.size(), 0.05, 0.9);
    std::vector<float> grads(layout.size()), params = p0;
    Workspace ws;
    const Batch b = random_batch(12, 23, 5, 50);
    mlp_forward(layout, params, b.X, ws);
    mlp_backward(layout, params, b.y, ws, grads);
    serial->step(params, grads);
    EXPECT_LT(test::relative_error(full, serial->state()), kTol) << opt;
  }
}

TEST(Pipeline, TimelineHasOneEventPerOperation) {
  const ParamLayout layout({23, 16, 12, 8, 5});
  PipelineMlp pipe(layout, 4, 6, Schedule::OneFOneB, true);
  pipe.scatter_params(initial_params(layout));
  const Batch b = random_batch(24, 23, 5, 60);
  pipe.forward_backward(b.X, b.y);
  const auto events = pipe.timeline().events();
  ASSERT_EQ(events.size(), 4u * 6u * 2u);
  for (int s = 0; s < 4; ++s) {  // each stage ran exactly its schedule, in order
    std::vector<Op> ran;
    for (const Event& e : events)
      if (e.worker == s) ran.push_back({e.kind == OpKind::Forward, e.micro});
    EXPECT_EQ(to_string(ran), to_string(one_f_one_b_schedule(s, 4, 6)));
  }
  const Utilisation u = utilisation(events, 4);
  EXPECT_GT(u.bubble(), 0.0);
  EXPECT_LT(u.bubble(), 1.0);
}

// --- failures stop everyone ---------------------------------------------------------------------

class Failing final : public StageWork {
 public:
  explicit Failing(bool fail) : fail_(fail) {}
  Matrix forward(int micro, Matrix) override {
    if (fail_ && micro == 1) throw std::runtime_error("boom in forward 1");
    return Matrix::Zero(1, 1);
  }
  Matrix backward(int, Matrix) override { return Matrix::Zero(1, 1); }

 private:
  bool fail_;
};

TEST(Pipeline, AFailingStageStopsEveryStageWithItsError) {
  Failing ok(false), bad(true);
  Timeline timeline(3, false);
  std::vector<StageWork*> stages{&ok, &bad, &ok};
  WorkerPool pool(3);
  try {
    run_pipeline(pool, stages, 4, Schedule::OneFOneB, timeline, 1, std::chrono::milliseconds(20000));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom in forward 1");  // the cause, not a peer's "stopped"
  }
}

class Slow final : public StageWork {
 public:
  Matrix forward(int, Matrix) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return Matrix::Zero(1, 1);
  }
  Matrix backward(int, Matrix) override { return Matrix::Zero(1, 1); }
};

TEST(Pipeline, AStuckPeerEndsTheStepWithATimeoutNotAHang) {
  Failing ok(false);
  Slow slow;
  Timeline timeline(2, false);
  std::vector<StageWork*> stages{&slow, &ok};
  WorkerPool pool(2);
  EXPECT_THROW(run_pipeline(pool, stages, 2, Schedule::GPipe, timeline, 1, std::chrono::milliseconds(50)),
               ChannelError);
}

TEST(Channel, KeepsOrderAndWakesWaitersOnClose) {
  Channel<int> c;
  c.send(1);
  c.send(2);
  EXPECT_EQ(c.recv(std::chrono::milliseconds(10), "a"), 1);
  EXPECT_EQ(c.recv(std::chrono::milliseconds(10), "b"), 2);
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    c.close("peer failed");
  });
  EXPECT_THROW(c.recv(std::chrono::milliseconds(20000), "c"), ChannelError);
  closer.join();
  EXPECT_THROW(c.recv(std::chrono::milliseconds(10), "d"), ChannelError);
}

// --- the worker pool ----------------------------------------------------------------------------

TEST(WorkerPool, RunsEveryWorkerOnceOnItsOwnThreadAndKeepsTheThreads) {
  WorkerPool pool(3);
  ASSERT_EQ(pool.size(), 3);
  std::vector<std::thread::id> first(3), ids(3);
  for (int round = 0; round < 200; ++round) {
    std::vector<int> runs(3, 0);
    pool.run([&](int k) {
      ++runs[static_cast<std::size_t>(k)];
      ids[static_cast<std::size_t>(k)] = std::this_thread::get_id();
    });
    EXPECT_EQ(runs, std::vector<int>({1, 1, 1})) << "round " << round;
    if (round == 0) first = ids;
    EXPECT_EQ(ids, first) << "round " << round << ": a worker moved to another thread";  // started once
  }
  EXPECT_EQ(first[0], std::this_thread::get_id());  // worker 0 is the caller
  EXPECT_NE(first[1], first[0]);
  EXPECT_NE(first[2], first[0]);
  EXPECT_NE(first[2], first[1]);
}

TEST(WorkerPool, WaitsForTheSlowestWorker) {
  WorkerPool pool(2);
  std::atomic<bool> finished{false};
  pool.run([&](int k) {
    if (k == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));  // asleep past the pool's spin
      finished = true;
    }
  });
  EXPECT_TRUE(finished);
}

TEST(WorkerPool, RethrowsTheLowestWorkersErrorAfterAllReturnAndStaysUsable) {
  WorkerPool pool(3);
  std::atomic<int> returned{0};
  try {
    pool.run([&](int k) {
      ++returned;
      if (k >= 1) throw std::runtime_error("worker " + std::to_string(k));
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "worker 1");
  }
  EXPECT_EQ(returned, 3);
  std::atomic<int> again{0};
  pool.run([&](int) { ++again; });  // the error did not cost a worker
  EXPECT_EQ(again, 3);
}

TEST(WorkerPool, OneWorkerIsTheCaller) {
  WorkerPool pool(1);
  std::thread::id id;
  pool.run([&](int k) {
    EXPECT_EQ(k, 0);
    id = std::this_thread::get_id();
  });
  EXPECT_EQ(id, std::this_thread::get_id());
}

// --- the trace ----------------------------------------------------------------------------------

TEST(Trace, ChromeTraceJsonHasOneCompleteEventPerOperationAndNamedRows) {
  const ParamLayout layout({23, 16, 12, 8, 5});
  PipelineMlp pipe(layout, 2, 3, Schedule::GPipe, true);
  pipe.scatter_params(initial_params(layout));
  const Batch b = random_batch(12, 23, 5, 70);
  pipe.forward_backward(b.X, b.y);
  const std::string path = ::testing::TempDir() + "ch05_trace_test.json";
  {
    MetricsLog file(path, "--trace");
    write_chrome_trace(file, pipe.timeline().events(), 2, "stage");
  }
  std::ifstream in(path);
  const nlohmann::json trace = nlohmann::json::parse(in);
  int complete = 0, names = 0;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") == "X") {
      ++complete;
      EXPECT_GE(e.at("dur").get<double>(), 0.0);
      EXPECT_TRUE(e.at("name") == "F" + std::to_string(e.at("args").at("micro_batch").get<int>()) ||
                  e.at("name") == "B" + std::to_string(e.at("args").at("micro_batch").get<int>()));
    }
    if (e.at("ph") == "M") ++names;
  }
  EXPECT_EQ(complete, 2 * 3 * 2);
  EXPECT_EQ(names, 2);
  std::remove(path.c_str());
  const std::string text = ascii_timeline(pipe.timeline().events(), 2, "stage", 40);
  EXPECT_NE(text.find("stage 0 |F"), std::string::npos) << text;
  EXPECT_NE(text.find("stage 1 order: F0 F1 F2 B2 B1 B0"), std::string::npos) << text;
}

}  // namespace
}  // namespace ptt::ch05
