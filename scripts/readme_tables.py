#!/usr/bin/env python3
"""What every chapter's table generator shares: tables between markers in a README.

A README holds each generated table between `<!-- TAG: NAME -->` and `<!-- end TAG -->` (TAG is
the generator's file name, e.g. ch06_tables.py). A generator builds its tables from committed
result files and calls run(), which gives it the same command line as every other:

    (no flag)    print every table
    --write      put them into the README
    --check      exit 1 if the README's tables differ from the result files (a test)
    --self-test  prove that --check fails on a copy of the README with one number changed

Exit codes: 0 done, 1 --check found a difference, 2 a missing or malformed input or marker.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(tag, message):
    print(f"{tag}: {message}", file=sys.stderr)
    sys.exit(2)


def run(tag, tables, readme, script, doc, self_test_table, self_test_number=r"\d+\.(\d{2,4})"):
    """The command line above. @p tables: name -> function returning the table's lines.
    @p self_test_table: the table whose first number (matching @p self_test_number, whose group 1
    is the digits changed) --self-test alters."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the README's tables")
    mode.add_argument("--check", action="store_true", help="exit 1 if the README's tables differ")
    mode.add_argument("--self-test", action="store_true",
                      help="prove --check fails on a README with one number changed")
    parser.add_argument("--readme", default=readme)
    args = parser.parse_args()
    marker = re.escape(tag)
    block = re.compile(rf"(<!-- {marker}: ([a-z0-9-]+) -->\n)(.*?)(<!-- end {marker} -->)", re.S)
    if args.self_test:
        text = open(args.readme).read()
        start = text.index(f"<!-- {tag}: {self_test_table} -->")
        cell = re.compile(self_test_number).search(text, start)
        digits = cell.group(1)
        changed_digits = f"{(int(digits) + 1) % 10 ** len(digits):0{len(digits)}d}"
        changed = text[:cell.start(1)] + changed_digits + text[cell.end(1):]
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write(changed)
        rc = subprocess.run([sys.executable, script, "--check", "--readme", f.name], capture_output=True).returncode
        os.unlink(f.name)
        print(f"{tag} --self-test: --check on a README with one number of '{self_test_table}' changed exits {rc}")
        # against(): a value one decimal would print as its target gets the digits that tell them apart.
        shown = [against(12.4, 15), against(15.003, 15), against(14.96, 15), against(15.0, 15)]
        if shown != ["12.4 %", "15.003 %", "14.96 %", "15.0 %"]:
            print(f"{tag} --self-test: against() printed {shown}")
            return 1
        return 0 if rc == 1 else 1
    made = {name: "\n".join(make()) + "\n" for name, make in tables.items()}
    if not (args.write or args.check):
        for name, text in made.items():
            print(f"{name}:\n{text}")
        return 0
    try:
        original = open(args.readme).read()
    except OSError as e:
        fail(tag, f"{args.readme}: {e}")
    seen = set()

    def fill(m):
        name = m.group(2)
        if name not in made:
            fail(tag, f"{args.readme}: unknown table '{name}' (known: {', '.join(made)})")
        seen.add(name)
        return m.group(1) + made[name] + m.group(4)

    updated = block.sub(fill, original)
    if seen != set(made):
        fail(tag, f"{args.readme}: no marker for {', '.join(sorted(set(made) - seen))}")
    if args.check:
        if updated != original:
            print(f"{tag}: {args.readme}'s tables differ from the result files; "
                  f"run /usr/bin/python3 scripts/{tag} --write", file=sys.stderr)
            return 1
        print(f"{tag}: all {len(made)} tables of {os.path.relpath(args.readme, ROOT)} match the result files")
        return 0
    open(args.readme, "w").write(updated)
    return 0


def against(value, target):
    """@p value in % with one decimal, or with as many as it takes (up to 4) to tell it from the
    target when one decimal would print the target itself: 15.003 % misses 15 %, and says so."""
    for digits in range(1, 5):
        if f"{value:.{digits}f}" != f"{target:.{digits}f}":
            return f"{value:.{digits}f} %"
    return f"{value:.1f} %"  # the target itself (or within 0.00005 of it)


def load(tag, path, keys):
    """The JSON result file at @p path (relative to the repository), with @p keys present; exits 2
    with one line naming the file otherwise."""
    import json
    full = os.path.join(ROOT, path)
    try:
        with open(full) as f:
            r = json.load(f)
        missing = [k for k in keys if k not in r]
        if missing:
            raise KeyError(", ".join(missing))
        return r
    except (OSError, ValueError, KeyError) as e:
        fail(tag, f"{path}: {e!r}")


def machine_line(r, source):
    """One sentence naming the machine, date, load, repeats and command of a result file, and
    saying so when it is a --quick (smoke-test) run."""
    m = r["machine"]
    text = (f"Measured on {m['cpu']}, {m['nproc']} cores, {m['date'][:10]}; load average "
            f"{m['loadavg_at_start']:.1f} at the start; {r.get('repeats', '?')} interleaved run(s) per "
            f"variant, median (min-max). Command: `{m.get('command', '(not recorded)')}`; "
            f"raw results: `{source}`.")
    if r.get("quick"):
        text += (" **A --quick run** (a tenth of the steps, one repeat, on a busy machine): it shows the "
                 "pipeline works, its numbers are not a measurement to read.")
    return [text]


def mlp(hidden):
    """784-H1-...-10 from a hidden-widths string "H1,H2"."""
    return f"784-{hidden.replace(',', '-')}-10"


def cell(s):
    """A median with its spread, "median (min-max)", as whole numbers with thousands separators."""
    return f"{s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f})"
