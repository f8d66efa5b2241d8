"""The student edition: what students get, and nothing that knows the answers.

    python -m autograder publish [<assignment> ...] [--out DIR] [--toolbox-url URL]
    make student-edition

writes the folder DIR (default dist/student-edition) and DIR.zip:

    README.md                 for students: the two commands, Binder, Colab
    requirements.txt          `python -m pip install -r requirements.txt`: the toolbox wheel and JupyterLab
    environment.yml           the same for conda and Binder (repo2docker)
    wheels/bpttlab-<v>-py3-none-any.whl   the students' toolbox (toolbox/), built here
    <assignment>/...          nbgrader generate_assignment's output (a temporary copy of the
                              course is used: course/release/ and gradebook.db stay untouched)
    edition.json              what was published (assignments, toolbox wheel and URL)

Every released notebook gets a first cell that installs the toolbox when its
Python lacks it (Colab, or a Jupyter started outside the edition's
environment): from ../wheels/ or the notebook's own folder, else from
--toolbox-url (the published wheel, e.g. the raw URL of wheels/ in the
edition's public repository). The cell is added here rather than written
into the source notebooks: the instructor's notebooks and the class hub do not
need it, and the URL is known only when publishing.

Before anything is written, the edition is checked and publishing fails if it
would carry answers: answer cells must be nbgrader stubs, no solution or
hidden-test marker, no import of `solutions` or `autograder`, no line of the
reference of a function that a notebook grades, and a wheel holding the
`bpttlab` package only. Notebooks whose read-only cells show the reference of
a function graded by another published notebook are named (release those
after the other one's deadline).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
TOOLBOX = REPO / "toolbox"
DEFAULT_OUT = REPO / "dist" / "student-edition"
MANIFEST = "edition.json"
BINDER_PYTHON = "3.12"                 # one of the supported 3.11-3.13, for environment.yml (Binder pins one)
ZIP_DATE = (2020, 1, 1, 0, 0, 0)       # fixed timestamps: the same course gives the same zip
SOURCE_DATE_EPOCH = 1577836800         # the same instant, for the wheel
INSTALL_CELL_TAG = "install-toolbox"   # the first cell's tag, so that tools can recognise it

# What a released notebook or any file of the edition must never contain.
FORBIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                     "run_hidden_tests", "autograder.hidden")
FORBIDDEN_IMPORT = re.compile(r"^\s*(?:import|from)\s+(?:solutions|autograder)\b", re.M)
FORBIDDEN_NAMES = ("solutions", "autograder")


# ----------------------------------------------------------------------------- the first cell

def install_cell_source(wheel, toolbox_url=None):
    """The code of the first cell of every released notebook (plain Python, no IPython magics).

    wheel: the toolbox wheel's file name, looked for in ../wheels/, ./wheels/ and ./
    toolbox_url: where to get the wheel otherwise (Colab), or None
    """
    fallback = (f"source = {toolbox_url!r}   # the published toolbox" if toolbox_url else
                "raise ModuleNotFoundError(\n"
                f"            \"The course toolbox (bpttlab) is not installed. Upload {wheel} (in the student \"\n"
                "            \"edition's wheels/ folder) next to this notebook (Colab: the Files panel), \"\n"
                "            \"then run this cell again.\")")
    return f"""\
# Setup: installs the course toolbox (bpttlab) if this notebook's Python does not have it
# yet (Colab, or Jupyter started outside the course's environment); otherwise does nothing.
import importlib.util

if importlib.util.find_spec("bpttlab") is None:
    import pathlib, subprocess, sys
    wheel = {wheel!r}
    nearby = [p for p in (pathlib.Path("..", "wheels", wheel), pathlib.Path("wheels", wheel), pathlib.Path(wheel))
              if p.is_file()]
    if nearby:
        source = str(nearby[0])
    else:
        {fallback}
    print("Installing the course toolbox from", source)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], check=True)
    importlib.invalidate_caches()
"""


def with_install_cell(nb, wheel, toolbox_url=None):
    """A copy of notebook `nb` (nbformat v4) with the install cell first; no nbgrader metadata, so it grades nothing."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cell = nbformat.v4.new_code_cell(install_cell_source(wheel, toolbox_url).rstrip("\n"),
                                     metadata={"tags": [INSTALL_CELL_TAG]})
    nb.cells.insert(0, cell)
    nbformat.validate(nb)
    return nb


# ----------------------------------------------------------------------------- the pieces

def _version():
    return tomllib.loads((TOOLBOX / "pyproject.toml").read_text())["project"]["version"]


def wheel_name():
    return f"bpttlab-{_version()}-py3-none-any.whl"


def _student_requirements():
    """The packages besides the toolbox that students need: JupyterLab, pinned as in the instructor's pyproject."""
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return [d for d in deps if re.match(r"jupyterlab\b", d)]


def build_wheel(dest):
    """Build the toolbox wheel into folder `dest` from a clean copy of toolbox/ (no stale build/); returns its path."""
    if not (TOOLBOX / "pyproject.toml").is_file():
        raise SystemExit(f"publish needs the repository's toolbox/ folder ({TOOLBOX} is missing)")
    with tempfile.TemporaryDirectory(prefix="bpttlab-build-") as tmp:
        src = Path(tmp) / "toolbox"
        shutil.copytree(TOOLBOX, src, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__",
                                                                   "*.pyc", ".ipynb_checkpoints"))
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), str(src)]
        if _has_setuptools():
            argv.insert(5, "--no-build-isolation")       # no download needed when setuptools is here
        # fixed timestamps inside the wheel (the `wheel` builder honours SOURCE_DATE_EPOCH): the same toolbox
        # gives the same wheel, and the same course the same zip
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(SOURCE_DATE_EPOCH)}
        run = subprocess.run(argv, capture_output=True, text=True, env=env)
        if run.returncode != 0:
            raise SystemExit(f"building the toolbox wheel failed:\n{run.stdout}\n{run.stderr}")
    wheel = Path(dest) / wheel_name()
    if not wheel.is_file():
        raise SystemExit(f"building the toolbox wheel did not give {wheel.name}: {sorted(p.name for p in Path(dest).iterdir())}")
    return wheel


def _has_setuptools():
    try:
        from importlib.metadata import version
        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:
        return False


def release_notebooks(course, assignments, dest):
    """nbgrader generate_assignment for each assignment, in a temporary copy of the course; copies release/<a>/ to dest/<a>/."""
    from autograder.cli import Course, nbgrader_errors
    ignore = shutil.ignore_patterns("release", "submitted", "autograded", "feedback", "gradebook.db",
                                    "autograder_results", "exchange", ".ipynb_checkpoints", "*.csv")
    with tempfile.TemporaryDirectory(prefix="bptt-edition-") as tmp:
        copy = Path(tmp) / "course"
        shutil.copytree(course.root, copy, ignore=ignore)
        # nbgrader_config.py sets CourseDirectory.root to its own folder, so the copy is self-contained
        tmp_course = Course(copy)
        for a in assignments:
            run = tmp_course.nbgrader("generate_assignment", a, "--force")
            if run.returncode != 0:
                raise SystemExit(f"generate_assignment {a} failed:\n{nbgrader_errors(run)}")
            shutil.copytree(copy / "release" / a, Path(dest) / a,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def requirements_txt(wheel):
    lines = ["# The student edition's packages. In this folder, preferably in a fresh virtual environment:",
             "#     python -m pip install -r requirements.txt",
             f"./wheels/{wheel}", *_student_requirements()]
    return "\n".join(lines) + "\n"


def environment_yml(wheel):
    pip = "".join(f"      - {r}\n" for r in (f"./wheels/{wheel}", *_student_requirements()))
    return ("# conda (conda env create -f environment.yml, in this folder) and Binder (repo2docker) use this file;\n"
            "# pip users use requirements.txt (the same packages).\n"
            "name: bptt-student\n"
            "channels:\n"
            "  - conda-forge\n"
            "dependencies:\n"
            f"  - python={BINDER_PYTHON}\n"
            "  - pip\n"
            "  - pip:\n" + pip)


def student_readme(assignments, wheel, toolbox_url=None):
    notebooks = "\n".join(f"- `{a}/`" for a in assignments)
    if toolbox_url:
        colab = (f"its first cell installs the course toolbox from\n`{toolbox_url}`.")
    else:
        colab = (f"first upload `wheels/{wheel}` from this folder into\nColab's Files panel (the folder icon on "
                 "the left); the notebook's first cell installs it\nfrom there.")
    return f"""\
# Backpropagation through time: the notebooks

You implement the pieces of backpropagation through time (BPTT) for a
recurrent network, check them with the self-check cell under each one, and
explore what they do with sliders and plots. Work through the notebooks in
order:

{notebooks}

## On your computer

Needs Python 3.11, 3.12 or 3.13. In this folder (a virtual environment keeps
the course apart from your other projects: `python -m venv .venv`, then
`source .venv/bin/activate`, on Windows `.venv\\Scripts\\activate`):

```bash
python -m pip install -r requirements.txt
jupyter lab
```

Open the address it prints (`http://localhost:8888/lab?token=...`) if no
browser window opens, and start with the first notebook. As root (in a
container) Jupyter wants `jupyter lab --allow-root`. With conda instead:
`conda env create -f environment.yml`, `conda activate bptt-student`, `jupyter lab`.

## In the browser, without installing anything

- **Binder**: if this folder is a public GitHub repository, open
  `https://mybinder.org/v2/gh/<user>/<repository>/HEAD?urlpath=lab`; Binder
  installs `environment.yml` (the first start takes a few minutes). Binder
  does not keep your work: download your notebooks before you leave.
- **Colab**: open a notebook (File > Open notebook > GitHub or Upload) and run
  it from the top; {colab} If Colab asks you to restart the session after
  that cell, restart and run the notebook again from the top (the first cell
  then does nothing).

## How the notebooks work

- Each function you write is in a cell that ends in
  `raise NotImplementedError()`: replace that line with your code.
- The self-check cell under it tests your function on small cases and says
  what is wrong; before you start it says "not implemented yet". It never
  shows the solution. Experiments further down that use your function stop
  with `NotImplementedError` until you have written it.
- The cell after each self-check is graded when you hand the notebook in, on
  inputs you have not seen. Keep the cells in their order, do not copy
  graded cells, and hand in the `.ipynb` files as your instructor tells you.
"""


# ----------------------------------------------------------------------------- checks

@dataclass
class Problems:
    """What makes an edition unsafe (errors) or worth a warning (notes)."""
    errors: list
    notes: list


def _sync_tool():
    """tools/sync_notebooks.py (the one source of the reference code that notebooks hold)."""
    from autograder.samples import _sync_tool as sync_tool      # loaded once there
    return sync_tool()


def _code(line):
    return line.split("#")[0].strip()


def _telling_lines(name, ignore=frozenset()):
    """Lines of the reference body of graded function `name` that would give it away: longer than 25
    characters, not in `ignore` or SPELLED_OUT, and not a mere `return` of names (`return float(loss), dscores`)."""
    return [l for l in (_code(l) for l in _sync_tool().reference_body(name).splitlines())
            if len(l) > 25 and l not in ignore and l not in SPELLED_OUT and not _MERE_RETURN.fullmatch(l)]


_MERE_RETURN = re.compile(r"return [\w(), .]+")

# Reference lines that the toolbox or a notebook may hold because the task's own text states them
# (line: why). Keep it short: every entry is a line students may read; tests/test_edition.py keeps its own copy.
SPELLED_OUT = {
    "for start in range(0, T, k):": "rnn_backward_chunked's chunks [0, k), [k, 2k), ... are stated by its task "
                                     "(CONTRACT.md, notebook 03); bpttlab.checkpoint_lab times chunked training "
                                     "with this loop",
}


def _answer_cells(nb):
    """{grade_id: source} of a notebook's autograded-answer cells."""
    out = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            out[meta["grade_id"]] = cell.source
    return out


def _provided_functions(nb):
    """Functions whose reference a notebook provides in read-only cells (grade_id given_*), in order."""
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("locked") and str(meta.get("grade_id", "")).startswith("given_"):
            out += re.findall(r"^def (\w+)\(", cell.source, re.M)
    return out


def check_edition(folder):
    """Problems of the edition in `folder` (see the module docstring)."""
    import solutions
    folder = Path(folder)
    errors, notes = [], []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.split(".")[0] in FORBIDDEN_NAMES for part in rel.parts):
            errors.append(f"{rel}: a file of the instructor's packages")
        if path.is_file() and path.suffix != ".whl":
            text = path.read_text(errors="replace")
            errors += [f"{rel}: contains {m!r}" for m in FORBIDDEN_MARKERS if m in text]
            if FORBIDDEN_IMPORT.search(text):
                errors.append(f"{rel}: imports solutions or autograder")
    for wheel in folder.glob("wheels/*.whl"):
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if not (name.startswith("bpttlab/") or name.startswith("bpttlab-")):
                    errors.append(f"{wheel.name}: holds {name}, outside the bpttlab package")
            sources = {n: zf.read(n).decode() for n in zf.namelist() if n.endswith(".py")}
        for name in solutions.GRADED_FUNCTIONS:
            for member, text in sources.items():
                leaked = [l for l in _telling_lines(name) if l in text]
                if leaked:
                    errors.append(f"{wheel.name}: {member} holds reference lines of {name}: {leaked[0]!r}")

    notebooks = {p.parent.name: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*/*.ipynb"))}
    graded_in = {name: a for a, nb in notebooks.items() for name in _answer_cells(nb)}
    for a, nb in notebooks.items():
        answers = _answer_cells(nb)
        for name, source in answers.items():
            if "raise NotImplementedError()" not in source:
                errors.append(f"{a}: the answer cell {name} is not an nbgrader stub")
        text = "\n".join(c.source for c in nb.cells)
        shared = {_code(l) for f in solutions.GRADED_FUNCTIONS if f not in answers
                  for l in _sync_tool().reference_source(f).splitlines()}
        for name in answers:
            leaked = [l for l in _telling_lines(name, shared) if l in text]
            if leaked:
                errors.append(f"{a}: shows reference lines of {name}, which it grades: {leaked[0]!r}")
        shown = [f for f in _provided_functions(nb) if graded_in.get(f, a) != a]
        if shown:
            notes.append(f"{a} shows in its read-only cells the reference of {', '.join(shown)}, graded in "
                         f"{', '.join(sorted({graded_in[f] for f in shown}))}: hand it out after that deadline")
        first = nb.cells[0] if nb.cells else None
        if first is None or INSTALL_CELL_TAG not in first.get("metadata", {}).get("tags", []):
            errors.append(f"{a}: the first cell does not install the toolbox")
    return Problems(errors, notes)


# ----------------------------------------------------------------------------- the whole edition

def write_zip(folder, zip_path):
    """folder -> zip_path, entries under the folder's name, sorted, with fixed timestamps (reproducible)."""
    folder, zip_path = Path(folder), Path(zip_path)
    tmp = zip_path.with_name(zip_path.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, path.read_bytes())
    tmp.replace(zip_path)
    return zip_path


def _check_url(url, wheel):
    if url is None:
        return None
    if not re.match(r"(https?|file)://", url) or not url.split("?")[0].endswith("/" + wheel):
        raise SystemExit(f"--toolbox-url must be an http(s):// or file:// address of the wheel itself, ending in "
                         f"/{wheel} (pip needs the wheel's file name); got {url!r}")
    return url


def _check_out(out):
    """Refuse an existing `out` unless it is empty or an earlier edition (which publishing replaces)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise SystemExit(f"{out} exists and is not a student edition (no {MANIFEST}): "
                         "choose another --out or remove it yourself")


def publish(course, assignments=None, out=DEFAULT_OUT, toolbox_url=None, make_zip=True, log=print):
    """Build the student edition; returns (folder, zip path or None, Problems). Raises SystemExit if unsafe."""
    assignments = list(assignments or course.assignments())
    unknown = sorted(set(assignments) - set(course.assignments()))
    if unknown:
        raise SystemExit(f"no such assignment in {course.root / 'source'}: {', '.join(unknown)}")
    assignments = [a for a in course.assignments() if a in assignments]       # course order
    wheel = wheel_name()
    toolbox_url = _check_url(toolbox_url, wheel)
    out = Path(out).resolve()
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bptt-edition-", dir=out.parent) as tmp:
        stage = Path(tmp) / out.name
        stage.mkdir()
        log(f"releasing {', '.join(assignments)} (nbgrader generate_assignment)")
        release_notebooks(course, assignments, stage)
        for path in sorted(stage.glob("*/*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            nbformat.write(with_install_cell(nb, wheel, toolbox_url), path)
        log(f"building the toolbox wheel {wheel}")
        build_wheel(stage / "wheels")
        (stage / "requirements.txt").write_text(requirements_txt(wheel))
        (stage / "environment.yml").write_text(environment_yml(wheel))
        (stage / "README.md").write_text(student_readme(assignments, wheel, toolbox_url))
        (stage / MANIFEST).write_text(json.dumps({"assignments": assignments, "toolbox_wheel": f"wheels/{wheel}",
                                                  "toolbox_url": toolbox_url}, indent=2) + "\n")
        problems = check_edition(stage)
        if problems.errors:
            raise SystemExit("not published: the edition would carry answers or instructor files:\n  "
                             + "\n  ".join(problems.errors))
        _check_out(out)
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
    zip_path = write_zip(out, out.with_suffix(".zip")) if make_zip else None
    return out, zip_path, problems


def cmd_publish(args):
    from autograder.cli import Course
    out, zip_path, problems = publish(Course(args.course), args.assignment, out=args.out,
                                      toolbox_url=args.toolbox_url, make_zip=not args.no_zip)
    for note in problems.notes:
        print(f"note: {note}")
    print(f"student edition: {out}" + (f" and {zip_path}" if zip_path else ""))
    print("checked: answer cells are stubs; no solution, hidden test, reference line or instructor package in it")
    return 0


def add_parser(sub):
    """The `publish` subcommand of python -m autograder (autograder/cli.py)."""
    p = sub.add_parser("publish", help="the student edition: release notebooks, toolbox wheel, Binder files, zip")
    p.add_argument("assignment", nargs="*", help="the assignments to hand out so far (default: every assignment)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="the edition's folder; a zip is written next to it "
                                                           "(default: %(default)s)")
    p.add_argument("--toolbox-url", default=None,
                   help="where Colab gets the toolbox: the address of the published wheel, e.g. the raw URL of "
                        "wheels/<wheel> in the edition's public repository (default: none; Colab users upload it)")
    p.add_argument("--no-zip", action="store_true", help="write the folder only")
    p.set_defaults(func=cmd_publish)
    return p
