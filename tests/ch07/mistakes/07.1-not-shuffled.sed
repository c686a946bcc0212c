# file: solutions/ch07/stratified_split.cpp
# todo: 07.1
# mistake: the samples of each class are dealt in index order, never shuffled: the seed changes nothing
/std::shuffle(samples.begin(), samples.end(), rng);/d
