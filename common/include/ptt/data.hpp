// ptt/data.hpp — data sets in memory, normalisation, shuffled batches and sharding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ptt/tensor.hpp"

namespace ptt {

/// A labelled data set in memory: features as floats, one sample per row.
struct Dataset {
  Matrix x;                     ///< [N, features]
  std::vector<std::uint8_t> y;  ///< [N] labels in [0, classes)
  Eigen::Index size() const { return x.rows(); }
  int features() const { return static_cast<int>(x.cols()); }
};

/// Train and test splits, normalised with the training set's statistics.
struct TrainTest {
  Dataset train;
  Dataset test;
  int classes = 0;
};

/// The data directory a chapter uses when --data-dir is not given:
/// $PTT_DATA_DIR if set, else /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
std::string default_data_dir();

/// @brief Reads an image IDX file and its label IDX file into a Dataset (pixels scaled to [0, 1]).
/// @throws InputError naming the file when either is invalid, when their counts differ, or when a
///         label is not below @p classes.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path, int classes);

/// @brief Loads Fashion-MNIST (train-*, t10k-* IDX files, .gz or plain) from @p dir and
/// normalises both splits with the training set's pixel mean and standard deviation.
/// @throws InputError naming the directory or file when something is missing or invalid.
TrainTest load_fashion_mnist(const std::string& dir);

/// @brief Standardises features in place: x = (x - mean) / std.
void normalise(Dataset& d, float mean, float stddev);

/// A half-open index range [begin, end).
struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};

/// @brief The part of n items that worker @p rank of @p world owns: contiguous ranges whose sizes
/// differ by at most one (the first n % world workers get one extra item). Empty when n < world.
Range shard_range(std::size_t n, int rank, int world);

/// Hands out the indices of a data set in seeded shuffled mini-batches, epoch by epoch.
/// Every sample appears exactly once per epoch; the last batch holds the remainder (it may be
/// smaller). The order depends only on (seed, epoch), so every worker can compute it alone.
class BatchSampler {
 public:
  BatchSampler(std::size_t samples, std::size_t batch_size, std::uint64_t seed);
  /// Shuffles for @p epoch (make_rng(seed, Shuffle, epoch)).
  void start_epoch(std::uint64_t epoch);
  std::size_t num_batches() const { return (order_.size() + batch_ - 1) / batch_; }
  /// The indices of batch @p i of the current epoch.
  std::span<const std::uint32_t> batch(std::size_t i) const;

 private:
  std::vector<std::uint32_t> order_;
  std::size_t batch_;
  std::uint64_t seed_;
};

/// @brief Copies the samples @p indices of @p d into @p x (resized to [n, features]) and @p y.
void gather(const Dataset& d, std::span<const std::uint32_t> indices, Matrix& x,
            std::vector<std::uint8_t>& y);

/// @brief A seeded synthetic classification set (Gaussian blobs around random class centres),
/// for tests and benchmarks that must not depend on files.
Dataset make_synthetic(std::size_t samples, int features, int classes, std::uint64_t seed);

}  // namespace ptt
