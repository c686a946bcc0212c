#!/usr/bin/env python3
"""Chapter 03 on two "hosts" of one machine: shared memory against a veth link (TCP).

The two hosts are network namespaces joined by a veth pair (scripts/two_hosts.sh): a veth link,
i.e. the kernel's TCP stack, not a wire. Both hosts share this machine's cores.

  1. ch03_allreduce_bench on 2 ranks: one host (shared memory) and 2 hosts x 1 slot (TCP):
     alpha and B from the ping-pong, MPI_Allreduce and ring time by size.
  2. ch03_mpi step time, 2 ranks, --allreduce mpi and bucketed, two MLPs, on: one host (shared
     memory), the veth link unlimited, and limited with tc tbf to 10 Gbit/s, 1 Gbit/s, 100 Mbit/s;
     with 0.1, 1 and 10 ms of delay (tc netem) where the kernel has netem, else one line saying so.

Ranks yield while they wait (OMPI_MCA_mpi_yield_when_idle=1), on both links: see two_hosts.sh.
Every result is one JSON line in --out (default chapters/03_mpi_data_parallel/results_two_hosts.jsonl);
the tables are printed in Markdown. Needs root (network namespaces).
Run it as:  python3 scripts/bench_ch03_hosts.py [--build build/release] [--repeats 3]
Exit codes: 0 done, 2 missing binary / bad usage, 77 namespaces cannot be created, 1 a run failed.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

from bench_ch01 import machine_info  # same folder

HERE = os.path.dirname(os.path.abspath(__file__))
TWO_HOSTS = os.path.join(HERE, "two_hosts.sh")
# (hidden, batch per rank, steps): the chapter's default MLP at global batch 128, and the wide one
# at global batch 512 (the targets of scripts/bench_ch03.py).
MLPS = [("256,128", 64, 100), ("1024,1024", 256, 30)]
LINKS = [("shared memory", None), ("veth", []), ("veth 10gbit", ["--rate", "10gbit"]),
         ("veth 1gbit", ["--rate", "1gbit"]), ("veth 100mbit", ["--rate", "100mbit"])]
DELAYS_MS = ["0.1", "1", "10"]
PHASES = ["data", "forward", "backward", "reduce", "update"]


def run(cmd, env):
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    if proc.returncode == 77:
        return None, proc.stderr.strip().splitlines()[-1]
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        print(f"bench_ch03_hosts: {shlex.join(cmd)} failed with exit {proc.returncode}", file=sys.stderr)
        sys.exit(1)
    return proc.stdout, None


def launcher(link_flags):
    return ["mpiexec", "-n", "2"] if link_flags is None else [TWO_HOSTS, *link_flags]


def print_tables(records):
    """The Markdown tables of chapter 03's README, from the records alone (--tables FILE)."""
    machine = next(r for r in records if r["kind"] == "machine")
    skipped_links = {r["link"]: r["reason"] for r in records if r["kind"] == "skipped"}
    allreduce = [r for r in records if r["kind"] == "allreduce"]
    links = list(dict.fromkeys(r["link"] for r in records if r["kind"] == "step"))
    # ---- tables ---------------------------------------------------------------------------------
    print(f"Machine: {machine['cpu']}, {machine['nproc']} cores (both hosts share them), "
          f"load {machine['loadavg_at_start']:.2f} at start, {machine['date']}\n")
    shm, tcp = (next(r for r in allreduce if r["link"] == link) for link in ("shared memory", "veth"))
    print("#### Allreduce: shared memory vs a veth link (TCP), 2 ranks\n")
    print("ch03_allreduce_bench: one host over shared memory, and 2 hosts over a veth link, i.e. the kernel's "
          "TCP stack, not a wire.\n")
    print("| link | alpha (ping-pong) | B (ping-pong) |\n|---|---:|---:|")
    for name, rec in (("one host, shared memory", shm), ("2 hosts, veth link (TCP)", tcp)):
        print(f"| {name} | {rec['alpha_s'] * 1e6:.1f} us | {rec['bandwidth_Bps'] / 1e9:.2f} GB/s |")
    print("\n| size | shared memory: MPI_Allreduce ms | ring ms | veth (TCP): MPI_Allreduce ms | ring ms "
          "| ring predicted by alpha-beta ms | measured / predicted |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for a, b in zip(shm["sizes"], tcp["sizes"]):
        size = f"{a['bytes'] >> 20} MB" if a["bytes"] >= 1 << 20 else f"{a['bytes'] >> 10} KB"
        print(f"| {size} | {a['mpi_s'] * 1e3:.3f} | {a['ring_s'] * 1e3:.3f} | {b['mpi_s'] * 1e3:.3f} "
              f"| {b['ring_s'] * 1e3:.3f} | {b['predicted_s'] * 1e3:.3f} | {b['ring_s'] / b['predicted_s']:.2f} |")
    for hidden, batch, steps in MLPS:
        runs = len(steps_samples(records, hidden))
        print(f"\n#### Step time by link: 784-{hidden.replace(',', '-')}-10, {batch} samples per rank, 2 ranks\n")
        print(f"ms per step, median of {runs} runs of {steps} steps; reduce = the wait for the allreduce.\n")
        print("| link | mpi: step | mpi: reduce | bucketed: step | bucketed: reduce | param_checksum |")
        print("|---|---:|---:|---:|---:|---|")
        for link in links:
            row = [r for r in records if r["kind"] == "step" and r["mlp"] == hidden and r["link"] == link]
            by = {r["allreduce"]: r for r in row}
            print(f"| {link} | {by['mpi']['step_ms_median']:.1f} | {by['mpi']['reduce_ms_median']:.1f} "
                  f"| {by['bucketed']['step_ms_median']:.1f} | {by['bucketed']['reduce_ms_median']:.1f} "
                  f"| {by['mpi']['samples'][0]['param_checksum']} |")
    if skipped_links:
        print(f"\nNot measured: {', '.join(skipped_links)}: {next(iter(skipped_links.values()))}")


def steps_samples(records, hidden):
    row = next(r for r in records if r["kind"] == "step" and r["mlp"] == hidden)
    return row["samples"]


def main():
    parser = argparse.ArgumentParser(description="Chapter 03 over a veth link (TCP) vs shared memory.")
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(HERE, "..", "chapters", "03_mpi_data_parallel",
                                                      "results_two_hosts.jsonl"))
    parser.add_argument("--tables", metavar="FILE", help="only print the tables of a results file")
    args = parser.parse_args()
    if args.tables:
        with open(args.tables) as f:
            print_tables([json.loads(line) for line in f if line.strip()])
        return
    chapter = os.path.join(args.build, "chapters", "03_mpi_data_parallel")
    ch03, bench = os.path.join(chapter, "ch03_mpi"), os.path.join(chapter, "ch03_allreduce_bench")
    for path in (ch03, bench):
        if not os.access(path, os.X_OK):
            print(f"bench_ch03_hosts: binary not found at {path} (build it, or pass --build DIR)", file=sys.stderr)
            sys.exit(2)
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_mpi_yield_when_idle="1")
    machine = machine_info()
    records = [{"kind": "machine", **machine, "note": "both hosts are network namespaces of this machine and "
                "share its cores; the link is a veth pair, i.e. the kernel's TCP stack, not a wire",
                "env": {k: env[k] for k in sorted(env) if k.startswith(("OMPI_MCA", "OMP_"))}}]
    tmp = tempfile.TemporaryDirectory(prefix="ptt-bench-hosts-")

    # 1. The allreduce benchmark, shared memory and TCP.
    for link, flags in LINKS[:2]:
        out = os.path.join(tmp.name, "allreduce.json")
        cmd = launcher(flags) + [bench, "--max-mb", "64", "--repeats", "9", "--json", out]
        _, skipped = run(cmd, env)
        if skipped:
            print(f"bench_ch03_hosts: {skipped}", file=sys.stderr)
            sys.exit(77)
        with open(out) as f:
            records.append({"kind": "allreduce", "link": link, "command": shlex.join(cmd), **json.load(f)})
        print(f"allreduce benchmark over {link}: done", file=sys.stderr, flush=True)

    # 2. Step time of ch03_mpi. Interleaved repeats: every link sees the same machine noise.
    delay_links = [(f"veth delay {d} ms", ["--delay", d]) for d in DELAYS_MS]
    cells = [(h, b, s, kind, link, None if flags is None else tuple(flags)) for h, b, s in MLPS
             for kind in ("mpi", "bucketed")
             for link, flags in LINKS + delay_links]
    samples, skipped_links = {}, {}
    metrics = os.path.join(tmp.name, "run.jsonl")
    for r in range(args.repeats):
        for cell in (cells if r % 2 == 0 else cells[::-1]):
            hidden, batch, steps, kind, link, flags = cell
            if link in skipped_links:
                continue
            cmd = launcher(flags) + [ch03, "--hidden", hidden, "--batch-size", str(batch), "--lr", "0.01",
                                     "--momentum", "0.9", "--optimizer", "sgd", "--epochs", "1", "--max-steps",
                                     str(steps), "--seed", "1", "--allreduce", kind, "--no-progress",
                                     "--metrics", metrics]
            if os.path.exists(metrics):
                os.remove(metrics)
            out, skip = run(cmd, env)
            if skip:
                skipped_links[link] = skip
                print(f"skipped {link}: {skip}", file=sys.stderr, flush=True)
                continue
            with open(metrics) as f:
                final = [json.loads(line) for line in f if line.strip()][-1]
            ms = {p: 1e3 * final["phase_seconds"].get(p, 0.0) / final["steps"] for p in PHASES}
            samples.setdefault(cell, []).append({"ms_per_step": ms, "step_ms": sum(ms.values()),
                                                 "param_checksum": final["param_checksum"]})
            print(f"  repeat {r + 1}: {hidden} {kind} {link}: {sum(ms.values()):.1f} ms/step", file=sys.stderr,
                  flush=True)
    for cell, got in samples.items():
        hidden, batch, steps, kind, link, flags = cell
        cmd = launcher(flags) + [ch03, "--hidden", hidden, "--batch-size", str(batch), "...", "--allreduce", kind]
        records.append({"kind": "step", "mlp": hidden, "batch_per_rank": batch, "steps": steps, "allreduce": kind,
                        "link": link, "command": shlex.join(cmd),
                        "step_ms_median": statistics.median(s["step_ms"] for s in got),
                        "reduce_ms_median": statistics.median(s["ms_per_step"]["reduce"] for s in got),
                        "backward_ms_median": statistics.median(s["ms_per_step"]["backward"] for s in got),
                        "samples": got})
    for link, line in skipped_links.items():
        records.append({"kind": "skipped", "link": link, "reason": line})

    with open(args.out, "w") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")

    print_tables(records)

if __name__ == "__main__":
    main()
