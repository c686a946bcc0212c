# file: common/src/layers.cpp
# todo: 01.2
# mistake: db is accumulated row by row without being zeroed first, so it adds to whatever it held
/db.setZero();/d
