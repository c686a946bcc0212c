#include "ptt/checksum.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>

namespace ptt {

std::string param_checksum(std::span<const float> params) {
  const auto* bytes = reinterpret_cast<const Bytef*>(params.data());
  std::size_t left = params.size_bytes();
  uLong crc = crc32(0L, Z_NULL, 0);
  while (left > 0) {  // crc32() takes a uInt length: feed large buffers in pieces
    const auto n = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
    crc = crc32(crc, bytes, n);
    bytes += n;
    left -= n;
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(crc));
  return hex;
}

}  // namespace ptt
