// libFuzzer target: the IDX reader must refuse any malformed input with an InputError — never
// crash, hang, read out of bounds or allocate without limit. Inputs are gzip or plain files.
// Run: scripts/fuzz.sh [seconds]
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "ptt/error.hpp"
#include "ptt/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The reader takes a path: give it an in-memory file (no disk traffic per input).
  const int fd = memfd_create("idx", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    return 0;
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (int ndims : {1, 3}) {
    try {
      const ptt::IdxArray a = ptt::read_idx(path, ndims);
      std::uint64_t n = 1;
      for (auto d : a.dims) n *= d;
      if (n != a.data.size()) __builtin_trap();  // the reader's promise
    } catch (const ptt::InputError&) {
    }
  }
  close(fd);
  return 0;
}
