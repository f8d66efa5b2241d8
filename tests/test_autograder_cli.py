"""The instructor command line (python -m autograder) on sample submissions of one assignment.

One temporary copy of the course gets the four sample students of
autograder/samples.py plus a submission that cannot be graded (its notebook
is not JSON); a second copy gets the same submissions. The first is graded
by `python -m autograder grade --workers 2`, the second by plain
`nbgrader autograde`, both with the same AUTOGRADER_SEED (the grading cases
are random otherwise), and every score must agree.
"""
import csv
import os
import shutil
import sqlite3
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

import solutions
from autograder import cli, mistakes, samples
from autograder.report import CSV_COLUMNS, hidden_lines, html_text
from course_tools import BIN, answer_cells, copy_course

ASSIGNMENT = "01_unrolling"
SEED = "20240607"
BROKEN = "broken_notebook"
SAMPLES = list(samples.SAMPLE_STUDENTS)


def _env():
    return {**os.environ, "AUTOGRADER_SEED": SEED,
            "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", "")}


def _autograder(course, *args):
    return subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), *args],
                          capture_output=True, text=True, env=_env(), timeout=1200)


def _nbgrader(course, *args):
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, capture_output=True, text=True,
                          env=_env(), timeout=1200)


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    """(parallel course, plain course, output of the parallel grade run), both graded once."""
    tmp = tmp_path_factory.mktemp("cli")
    course = copy_course(tmp / "parallel")
    run = _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert run.returncode == 0, run.stderr[-3000:]
    assert samples.place_samples(course, ASSIGNMENT) == SAMPLES
    broken = course / "submitted" / BROKEN / ASSIGNMENT
    shutil.copytree(course / "submitted" / "sample_reference" / ASSIGNMENT, broken)
    for path in broken.glob("*.ipynb"):
        path.write_text("{ this is not a notebook")
    plain = tmp / "plain"
    shutil.copytree(course, plain)

    graded = _autograder(course, "grade", ASSIGNMENT, "--workers", "2", "--quiet")
    run = _nbgrader(plain, "autograde", ASSIGNMENT)
    assert "autograded" in {p.name for p in plain.iterdir()}, run.stderr[-3000:]
    return course, plain, graded


def _scores(course):
    """{student: {(notebook, grade cell): (auto_score, max_score, needs_manual_grade)}}."""
    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            out[sub.student.id] = {(nb.name, g.name): (g.auto_score, g.max_score, g.needs_manual_grade)
                                   for nb in sub.notebooks for g in nb.grades}
    return out


def _function_tests(cells):
    """The grade cells that test a graded function (grade_id F_test or F_test_<suffix>)."""
    return {key: v for key, v in cells.items()
            if any(key[1] == f"{f}_test" or key[1].startswith(f"{f}_test_") for f in solutions.GRADED_FUNCTIONS)}


def test_parallel_grading_gives_the_scores_of_plain_nbgrader(courses):
    course, plain, _ = courses
    parallel_scores, plain_scores = _scores(course), _scores(plain)
    assert set(parallel_scores) == set(SAMPLES) | {BROKEN}
    assert parallel_scores == plain_scores


def test_a_failed_submission_is_reported_and_the_class_run_goes_on(courses):
    course, _, graded = courses
    assert graded.returncode == 1, graded.stdout
    lines = {line.split()[0]: line for line in graded.stdout.splitlines() if line.strip()}
    assert "FAILED" in lines[BROKEN]
    for student in SAMPLES:
        assert " graded " in lines[student] + " " and "FAILED" not in lines[student], lines[student]
        assert (course / "autograded" / student / ASSIGNMENT).is_dir()
    assert not (course / "autograded" / BROKEN / ASSIGNMENT).exists()


def test_the_reference_submission_scores_full_marks(courses):
    cells = _function_tests(_scores(courses[0])["sample_reference"])
    assert cells, "no function test cells found"
    for key, (score, max_score, _) in cells.items():
        assert max_score > 0 and score == max_score, f"{key}: {score} / {max_score}"


def test_the_untouched_submission_scores_zero_on_every_function_test(courses):
    cells = _function_tests(_scores(courses[0])["sample_untouched"])
    assert cells and all(score == 0 for score, _, _ in cells.values()), cells


def test_a_second_run_grades_nobody_twice_and_keeps_every_score(courses):
    course = courses[0]
    before = _scores(course)
    again = _autograder(course, "grade", ASSIGNMENT, "--workers", "2", "--quiet")
    for student in SAMPLES:
        assert f"{student} " in again.stdout and "skipped (graded before)" in \
            next(l for l in again.stdout.splitlines() if l.startswith(student + " "))
    assert _scores(course) == before
    with sqlite3.connect(course / "gradebook.db") as db:
        (rows,), = db.execute("SELECT COUNT(*) FROM submitted_assignment").fetchall()
    assert rows == len(SAMPLES) + 1


def test_report_names_the_mistakes_of_the_mistake_submissions(courses):
    course = courses[0]
    run = _autograder(course, "report", ASSIGNMENT, "--csv", str(course / "lms.csv"))
    assert run.returncode == 0, run.stderr[-3000:]
    released = sorted((course / "release" / ASSIGNMENT).glob("*.ipynb"))
    graded_here = [f for p in released for f in answer_cells(nbformat.read(p, as_version=4))]
    assert graded_here
    for name in graded_here:
        # the samples hold the 1st and the 2nd known mistake of each function
        for m in mistakes.mistakes_for(name)[:2]:
            line = next((l for l in run.stdout.splitlines() if m.id in l), None)
            assert line is not None, f"the report does not name {m.id}:\n{run.stdout}"
            assert m.title in line and line.split()[-len(m.title.split()) - 2].isdigit()
    # the untouched sample still has nbgrader's stub in every answer cell
    assert run.stdout.count("(raised NotImplementedError)") == len(graded_here)


def test_the_lms_csv_has_one_row_per_student_with_nbgrader_exports_score(courses):
    course = courses[0]
    run = _autograder(course, "report", ASSIGNMENT, "--csv", str(course / "lms.csv"))
    assert run.returncode == 0, run.stderr[-3000:]
    export = _nbgrader(course, "export", "--to", str(course / "export.csv"))
    assert export.returncode == 0, export.stderr[-3000:]
    with open(course / "lms.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        ours = list(reader)
    with open(course / "export.csv", newline="") as fh:
        theirs = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
    assert sorted(r["student_id"] for r in ours) == sorted(SAMPLES + [BROKEN])
    for row in ours:
        other = theirs[(row["student_id"], row["assignment"])]
        assert float(row["score"]) == float(other["score"])
        assert float(row["max_score"]) == float(other["max_score"]) > 0


def test_feedback_shows_scores_but_no_hidden_test_code(courses):
    course = courses[0]
    run = _autograder(course, "feedback", ASSIGNMENT)
    assert run.returncode == 0, run.stderr[-3000:]
    pages = sorted((course / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert sorted({p.parts[-3] for p in pages}) == sorted(SAMPLES)
    secrets = hidden_lines(course / "source" / ASSIGNMENT)
    assert any("run_hidden_tests" in line for line in secrets)
    for page in pages:
        raw = page.read_text(encoding="utf-8")
        text = html_text(raw)
        assert "BEGIN HIDDEN TESTS" not in raw and "run_hidden_tests" not in text
        assert not [l for l in secrets if l in text], page
        assert "Score:" in text


def test_the_feedback_check_catches_a_page_with_hidden_code(tmp_path):
    """The check itself can fail: a page quoting a hidden line (split by highlighting spans) is caught."""
    from autograder.report import hidden_test_leaks
    page = '<pre><span class="n">run_hidden_tests</span><span class="p">(</span>&quot;F&quot;, globals())</pre>'
    assert hidden_test_leaks(page, {'run_hidden_tests("F", globals())'}) == ['run_hidden_tests("F", globals())']
    assert hidden_test_leaks("<p>Score: 3 / 3</p>", {'run_hidden_tests("F", globals())'}) == []


def test_force_grades_again_and_keeps_a_manual_score(courses):
    course, student = courses[0], "sample_untouched"
    url = f"sqlite:///{course / 'gradebook.db'}"
    key = sorted(_function_tests(_scores(course)[student]))[0]
    with Gradebook(url) as gb:
        grade = gb.find_grade(key[1], key[0], ASSIGNMENT, student)
        grade.manual_score = 0.5
        gb.db.commit()
    run = _autograder(course, "grade", ASSIGNMENT, "--student", student, "--force", "--quiet")
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "skipped" not in next(l for l in run.stdout.splitlines() if l.startswith(student + " "))
    with Gradebook(url) as gb:
        grade = gb.find_grade(key[1], key[0], ASSIGNMENT, student)
        # nbgrader's rule (SaveAutoGrades): an auto score next to a manual one is flagged for review
        assert (grade.manual_score, grade.auto_score, grade.needs_manual_grade) == (0.5, 0.0, True)


@pytest.mark.parametrize("argv, message", [
    (["grade", ASSIGNMENT, "--workers", "0"], "workers must be >= 1"),
    (["grade", "no_such_assignment"], "is not in the gradebook"),
    (["grade", ASSIGNMENT, "--student", "nobody"], "no submission of"),
])
def test_bad_input_gets_a_specific_error(courses, argv, message):
    course = courses[0]
    with pytest.raises((SystemExit, ValueError), match=message):
        cli.main(["--course", str(course), *argv])


def test_the_workers_nbgrader_starts_without_compiling_the_iri_grammars():
    """autograder/run_nbgrader.py: `python -m nbgrader` less ~1.5 s of CPU; nbgrader still works."""
    probe = ("import runpy, sys\n"
             "sys.argv = ['nbgrader', '--version']\n"
             "try:\n"
             "    runpy.run_module('autograder.run_nbgrader', run_name='__main__')\n"
             "except SystemExit as e:\n"
             "    assert not e.code, e.code\n"
             "print('lark imported:', 'lark' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "nbgrader version" in run.stdout and "lark imported: False" in run.stdout, run.stdout


def test_grade_leaves_out_the_course_cells_no_graded_function_needs_and_says_so(courses):
    """Same scores as plain nbgrader (test above), which runs every cell; here the course's own plain cells
    hold a note instead of their output, and the results name them."""
    import json
    from autograder.nbgrader_plugin import NOT_RUN_NOTE, results_path
    course, plain, _ = courses
    for student in ("sample_reference", "sample_mistakes_a"):
        nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        noted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                 and [o.get("text") for o in c.outputs] == [NOT_RUN_NOTE]]
        recorded = json.loads(results_path(course, ASSIGNMENT, student).read_text())
        assert noted and recorded["notebooks"][ASSIGNMENT]["cells_not_run"] == noted
        in_plain = json.loads(results_path(plain, ASSIGNMENT, student).read_text())
        assert in_plain["notebooks"][ASSIGNMENT]["cells_not_run"] == []
