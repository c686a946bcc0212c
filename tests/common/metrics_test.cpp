// Metrics, the parameter checksum and the --metrics file.
#include "ptt/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ptt/checksum.hpp"
#include "ptt/error.hpp"
#include "ptt/metrics_log.hpp"

namespace ptt {
namespace {

namespace fs = std::filesystem;

TEST(Checksum, IsCrc32OfTheFloatBytes) {
  // Expected value: Python's zlib.crc32(struct.pack('<4f', 1.0, -2.5, 0.0, 3.25)).
  const std::vector<float> p{1.0f, -2.5f, 0.0f, 3.25f};
  EXPECT_EQ(param_checksum(p), "743c80f1");
}

TEST(Checksum, ChangesWithOneBit) {
  std::vector<float> p(1000, 0.25f);
  const std::string before = param_checksum(p);
  p[999] = std::nextafter(p[999], 1.0f);
  EXPECT_NE(param_checksum(p), before);
  EXPECT_EQ(param_checksum(p).size(), 8u);
}

TEST(CountCorrect, ComparesArgmaxWithLabels) {
  Matrix logits(3, 3);
  logits << 0.1, 0.9, 0.0, 2.0, 1.0, 3.0, 5.0, 5.0, 1.0;  // tie: lowest index wins
  EXPECT_EQ(count_correct(logits, std::vector<std::uint8_t>{1, 2, 0}), 3u);
  EXPECT_EQ(count_correct(logits, std::vector<std::uint8_t>{0, 2, 1}), 1u);
}

TEST(ConfusionMatrix, CountsTruthAgainstPrediction) {
  ConfusionMatrix cm(3);
  Matrix logits(4, 3);
  logits << 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1;
  cm.add(logits, std::vector<std::uint8_t>{0, 1, 2, 2});
  EXPECT_EQ(cm.at(0, 0), 1);
  EXPECT_EQ(cm.at(2, 1), 1);
  EXPECT_EQ(cm.at(2, 2), 1);
  EXPECT_EQ(cm.total(), 4);
  EXPECT_DOUBLE_EQ(cm.accuracy(), 0.75);
}

TEST(EpochStats, WeightsLossBySamples) {
  EpochStats s;
  s.add(1.0f, 2, 4);
  s.add(4.0f, 1, 2);
  EXPECT_DOUBLE_EQ(s.loss(), (4.0 + 8.0) / 6.0);
  EXPECT_DOUBLE_EQ(s.accuracy(), 0.5);
}

class MetricsLogFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ptt_log_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(MetricsLogFile, AppearsOnlyAfterCommit) {
  const fs::path target = dir_ / "m.jsonl";
  {
    MetricsLog log(target.string());
    log.write({{"epoch", 1}});
    EXPECT_FALSE(fs::exists(target));
    log.write({{"final", true}});
    log.commit();
  }
  std::ifstream in(target);
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  EXPECT_EQ(nlohmann::json::parse(l1)["epoch"], 1);
  EXPECT_EQ(nlohmann::json::parse(l2)["final"], true);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
}

TEST_F(MetricsLogFile, UnfinishedRunLeavesExistingFileAndNoDebris) {
  const fs::path target = dir_ / "m.jsonl";
  std::ofstream(target) << "previous run\n";
  {
    MetricsLog log(target.string());
    log.write({{"epoch", 1}});
  }  // destroyed without commit, as when training throws
  std::ifstream in(target);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "previous run");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
}

TEST_F(MetricsLogFile, UnwritablePathIsAnInputErrorNamingTheOption) {
  try {
    MetricsLog log((dir_ / "no_such_dir" / "m.jsonl").string());
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--metrics"), std::string::npos);
  }
}

TEST(RunMain, MapsErrorsToExitCodes) {
  EXPECT_EQ(run_main("t", [] { return 0; }), 0);
  EXPECT_EQ(run_main("t", []() -> int { throw InputError("bad"); }), 2);
  EXPECT_EQ(run_main("t", []() -> int { throw std::runtime_error("bug"); }), 1);
}

}  // namespace
}  // namespace ptt
