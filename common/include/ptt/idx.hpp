// ptt/idx.hpp — the IDX file format of (Fashion-)MNIST, read with validation.
//
// An IDX file is: two zero bytes, a type byte (0x08 = unsigned byte), a byte giving the number of
// dimensions d, then d big-endian uint32 sizes, then the data, row-major. The files may be gzip
// compressed (.gz) or plain; zlib's gzread() reads both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ptt {

/// An IDX array of unsigned bytes: its dimensions and its data.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

/// @brief Reads an IDX file of unsigned bytes (gzip-compressed or plain).
/// @param path           the file.
/// @param expected_ndims the number of dimensions the caller needs (3 for images, 1 for labels).
/// @return the array; its data has exactly the product of its dimensions bytes.
/// @throws InputError naming the file if it cannot be opened, is not IDX (magic), has the wrong
///         element type or number of dimensions, is truncated, or has bytes after the data.
IdxArray read_idx(const std::string& path, int expected_ndims);

/// @brief Writes an IDX file of unsigned bytes, gzip-compressed when @p path ends in ".gz".
/// Used by tests and tools to make small data sets.
void write_idx(const std::string& path, const IdxArray& array);

}  // namespace ptt
