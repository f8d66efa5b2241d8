"""The student edition (python -m autograder publish), as a student gets it.

It is built into a temporary folder, installed into a fresh virtual environment
from its own files (`python -m pip install -r requirements.txt` in the
edition's folder: the toolbox from its wheels/, JupyterLab and the toolbox's
dependencies from the package index), and every released notebook is executed
headless in that environment's kernel, stubs and all. The tests prove that
nothing that knows the answers is in the edition or importable there, written
independently of autograder/publish.py's own checks.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest

import solutions
from autograder import publish, samples
from course_tools import ROOT, BIN, answer_cells, assignments, copy_course, nbgrader, nbgrader_meta, \
    source_notebooks, source_text

sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402

WHEEL = publish.wheel_name()
FORBIDDEN_TEXT = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "run_hidden_tests")


def _clean_env(**extra):
    """The environment of a student's shell: no PYTHONPATH, nothing of this repository's venv on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    env.update(extra)
    return env


def _autograder(*args, cwd=ROOT, timeout=1800):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(edition folder, publish's stdout): every assignment, published with the README's command."""
    out = tmp_path_factory.mktemp("published") / "student-edition"
    run = _autograder("publish", "--out", str(out))
    assert run.returncode == 0, f"publish failed:\n{run.stdout}\n{run.stderr}"
    return out, run.stdout


@pytest.fixture(scope="module")
def edition(built):
    return built[0]


@pytest.fixture(scope="module")
def student_python(edition, tmp_path_factory):
    """A fresh venv where the edition's requirements.txt was installed, as its README says; its python."""
    home = tmp_path_factory.mktemp("student")
    env_dir = home / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    run = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"], cwd=edition,
                         capture_output=True, text=True, timeout=1800, env=_clean_env())
    assert run.returncode == 0, f"pip install -r requirements.txt failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return python


def _in_venv(python, code, cwd, timeout=600, **env):
    return subprocess.run([str(python), "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=_clean_env(**env))


# Runs in the student's venv. Kernels talk over IPC sockets in a private folder, not TCP ports: two kernels
# started at once on a busy machine can race for one port (NOTES.md), and the run then hangs.
RUNNER = """
import json, pathlib, sys, tempfile
import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

PROBE = ("import importlib.util, json, sys\\n"
         "print(json.dumps({'prefix': sys.prefix, 'solutions': importlib.util.find_spec('solutions') is not None,"
         " 'autograder': importlib.util.find_spec('autograder') is not None}))")
for src, dst in zip(sys.argv[1::2], sys.argv[2::2]):
    nb = nbformat.read(src, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))          # in memory only: where did the kernel run?
    with tempfile.TemporaryDirectory() as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(pathlib.Path(sockets) / "kernel"))
        NotebookClient(nb, km=km, timeout=600, allow_errors=True,
                       resources={"metadata": {"path": str(pathlib.Path(src).parent)}}).execute()
    nbformat.write(nb, dst)
    print("executed", src, flush=True)
"""


@pytest.fixture(scope="module")
def executed(edition, student_python, tmp_path_factory):
    """{assignment: the released notebook after running top to bottom in the student's venv (errors allowed)}."""
    out = tmp_path_factory.mktemp("executed")
    runner = out / "run_notebooks.py"
    runner.write_text(RUNNER)
    args = []
    for path in sorted(edition.glob("*/*.ipynb")):
        args += [str(path), str(out / path.name)]
    run = subprocess.run([str(student_python), str(runner), *args], cwd=out, capture_output=True, text=True,
                         timeout=2400, env=_clean_env(JUPYTER_DATA_DIR=str(out / "jupyter-data")))
    assert run.returncode == 0, f"executing the released notebooks failed:\n{run.stderr[-4000:]}"
    return {p.parent.name: nbformat.read(out / p.name, as_version=4) for p in sorted(edition.glob("*/*.ipynb"))}


def _errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def _text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def _is_self_check(cell):
    return cell.cell_type == "code" and re.search(r"\bselfchecks_\w+\.check_\w+\(", cell.source) is not None


# ----------------------------------------------------------------------------- what is in it

def test_the_edition_holds_the_assignments_the_wheel_and_the_install_files(edition):
    files = sorted(p.relative_to(edition).as_posix() for p in edition.rglob("*") if p.is_file())
    # nbgrader releases every file of an assignment's folder (07 ships its spot-the-bug drills beside the notebook)
    assignment_files = [f"{a}/{p.relative_to(ROOT / 'course/source' / a).as_posix()}" for a in assignments()
                        for p in sorted((ROOT / "course/source" / a).rglob("*"))
                        if p.is_file() and not {"__pycache__", ".ipynb_checkpoints"} & set(p.parts)]
    assert files == sorted(["README.md", "requirements.txt", "environment.yml", "edition.json", f"wheels/{WHEEL}",
                            *assignment_files])
    requirements = [l for l in (edition / "requirements.txt").read_text().splitlines() if l and not l.startswith("#")]
    assert f"./wheels/{WHEEL}" in requirements and any(l.startswith("jupyterlab") for l in requirements)
    yml = (edition / "environment.yml").read_text()
    assert re.search(r"^  - python=3\.1[123]$", yml, re.M), "Binder needs one supported Python pinned"
    for requirement in requirements:
        assert f"      - {requirement}\n" in yml, f"environment.yml (Binder) lacks {requirement}"
    readme = (edition / "README.md").read_text()
    assert "python -m pip install -r requirements.txt\njupyter lab\n" in readme
    assert "Colab" in readme and "Binder" in readme and "3.11, 3.12 or 3.13" in readme


def test_the_zip_holds_the_same_files(edition):
    with zipfile.ZipFile(edition.with_suffix(".zip")) as zf:
        names = sorted(zf.namelist())
        assert names == sorted(f"student-edition/{p.relative_to(edition).as_posix()}"
                               for p in edition.rglob("*") if p.is_file())
        for name in names:
            assert zf.read(name) == (edition.parent / name).read_bytes(), name


def test_every_released_notebook_starts_with_the_install_cell_and_is_nbgraders_release(edition):
    for source in source_notebooks():
        released = nbformat.read(edition / source.parent.name / source.name, as_version=4)
        first = released.cells[0]
        assert first.cell_type == "code" and not nbgrader_meta(first), f"{source.name}: no plain first cell"
        assert 'find_spec("bpttlab") is None' in first.source and f"'{WHEEL}'" in first.source
        assert 'pathlib.Path("..", "wheels", wheel)' in first.source
        rest = released.cells[1:]
        original = nbformat.read(source, as_version=4).cells
        assert [c.cell_type for c in rest] == [c.cell_type for c in original], source.name
        assert [nbgrader_meta(c).get("grade_id") for c in rest] == [nbgrader_meta(c).get("grade_id") for c in original]
        for gid, cell in answer_cells(json.loads(nbformat.writes(released))).items():
            assert "raise NotImplementedError()" in source_text(cell), f"{source.name}: {gid} is not a stub"


def _edition_texts(edition):
    """{name: text} of every file of the edition, the wheel's and the zip's members included."""
    texts = {}
    for path in sorted(edition.rglob("*")):
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as zf:
                texts.update({f"{path.name}!{n}": zf.read(n).decode(errors="replace") for n in zf.namelist()})
        elif path.is_file():
            texts[path.relative_to(edition).as_posix()] = path.read_text(errors="replace")
    with zipfile.ZipFile(edition.with_suffix(".zip")) as zf:
        texts.update({f"zip!{n}": zf.read(n).decode(errors="replace") for n in zf.namelist() if not n.endswith(".whl")})
    return texts


def _hidden_test_lines():
    """Every line between BEGIN and END HIDDEN TESTS in the instructor's notebooks."""
    lines = set()
    for path in source_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
                lines |= {l.strip() for l in block.splitlines() if l.strip()}
    assert lines, "no hidden tests found in the source notebooks"
    return lines


def _code(line):
    return line.split("#")[0].strip()


def _giveaway_lines(name):
    """Lines of the reference body of `name` that are specific enough to give it away."""
    lines = {_code(l) for l in sync_notebooks.reference_body(name).splitlines()}
    return {l for l in lines if len(l) > 25 and not re.fullmatch(r"return [\w(), .]+", l)} - SPELLED_OUT


# Reference lines that may be shown because the task states them: the chunk loop of rnn_backward_chunked
# (its chunks [0, k), [k, 2k), ... are in CONTRACT.md and notebook 03; bpttlab.checkpoint_lab uses the loop).
# Kept here apart from publish.SPELLED_OUT, so that allowing a line takes a change in both.
SPELLED_OUT = {"for start in range(0, T, k):"}


def test_the_lines_allowed_to_be_shown_are_the_same_few_for_publish_and_this_test():
    assert set(publish.SPELLED_OUT) == SPELLED_OUT and len(SPELLED_OUT) <= 3


def test_no_hidden_test_solution_marker_or_instructor_package_is_in_the_edition(edition):
    hidden = _hidden_test_lines()
    for name, text in _edition_texts(edition).items():
        parts = re.split(r"[/!]", name)
        assert not any(p.split(".")[0] in ("solutions", "autograder") for p in parts), name
        for marker in FORBIDDEN_TEXT:
            assert marker not in text, f"{name} contains {marker!r}"
        assert not re.search(r"^\s*(import|from)\s+(solutions|autograder)\b", text, re.M), f"{name} imports them"
        shown = [l for l in hidden if l in text]
        assert not shown, f"{name} contains hidden test code: {shown[:2]}"


def test_no_notebook_shows_the_reference_of_a_function_it_grades(edition):
    for path in sorted(edition.glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        graded_here = answer_cells(json.loads(nbformat.writes(nb)))
        provided = {l for f in solutions.GRADED_FUNCTIONS if f not in graded_here
                    for l in map(_code, sync_notebooks.reference_source(f).splitlines())}
        for name in graded_here:
            leaked = [l for l in _giveaway_lines(name) - provided if l in text]
            assert not leaked, f"{path.name} shows reference lines of {name}: {leaked[:2]}"


def test_the_wheel_holds_the_toolbox_only_and_no_reference_code(edition):
    with zipfile.ZipFile(edition / "wheels" / WHEEL) as zf:
        names = zf.namelist()
        sources = "\n".join(zf.read(n).decode() for n in names if n.endswith(".py"))
    assert all(n.startswith(("bpttlab/", "bpttlab-0")) for n in names), names
    assert "bpttlab/data/delayed_echo_sweep.json" in names and "bpttlab/selfchecks_rnn.py" in names
    for name in solutions.GRADED_FUNCTIONS:
        leaked = [l for l in _giveaway_lines(name) if l in sources]
        assert not leaked, f"the toolbox wheel holds reference lines of {name}: {leaked[:2]}"


def test_publish_names_the_notebooks_that_show_earlier_answers(built):
    out = built[1]
    assert "note: 02_bptt shows" in out and "rnn_step_forward" in out and "01_unrolling" in out
    assert "note: 01_unrolling" not in out


# ----------------------------------------------------------------------------- installed as a student would

def test_the_students_venv_has_the_toolbox_from_the_edition_and_nothing_of_the_instructor(edition, student_python,
                                                                                       tmp_path):
    run = _in_venv(student_python, """
        import importlib.metadata as md, importlib.util, json, sys
        dist = md.distribution("bpttlab")
        print(json.dumps({"url": json.loads(dist.read_text("direct_url.json"))["url"],
                          "bpttlab": importlib.util.find_spec("bpttlab").origin,
                          "solutions": importlib.util.find_spec("solutions") is not None,
                          "autograder": importlib.util.find_spec("autograder") is not None,
                          "dists": sorted(d.metadata["Name"].lower() for d in md.distributions())}))
    """, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert found["url"] == (edition / "wheels" / WHEEL).as_uri(), "bpttlab must come from the edition's own wheel"
    assert found["bpttlab"].startswith(str(student_python.parent.parent))
    assert not found["solutions"] and not found["autograder"]
    assert "bptt-course" not in found["dists"] and "nbgrader" not in found["dists"]
    for module in ("solutions", "autograder"):
        run = _in_venv(student_python, f"import {module}", cwd=tmp_path)
        assert run.returncode != 0 and "ModuleNotFoundError" in run.stderr, f"import {module} worked"


def test_every_released_notebook_runs_in_the_students_venv(executed, student_python):
    for name, nb in executed.items():
        probe = json.loads(_text(nb.cells[-1]))
        assert Path(probe["prefix"]) == student_python.parent.parent, f"{name} ran in {probe['prefix']}"
        assert not probe["solutions"] and not probe["autograder"], f"{name}: the kernel can import them"
        first = nb.cells[0]
        assert not _errors(first) and not first.outputs, f"{name}: the install cell did something: {first.outputs}"
        unexpected = [(i, e.ename, e.evalue) for i, c in enumerate(nb.cells) for e in _errors(c)
                      if not _stub_error(nb.cells, i, e)]
        assert not unexpected, f"{name}: cells fail for another reason than a stub: {unexpected[:3]}"


def _stub_error(cells, i, error):
    """A stub's NotImplementedError, or a NameError for a variable that an earlier cell failed to assign because
    of one (`full = train(...)` stopped by the stub, then `plot(full)`)."""
    if error.ename == "NotImplementedError":
        return True
    missing = re.fullmatch(r"name '(\w+)' is not defined", error.evalue or "")
    if error.ename != "NameError" or not missing:
        return False
    assigns = re.compile(rf"^(?:{missing.group(1)}\s*=|for {missing.group(1)} in)", re.M)
    return any(assigns.search(c.source) and any(e.ename == "NotImplementedError" for e in _errors(c))
               for c in cells[:i])


def test_every_self_check_says_not_implemented_yet(executed):
    checked = 0
    for name, nb in executed.items():
        graded = answer_cells(json.loads(nbformat.writes(nb)))
        checks = [c for c in nb.cells if _is_self_check(c)]
        assert len(checks) >= len(graded), f"{name}: fewer self-checks than graded functions"
        for cell in checks:
            assert not _errors(cell), f"{name}: a self-check crashed: {_errors(cell)[0].evalue}\n{cell.source}"
            assert "is not implemented yet" in _text(cell), f"{name}: {cell.source}\n{_text(cell)}"
            checked += 1
        if not graded:
            assert not any(_errors(c) for c in nb.cells), f"{name} grades nothing, yet a cell failed"
    assert checked >= len(solutions.GRADED_FUNCTIONS)


# ----------------------------------------------------------------------------- the first cell where bpttlab is missing

def _first_cell(edition, assignment="01_unrolling"):
    return nbformat.read(next((edition / assignment).glob("*.ipynb")), as_version=4).cells[0].source


def _uninstall_toolbox(python):
    run = subprocess.run([str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "bpttlab"], capture_output=True,
                         text=True, timeout=300, env=_clean_env())
    assert run.returncode == 0, run.stderr


def _toolbox_installed(python, cwd):
    run = _in_venv(python, "import bpttlab.selfchecks_rnn, importlib.metadata as md, json; "
                           "print(json.loads(md.distribution('bpttlab').read_text('direct_url.json'))['url'])", cwd=cwd)
    return run.stdout.strip() if run.returncode == 0 else None


def test_the_first_cell_installs_the_toolbox_where_it_is_missing(edition, student_python, tmp_path):
    """Colab, or a Jupyter outside the edition's environment: no bpttlab in the kernel's Python."""
    cell = _first_cell(edition)
    _uninstall_toolbox(student_python)
    try:
        assert _toolbox_installed(student_python, tmp_path) is None
        # a notebook alone, no wheel next to it, no URL: it says what to do
        alone = _in_venv(student_python, cell, cwd=tmp_path)
        assert alone.returncode != 0 and "ModuleNotFoundError" in alone.stderr
        assert f"Upload {WHEEL}" in alone.stderr and "Colab" in alone.stderr
        # the edition's folder: from ../wheels/
        run = _in_venv(student_python, cell, cwd=edition / "01_unrolling")
        assert run.returncode == 0, run.stderr
        assert "Installing the course toolbox from ../wheels/" in run.stdout
        assert _toolbox_installed(student_python, tmp_path) == (edition / "wheels" / WHEEL).as_uri()
        # once installed, the cell does nothing
        again = _in_venv(student_python, cell, cwd=tmp_path)
        assert again.returncode == 0 and again.stdout == ""
    finally:
        if _toolbox_installed(student_python, tmp_path) is None:
            subprocess.run([str(student_python), "-m", "pip", "install", "--quiet", str(edition / "wheels" / WHEEL)],
                           timeout=300, env=_clean_env())


def test_with_a_toolbox_url_the_first_cell_installs_from_it(edition, student_python, tmp_path):
    """As in Colab with an edition published with --toolbox-url (here a file:// address of the wheel)."""
    hosted = tmp_path / "hosted"
    hosted.mkdir()
    shutil.copy(edition / "wheels" / WHEEL, hosted / WHEEL)
    url = (hosted / WHEEL).as_uri()
    cell = publish.install_cell_source(WHEEL, url)
    workdir = tmp_path / "content"
    workdir.mkdir()
    _uninstall_toolbox(student_python)
    try:
        run = _in_venv(student_python, cell, cwd=workdir)
        assert run.returncode == 0, run.stderr
        assert _toolbox_installed(student_python, workdir) == url
    finally:
        subprocess.run([str(student_python), "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps",
                        str(edition / "wheels" / WHEEL)], timeout=300, env=_clean_env())
    assert _toolbox_installed(student_python, workdir) == (edition / "wheels" / WHEEL).as_uri()


# ----------------------------------------------------------------------------- back to the instructor

def test_a_notebook_of_the_edition_is_graded_like_nbgraders_release(edition, tmp_path):
    """A student hands in the edition's notebook (first cell included): the autograder grades it as usual."""
    assignment = "01_unrolling"
    course = copy_course(tmp_path / "course")
    run = nbgrader(course, "generate_assignment", assignment, "--force")
    assert run.returncode == 0, run.stderr[-3000:]
    for student, write in (("solved", samples.completed_answer), ("untouched", None)):
        dest = course / "submitted" / student / assignment
        dest.mkdir(parents=True)
        for path in (edition / assignment).glob("*.ipynb"):
            nbformat.write(samples.sample_notebook(path, write), dest / path.name)
        (dest / "timestamp.txt").write_text(samples.TIMESTAMP)
    graded = _autograder("--course", str(course), "grade", assignment, "--workers", "2", "--quiet")
    assert graded.returncode == 0, f"{graded.stdout}\n{graded.stderr[-3000:]}"
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s: {g.name: (g.auto_score, g.max_score) for nb in gb.find_submission(assignment, s).notebooks
                      for g in nb.grades if g.name.endswith("_test")} for s in ("solved", "untouched")}
    assert scores["solved"] and all(score == top > 0 for score, top in scores["solved"].values()), scores["solved"]
    assert all(score == 0 for score, _ in scores["untouched"].values()), scores["untouched"]


# ----------------------------------------------------------------------------- the command's guards

def test_publish_refuses_a_bad_toolbox_url_and_a_folder_that_is_not_an_edition(tmp_path):
    run = _autograder("publish", "--out", str(tmp_path / "e"), "--toolbox-url", "https://example.org/toolbox.zip")
    assert run.returncode != 0 and f"/{WHEEL}" in run.stderr and not (tmp_path / "e").exists()
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("keep me")
    run = _autograder("publish", "--out", str(precious))
    assert run.returncode != 0 and "is not a student edition" in run.stderr
    assert (precious / "chapter1.tex").read_text() == "keep me"
    run = _autograder("publish", "no_such_assignment", "--out", str(tmp_path / "e"))
    assert run.returncode != 0 and "no such assignment" in run.stderr


def test_publishing_the_first_assignment_only_for_week_one(tmp_path):
    out = tmp_path / "week1"
    run = _autograder("publish", "01_unrolling", "--out", str(out), "--no-zip")
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["01_unrolling", "README.md", "edition.json", "environment.yml",
                                                     "requirements.txt", "wheels"]
    assert "note:" not in run.stdout and not out.with_suffix(".zip").exists()
    assert json.loads((out / "edition.json").read_text())["assignments"] == ["01_unrolling"]
    again = _autograder("publish", "01_unrolling", "--out", str(out), "--no-zip")     # an earlier edition is replaced
    assert again.returncode == 0, again.stderr
