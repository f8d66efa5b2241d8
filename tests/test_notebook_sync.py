"""The notebooks' copies of reference code agree with solutions/ (the one source of truth)."""
import ast
import subprocess
import sys

import pytest

import solutions
from course_tools import ROOT, answer_cells, load, nbgrader_meta, source_notebooks, source_text

sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402

NOTEBOOKS = source_notebooks()


def test_there_are_notebooks():
    assert NOTEBOOKS, "course/source/ holds no notebooks"


def test_sync_tool_finds_nothing_out_of_date():
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "sync_notebooks.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_sync_tool_detects_an_edited_solution(tmp_path):
    """The check above can fail: a hand edit inside a solution region is reported."""
    nb_path = next(p for p in NOTEBOOKS if answer_cells(load(p)))
    nb = load(nb_path)
    cell = next(iter(answer_cells(nb).values()))
    src = source_text(cell).replace("### END SOLUTION", "    pass  # edited by hand\n### END SOLUTION")
    cell["source"] = src
    copy = tmp_path / nb_path.name
    import json
    copy.write_text(json.dumps(nb))
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "sync_notebooks.py"), "--check", str(copy)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "out of date" in run.stdout


def test_every_graded_function_has_exactly_one_answer_cell():
    where = {}
    for path in NOTEBOOKS:
        for gid in answer_cells(load(path)):
            assert gid not in where, f"{gid} is answered in {where[gid]} and {path.name}"
            where[gid] = path.name
    assert sorted(where) == sorted(solutions.GRADED_FUNCTIONS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_provided_cells_hold_only_earlier_functions(path):
    """A provided (given_) cell never gives away a function graded in the same or a later notebook."""
    order = {p.parent.name: i for i, p in enumerate(NOTEBOOKS)}
    graded_in = {gid: p.parent.name for p in NOTEBOOKS for gid in answer_cells(load(p))}
    nb = load(path)
    for cell in nb["cells"]:
        gid = nbgrader_meta(cell).get("grade_id", "")
        if not gid.startswith("given_"):
            continue
        assert nbgrader_meta(cell).get("locked"), f"{gid} must be a locked (read-only) cell"
        for node in ast.parse(source_text(cell)).body:
            if isinstance(node, ast.FunctionDef) and node.name in graded_in:
                assert order[graded_in[node.name]] < order[path.parent.name], (
                    f"{path.name}: provided cell {gid} defines {node.name}, graded in {graded_in[node.name]}")


@pytest.mark.parametrize("name", solutions.GRADED_FUNCTIONS)
def test_reference_body_runs_without_input_checks(name):
    """What the sync tool copies is a complete algorithm: exec'd alone it matches solutions/."""
    import numpy as np
    namespace = {"np": np}
    for other in solutions.GRADED_FUNCTIONS:      # a body may call earlier functions by name
        exec(sync_notebooks.reference_source(other), namespace)
    from autograder.cases import cases_for          # inputs of the right shapes for every function
    from autograder.evaluate import prepare_args
    for case in cases_for(name, seed=0)[:3]:
        got = namespace[name](*prepare_args(case.args))
        want = getattr(solutions, name)(*prepare_args(case.args))
        _assert_same(got, want)


def _assert_same(got, want):
    import numpy as np
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same(g, w)
    elif isinstance(want, dict):
        assert got.keys() == want.keys()
        for key in want:
            _assert_same(got[key], want[key])
    else:
        np.testing.assert_array_equal(got, want)
