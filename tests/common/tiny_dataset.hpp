// A tiny Fashion-MNIST-shaped data set on disk, for tests that run the whole training loop
// (ptt::TrainingRun loads its data from --data-dir): 6x6 images of seeded random bytes, 10 classes,
// in the four IDX files load_fashion_mnist() reads.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "ptt/error.hpp"
#include "ptt/rng.hpp"

namespace ptt::test {

/// @brief Writes an IDX file: the big-endian magic (0, 0, 8 = unsigned bytes, rank), the
/// dimensions, the bytes.
inline void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
                      const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  const unsigned char magic[4] = {0, 0, 8, static_cast<unsigned char>(dims.size())};
  out.write(reinterpret_cast<const char*>(magic), 4);
  for (std::uint32_t d : dims) {
    const unsigned char be[4] = {static_cast<unsigned char>(d >> 24), static_cast<unsigned char>(d >> 16),
                                 static_cast<unsigned char>(d >> 8), static_cast<unsigned char>(d)};
    out.write(reinterpret_cast<const char*>(be), 4);
  }
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  PTT_CHECK(out.good(), "cannot write " + path);
}

/// @brief A data set of @p train and @p test samples in a folder of its own under @p parent
/// (named after @p name and this process, so tests that run in parallel never share files).
/// @return the folder, for --data-dir.
inline std::string write_tiny_dataset(const std::string& parent, const std::string& name,
                                      std::uint32_t train = 44, std::uint32_t test = 20) {
  const std::string dir = parent + "/" + name + "_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  auto rng = make_rng(11, RngPurpose::Test, 0);
  auto bytes = [&](std::size_t n, int modulo) {
    std::vector<std::uint8_t> b(n);
    for (auto& v : b) v = static_cast<std::uint8_t>(rng() % static_cast<std::uint64_t>(modulo));
    return b;
  };
  for (const auto& [stem, n] : {std::pair<std::string, std::uint32_t>{"train", train}, {"t10k", test}}) {
    write_idx(dir + "/" + stem + "-images-idx3-ubyte", {n, 6, 6}, bytes(std::size_t(n) * 36, 256));
    write_idx(dir + "/" + stem + "-labels-idx1-ubyte", {n}, bytes(n, 10));
  }
  return dir;
}

}  // namespace ptt::test
