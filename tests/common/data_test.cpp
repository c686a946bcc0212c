// The IDX reader, the data set loader, sharding and the batch sampler.
#include "ptt/data.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "ptt/error.hpp"
#include "ptt/idx.hpp"

namespace ptt {
namespace {

namespace fs = std::filesystem;

class IdxFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ptt_idx_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static IdxArray images(std::uint32_t n) {
    IdxArray a{{n, 2, 3}, {}};
    for (std::uint32_t i = 0; i < n * 6; ++i) a.data.push_back(std::uint8_t(i * 7));
    return a;
  }
  static IdxArray labels(std::uint32_t n, std::uint8_t first = 0) {
    IdxArray a{{n}, {}};
    for (std::uint32_t i = 0; i < n; ++i) a.data.push_back(std::uint8_t((first + i) % 10));
    return a;
  }
  void write_raw(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
    std::ofstream(path(name), std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  // Expects read_idx to throw an InputError whose message names the file and contains `what`.
  void expect_refused(const std::string& name, int ndims, const std::string& what) const {
    try {
      read_idx(path(name), ndims);
      ADD_FAILURE() << name << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path(name)), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  }
  fs::path dir_;
};

TEST_F(IdxFiles, RoundTripPlainAndGzip) {
  for (const char* name : {"a.idx", "a.idx.gz"}) {
    write_idx(path(name), images(4));
    const IdxArray back = read_idx(path(name), 3);
    EXPECT_EQ(back.dims, (std::vector<std::uint32_t>{4, 2, 3}));
    EXPECT_EQ(back.data, images(4).data);
  }
  // The .gz file really is compressed (gzip magic 1f 8b), the plain one is not.
  std::ifstream gz(path("a.idx.gz"), std::ios::binary);
  EXPECT_EQ(gz.get(), 0x1f);
  EXPECT_EQ(gz.get(), 0x8b);
}

TEST_F(IdxFiles, RefusesMissingFile) { expect_refused("missing.idx", 1, "cannot open"); }

TEST_F(IdxFiles, RefusesWrongMagic) {
  write_raw("bad.idx", {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 5});
  expect_refused("bad.idx", 1, "bad magic");
}

TEST_F(IdxFiles, RefusesWrongElementType) {
  write_raw("float.idx", {0, 0, 0x0D, 0x01, 0, 0, 0, 1, 0, 0, 0, 0});
  expect_refused("float.idx", 1, "unsigned byte");
}

TEST_F(IdxFiles, RefusesWrongNumberOfDimensions) {
  write_idx(path("labels.idx"), labels(3));
  expect_refused("labels.idx", 3, "expected 3 dimensions");
}

TEST_F(IdxFiles, RefusesTruncatedPlainFile) {
  write_idx(path("t.idx"), images(4));
  fs::resize_file(path("t.idx"), fs::file_size(path("t.idx")) - 5);
  expect_refused("t.idx", 3, "truncated");
}

TEST_F(IdxFiles, RefusesTruncatedHeader) {
  write_raw("h.idx", {0, 0, 0x08, 0x03, 0, 0});
  expect_refused("h.idx", 3, "truncated IDX header");
}

TEST_F(IdxFiles, RefusesTruncatedGzipFile) {
  IdxArray big{{2000, 28, 28}, std::vector<std::uint8_t>(2000u * 784u)};
  for (std::size_t i = 0; i < big.data.size(); ++i) big.data[i] = std::uint8_t((i * 2654435761u) >> 24);
  write_idx(path("t.idx.gz"), big);
  fs::resize_file(path("t.idx.gz"), fs::file_size(path("t.idx.gz")) / 2);
  EXPECT_THROW(read_idx(path("t.idx.gz"), 3), InputError);
}

TEST_F(IdxFiles, RefusesTrailingBytes) {
  IdxArray a = labels(3);
  write_idx(path("x.idx"), a);
  std::ofstream(path("x.idx"), std::ios::binary | std::ios::app).put(7);
  expect_refused("x.idx", 1, "after the IDX data");
}

TEST_F(IdxFiles, HugeHeaderOnATinyFileIsRefusedWithoutAllocatingIt) {
  // Found by the fuzzer: a header claiming 8 GB must not make the reader allocate 8 GB.
  write_raw("huge.idx", {0, 0, 0x08, 0x03, 0, 0x20, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 1, 2, 3});
  expect_refused("huge.idx", 3, "truncated: expected 8589934592 data bytes, found 3");
}

TEST_F(IdxFiles, RefusesZeroDimension) {
  write_raw("z.idx", {0, 0, 0x08, 0x01, 0, 0, 0, 0});
  expect_refused("z.idx", 1, "is zero");
}

TEST_F(IdxFiles, PairLoadsAndScalesPixels) {
  write_idx(path("img.gz"), images(5));
  write_idx(path("lab.gz"), labels(5));
  const Dataset d = load_idx_pair(path("img.gz"), path("lab.gz"), 10);
  EXPECT_EQ(d.size(), 5);
  EXPECT_EQ(d.features(), 6);
  EXPECT_FLOAT_EQ(d.x(1, 0), float(std::uint8_t(6 * 7)) / 255.0f);
  EXPECT_EQ(d.y[3], 3);
}

TEST_F(IdxFiles, PairRefusesCountMismatch) {
  write_idx(path("img"), images(5));
  write_idx(path("lab"), labels(4));
  try {
    load_idx_pair(path("img"), path("lab"), 10);
    ADD_FAILURE() << "count mismatch accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("4 labels"), std::string::npos) << e.what();
  }
}

TEST_F(IdxFiles, PairRefusesLabelOutOfRange) {
  write_idx(path("img"), images(3));
  write_idx(path("lab"), IdxArray{{3}, {1, 12, 2}});
  try {
    load_idx_pair(path("img"), path("lab"), 10);
    ADD_FAILURE() << "label 12 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("label 12 at index 1"), std::string::npos) << e.what();
  }
}

TEST_F(IdxFiles, FashionMnistLoaderNormalisesWithTrainStatistics) {
  write_idx(path("train-images-idx3-ubyte.gz"), images(8));
  write_idx(path("train-labels-idx1-ubyte.gz"), labels(8));
  write_idx(path("t10k-images-idx3-ubyte"), images(3));  // plain files are found too
  write_idx(path("t10k-labels-idx1-ubyte"), labels(3));
  const TrainTest t = load_fashion_mnist(dir_.string());
  EXPECT_NEAR(t.train.x.mean(), 0.0, 1e-5);
  const double var = (t.train.x.array() - t.train.x.mean()).square().mean();
  EXPECT_NEAR(var, 1.0, 1e-4);
  EXPECT_EQ(t.test.size(), 3);
  EXPECT_EQ(t.classes, 10);
}

TEST_F(IdxFiles, FashionMnistLoaderNamesMissingPieces) {
  EXPECT_THROW(load_fashion_mnist(path("nope")), InputError);
  write_idx(path("train-images-idx3-ubyte.gz"), images(8));
  try {
    load_fashion_mnist(dir_.string());
    ADD_FAILURE() << "missing label file accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("train-labels-idx1-ubyte"), std::string::npos) << e.what();
  }
}

// --- sharding and batches ----------------------------------------------------------------------

TEST(ShardRange, CoversEverythingOnceWithSizesWithinOne) {
  for (std::size_t n : {0u, 1u, 7u, 128u, 250u, 1001u})
    for (int world = 1; world <= 9; ++world) {
      std::size_t next = 0, smallest = n, largest = 0;
      for (int r = 0; r < world; ++r) {
        const Range s = shard_range(n, r, world);
        EXPECT_EQ(s.begin, next);
        next = s.end;
        smallest = std::min(smallest, s.size());
        largest = std::max(largest, s.size());
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(largest - smallest, 1u) << n << " over " << world;
    }
}

TEST(BatchSampler, EachEpochIsAPermutationInBatches) {
  BatchSampler s(250, 64, 3);
  s.start_epoch(1);
  ASSERT_EQ(s.num_batches(), 4u);
  EXPECT_EQ(s.batch(3).size(), 250u - 3 * 64);
  std::vector<std::uint32_t> all;
  for (std::size_t b = 0; b < s.num_batches(); ++b)
    all.insert(all.end(), s.batch(b).begin(), s.batch(b).end());
  std::vector<std::uint32_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  for (std::uint32_t i = 0; i < 250; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_FALSE(std::is_sorted(all.begin(), all.end()));
}

TEST(BatchSampler, OrderDependsOnlyOnSeedAndEpoch) {
  BatchSampler a(100, 10, 5), b(100, 10, 5), c(100, 10, 6);
  a.start_epoch(2);
  b.start_epoch(1);
  b.start_epoch(2);
  c.start_epoch(2);
  const std::vector<std::uint32_t> first(a.batch(0).begin(), a.batch(0).end());
  EXPECT_EQ(first, std::vector<std::uint32_t>(b.batch(0).begin(), b.batch(0).end()));
  EXPECT_NE(first, std::vector<std::uint32_t>(c.batch(0).begin(), c.batch(0).end()));
  a.start_epoch(3);
  EXPECT_NE(first, std::vector<std::uint32_t>(a.batch(0).begin(), a.batch(0).end()));
}

TEST(Gather, CopiesRowsAndLabels) {
  Dataset d = make_synthetic(10, 4, 3, 1);
  Matrix x;
  std::vector<std::uint8_t> y;
  const std::vector<std::uint32_t> idx{7, 2};
  gather(d, idx, x, y);
  EXPECT_EQ(x.row(0), d.x.row(7));
  EXPECT_EQ(x.row(1), d.x.row(2));
  EXPECT_EQ(y, (std::vector<std::uint8_t>{d.y[7], d.y[2]}));
}

}  // namespace
}  // namespace ptt
