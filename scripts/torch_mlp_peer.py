#!/usr/bin/env python3
"""PyTorch peer for the benchmarks: the same MLP, trained the same way.

Builds 784-H1-...-10 from nn.Linear layers with ReLU between them, trains it with
CrossEntropyLoss and SGD with momentum in float32 on T threads, and prints ONE JSON
line on stdout:

    {"samples_per_s": ..., "threads": ..., "torch_version": ..., "blas": ..., ...}

The data is SYNTHETIC (standard normal 60000x784 images, uniform labels 0..9): the
speed of a dense MLP does not depend on the pixel values, and this keeps the peer
free of file formats. Each step gathers a batch from a shuffled permutation, like
chapter 01 does. The first --warmup steps are not timed.

Debian's python3-torch calls whatever libblas.so.3 the system selects. With the
reference (netlib) BLAS it is 13-20x slower, which would make any comparison unfair,
so we look up which BLAS the process really loaded and warn on stderr if it is the
reference one. OpenBLAS's kernels are chosen from the CPU's flags when it cannot recognise the
CPU (pick_openblas_core below).

--ddp P trains with DistributedDataParallel instead: P processes (gloo backend, TCP on
127.0.0.1, one thread each), each taking its 1/P of every global batch of --batch-size
samples, the gradients all-reduced during the backward pass (PyTorch's buckets) — the peer of
chapter 03's and chapter 06's data parallelism on the same global batch. samples_per_s then
counts the global batch.
Run it as: /usr/bin/python3 scripts/torch_mlp_peer.py --help
"""
import argparse
import json
import os
import re
import sys
import time



def pick_openblas_core():
    """OpenBLAS chooses its kernels by the CPU model. A virtual machine that hides the model
    ("Intel(R) Xeon(R) Processor") makes it fall back to its generic 'Prescott' kernels (SSE3, no
    AVX), 2-4x slower on the same core, which would make PyTorch an unfair peer. Unless the caller
    chose (OPENBLAS_CORETYPE), pick the kernels from the CPU's flags. Must run before torch loads
    OpenBLAS."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return os.environ["OPENBLAS_CORETYPE"] + " (given)"
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), []))
    except OSError:
        return "auto"
    core = "SkylakeX" if "avx512f" in flags else "Haswell" if "avx2" in flags else None
    if core:
        os.environ["OPENBLAS_CORETYPE"] = core
        return core + " (from the CPU flags)"
    return "auto"


OPENBLAS_CORE = pick_openblas_core()

import torch  # noqa: E402 (after OPENBLAS_CORETYPE is set)
from torch import nn  # noqa: E402


def loaded_blas_libraries():
    """Paths of BLAS-like shared libraries mapped into this process (Linux only)."""
    pattern = re.compile(r"(blas|blis|mkl|atlas)", re.IGNORECASE)
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and pattern.search(os.path.basename(fields[5])):
                    if fields[5] not in paths:
                        paths.append(fields[5])
    except OSError:
        pass
    return paths


def describe_blas(paths):
    """One short name for the BLAS behind `paths`, e.g. 'OpenBLAS (openblas-openmp)'."""
    for path in paths:
        if "openblas" in path:
            variant = os.path.basename(os.path.dirname(path))  # openblas-openmp / -pthread / -serial
            return f"OpenBLAS ({variant})" if variant.startswith("openblas") else "OpenBLAS"
    for key, name in (("blis", "BLIS"), ("mkl", "MKL"), ("atlas", "ATLAS")):
        if any(key in p for p in paths):
            return name
    if any(p.endswith("/blas/libblas.so.3") for p in paths):
        return "reference BLAS (netlib, package libblas3)"
    return "unknown" if paths else "none found"


def build_info_blas():
    """The BLAS that PyTorch was built against, as torch.__config__.show() reports it."""
    match = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return match.group(1) if match else "?"


def make_mlp(sizes):
    """784-H1-...-10: Linear layers with ReLU between them (none after the last)."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", default="256,128", help="hidden widths, e.g. 256,128")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=500, help="timed optimizer steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before timing")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ddp", type=int, default=1,
                        help="DistributedDataParallel over P processes (gloo), each with 1/P of the batch")
    args = parser.parse_args()

    if args.ddp > 1:
        if args.batch_size % args.ddp:
            parser.error(f"--batch-size {args.batch_size} must be a multiple of --ddp {args.ddp}")
        import torch.multiprocessing as mp
        import socket
        import tempfile
        with socket.socket() as sock:  # a free port for the rendezvous
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with tempfile.NamedTemporaryFile(mode="r", suffix=".json") as out:
            mp.spawn(train, args=(args, port, out.name), nprocs=args.ddp, join=True)
            print(out.read().strip())
    else:
        train(0, args, None, None)


def train(rank, args, port, out_path):
    """Trains on one process; with --ddp, rank `rank` of args.ddp (rank 0 reports)."""
    world = max(args.ddp, 1)
    # One thread means one thread everywhere: intra-op (OpenMP, and OpenBLAS-openmp
    # follows it) and inter-op. OMP_NUM_THREADS should also be set by the caller.
    torch.set_num_threads(args.threads)
    if world == 1:
        torch.set_num_interop_threads(args.threads)
    torch.manual_seed(args.seed)

    sizes = [784] + [int(h) for h in args.hidden.split(",") if h] + [10]
    n_train = 60000
    images = torch.randn(n_train, 784, dtype=torch.float32)
    labels = torch.randint(0, 10, (n_train,))

    model = make_mlp(sizes)
    if world > 1:
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
        model = DistributedDataParallel(model)  # broadcasts rank 0's weights, buckets the all-reduce
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

    order = torch.randperm(n_train)  # the same on every rank: seeded alike
    cursor = 0
    local = args.batch_size // world

    def step():
        nonlocal order, cursor
        if cursor + args.batch_size > n_train:  # new epoch: reshuffle, drop the tail
            order, cursor = torch.randperm(n_train), 0
        idx = order[cursor + rank * local:cursor + (rank + 1) * local]  # my shard of the global batch
        cursor += args.batch_size
        x, y = images[idx], labels[idx]  # gather the batch, as chapter 01 does
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    if world > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - start
    if world > 1:
        dist.destroy_process_group()
    if rank != 0:
        return

    # After the matmuls above, the BLAS library is certainly mapped.
    blas_libs = loaded_blas_libraries()
    blas = describe_blas(blas_libs)
    if blas.startswith("reference"):
        print("warning: PyTorch is using the reference BLAS (libblas.so.3 from libblas3), "
              "13-20x slower than OpenBLAS; the comparison is unfair. "
              "Install libopenblas0-openmp.", file=sys.stderr)

    result = json.dumps({
        "samples_per_s": args.steps * args.batch_size / seconds,
        "seconds": seconds,
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "batch_size": args.batch_size,
        "ddp_processes": world,
        "sizes": sizes,
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "blas": blas,
        "openblas_coretype": OPENBLAS_CORE,
        "blas_build_info": build_info_blas(),
        "blas_libs": blas_libs,
        "data": f"synthetic: standard normal {n_train}x784 float32, random labels",
    })
    if out_path:
        with open(out_path, "w") as f:
            f.write(result)
    else:
        print(result)


if __name__ == "__main__":
    main()
