"""A small nbgrader course built in a temporary folder, for the grading-pipeline tests.

It follows course/AUTHORING.md: an imports cell, and for each graded function
an autograded answer cell (grade_id = the function's name, the reference's
algorithm between BEGIN/END SOLUTION) and a test cell `F_test` whose hidden
block calls autograder.hidden.run_hidden_tests. The course's own
nbgrader_config.py is copied, so the tests run the pipeline the course uses.

Students are made by editing the released notebook's answer cells
(`make_submission`), the way a student would.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ASSIGNMENT = "ps1"
# function -> points of its test cell
FUNCTIONS = {"rnn_step_forward": 2, "rnn_forward": 3, "numerical_gradient": 2, "clip_grad_norm": 2}
TEST_CELL = '''# Graded by the autograder on fresh random inputs when you submit.
# Run the self-check above to test your work now.
### BEGIN HIDDEN TESTS
from autograder.hidden import run_hidden_tests
run_hidden_tests("{name}", globals())
### END HIDDEN TESTS'''


def _sync_tool():
    spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "tools" / "sync_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def answer_source(name):
    """The instructor's answer cell of `name`: def, docstring, reference algorithm inside the solution markers."""
    sync = _sync_tool()
    header, body = sync._function_parts(name)
    indented = "\n".join("    " + line if line else line for line in body.split("\n"))
    return f"{header}\n    ### BEGIN SOLUTION\n{indented}\n    ### END SOLUTION"


def source_notebook(functions=None):
    """The instructor's notebook grading `functions` ({name: points}, default FUNCTIONS)."""
    cells = [new_markdown_cell("# Pipeline test assignment"),
             new_code_cell("import numpy as np", metadata=_meta("imports_01", locked=True))]
    for name, points in (functions or FUNCTIONS).items():
        cells.append(new_markdown_cell(f"## `{name}`"))
        cells.append(new_code_cell(answer_source(name), metadata=_meta(name, solution=True)))
        cells.append(new_code_cell(TEST_CELL.format(name=name),
                                   metadata=_meta(f"{name}_test", grade=True, locked=True, points=points)))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_course(dest, opt_in_unsandboxed=True, functions=None):
    """A course folder at `dest` with the real nbgrader_config.py and one assignment; returns its path.

    opt_in_unsandboxed: outside CI, on a machine without a working bubblewrap, let the course grade its
    test submissions unsandboxed (tests/system_tools.py); False keeps the course's fail-closed config.
    functions: {graded function: points} of the assignment (default FUNCTIONS)."""
    dest = Path(dest)
    (dest / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "course" / "nbgrader_config.py", dest / "nbgrader_config.py")
    if opt_in_unsandboxed:
        from system_tools import opt_in_unsandboxed_outside_ci
        opt_in_unsandboxed_outside_ci(dest / "nbgrader_config.py")
    nbformat.write(source_notebook(functions), dest / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return dest


def nbgrader(course, *args, timeout=900):
    """Run an nbgrader command from the course root; the CompletedProcess (never raises)."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs `alembic`
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, capture_output=True, text=True,
                          timeout=timeout, env=env)


def released(course):
    return nbformat.read(Path(course) / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def cell_by_id(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def make_submission(course, student, answers=None, edit=None):
    """submitted/<student>/ps1/ps1.ipynb: the released notebook with answer cells replaced.

    answers: {grade_id: new source}; edit: optional callable(nb) for anything else
    (tags, extra cells). Returns the notebook's path.
    """
    nb = released(course)
    for grade_id, source in (answers or {}).items():
        cell_by_id(nb, grade_id).source = source
    if edit is not None:
        edit(nb)
    path = Path(course) / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def autograded(course, student):
    return nbformat.read(Path(course) / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                         as_version=4)


def scores(course, student):
    """{grade_id: auto_score} from the gradebook, for the test cells."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {g.name: g.auto_score for g in nb.grades if g.name.endswith("_test")}


def results(course, student):
    return json.loads((Path(course) / "autograder_results" / ASSIGNMENT / f"{student}.json").read_text())
