#!/usr/bin/env python3
"""Chapter 03's measured tables, generated from its committed result files (never typed twice).

    /usr/bin/python3 scripts/ch03_tables.py            print every table
    /usr/bin/python3 scripts/ch03_tables.py --write    put them into chapters/03_mpi_data_parallel/README.md
    /usr/bin/python3 scripts/ch03_tables.py --check    exit 1 if the README's tables differ (a test)
    /usr/bin/python3 scripts/ch03_tables.py --self-test

The inputs are what scripts/bench_ch03.py writes (`./tutorial bench 03 --record`), committed as
chapters/03_mpi_data_parallel/results.json, and what scripts/bench_ch03_hosts.py writes, committed as
chapters/03_mpi_data_parallel/results_two_hosts.jsonl. The markers and flags are scripts/readme_tables.py's.
"""
import contextlib
import io
import json
import os
import sys

import bench_ch03_hosts  # same folder: the two-hosts tables
import readme_tables  # same folder: the markers, --write, --check, --self-test
from readme_tables import cell, mlp

TAG = "ch03_tables.py"
SOURCE = "chapters/03_mpi_data_parallel/results.json"
HOSTS = "chapters/03_mpi_data_parallel/results_two_hosts.jsonl"


def results():
    return readme_tables.load(TAG, SOURCE, ["machine", "throughput", "bucketing", "allreduce", "targets"])


def machine_table():
    r = results()
    return readme_tables.machine_line(r, SOURCE) + [
        "", f"{r['machine'].get('mpi', 'MPI')}, shared-memory transport between the ranks; SGD lr 0.01, momentum "
            "0.9; ranks unbound, `OMP_NUM_THREADS` = threads per rank; steps per run: "
            + ", ".join(f"{mlp(h)}: {s}" for h, s in r["steps"].items()) + "."]


def throughput_table(hidden):
    def make():
        rows = [x for x in results()["throughput"] if x["mlp"] == hidden]
        if not rows:
            readme_tables.fail(TAG, f"{SOURCE}: no throughput rows for {hidden}")
        lines = [f"{mlp(hidden)}, global batch {rows[0]['global_batch']}:", "",
                 "| variant | samples/s median (min-max) | speedup vs 1 rank x 1 thread | vs ch01 | reduce ms/step |",
                 "|---|---:|---:|---:|---:|"]
        for x in rows:
            reduce = "-" if x["reduce_ms"] is None else f"{x['reduce_ms']:.3f}"
            lines.append(f"| {x['variant']} | {cell(x['samples_per_s'])} | {x['vs_1x1']:.2f}x | {x['vs_ch01']:.2f}x "
                         f"| {reduce} |")
        return lines
    return make


def bucketing_table():
    rows = results()["bucketing"]
    if not rows:
        return ["Not measured: it needs 2 cores."]
    lines = ["| allreduce | bucket KB | buckets | samples/s median (min-max) | backward ms/step | reduce ms/step "
             "| backward + reduce ms/step |", "|---|---:|---:|---:|---:|---:|---:|"]
    for x in rows:
        name = "MPI_Allreduce after backward" if x["allreduce"] == "mpi" else "MPI_Iallreduce per bucket"
        lines.append(f"| {name} | {x['bucket_kb'] or '-'} | {x['buckets']} | {cell(x['samples_per_s'])} "
                     f"| {x['backward_ms']:.3f} | {x['reduce_ms']:.3f} | {x['backward_ms'] + x['reduce_ms']:.3f} |")
    return lines


def allreduce_table():
    a = results()["allreduce"]
    lines = [f"{a['ranks']} ranks; ping-pong: alpha = {a['alpha_s'] * 1e6:.2f} us, B = {a['bandwidth_Bps'] / 1e9:.2f} "
             f"GB/s (`{a['command']}`)", "",
             "| size | MPI_Allreduce ms | ring ms | ring / MPI bandwidth | ring bus GB/s | alpha-beta predicted ms "
             "| measured / predicted |", "|---:|---:|---:|---:|---:|---:|---:|"]
    p = a["ranks"]
    for x in a["sizes"]:
        size = f"{x['bytes'] >> 20} MB" if x["bytes"] >= 1 << 20 else f"{x['bytes'] >> 10} KB"
        moved = 2.0 * (p - 1) / p * x["bytes"]
        lines.append(f"| {size} | {x['mpi_s'] * 1e3:.3f} | {x['ring_s'] * 1e3:.3f} | {x['mpi_s'] / x['ring_s']:.2f}x "
                     f"| {moved / x['ring_s'] / 1e9:.2f} | {x['predicted_s'] * 1e3:.3f} "
                     f"| {x['ring_s'] / x['predicted_s']:.2f} |")
    return lines


def targets_table():
    return [f"- {t['target']}: {t['ratio']:.2f}x, {'met' if t['met'] else 'not met'}" for t in results()["targets"]] \
        or ["- not checked: the targets need 2 cores and sizes of 4 MB and more"]


def two_hosts_table():
    path = os.path.join(readme_tables.ROOT, HOSTS)
    try:
        with open(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            bench_ch03_hosts.print_tables(records)
    except (OSError, ValueError, KeyError, StopIteration) as e:
        readme_tables.fail(TAG, f"{HOSTS}: {e!r}")
    return out.getvalue().rstrip("\n").split("\n")


TABLES = {"machine": machine_table, "throughput-wide": throughput_table("1024,1024"),
          "throughput-small": throughput_table("256,128"), "bucketing": bucketing_table,
          "allreduce": allreduce_table, "targets": targets_table, "two-hosts": two_hosts_table}


def main():
    return readme_tables.run(TAG, TABLES, os.path.join(readme_tables.ROOT, "chapters", "03_mpi_data_parallel",
                                                       "README.md"),
                             __file__, __doc__, "throughput-wide", r"\| [\d,]*(\d) \(")


if __name__ == "__main__":
    sys.exit(main())
