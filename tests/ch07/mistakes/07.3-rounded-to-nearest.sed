# file: solutions/ch07/proportional_counts.cpp
# todo: 07.3
# mistake: each share rounded to the NEAREST whole number: the first ranks take too much and the last ones are starved to make the sum fit
s|counts\[k\] = std::min(n - given, static_cast<std::size_t>(scaled / total));|counts[k] = std::min(n - given, static_cast<std::size_t>(std::llround(scaled / total)));|
