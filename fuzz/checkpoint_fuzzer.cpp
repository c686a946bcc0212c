// libFuzzer target: the checkpoint reader must refuse any damaged or hostile file with an
// InputError — never crash, read out of bounds or allocate without limit.
// Run: scripts/fuzz.sh [seconds]
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "ptt/checkpoint.hpp"
#include "ptt/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = memfd_create("ckpt", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    return 0;
  }
  try {
    const ptt::TrainingState s = ptt::load_checkpoint("/proc/self/fd/" + std::to_string(fd));
    if (s.epoch < 1 || s.steps < 0) __builtin_trap();  // the reader's promise
  } catch (const ptt::InputError&) {
  }
  close(fd);
  return 0;
}
