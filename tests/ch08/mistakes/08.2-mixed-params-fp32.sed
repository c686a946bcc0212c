# file: solutions/ch08/memory.cpp
# todo: 08.2
# mistake: mixed precision keeps 4-byte parameters (the master copy counted twice)
s|const double param_bytes = mixed ? 2.0 : 4.0;|const double param_bytes = 4.0;|
