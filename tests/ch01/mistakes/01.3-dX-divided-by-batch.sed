# file: common/src/layers.cpp
# todo: 01.3
# mistake: dX is divided by the batch size, although dY already carries the 1/B of the mean loss
s/dX->noalias() = dY \* W;/dX->noalias() = dY * W \/ static_cast<float>(X.rows());/
