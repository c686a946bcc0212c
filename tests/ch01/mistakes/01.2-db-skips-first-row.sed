# file: common/src/layers.cpp
# todo: 01.2
# mistake: off by one: the column sums of dY start at row 1, so sample 0 never reaches db
s/for (Eigen::Index i = 0; i < dY.rows(); ++i) db +=/for (Eigen::Index i = 1; i < dY.rows(); ++i) db +=/
