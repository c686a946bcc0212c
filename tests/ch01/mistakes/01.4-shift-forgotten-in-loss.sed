# file: common/src/layers.cpp
# todo: 01.4
# mistake: the exponentials are shifted by the maximum but the loss is not: -log p_y is off by max z
s/loss += std::log(sum) - (logits(i, y) - zmax);/loss += std::log(sum) - logits(i, y);/
