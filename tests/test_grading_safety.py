"""Grading fails closed, and what a submission controls stays bounded (issue 10), on any machine.

These tests need no bubblewrap: where the sandbox itself is under test they
simulate a machine without it (a PATH without `bwrap`, or a `bwrap` that fails
the way it does in a container). The tests that need a working sandbox are in
test_sandbox.py and test_hostile_submissions.py.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell

import pipeline_helpers as ph
from autograder import sandbox

A = ph.ASSIGNMENT
CONTAINER_BWRAP = """#!/bin/sh
echo "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces." >&2
exit 1
"""


def _path_without_bwrap(folder, kind):
    """A PATH on which `bwrap` is missing ("missing") or fails like in a Docker container ("refusing")."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in ("sh", "cp", "env"):                     # what nbgrader and its kernels may need, minus bwrap
        target = Path("/bin") / tool
        if target.exists() and not (folder / tool).exists():
            (folder / tool).symlink_to(target)
    if kind == "refusing":
        fake = folder / "bwrap"
        fake.write_text(CONTAINER_BWRAP)
        fake.chmod(0o755)
    return f"{ph.BIN}{os.pathsep}{folder}"


def _run(course, argv, path):
    env = dict(os.environ, PATH=path, AUTOGRADER_SEED="20261125")
    env.pop("CI", None)
    return subprocess.run(argv, cwd=course, capture_output=True, text=True, env=env, timeout=900)


# ----------------------------------------------------------------------------- class 1: fail closed

@pytest.fixture(scope="module")
def closed_course(tmp_path_factory):
    """A course with the real config (no opt-in) and one submission whose cell leaves a mark if it runs."""
    tmp = tmp_path_factory.mktemp("closed")
    course = ph.make_course(tmp / "course", opt_in_unsandboxed=False)
    done = ph.nbgrader(course, "generate_assignment", A)
    assert done.returncode == 0, done.stderr[-3000:]
    canary = tmp / "student-code-ran"
    path = ph.make_submission(course, "alice", {name: ph.answer_source(name) for name in ph.FUNCTIONS})
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell(f"open({str(canary)!r}, 'w').write('ran')"))
    nbformat.write(nb, path)
    return course, canary, tmp


@pytest.mark.parametrize("kind, why", [("missing", "not installed"), ("refusing", "namespaces")])
def test_autograde_refuses_without_a_working_sandbox(closed_course, kind, why):
    course, canary, tmp = closed_course
    path = _path_without_bwrap(tmp / f"path-{kind}", kind)
    run = _run(course, [str(ph.BIN / "nbgrader"), "autograde", A], path)
    log = run.stderr + run.stdout
    assert run.returncode != 0, log[-3000:]
    assert log.count("Grading refused") == 1, log[-3000:]          # one clear message, not one per student
    assert why in log and "apt-get install bubblewrap" in log and "allow_unsandboxed" in log, log[-3000:]
    assert not canary.exists(), "student code ran without a sandbox"
    assert not (course / "autograded" / "alice" / A).exists()

    run = _run(course, [sys.executable, "-m", "autograder", "--course", str(course), "grade", A, "--quiet"], path)
    assert run.returncode != 0 and "Grading refused" in run.stderr + run.stdout, run.stdout + run.stderr[-3000:]
    assert why in run.stderr + run.stdout
    assert not canary.exists()


def test_unsandboxed_grading_is_an_explicit_opt_in_and_says_so_everywhere(closed_course):
    course, canary, tmp = closed_course
    path = _path_without_bwrap(tmp / "path-optin", "missing")
    run = _run(course, [sys.executable, "-m", "autograder", "--course", str(course), "grade", A, "--quiet",
                        "--allow-unsandboxed"], path)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-3000:]
    assert canary.exists()                                          # it ran: the instructor asked for it
    assert "UNSANDBOXED" in run.stderr                              # the log
    assert "!! UNSANDBOXED" in run.stdout and "alice" in run.stdout  # the class table
    notebook = ph.results(course, "alice")["notebooks"][A]            # the results file
    assert notebook["sandboxed"] is False and "not installed" in notebook["unsandboxed"]
    report = _run(course, [sys.executable, "-m", "autograder", "--course", str(course), "report", A], path)
    assert report.returncode == 0 and "!! UNSANDBOXED" in report.stdout, report.stdout + report.stderr[-2000:]
    assert sum(ph.scores(course, "alice").values()) == sum(ph.FUNCTIONS.values())


def test_the_launcher_refuses_unless_allowed(monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_status", lambda: sandbox.SandboxStatus(False, "no bwrap here"))
    with pytest.raises(sandbox.SandboxUnavailable, match="Grading refused.*no bwrap here"):
        sandbox.sandbox_launcher()
    with pytest.warns(RuntimeWarning, match="UNSANDBOXED"):
        launcher = sandbox.sandbox_launcher(allow_unsandboxed=True)
    config = json.loads(launcher(["python"], workdir="/w", runtime_dir="/r")[5])
    assert config["sandboxed"] is False


# ----------------------------------------------------------------------------- class 6: links and special files

def test_special_entries_are_found_without_following_or_opening_them(tmp_path):
    from autograder.nbgrader_plugin import special_entries
    (tmp_path / "sub").mkdir()
    (tmp_path / "plain.txt").write_text("x")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "sub" / "up").symlink_to(tmp_path)                 # a loop: never walked into
    os.mkfifo(tmp_path / "sub" / "pipe")
    assert sorted(special_entries(tmp_path)) == [("sub/pipe", "a named pipe (FIFO)"), ("sub/up", "a symbolic link"),
                                         ("zero", "a symbolic link")]


@pytest.fixture(scope="module")
def linked_course(tmp_path_factory):
    """alice: an honest notebook next to a FIFO, a link to a file only the grader may read and a link to the
    course source; bob: his notebook is a link to the instructor's source notebook."""
    tmp = tmp_path_factory.mktemp("links")
    course = ph.make_course(tmp / "course")
    done = ph.nbgrader(course, "generate_assignment", A)
    assert done.returncode == 0, done.stderr[-3000:]
    secret = tmp / "grader-only.txt"
    secret.write_text("grader-only-secret-5d2e")
    secret.chmod(0o600)
    os.utime(secret, (0, secret.stat().st_mtime))                  # read through a link: atime moves (relatime)
    path = ph.make_submission(course, "alice", {name: ph.answer_source(name) for name in ph.FUNCTIONS})
    os.mkfifo(path.parent / "pipe")
    (path.parent / "leak.txt").symlink_to(secret)
    (path.parent / "linked_source").symlink_to(course / "source")
    bob = ph.make_submission(course, "bob", {})
    bob.unlink()
    bob.symlink_to(course / "source" / A / f"{A}.ipynb")
    env = dict(os.environ, AUTOGRADER_SEED="20261125")
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), "grade", A, "--quiet"],
                         capture_output=True, text=True, env=env, timeout=1800)
    return course, secret, run


def test_links_and_pipes_are_never_copied_and_are_named_in_the_feedback(linked_course):
    course, secret, run = linked_course
    line = next(l for l in run.stdout.splitlines() if l.startswith("alice "))
    assert "FAILED" not in line, run.stdout + run.stderr[-3000:]
    assert sum(ph.scores(course, "alice").values()) == sum(ph.FUNCTIONS.values())
    folder = course / "autograded" / "alice" / A
    assert sorted(p.name for p in folder.iterdir()) == [f"{A}.ipynb"]
    assert secret.stat().st_atime == 0, "the grader read the file behind a submitted link"
    for path in (course / "autograded").rglob("*"):
        assert not path.is_symlink() and (not path.is_file() or b"grader-only-secret" not in path.read_bytes())
    feedback = ph.cell_by_id(ph.autograded(course, "alice"), "rnn_step_forward_test").outputs[0]["text"]
    for name in ("pipe", "leak.txt", "linked_source"):
        assert f"{name} is a" in feedback, feedback
    assert any("leak.txt is a symbolic link" in n for n in ph.results(course, "alice")["notebooks"][A]["notes"])


def test_a_linked_notebook_is_refused_and_named(linked_course):
    course, _, run = linked_course
    line = next(l for l in run.stdout.splitlines() if l.startswith("bob "))
    assert "FAILED" in line, run.stdout
    assert f"{A}.ipynb is a symbolic link" in run.stdout, run.stdout
    assert not (course / "autograded" / "bob" / A).exists()


def test_a_config_that_cannot_load_the_autograder_stops_nbgrader(closed_course):
    """nbgrader goes on with its defaults after an error in a config file: stock autograde would run the
    student's code unsandboxed. The course config stops nbgrader instead."""
    course, canary, tmp = closed_course
    canary.unlink(missing_ok=True)                                   # the opt-in test above ran alice's code
    shutil.rmtree(course / "autograded" / "alice", ignore_errors=True)
    code = ("import sys; sys.modules['autograder'] = None\n"          # as if the course were not installed
            "from nbgrader.apps.nbgraderapp import main\n"
            f"sys.argv = ['nbgrader', 'autograde', {A!r}]\nmain()")
    run = _run(course, [sys.executable, "-c", code], f"{ph.BIN}{os.pathsep}{os.environ['PATH']}")
    assert run.returncode != 0, run.stderr[-3000:]
    assert "the course's autograder cannot be imported" in run.stderr, run.stderr[-3000:]
    assert not canary.exists() and not (course / "autograded" / "alice" / A).exists()


# ----------------------------------------------------------------------------- class 3: stand-in work

ATTACKS = '''
import numpy as np

def zero_bytes_long_time(x):          # almost nothing to send, 10**9 steps (hours) for the reference to loop over
    return rnn_forward(np.zeros((1, 10**9, 0)), np.zeros((1, 1)), np.zeros((0, 1)), np.zeros((1, 1)), np.zeros(1))

def long_time(x):                    # within the memory of the stand-in process, minutes of its time
    return rnn_forward(np.zeros((1, 5 * 10**7, 0)), np.zeros((1, 1)), np.zeros((0, 1)), np.zeros((1, 1)), np.zeros(1))

def big_answer(x):                    # a few MB sent, gigabytes and minutes of reference work
    H = 700
    return rnn_forward(np.zeros((1, 2**20, 0)), np.zeros((1, H)), np.zeros((0, H)), np.zeros((H, H)), np.zeros(H))

def honest(x):
    rng = np.random.default_rng(0)
    return rnn_forward(rng.normal(size=(2, 3, 4)), np.zeros((2, 5)), rng.normal(size=(4, 5)),
                       rng.normal(size=(5, 5)), np.zeros(5))[0]
'''


@pytest.fixture(scope="module")
def plain_kernel():
    """An unsandboxed kernel (what is tested here is the grader's side) with the attacks defined."""
    from jupyter_client.manager import KernelManager
    from autograder import remote
    from autograder.kernels import make_kernel_manager, make_runtime_dir, remove_runtime_dir
    import tempfile
    runtime, workdir = make_runtime_dir(), tempfile.mkdtemp(prefix="bptt-work-")
    km = make_kernel_manager(workdir, runtime, manager_class=KernelManager)
    km.start_kernel(cwd=workdir)
    session = remote.KernelSession(km, startup_timeout=120)
    try:
        assert session.run(ATTACKS, timeout=60).status == "ok"
        yield session
    finally:
        session.close()
        km.shutdown_kernel(now=True)
        remove_runtime_dir(runtime)


def _call_with_watchdog(evaluator, name, seconds):
    """evaluator(name, ...) in a thread; (outcome, wall seconds), outcome None if it had not returned."""
    import threading
    import time
    import numpy as np
    box = {}
    thread = threading.Thread(target=lambda: box.update(out=evaluator(name, (np.zeros(1),), ("rnn_forward",))),
                              daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(seconds)
    return box.get("out"), time.monotonic() - start


@pytest.mark.parametrize("name", ["zero_bytes_long_time", "big_answer"])
def test_stand_in_work_is_refused_by_its_shapes(plain_kernel, name):
    import psutil
    from autograder import remote
    before = psutil.Process().memory_info().rss
    outcome, wall = _call_with_watchdog(remote.RemoteEvaluator(plain_kernel, call_timeout=20), name, 60)
    assert outcome is not None, "the grader was still computing the stand-in's answer after 60 s"
    assert outcome.error_type == "RuntimeError" and "too much work" in outcome.error, outcome
    assert psutil.Process().memory_info().rss - before < 200 * 2 ** 20


def test_a_stand_in_over_time_is_stopped_at_the_call_timeout_outside_the_grader(plain_kernel, monkeypatch):
    import psutil
    from autograder import remote
    monkeypatch.setattr(remote, "MAX_STAND_IN_WORK", float("inf"))       # let the work run: the timeout must end it
    evaluator = remote.RemoteEvaluator(plain_kernel, call_timeout=3)
    before = psutil.Process().cpu_times()
    outcome, wall = _call_with_watchdog(evaluator, "long_time", 60)
    after = psutil.Process().cpu_times()
    assert outcome is not None and "the reference's answers took more than 3 s" in (outcome.error or ""), outcome
    assert wall < 30
    assert (after.user + after.system) - (before.user + before.system) < 2.5, "the answer was computed in the grader"
    assert evaluator.worker.proc is None                       # the worker computing it was stopped
    fresh = remote.RemoteEvaluator(plain_kernel, call_timeout=20)
    assert fresh("honest", (np.zeros(1),), ("rnn_forward",)).error is None   # and the kernel still answers
    evaluator.close()
    fresh.close()


# ----------------------------------------------------------------------------- class 4: output bytes

FLOOD_ONE_MESSAGE = 'print("x" * 40_000_000)'              # one message larger than the grader accepts
FLOOD = '''from IPython.display import HTML, display
for i in range(200):
    print("y" * 100_000)                                  # 20 MB of printed text in small pieces
display({"image/png": "A" * 20_000_000}, raw=True)        # a 20 MB image
for i in range(30):
    display(HTML("<p>" + "w" * 1_000_000 + "</p>"))       # 30 MB of HTML, 1 MB at a time
'''
FLOOD_ERROR = 'raise ValueError("z" * 10_000_000)'


def _graded_with_peak_memory(course, student):
    """Autograde one student; (completed process, peak resident memory of the nbgrader process in bytes)."""
    import threading
    import time
    import psutil
    env = dict(os.environ, PATH=f"{ph.BIN}{os.pathsep}{os.environ['PATH']}", AUTOGRADER_SEED="20261125")
    proc = subprocess.Popen([str(ph.BIN / "nbgrader"), "autograde", A, "--student", student], cwd=course,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak, done = [0], threading.Event()

    def watch():
        me = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                peak[0] = max(peak[0], me.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    out, err = proc.communicate(timeout=1800)
    done.set()
    thread.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), peak[0]


def test_untrusted_output_is_bounded_in_bytes_while_it_arrives(tmp_path):
    from autograder import outputs
    course = ph.make_course(tmp_path / "course")
    assert ph.nbgrader(course, "generate_assignment", A).returncode == 0
    answers = {name: ph.answer_source(name) for name in ph.FUNCTIONS}
    ph.make_submission(course, "quiet", answers)
    ph.make_submission(course, "flood", answers, edit=lambda nb: nb.cells.extend(
        [new_code_cell(FLOOD_ONE_MESSAGE), new_code_cell(FLOOD), new_code_cell(FLOOD_ERROR)]))
    quiet, quiet_peak = _graded_with_peak_memory(course, "quiet")
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    flood, flood_peak = _graded_with_peak_memory(course, "flood")
    assert flood.returncode == 0, flood.stderr[-3000:]
    assert sum(ph.scores(course, "flood").values()) == sum(ph.FUNCTIONS.values())     # the answers still count
    path = course / "autograded" / "flood" / A / f"{A}.ipynb"
    assert path.stat().st_size < outputs.MAX_NOTEBOOK_BYTES + 2 * 2 ** 20, path.stat().st_size
    assert flood_peak - quiet_peak < 150 * 2 ** 20, (quiet_peak / 2 ** 20, flood_peak / 2 ** 20)
    nb = ph.autograded(course, "flood")
    one_message, flood_cell, error_cell = nb.cells[-3:]
    assert "a message larger than the grader accepts (32 MB) was dropped" in one_message.outputs[-1]["text"]
    text = "".join(o.get("text", "") for o in flood_cell.outputs)
    assert "output cut: this cell printed more than" in text and "output cut: a image/png output" in text
    assert "the notebook's outputs reached" in text
    error = next(o for o in error_cell.outputs if o["output_type"] == "error")
    assert len(error["evalue"]) < outputs.MAX_TRACEBACK_BYTES and "message cut" in error["evalue"]
    notes = ph.results(course, "flood")["notebooks"][A]["notes"]
    assert any("of output was not kept" in n for n in notes), notes


# ----------------------------------------------------------------------------- class 7: inert feedback

PAYLOADS = '''from IPython.display import HTML, Javascript, SVG, display
display(HTML('<img src=x onerror="document.title=\\'pwned-onerror\\'"><script>document.title="pwned-script"</script>'
             '<b>bold stays</b><a href="javascript:document.title=\\'pwned-link\\'">link</a>'))
display(Javascript('document.title = "pwned-javascript"'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>document.title="pwned-svg"</script></svg>'))
'''
MARKDOWN = ('Written answer, **markdown stays**.\n\n<script>document.title="pwned-markdown"</script>\n'
            '<iframe src="javascript:parent.document.title=\'pwned-iframe\'"></iframe>')


@pytest.fixture(scope="module")
def feedback_course(tmp_path_factory):
    from nbformat.v4 import new_markdown_cell
    course = ph.make_course(tmp_path_factory.mktemp("inert") / "course")
    assert ph.nbgrader(course, "generate_assignment", A).returncode == 0
    ph.make_submission(course, "mallory", {name: ph.answer_source(name) for name in ph.FUNCTIONS},
                       edit=lambda nb: nb.cells.extend([new_code_cell(PAYLOADS), new_markdown_cell(MARKDOWN)]))
    env = dict(os.environ, AUTOGRADER_SEED="20261125")
    graded = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), "grade", A, "--quiet"],
                            capture_output=True, text=True, env=env, timeout=1800)
    assert graded.returncode == 0, graded.stdout + graded.stderr[-3000:]
    ours = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), "feedback", A],
                          capture_output=True, text=True, env=env, timeout=1800)
    assert ours.returncode == 0, ours.stdout + ours.stderr[-3000:]
    ours_page = next((course / "feedback").glob(f"mallory/{A}/*.html")).read_text()
    plain = ph.nbgrader(course, "generate_feedback", A, "--force")           # nbgrader's own command
    assert plain.returncode == 0, plain.stderr[-3000:]
    plain_page = next((course / "feedback").glob(f"mallory/{A}/*.html")).read_text()
    return course, {"python -m autograder feedback": ours_page, "nbgrader generate_feedback": plain_page}


def _active_content(page):
    """What in a page could run code, parsed as a browser would (text shown escaped, such as the code
    cells' sources, is not): student scripts, event-handler attributes, javascript: URLs, frames, objects."""
    from html.parser import HTMLParser
    found = []

    class Parser(HTMLParser):
        script = False

        def handle_starttag(self, tag, attrs):
            self.script = tag == "script"
            if tag in ("iframe", "frame", "object", "embed"):
                found.append(f"<{tag}>")
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                    found.append(f"<{tag} {name}={value!r}>")

        def handle_endtag(self, tag):
            self.script = False

        def handle_data(self, data):
            if self.script and "pwned" in data:
                found.append(f"<script>{data[:80]}")
    Parser().feed(page)
    return found


def test_autograded_notebooks_keep_no_active_content(feedback_course):
    course, _ = feedback_course
    nb = ph.autograded(course, "mallory")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert not mimes & {"application/javascript", "image/svg+xml", "text/javascript"}, mimes
    text = json.dumps([o.get("data", {}) for o in outputs])       # code cells' sources are code, shown escaped
    text += json.dumps([c.source for c in nb.cells if c.cell_type != "code"])
    for bad in ("<script", "onerror", "javascript:", "<iframe"):
        assert bad not in text.lower(), bad
    assert "bold stays" in text and "markdown stays" in text
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("command", ["python -m autograder feedback", "nbgrader generate_feedback"])
def test_feedback_pages_render_student_output_inert(feedback_course, command):
    from autograder.sanitize import FEEDBACK_CSP, csp_of
    page = feedback_course[1][command]
    assert csp_of(page) == [FEEDBACK_CSP]
    head = page[page.lower().index("<head>") + len("<head>"):].lstrip()
    assert head.lower().startswith("<meta") and "content-security-policy" in head.split(">", 1)[0].lower()
    assert "script-src" not in FEEDBACK_CSP and "default-src 'none'" in FEEDBACK_CSP   # no script of any origin
    assert _active_content(page) == []
    assert "<b>bold stays</b>" in page and "<strong>markdown stays</strong>" in page   # formatting is kept


# ----------------------------------------------------------------------------- class 8: the course's order

def test_grading_order_is_the_courses_building_blocks_first():
    """Whatever the cells' order, every function is graded after the functions standing in for it
    (tests/test_hostile_submissions.py grades a notebook that harvests stand-in answers)."""
    from autograder.grading import STAND_INS
    from autograder.nbgrader_plugin import grading_order
    everything = list(STAND_INS)
    for names in (everything[::-1], ["gradient_contributions", "rnn_forward", "rnn_step_backward",
                                     "rnn_step_forward"], ["rnn_backward_chunked", "clip_grad_norm", "rnn_backward"]):
        order = grading_order(names)
        assert sorted(order) == sorted(set(names))
        for f in order:
            assert all(order.index(block) < order.index(f) for block in STAND_INS[f] if block in order), (f, order)
    assert grading_order(["rnn_forward", "rnn_step_forward", "rnn_forward"]) == ["rnn_step_forward", "rnn_forward"]
