// The layers' split into pipeline stages (see partition.hpp).
#include "ch05/partition.hpp"

#include <string>

#include "ch05/balanced_partition.hpp"
#include "ptt/error.hpp"

namespace ptt::ch05 {

std::vector<int> partition_layers(const ParamLayout& layout, int stages) {
  const int L = layout.num_layers();
  require_input(stages >= 1, "--pp: must be at least 1, got " + std::to_string(stages));
  require_input(stages <= L,
                "--pp " + std::to_string(stages) + ": the MLP has only " + std::to_string(L) +
                    " layers, and each stage needs at least one (add hidden layers with --hidden)");
  std::vector<double> macs;  // each layer's multiply-adds, I * O: its cost
  for (int l = 0; l < L; ++l) macs.push_back(double(layout.layer(l).in) * double(layout.layer(l).out));
  return balanced_partition(macs, stages);  // [ch05] TODO(05.2)
}

}  // namespace ptt::ch05
