# file: solutions/ch08/compute_time.cpp
# todo: 08.3
# mistake: no clamping: beyond the table, the end segments' lines are extended (to zero or below for small rows)
/if (rows <= r.front()) return f.front();/d
/if (rows >= r.back()) return f.back();/d
s|const std::size_t hi = static_cast<std::size_t>(std::upper_bound(r.begin(), r.end(), rows) - r.begin());|const std::size_t hi = std::clamp<std::size_t>(static_cast<std::size_t>(std::upper_bound(r.begin(), r.end(), rows) - r.begin()), 1, r.size() - 1);|
