"""The whole nbgrader exchange cycle on one machine, as on The Littlest JupyterHub.

release_assignment -> fetch_assignment -> submit -> collect -> autograde
(python -m autograder grade) -> feedback (python -m autograder feedback) ->
release_feedback -> fetch_feedback, with the exchange in a temporary folder
(`--Exchange.root`). nbgrader 0.9.6 takes the student ID of submit and
fetch_feedback from the Unix user of the process (pwd, not $USER), as on a
hub where every student's server runs as that student: here the one student
is the user running the tests. The student commands run from the student's
own folder with HOME set to it (nbgrader keeps its submission cache there)
and without the course's config: only `--course` and the exchange root tell
them where to look.
"""
import html
import os
import pwd
import re
import subprocess
import sys

import nbformat
import pytest

from autograder import samples
from autograder.report import hidden_lines, html_text
from course_tools import BIN, COURSE, copy_course

ASSIGNMENT = "01_unrolling"
STUDENT = pwd.getpwuid(os.getuid()).pw_name   # the Unix user name is the student ID
COURSE_ID = "bptt"


def _env(**extra):
    # nbgrader runs the `alembic` program when it creates a gradebook: the venv's bin must be on PATH
    return {**os.environ, "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""), **extra}


def _run(args, cwd, env, timeout=900):
    run = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"{' '.join(map(str, args[:4]))} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub")
    course = copy_course(tmp / "course")
    exchange, home = tmp / "exchange", tmp / "home" / STUDENT
    exchange.mkdir()
    home.mkdir(parents=True)
    exchange_opt = f"--Exchange.root={exchange}"
    instructor_env = _env()
    student_env = _env(HOME=str(home))

    def instructor(*args):
        return _run([str(BIN / "nbgrader"), *args, exchange_opt], course, instructor_env)

    def student(*args):
        return _run([str(BIN / "nbgrader"), *args, "--course", COURSE_ID, exchange_opt], home, student_env)

    instructor("generate_assignment", ASSIGNMENT, "--force")
    instructor("release_assignment", ASSIGNMENT, "--force")
    student("fetch_assignment", ASSIGNMENT)
    # the student completes every answer cell with the reference, as the sample `sample_reference` does
    for path in sorted((home / ASSIGNMENT).glob("*.ipynb")):
        nbformat.write(samples.sample_notebook(path, samples.SAMPLE_STUDENTS["sample_reference"]), path)
    student("submit", ASSIGNMENT)
    instructor("collect", ASSIGNMENT)
    grade = _run([sys.executable, "-m", "autograder", "--course", str(course), "grade", ASSIGNMENT,
                  "--workers", "1", "--quiet"], course, instructor_env)
    _run([sys.executable, "-m", "autograder", "--course", str(course), "feedback", ASSIGNMENT],
         course, instructor_env)
    instructor("release_feedback", ASSIGNMENT)
    student("fetch_feedback", ASSIGNMENT)
    return {"course": course, "home": home, "grade_output": grade.stdout}


def test_collect_names_the_submission_after_the_unix_user(cycle):
    assert (cycle["course"] / "submitted" / STUDENT / ASSIGNMENT).is_dir()
    assert (cycle["course"] / "autograded" / STUDENT / ASSIGNMENT).is_dir()


def _fetched_feedback(cycle):
    pages = sorted((cycle["home"] / ASSIGNMENT / "feedback").glob("*/*.html"))
    assert pages, f"no feedback fetched into {cycle['home'] / ASSIGNMENT / 'feedback'}"
    return pages


def test_fetched_feedback_shows_the_full_score(cycle):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{cycle['course'] / 'gradebook.db'}") as gb:
        sub = gb.find_submission(ASSIGNMENT, STUDENT)
        score, max_score = sub.score, sub.max_score
    assert max_score > 0 and score == max_score, f"{STUDENT} scored {score} / {max_score} with the reference"
    for page in _fetched_feedback(cycle):
        text = html_text(page.read_text(encoding="utf-8"))
        # nbgrader's feedback template prints "Score: <score> / <max score>" at the top
        found = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
        assert found, f"{page.name} shows no score"
        assert float(found.group(1)) == float(found.group(2)) > 0, f"{page.name}: {found.group(0)}"


def test_fetched_feedback_holds_no_hidden_tests(cycle):
    secrets = hidden_lines(COURSE / "source" / ASSIGNMENT)
    assert secrets, "the source notebook has no hidden test lines to look for"
    for page in _fetched_feedback(cycle):
        raw = page.read_text(encoding="utf-8")
        text = html_text(raw)
        assert "BEGIN HIDDEN TESTS" not in raw and "BEGIN HIDDEN TESTS" not in text
        shown = [line for line in secrets if line in text or html.escape(line) in raw]
        assert not shown, f"{page.name} shows hidden test code: {shown[:2]}"
