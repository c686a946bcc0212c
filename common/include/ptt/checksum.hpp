// ptt/checksum.hpp — the parameter checksum that proves two runs ended with the same weights.
#pragma once

#include <span>
#include <string>

namespace ptt {

/// @brief CRC-32 (zlib) over the bytes of a float32 buffer, as 8 lowercase hex digits.
/// Equal checksums mean bit-identical parameters (up to a 2^-32 chance of collision).
std::string param_checksum(std::span<const float> params);

}  // namespace ptt
