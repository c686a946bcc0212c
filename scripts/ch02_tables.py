#!/usr/bin/env python3
"""Chapter 02's measured tables, generated from its committed result file (never typed twice).

    /usr/bin/python3 scripts/ch02_tables.py            print every table
    /usr/bin/python3 scripts/ch02_tables.py --write    put them into chapters/02_openmp_data_parallel/README.md
    /usr/bin/python3 scripts/ch02_tables.py --check    exit 1 if the README's tables differ (a test)
    /usr/bin/python3 scripts/ch02_tables.py --self-test

The input is what scripts/bench_ch02.py writes (`./tutorial bench 02 --record`), committed as
chapters/02_openmp_data_parallel/results.json. The markers and flags are scripts/readme_tables.py's.
"""
import os
import shlex
import sys

import readme_tables  # same folder: the markers, --write, --check, --self-test
from readme_tables import cell, mlp

TAG = "ch02_tables.py"
SOURCE = "chapters/02_openmp_data_parallel/results.json"
LABELS = {"ch01": "ch01 serial", "fast": "ch02 fast", "det": "ch02 --deterministic", "intra-op": "ch02 --intra-op",
          "owner": "ch02 --reduce owner", "torch": "PyTorch"}
PHASES = ["data", "forward", "backward", "reduce", "update"]


def results():
    return readme_tables.load(TAG, SOURCE, ["machine", "throughput", "targets", "reductions", "amdahl",
                                            "determinism", "kernels"])


def machine_table():
    r = results()
    m = r["machine"]
    return readme_tables.machine_line(r, SOURCE) + [
        "", f"T = 1..{r['max_threads']} threads (OMP_NUM_THREADS = T, nothing pinned); SGD lr 0.01, momentum 0.9; "
            f"PyTorch {m.get('torch_version')} on {m.get('blas')}; steps per run: "
            + ", ".join(f"{mlp(h)}: {s}" for h, s in r["steps"].items()) + "."]


def throughput_table(hidden):
    def make():
        rows = [x for x in results()["throughput"] if x["mlp"] == hidden]
        lines = [f"{mlp(hidden)}, batch {rows[0]['batch']}:", "",
                 "| variant | threads | samples/s median (min-max) | speedup vs ch01 | vs PyTorch, same threads |",
                 "|---|---:|---:|---:|---:|"]
        for x in rows:
            lines.append(f"| {LABELS[x['variant']]} | {x['threads']} | {cell(x['samples_per_s'])} | "
                         f"{x['vs_ch01']:.2f}x | {x['vs_torch']:.2f}x |")
        return lines
    return make


def targets_table():
    return [f"- {t['target']}: {t['ratio']:.2f}x, {'met' if t['met'] else 'not met'}" for t in results()["targets"]] \
        or ["- not checked: the targets need 2 threads"]


def reductions_table():
    lines = ["| --reduce | threads | samples/s median (min-max) | vs buffers | backward ms/step | reduce ms/step "
             "| backward + reduce ms/step |", "|---|---:|---:|---:|---:|---:|---:|"]
    for x in results()["reductions"]:
        lines.append(f"| {x['reduce']} | {x['threads']} | {cell(x['samples_per_s'])} | {x['vs_buffers']:.2f}x "
                     f"| {x['backward_ms']:.3f} | {x['reduce_ms']:.3f} | {x['backward_ms'] + x['reduce_ms']:.3f} |")
    return lines


def amdahl_table():
    r = results()
    lines = []
    keys = list(dict.fromkeys((x["mlp"], x["variant"]) for x in r["amdahl"]))
    for hidden, variant in keys:
        rows = [x for x in r["amdahl"] if x["mlp"] == hidden and x["variant"] == variant]
        lines += [f"{mlp(hidden)}, {LABELS[variant]}: serial fraction s (gathering the batch) = "
                  f"{rows[0]['serial_fraction']:.3f} at T = 1", "",
                  "| threads | " + " | ".join(f"{p} ms" for p in PHASES)
                  + " | total ms/step | predicted speedup | measured speedup | Karp-Flatt e |",
                  "|---:" * (len(PHASES) + 5) + "|"]
        for x in rows:
            kf = "-" if x["karp_flatt"] is None else f"{x['karp_flatt']:.3f}"
            lines.append(f"| {x['threads']} | " + " | ".join(f"{x['ms_per_step'][p]:.3f}" for p in PHASES)
                         + f" | {sum(x['ms_per_step'].values()):.3f} | {x['predicted']:.2f}x | {x['measured']:.2f}x"
                         f" | {kf} |")
        lines.append("")
    return lines[:-1]


def determinism_table():
    lines = ["| MLP | threads | fast samples/s | deterministic samples/s | deterministic / fast |",
             "|---|---:|---:|---:|---:|"]
    for x in results()["determinism"]:
        lines.append(f"| {mlp(x['mlp'])} | {x['threads']} | {x['fast']:,.0f} | {x['det']:,.0f} | {x['ratio']:.2f}x |")
    return lines


def kernel_table(kind):
    def make():
        tables = [t for t in results()["kernels"] if t["kind"] == kind]
        if not tables:
            return ["Not measured in this result file (bench_ch02.py ran with --no-kernels)."]
        lines = []
        for t in tables:
            program, *flags = shlex.split(t["command"])  # the binary's name without the build folder
            lines += [f"`{shlex.join([os.path.basename(program), *flags])}` ({t['name']}):", "", "| " + " | ".join(t["header"]) + " |",
                      "|---|" + "---:|" * (len(t["header"]) - 1)]
            lines += ["| " + " | ".join(row) + " |" for row in t["rows"]]
            lines.append("")
        return lines[:-1]
    return make


TABLES = {"machine": machine_table, "throughput-small": throughput_table("256,128"),
          "throughput-wide": throughput_table("1024,1024"), "targets": targets_table,
          "reductions": reductions_table, "amdahl": amdahl_table, "determinism": determinism_table,
          "gemm-shape": kernel_table("gemm_shape"), "false-sharing": kernel_table("false_sharing")}


def main():
    return readme_tables.run(TAG, TABLES, os.path.join(readme_tables.ROOT, "chapters", "02_openmp_data_parallel",
                                                       "README.md"),
                             __file__, __doc__, "throughput-small", r"\| [\d,]*(\d) \(")


if __name__ == "__main__":
    sys.exit(main())
