"""`python -m autograder grade --scheduler ADDRESS` on a Dask cluster (autograder/cluster.py).

A scheduler and two worker processes (`dask scheduler`, `dask worker`) on the
loopback address grade two sample students of 01_unrolling with a fixed seed;
the instructor's process merges what the workers return into the one
gradebook. Checked: both students graded, their scores those of the reference
(full marks) and of the first known mistakes (less), each batch ran on a
different worker, and no database file was written by a worker into the course.
"""
import os
import re
import socket
import subprocess
import sys
import time

import pytest
from nbgrader.api import Gradebook

from autograder import samples
from course_tools import BIN, copy_course, nbgrader

try:
    import distributed
except ImportError:     # `make setup-test` installs the `cluster` extra: missing only outside the test setup
    distributed = None
pytestmark = pytest.mark.skipif(distributed is None and not os.environ.get("CI"),
                                reason="needs the optional `cluster` extra: pip install -e \".[cluster]\" "
                                       "(make setup-test installs it; CI fails without it)")

ASSIGNMENT = "01_unrolling"
STUDENTS = ["sample_mistakes_a", "sample_reference"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_class_graded_on_a_scheduler_and_two_workers(tmp_path):
    course = copy_course(tmp_path / "course")
    run = nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert run.returncode == 0, run.stderr[-3000:]
    assert samples.place_samples(course, ASSIGNMENT, STUDENTS) == STUDENTS
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL,
                              stderr=open(logs / "scheduler.log", "w"), env=env)]
    try:
        for i in range(2):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1",
                                           "--no-dashboard", "--name", f"w{i}"], stdout=subprocess.DEVNULL,
                                          stderr=open(logs / f"worker{i}.log", "w"), env=env))
        with distributed.Client(address, timeout="120s") as client:
            client.wait_for_workers(2, timeout=180)
        graded = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), "grade", ASSIGNMENT,
                                 "--scheduler", address, "--seed", "777", "--quiet"],
                                capture_output=True, text=True, env=env, timeout=1200)
        assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    # each of the two batches (one student each) ran on its own worker
    ran = {i: (logs / f"worker{i}.log").read_text() for i in range(2)}
    assert all(f"autograder: grading {ASSIGNMENT} for" in text for text in ran.values()), ran
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission(ASSIGNMENT, s).score for s in STUDENTS}
        max_score = gb.find_assignment(ASSIGNMENT).max_score
    assert scores["sample_reference"] == max_score
    assert scores["sample_mistakes_a"] < max_score
    for s in STUDENTS:
        assert (course / "autograded" / s / ASSIGNMENT).is_dir()
    assert sorted(p.name for p in course.glob("*.db")) == ["gradebook.db"]
    assert re.search(r"sample_reference\s+\S+ / \S+\s+graded", graded.stdout), graded.stdout
