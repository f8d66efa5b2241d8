"""Grading on Gradescope: the autograder zip, and what runs inside it for each submission.

    python -m autograder gradescope 02_bptt [--out FILE.zip]

writes `<course>/gradescope/02_bptt.zip`, to upload as the assignment's
autograder ("Zip file upload", Ubuntu image). It holds, at its root:

    setup.sh           installs bubblewrap, a Python venv at /autograder/venv with the
                       course's dependencies, and a .pth naming the two folders below
    run_autograder     Gradescope runs it once per submission
    requirements.txt   the pinned dependencies setup.sh installs
    grader/            autograder/ and solutions/ (the reference: root only, mode 0700)
    student_lib/       bpttlab/ (what a student kernel may import)
    course/            nbgrader_config.py, source/<assignment>/, gradebook.db (made here)
    student_notebooks/ the released notebooks: what students upload
    assignment.txt     the assignment's name

`run_autograder` (`python -m autograder.gradescope run`) grades
`<root>/submission/*.ipynb` with the same engine as `nbgrader autograde`
(a private copy of the course, nbgrader's autograde with GradeOutsideKernel)
and writes `<root>/results/results.json` by Gradescope's specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/). `<root>` is
`/autograder`, or `$GRADESCOPE_ROOT` (the tests simulate the layout there).

results.json: one scored test per graded function (score = the points its test
cells earned, partial credit per output), its output the named-mistake
feedback, its tags the function and the ids of the mistakes recognised,
visible at once; plus, for each function, an unscored test with the hidden
grading cases (seed, sizes, the full diagnosis) visible `after_published`.

Who runs the student's code. Gradescope runs the grader and the student in one
container, as root. The kernel is sandboxed with bubblewrap when the container
allows it (`GRADESCOPE_SANDBOX=auto`, the default); otherwise, as root, it runs
as a user id of its own (`GradeOutsideKernel.separate_user`, no groups,
no_new_privs, rlimits, a supervisor) and everything the grader keeps (this
folder, the course copy, the gradebook, the results) is readable by root only.
Not root and no bubblewrap: grading is refused (results.json says so).
`GRADESCOPE_SANDBOX=user` forces the separate user (root only), `bwrap` forces
bubblewrap.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT_VARIABLE = "GRADESCOPE_ROOT"
MODE_VARIABLE = "GRADESCOPE_SANDBOX"
STUDENT = "gradescope_submission"
REPO = Path(__file__).resolve().parents[1]
VISIBLE, AFTER_PUBLISHED = "visible", "after_published"
CASE_LINE_PREFIXES = ("    in ", "  To reproduce")    # grading.feedback_text's lines about the hidden cases

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap util-linux
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet --upgrade pip
/autograder/venv/bin/pip install --quiet -r /autograder/source/requirements.txt
# The grader imports autograder/solutions from grader/ (root only); a student kernel finds only bpttlab.
site=$(/autograder/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\\n' /autograder/source/grader /autograder/source/student_lib > "$site/bptt_course.pth"
chmod -R go-rwx /autograder/source/grader /autograder/source/course
chmod -R go+rX /autograder/source/student_lib /autograder/venv
"""

RUN_AUTOGRADER = """#!/bin/sh
# Gradescope runs this for every submission, as root, from /autograder.
ROOT="${GRADESCOPE_ROOT:-/autograder}"
PY="${GRADESCOPE_PYTHON:-$ROOT/venv/bin/python}"
chmod 700 "$ROOT/source/grader" "$ROOT/source/course" 2>/dev/null
PYTHONPATH="$ROOT/source/grader:$ROOT/source/student_lib" exec "$PY" -m autograder.gradescope run
"""


# ----------------------------------------------------------------------------- building the zip

def _requirements():
    """The course's runtime dependencies (pyproject.toml), one per line."""
    import tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return "\n".join(project["dependencies"]) + "\n"


def build_zip(course, assignment, out=None):
    """Write the Gradescope autograder zip of `assignment` (course: cli.Course); return its path."""
    from .cli import nbgrader_errors
    from .nbgrader_plugin import RESULTS_FOLDER
    source = course.root / "source" / assignment
    if not any(source.glob("*.ipynb")):
        raise SystemExit(f"no notebook in {source}: is {assignment!r} an assignment of {course.root}?")
    out = Path(out) if out else course.root / "gradescope" / f"{assignment}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gs-") as tmp:
        work = Path(tmp) / "course"
        work.mkdir()
        shutil.copy2(course.root / "nbgrader_config.py", work)
        shutil.copytree(source, work / "source" / assignment,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        from .cli import Course
        run = Course(work).nbgrader("generate_assignment", assignment, "--force")
        if run.returncode != 0:
            raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n{nbgrader_errors(run)}")
        skip = shutil.ignore_patterns("__pycache__", "*.pyc")
        files = {"setup.sh": SETUP_SH, "run_autograder": RUN_AUTOGRADER, "requirements.txt": _requirements(),
                 "assignment.txt": assignment + "\n"}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, text)
            trees = [(REPO / "autograder", "grader/autograder"), (REPO / "solutions", "grader/solutions"),
                     (REPO / "bpttlab", "student_lib/bpttlab"), (work / "source" / assignment,
                                                                 f"course/source/{assignment}"),
                     (work / "release" / assignment, "student_notebooks")]
            for folder, arc in trees:
                for path in sorted(folder.rglob("*")):
                    if path.is_file() and not skip(str(path.parent), [path.name]) \
                            and RESULTS_FOLDER not in path.parts:
                        z.write(path, f"{arc}/{path.relative_to(folder)}")
            z.write(work / "nbgrader_config.py", "course/nbgrader_config.py")
            z.write(work / "gradebook.db", "course/gradebook.db")
    return out


# ----------------------------------------------------------------------------- results.json

def test_cell_points(source_folder):
    """{function: points} of the test cells of the notebooks in source_folder (None: cells of no function)."""
    from .nbgrader_plugin import function_of_test, graded_functions
    points = {}
    for path in sorted(Path(source_folder).glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution"):
                name = function_of_test(meta.get("grade_id"), graded_functions())
                points[name] = points.get(name, 0.0) + float(meta.get("points", 0))
    return points


def visible_feedback(message):
    """The feedback without the lines that describe the hidden grading cases (shown after publication)."""
    return "\n".join(l for l in message.splitlines() if not l.startswith(CASE_LINE_PREFIXES))


def results_json(points, record=None, failure=None, notes=(), execution_time=None):
    """Gradescope's results.json as a dict.

    points: {function: max points}; record: the autograder's results file of the submission (see
    nbgrader_plugin), or None when it was not graded; failure: why not (shown on every test).
    """
    functions, cells = {}, {}
    for nb in (record or {}).get("notebooks", {}).values():
        functions.update(nb.get("functions", {}))
        for cell in nb.get("test_cells", {}).values():
            got = cells.setdefault(cell["function"], [0.0, 0.0])
            got[0] += float(cell["score"])
            got[1] += float(cell["max_score"])
    tests = []
    for number, name in enumerate([f for f in points if f is not None] + [None] * (None in points), start=1):
        max_score = float(points[name])
        score = min(max_score, cells.get(name, [0.0])[0])
        data = functions.get(name)
        label = name or "test cells of no graded function"
        if data is not None:
            output = visible_feedback(data.get("message", ""))
            tags = [name] + list(data.get("mistakes", []))
        elif name is None:
            output = "These test cells belong to no graded function: they score 0 until graded by hand."
            tags = []
        else:
            output = (f"{name} was not graded: {failure}" if failure else
                      f"{name}: its answer cell (grade_id {name!r}) is missing from the notebook, so there is "
                      "nothing to grade.")
            tags = [name]
        tests.append({"name": label, "number": str(number), "score": round(score, 2), "max_score": max_score,
                      "status": "passed" if score >= max_score else "failed", "output": output,
                      "output_format": "text", "tags": tags, "visibility": VISIBLE})
        if data is not None and data.get("cases"):
            detail = [data.get("message", ""), "", "Grading cases:"] + [f"  {c}" for c in data["cases"]]
            tests.append({"name": f"{name}: the grading cases", "number": f"{number}.1", "score": 0.0,
                          "max_score": 0.0, "output": "\n".join(detail), "output_format": "text",
                          "tags": [name], "visibility": AFTER_PUBLISHED})
    total = round(sum(t["score"] for t in tests), 2)
    text = "\n".join(f"- {n}" for n in notes)
    result = {"score": total, "output": text or "Graded by the BPTT course autograder.",
              "output_format": "text", "visibility": VISIBLE, "stdout_visibility": "hidden", "tests": tests}
    if execution_time is not None:
        result["execution_time"] = int(round(execution_time))
    return result


# ----------------------------------------------------------------------------- grading one submission

def _sandbox_mode():
    """("bwrap" | "user", note) for this container, or SystemExit-worthy message as ("refuse", why)."""
    from .sandbox import sandbox_status
    wanted = os.environ.get(MODE_VARIABLE, "auto").strip() or "auto"
    if wanted not in ("auto", "bwrap", "user"):
        return "refuse", f"{MODE_VARIABLE} must be auto, bwrap or user; got {wanted!r}"
    status = sandbox_status()
    if wanted in ("auto", "bwrap") and status.sandboxed:
        return "bwrap", status.detail
    if wanted == "bwrap":
        return "refuse", f"bubblewrap does not work in this container: {status.detail}"
    if os.geteuid() != 0:
        return "refuse", (f"no sandbox for student code: {status.detail}, and the grader does not run as root, "
                          "so it cannot run the notebook as a user of its own")
    return "user", ("the notebook ran as a user id of its own that cannot read the reference, the gradebook or "
                    "the results (no bubblewrap in this container: " + status.detail + ")")


def _pick_notebooks(submission, expected):
    """{expected name: submitted path} and notes. A single notebook submitted under another name is taken
    for the one notebook of a one-notebook assignment (Gradescope keeps the uploaded file's name)."""
    found = []
    for top, dirs, files in os.walk(submission):            # never follows a linked folder
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        for name in sorted(files):
            path = Path(top) / name
            if name.endswith(".ipynb") and stat.S_ISREG(path.lstat().st_mode):   # no link, pipe or device
                found.append(path)
    chosen, notes = {}, []
    for name in expected:
        match = [p for p in found if p.name == name]
        if match:
            chosen[name] = match[0]
    if not chosen and len(expected) == 1 and len(found) == 1:
        chosen[expected[0]] = found[0]
        notes.append(f"graded {found[0].name} as {expected[0]}")
    for name in expected:
        if name not in chosen:
            notes.append(f"{name} was not found in the submission (upload the notebook file itself)")
    return chosen, notes


def _private(path, mode):
    os.chmod(path, mode)


def _root_only(path):
    """chmod go-rwx everything under `path` (copies keep the modes of what they copy: a zip extracts 0644)."""
    path = Path(path)
    os.chmod(path, 0o700 if path.is_dir() else 0o600)
    for top, dirs, files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o700)
        for name in files:
            os.chmod(os.path.join(top, name), 0o600)


def grade_submission(root):
    """Grade <root>/submission, write <root>/results/results.json; return the results dict."""
    from .cli import Course, nbgrader_errors
    from .nbgrader_plugin import results_path
    start = time.monotonic()
    root = Path(root)
    source = root / "source"
    assignment = (source / "assignment.txt").read_text().strip()
    course_src = source / "course"
    points = test_cell_points(course_src / "source" / assignment)
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)

    def finish(record=None, failure=None, notes=()):
        data = results_json(points, record, failure, notes, time.monotonic() - start)
        tmp = results_dir / ".results.json.tmp"
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, results_dir / "results.json")
        return data

    mode, why = _sandbox_mode()
    if mode == "refuse":
        print(f"Grading refused: {why}")
        return finish(failure="the autograder could not run safely here; your instructor has been told",
                      notes=[f"Not graded: {why}"])
    expected = [p.name for p in sorted((course_src / "source" / assignment).glob("*.ipynb"))]
    chosen, notes = _pick_notebooks(root / "submission", expected)
    if not chosen:
        return finish(failure="no notebook was submitted", notes=notes)

    old_umask = os.umask(0o077)                  # everything the grader writes: its user only
    work = Path(tempfile.mkdtemp(prefix="gs-course-"))
    try:
        _private(work, 0o711)                    # a kernel of its own user may pass through, never list
        shutil.copy2(course_src / "nbgrader_config.py", work)
        shutil.copy2(course_src / "gradebook.db", work)
        shutil.copytree(course_src / "source", work / "source")
        dest = work / "submitted" / STUDENT / assignment
        dest.mkdir(parents=True)
        for name, path in chosen.items():
            shutil.copyfile(path, dest / name)   # the file's bytes only: no link, no mode, no owner
        for private in ("nbgrader_config.py", "gradebook.db", "source", "submitted"):
            _root_only(work / private)
        for folder in (work / "autograded", work / "autograded" / STUDENT):
            folder.mkdir()
            _private(folder, 0o711)
        args = ["autograde", assignment, "--student", STUDENT, "--force"]
        if mode == "user":
            args += ["--GradeOutsideKernel.sandbox=False", "--GradeOutsideKernel.allow_unsandboxed=True",
                     "--GradeOutsideKernel.separate_user=True"]
        run = Course(work).nbgrader(*args, timeout=3600)
        print(run.stdout[-20000:], run.stderr[-20000:], sep="\n")     # /autograder/results/stdout: instructor only
        notes.append(f"Sandbox: {why}.")
        path = results_path(work, assignment, STUDENT)
        if not path.is_file():
            return finish(failure="the notebook could not be graded (is it a valid notebook?)",
                          notes=notes + ["Not graded: the autograder could not read or run the notebook; "
                                         "your instructor sees why in the autograder output."])
        record = json.loads(path.read_text())
        for nb in record.get("notebooks", {}).values():
            notes.extend(nb.get("notes", []))
        return finish(record, notes=notes)
    finally:
        os.umask(old_umask)
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv != ["run"]:
        print("usage: python -m autograder.gradescope run   (Gradescope's run_autograder calls this)",
              file=sys.stderr)
        return 2
    root = Path(os.environ.get(ROOT_VARIABLE, "/autograder"))
    data = grade_submission(root)
    print(f"score {data['score']} written to {root / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
