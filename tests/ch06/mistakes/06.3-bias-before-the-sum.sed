# file: solutions/ch06/row_parallel.cpp
# todo: 06.3
# mistake: every rank adds the (replicated) bias to its partial product before the all-reduce, so the sum holds T biases
/out.rowwise() += layer.b.transpose();  \/\/ the bias once, after the sum/d
s|out.noalias() = input \* layer.W.transpose();  // my partial product P_t|out.noalias() = input * layer.W.transpose();\n  out.rowwise() += layer.b.transpose();|
