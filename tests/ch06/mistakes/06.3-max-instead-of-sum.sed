# file: solutions/ch06/row_parallel.cpp
# todo: 06.3
# mistake: the group keeps the largest partial product (MPI_MAX) instead of their sum
s|MPI_FLOAT, MPI_SUM, tp)|MPI_FLOAT, MPI_MAX, tp)|
