"""Which cells a graded run leaves out (autograder/needed_cells.py): only the course's own plain cells whose
names no running cell reads, and none at all when a running cell may read any name."""
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import needed_cells
from autograder.nbgrader_plugin import graded_functions
from nbgrader import utils

COURSE = Path(__file__).resolve().parents[1] / "course" / "source"
GRADED = ("rnn_forward",)


def answer(source, grade_id="rnn_forward"):
    return new_code_cell(source, metadata={"nbgrader": {"solution": True, "grade": False, "locked": False,
                                                        "grade_id": grade_id, "schema_version": 3}})


def given(source):
    return new_code_cell(source, metadata={"nbgrader": {"solution": False, "grade": False, "locked": True,
                                                        "grade_id": "given_imports", "schema_version": 3}})


EXPLORATION = [
    "problem = make_problem(seed=0)\nh = 3",          # binds problem, h
    "SCALE = 2.0",                                     # binds SCALE
    "show(rnn_forward, problem)",                      # binds nothing
]


def skipped(student_cells, course_cells=EXPLORATION, graded=GRADED):
    """The sources of the student's cells a graded run leaves out, the course's plain cells being course_cells."""
    nb = new_notebook(cells=student_cells)
    course = new_notebook(cells=[new_code_cell(s) for s in course_cells])
    run = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    left_out = needed_cells.cells_not_needed(nb.cells, run, needed_cells.course_plain_sources(course), graded)
    return [nb.cells[i].source for i in left_out]


def test_exploration_cells_nobody_reads_are_left_out():
    cells = [given("import numpy as np"), *map(new_code_cell, EXPLORATION),
             answer("def rnn_forward(x):\n    h = np.tanh(x)\n    return h")]
    # the answer's local h is not the exploration cell's global h
    assert skipped(cells) == EXPLORATION


def test_a_cell_binding_what_an_answer_reads_runs_and_so_does_what_it_reads():
    cells = [*map(new_code_cell, EXPLORATION), new_code_cell("OFFSET = SCALE + 1"),
             answer("def rnn_forward(x):\n    return x * OFFSET")]
    course = EXPLORATION + ["OFFSET = SCALE + 1"]
    assert skipped(cells, course) == [EXPLORATION[0], EXPLORATION[2]]


def test_a_default_argument_is_read_where_the_function_is_defined():
    cells = [*map(new_code_cell, EXPLORATION), answer("def rnn_forward(x, s=SCALE):\n    return x * s")]
    assert EXPLORATION[1] not in skipped(cells)


def test_a_cell_the_student_wrote_or_edited_always_runs():
    edited = EXPLORATION[1] + "  # my note"
    cells = [new_code_cell(EXPLORATION[0]), new_code_cell(edited), new_code_cell("print('mine')"),
             answer("def rnn_forward(x):\n    return x")]
    assert skipped(cells) == [EXPLORATION[0]]


def test_a_course_cell_that_rebinds_a_graded_function_or_changes_a_read_module_runs():
    course = ["rnn_forward = wrapped(rnn_forward)", "np.tanh = lambda z: z", "from helpers import *"]
    cells = [given("import numpy as np"), *map(new_code_cell, course),
             answer("def rnn_forward(x):\n    return np.tanh(x)")]
    assert skipped(cells, course) == []


def test_a_name_bound_by_except_as_counts_as_bound():
    course = ["try:\n    import fast_backend\nexcept ImportError as missing:\n    pass"]
    cells = [*map(new_code_cell, course), answer("def rnn_forward(x):\n    return missing")]
    assert skipped(cells, course) == []


@pytest.mark.parametrize("reader", [
    "def rnn_forward(x):\n    return x * globals()['SCALE']",
    "def rnn_forward(x):\n    return eval('x * SCALE')",
    "import sys\ndef rnn_forward(x):\n    return x * sys.modules['__main__'].SCALE",
    "def rnn_forward(x):\n    return x * get_ipython().user_ns['SCALE']",
    "%load_ext autoreload\ndef rnn_forward(x):\n    return x",
])
def test_a_running_cell_that_may_read_any_name_keeps_every_cell(reader):
    cells = [*map(new_code_cell, EXPLORATION), answer(reader)]
    assert skipped(cells) == []


def test_trailing_white_space_does_not_count_as_an_edit():
    cells = [new_code_cell(EXPLORATION[1] + "   \n\n"), answer("def rnn_forward(x):\n    return x")]
    assert skipped(cells) == [EXPLORATION[1] + "   \n\n"]


@pytest.mark.parametrize("path", sorted(COURSE.glob("0[1-6]_*/*.ipynb")), ids=lambda p: p.stem)
def test_with_the_reference_answers_every_plain_cell_of_the_course_is_left_out(path):
    """Where the speed of `grade` comes from. A plain cell that a provided or answer cell needs (a
    constant, a helper) would run instead, correctly, and this test would name it: then update the
    benchmark's numbers, not this rule."""
    nb = nbformat.read(path, as_version=4)
    run = [i for i, c in enumerate(nb.cells)
           if c.cell_type == "code" and not (utils.is_grade(c) and not utils.is_solution(c))]
    left_out = needed_cells.cells_not_needed(nb.cells, run, needed_cells.course_plain_sources(nb),
                                             graded_functions())
    plain = [i for i in run if needed_cells.is_plain(nb.cells[i])]
    assert plain and left_out == plain, [nb.cells[i].source.splitlines()[0] for i in set(plain) - set(left_out)]
