// ptt/rng.hpp — seeded random numbers, one independent stream per purpose.
//
// Every random choice in the project (weight init, shuffling, synthetic data) draws from a
// generator made from (seed, purpose, index), so adding a new random draw in one place never
// shifts the numbers drawn elsewhere, and any worker can make the same stream on its own.
#pragma once

#include <cstdint>
#include <random>

namespace ptt {

/// What a random stream is used for; part of its seed.
enum class RngPurpose : std::uint64_t { Init = 1, Shuffle = 2, Synthetic = 3, Test = 4 };

/// @brief A generator for (seed, purpose, index), e.g. (seed, Shuffle, epoch).
/// @return std::mt19937_64 seeded with a SplitMix64 mix of the three numbers.
std::mt19937_64 make_rng(std::uint64_t seed, RngPurpose purpose, std::uint64_t index = 0);

}  // namespace ptt
