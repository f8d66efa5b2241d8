"""Sample student submissions, built from the released notebooks, the same every time.

    sample_reference   every answer cell completed with the reference's body
    sample_mistakes_a  every answer cell replaced by the 1st known mistake of its
                       function (autograder/mistakes/); the reference where none is known
    sample_mistakes_b  the same with the 2nd known mistake (the 1st if only one is known)
    sample_untouched   the released notebooks as handed out (every function raises)

The reference body is the one the notebook sync tool writes into the source
notebooks (tools/sync_notebooks.py, `reference_body`), so a sample solves
the notebook exactly as the instructor version does. Cells that are not
answers to a graded function (written answers, for instance) are left as
released. `place_samples` writes them where `nbgrader collect` would:
submitted/<student>/<assignment>/, with a fixed timestamp.txt.
"""
import functools
import importlib.util
import shutil
from pathlib import Path

import nbformat

import solutions
from autograder import mistakes

REPO = Path(__file__).resolve().parents[1]
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")   # what nbgrader leaves in an answer cell
TIMESTAMP = "2026-01-15 12:00:00.000000 UTC"


@functools.lru_cache(maxsize=None)
def _sync_tool():
    """tools/sync_notebooks.py, loaded as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("sync_notebooks", REPO / "tools" / "sync_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reference_body(name):
    """The reference's body of graded function `name`, as tools/sync_notebooks.py writes it into notebooks."""
    return _sync_tool().reference_body(name)


def completed_answer(source, name):
    """An answer cell's released source with the stub replaced by the reference's body (same indentation)."""
    lines = source.split("\n")
    for i in range(len(lines) - 1):
        if lines[i].strip() == STUB[0] and lines[i + 1].strip() == STUB[1]:
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            body = [indent + l if l else l for l in _reference_body(name).split("\n")]
            return "\n".join(lines[:i] + body + lines[i + 2:])
    raise ValueError(f"answer cell {name!r} has no nbgrader stub ({STUB[0]!r} then {STUB[1]!r}) to complete")


def _nth_mistake(name, n):
    """The n-th known mistake of `name` (the last one if fewer are known), or None if none is known."""
    known = mistakes.mistakes_for(name)
    return known[min(n, len(known) - 1)] if known else None


def _answer_with_mistake(n):
    def answer(source, name):
        mistake = _nth_mistake(name, n)
        return mistake.source if mistake is not None else completed_answer(source, name)
    return answer


# student id -> how an answer cell of graded function F is written (None: left as released)
SAMPLE_STUDENTS = {
    "sample_reference": completed_answer,
    "sample_mistakes_a": _answer_with_mistake(0),
    "sample_mistakes_b": _answer_with_mistake(1),
    "sample_untouched": None,
}


def answer_cell_name(cell):
    """The graded function an answer cell defines (its grade_id), or None for any other cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    gid = meta.get("grade_id")
    if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade") and gid in solutions.GRADED_FUNCTIONS:
        return gid
    return None


def sample_notebook(released_path, write_answer):
    """The released notebook at released_path with every graded answer cell rewritten by write_answer(source, F)."""
    nb = nbformat.read(released_path, as_version=4)
    if write_answer is not None:
        for cell in nb.cells:
            name = answer_cell_name(cell)
            if name is not None:
                cell.source = write_answer(cell.source, name)
    return nb


def place_samples(course_root, assignment, students=None):
    """Write the sample submissions of `assignment` into <course_root>/submitted/; return the student ids.

    Needs <course_root>/release/<assignment>/ (nbgrader generate_assignment).
    A sample's previous submission folder is replaced.
    """
    course_root = Path(course_root)
    release = course_root / "release" / assignment
    notebooks = sorted(release.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no released notebooks in {release}: run `nbgrader generate_assignment {assignment}`")
    students = list(students or SAMPLE_STUDENTS)
    unknown = [s for s in students if s not in SAMPLE_STUDENTS]
    if unknown:
        raise ValueError(f"unknown sample students {unknown}; choose from {list(SAMPLE_STUDENTS)}")
    for student in students:
        dest = course_root / "submitted" / student / assignment
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(release, dest)
        for path in notebooks:
            nbformat.write(sample_notebook(path, SAMPLE_STUDENTS[student]), dest / path.name)
        (dest / "timestamp.txt").write_text(TIMESTAMP)
    return students
