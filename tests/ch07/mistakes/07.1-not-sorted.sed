# file: solutions/ch07/stratified_split.cpp
# todo: 07.1
# mistake: each rank's indices are left in dealing order, not sorted
/for (auto& s : shards) std::sort(s.begin(), s.end());/d
