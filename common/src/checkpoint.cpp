#include "ptt/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ptt/checksum.hpp"
#include "ptt/error.hpp"

namespace ptt {

namespace {

constexpr char kMagic[8] = {'P', 'T', 'T', 'C', 'K', 'P', 'T', '\0'};

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(const std::string& in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]))
         << (8 * i);
  return v;
}

std::uint32_t crc_of(const char* data, std::size_t n) { return crc32_bytes(data, n); }

void write_all(int fd, const std::string& bytes, const std::string& what) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw InputError(what + ": write failed: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const TrainingState& s) {
  const std::string what = "--checkpoint " + path;
  nlohmann::json header = {{"sizes", s.sizes},
                           {"optimizer", s.optimizer},
                           {"optimizer_steps", s.optimizer_steps},
                           {"epoch", s.epoch},
                           {"next_batch", s.next_batch},
                           {"steps", s.steps},
                           {"epoch_stats",
                            {{"loss_sum", s.epoch_stats.loss_sum},
                             {"correct", s.epoch_stats.correct},
                             {"samples", s.epoch_stats.samples}}},
                           {"params", s.params.size()},
                           {"optimizer_state", s.optimizer_state.size()},
                           {"config", s.config}};
  const std::string head = header.dump();
  std::string bytes(kMagic, sizeof kMagic);
  put_u32(bytes, kCheckpointVersion);
  put_u32(bytes, static_cast<std::uint32_t>(head.size()));
  bytes += head;
  bytes.append(reinterpret_cast<const char*>(s.params.data()), s.params.size() * sizeof(float));
  bytes.append(reinterpret_cast<const char*>(s.optimizer_state.data()),
               s.optimizer_state.size() * sizeof(float));
  put_u32(bytes, crc_of(bytes.data(), bytes.size()));

  // Temporary file, fsync, rename over the target, fsync the directory: the target always holds
  // either the old checkpoint or the complete new one.
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(what + ": cannot write: " + std::strerror(errno));
  try {
    write_all(fd, bytes, what);
    if (::fsync(fd) != 0) throw InputError(what + ": fsync failed: " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw InputError(what + ": cannot rename into place: " + reason);
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

TrainingState load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require_input(in.good(), path + ": cannot open checkpoint");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t fixed = sizeof kMagic + 4 + 4;
  require_input(bytes.size() >= fixed + 4,
                path + ": truncated checkpoint (" + std::to_string(bytes.size()) + " bytes)");
  require_input(std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0,
                path + ": not a checkpoint (bad magic)");
  const std::uint32_t version = get_u32(bytes, sizeof kMagic);
  require_input(version == kCheckpointVersion, path + ": unknown checkpoint version " +
                                                   std::to_string(version) + " (this program reads version " +
                                                   std::to_string(kCheckpointVersion) + ")");
  const std::uint32_t head_len = get_u32(bytes, sizeof kMagic + 4);
  require_input(head_len <= bytes.size() - fixed - 4, path + ": truncated checkpoint (header)");
  // The checksum covers everything, so check it before trusting any field.
  const std::size_t body = bytes.size() - 4;
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(bytes.substr(fixed, head_len));
  } catch (const nlohmann::json::exception&) {
    require_input(crc_of(bytes.data(), body) == get_u32(bytes, body),
                  path + ": checksum mismatch (the file is corrupted or truncated)");
    throw InputError(path + ": unreadable checkpoint header");
  }
  TrainingState s;
  std::size_t n_params = 0, n_state = 0;
  try {
    n_params = h.at("params").get<std::size_t>();
    n_state = h.at("optimizer_state").get<std::size_t>();
    require_input(n_params < (std::size_t{1} << 34) && n_state < (std::size_t{1} << 35),
                  path + ": implausible sizes");
    const std::size_t expected = fixed + head_len + (n_params + n_state) * sizeof(float) + 4;
    require_input(bytes.size() >= expected, path + ": truncated checkpoint (" + std::to_string(bytes.size()) +
                                                " of " + std::to_string(expected) + " bytes)");
    require_input(bytes.size() == expected, path + ": unexpected bytes after the checkpoint data");
    require_input(crc_of(bytes.data(), body) == get_u32(bytes, body),
                  path + ": checksum mismatch (the file is corrupted)");
    s.sizes = h.at("sizes").get<std::vector<int>>();
    s.optimizer = h.at("optimizer").get<std::string>();
    s.optimizer_steps = h.at("optimizer_steps").get<long>();
    s.epoch = h.at("epoch").get<int>();
    s.next_batch = h.at("next_batch").get<std::size_t>();
    s.steps = h.at("steps").get<long>();
    const auto& st = h.at("epoch_stats");
    s.epoch_stats.loss_sum = st.at("loss_sum").get<double>();
    s.epoch_stats.correct = st.at("correct").get<std::size_t>();
    s.epoch_stats.samples = st.at("samples").get<std::size_t>();
    s.config = h.at("config");
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": invalid checkpoint header: " + e.what());
  }
  require_input(s.epoch >= 1 && s.steps >= 0 && s.optimizer_steps >= 0,
                path + ": invalid checkpoint position");
  s.params.resize(n_params);
  s.optimizer_state.resize(n_state);
  const char* data = bytes.data() + fixed + head_len;
  std::memcpy(s.params.data(), data, n_params * sizeof(float));
  std::memcpy(s.optimizer_state.data(), data + n_params * sizeof(float), n_state * sizeof(float));
  return s;
}

void check_resumable(const TrainingState& s, const std::vector<int>& sizes, const std::string& optimizer,
                     const nlohmann::json& config) {
  auto join = [](const std::vector<int>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) out.append(i ? "-" : "").append(std::to_string(v[i]));
    return out;
  };
  require_input(s.sizes == sizes, "--resume: the checkpoint is for the network " + join(s.sizes) +
                                      ", this run builds " + join(sizes) + " (check --hidden)");
  require_input(s.optimizer == optimizer, "--resume: the checkpoint was written with --optimizer " +
                                              s.optimizer + ", this run uses " + optimizer);
  for (const auto& [key, value] : config.items()) {
    require_input(s.config.contains(key) && s.config.at(key) == value,
                  "--resume: the checkpoint was written with " + key + " = " +
                      (s.config.contains(key) ? s.config.at(key).dump() : std::string("(none)")) +
                      ", this run has " + value.dump());
  }
}

}  // namespace ptt
