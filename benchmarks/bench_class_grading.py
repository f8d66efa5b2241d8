#!/usr/bin/env python3
"""Class grading time: the project's parallel grader against plain serial `nbgrader autograde`.

A synthetic class of --students submissions of the whole course (every
assignment of course/source/) is graded twice, in the same run on the same
machine, each time in its own temporary copy of the course holding the same
gradebook and the same submissions:

  parallel  `python -m autograder grade <assignment> --workers W` per assignment
            (which leaves out the course's own cells no graded function needs:
            autograder/needed_cells.py)
  serial    `nbgrader autograde <assignment>` per assignment (one process grades
            the students one after the other, every cell; course/nbgrader_config.py
            makes it use the same autograder pipeline)

It prints both times, the ratio parallel / serial (target <= 0.4 with 2
workers on 2 cores, issue 16), whether both gradebooks hold identical auto scores
for every grade cell of every submission, and where a submission's time
goes: kernel start, the student's cells, the graded calls and the kernel's
shutdown (recorded by the grader in autograder_results/), and the rest,
nbgrader's bookkeeping (its start-up imports, copying, the gradebook,
sanitising and writing notebooks).

The class: student i answers each graded function, drawn with
np.random.default_rng(seed + i), either with the reference body (60 %), the
1st or the 2nd known typical mistake of that function (15 % each, from
autograder/mistakes/ through autograder/samples.py), or leaves the stub (10 %).

usage: python benchmarks/bench_class_grading.py [--students 40] [--workers 2]
                                                [--assignment 01_unrolling ...] [--seed 0]
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
from nbgrader.api import Gradebook

from autograder import samples

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_notebooks import machine_summary  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.4
# How one answer cell is written: (label, write_answer(source, F) or None for the untouched stub, probability)
ANSWER_STYLES = (
    ("reference", samples.SAMPLE_STUDENTS["sample_reference"], 0.60),
    ("mistake 1", samples.SAMPLE_STUDENTS["sample_mistakes_a"], 0.15),
    ("mistake 2", samples.SAMPLE_STUDENTS["sample_mistakes_b"], 0.15),
    ("stub", None, 0.10),
)


def run(cmd, cwd, check=True):
    """Run cmd (a list) from cwd with this Python's bin/ first on PATH; with check, raise with its output on failure."""
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, cmd))}` failed in {cwd} (exit {proc.returncode}):\n"
                           f"{(proc.stdout + proc.stderr)[-3000:]}")
    return proc


def copy_course(dest):
    """A copy of the repository's course/ without generated folders; returns its path."""
    shutil.copytree(REPO / "course", dest, ignore=shutil.ignore_patterns(
        "release", "submitted", "autograded", "feedback", "gradebook.db", "autograder_results", "*.csv"))
    return Path(dest)


def student_answers(rng):
    """write_answer(source, F) for one student: each answer cell drawn from ANSWER_STYLES with rng."""
    probabilities = [p for _, _, p in ANSWER_STYLES]

    def write(source, name):
        _, writer, _ = ANSWER_STYLES[rng.choice(len(ANSWER_STYLES), p=probabilities)]
        return source if writer is None else writer(source, name)
    return write


def place_class(course, assignments, n_students, seed):
    """Write submitted/<student>/<assignment>/ for n_students synthetic students; return their ids."""
    students = [f"student{i:02d}" for i in range(n_students)]
    for i, student in enumerate(students):
        write = student_answers(np.random.default_rng(seed + i))
        for assignment in assignments:
            release = course / "release" / assignment
            dest = course / "submitted" / student / assignment
            shutil.copytree(release, dest)
            for path in sorted(release.glob("*.ipynb")):
                nbformat.write(samples.sample_notebook(path, write), dest / path.name)
            (dest / "timestamp.txt").write_text(samples.TIMESTAMP)
    return students


def auto_scores(course, assignments, students):
    """{(assignment, student, notebook, grade cell): auto_score} from course/gradebook.db."""
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for a in assignments:
            for s in students:
                for nb in gb.find_submission(a, s).notebooks:
                    for g in nb.grades:
                        scores[(a, s, nb.name, g.name)] = g.auto_score
    return scores


PHASES = ("kernel_start", "student_cells", "graded_calls", "shutdown")


def notebook_records(course, assignment, students):
    """Yield the grader's record of every graded notebook of the class
    (autograder_results/<assignment>/<student>.json, see autograder/nbgrader_plugin.py)."""
    import json
    from autograder.nbgrader_plugin import results_path
    for s in students:
        path = results_path(course, assignment, s)
        if path.is_file():
            yield from json.loads(path.read_text()).get("notebooks", {}).values()


def phase_seconds(course, assignment, students):
    """{phase: seconds summed over the class} from the timing the grader records per notebook."""
    totals = dict.fromkeys(PHASES, 0.0)
    for nb in notebook_records(course, assignment, students):
        for phase in PHASES:
            totals[phase] += (nb.get("timing") or {}).get(phase, 0.0)
    return totals


def cells_left_out(course, assignment, students):
    """(cells left out, notebooks) over the class: the `cells_not_run` the grader records per notebook."""
    records = list(notebook_records(course, assignment, students))
    return sum(len(nb.get("cells_not_run") or ()) for nb in records), len(records)


def breakdown_table(label, wall, slots, phases, n):
    """Markdown rows: per submission, each phase and the rest (nbgrader's bookkeeping: its start, the
    copies, the gradebook, sanitising, writing the notebook), of `wall` seconds on `slots` workers."""
    rows = [f"| {label}: {p.replace('_', ' ')} | {phases[p] / n:.2f} | {phases[p] / (wall * slots):.0%} |"
            for p in PHASES]
    rest = wall * slots - sum(phases.values())
    rows.append(f"| {label}: nbgrader bookkeeping (the rest) | {rest / n:.2f} | {rest / (wall * slots):.0%} |")
    return rows


def children_cpu():
    """CPU seconds (user + system) used so far by finished child processes and the children they waited for
    (not by processes reaped elsewhere, such as kernels in the bubblewrap sandbox)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd, cwd, failures):
    """(wall seconds, CPU seconds) cmd takes; a non-zero exit (a submission that could not be graded)
    is noted in failures."""
    start, cpu = time.perf_counter(), children_cpu()
    proc = run(cmd, cwd, check=False)
    seconds = time.perf_counter() - start, children_cpu() - cpu
    if proc.returncode != 0:
        failures.append(f"`{' '.join(map(str, cmd[1:]))}` exited {proc.returncode}: "
                        f"{(proc.stdout + proc.stderr).strip().splitlines()[-1:]}")
    return seconds


def grade_parallel(course, assignment, workers, failures):
    """(wall, CPU) seconds `python -m autograder grade <assignment> --workers W` takes in course."""
    return timed([sys.executable, "-m", "autograder", "--course", str(course), "grade", assignment,
                  "--workers", str(workers), "--quiet"], course, failures)


def grade_serial(course, assignment, failures):
    """(wall, CPU) seconds plain `nbgrader autograde <assignment>` takes in course."""
    return timed([sys.executable, "-m", "nbgrader", "autograde", assignment], course, failures)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40, help="size of the class (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel grader (default: %(default)s)")
    parser.add_argument("--assignment", nargs="+", action="extend",
                        help="assignments to grade, may be repeated (default: the whole course)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic class (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.students < 1 or args.workers < 1:
        parser.error("--students and --workers must be >= 1")

    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        parallel_course = copy_course(Path(tmp) / "parallel" / "course")
        all_assignments = sorted(p.name for p in (parallel_course / "source").iterdir() if p.is_dir())
        assignments = args.assignment or all_assignments
        unknown = set(assignments) - set(all_assignments)
        if unknown:
            parser.error(f"unknown assignment(s): {', '.join(sorted(unknown))}")
        for a in assignments:
            run([sys.executable, "-m", "nbgrader", "generate_assignment", a, "--force"], cwd=parallel_course)
        students = place_class(parallel_course, assignments, args.students, args.seed)
        # the serial run starts from an identical copy: same gradebook, same submissions
        serial_course = Path(tmp) / "serial" / "course"
        shutil.copytree(parallel_course, serial_course)

        # alternate per assignment, so that changes in the machine's load hit both graders
        times, failures = {}, []
        for a in assignments:
            print(f"grading {a}: {len(students)} students, serial ...", file=sys.stderr, flush=True)
            serial = grade_serial(serial_course, a, failures)
            print(f"  {serial[0]:.0f} s; parallel ...", file=sys.stderr, flush=True)
            times[a] = (serial, grade_parallel(parallel_course, a, args.workers, failures))
            print(f"  {times[a][1][0]:.0f} s", file=sys.stderr, flush=True)
        serial_scores = auto_scores(serial_course, assignments, students)
        parallel_scores = auto_scores(parallel_course, assignments, students)
        phases, left_out = {}, {}
        for label, course in (("serial", serial_course), ("parallel", parallel_course)):
            counts = [cells_left_out(course, a, students) for a in assignments]
            left_out[label] = (sum(c[0] for c in counts), sum(c[1] for c in counts))
            totals = dict.fromkeys(PHASES, 0.0)
            for a in assignments:
                for phase, seconds in phase_seconds(course, a, students).items():
                    totals[phase] += seconds
            phases[label] = totals

    differing = sorted(k for k in serial_scores.keys() | parallel_scores.keys()
                       if serial_scores.get(k) != parallel_scores.get(k))
    total = sum(v or 0 for v in serial_scores.values())
    full = sum(1 for k, v in serial_scores.items() if v)
    serial_s, serial_cpu = (sum(t[0][i] for t in times.values()) for i in (0, 1))
    parallel_s, parallel_cpu = (sum(t[1][i] for t in times.values()) for i in (0, 1))
    ratio = parallel_s / serial_s
    n = len(students)
    print(f"Class grading: {n} synthetic students x {len(assignments)} assignments = {n * len(assignments)} "
          f"submissions; parallel grader with {args.workers} workers")
    print(f"machine: {machine_summary()}")
    print()
    print("| assignment | serial `nbgrader autograde`: wall s | its CPU s | `python -m autograder grade`: wall s | "
          "its CPU s | ratio of wall times |")
    print("|---|---:|---:|---:|---:|---:|")
    for a, ((s_wall, s_cpu), (p_wall, p_cpu)) in times.items():
        print(f"| {a} | {s_wall:.0f} | {s_cpu:.0f} | {p_wall:.0f} | {p_cpu:.0f} | {p_wall / s_wall:.2f} |")
    print(f"| **all ({n * len(assignments)} submissions)** | **{serial_s:.0f}** | {serial_cpu:.0f} | "
          f"**{parallel_s:.0f}** | {parallel_cpu:.0f} | **{ratio:.2f}** |")
    print(f"\nratio target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}. "
          f"CPU s: the grader's processes as the OS accounts them to this script (processes whose "
          f"parent waited for them; kernels inside the bubblewrap sandbox are reaped by bwrap and not counted).")
    print()
    print(f"scores: {len(serial_scores)} grade cells, {full} with points, {total:g} points in all; "
          + ("identical in both gradebooks" if not differing else f"{len(differing)} DIFFER"))
    print()
    print(f"Where a submission's time goes ({n * len(assignments)} submissions; seconds per submission, and the "
          f"share of the wall time x workers: serial 1, parallel {args.workers})")
    print()
    print("| run: phase | s per submission | share |")
    print("|---|---:|---:|")
    for row in (breakdown_table("serial", serial_s, 1, phases["serial"], n * len(assignments))
                + breakdown_table("parallel", parallel_s, args.workers, phases["parallel"], n * len(assignments))):
        print(row)
    print()
    for label, (cells, notebooks) in left_out.items():
        print(f"{label}: {cells} cells left out in {notebooks} notebooks")
    for key in differing[:20]:
        print(f"  {key}: serial {serial_scores.get(key)} vs parallel {parallel_scores.get(key)}")
    for f in failures:
        print(f"FAILED: {f}")
    return 0 if not differing and not failures and ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
