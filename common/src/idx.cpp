#include "ptt/idx.hpp"

#include <zlib.h>

#include <array>
#include <limits>
#include <memory>

#include "ptt/error.hpp"

namespace ptt {
namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads exactly n bytes; returns how many were read (fewer means the file ended).
std::size_t read_bytes(gzFile f, std::uint8_t* out, std::size_t n, const std::string& path) {
  std::size_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
    const int got = gzread(f, out + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      throw InputError(path + ": cannot read: " + (msg ? msg : "zlib error"));
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

}  // namespace

IdxArray read_idx(const std::string& path, int expected_ndims) {
  GzFile f(gzopen(path.c_str(), "rb"));
  require_input(f != nullptr, path + ": cannot open file");
  std::array<std::uint8_t, 4> magic{};
  require_input(read_bytes(f.get(), magic.data(), 4, path) == 4, path + ": truncated IDX header");
  require_input(magic[0] == 0 && magic[1] == 0, path + ": not an IDX file (bad magic number)");
  require_input(magic[2] == 0x08, path + ": IDX element type is not unsigned byte (0x08)");
  require_input(magic[3] == expected_ndims, path + ": expected " + std::to_string(expected_ndims) +
                                                " dimensions, the file has " + std::to_string(magic[3]));
  IdxArray a;
  std::uint64_t count = 1;
  for (int d = 0; d < expected_ndims; ++d) {
    std::array<std::uint8_t, 4> be{};
    require_input(read_bytes(f.get(), be.data(), 4, path) == 4, path + ": truncated IDX header");
    const std::uint32_t n = (std::uint32_t{be[0]} << 24) | (std::uint32_t{be[1]} << 16) |
                            (std::uint32_t{be[2]} << 8) | std::uint32_t{be[3]};
    require_input(n > 0, path + ": dimension " + std::to_string(d) + " is zero");
    count *= n;
    require_input(count <= (std::uint64_t{1} << 34), path + ": dimensions are implausibly large");
    a.dims.push_back(n);
  }
  // Grow the buffer as data arrives instead of trusting the header's size up front: a hostile
  // or damaged header must not make us allocate gigabytes for a file of a few bytes.
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  std::size_t got = 0;
  while (got < count) {
    const std::size_t want = std::min<std::size_t>(kChunk, static_cast<std::size_t>(count) - got);
    a.data.resize(got + want);
    const std::size_t n = read_bytes(f.get(), a.data.data() + got, want, path);
    got += n;
    if (n < want) break;
  }
  require_input(got == count, path + ": truncated: expected " + std::to_string(count) +
                                  " data bytes, found " + std::to_string(got));
  std::uint8_t extra = 0;
  require_input(read_bytes(f.get(), &extra, 1, path) == 0, path + ": unexpected bytes after the IDX data");
  return a;
}

void write_idx(const std::string& path, const IdxArray& array) {
  GzFile f(gzopen(path.c_str(), ends_with(path, ".gz") ? "wb" : "wbT"));
  require_input(f != nullptr, path + ": cannot open for writing");
  std::vector<std::uint8_t> header{0, 0, 0x08, static_cast<std::uint8_t>(array.dims.size())};
  for (std::uint32_t n : array.dims) {
    header.push_back(static_cast<std::uint8_t>(n >> 24));
    header.push_back(static_cast<std::uint8_t>(n >> 16));
    header.push_back(static_cast<std::uint8_t>(n >> 8));
    header.push_back(static_cast<std::uint8_t>(n));
  }
  auto put = [&](const std::uint8_t* p, std::size_t n) {
    if (n == 0) return;
    require_input(gzwrite(f.get(), p, static_cast<unsigned>(n)) == static_cast<int>(n),
                  path + ": write failed");
  };
  put(header.data(), header.size());
  put(array.data.data(), array.data.size());
  require_input(gzclose(f.release()) == Z_OK, path + ": write failed");
}

}  // namespace ptt
