"""Grading a class with hostile and broken submissions (issue "Untrusted submissions").

One course (tests/pipeline_helpers.make_course: 4 graded functions, 9 points),
graded with the sandbox on (the course config fails closed: the suite fails
where bubblewrap is missing rather than testing the unsandboxed path):

1. honest students and a `canary` are graded alone (run A);
2. one class run (run B, 2 workers) grades the honest students again together
   with one submission per behaviour of tests/hostile/submissions.py.

Then, for every hostile submission: its score is what its honest content
earns (never more); the honest students score exactly what they scored
alone; gradebook rows and files of the canary (not in run B) are
byte-identical; submitted/ and source/ are byte-identical; no process an
attack started survives; run B finishes within a bound; and the notebook or
the instructor's table says what happened.

Last, the class run is killed with SIGKILL midway and run again: every
student ends up graded once, nothing lost, nobody graded twice.
"""
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from system_tools import needs_bubblewrap
from nbgrader.api import Gradebook, MissingEntry

import pipeline_helpers as ph
from autograder import cli, sandbox
from autograder.nbgrader_plugin import MAX_RESTARTS
from hostile.submissions import HOSTILE, MARKER, Context

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bubblewrap sandboxes exist on Linux only"), needs_bubblewrap()]

A = ph.ASSIGNMENT
SEED = "20261125"
# the pipeline course plus a function whose stand-in (rnn_forward) loops over time: stand-in work is attackable
FUNCTIONS = {**ph.FUNCTIONS, "gradient_contributions": 2}
HONEST = {"honest_full": tuple(FUNCTIONS), "honest_partial": ("rnn_step_forward", "clip_grad_norm")}
CANARY = "canary"
CELL_SECONDS, NOTEBOOK_SECONDS = 8, 20
WORKERS = 2
NBGRADER_START_SECONDS = 20      # nbgrader's imports, conversion and gradebook work per student (generous)


def run_b_bound(students):
    """Worst case of a class run: each notebook uses its kernel (and every restart) to the notebook limit."""
    per_notebook = (MAX_RESTARTS + 1) * NOTEBOOK_SECONDS + NBGRADER_START_SECONDS
    return students * per_notebook / WORKERS


SANDBOX_CONFIG = f"""
c.GradeOutsideKernel.sandbox = True
c.GradeOutsideKernel.timeout = {CELL_SECONDS}
c.GradeOutsideKernel.call_timeout = 5.0
c.GradeOutsideKernel.limits = {{"notebook_seconds": {NOTEBOOK_SECONDS}, "memory_mb": 1500,
                                "address_space_mb": 3072, "cpu_seconds": 60}}
"""


def points(functions):
    return float(sum(FUNCTIONS[f] for f in functions))


def write_student(course, student, correct, attack=None, ctx=None):
    answers = {name: ph.answer_source(name) for name in correct}
    path = ph.make_submission(course, student, answers)
    if attack is not None:
        nb = attack(nbformat.read(path, as_version=4), ctx, path.parent)
        if nb is not None:   # None: the attack wrote the folder itself
            nbformat.write(nb, path)


def files(folder):
    """{relative path: bytes} of every file under folder; a symlink counts as its target's path."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): (f"-> {os.readlink(p)}".encode() if p.is_symlink() else p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()}


def gradebook_rows(course, student):
    """Everything the gradebook holds for one submission, as plain data."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        try:
            sub = gb.find_submission(A, student)
        except MissingEntry:
            return None
        return [str(sub.timestamp)] + sorted(
            (nb.name, g.name, g.auto_score, g.manual_score, g.needs_manual_grade, g.extra_credit)
            for nb in sub.notebooks for g in nb.grades)


def scores_merged(course, student):
    """The gradebook holds this submission's automatic scores (a kill can land between its row and its scores)."""
    rows = gradebook_rows(course, student)
    return bool(rows) and any(auto is not None for _, _, auto, *rest in rows[1:])


def submission_count(course, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return sum(1 for s in gb.find_assignment(A).submissions if s.student.id == student)


def leftovers(course):
    """Processes a submission of this course left behind: the attacks' marker in the command line,
    or a working folder inside the course (every grading kernel works in autograded/<student>/)."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error, TypeError, ValueError):
            if any(MARKER in part for part in p.info["cmdline"] or []) or \
                    Path(p.cwd()).is_relative_to(course):
                found.append((p.pid, p.info["cmdline"]))
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    assert sandbox.sandbox_status().sandboxed, sandbox.sandbox_status().detail
    old_seed = os.environ.get("AUTOGRADER_SEED")
    os.environ["AUTOGRADER_SEED"] = SEED
    try:
        course = ph.make_course(tmp_path_factory.mktemp("hostile") / "course", functions=FUNCTIONS)
        with open(course / "nbgrader_config.py", "a") as f:
            f.write(SANDBOX_CONFIG)
        run = ph.nbgrader(course, "generate_assignment", A)
        assert run.returncode == 0, run.stderr[-2000:]
        for student, correct in {**HONEST, CANARY: ("rnn_step_forward",)}.items():
            write_student(course, student, correct)
        alone = cli.grade_class(cli.Course(course), A, workers=2, students=[*HONEST, CANARY], progress=False)
        assert [r.status for r in alone] == ["graded"] * 3, alone
        scores_alone = {s: ph.scores(course, s) for s in HONEST}
        canary_before = {"rows": gradebook_rows(course, CANARY),
                         "files": {k: files(course / k / CANARY) for k in ("submitted", "autograded")},
                         "results": (course / "autograder_results" / A / f"{CANARY}.json").read_bytes()}

        ctx = Context(course=course, victim=CANARY, assignment=A)
        for h in HOSTILE:
            write_student(course, h.name, h.correct, h.attack, ctx)
        submitted_before, source_before = files(course / "submitted"), files(course / "source")
        config_before = (course / "nbgrader_config.py").read_bytes()

        start = time.monotonic()
        results = cli.grade_class(cli.Course(course), A, workers=WORKERS, force=True, timeout=300,
                                  students=[*HONEST, *(h.name for h in HOSTILE)], progress=False)
        seconds = time.monotonic() - start
        time.sleep(1)
        yield {"course": course, "results": {r.student: r for r in results}, "seconds": seconds,
               "scores_alone": scores_alone, "canary_before": canary_before,
               "submitted_before": submitted_before, "source_before": source_before,
               "config_before": config_before, "leftovers": leftovers(course)}
    finally:
        if old_seed is None:
            os.environ.pop("AUTOGRADER_SEED", None)
        else:
            os.environ["AUTOGRADER_SEED"] = old_seed


def total(course, student):
    return sum(v or 0.0 for v in ph.scores(course, student).values())


def test_class_run_finished_in_bounded_time(graded):
    students = len(graded["results"])
    assert graded["seconds"] < run_b_bound(students), f"run B took {graded['seconds']:.0f} s"


def test_honest_students_score_exactly_what_they_score_alone(graded):
    course = graded["course"]
    for student, correct in HONEST.items():
        assert graded["results"][student].status.startswith("graded"), graded["results"][student]
        assert ph.scores(course, student) == graded["scores_alone"][student]
        assert total(course, student) == points(correct)


def test_gradebook_rows_and_files_of_others_are_unchanged(graded):
    course, before = graded["course"], graded["canary_before"]
    assert gradebook_rows(course, CANARY) == before["rows"]
    for kind, content in before["files"].items():
        assert files(course / kind / CANARY) == content, kind
    assert (course / "autograder_results" / A / f"{CANARY}.json").read_bytes() == before["results"]


def test_submissions_and_course_source_are_unchanged(graded):
    course = graded["course"]
    assert files(course / "submitted") == graded["submitted_before"]
    assert files(course / "source") == graded["source_before"]
    assert (course / "nbgrader_config.py").read_bytes() == graded["config_before"]


def test_no_process_an_attack_started_survives(graded):
    assert graded["leftovers"] == []


# Behaviours the sandbox contains but the grading pipeline (autograder/nbgrader_plugin.py) does not
# yet turn into a graded notebook: the whole submission fails, so honest content earns 0.
# strict: these start failing (XPASS) the day the pipeline handles them; then delete the entry.
PIPELINE_GAPS = {}
# Holes outside the kernel (nbgrader itself reads the submission as the grader): strict xfails too.
NBGRADER_HOLES = {}


def hostile_params():
    for h in HOSTILE:
        reason = PIPELINE_GAPS.get(h.name) or NBGRADER_HOLES.get(h.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(h, id=h.name, marks=marks)


@pytest.mark.parametrize("h", list(hostile_params()))
def test_hostile_submission(graded, h):
    course, result = graded["course"], graded["results"][h.name]
    if h.whole_submission_fails:
        # the instructor's table names the student; never more than the honest content
        assert result.status == "FAILED" or result.status.startswith("graded"), result
        if result.status.startswith("graded"):
            assert total(course, h.name) <= points(h.correct)
        else:
            assert result.message, "a failed submission must say why"
        return
    assert result.status.startswith("graded"), result   # "graded" or "graded, needs manual grade"
    score = total(course, h.name)
    assert score <= points(h.correct), f"{h.name} scored {score}, more than its honest content"
    if h.name not in ("input_ast_transformers", "duplicated_split_cells", "stripped_metadata"):
        assert score == points(h.correct), f"{h.name} scored {score}, its honest content earns {points(h.correct)}"
    if h.words:
        text = (course / "autograded" / h.name / A / f"{A}.ipynb").read_text()
        text += str(ph.results(course, h.name)["notebooks"][A].get("notes"))
        assert h.words in text, f"{h.words!r} not in the feedback of {h.name}"


def test_building_blocks_are_graded_first_whatever_the_cell_order(graded):
    """Class 8: rnn_forward's cell comes first and keeps its rnn_step_forward stand-in's answers; graded in
    the course's order, rnn_step_forward is checked before any of them exist, and replaying earns nothing."""
    record = ph.results(graded["course"], "harvest_stand_ins")["notebooks"][A]
    functions = record["functions"]
    assert record["grading_order"][:2] == ["rnn_step_forward", "rnn_forward"], record["grading_order"]
    assert functions["rnn_step_forward"]["fraction"] == 0.0, functions["rnn_step_forward"]["message"]
    assert functions["rnn_forward"]["fraction"] == 1.0, functions["rnn_forward"]["message"]
    assert record["limits_in_force"]["memory_mb"]["value"] == 1500      # the results say which limits held


def test_reaching_outside_leaked_nothing(graded):
    nb = ph.autograded(graded["course"], "reach_outside")
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "LEAKS []" in printed, printed[-2000:]


# ----------------------------------------------------------------------------- kill midway, run again

KILLED = {f"k{i}": ("rnn_step_forward",) if i % 2 else tuple(FUNCTIONS) for i in range(4)}


def cli_grade(course, *extra):
    """The class run of KILLED as a work queue of one student per nbgrader process, two at a time: the last
    student is merged at least one whole nbgrader run after the first (k2, k3 start when k0 or k1 ends)."""
    env = dict(os.environ, AUTOGRADER_SEED=SEED, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.Popen([sys.executable, "-m", "autograder", "--course", str(course), "grade", A,
                             "--workers", "2", "--batch-size", "1", "--quiet", "--timeout", "300",
                             "--student", *KILLED, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def first_report(run, timeout=600):
    """Block until the grader reports its first student as graded ("<student>: graded (1/4)": it is then
    in the gradebook); that line, or None if the run ended first (or was stopped after `timeout`)."""
    import threading
    watchdog = threading.Timer(timeout, run.kill)
    watchdog.start()
    try:
        return next((line for line in run.stdout if ": graded (" in line), None)
    finally:
        watchdog.cancel()


def test_sigkill_midway_then_rerun_loses_nothing_and_grades_nobody_twice(graded):
    course = graded["course"]
    for student, correct in KILLED.items():
        write_student(course, student, correct)
    run = cli_grade(course)
    report = first_report(run)       # synchronised on the grader's own report, not on a sleep
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert report, "the class run ended, or reported no student graded, before it could be killed: " + \
        run.stderr.read()[-3000:]
    graded_before_rerun = {s for s in KILLED if scores_merged(course, s)}
    assert 0 < len(graded_before_rerun) < len(KILLED), "the kill did not land midway"
    rows_before = {s: gradebook_rows(course, s) for s in graded_before_rerun}

    rerun = cli_grade(course)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, out + err[-3000:]
    for student, correct in KILLED.items():
        assert submission_count(course, student) == 1
        line = next(l for l in out.splitlines() if l.startswith(student + " "))
        assert total(course, student) == points(correct), (student, line, sorted(graded_before_rerun), err[-2000:])
        if student in graded_before_rerun:
            assert "skipped (graded before)" in line, line
            assert gradebook_rows(course, student) == rows_before[student]
        else:
            assert line.rstrip().endswith("graded"), line
    assert wait_for_no_leftovers(course) == []


def wait_for_no_leftovers(course, seconds=30):
    """leftovers(course) once it is empty, or as it still is after `seconds` (processes take a moment to exit)."""
    deadline = time.monotonic() + seconds
    while (found := leftovers(course)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found
