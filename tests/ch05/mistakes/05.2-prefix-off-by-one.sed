# file: solutions/ch05/balanced_partition.cpp
# todo: 05.2
# mistake: a run's cost is taken one item short (prefix[n - 1] - prefix[c]), so the last item of every part is free
s|const double cost = std::max(best\[k - 1\]\[c\], prefix\[n\] - prefix\[c\]);|const double cost = std::max(best[k - 1][c], prefix[n - 1] - prefix[c]);|
