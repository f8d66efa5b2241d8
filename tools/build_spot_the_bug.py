#!/usr/bin/env python3
"""Build the spot-the-bug drills of the exam review from the autograder's library of known mistakes.

Every known mistake (autograder/mistakes/) of a function graded in a notebook
before the exam review becomes one drill: the short faulty implementation, the
line(s) where it departs from the correct template, the fix, the mistake's
title and hint, and the symptom the autograder sees (which outputs come out
wrong), measured here by grading the faulty code against the reference.

The drills go to course/source/07_exam_review/spot_the_bug.json, a file of
that assignment: nbgrader releases it with notebook 07 only, so students get
these near-copies of earlier notebooks' functions after those notebooks, and
bpttlab (which every student has from notebook 01) never holds them. bpttlab
reads the file without importing the autograder.

usage: python tools/build_spot_the_bug.py [--check]
  --check  change nothing; exit 1 (and say why) if the file is out of date.
tests/test_spot_the_bug.py fails when the file is out of date, for example
after someone adds a mistake to the library or a notebook starts grading a
new function: run this script and commit the file.
"""
import argparse
import difflib
import importlib
import json
import pkgutil
import sys
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "course" / "source"
EXAM = "07_exam_review"
OUTPUT = SOURCE / EXAM / "spot_the_bug.json"
SEED = 20240611                 # the grading seed of the symptoms (any fixed seed)
MAX_FAULTY_LINES = 3            # more changed lines than this: no "which line?" question


def graded_before_exam(source=SOURCE, exam=EXAM):
    """[(assignment, function)] of every autograded-answer cell of the notebooks before `exam`, in course order."""
    import solutions
    contract = set(solutions.GRADED_FUNCTIONS) | set(getattr(solutions, "PENDING_FUNCTIONS", ()))
    found = []
    for nb_path in sorted(source.glob("*/*.ipynb")):
        assignment = nb_path.parent.name
        if assignment >= exam:
            continue
        for cell in json.loads(nb_path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution") and not meta.get("grade") and meta.get("grade_id") in contract:
                found.append((assignment, meta["grade_id"]))
    return found


def templates():
    """{function: correct template source} from every module of autograder.mistakes that defines TEMPLATES."""
    import autograder.mistakes as package
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.update(getattr(module, "TEMPLATES", {}))
    return found


def _lines(source):
    return textwrap.dedent(source).strip("\n").split("\n")


def locate(faulty, template):
    """(faulty line numbers, fixes) of `faulty` against its correct `template` (both sources).

    Line numbers are 1-based in the faulty code; each fix is a dict with "lines"
    (the faulty lines it replaces, possibly none), "after" (the line it follows,
    for an insertion) and "correct" (the template's lines there).
    """
    a, b = _lines(faulty), _lines(template)
    faulty_lines, fixes = set(), []
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in ops:
        if op != "equal":
            faulty_lines.update(range(i1 + 1, i2 + 1))
            fixes.append({"lines": list(range(i1 + 1, i2 + 1)), "after": i1, "correct": b[j1:j2]})
    for op, i1, i2, j1, j2 in ops:           # a moved line: everything between its old and new place is out of order
        if op == "insert":
            for k in (k for k, line in enumerate(a) if line in b[j1:j2] and k + 1 in faulty_lines):
                faulty_lines.update(range(min(i1 + 1, k + 1), max(i1, k + 1) + 1))
    return sorted(faulty_lines), fixes


def _namespace(mistake):
    """The faulty function among the reference versions of every other graded function (as the
    provided cells of a later notebook give them)."""
    import solutions
    ns = {"np": np}
    ns.update({name: getattr(solutions, name) for name in solutions.GRADED_FUNCTIONS})
    exec(compile(mistake.source, f"<mistake {mistake.id}>", "exec"), ns)
    return ns


def symptom(mistake, seed=SEED):
    """(wrong part names, right part names, the type of the exception raised or None, messages of the
    argument/error parts, fraction of the marks): what the autograder sees when it grades the faulty code."""
    from autograder.evaluate import in_process
    from autograder.grading import ARGS, ERROR, PARTS, grade_function
    report = grade_function(mistake.function, in_process(_namespace(mistake)), seed, diagnose=False)
    kinds = {p.name: p.select for p in PARTS[mistake.function]}
    wrong, right, notes = [], [], []
    for part in report.parts:
        if part.passed:
            right.append(part.name)
        elif part.message != "earned together with a right output":
            wrong.append(part.name)
            if kinds[part.name] in (ARGS, ERROR):
                notes.append(part.message)
    error = report.error.split(":", 1)[0] if report.error else None      # the type only: messages vary with numpy
    return wrong, right, error, notes, report.fraction


def build():
    """The drills as a JSON-ready dict (deterministic: same library and notebooks, same output)."""
    from autograder.mistakes import mistakes_for
    known = templates()
    drills = []
    for assignment, name in graded_before_exam():
        for m in mistakes_for(name):
            code = "\n".join(_lines(m.source))
            faulty, fixes = locate(m.source, known[name]) if name in known else ([], [])
            askable = 0 < len(faulty) <= MAX_FAULTY_LINES and len(_lines(m.source)) >= 4
            wrong, right, error, notes, fraction = symptom(m)
            if fraction >= 1:
                raise ValueError(f"mistake {m.id} scores full marks against the reference: not a bug to spot")
            drills.append({
                "id": m.id, "function": name, "notebook": assignment, "title": m.title, "hint": m.hint,
                "code": code, "faulty_lines": faulty if askable else [], "fixes": fixes,
                "wrong_parts": wrong, "right_parts": right, "error": error, "notes": notes,
            })
    return {"about": "Spot-the-bug drills of notebook 07, generated by tools/build_spot_the_bug.py from "
                     "autograder/mistakes/: do not edit by hand.",
            "seed": SEED, "drills": drills}


def render(data):
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date; change nothing")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    text = render(build())
    current = OUTPUT.read_text() if OUTPUT.exists() else None
    if args.check:
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python tools/build_spot_the_bug.py")
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    if current != text:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(json.loads(text)['drills'])} drills)")
    else:
        print(f"{OUTPUT.relative_to(ROOT)} already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
