#!/usr/bin/env python3
"""Headless execution time of every source notebook and of the whole course.

Each instructor (source) notebook of course/source/ runs from a temporary
copy of the course, in a fresh kernel, with nbclient (as `jupyter nbconvert
--execute` would), one after the other. The time counted is the wall time
from kernel start to the last cell. Targets (course/AUTHORING.md): <= 20 s
per notebook, <= 90 s for the whole course, on 2 cores.

The load average is printed with the table: other work on the machine slows
every row.

usage: python benchmarks/bench_notebooks.py [--repeats R] [--notebook 03_truncation ...]
"""
import argparse
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_TARGET_S = 20.0
COURSE_TARGET_S = 90.0


def machine_summary():
    """One line naming the machine: CPU model, cores, Python, OS, load average now."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; load average (1/5/15 min) {load}")


def source_notebooks(course_dir, only=None):
    """Paths of course_dir/source/<assignment>/*.ipynb, sorted; only: assignment names to keep."""
    paths = sorted(Path(course_dir, "source").glob("*/*.ipynb"))
    if only:
        unknown = set(only) - {p.parent.name for p in paths}
        if unknown:
            raise SystemExit(f"no such assignment(s) in {course_dir}/source: {', '.join(sorted(unknown))}")
        paths = [p for p in paths if p.parent.name in only]
    if not paths:
        raise SystemExit(f"no notebooks in {course_dir}/source")
    return paths


def children_cpu():
    """CPU seconds (user + system) used so far by finished child processes (the kernels)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_notebook(path, timeout=600):
    """Execute the notebook at path in a fresh python3 kernel from its folder.

    Returns (wall seconds, CPU seconds of the kernel): with other work on the
    machine the wall time grows, the CPU time much less.
    Raises nbclient's CellExecutionError (with the failing cell) when a cell fails.
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start, cpu = time.perf_counter(), children_cpu()
    client.execute()                     # starts the kernel, runs every cell, shuts the kernel down
    return time.perf_counter() - start, children_cpu() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each notebook; the median is shown")
    parser.add_argument("--notebook", nargs="+", help="assignments to run (default: all)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    with tempfile.TemporaryDirectory(prefix="bench-nb-") as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(REPO / "course", course, ignore=shutil.ignore_patterns(
            "release", "submitted", "autograded", "feedback", "gradebook.db", "autograder_results"))
        rows = []
        for path in source_notebooks(course, args.notebook):
            runs = [run_notebook(path) for _ in range(args.repeats)]
            rows.append((path.stem, statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)))
            print(f"  ran {path.stem}: {rows[-1][1]:.1f} s", file=sys.stderr, flush=True)

    print(f"Headless execution of the source notebooks (nbclient, fresh kernel each, "
          f"median of {args.repeats})")
    print(f"machine: {machine_summary()}")
    print()
    print("| notebook | wall s | kernel CPU s | target (wall) | met |")
    print("|---|---:|---:|---:|:---:|")
    for name, seconds, cpu in rows:
        print(f"| {name} | {seconds:.1f} | {cpu:.1f} | <= {NOTEBOOK_TARGET_S:.0f} | "
              f"{'yes' if seconds <= NOTEBOOK_TARGET_S else 'NO'} |")
    total, total_cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
    label = "whole course" if not args.notebook else "selected notebooks"
    print(f"| **{label}** | **{total:.1f}** | {total_cpu:.1f} | <= {COURSE_TARGET_S:.0f} | "
          f"{'yes' if total <= COURSE_TARGET_S else 'NO'} |")
    return 0 if all(r[1] <= NOTEBOOK_TARGET_S for r in rows) and total <= COURSE_TARGET_S else 1

if __name__ == "__main__":
    sys.exit(main())
