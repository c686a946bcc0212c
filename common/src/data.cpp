#include "ptt/data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <random>

#include "ptt/error.hpp"
#include "ptt/idx.hpp"
#include "ptt/rng.hpp"

namespace ptt {

std::string default_data_dir() {
  const char* env = std::getenv("PTT_DATA_DIR");
  return (env != nullptr && *env != '\0') ? env : "/usr/share/datasets/fashion-mnist";
}

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path, int classes) {
  const IdxArray images = read_idx(images_path, 3);
  const IdxArray labels = read_idx(labels_path, 1);
  require_input(images.dims[0] == labels.dims[0], labels_path + ": has " + std::to_string(labels.dims[0]) +
                                                      " labels but " + images_path + " has " +
                                                      std::to_string(images.dims[0]) + " images");
  const auto n = static_cast<Eigen::Index>(images.dims[0]);
  const auto features = static_cast<Eigen::Index>(images.dims[1]) * images.dims[2];
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    require_input(labels.data[i] < classes, labels_path + ": label " + std::to_string(labels.data[i]) +
                                                " at index " + std::to_string(i) + " is not below " +
                                                std::to_string(classes));
  }
  Dataset d;
  d.x = Eigen::Map<const Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            images.data.data(), n, features)
            .cast<float>() /
        255.0f;
  d.y = labels.data;
  return d;
}

namespace {
// Fashion-MNIST as Debian ships it (.gz), or unpacked.
std::string find_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  for (const char* suffix : {".gz", ""}) {
    const fs::path p = fs::path(dir) / (stem + suffix);
    if (fs::is_regular_file(p)) return p.string();
  }
  throw InputError(dir + ": no " + stem + "[.gz] (install dataset-fashion-mnist or set --data-dir)");
}
}  // namespace

TrainTest load_fashion_mnist(const std::string& dir) {
  require_input(std::filesystem::is_directory(dir), dir + ": data directory does not exist");
  constexpr int kClasses = 10;
  TrainTest t;
  t.classes = kClasses;
  t.train = load_idx_pair(find_file(dir, "train-images-idx3-ubyte"),
                          find_file(dir, "train-labels-idx1-ubyte"), kClasses);
  t.test = load_idx_pair(find_file(dir, "t10k-images-idx3-ubyte"), find_file(dir, "t10k-labels-idx1-ubyte"),
                         kClasses);
  require_input(t.train.features() == t.test.features(),
                dir + ": train and test images have different sizes");
  // Statistics from the training set only, applied to both (no peeking at the test set).
  const double mean = t.train.x.cast<double>().mean();
  const double var = (t.train.x.cast<double>().array() - mean).square().mean();
  const float stddev = static_cast<float>(std::sqrt(std::max(var, 1e-12)));
  normalise(t.train, static_cast<float>(mean), stddev);
  normalise(t.test, static_cast<float>(mean), stddev);
  return t;
}

void normalise(Dataset& d, float mean, float stddev) { d.x = (d.x.array() - mean) / stddev; }

Range shard_range(std::size_t n, int rank, int world) {
  PTT_CHECK(world > 0 && rank >= 0 && rank < world, "bad rank/world");
  const auto w = static_cast<std::size_t>(world);
  const auto r = static_cast<std::size_t>(rank);
  const std::size_t base = n / w;
  const std::size_t extra = n % w;
  const std::size_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

BatchSampler::BatchSampler(std::size_t samples, std::size_t batch_size, std::uint64_t seed)
    : order_(samples), batch_(batch_size), seed_(seed) {
  PTT_CHECK(batch_size > 0, "batch size must be positive");
  std::iota(order_.begin(), order_.end(), 0u);
}

void BatchSampler::start_epoch(std::uint64_t epoch) {
  std::iota(order_.begin(), order_.end(), 0u);
  auto rng = make_rng(seed_, RngPurpose::Shuffle, epoch);
  // Fisher-Yates with our own index draw: std::shuffle's use of the engine is
  // implementation-defined, this is the same on every standard library.
  for (std::size_t i = order_.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(order_[i - 1], order_[j]);
  }
}

std::span<const std::uint32_t> BatchSampler::batch(std::size_t i) const {
  PTT_CHECK(i < num_batches(), "batch index out of range");
  const std::size_t begin = i * batch_;
  const std::size_t end = std::min(begin + batch_, order_.size());
  return std::span<const std::uint32_t>(order_).subspan(begin, end - begin);
}

void gather(const Dataset& d, std::span<const std::uint32_t> indices, Matrix& x,
            std::vector<std::uint8_t>& y) {
  x.resize(static_cast<Eigen::Index>(indices.size()), d.x.cols());
  y.resize(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    x.row(static_cast<Eigen::Index>(i)) = d.x.row(indices[i]);
    y[i] = d.y[indices[i]];
  }
}

Dataset make_synthetic(std::size_t samples, int features, int classes, std::uint64_t seed) {
  PTT_CHECK(classes > 0 && classes <= 256 && features > 0, "bad synthetic shape");
  auto rng = make_rng(seed, RngPurpose::Synthetic, 0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Matrix centres(classes, features);
  for (Eigen::Index k = 0; k < centres.size(); ++k) centres.data()[k] = normal(rng);
  Dataset d;
  d.x.resize(static_cast<Eigen::Index>(samples), features);
  d.y.resize(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    const auto label = static_cast<std::uint8_t>(rng() % static_cast<std::uint64_t>(classes));
    d.y[i] = label;
    for (int f = 0; f < features; ++f)
      d.x(static_cast<Eigen::Index>(i), f) = centres(label, f) + 0.8f * normal(rng);
  }
  return d;
}

}  // namespace ptt
