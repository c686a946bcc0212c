# file: solutions/ch02/parallel_gradient.cpp
# todo: 02.4
# mistake: the worksharing loops without the parallel region around them: one thread runs every shard and every chunk (right values, no parallelism)
/^#pragma omp parallel num_threads(threads)$/d
