# file: solutions/ch06/grid.cpp
# todo: 06.1
# mistake: grid_coords reads the digits in the wrong order (the outermost axis varies fastest), while grid_rank keeps the order of the contract
s|for (Axis axis : grid.order) {  // innermost digit first|for (auto it = grid.order.rbegin(); it != grid.order.rend(); ++it) {\n    const Axis axis = *it;|
