// ptt/checksum.hpp — the parameter checksum that proves two runs ended with the same weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ptt {

/// @brief CRC-32 (zlib) over the bytes of a float32 buffer, as 8 lowercase hex digits.
/// Equal checksums mean bit-identical parameters (up to a 2^-32 chance of collision).
std::string param_checksum(std::span<const float> params);

/// @brief CRC-32 (zlib) of @p size bytes at @p data (checkpoint files use it too).
std::uint32_t crc32_bytes(const void* data, std::size_t size);

/// @brief The same CRC-32 as param_checksum(), as a number (to compare checksums without formatting them).
std::uint32_t param_crc32(std::span<const float> params);

}  // namespace ptt
