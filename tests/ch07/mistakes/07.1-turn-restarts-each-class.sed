# file: solutions/ch07/stratified_split.cpp
# todo: 07.1
# mistake: the turn restarts at rank 0 for every class: per class fine, but the first ranks collect the remainders of every class
/std::size_t next = 0;/d
/std::shuffle(samples.begin(), samples.end(), rng);/a\
    std::size_t next = 0;
