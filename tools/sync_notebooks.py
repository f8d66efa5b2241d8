#!/usr/bin/env python3
"""Copy the reference solution (solutions/) into the instructor notebooks.

solutions/ is the one source of truth for every graded function. The
notebooks in course/source/ hold two kinds of copies, and this script
rewrites both from the reference:

- Answer cells (nbgrader `solution: true`, grade_id = a contract function F):
  the lines between `### BEGIN SOLUTION` and `### END SOLUTION` become the
  body of solutions.F (without the docstring and the leading input checks,
  the `x = _check...(...)` statements), indented like the BEGIN line. The def
  line and docstring above the markers are the notebook's own (the student's
  version keeps them, with hints).
- Provided cells (nbgrader locked cells whose grade_id starts with
  `given_`): every top-level `def F` of a contract function is replaced by the
  reference's full source of F (docstring included, input checks left out).
  These give a later notebook the functions of earlier ones. A contract
  function still in solutions.PENDING_FUNCTIONS (its notebook is being
  built) is synced there too.

usage: python tools/sync_notebooks.py [--check] [NOTEBOOK ...]
  --check  change nothing; list what is out of date and exit 1 if anything is.
"""
import argparse
import ast
import inspect
import sys
import textwrap
from pathlib import Path

import nbformat

import solutions

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _is_input_check(stmt):
    """True for `_check...(...)` or `a, b = _check...(...)`."""
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr)) else None
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id.startswith("_check"))


def _function_parts(name):
    """(header, body) of solutions.<name>: the def line + docstring, and the algorithm."""
    src = textwrap.dedent(inspect.getsource(getattr(solutions, name)))
    lines = src.splitlines()
    fn = ast.parse(src).body[0]
    stmts = list(fn.body)
    doc = stmts.pop(0) if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant) else None
    while stmts and _is_input_check(stmts[0]):
        stmts.pop(0)
    header_end = doc.end_lineno if doc else fn.body[0].lineno - 1
    header = "\n".join(lines[:header_end])
    body = textwrap.dedent("\n".join(lines[stmts[0].lineno - 1:]))
    return header, body


def reference_body(name):
    """The algorithm of solutions.<name>, dedented (what an answer cell's solution holds)."""
    return _function_parts(name)[1]


def reference_source(name):
    """solutions.<name> as a provided cell shows it: def, docstring, algorithm."""
    header, body = _function_parts(name)
    return header + "\n" + textwrap.indent(body, "    ")


def synced_answer(source, name):
    lines = source.split("\n")
    try:
        b = next(i for i, l in enumerate(lines) if l.strip() == BEGIN)
        e = next(i for i, l in enumerate(lines) if l.strip() == END)
    except StopIteration:
        raise ValueError(f"answer cell {name!r} has no {BEGIN} / {END} lines") from None
    indent = lines[b][: len(lines[b]) - len(lines[b].lstrip())]
    body = textwrap.indent(reference_body(name), indent).split("\n")
    return "\n".join(lines[: b + 1] + body + lines[e:])


def synced_given(source):
    tree = ast.parse(source)
    lines = source.split("\n")
    out, last = [], 0
    provided = solutions.GRADED_FUNCTIONS + getattr(solutions, "PENDING_FUNCTIONS", ())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in provided:
            start = node.lineno - 1 - len(node.decorator_list)
            out += lines[last:start] + reference_source(node.name).split("\n")
            last = node.end_lineno
    return "\n".join(out + lines[last:])


def sync_notebook(path):
    """Return (notebook, names of cells that changed)."""
    nb = nbformat.read(path, as_version=4)
    changed = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id", "")
        if cell.cell_type != "code":
            continue
        if meta.get("solution") and gid in solutions.GRADED_FUNCTIONS:
            new = synced_answer(cell.source, gid)
        elif meta.get("locked") and gid.startswith("given_"):
            new = synced_given(cell.source)
        else:
            continue
        if new != cell.source:
            cell.source = new
            changed.append(gid)
    return nb, changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "course" / "source").glob("*/*.ipynb"))
    stale = 0
    for path in paths:
        nb, changed = sync_notebook(path)
        if not changed:
            continue
        stale += 1
        if args.check:
            print(f"{path}: out of date with solutions/: {', '.join(changed)}")
        else:
            nbformat.write(nb, path)
            print(f"{path}: updated {', '.join(changed)}")
    if args.check and stale:
        print("run: python tools/sync_notebooks.py")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
