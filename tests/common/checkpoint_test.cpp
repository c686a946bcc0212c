// Checkpoints: what is saved comes back bit for bit; every damaged or foreign file is refused
// with a message naming it, and refusing never changes the file.
#include "ptt/checkpoint.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "ptt/error.hpp"

namespace ptt {
namespace {

namespace fs = std::filesystem;

class CheckpointFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ptt_ckpt_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "run.ckpt").string();
    state_.sizes = {4, 3, 2};
    state_.optimizer = "adam";
    state_.optimizer_steps = 17;
    for (int i = 0; i < 23; ++i) state_.params.push_back(0.25f * float(i) - 1.0f);
    for (int i = 0; i < 46; ++i) state_.optimizer_state.push_back(1e-3f * float(i));
    state_.epoch = 3;
    state_.next_batch = 41;
    state_.steps = 1234;
    state_.epoch_stats = {12.5, 30, 40};
    state_.config = {{"seed", 7}, {"batch_size", 16}};
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write(const std::string& b) const { std::ofstream(path_, std::ios::binary) << b; }
  // Expects load_checkpoint to refuse the file with `what` in the message, leaving it unchanged.
  void expect_refused(const std::string& what) const {
    const std::string before = bytes();
    try {
      load_checkpoint(path_);
      ADD_FAILURE() << "accepted a file that should be refused (" << what << ")";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path_), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_EQ(bytes(), before) << "refusing changed the file";
  }
  fs::path dir_;
  std::string path_;
  TrainingState state_;
};

TEST_F(CheckpointFile, RoundTripIsExact) {
  save_checkpoint(path_, state_);
  const TrainingState back = load_checkpoint(path_);
  EXPECT_EQ(back.sizes, state_.sizes);
  EXPECT_EQ(back.optimizer, "adam");
  EXPECT_EQ(back.optimizer_steps, 17);
  EXPECT_EQ(back.params, state_.params);
  EXPECT_EQ(back.optimizer_state, state_.optimizer_state);
  EXPECT_EQ(back.epoch, 3);
  EXPECT_EQ(back.next_batch, 41u);
  EXPECT_EQ(back.steps, 1234);
  EXPECT_EQ(back.epoch_stats.samples, 40u);
  EXPECT_EQ(back.config, state_.config);
  EXPECT_FALSE(fs::exists(path_ + ".tmp")) << "temporary file left behind";
}

TEST_F(CheckpointFile, OverwriteReplacesWholeFile) {
  save_checkpoint(path_, state_);
  state_.steps = 99;
  state_.params.resize(5);
  save_checkpoint(path_, state_);
  EXPECT_EQ(load_checkpoint(path_).steps, 99);
}

TEST_F(CheckpointFile, RefusesEveryTruncation) {
  save_checkpoint(path_, state_);
  const std::string full = bytes();
  for (std::size_t n : {std::size_t(0), std::size_t(5), std::size_t(17), full.size() / 2, full.size() - 1}) {
    write(full.substr(0, n));
    EXPECT_THROW(load_checkpoint(path_), InputError) << "truncated to " << n << " bytes";
  }
  write(full.substr(0, full.size() - 9));
  expect_refused("truncated");
}

TEST_F(CheckpointFile, RefusesAFlippedByteAnywhere) {
  save_checkpoint(path_, state_);
  const std::string full = bytes();
  for (std::size_t at = 16; at < full.size(); at += 7) {  // header, parameters, state, checksum
    std::string bad = full;
    bad[at] = char(bad[at] ^ 0x10);
    write(bad);
    EXPECT_THROW(load_checkpoint(path_), InputError) << "flipped byte " << at;
  }
  std::string bad = full;
  bad[full.size() - 20] = char(bad[full.size() - 20] ^ 1);  // inside the optimizer state
  write(bad);
  expect_refused("checksum mismatch");
}

TEST_F(CheckpointFile, RefusesWrongMagicAndUnknownVersion) {
  save_checkpoint(path_, state_);
  std::string bad = bytes();
  bad[0] = 'X';
  write(bad);
  expect_refused("bad magic");
  bad = bytes();
  bad[0] = 'P';
  bad[8] = 2;  // version 2, written by a future program
  write(bad);
  expect_refused("unknown checkpoint version 2");
}

TEST_F(CheckpointFile, RefusesMissingFile) { expect_refused("cannot open"); }

TEST_F(CheckpointFile, RefusesADifferentRun) {
  save_checkpoint(path_, state_);
  const TrainingState s = load_checkpoint(path_);
  EXPECT_NO_THROW(check_resumable(s, {4, 3, 2}, "adam", {{"seed", 7}}));
  EXPECT_THROW(check_resumable(s, {4, 5, 2}, "adam", {{"seed", 7}}), InputError);
  EXPECT_THROW(check_resumable(s, {4, 3, 2}, "sgd", {{"seed", 7}}), InputError);
  EXPECT_THROW(check_resumable(s, {4, 3, 2}, "adam", {{"seed", 8}}), InputError);
  EXPECT_THROW(check_resumable(s, {4, 3, 2}, "adam", {{"threads", 2}}), InputError);
}

TEST_F(CheckpointFile, UnwritableDirectoryIsAnInputError) {
  EXPECT_THROW(save_checkpoint((dir_ / "missing" / "x.ckpt").string(), state_), InputError);
}

}  // namespace
}  // namespace ptt
