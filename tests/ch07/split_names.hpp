// The test-name suffix of each split, for the parameterized tests of splits_test.cpp and
// uneven_step_test.cpp (gtest names allow letters, digits and underscores only).
#pragma once

#include <string>

#include "ch07/splits.hpp"

namespace ptt::ch07::testing {

inline std::string split_test_name(SplitKind kind) {
  switch (kind) {
    case SplitKind::Random:
      return "random";
    case SplitKind::ByClass:
      return "by_class";
    case SplitKind::Dirichlet:
      return "dirichlet";
    case SplitKind::Stratified:
      return "stratified";
  }
  return "unknown";
}

}  // namespace ptt::ch07::testing
