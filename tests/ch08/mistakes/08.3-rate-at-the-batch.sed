# file: solutions/ch08/cost_model.cpp
# todo: 08.3
# mistake: the rate looked up at the replica's rows (the batch over dp), not at one micro-batch's n rows
s|stage_compute_time(gemms, n, |stage_compute_time(gemms, rows, |
