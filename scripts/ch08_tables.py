#!/usr/bin/env python3
"""Chapter 08's validation tables, generated from its committed result file (never typed twice).

    /usr/bin/python3 scripts/ch08_tables.py            print every table
    /usr/bin/python3 scripts/ch08_tables.py --write    put them into chapters/08_choose/README.md
    /usr/bin/python3 scripts/ch08_tables.py --check    exit 1 if the README's tables differ (a test)
    /usr/bin/python3 scripts/ch08_tables.py --self-test

The input is what scripts/bench_ch08.py --record writes (`./tutorial bench 08 --record`), committed
as chapters/08_choose/validation.json. The markers and flags are scripts/readme_tables.py's.
"""
import os
import sys

import readme_tables  # same folder: the markers, --write, --check, --self-test

TAG = "ch08_tables.py"
SOURCE = "chapters/08_choose/validation.json"


def results():
    return readme_tables.load(TAG, SOURCE, ["machine", "rows", "summary", "memory", "model_machine"])


def machine_table():
    r = results()
    m = r["model_machine"]
    lines = readme_tables.machine_line(r, SOURCE)
    calibration = r.get("calibration") or f"--machine {r.get('machine_file')}"
    runs = r.get("calibrations", 1)
    lines.append("")
    lines.append(f"Predicted with `{calibration}`" + (f", run before each of the {runs} repeats, the median of "
                                                      "every rate" if runs > 1 else "") + f" (GEMM {m['flops_fp32'] / 1e9:.1f} GFLOP/s on one thread, "
                 f"memory {m['memory_bandwidth'] / 1e9:.1f} GB/s), every run on one node of "
                 f"{m['cores_per_node']} cores (`workers_per_node` {m['workers_per_node']}).")
    links = [f"inside the node α {m['intra_node']['alpha_s'] * 1e6:.2f} µs, "
             f"B {1e-9 / m['intra_node']['beta_s_per_byte']:.2f} GB/s"]
    if "oversubscribed_link" in m:
        o = m["oversubscribed_link"]
        links.append(f"with more ranks than cores (`oversubscribed_link`) α {o['alpha_s'] * 1e6:.2f} µs, "
                     f"B {1e-9 / o['beta_s_per_byte']:.2f} GB/s")
    lines.append("")
    lines.append("Links fitted to MPI_Allreduce: " + "; ".join(links) + ".")
    return lines


def validation_table():
    lines = ["| config | chapter command | layout | predicted ms | measured ms, median (min-max) | error | "
             "oversubscribed |",
             "|---|---|---|---:|---:|---:|:---:|"]
    for row in results()["rows"]:
        unseen = " (not calibrated)" if row["unseen"] else ""
        lines.append(f"| {row['shape']}{unseen}, batch {row['batch']}: {row['config']} | `{row['command']}` | "
                     f"{row['layout']} | {row['predicted_ms']:.3f} | {row['measured_ms']:.3f} "
                     f"({row['measured_min_ms']:.3f}-{row['measured_max_ms']:.3f}) | {row['error_pct']:+.0f} % | "
                     f"{'yes' if row['oversubscribed'] else 'no'} |")
    return lines


def summary_table():
    lines = ["| configurations | count | median \\|error\\| (target <= 15 %) | worst \\|error\\| (target <= 35 %) |",
             "|---|---:|---:|---:|"]
    labels = {"all": "all", "not_oversubscribed": "not oversubscribed (workers <= cores)",
              "oversubscribed": "oversubscribed (4 workers on 2 cores)"}
    for key, label in labels.items():
        s = results()["summary"].get(key)
        if not s:
            continue
        lines.append(f"| {label} | {s['count']} | {readme_tables.against(s['median_abs_error_pct'], s['median_target_pct'])} "
                     f"{'PASS' if s['median_met'] else 'MISS'} | "
                     f"{readme_tables.against(s['worst_abs_error_pct'], s['worst_target_pct'])} "
                     f"{'PASS' if s['worst_met'] else 'MISS'} |")
    return lines


def memory_table():
    kinds = ("params", "grads", "optimizer", "activations", "comm")
    lines = ["| config | rank (dp, pp, tp) | params | grads | optimizer | activations | ZeRO-1 gradient-shard "
             "buffer |", "|---|---|" + "---:|" * len(kinds)]
    for mem in results()["memory"]:
        cells = []
        for k in kinds:
            f = mem["fields"][k]
            if f["predicted"] is None:  # a record from before the model counted the buffer
                cells.append(f"{f['measured']:,.0f} (not modelled)" if f["measured"] else "-")
            elif k == "comm" and not f["measured"] and not f["predicted"]:
                cells.append("-")
            else:
                cells.append(f"{f['measured']:,.0f} {'exact' if f['exact'] else '/ ' + format(f['predicted'], ',.0f')}")
        shape = "784-" + mem["hidden"].replace(",", "-") + "-10"
        lines.append(f"| {shape}, batch {mem['batch']}: {mem['config']} | {mem['rank']} "
                     f"({', '.join(str(int(c)) for c in mem['coords'])}) | " + " | ".join(cells) + " |")
    return lines


TABLES = {"machine": machine_table, "validation": validation_table, "summary": summary_table,
          "memory": memory_table}


def main():
    return readme_tables.run(TAG, TABLES, os.path.join(readme_tables.ROOT, "chapters", "08_choose", "README.md"),
                             __file__, __doc__, "validation", r"\| (\d+)\.\d{3} \(")


if __name__ == "__main__":
    sys.exit(main())
