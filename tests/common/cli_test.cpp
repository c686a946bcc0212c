// The command-line contract: good flags parse, bad ones are InputErrors naming the option.
#include "ptt/cli.hpp"

#include <gtest/gtest.h>

#include "ptt/error.hpp"

namespace ptt {
namespace {

// Parses args (without the program name) into a fresh TrainConfig.
TrainConfig parse(std::vector<std::string> args) {
  TrainConfig cfg;
  CLI::App app;
  add_train_options(app, cfg);
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (parse_command_line(app, cfg, int(argv.size()), argv.data())) throw std::logic_error("help");
  return cfg;
}

std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Cli, ParsesTheCommonFlags) {
  const TrainConfig c =
      parse({"--epochs",      "3",         "--batch-size", "7",          "--lr",   "0.5", "--momentum",  "0",
             "--optimizer",   "adam",      "--hidden",     "32,16,8",    "--seed", "9",   "--max-steps", "11",
             "--no-progress", "--metrics", "m.jsonl",      "--data-dir", "/d"});
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.batch_size, 7);
  EXPECT_DOUBLE_EQ(c.lr, 0.5);
  EXPECT_EQ(c.optimizer, "adam");
  EXPECT_EQ(c.hidden, (std::vector<int>{32, 16, 8}));
  EXPECT_EQ(c.seed, 9u);
  EXPECT_EQ(c.max_steps, 11);
  EXPECT_TRUE(c.no_progress);
  EXPECT_EQ(c.metrics, "m.jsonl");
  EXPECT_EQ(c.data_dir, "/d");
}

TEST(Cli, BadValuesNameTheirOption) {
  EXPECT_NE(error_of({"--lr", "-1"}).find("--lr"), std::string::npos);
  EXPECT_NE(error_of({"--lr", "0"}).find("--lr"), std::string::npos);
  EXPECT_NE(error_of({"--batch-size", "0"}).find("--batch-size"), std::string::npos);
  EXPECT_NE(error_of({"--hidden", "abc"}).find("--hidden"), std::string::npos);
  EXPECT_NE(error_of({"--hidden", "256,"}).find("--hidden"), std::string::npos);
  EXPECT_NE(error_of({"--hidden", "256,0"}).find("--hidden"), std::string::npos);
  EXPECT_NE(error_of({"--optimizer", "rmsprop"}).find("--optimizer"), std::string::npos);
  EXPECT_NE(error_of({"--momentum", "1.5"}).find("--momentum"), std::string::npos);
  EXPECT_NE(error_of({"--epochs", "0"}).find("--epochs"), std::string::npos);
  EXPECT_NE(error_of({"--max-steps", "-3"}).find("--max-steps"), std::string::npos);
  EXPECT_NE(error_of({"--batch-size", "lots"}).find("--batch-size"), std::string::npos);
  EXPECT_NE(error_of({"--frobnicate"}).find("--frobnicate"), std::string::npos);
  EXPECT_NE(error_of({"--lr-schedule", "linear"}).find("--lr-schedule"), std::string::npos);
}

TEST(Cli, SizeListParser) {
  EXPECT_EQ(parse_size_list("1024", "--x"), (std::vector<int>{1024}));
  EXPECT_EQ(parse_size_list("3,4,5", "--x"), (std::vector<int>{3, 4, 5}));
  EXPECT_THROW(parse_size_list("", "--x"), InputError);
  EXPECT_THROW(parse_size_list("3,,4", "--x"), InputError);
  EXPECT_THROW(parse_size_list("-3", "--x"), InputError);
  EXPECT_THROW(parse_size_list("99999999999", "--x"), InputError);
}

}  // namespace
}  // namespace ptt
