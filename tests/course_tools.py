"""Helpers for the course-wide tests: where the notebooks are and what they grade."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from machine_load import load_text, machine_load

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
SOURCE = COURSE / "source"
BIN = Path(sys.executable).parent


def source_notebooks():
    """Every instructor notebook, course/source/<assignment>/<name>.ipynb, in course order."""
    return sorted(SOURCE.glob("*/*.ipynb"))


def assignments():
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and list(p.glob("*.ipynb")))


def load(path):
    return json.loads(Path(path).read_text())


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_cells(nb):
    """{grade_id: cell} of the autograded-answer cells (solution, not graded)."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb["cells"]
            if nbgrader_meta(c).get("solution") and not nbgrader_meta(c).get("grade")}


def source_text(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


_EXECUTED = {}


class Executed:
    """A source notebook run headless once: the notebook with its outputs, the wall seconds it took,
    the exception that stopped it (None when every cell ran), and, when a cell ran out of time, the
    machine's load then (a str; None otherwise)."""

    def __init__(self, nb, seconds, error, timed_out_at_load=None):
        self.nb, self.seconds, self.error, self.timed_out_at_load = nb, seconds, error, timed_out_at_load

    def skip_if_timed_out_under_load(self):
        """A cell that ran out of time on a machine loaded by other work says nothing about the notebook:
        skip the calling test, saying so (the run could not be judged here)."""
        if self.timed_out_at_load is not None and machine_load()[2]:
            import pytest
            pytest.skip(f"a cell ran longer than its {CELL_TIMEOUT_S} s limit while the machine was loaded by "
                        f"other work ({self.timed_out_at_load}): cannot be judged here. {self.error}")

    def raise_error(self):
        """Re-raise what stopped the run (after skip_if_timed_out_under_load)."""
        if self.error is not None:
            self.skip_if_timed_out_under_load()
            raise self.error


# Per cell: a guard against a cell that never ends, not a speed target (benchmarks/bench_notebooks.py
# measures speed: <= 20 s per notebook). The slowest cell takes about 10 s on a quiet 2-core machine.
CELL_TIMEOUT_S = 900


def executed_notebook(path, timeout=CELL_TIMEOUT_S):
    """The notebook at path run top to bottom headless (nbclient, a fresh python3 kernel, in its own
    folder), once per test session: test_course_notebooks.py and test_notebook_numbers.py share the run.

    timeout: seconds per cell. Returns an Executed.
    """
    import time

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError
    key = Path(path).resolve()
    if key not in _EXECUTED:
        nb = nbformat.read(key, as_version=4)
        start = time.perf_counter()
        error, timed_out = None, None
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(key.parent)}}).execute()
        except CellTimeoutError as exc:
            error, timed_out = exc, load_text()
        except Exception as exc:           # noqa: BLE001 (reported by every test that uses the run)
            error = exc
        _EXECUTED[key] = Executed(nb, time.perf_counter() - start, error, timed_out)
    return _EXECUTED[key]


def copy_course(dest):
    """A copy of course/ without generated folders, for nbgrader runs that must not touch the repo."""
    ignore = shutil.ignore_patterns("release", "submitted", "autograded", "feedback",
                                    "gradebook.db", "autograder_results", ".ipynb_checkpoints")
    shutil.copytree(COURSE, dest, ignore=ignore)
    from system_tools import opt_in_unsandboxed_outside_ci
    opt_in_unsandboxed_outside_ci(Path(dest) / "nbgrader_config.py")
    return Path(dest)


def nbgrader(course_dir, *args, timeout=600):
    """Run an nbgrader command from the course root; return the CompletedProcess (never raises)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs alembic
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course_dir, capture_output=True,
                          text=True, timeout=timeout, env=env)
