#!/usr/bin/env python3
"""Chapter 02 benchmark: data parallelism with OpenMP threads, in one run.

Every run trains the same MLP the same way (SGD, lr 0.01, momentum 0.9, float32):

    784-256-128-10    at batch 128
    784-1024-1024-10  at batch 256

and we compare, at T = 1..N threads (N = the machine's cores, or --max-threads):

    ch01 serial                 the reference (one thread)
    ch02 fast                   one shard per thread, gradients summed in padded buffers
    ch02 --reduce owner         one shard per thread, no buffers: each thread computes its rows
                                of every weight gradient over the whole batch
    ch02 --deterministic        8 fixed shards, combined in index order: same bits for any T
    ch02 --intra-op             no data parallelism: ch01's loop, Eigen's GEMM on N threads
    ch02 --reduce atomic|critical  the naive shared-buffer reductions (wide MLP, N threads)
    PyTorch                     scripts/torch_mlp_peer.py on T threads

and print four Markdown tables: throughput, reductions, Amdahl (where the time per step
goes as T grows) and the cost of determinism. Each variant runs --repeats times; the
runs of one repeat are interleaved (forward order, then backward order on the next
repeat) so that all variants share the machine's noise; we report medians and the
spread (min-max). Only ratios from one run on one machine mean anything.

Run it as:  /usr/bin/python3 scripts/bench_ch02.py [--repeats 5] [--json out.json]
(/usr/bin/python3 because Debian's python3-torch lives there.) --quick: 10x fewer steps
and one repeat, for smoke tests. Exit codes: 0 done, 2 missing binary / torch / data,
1 a child failed otherwise.
"""
import argparse
import importlib.util
import json
import os
import shlex
import statistics
import sys
import tempfile

import bench_ch01  # same folder; we reuse its child runner and report helpers
from bench_ch01 import machine_info, run_child, spread

# (hidden widths, batch size, timed steps). A serial run takes ~1.5-2.5 s on a recent
# x86 core, threaded runs less; --quick divides the steps by 10.
CONFIGS = [("256,128", 128, 1000), ("1024,1024", 256, 50)]
WIDE = "1024,1024"
PHASES = ["data", "forward", "backward", "reduce", "update"]
# The phases that stay on one thread: only gathering the batch. The update is split across the
# threads (each updates the chunks it has just combined, DataParallel::finish_step), so it is not
# counted as serial; READMEs measured before this change print s = (data + update) / total.
SERIAL_PHASES = ["data"]
SPEEDUP_TARGET = 1.8  # ch02 fast at 2 threads vs ch01, on the wide MLP
LABELS = {"ch01": "ch01 serial", "fast": "ch02 fast", "det": "ch02 --deterministic",
          "intra-op": "ch02 --intra-op", "atomic": "ch02 --reduce atomic",
          "critical": "ch02 --reduce critical", "owner": "ch02 --reduce owner", "torch": "PyTorch"}


def fail(code, message):
    print(f"bench_ch02: {message}", file=sys.stderr)
    sys.exit(code)


bench_ch01.fail = fail  # run_child reports a failed child through fail(): name this script


def mlp_name(hidden, batch=None):
    name = f"784-{hidden.replace(',', '-')}-10"
    return f"{name}, batch {batch}" if batch else name


def plan(n):
    """The (hidden, kind, threads) runs of one repeat."""
    runs = []
    for hidden, _, _ in CONFIGS:
        runs.append((hidden, "ch01", 1))
        for kind in ("fast", "owner", "det", "torch"):
            runs += [(hidden, kind, t) for t in range(1, n + 1)]
        runs.append((hidden, "intra-op", n))
        if hidden == WIDE:
            runs += [(hidden, "atomic", n), (hidden, "critical", n)]
    return runs


def command(args, hidden, kind, threads, metrics):
    batch, steps = args.batch[hidden], args.steps[hidden]
    common = ["--hidden", hidden, "--batch-size", str(batch), "--lr", "0.01", "--momentum", "0.9"]
    if kind == "torch":
        return [sys.executable, bench_ch01.PEER, *common, "--steps", str(steps),
                "--warmup", str(max(2, steps // 50)), "--threads", str(threads)]
    cmd = [args.ch01 if kind == "ch01" else args.ch02, *common, "--optimizer", "sgd",
           "--epochs", "1", "--max-steps", str(steps), "--seed", "1", "--no-progress",
           "--metrics", metrics]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    if kind != "ch01":
        cmd += ["--threads", str(threads)]
    cmd += {"det": ["--deterministic"], "intra-op": ["--intra-op"],
            "atomic": ["--reduce", "atomic"], "critical": ["--reduce", "critical"],
            "owner": ["--reduce", "owner"]}.get(kind, [])
    return cmd


def measure(cmd, kind, threads, metrics):
    """Runs one child with OMP_NUM_THREADS=threads (nothing pinned) and returns
    {"samples_per_s", "ms_per_step": {phase: ...}} (phases for our binaries only).

    samples/s comes from the epoch record (training steps only); the phase times from
    the final record, which sums them over the run's training steps.
    """
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = run_child(cmd, env)
    if kind == "torch":  # the peer prints one JSON line
        info = json.loads(out.strip().splitlines()[-1])
        return {"samples_per_s": info["samples_per_s"], "peer": info}
    with open(metrics) as f:
        records = [json.loads(line) for line in f if line.strip()]
    epoch = next(r for r in records if "epoch" in r and not r.get("final"))
    final = next(r for r in records if r.get("final"))
    ms = {p: 1e3 * final["phase_seconds"].get(p, 0.0) / final["steps"] for p in PHASES}
    return {"samples_per_s": epoch["samples_per_s"], "ms_per_step": ms}


# The two micro-benchmarks beside ch02_openmp: one layer's GEMM split by samples or by neurons
# (three layer shapes), and false sharing. They print Markdown tables, which we keep as rows.
GEMM_SHAPES = [("the wide MLP's 1024x1024 layer, batch 256", []),
               ("the wide MLP's first layer", ["--batch", "256", "--inputs", "784", "--outputs", "1024"]),
               ("the small MLP's first layer", ["--batch", "128", "--inputs", "784", "--outputs", "256"])]


def markdown_rows(text):
    """The body rows of the first Markdown table in @p text, as lists of cell strings."""
    lines = [l.strip() for l in text.splitlines() if l.strip().startswith("|")]
    return [[c.strip() for c in l.strip("|").split("|")] for l in lines[2:]]


def kernel_tables(args, n):
    folder = os.path.dirname(args.ch02)
    env = dict(os.environ, OMP_NUM_THREADS=str(n))
    tables = []
    for name, flags in GEMM_SHAPES:
        cmd = [os.path.join(folder, "ch02_gemm_shape"), *flags] + (["--repeats", "5"] if args.quick else [])
        print(f"  {shlex.join(cmd)}", file=sys.stderr, flush=True)
        tables.append({"kind": "gemm_shape", "name": name, "command": shlex.join(cmd),
                       "header": ["way", "threads at once", "ms (min-max)", "GFLOP/s per thread",
                                  "serial ms / this ms"], "rows": markdown_rows(run_child(cmd, env))})
    cmd = [os.path.join(folder, "ch02_false_sharing")] + (["--iterations", "2000000"] if args.quick else [])
    print(f"  {shlex.join(cmd)}", file=sys.stderr, flush=True)
    tables.append({"kind": "false_sharing", "name": "false sharing", "command": shlex.join(cmd),
                   "header": ["threads", "packed (one line) ns/add", "padded (own line) ns/add", "slowdown"],
                   "rows": markdown_rows(run_child(cmd, env))})
    for t in tables:
        print(f"\n{t['kind']}: {t['name']} ({t['command']})\n")
        print("| " + " | ".join(t["header"]) + " |")
        for row in t["rows"]:
            print("| " + " | ".join(row) + " |")
    return tables


def cell(s):
    return f"{s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f})"


def main():
    parser = argparse.ArgumentParser(description="Chapter 02 (OpenMP data parallel) vs ch01 and PyTorch.")
    parser.add_argument("--repeats", type=int, default=None, help="runs per variant (default 5; 1 with --quick)")
    parser.add_argument("--max-threads", type=int, default=os.cpu_count(),
                        help="N: measure T = 1..N threads (default: os.cpu_count())")
    parser.add_argument("--json", metavar="FILE", help="write every sample, the tables and machine info")
    parser.add_argument("--ch01", default="build/release/chapters/01_serial/ch01_serial")
    parser.add_argument("--ch02", default="build/release/chapters/02_openmp_data_parallel/ch02_openmp")
    parser.add_argument("--data-dir", help="passed to ch01/ch02 (else $PTT_DATA_DIR or their default)")
    parser.add_argument("--no-kernels", action="store_true",
                        help="skip ch02_gemm_shape and ch02_false_sharing (next to --ch02)")
    parser.add_argument("--quick", action="store_true", help="10x fewer steps, one repeat: smoke test")
    args = parser.parse_args()
    repeats, n = args.repeats or (1 if args.quick else 5), max(1, args.max_threads)
    args.batch = {h: b for h, b, _ in CONFIGS}
    args.steps = {h: max(1, s // 10) if args.quick else s for h, _, s in CONFIGS}

    # Refuse early, with one line, if something cannot run at all.
    for flag, path in (("--ch01", args.ch01), ("--ch02", args.ch02)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            fail(2, f"binary not found at {path} (build it, or pass {flag} PATH)")
    if importlib.util.find_spec("torch") is None:
        fail(2, f"PyTorch cannot be imported by {sys.executable} (apt install python3-torch, "
                "and run this script with /usr/bin/python3)")

    machine = machine_info()
    tmp = tempfile.TemporaryDirectory(prefix="ptt-bench-ch02-")  # removed when we exit
    metrics = os.path.join(tmp.name, "run.jsonl")
    runs = plan(n)
    samples = {run: [] for run in runs}
    commands = {run: command(args, *run, metrics) for run in runs}
    print(f"running {repeats} x {len(runs)} runs, T = 1..{n} threads ...", file=sys.stderr, flush=True)
    for r in range(repeats):
        for i, run in enumerate(runs if r % 2 == 0 else runs[::-1]):  # interleaved, order alternates
            print(f"  repeat {r + 1}/{repeats}, run {i + 1}/{len(runs)}: {mlp_name(run[0])} "
                  f"{LABELS[run[1]]} T={run[2]}", file=sys.stderr, flush=True)
            samples[run].append(measure(commands[run], run[1], run[2], metrics))

    def sps(hidden, kind, t):
        return spread([m["samples_per_s"] for m in samples[(hidden, kind, t)]])

    def med(hidden, kind, t):
        return sps(hidden, kind, t)["median"]

    def ms(hidden, kind, t):  # median of each phase over the repeats, ms per step
        return {p: statistics.median(m["ms_per_step"][p] for m in samples[(hidden, kind, t)])
                for p in PHASES}

    # ---- the tables, as rows of numbers (printed below, and written with --json) ----------
    throughput, amdahl, determinism, reductions = [], [], [], []
    for hidden, batch, _ in CONFIGS:
        ch01 = med(hidden, "ch01", 1)
        rows = [("ch01", 1)] + [(k, t) for k in ("fast", "owner", "det") for t in range(1, n + 1)] \
            + [("intra-op", n)] + [("torch", t) for t in range(1, n + 1)]
        for kind, t in rows:
            s = sps(hidden, kind, t)
            throughput.append({"mlp": hidden, "batch": batch, "variant": kind, "threads": t,
                               "samples_per_s": s, "vs_ch01": s["median"] / ch01,
                               "vs_torch": s["median"] / med(hidden, "torch", t)})
        for kind in ("fast", "owner"):
            one = ms(hidden, kind, 1)
            s_frac = sum(one[p] for p in SERIAL_PHASES) / sum(one.values())
            for t in range(1, n + 1):
                measured = med(hidden, kind, t) / med(hidden, kind, 1)
                karp_flatt = (1 / measured - 1 / t) / (1 - 1 / t) if t > 1 else None
                amdahl.append({"mlp": hidden, "variant": kind, "threads": t, "ms_per_step": ms(hidden, kind, t),
                               "serial_fraction": s_frac, "predicted": 1 / (s_frac + (1 - s_frac) / t),
                               "measured": measured, "karp_flatt": karp_flatt})
        for t in range(1, n + 1):
            determinism.append({"mlp": hidden, "threads": t, "fast": med(hidden, "fast", t),
                                "det": med(hidden, "det", t),
                                "ratio": med(hidden, "det", t) / med(hidden, "fast", t)})
    for kind in ("fast", "owner", "atomic", "critical"):
        phase = ms(WIDE, kind, n)
        reductions.append({"reduce": "buffers" if kind == "fast" else kind, "threads": n,
                           "samples_per_s": sps(WIDE, kind, n),
                           "vs_buffers": med(WIDE, kind, n) / med(WIDE, "fast", n),
                           "backward_ms": phase["backward"], "reduce_ms": phase["reduce"]})

    targets = []  # stated for 2 cores, so checked at T = 2
    if n >= 2:
        for kind in ("fast", "owner"):
            ratio = med(WIDE, kind, 2) / med(WIDE, "ch01", 1)
            targets.append((f"{LABELS[kind]} at 2 threads >= {SPEEDUP_TARGET}x ch01 on {mlp_name(WIDE)}",
                            ratio, ratio >= SPEEDUP_TARGET))
            for hidden, _, _ in CONFIGS:
                ratio = med(hidden, kind, 2) / med(hidden, "torch", 2)
                targets.append((f"{LABELS[kind]} at 2 threads >= PyTorch at 2 threads on {mlp_name(hidden)}",
                                ratio, ratio >= 1.0))

    # ---- report: machine, commands, then the tables ----------------------------------------
    peer = samples[(WIDE, "torch", 1)][0]["peer"]  # torch version and BLAS, as the peer saw them
    machine.update(torch_version=peer["torch_version"], blas=peer["blas"], blas_libs=peer["blas_libs"])
    print(f"Machine: {machine['cpu']}, {machine['nproc']} cores, load average "
          f"{machine['loadavg_at_start']:.2f} at start, {machine['date']}")
    if machine["loadavg_at_start"] > 0.5:
        print(f"Note: the machine was busy at start (load {machine['loadavg_at_start']:.2f}): OpenMP threads "
              "spin while they wait for a descheduled peer, so multi-thread numbers can be far too low.")
    print(f"PyTorch {machine['torch_version']} with {machine['blas']}; peer data: {peer['data']}")
    omp_env = "".join(f", {k}={os.environ[k]}" for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND")
                      if k in os.environ)  # inherited by every child
    print(f"T = 1..{n} threads (OMP_NUM_THREADS=T{omp_env}, nothing pinned); {repeats} interleaved run(s) "
          f"per variant; SGD lr 0.01 momentum 0.9, float32; steps per run: "
          + ", ".join(f"{mlp_name(h)}: {args.steps[h]}" for h, _, _ in CONFIGS))
    print("Commands:")
    for run in runs:
        print(f"    OMP_NUM_THREADS={run[2]} {shlex.join(commands[run])}")

    for hidden, batch, _ in CONFIGS:
        print(f"\n### Throughput: {mlp_name(hidden, batch)}\n")
        print("| variant | threads | samples/s median (min-max) | speedup vs ch01 | vs PyTorch, same threads |")
        print("|---|---:|---:|---:|---:|")
        for row in (r for r in throughput if r["mlp"] == hidden):
            print(f"| {LABELS[row['variant']]} | {row['threads']} | {cell(row['samples_per_s'])} "
                  f"| {row['vs_ch01']:.2f}x | {row['vs_torch']:.2f}x |")
    print("\nTargets (stated for 2 cores):")
    for text, ratio, met in targets:
        print(f"- {text}: {ratio:.2f}x, {'met' if met else 'not met'}")
    if not targets:
        print("- not checked: they need 2 threads (--max-threads is 1)")

    print(f"\n### Reductions: {mlp_name(WIDE, args.batch[WIDE])}, {n} threads\n")
    print("| --reduce | samples/s median (min-max) | vs buffers | backward ms/step "
          "| reduce ms/step | backward + reduce ms/step |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in reductions:
        print(f"| {row['reduce']} | {cell(row['samples_per_s'])} | {row['vs_buffers']:.2f}x "
              f"| {row['backward_ms']:.3f} | {row['reduce_ms']:.3f} "
              f"| {row['backward_ms'] + row['reduce_ms']:.3f} |")
    print("\natomic and critical add into one shared buffer during the backward pass, so part of "
          "their reduction is timed as backward: compare the sums. owner has nothing to reduce: "
          "the sum over shards is the inner dimension of its weight-gradient products.")

    for (hidden, batch, _), kind in ((c, k) for c in CONFIGS for k in ("fast", "owner")):
        rows = [r for r in amdahl if r["mlp"] == hidden and r["variant"] == kind]
        print(f"\n### Amdahl: {mlp_name(hidden, batch)}, {LABELS[kind]}, serial fraction "
              f"s = ({' + '.join(SERIAL_PHASES)}) / total at T=1 = {rows[0]['serial_fraction']:.3f}\n")
        print("| threads | " + " | ".join(f"{p} ms" for p in PHASES)
              + " | total ms/step | predicted speedup | measured speedup | Karp-Flatt e |")
        print("|---:" * (len(PHASES) + 5) + "|")
        for row in rows:
            kf = "-" if row["karp_flatt"] is None else f"{row['karp_flatt']:.3f}"
            print(f"| {row['threads']} | " + " | ".join(f"{row['ms_per_step'][p]:.3f}" for p in PHASES)
                  + f" | {sum(row['ms_per_step'].values()):.3f} | {row['predicted']:.2f}x "
                  f"| {row['measured']:.2f}x | {kf} |")
        print(f"\nPredicted = 1/(s + (1-s)/T) if only {' and '.join(SERIAL_PHASES)} stayed serial; Karp-Flatt "
              "e = (1/S - 1/T)/(1 - 1/T) is the serial fraction the measured speedup S implies: "
              "e well above s means reduction, barriers or memory bandwidth cost more than the serial phases.")

    print("\n### The cost of determinism (8 fixed shards, combined in index order)\n")
    print("| MLP | threads | fast samples/s | deterministic samples/s | deterministic / fast |")
    print("|---|---:|---:|---:|---:|")
    for row in determinism:
        print(f"| {mlp_name(row['mlp'])} | {row['threads']} | {row['fast']:,.0f} "
              f"| {row['det']:,.0f} | {row['ratio']:.2f}x |")

    kernels = [] if args.no_kernels else kernel_tables(args, n)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "max_threads": n, "kernels": kernels, "repeats": repeats, "quick": args.quick,
                       "steps": args.steps, "runs": [
                           {"mlp": h, "variant": k, "threads": t, "env": {"OMP_NUM_THREADS": str(t)},
                            "command": shlex.join(commands[(h, k, t)]), "samples": samples[(h, k, t)]}
                           for h, k, t in runs],
                       "throughput": throughput, "targets": [
                           {"target": text, "ratio": ratio, "met": met} for text, ratio, met in targets],
                       "reductions": reductions, "amdahl": amdahl, "determinism": determinism},
                      f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
