#!/usr/bin/env python3
"""Chapter 01's measured tables, generated from its committed result file (never typed twice).

    /usr/bin/python3 scripts/ch01_tables.py            print every table
    /usr/bin/python3 scripts/ch01_tables.py --write    put them into chapters/01_serial/README.md
    /usr/bin/python3 scripts/ch01_tables.py --check    exit 1 if the README's tables differ (a test)
    /usr/bin/python3 scripts/ch01_tables.py --self-test

The input is what scripts/bench_ch01.py writes (`./tutorial bench 01 --record`), committed as
chapters/01_serial/results.json. The markers and flags are scripts/readme_tables.py's.
"""
import os
import sys

import readme_tables  # same folder: the markers, --write, --check, --self-test
from readme_tables import cell

TAG = "ch01_tables.py"
SOURCE = "chapters/01_serial/results.json"


def results():
    return readme_tables.load(TAG, SOURCE, ["machine", "results", "repeats"])


def machine_table():
    r = results()
    m = r["machine"]
    peer = f"PyTorch {m.get('torch_version')} on {m.get('blas')}, {r.get('threads', 1)} thread(s) each"
    return readme_tables.machine_line(r, SOURCE) + ["", peer + "."]


def speed_table():
    rows = results()["results"]
    lines = [f"| config | ch01 samples/s | PyTorch samples/s | ch01 / PyTorch | target ≥ {rows[0]['target']}x |",
             "|---|---:|---:|---:|---|"]
    for x in rows:
        lines.append(f"| {x['config']} | {cell(x['ch01'])} | {cell(x['torch'])} | {x['ratio']:.2f}x | "
                     f"{'met' if x['met'] else 'not met'} |")
    return lines


def phases_table():
    lines = ["| config | " + " | ".join(("data", "forward", "backward", "update")) + " |", "|---|---:|---:|---:|---:|"]
    for x in results()["results"]:
        share = x.get("ch01_phase_share", {})
        lines.append(f"| {x['config']} | " + " | ".join(
            f"{100 * share[p]:.0f} %" if p in share else "-" for p in ("data", "forward", "backward", "update")) + " |")
    return lines


TABLES = {"machine": machine_table, "speed": speed_table, "phases": phases_table}


def main():
    return readme_tables.run(TAG, TABLES, os.path.join(readme_tables.ROOT, "chapters", "01_serial", "README.md"),
                             __file__, __doc__, "speed", r"\| [\d,]*(\d) \(")


if __name__ == "__main__":
    sys.exit(main())
