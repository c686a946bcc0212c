# file: solutions/ch06/grid.cpp
# todo: 06.1
# mistake: MPI_Comm_split's colour and key swapped: the ranks are grouped by their own coordinate along the axis instead of by the other two
s|MPI_Comm_split(world, grid_rank(grid, origin), me.along(axis), &comm)|MPI_Comm_split(world, me.along(axis), grid_rank(grid, origin), \&comm)|
