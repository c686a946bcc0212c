#!/usr/bin/env python3
"""Chapter 06 benchmark: the grid's throughput, traffic and memory, in one run.

1. samples/s of chapter 01 and of ch06_hybrid on grids of 1, 2 and 4 ranks, for 784-256-128-10
   at (global) batch 128 and 784-1024-1024-10 at batch 256 (SGD lr 0.01, momentum 0.9), next to
   PyTorch on one process and PyTorch's DistributedDataParallel on 2 processes (gloo;
   scripts/torch_mlp_peer.py --ddp 2), the peer of dp 2. Runs of one repeat are interleaved so all variants share the machine's noise;
   medians and the min-max spread are reported. A grid of more ranks than cores is oversubscribed:
   its ranks take turns on the cores, which the table shows separately ("per core").
2. per-rank traffic of each group in one step, measured (the bytes handed to MPI) beside the
   formula, from the runs' final metrics records;
3. per-rank memory (parameters, gradients, optimizer state, activations, buffers) with Adam for
   ZeRO 0 and 1 at dp 1, 2 and 4, measured beside the formula.

Run it as:  /usr/bin/python3 scripts/bench_ch06.py [--build build/release] [--repeats 3] [--json FILE]
--quick: fewer steps and one repeat (a smoke test). The README's tables come from the JSON through
scripts/ch06_tables.py. Exit codes: 0 done, 2 missing binary or data, 1 a child failed otherwise.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import bench_ch01  # same folder: the child runner and report helpers
from bench_ch01 import machine_info, run_child, spread

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = [("256,128", 128, 300), ("1024,1024", 256, 40)]  # hidden, global batch, timed steps
# (label, ranks, flags); ranks 0 is chapter 01 itself.
VARIANTS = [("ch01 serial", 0, []),
            ("grid 1x1x1", 1, []),
            ("dp 2", 2, ["--dp", "2"]),
            ("dp 2, ZeRO-1", 2, ["--dp", "2", "--zero", "1"]),
            ("tp 2", 2, ["--tp", "2"]),
            ("pp 2, m 4, 1F1B", 2, ["--pp", "2", "--microbatches", "4"]),
            ("dp 4", 4, ["--dp", "4"]),
            ("dp 2 x tp 2", 4, ["--dp", "2", "--tp", "2"]),
            ("dp 2 x pp 2, m 4", 4, ["--dp", "2", "--pp", "2", "--microbatches", "4"]),
            ("pp 2 x tp 2, m 4", 4, ["--pp", "2", "--tp", "2", "--microbatches", "4"])]
PEER = "PyTorch DDP, 2 processes (gloo)"
PEER1 = "PyTorch, 1 process"


def fail(code, message):
    print(f"bench_ch06: {message}", file=sys.stderr)
    sys.exit(code)


bench_ch01.fail = fail


def records_of(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser(description="Chapter 06 (hybrid grid) benchmark.")
    parser.add_argument("--build", default="build/release", help="the CMake build folder")
    parser.add_argument("--repeats", type=int, default=None, help="runs per variant (default 3; 1 with --quick)")
    parser.add_argument("--json", metavar="FILE", help="write every sample, the traffic and memory tables")
    parser.add_argument("--data-dir", help="passed to the trainers")
    parser.add_argument("--mpiexec", default="mpiexec")
    parser.add_argument("--quick", action="store_true", help="fewer steps, one repeat: smoke test")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    exe = {"ch01": f"{args.build}/chapters/01_serial/ch01_serial",
           "ch06": f"{args.build}/chapters/06_hybrid/ch06_hybrid"}
    for name, path in exe.items():
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            fail(2, f"{name}: binary not found at {path} (build it, or pass --build DIR)")
    have_torch = importlib.util.find_spec("torch") is not None
    info = machine_info()
    cores = info["nproc"]
    print(f"machine: {info['cpu']}, {cores} cores; load average at start {info['loadavg_at_start']:.2f}")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if os.geteuid() == 0:  # OpenMPI refuses root, and more ranks than cores, unless told
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")

    variants = VARIANTS + ([(PEER1, -1, []), (PEER, -2, [])] if have_torch else [])
    if not have_torch:
        print("note: PyTorch cannot be imported (apt install python3-torch): no peer rows", file=sys.stderr)
    samples = {(h, v[0]): [] for h, _, _ in CONFIGS for v in variants}
    traffic, finals = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "m.jsonl")
        for r in range(repeats):
            order = [(c, v) for c in CONFIGS for v in variants]
            if r % 2:
                order.reverse()
            for (hidden, batch, steps), (label, ranks, flags) in order:
                steps = max(5, steps // 10) if args.quick else steps
                common = ["--hidden", hidden, "--batch-size", str(batch), "--lr", "0.01", "--momentum", "0.9"]
                if ranks < 0:  # the PyTorch peer: one process, or DDP on -ranks processes
                    cmd = [sys.executable, os.path.join(HERE, "torch_mlp_peer.py"), *common, "--steps", str(steps),
                           "--warmup", "3", "--ddp", str(-ranks)]
                    samples[(hidden, label)].append(json.loads(run_child(cmd, env))["samples_per_s"])
                    continue
                cmd = [*common, "--epochs", "1", "--max-steps", str(steps), "--seed", "1", "--no-progress",
                       "--metrics", metrics, *flags]
                if args.data_dir:
                    cmd += ["--data-dir", args.data_dir]
                if ranks == 0:
                    cmd = [exe["ch01"], *cmd]
                else:
                    cmd = [args.mpiexec, "-n", str(ranks), exe["ch06"], *cmd]
                run_child(cmd, env)
                recs = records_of(metrics)
                epoch = next(x for x in recs if "epoch" in x and not x.get("final"))
                samples[(hidden, label)].append(epoch["samples_per_s"])
                final = next(x for x in recs if x.get("final"))
                finals[(hidden, label)] = final
                if "accounts" in final:
                    traffic[(hidden, label)] = final["accounts"]

        # 3. memory with Adam, ZeRO 0 and 1 at dp 1, 2, 4 (a few steps: the buffers do not depend on time)
        memory = []
        for dp in (1, 2, 4):
            for zero in (0, 1):
                if dp == 1 and zero == 1:
                    continue  # ZeRO over one rank changes nothing
                cmd = [args.mpiexec, "-n", str(dp), exe["ch06"], "--hidden", "1024,1024", "--batch-size", "256",
                       "--optimizer", "adam", "--lr", "0.001", "--epochs", "1", "--max-steps", "3", "--no-progress",
                       "--metrics", metrics, "--dp", str(dp), "--zero", str(zero)]
                if args.data_dir:
                    cmd += ["--data-dir", args.data_dir]
                run_child(cmd, env)
                acc = next(x for x in records_of(metrics) if x.get("final"))["accounts"][0]
                memory.append({"dp": dp, "zero": zero, "measured": acc["measured"], "formula": acc["formula"]})

    rows = []
    for hidden, batch, _ in CONFIGS:
        print(f"\n#### 784-{hidden.replace(',', '-')}-10, global batch {batch}\n")
        print("| variant | ranks | samples/s median (min-max) | vs ch01 | per core used vs ch01 |")
        print("|---|---:|---:|---:|---:|")
        base = spread(samples[(hidden, "ch01 serial")])["median"]
        for label, ranks, _ in variants:
            s = spread(samples[(hidden, label)])
            n = abs(ranks) or 1
            used = min(n, cores)
            print(f"| {label} | {n} | {s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f}) | "
                  f"{s['median'] / base:.2f}x | {s['median'] / base / used:.2f} |")
            rows.append({"hidden": hidden, "batch": batch, "variant": label, "ranks": n, "cores_used": used,
                         **s, "vs_ch01": s["median"] / base})
    print("\n#### traffic per step, rank 0 of each grid, bytes: measured / formula\n")
    tables = []
    for hidden, batch, _ in CONFIGS:
        for label, ranks, _ in variants:
            if (hidden, label) not in traffic:
                continue
            for acc in traffic[(hidden, label)]:
                tables.append({"hidden": hidden, "batch": batch, "variant": label, "rank": acc["rank"],
                               "coords": [acc["dp"], acc["pp"], acc["tp"]], "measured": acc["traffic"],
                               "formula": acc["traffic_formula"]})
            a = traffic[(hidden, label)][0]
            print(f"784-{hidden.replace(',', '-')}-10 {label}: " + "  ".join(
                f"{g} {a['traffic'][g]:.0f}/{a['traffic_formula'][g]:.0f}" for g in ("tp", "pp", "dp")))
    print("\n#### memory per rank (rank 0), Adam, 784-1024-1024-10 at batch 256, bytes: measured / formula\n")
    for m in memory:
        print(f"dp {m['dp']} ZeRO {m['zero']}: " + "  ".join(
            f"{k} {m['measured'][k]:.0f}/{m['formula'][k]:.0f}" for k in m["measured"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "quick": args.quick, "repeats": repeats, "throughput": rows,
                       "traffic": tables, "memory": memory}, f, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
