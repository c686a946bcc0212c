#include "ptt/metrics_log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ptt/error.hpp"

namespace ptt {

MetricsLog::MetricsLog(std::string path, std::string flag) : path_(std::move(path)), flag_(std::move(flag)) {
  if (path_.empty()) return;
  temp_path_ = path_ + ".partial-" + std::to_string(::getpid());
  file_ = std::fopen(temp_path_.c_str(), "w");
  require_input(file_ != nullptr, flag_ + " " + path_ + ": cannot write: " + std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file_ != nullptr) {  // never committed: the run did not finish, leave nothing behind
    std::fclose(file_);
    std::remove(temp_path_.c_str());
  }
}

void MetricsLog::write(const nlohmann::json& record) {
  if (file_ == nullptr) return;
  const std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size())
    throw std::runtime_error(flag_ + " " + path_ + ": write failed: " + std::strerror(errno));
}

void MetricsLog::commit() {
  if (file_ == nullptr) return;
  const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  std::fclose(file_);
  file_ = nullptr;
  if (!ok || std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp_path_.c_str());
    throw std::runtime_error(flag_ + " " + path_ + ": cannot finish writing: " + reason);
  }
}

}  // namespace ptt
