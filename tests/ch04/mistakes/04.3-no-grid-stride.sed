# file: solutions/ch04/bias_activation.cu
# todo: 04.3
# mistake: each thread handles only its first element, so a grid with fewer threads than Y has elements leaves the rest undone
s|for (std::size_t i = thread; i < n; i += threads) {|if (const std::size_t i = thread; i < n) {|
