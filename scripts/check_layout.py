#!/usr/bin/env python3
"""Checks that the project's dependencies point one way: chapters -> solutions/exercises ->
contracts -> common.

  scripts/check_layout.py [ROOT]        check the tree at ROOT (default: this repository)
  scripts/check_layout.py --self-test   plant each kind of violation in a scratch tree and prove
                                        that the check reports it (a check that cannot fail is a defect)

Rules (each violation is one line naming the file, the line and the rule; exit 1 if any):
  1. common/ (sources, headers, CMakeLists.txt) names no chapter: no include of a chapter header
     ("chNN/..."), no path under solutions/, exercises/ or contracts/.
  2. No file under exercises/ includes a file that lives under solutions/ (an exercise must not
     lean on its answer), and no file under solutions/ includes an exercise's file.
  3. contracts/ includes only the core ("ptt/...") and other contracts.
  4. Chapter headers are included path-qualified ("ch03/ring_allreduce.hpp"), never by bare name,
     so that every arrow can be seen in the include line.
  5. No CMakeLists.txt under solutions/ or exercises/: a chapter's solution/exercise library pair is
     assembled in chapters/NN_name/CMakeLists.txt, the top of the arrows.
  6. Among the core's headers only ptt/cli.hpp includes CLI11 (<CLI/...>) or ptt/cli.hpp: CLI11 is
     header-only and costs seconds per file, so a header that many files include (train.hpp,
     report.hpp, ...) takes TrainConfig from ptt/train_config.hpp instead.
"""
import os
import re
import shutil
import sys
import tempfile

SOURCE_EXT = (".hpp", ".cpp", ".cu", ".cuh", ".h")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
CHAPTER_HEADER = re.compile(r"^ch\d\d/")


def sources(root, top):
    for base, _, files in os.walk(os.path.join(root, top)):
        for name in sorted(files):
            if name.endswith(SOURCE_EXT):
                yield os.path.join(base, name)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield number, m.group(1)


def chapter_headers(root):
    """Bare names of every header under solutions/, contracts/ and exercises/."""
    names = set()
    for top in ("solutions", "contracts", "exercises"):
        for path in sources(root, top):
            names.add(os.path.basename(path))
    return names


def check(root):
    problems = []
    rel = lambda p: os.path.relpath(p, root)
    bare_chapter_names = chapter_headers(root)

    # 1. The core knows no chapter.
    for path in list(sources(root, "common")):
        for number, inc in includes(path):
            if CHAPTER_HEADER.match(inc) or re.search(r"(solutions|exercises|contracts)/", inc):
                problems.append(f"{rel(path)}:{number}: the core includes chapter code ({inc})")
    cmake = os.path.join(root, "common", "CMakeLists.txt")
    if os.path.exists(cmake):
        with open(cmake, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if re.search(r"(solutions|exercises|contracts)/", line.split("#", 1)[0]):
                    problems.append(f"{rel(cmake)}:{number}: the core's build names chapter code")

    # 2-4. Includes of chapter headers.
    for top in ("chapters", "solutions", "exercises", "contracts", "tests", "fuzz"):
        for path in sources(root, top):
            for number, inc in includes(path):
                where = f"{rel(path)}:{number}"
                if "/" not in inc and inc in bare_chapter_names and inc.endswith((".hpp", ".cuh", ".h")):
                    problems.append(f"{where}: include \"{inc}\" by its path (\"chNN/{inc}\"), so the arrow shows")
                if not CHAPTER_HEADER.match(inc):
                    if re.search(r"(solutions|exercises)/", inc):
                        problems.append(f"{where}: include by a build-tree path ({inc}); use \"chNN/...\"")
                    continue
                in_solutions = os.path.exists(os.path.join(root, "solutions", inc))
                in_contracts = os.path.exists(os.path.join(root, "contracts", inc))
                in_exercises = os.path.exists(os.path.join(root, "exercises", inc))
                if top == "exercises" and in_solutions and not in_contracts:
                    problems.append(f"{where}: an exercise includes its answer (solutions/{inc})")
                if top == "solutions" and in_exercises and not (in_solutions or in_contracts):
                    problems.append(f"{where}: a solution includes an exercise's file (exercises/{inc})")
                if top == "contracts" and not in_contracts:
                    problems.append(f"{where}: a contract includes non-contract code ({inc})")

    # 5. Library pairs are assembled in chapters/.
    for top in ("solutions", "exercises"):
        for base, _, files in os.walk(os.path.join(root, top)):
            if "CMakeLists.txt" in files:
                problems.append(f"{rel(os.path.join(base, 'CMakeLists.txt'))}: build the library pair in chapters/NN_name/CMakeLists.txt")

    # 6. CLI11 stays in ptt/cli.hpp and the files that parse flags.
    for path in sources(root, os.path.join("common", "include")):
        if rel(path) == os.path.join("common", "include", "ptt", "cli.hpp"):
            continue
        for number, inc in includes(path):
            if inc.startswith("CLI/") or inc == "ptt/cli.hpp":
                problems.append(f"{rel(path)}:{number}: a core header includes CLI11 ({inc}); include ptt/train_config.hpp")
    return problems


def self_test():
    """Plants one violation of each rule in a copy of the tree; each must be reported."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    plants = [
        ("common/src/planted.cpp", '#include "ch03/ring_allreduce.hpp"\n', "the core includes chapter code"),
        ("common/CMakeLists.txt", "\nadd_library(planted ../solutions/ch02/shards.cpp)\n", "the core's build names chapter code"),
        ("exercises/ch02/planted.cpp", '#include "ch02/data_parallel.hpp"\n', "an exercise includes its answer"),
        ("contracts/ch02/planted.hpp", '#include "ch02/data_parallel.hpp"\n', "a contract includes non-contract code"),
        ("solutions/ch02/planted.cpp", '#include "data_parallel.hpp"\n', "by its path"),
        ("solutions/ch02/CMakeLists.txt", "add_library(x y.cpp)\n", "build the library pair in chapters"),
        ("common/include/ptt/train.hpp", '#include "ptt/cli.hpp"\n', "a core header includes CLI11"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for top in ("common", "chapters", "solutions", "exercises", "contracts", "tests"):
            if os.path.isdir(os.path.join(root, top)):
                shutil.copytree(os.path.join(root, top), os.path.join(scratch, top))
        if check(scratch):
            print("FAIL the unplanted copy already has problems:", *check(scratch), sep="\n  ")
            return 1
        for path, text, expected in plants:
            target = os.path.join(scratch, path)
            before = open(target, encoding="utf-8").read() if os.path.exists(target) else None
            with open(target, "a", encoding="utf-8") as f:
                f.write(text)
            found = [p for p in check(scratch) if expected in p]
            print(("ok  " if found else "FAIL") + f" planted in {path}: " + (found[0] if found else f"not reported ('{expected}')"))
            failures += not found
            if before is None:
                os.remove(target)
            else:
                with open(target, "w", encoding="utf-8") as f:
                    f.write(before)
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = check(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} layout problem(s)" if problems else "layout: dependencies point one way")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
