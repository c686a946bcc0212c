# file: solutions/ch07/model_average.cpp
# todo: 07.2
# mistake: the allreduce takes MPI_MAX instead of MPI_SUM
s/MPI_SUM/MPI_MAX/
