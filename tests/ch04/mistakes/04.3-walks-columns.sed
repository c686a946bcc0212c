# file: solutions/ch04/bias_activation.cu
# todo: 04.3
# mistake: thread k takes element (k % rows, k / rows): every value right, but a warp's lanes are cols floats apart (not coalesced)
s|for (std::size_t i = thread; i < n; i += threads) {|for (std::size_t k = thread; k < n; k += threads) {\n    const std::size_t i = k % static_cast<std::size_t>(rows) * width + k / static_cast<std::size_t>(rows);|
