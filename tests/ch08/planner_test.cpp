// Chapter 08's planner: the ranking and its stability, the --explain syntax, machine.json.
#include "ch08/planner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "ch08/machine.hpp"
#include "ptt/error.hpp"

namespace {

using namespace ptt::ch08;

Model big_mlp() {
  Model model;
  model.widths = {784, 8192, 8192, 8192, 10};
  model.batch = 4096;
  model.optimizer_k = 2;
  return model;
}

TEST(Planner, EveryLayoutUsesAllWorkersAndTheFastestFittingComesFirst) {
  const auto ranked = plan(big_mlp(), 64, builtin_machine("h100-cluster"));
  ASSERT_FALSE(ranked.empty());
  bool fitting = true;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const Layout& l = ranked[i].layout;
    EXPECT_EQ(l.dp * l.pp * l.tp, 64) << l.describe();
    EXPECT_TRUE(ranked[i].prediction.invalid.empty()) << l.describe();
    if (!ranked[i].prediction.fits) fitting = false;
    EXPECT_TRUE(ranked[i].prediction.fits || !fitting) << "a fitting layout after one that does not fit";
    if (i > 0 && ranked[i].prediction.fits) {
      EXPECT_GE(ranked[i - 1].prediction.samples_per_s, ranked[i].prediction.samples_per_s) << l.describe();
    }
  }
}

TEST(Planner, TooLittleMemoryLeavesOnlyShardedLayouts) {
  // 2 GB per worker cannot hold 201M fp32 Adam parameters (3.2 GB) unsharded: every layout that
  // fits shards them (tp, pp or ZeRO).
  Machine machine = builtin_machine("h100-cluster");
  machine.memory_bytes = 2e9;
  for (const auto& e : plan(big_mlp(), 64, machine))
    if (e.prediction.fits) {
      EXPECT_TRUE(e.layout.tp > 1 || e.layout.pp > 1 || e.layout.zero > 0) << e.layout.describe();
    }
}

TEST(Planner, RankingStableUnderAPerturbationSmallerThanTheLead) {
  // Let the winner's step be t1 and the next different step time t2 = r t1. Scaling the FLOP/s
  // by c moves every layout's step by at most a factor c (every term is monotone in the compute
  // time and at most proportional to it; the exposed all-reduce shrinks by less than the
  // backward grows), so with c^2 < r the winner cannot change.
  const Model model = big_mlp();
  const Machine machine = builtin_machine("h100-cluster");
  const auto ranked = plan(model, 64, machine);
  ASSERT_TRUE(ranked.front().prediction.fits);
  const double t1 = ranked.front().prediction.step_s;
  double t2 = 0;
  for (const auto& e : ranked)
    if (e.prediction.fits && e.prediction.step_s > t1 * (1 + 1e-9)) {
      t2 = e.prediction.step_s;
      break;
    }
  ASSERT_GT(t2, t1);
  const double c = 1 + (std::sqrt(t2 / t1) - 1) * 0.9;  // c^2 < r
  for (double factor : {c, 1 / c}) {
    Machine perturbed = machine;
    perturbed.flops_fp32 *= factor;
    const auto again = plan(model, 64, perturbed);
    EXPECT_EQ(again.front().layout.describe(), ranked.front().layout.describe()) << "FLOP/s x " << factor;
  }
}

TEST(Planner, ReasonNamesWhatTheLayoutPays) {
  const Model model = big_mlp();
  const Machine machine = builtin_machine("h100-cluster");
  const Layout l{2, 4, 8, 16, Schedule::one_f_one_b, 1};
  const PlanEntry e{l, predict(model, l, machine)};
  const std::string why = reason(e, model, machine);
  EXPECT_NE(why.find("tp 8 keeps its all-reduces inside a node"), std::string::npos) << why;
  EXPECT_NE(why.find("pp 4 bubble"), std::string::npos) << why;
  EXPECT_NE(why.find("at m=16"), std::string::npos) << why;
  EXPECT_NE(why.find("dp 2 all-reduce"), std::string::npos) << why;
  EXPECT_NE(why.find("ZeRO-1"), std::string::npos) << why;
}

TEST(ParseLayout, ReadsEveryKey) {
  const Layout l = parse_layout("dp=2,pp=4,tp=8,m=16,zero=1,schedule=1f1b", "--explain");
  EXPECT_EQ(l.describe(), "dp=2 pp=4 tp=8 m=16 1f1b zero=1");
  EXPECT_EQ(parse_layout("tp=8", "--explain").describe(), "dp=1 pp=1 tp=8 m=1 gpipe zero=0");
}

TEST(ParseLayout, RefusesWhatItCannotRead) {
  for (const char* bad : {"dp=0", "tp=x", "m=4x", "zero=4", "foo=1", "dp", "schedule=interleaved", "dp=-2"})
    EXPECT_THROW(parse_layout(bad, "--explain"), ptt::InputError) << bad;
}

void expect_same(const Machine& a, const Machine& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.flops_fp32, b.flops_fp32);
  EXPECT_EQ(a.flops_mixed, b.flops_mixed);
  EXPECT_EQ(a.memory_bandwidth, b.memory_bandwidth);
  EXPECT_EQ(a.intra_node.alpha_s, b.intra_node.alpha_s);
  EXPECT_EQ(a.intra_node.beta_s_per_byte, b.intra_node.beta_s_per_byte);
  EXPECT_EQ(a.inter_node.alpha_s, b.inter_node.alpha_s);
  EXPECT_EQ(a.inter_node.beta_s_per_byte, b.inter_node.beta_s_per_byte);
  EXPECT_EQ(a.workers_per_node, b.workers_per_node);
  EXPECT_EQ(a.memory_bytes, b.memory_bytes);
  EXPECT_EQ(a.cores_per_node, b.cores_per_node);
  EXPECT_EQ(a.sources, b.sources);
  ASSERT_EQ(a.thread_link.has_value(), b.thread_link.has_value());
  if (a.thread_link) {
    EXPECT_EQ(a.thread_link->alpha_s, b.thread_link->alpha_s);
    EXPECT_EQ(a.thread_link->beta_s_per_byte, b.thread_link->beta_s_per_byte);
  }
  ASSERT_EQ(a.oversubscribed_link.has_value(), b.oversubscribed_link.has_value());
  if (a.oversubscribed_link) {
    EXPECT_EQ(a.oversubscribed_link->alpha_s, b.oversubscribed_link->alpha_s);
    EXPECT_EQ(a.oversubscribed_link->beta_s_per_byte, b.oversubscribed_link->beta_s_per_byte);
  }
  for (auto [x, y] : {std::pair{&a.gemm_fp32.forward_alone, &b.gemm_fp32.forward_alone},
                      {&a.gemm_fp32.backward_alone, &b.gemm_fp32.backward_alone},
                      {&a.gemm_fp32.forward_busy, &b.gemm_fp32.forward_busy},
                      {&a.gemm_fp32.backward_busy, &b.gemm_fp32.backward_busy}}) {
    EXPECT_EQ(x->rows, y->rows);
    EXPECT_EQ(x->flops_per_s, y->flops_per_s);
  }
}

// A calibrated machine: the shipped one with a three-row GEMM table (distinct values everywhere).
Machine with_table() {
  Machine m = builtin_machine("h100-cluster");
  m.gemm_fp32 = {{{8, 64, 1024}, {1e9, 2e9, 3e9}},
                 {{8, 64, 1024}, {0.5e9, 1.5e9, 2.5e9}},
                 {{8, 64, 1024}, {0.9e9, 1.9e9, 2.9e9}},
                 {{8, 64, 1024}, {0.4e9, 1.4e9, 2.4e9}}};
  m.sources["gemm_fp32"] = "measured by hand";
  return m;
}

// What machine_from_json says of @p j: its error message, or "(accepted)".
std::string message(const nlohmann::json& j) {
  try {
    machine_from_json(j, "m.json");
  } catch (const ptt::InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(MachineJson, RoundTripsEveryField) {
  Machine m = builtin_machine("h100-cluster");
  m.cores_per_node = 96;
  expect_same(machine_from_json(machine_to_json(m), "test"), m);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("ch08_machine_" + std::to_string(getpid()) + ".json"))
          .string();
  save_machine(m, path);
  expect_same(load_machine(path), m);
  expect_same(resolve_machine(path), m);
  std::remove(path.c_str());
}

TEST(MachineJson, RoundTripsTheGemmTable) {
  const Machine m = with_table();
  const nlohmann::json j = machine_to_json(m);
  ASSERT_TRUE(j.contains("gemm_fp32"));
  EXPECT_EQ(j["gemm_fp32"].size(), 3u);
  EXPECT_EQ(j["gemm_fp32"][1]["rows"], 64);
  EXPECT_EQ(j["gemm_fp32"][1]["backward_all_cores"], 1.4e9);
  expect_same(machine_from_json(j, "test"), m);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("ch08_table_" + std::to_string(getpid()) + ".json"))
          .string();
  save_machine(m, path);
  expect_same(load_machine(path), m);
  std::remove(path.c_str());
}

TEST(MachineJson, NoTableIsTheSinglePeakRate) {
  // The shipped profile has no table, writes none, and a file without one (every machine.json
  // before the table existed) still loads: backward compatible, no version bump.
  EXPECT_TRUE(builtin_machine("h100-cluster").gemm_fp32.empty());
  EXPECT_FALSE(machine_to_json(builtin_machine("h100-cluster")).contains("gemm_fp32"));
  nlohmann::json j = machine_to_json(with_table());
  j.erase("gemm_fp32");
  EXPECT_TRUE(machine_from_json(j, "old.json").gemm_fp32.empty());
}

TEST(MachineJson, ThreadLinkRoundTripsAndServesThreadWorkers) {
  // A calibrated machine has a thread link (chapters 02 and 05's workers are threads); the
  // shipped GPU profile has none and writes none, and --threads on it is refused, naming it.
  Machine m = with_table();
  m.thread_link = Link{4e-5, 5e-11};
  const nlohmann::json j = machine_to_json(m);
  ASSERT_TRUE(j.contains("thread_link"));
  expect_same(machine_from_json(j, "test"), m);
  EXPECT_FALSE(machine_to_json(builtin_machine("h100-cluster")).contains("thread_link"));
  const Machine threads = with_thread_workers(m);
  EXPECT_EQ(threads.intra_node.alpha_s, 4e-5);
  EXPECT_EQ(threads.intra_node.beta_s_per_byte, 5e-11);
  EXPECT_EQ(threads.inter_node.alpha_s, m.inter_node.alpha_s);  // between nodes: still the network
  try {
    with_thread_workers(builtin_machine("h100-cluster"));
    ADD_FAILURE() << "--threads on a machine without a thread link was accepted";
  } catch (const ptt::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'thread_link'"), std::string::npos) << e.what();
  }
  nlohmann::json bad = j;
  bad["thread_link"]["alpha_s"] = 0;
  EXPECT_NE(message(bad).find("thread_link: field 'alpha_s' must be positive"), std::string::npos)
      << message(bad);
}

TEST(MachineJson, OversubscribedLinkRoundTripsAndThreadsDoNotUseIt) {
  // A calibration on a node with more ranks than cores writes the crowded node's link; the file
  // reads back the same, a bad value is named, and thread workers (who meet through memory,
  // not MPI) drop it with the rest of the MPI links inside the node.
  Machine m = with_table();
  m.thread_link = Link{4e-5, 5e-11};
  m.oversubscribed_link = Link{8e-6, 5e-10};
  const nlohmann::json j = machine_to_json(m);
  ASSERT_TRUE(j.contains("oversubscribed_link"));
  expect_same(machine_from_json(j, "test"), m);
  EXPECT_FALSE(machine_to_json(with_table()).contains("oversubscribed_link"));
  EXPECT_FALSE(with_thread_workers(m).oversubscribed_link.has_value());
  nlohmann::json bad = j;
  bad["oversubscribed_link"]["beta_s_per_byte"] = -1;
  EXPECT_NE(message(bad).find("oversubscribed_link: field 'beta_s_per_byte' must be positive"),
            std::string::npos)
      << message(bad);
  bad["oversubscribed_link"] = 3;
  EXPECT_NE(message(bad).find("field 'oversubscribed_link' must be an object"), std::string::npos)
      << message(bad);
}

TEST(CostModel, ThreadWorkersSumThroughMemory) {
  // dp 2 of 4-8-2 (232 bytes of gradient): over the round machine's intra-node link the ring
  // costs 2 (0.1) + 232 (0.01) = 2.52 s; with thread workers and a thread link of alpha 0.001 s,
  // 0.0001 s per byte, 2 (0.001) + 232 (0.0001) = 0.0252 s.
  Machine m = builtin_machine("h100-cluster");
  m.flops_fp32 = 1000;
  m.memory_bandwidth = 1e30;
  m.intra_node = {0.1, 0.01};
  m.thread_link = Link{0.001, 0.0001};
  Model model;
  model.widths = {4, 8, 2};
  model.batch = 10;
  const Layout dp2{2, 1, 1, 1, Schedule::gpipe, 0};
  EXPECT_NEAR(predict(model, dp2, m).dp_comm_s, 2.52, 1e-12);
  EXPECT_NEAR(predict(model, dp2, with_thread_workers(m)).dp_comm_s, 0.0252, 1e-12);
}

TEST(MachineJson, NamesTheBadGemmTable) {
  const nlohmann::json good = machine_to_json(with_table());
  nlohmann::json j = good;
  j["gemm_fp32"] = nlohmann::json::array();
  EXPECT_NE(message(j).find("field 'gemm_fp32' must be a non-empty array"), std::string::npos) << message(j);
  j["gemm_fp32"] = 5e9;
  EXPECT_NE(message(j).find("field 'gemm_fp32' must be a non-empty array"), std::string::npos) << message(j);
  j = good;
  j["gemm_fp32"][2]["forward_all_cores"] = 0;
  EXPECT_NE(message(j).find("gemm_fp32[2]: field 'forward_all_cores' must be positive"), std::string::npos)
      << message(j);
  j = good;
  j["gemm_fp32"][0]["backward_1_thread"] = -1e9;
  EXPECT_NE(message(j).find("gemm_fp32[0]: field 'backward_1_thread' must be positive"), std::string::npos)
      << message(j);
  j = good;
  j["gemm_fp32"][1]["rows"] = 4;  // 8, 4, 1024: unsorted
  EXPECT_NE(message(j).find("gemm_fp32[1]: field 'rows' must be larger"), std::string::npos) << message(j);
  j = good;
  j["gemm_fp32"][1]["rows"] = 8;  // 8, 8, 1024: a duplicate
  EXPECT_NE(message(j).find("gemm_fp32[1]: field 'rows' must be larger"), std::string::npos) << message(j);
  j = good;
  j["gemm_fp32"][0]["rows"] = 0;
  EXPECT_NE(message(j).find("gemm_fp32[0]: field 'rows' must be positive"), std::string::npos) << message(j);
  j = good;
  j["gemm_fp32"][1].erase("forward_1_thread");
  EXPECT_NE(message(j).find("gemm_fp32[1]: field 'forward_1_thread' is missing"), std::string::npos)
      << message(j);
}

TEST(MachineJson, ShippedProfileNamesASourceForEveryField) {
  const Machine m = builtin_machine("h100-cluster");
  for (const char* field : {"flops_fp32", "flops_mixed", "memory_bandwidth", "intra_node", "inter_node",
                            "workers_per_node", "memory_bytes", "cores_per_node"})
    EXPECT_TRUE(m.sources.contains(field)) << field;
}

TEST(MachineJson, NamesTheBadField) {
  const nlohmann::json good = machine_to_json(builtin_machine("h100-cluster"));
  nlohmann::json j = good;
  j.erase("flops_mixed");
  EXPECT_NE(message(j).find("'flops_mixed' is missing"), std::string::npos) << message(j);
  j = good;
  j["memory_bandwidth"] = -1;
  EXPECT_NE(message(j).find("'memory_bandwidth' must be positive"), std::string::npos) << message(j);
  j = good;
  j["workers_per_node"] = "eight";
  EXPECT_NE(message(j).find("'workers_per_node'"), std::string::npos) << message(j);
  j = good;
  j["inter_node"]["beta_s_per_byte"] = 0;
  EXPECT_NE(message(j).find("inter_node: field 'beta_s_per_byte'"), std::string::npos) << message(j);
  j = good;
  j["workers_per_node"] = 2.5;
  EXPECT_NE(message(j).find("'workers_per_node' must be an integer"), std::string::npos) << message(j);
  EXPECT_NE(message(nlohmann::json::array()).find("JSON object"), std::string::npos);
}

TEST(AllreduceFit, RecoversTheLinkThatMadeTheTimes) {
  for (const int p : {2, 4}) {
    const Link link{3e-6, 1.0 / 4e9};
    std::vector<AllreduceSample> samples;
    for (double bytes = 4096; bytes <= 16e6; bytes *= 4)
      samples.push_back(
          {bytes, 2.0 * (p - 1) * link.alpha_s + 2.0 * (p - 1) / p * bytes * link.beta_s_per_byte});
    const Link fit = fit_allreduce_link(samples, p);
    EXPECT_NEAR(fit.alpha_s, link.alpha_s, 1e-12) << "p " << p;
    EXPECT_NEAR(fit.beta_s_per_byte / link.beta_s_per_byte, 1.0, 1e-9) << "p " << p;
  }
}

TEST(AllreduceFit, EverySizeWeighsTheSameNotTheLargest) {
  // Measured times with a knee: past the caches the bandwidth drops (as chapter 03's 64 MB row
  // does). A fit of absolute times follows the two largest and gives a negative alpha (it would be
  // refused); the fit of relative errors keeps the small sizes, where alpha shows, within 5 %.
  const std::vector<AllreduceSample> samples{{4096, 10e-6},     {16384, 12e-6}, {65536, 20e-6},
                                             {1 << 20, 150e-6}, {16e6, 3e-3},   {64e6, 16e-3}};
  const Link fit = fit_allreduce_link(samples, 2);
  EXPECT_GT(fit.alpha_s, 0.0);
  for (std::size_t i = 0; i < 3; ++i) {
    const double t = 2.0 * fit.alpha_s + samples[i].bytes * fit.beta_s_per_byte;
    EXPECT_NEAR(t / samples[i].seconds, 1.0, 0.05) << samples[i].bytes << " B";
  }
}

TEST(AllreduceFit, RefusesWhatNoLinkExplains) {
  EXPECT_THROW(fit_allreduce_link({{4096, 1e-5}}, 2), ptt::InputError);                 // one size
  EXPECT_THROW(fit_allreduce_link({{4096, 1e-5}, {4096, 1e-5}}, 2), ptt::InputError);   // one size twice
  EXPECT_THROW(fit_allreduce_link({{4096, 0}, {65536, 1e-5}}, 2), ptt::InputError);     // a zero time
  EXPECT_THROW(fit_allreduce_link({{4096, 3e-5}, {65536, 1e-5}}, 2), ptt::InputError);  // shrinks with size
  EXPECT_THROW(fit_allreduce_link({{4096, 1e-5}, {65536, 3e-5}}, 1), ptt::InputError);  // one rank
  EXPECT_NO_THROW(fit_allreduce_link({{4096, 1e-5}, {65536, 3e-5}}, 2));
}

TEST(MachineJson, UnknownProfileIsBadInput) {
  EXPECT_THROW(builtin_machine("tpu-pod"), ptt::InputError);
  EXPECT_THROW(resolve_machine("/nonexistent/machine.json"), ptt::InputError);
}

}  // namespace
