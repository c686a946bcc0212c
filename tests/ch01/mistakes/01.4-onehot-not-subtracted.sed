# file: common/src/layers.cpp
# todo: 01.4
# mistake: the gradient is softmax(z), the one-hot label is never subtracted
/p(y) -= 1.0f;/d
