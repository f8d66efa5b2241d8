"""Tests that need a Debian package (bubblewrap, chromium) beyond what pip installs.

`make test` must work on a machine that has only Python and pip, so there these
tests are skipped, with a reason that says what to install. In CI (CI=true),
which installs both packages (.ci/run), a missing package is a failure, never a skip.
"""
import os
import shutil

import pytest

IN_CI = bool(os.environ.get("CI"))


def needs(available, package, what):
    """A skipif mark for tests of `what` that need Debian's `package`; never skipped in CI."""
    return pytest.mark.skipif(
        not available and not IN_CI,
        reason=f"{what} needs `apt-get install {package}`, missing here (CI installs it and runs these tests)")


def bubblewrap_works():
    from autograder.sandbox import sandbox_status
    return sandbox_status().sandboxed


def needs_bubblewrap():
    return needs(bubblewrap_works(), "bubblewrap", "the grading sandbox")


def needs_chromium():
    return needs(shutil.which("chromium") is not None or os.path.exists("/usr/bin/chromium"),
                 "chromium", "the real-browser test")
