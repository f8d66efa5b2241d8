"""The PyTorch oracle (the `oracle` extra): where it is installed, and what a test does without it.

torch==2.13.0 is a local CPU wheel for Python 3.11 only (pyproject.toml installs it
there and nowhere else, rather than downloading gigabytes). So on 3.11 a missing
torch is a failure (CI installs it; the oracle tests must run), and on 3.12 and
3.13 the oracle tests are skipped with a reason saying so.
"""
import sys

import pytest

ORACLE_PYTHON = (3, 11)


def require_torch():
    """The torch module; skips on a Python without the oracle wheel, fails on 3.11 without it."""
    try:
        import torch
    except ImportError:
        here = "%d.%d" % sys.version_info[:2]
        if sys.version_info[:2] != ORACLE_PYTHON:
            pytest.skip(f"the PyTorch oracle (torch==2.13.0) is installed only on Python 3.11, where its wheel "
                        f"exists; this is Python {here} (CI runs these tests on 3.11)")
        pytest.fail("torch is not installed: the PyTorch oracle tests need the `oracle` extra "
                    "(pip install -e './toolbox' -e '.[oracle]', torch==2.13.0 CPU)", pytrace=False)
    return torch
