# file: solutions/ch06/zero.cpp
# todo: 06.2
# mistake: the all-gather is left out: each rank's parameters outside its own shard are never updated
/^  PTT_MPI_CHECK($/,/MPI_FLOAT, dp));/d
