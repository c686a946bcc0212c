# file: common/src/layers.cpp
# todo: 01.1
# mistake: the bias is subtracted instead of added: Y = X W^T - 1 b^T
s/Y.rowwise() += b.transpose();/Y.rowwise() -= b.transpose();/
