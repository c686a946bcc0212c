# file: common/src/layers.cpp
# todo: 01.1
# mistake: the bias is never added: Y = X W^T
/Y.rowwise() += b.transpose();/d
