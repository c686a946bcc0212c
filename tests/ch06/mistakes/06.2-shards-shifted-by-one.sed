# file: solutions/ch06/zero.cpp
# todo: 06.2
# mistake: the displacements are off by one (every shard placed one float later in the all-gather but the last one), so updated values land next to where they belong
s|displs\[static_cast<std::size_t>(r)\] = static_cast<int>(s.begin);|displs[static_cast<std::size_t>(r)] = static_cast<int>(s.begin) + (r + 1 < ranks \&\& s.size() > 0 ? 1 : 0);|
