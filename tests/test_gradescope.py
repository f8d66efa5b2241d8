"""Gradescope: the autograder zip, and run_autograder in a simulated /autograder layout.

`python -m autograder gradescope 01_unrolling` builds the zip from a copy of
the course; each test unpacks it as Gradescope does (<root>/source holds the
zip's contents, <root>/run_autograder the script, <root>/submission the
upload), runs run_autograder with GRADESCOPE_ROOT=<root> and the project's
Python, and validates <root>/results/results.json against a JSON Schema
written from Gradescope's specification (tests/schemas/). Submissions: the
reference answers (honest), the first known mistake of every function
(wrong), and a hostile notebook that tries to read the reference, the
gradebook and the instructor notebook, and to write its own results.

Gradescope runs everything as root in one container: the hostile submission
is graded with bubblewrap and, as root, with the separate-user fallback used
where bubblewrap cannot run (GRADESCOPE_SANDBOX=user).
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from autograder import gradescope, mistakes, samples
from autograder.nbgrader_plugin import function_of_test, graded_functions
from course_tools import BIN, copy_course
from system_tools import needs_bubblewrap

ASSIGNMENT = "01_unrolling"
SEED = "424242"
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope_results.schema.json").read_text())
FUNCTIONS = ["rnn_step_forward", "rnn_forward"]
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the separate-user fallback needs root (as on Gradescope)")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(zip path, {function: points}) built by the command line from a copy of the course."""
    tmp = tmp_path_factory.mktemp("gs")
    course = copy_course(tmp / "course")
    out = tmp / "autograder.zip"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), "gradescope", ASSIGNMENT,
                          "--out", str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    points = gradescope.test_cell_points(course / "source" / ASSIGNMENT)
    return out, points


def released(zip_path, tmp):
    with zipfile.ZipFile(zip_path) as z:
        z.extract(f"student_notebooks/{ASSIGNMENT}.ipynb", tmp)
    return tmp / "student_notebooks" / f"{ASSIGNMENT}.ipynb"


def run_autograder(zip_path, tmp, notebook, mode, name=f"{ASSIGNMENT}.ipynb", python=sys.executable):
    """Unpack as Gradescope does, submit `notebook`, run run_autograder; (results dict, root, process)."""
    root = tmp / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    if python != sys.executable:       # what setup.sh does for the image's venv
        site = next(Path(python).parent.parent.glob("lib/python3*/site-packages"))
        (site / "bptt_course.pth").write_text(f"{root / 'source' / 'grader'}\n{root / 'source' / 'student_lib'}\n")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    nbformat.write(notebook, root / "submission" / name)
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADESCOPE_PYTHON": str(python),
           "GRADESCOPE_SANDBOX": mode, "AUTOGRADER_SEED": SEED,
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run([str(root / "run_autograder")], cwd=root, capture_output=True, text=True, env=env,
                         timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results, root, run


def scored(results):
    return {t["name"]: t for t in results["tests"] if t["visibility"] == "visible"}


def test_schema_refuses_what_gradescope_refuses():
    jsonschema.validate({"score": 1.0, "tests": []}, SCHEMA)
    for bad in ({"tests": [{"name": "x"}]},                                   # no score anywhere
                {"score": 1, "tests": [{"score": 1, "visibility": "students"}]},
                {"score": "1"}, {"score": 1, "tests": [{"score": 1, "tag": ["x"]}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)


def test_zip_layout(built):
    zip_path, points = built
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        run_script = z.read("run_autograder").decode()
    for required in ("setup.sh", "run_autograder", "requirements.txt", "assignment.txt",
                     "course/nbgrader_config.py", "course/gradebook.db", f"course/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                     f"student_notebooks/{ASSIGNMENT}.ipynb", "grader/autograder/gradescope.py",
                     "grader/solutions/__init__.py", "student_lib/bpttlab/__init__.py"):
        assert required in names, required
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert not any(n.startswith("student_lib/") and "solutions" in n for n in names)
    assert not any(n.startswith(("course/release", "course/autograded", "course/submitted")) for n in names)
    assert "GRADESCOPE_ROOT" in run_script
    assert set(points) == set(FUNCTIONS) and all(p > 0 for p in points.values())
    for script in ("setup.sh", "run_autograder"):
        with zipfile.ZipFile(zip_path) as z:
            text = z.read(script).decode()
        assert subprocess.run(["sh", "-n", "-c", text]).returncode == 0, script


@needs_bubblewrap()
def test_honest_submission_gets_every_point(built, tmp_path):
    zip_path, points = built
    nb = samples.sample_notebook(released(zip_path, tmp_path), samples.SAMPLE_STUDENTS["sample_reference"])
    results, _, _ = run_autograder(zip_path, tmp_path, nb, "bwrap", name="my_upload.ipynb")
    tests = scored(results)
    assert set(tests) == set(FUNCTIONS)
    for name in FUNCTIONS:
        assert tests[name]["score"] == tests[name]["max_score"] == points[name]
        assert tests[name]["status"] == "passed"
        assert "Every output matches" in tests[name]["output"]
    assert results["score"] == sum(points.values())
    hidden = [t for t in results["tests"] if t["visibility"] == "after_published"]
    assert {t["tags"][0] for t in hidden} == set(FUNCTIONS)
    assert all(t["max_score"] == 0 and "Grading cases" in t["output"] for t in hidden)
    assert f"graded my_upload.ipynb as {ASSIGNMENT}.ipynb" in results["output"]
    assert "bubblewrap" in results["output"]


WRONG = {"rnn_step_forward": "rnn_step_forward/cache-pre-activation",   # h_next right, cache wrong: 70 %
         "rnn_forward": "rnn_forward/zeros-not-h0"}                      # every output wrong: 0


@needs_bubblewrap()
def test_wrong_submission_gets_partial_credit_and_named_mistakes(built, tmp_path):
    zip_path, points = built
    nb = samples.sample_notebook(released(zip_path, tmp_path), lambda source, name: mistakes.by_id(WRONG[name]).source)
    results, _, _ = run_autograder(zip_path, tmp_path, nb, "bwrap")
    tests = scored(results)
    # partial credit per output: h_next and the unchanged arguments (0.7 of the weights) are right
    assert tests["rnn_step_forward"]["score"] == round(0.7 * points["rnn_step_forward"], 2)
    assert tests["rnn_forward"]["score"] == 0
    for name, mistake_id in WRONG.items():
        test = tests[name]
        assert test["status"] == "failed"
        assert mistake_id in test["tags"] and name in test["tags"]
        assert mistakes.by_id(mistake_id).title in test["output"]
        # the hidden cases stay out of what is visible now, and are there after publication
        assert "To reproduce" not in test["output"]
        detail = next(t for t in results["tests"] if t["visibility"] == "after_published" and t["tags"] == [name])
        assert "To reproduce" in detail["output"] and SEED in detail["output"]
    assert results["score"] == pytest.approx(sum(t["score"] for t in tests.values()))


def hostile_notebook(zip_path, tmp_path, root):
    """The honest notebook plus a cell that tries to read what only the grader may read and to write the
    results; rnn_step_forward refuses to work if anything was read (so its score proves nothing was)."""
    nb = samples.sample_notebook(released(zip_path, tmp_path), samples.SAMPLE_STUDENTS["sample_reference"])
    attack = f"""
import glob, os, pathlib
ROOT = pathlib.Path({str(root)!r})
STOLEN = []
targets = [ROOT / "source/grader/solutions/__init__.py", ROOT / "source/grader/solutions/rnn.py",
           ROOT / "source/course/gradebook.db", ROOT / "source/course/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]
targets += glob.glob("/tmp/gs-course-*/gradebook.db") + glob.glob("/tmp/gs-course-*/source/*/*.ipynb")
targets += glob.glob("/tmp/gs-course-*/submitted/*/*/*.ipynb")
for t in targets:
    try:
        STOLEN.append((str(t), pathlib.Path(t).read_bytes()[:20]))
    except Exception:
        pass
for name in ("results.json", "pwned"):
    try:
        (ROOT / "results" / name).write_text('{{"score": 1000}}')
    except Exception:
        pass
print("stolen:", len(STOLEN))
"""
    first_answer = next(i for i, c in enumerate(nb.cells) if samples.answer_cell_name(c) == "rnn_step_forward")
    nb.cells.insert(first_answer, nbformat.v4.new_code_cell(attack))
    cell = nb.cells[first_answer + 1]
    cell.source = cell.source.replace(
        "def rnn_step_forward(x_t, h_prev, Wx, Wh, b):",
        "def rnn_step_forward(x_t, h_prev, Wx, Wh, b):\n    if STOLEN:\n        raise RuntimeError(f'read {STOLEN}')", 1)
    assert "if STOLEN" in cell.source
    return nb


def check_hostile(built, tmp_path, mode, python=sys.executable):
    zip_path, points = built
    root = tmp_path / "autograder"
    nb = hostile_notebook(zip_path, tmp_path, root)
    results, root, run = run_autograder(zip_path, tmp_path, nb, mode, python=python)
    tests = scored(results)
    # nothing was readable (else rnn_step_forward raises and loses its points), nothing was written
    assert tests["rnn_step_forward"]["score"] == points["rnn_step_forward"], tests["rnn_step_forward"]["output"]
    assert results["score"] == sum(points.values())
    assert not (root / "results" / "pwned").exists()
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]
    return results


@needs_bubblewrap()
def test_hostile_submission_in_bubblewrap(built, tmp_path):
    check_hostile(built, tmp_path, "bwrap")


@pytest.fixture(scope="module")
def image():
    """A stand-in for Gradescope's image: a world-readable folder holding a venv made from the system's
    Python (the kernel's own user must be able to run it; this run's Python may live under /root), its
    packages hard-linked from this test run's environment without the course itself (setup.sh installs
    only the dependencies). Yields the folder; removed at the end."""
    base = Path(tempfile.mkdtemp(prefix="bptt-gs-image-", dir="/tmp"))
    base.chmod(0o755)
    system_python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    try:
        venv = base / "venv"
        subprocess.run([system_python, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
        site = next(venv.glob("lib/python3*/site-packages"))
        skip = shutil.ignore_patterns("torch*", "nvidia*", "triton*", "playwright*", "__editable__*",
                                      "bptt_course*", "__pycache__")
        shutil.copytree(sysconfig.get_paths()["purelib"], site, ignore=skip, copy_function=os.link,
                        dirs_exist_ok=True, symlinks=True)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@as_root
def test_hostile_submission_as_a_separate_user(built, image):
    """No bubblewrap (forced): the kernel runs as a user of its own; the autograder root is world-traversable
    here, as /autograder is on Gradescope, so only run_autograder's permissions keep the reference out."""
    work = image / "run"
    work.mkdir(mode=0o755)
    results = check_hostile(built, work, "user", python=image / "venv" / "bin" / "python")
    assert "user id of its own" in results["output"]
    assert stat.S_IMODE((work / "autograder" / "source" / "grader").stat().st_mode) == 0o700


def test_refused_without_a_sandbox_writes_results(built, tmp_path, monkeypatch):
    """Not root and no bubblewrap (simulated): nothing runs, every test scores 0 and says why."""
    zip_path, points = built
    monkeypatch.setattr(gradescope, "_sandbox_mode", lambda: ("refuse", "no sandbox here (simulated)"))
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(released(zip_path, tmp_path), root / "submission")
    results = gradescope.grade_submission(root)
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 0 and "no sandbox here" in results["output"]
    assert {t["name"] for t in results["tests"]} == set(FUNCTIONS)
    assert json.loads((root / "results" / "results.json").read_text()) == results


def test_results_json_from_a_record():
    """The mapping alone: scores per function from its test cells, capped at their points."""
    points = {"f": 3.0, "g": 2.0}
    record = {"notebooks": {"nb": {
        "functions": {"f": {"message": "f: 50% of the marks\n    in case 1 (N=2)\n  To reproduce: x",
                            "mistakes": ["f/oops"], "cases": ["case 0", "case 1"]}},
        "test_cells": {"f_test": {"function": "f", "score": 1.5, "max_score": 3.0}}}}}
    data = gradescope.results_json(points, record)
    jsonschema.validate(data, SCHEMA)
    tests = scored(data)
    assert tests["f"]["score"] == 1.5 and tests["f"]["tags"] == ["f", "f/oops"]
    assert tests["f"]["output"] == "f: 50% of the marks"
    assert tests["g"]["score"] == 0 and "missing" in tests["g"]["output"]
    assert data["score"] == 1.5
    assert [t["visibility"] for t in data["tests"]] == ["visible", "after_published", "visible"]


def test_links_in_the_upload_are_never_taken(tmp_path):
    """A notebook that is a link (to a file only the grader may read) or inside a linked folder is ignored."""
    secret = tmp_path / "secret"
    (secret / "inner").mkdir(parents=True)
    (secret / "inner" / f"{ASSIGNMENT}.ipynb").write_text("{}")
    upload = tmp_path / "submission"
    (upload / "folder").mkdir(parents=True)
    os.symlink(secret / "inner" / f"{ASSIGNMENT}.ipynb", upload / f"{ASSIGNMENT}.ipynb")
    os.symlink(secret, upload / "linked")
    chosen, notes = gradescope._pick_notebooks(upload, [f"{ASSIGNMENT}.ipynb"])
    assert chosen == {} and any("was not found" in n for n in notes)
    (upload / "folder" / "mine.ipynb").write_text("{}")
    chosen, notes = gradescope._pick_notebooks(upload, [f"{ASSIGNMENT}.ipynb"])
    assert chosen == {f"{ASSIGNMENT}.ipynb": upload / "folder" / "mine.ipynb"}
