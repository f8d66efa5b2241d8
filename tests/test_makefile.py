"""The Makefile's guards around `make lab`: which Python, and root.

`make -n` prints the commands a target would run without running them, so
these tests are fast and touch no venv.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from course_tools import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="needs `make` (the README's commands use it)")


@pytest.fixture
def folder():
    """A world-readable folder holding the Makefile and what its rules name (no .venv): any user can run it."""
    path = Path(tempfile.mkdtemp(prefix="bptt-makefile-"))
    try:
        path.chmod(0o755)
        for name in ("Makefile", "pyproject.toml", "toolbox/pyproject.toml"):
            (path / name).parent.mkdir(mode=0o755, exist_ok=True)
            shutil.copy(ROOT / name, path / name)
            (path / name).chmod(0o644)
        yield path
    finally:
        shutil.rmtree(path)


def _make(folder, *args, user=None):
    argv = [MAKE, "--no-print-directory", "-C", str(folder), *args]
    if user is not None:           # run as another user (needs root): setpriv, as the sandbox does
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=folder,
                          env={**os.environ, "MAKEFLAGS": ""})


@pytest.mark.skipif(os.geteuid() != 0, reason="the root case needs root (CI runs as root)")
def test_as_root_lab_passes_allow_root_and_says_so(folder):
    run = _make(folder, "-n", "lab", f"PYTHON={sys.executable}")
    assert run.returncode == 0, run.stderr
    lab = [l for l in run.stdout.splitlines() if "jupyter lab" in l]
    assert lab and "--allow-root" in lab[-1]
    assert sum("running as root" in l for l in run.stdout.splitlines()) == 1


def test_as_an_ordinary_user_lab_is_unchanged(folder):
    user = 65534 if os.geteuid() == 0 else None          # nobody, when the tests run as root
    run = _make(folder, "-n", "lab", f"PYTHON={sys.executable}", user=user)
    assert run.returncode == 0, run.stderr
    lab = [l for l in run.stdout.splitlines() if "jupyter lab" in l]
    assert lab and "--allow-root" not in lab[-1] and "running as root" not in run.stdout


def test_a_python_that_does_not_run_is_named_with_the_supported_versions(folder):
    run = _make(folder, "check-python", "PYTHON=/nonexistent/python3.12")
    assert run.returncode != 0
    assert "cannot run '/nonexistent/python3.12'" in run.stdout
    assert "3.11, 3.12 or 3.13" in run.stdout and "make lab PYTHON=python3.12" in run.stdout


def test_an_unsupported_python_version_is_refused_with_how_to_pick_another(folder, tmp_path):
    fake = tmp_path / "python3.10"          # this Python, claiming to be 3.10
    fake.write_text(f"#!{sys.executable}\n"
                    "import sys\n"
                    "code = sys.argv[sys.argv.index('-c') + 1]\n"
                    "sys.version_info = (3, 10, 13, 'final', 0)\n"
                    "exec(code)\n")
    fake.chmod(0o755)
    run = _make(folder, "check-python", f"PYTHON={fake}")
    assert run.returncode != 0
    assert "is Python 3.10" in run.stderr + run.stdout
    assert "make lab PYTHON=python3.12" in run.stderr + run.stdout
    assert _make(folder, "check-python", f"PYTHON={sys.executable}").returncode == 0


def test_test_python_uses_a_venv_of_its_own_whatever_dot_venv_was_made_with(folder, tmp_path):
    """`make test-python PYTHON=...` next to a .venv of another Python: its own .venv-X.Y, no refusal."""
    other = folder / ".venv" / "bin" / "python"          # a .venv that claims another version than this Python
    other.parent.mkdir(parents=True)
    other.write_text(f"#!{sys.executable}\nimport sys\nprint('3.10')\n")
    other.chmod(0o755)
    here = "%d.%d" % sys.version_info[:2]
    refused = _make(folder, "check-python", f"PYTHON={sys.executable}")
    assert refused.returncode != 0 and f"made with Python 3.10, not {here}" in refused.stdout
    run = _make(folder, "-n", "test-python", f"PYTHON={sys.executable}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"-m venv .venv-{here}" in run.stdout and f".venv-{here}/bin/python -m pytest tests/" in run.stdout
