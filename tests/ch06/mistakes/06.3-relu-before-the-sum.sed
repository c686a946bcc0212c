# file: solutions/ch06/row_parallel.cpp
# todo: 06.3
# mistake: the ReLU is applied to each partial product before the all-reduce (a sum of ReLUs is not the ReLU of the sum)
/  if (relu) relu_forward(out);/d
s|out.noalias() = input \* layer.W.transpose();  // my partial product P_t|out.noalias() = input * layer.W.transpose();\n  if (relu) relu_forward(out);|
