# file: solutions/ch05/balanced_partition.cpp
# todo: 05.2
# mistake: a cut's cost is the SUM of its parts instead of the largest part (every cut then costs the same, and the first one found wins)
s|const double cost = std::max(best\[k - 1\]\[c\], prefix\[n\] - prefix\[c\]);|const double cost = best[k - 1][c] + (prefix[n] - prefix[c]);|
