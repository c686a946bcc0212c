# file: solutions/ch06/grid.cpp
# todo: 06.1
# mistake: the colour is the rank's own grid point (the axis's coordinate is not set to 0), so every group holds one rank
/(axis == Axis::Dp ? origin.dp : axis == Axis::Pp ? origin.pp : origin.tp) = 0;/d
