# file: solutions/ch06/row_parallel.cpp
# todo: 06.3
# mistake: the partial products are never summed: each rank keeps only its own slice's contribution
/^  PTT_MPI_CHECK($/,/MPI_FLOAT, MPI_SUM, tp));/c\
  (void)tp;
