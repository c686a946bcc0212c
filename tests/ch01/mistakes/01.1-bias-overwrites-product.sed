# file: common/src/layers.cpp
# todo: 01.1
# mistake: '=' for '+=': every row becomes b^T and the product X W^T is lost
s/Y.rowwise() += b.transpose();/Y.rowwise() = b.transpose();/
