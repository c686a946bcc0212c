# file: common/src/layers.cpp
# todo: 01.4
# mistake: softmax without subtracting the row maximum: exp() overflows to inf for large logits
s/p = (logits.row(i).array() - zmax).exp().matrix();/p = logits.row(i).array().exp().matrix();/
s/loss += std::log(sum) - (logits(i, y) - zmax);/loss += std::log(sum) - logits(i, y);/
