# file: solutions/ch02/parallel_gradient.cpp
# todo: 02.4
# mistake: every shard's backward writes the same buffer (a data race between the threads), and the other buffers are combined unwritten
s/memory.workspaces\[k\], memory.buffers\[k\]);/memory.workspaces[k], memory.buffers[0]);/
