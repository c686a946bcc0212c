#include "ptt/checksum.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>

namespace ptt {

std::uint32_t crc32_bytes(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const Bytef*>(data);
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {  // crc32() takes a uInt length: feed large buffers in pieces
    const auto n = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = crc32(crc, bytes, n);
    bytes += n;
    size -= n;
  }
  return static_cast<std::uint32_t>(crc);
}

std::uint32_t param_crc32(std::span<const float> params) {
  return crc32_bytes(params.data(), params.size_bytes());
}

std::string param_checksum(std::span<const float> params) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(param_crc32(params)));
  return hex;
}

}  // namespace ptt
