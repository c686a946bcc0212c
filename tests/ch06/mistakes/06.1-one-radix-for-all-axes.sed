# file: solutions/ch06/grid.cpp
# todo: 06.1
# mistake: every digit is taken modulo the tp extent instead of its own axis's extent
s|const int digit = rest % grid.extent(axis);|const int digit = rest % grid.tp;|
s|rest /= grid.extent(axis);|rest /= grid.tp;|
