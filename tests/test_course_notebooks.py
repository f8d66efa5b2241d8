"""Course-wide checks of the seven notebooks: committed clean, run headless, release safely."""
import re
import subprocess
import sys

import pytest

import solutions
from course_tools import (ROOT, answer_cells, assignments, copy_course, executed_notebook, load, nbgrader,
                          nbgrader_meta, source_notebooks, source_text)

sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402

NOTEBOOKS = source_notebooks()
CONTRACT_CHECK = ROOT.parent / "shared" / "tools" / "check_contract.py"


def test_the_seven_assignments_exist():
    assert assignments() == ["01_unrolling", "02_bptt", "03_truncation", "04_vanishing_exploding",
                             "05_gated_cells", "06_language_model", "07_exam_review"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_committed_without_outputs_but_with_nbgrader_metadata(path):
    nb = load(path)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, \
                f"{path.name}: a code cell has outputs; clear them before committing"
    assert any(nbgrader_meta(c) for c in nb["cells"]), f"{path.name} lost its nbgrader metadata"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.skipif(not CONTRACT_CHECK.exists(), reason="the contract checker lives in ../shared (outside this repo)")
def test_contract_structure():
    run = subprocess.run([sys.executable, str(CONTRACT_CHECK), str(ROOT)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_source_notebook_executes_without_errors(path):
    """The instructor version (solutions and hidden tests) runs top to bottom headless.

    The run is shared with tests/test_notebook_numbers.py (course_tools.executed_notebook).
    """
    run = executed_notebook(path)
    run.raise_error()
    nb = run.nb
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    print(f"{path.parent.name}: executed in {run.seconds:.1f} s")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A temporary copy of the course with every assignment generated (course/release/)."""
    course = copy_course(tmp_path_factory.mktemp("course") / "course")
    for name in assignments():
        run = nbgrader(course, "generate_assignment", name, "--force")
        assert run.returncode == 0, f"generate_assignment {name} failed:\n{run.stdout}\n{run.stderr}"
    return course


def _released_notebooks(course):
    return sorted((course / "release").glob("*/*.ipynb"))


def test_every_assignment_is_released(released):
    assert [p.parent.name for p in _released_notebooks(released)] == assignments()


def test_released_notebooks_hold_no_solutions_or_hidden_tests(released):
    for path in _released_notebooks(released):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "run_hidden_tests"):
            assert marker not in text, f"{path.name} contains {marker!r}"
        assert not re.search(r"(^|\W)(import solutions|from solutions)", text), f"{path.name} imports solutions"


def test_released_answer_cells_are_stubs_that_raise(released):
    for path in _released_notebooks(released):
        nb = load(path)
        for gid, cell in answer_cells(nb).items():
            src = source_text(cell)
            assert "raise NotImplementedError()" in src and f"def {gid}(" in src, f"{path.name}: {gid}"


def test_released_notebooks_never_show_the_code_they_grade(released):
    """No line of the reference body of a function graded in a notebook appears in its release."""
    for path in _released_notebooks(released):
        text = "\n".join(source_text(c) for c in load(path)["cells"])
        graded_here = answer_cells(load(path))
        # lines the reference shares with functions this notebook may provide are not telling
        shared = {_code(l) for f in solutions.GRADED_FUNCTIONS if f not in graded_here
                  for l in sync_notebooks.reference_source(f).splitlines()}
        for name in graded_here:
            body_lines = [_code(l) for l in sync_notebooks.reference_body(name).splitlines()]
            telling = [l for l in body_lines if len(l) > 25 and l not in shared]
            leaked = [l for l in telling if l in text]
            assert not leaked, f"{path.name} shows reference lines of {name}: {leaked[:2]}"


def _code(line):
    """A line of code without its trailing comment or indentation."""
    return line.split("#")[0].strip()


def test_every_graded_function_is_released_as_a_stub(released):
    stubs = set()
    for path in _released_notebooks(released):
        stubs |= set(answer_cells(load(path)))
    assert stubs == set(solutions.GRADED_FUNCTIONS)
