#!/usr/bin/env python3
"""Chapter 05 benchmark: model parallelism, in one run.

1. ch05_pipeline_bench: the pipeline bubble measured against (p-1)/(m+p-1) for p = 2..4 and
   m = 1..16, on balanced synthetic stages and on the real MLP, and the activations each stage
   holds (GPipe against 1F1B). It prints its own tables.
2. samples/s of the trainers on the same MLP, next to chapters 01 and 02:
       ch01 serial, ch02 --threads 2, ch05 --tp 2, ch05 --pp 2 (GPipe and 1F1B, 4 micro-batches)
   for 784-256-128-10 at batch 128 and 784-1024-1024-10 at batch 256 (SGD lr 0.01, momentum 0.9).
   Runs of one repeat are interleaved so that all variants share the machine's noise; we report
   medians and the min-max spread. There is no PyTorch row: PyTorch 1.13 (Debian) has no tensor
   parallelism, and its pipeline (torch.distributed.pipeline.sync.Pipe) runs one worker thread per
   device, so on a CPU its stages never overlap (chapters 03 and 06 measure PyTorch's DDP).

Run it as:  python3 scripts/bench_ch05.py [--build build/release] [--repeats 3] [--json out.json]
(`./tutorial bench 05 --record` writes chapters/05_model_parallel/results.json, whose tables
scripts/ch05_tables.py puts into the README).
--quick: fewer steps and one repeat (a smoke test). Exit codes: 0 done, 2 missing binary or
data, 1 a child failed otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import bench_ch01  # same folder: the child runner and report helpers
from bench_ch01 import machine_info, run_child, spread

CONFIGS = [("256,128", 128, 400), ("1024,1024", 256, 40)]  # hidden, batch, timed steps
VARIANTS = [("ch01 serial", "ch01", []),
            ("ch02 --threads 2", "ch02", ["--threads", "2"]),
            ("ch05 --tp 2", "ch05", ["--tp", "2"]),
            ("ch05 --pp 2 --microbatches 4 (GPipe)", "ch05", ["--pp", "2", "--microbatches", "4", "--schedule", "gpipe"]),
            ("ch05 --pp 2 --microbatches 4 (1F1B)", "ch05", ["--pp", "2", "--microbatches", "4", "--schedule", "1f1b"])]


def fail(code, message):
    print(f"bench_ch05: {message}", file=sys.stderr)
    sys.exit(code)


bench_ch01.fail = fail


def main():
    parser = argparse.ArgumentParser(description="Chapter 05 (model parallel) benchmark.")
    parser.add_argument("--build", default="build/release", help="the CMake build folder")
    parser.add_argument("--repeats", type=int, default=None, help="runs per variant (default 3; 1 with --quick)")
    parser.add_argument("--json", metavar="FILE", help="write every sample and machine info")
    parser.add_argument("--data-dir", help="passed to the trainers")
    parser.add_argument("--quick", action="store_true", help="fewer steps, one repeat: smoke test")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    exe = {"ch01": f"{args.build}/chapters/01_serial/ch01_serial",
           "ch02": f"{args.build}/chapters/02_openmp_data_parallel/ch02_openmp",
           "ch05": f"{args.build}/chapters/05_model_parallel/ch05_model_parallel",
           "bench": f"{args.build}/chapters/05_model_parallel/ch05_pipeline_bench"}
    for name, path in exe.items():
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            fail(2, f"{name}: binary not found at {path} (build it, or pass --build DIR)")
    info = machine_info()
    print(f"machine: {info['cpu']}, {info['nproc']} cores; load average at start {info['loadavg_at_start']:.2f}")

    env = dict(os.environ, OMP_NUM_THREADS="1")
    bubble_json = os.path.join(tempfile.mkdtemp(prefix="ptt_bench05_"), "bubble.json")
    print("\n## 1. Pipeline bubble and activation memory\n")
    sys.stdout.flush()
    cmd = [exe["bench"], "--json", bubble_json] + (["--repeats", "2", "--microbatches", "1,4,16"] if args.quick else [])
    if subprocess.run(cmd, env=env).returncode != 0:
        fail(1, "ch05_pipeline_bench failed")
    with open(bubble_json) as f:
        bubble = json.load(f)

    print("\n## 2. Throughput next to chapters 01 and 02\n")
    samples = {(h, label): [] for h, _, _ in CONFIGS for label, _, _ in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "m.jsonl")
        for r in range(repeats):
            order = [(h, v) for h, _, _ in CONFIGS for v in VARIANTS]
            if r % 2:
                order.reverse()
            for hidden, (label, kind, flags) in order:
                batch, steps = next((b, s) for h, b, s in CONFIGS if h == hidden)
                steps = max(5, steps // 10) if args.quick else steps
                cmd = [exe[kind], "--hidden", hidden, "--batch-size", str(batch), "--lr", "0.01", "--momentum", "0.9",
                       "--epochs", "1", "--max-steps", str(steps), "--seed", "1", "--no-progress", "--metrics", metrics, *flags]
                if args.data_dir:
                    cmd += ["--data-dir", args.data_dir]
                # ch02 needs its threads; ours are std::threads and ignore OMP_NUM_THREADS.
                run_child(cmd, dict(env, OMP_NUM_THREADS="2" if kind == "ch02" else "1"))
                with open(metrics) as f:
                    records = [json.loads(line) for line in f if line.strip()]
                epoch = next(x for x in records if "epoch" in x and not x.get("final"))
                samples[(hidden, label)].append(epoch["samples_per_s"])
    rows = []
    for hidden, batch, _ in CONFIGS:
        print(f"#### 784-{hidden.replace(',', '-')}-10, batch {batch}\n")
        print("| variant | samples/s median (min-max) | vs ch01 |")
        print("|---|---:|---:|")
        base = spread(samples[(hidden, "ch01 serial")])["median"]
        for label, _, _ in VARIANTS:
            s = spread(samples[(hidden, label)])
            print(f"| {label} | {s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f}) | {s['median'] / base:.2f}x |")
            rows.append({"hidden": hidden, "batch": batch, "variant": label, **s, "vs_ch01": s["median"] / base})
        print()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "quick": args.quick, "repeats": repeats, "throughput": rows, "bubble": bubble}, f, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
