"""The sandbox around a grading kernel (autograder/sandbox.py): what a submission cannot do.

A kernel is started exactly as the grader starts it, in a small course laid
out like nbgrader's (gradebook.db, source/, submitted/, autograded/ of two
students), with the kernel's working folder in autograded/alice/a1. Every
test runs code in it and checks, from outside, that the files, processes and
network it must not reach were not reached.
"""
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import warnings
from pathlib import Path

import psutil
import pytest

from system_tools import needs_bubblewrap

from autograder import sandbox
from autograder.limits import REASON_CPU, REASON_MEMORY, REASON_RUNTIME_FILES, REASON_TIME, Limits, explain
from hostile.kernel_client import SandboxedKernel

LINUX = sys.platform.startswith("linux")
pytestmark = [pytest.mark.skipif(not LINUX, reason="bubblewrap sandboxes exist on Linux only"), needs_bubblewrap()]

SECRET = "hidden-test-secret-7c1f"
ROOT = Path(__file__).resolve().parents[1]


def test_bubblewrap_is_really_in_use():
    status = sandbox.sandbox_status()
    assert status.sandboxed, f"no sandbox on this Linux machine: {status.detail}"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder with secrets around alice's autograded submission (the kernel's workdir)."""
    root = tmp_path_factory.mktemp("course")
    files = {
        "gradebook.db": SECRET,
        "nbgrader_config.py": "c = get_config()\n",
        "source/a1/a1.ipynb": SECRET,
        "submitted/bob/a1/a1.ipynb": SECRET,
        "autograded/bob/a1/a1.ipynb": SECRET,
        "feedback/bob/a1/a1.html": SECRET,
        "autograded/alice/a1/a1.ipynb": "alice's notebook",
        "autograded/alice/a1/data.txt": "alice's data",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def kernel(course):
    before = snapshot(course)
    with SandboxedKernel(course / "autograded/alice/a1") as k:
        yield k
    assert snapshot(course) == before, "the course folder changed while the sandboxed kernel ran"


def run_ok(kernel, code, timeout=30):
    reply = kernel.run(code, timeout=timeout)
    assert reply.error is None and not reply.timed_out, f"{code!r} failed: {reply}"
    return reply.stdout


def test_the_kernel_sees_a_copy_of_its_own_submission(kernel, course):
    out = run_ok(kernel, "import os; print(sorted(os.listdir('.')), open('data.txt').read())")
    assert out.strip() == "['a1.ipynb', 'data.txt'] alice's data"
    run_ok(kernel, "open('data.txt', 'w').write('changed'); open('new.txt', 'w').write('x')")
    assert run_ok(kernel, "print(open('data.txt').read())").strip() == "changed"
    # ... a private copy: the real folder is untouched
    assert (course / "autograded/alice/a1/data.txt").read_text() == "alice's data"
    assert not (course / "autograded/alice/a1/new.txt").exists()


@pytest.mark.parametrize("rel", ["gradebook.db", "source/a1/a1.ipynb", "submitted/bob/a1/a1.ipynb",
                                 "autograded/bob/a1/a1.ipynb", "feedback/bob/a1/a1.html"])
def test_course_files_and_other_students_are_out_of_reach(kernel, course, rel):
    path = str(course / rel)
    reply = kernel.run(f"print(open({path!r}).read())")
    assert reply.error in ("FileNotFoundError", "PermissionError"), reply
    assert SECRET not in reply.stdout
    reply = kernel.run(f"import os; os.makedirs(os.path.dirname({path!r}), exist_ok=True); "
                       f"open({path!r}, 'w').write('forged')")
    assert reply.error in ("FileNotFoundError", "PermissionError", "OSError"), reply
    assert (course / rel).read_text() == SECRET


def test_writes_outside_the_submission_copy_fail(kernel, tmp_path):
    host_dir = str(tmp_path)  # a folder the grader can write to
    for target in [f"{host_dir}/x", "/etc/x", "/usr/x", f"{sandbox.SUBMISSION_MOUNT}/x", "/x",
                   f"{sys.prefix}/x"]:
        reply = kernel.run(f"open({target!r}, 'w').write('x')")
        assert reply.error in ("PermissionError", "OSError", "FileNotFoundError"), (target, reply)
    assert list(tmp_path.iterdir()) == []
    assert not os.path.exists(f"{sys.prefix}/x")


def test_tmp_is_private(kernel):
    name = f"/tmp/bptt-sandbox-private-{os.getpid()}"
    run_ok(kernel, f"open({name!r}, 'w').write('x')")
    assert not os.path.exists(name)


def test_home_directories_are_hidden(kernel):
    home = os.path.expanduser("~")
    entries = set(os.listdir(home)) - {".pyenv"}
    assert entries, "this test needs a home folder with something in it"
    out = run_ok(kernel, f"import os\ntry:\n    print(sorted(set(os.listdir({home!r})) - {{'.pyenv'}}))\n"
                         "except OSError as e:\n    print(type(e).__name__)")
    assert out.strip() in ("[]", "FileNotFoundError", "PermissionError"), out
    assert run_ok(kernel, "import os; print(os.path.exists('/home'))").strip() == "False"


def test_the_reference_and_the_grader_cannot_be_imported(kernel):
    for statement in ("from solutions import rnn_forward", "import solutions.rnn", "import autograder.grading",
                      "import autograder.sandbox", "from autograder.hidden import run_hidden_tests"):
        reply = kernel.run(statement)
        assert reply.error in ("ModuleNotFoundError", "ImportError", "FileNotFoundError"), (statement, reply)
    for name in ("solutions", "autograder"):  # not even their source files
        folder = os.path.join(sandbox.__file__.rsplit("/", 2)[0], name)
        reply = kernel.run(f"import os; print(os.listdir({folder!r}))")
        assert reply.error in ("FileNotFoundError", "PermissionError"), (folder, reply)
    # the students' toolbox is importable
    run_ok(kernel, "import bpttlab")


def test_no_network_not_even_the_hosts_loopback(kernel):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(2)
    port = server.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(_accept(server)))
    thread.start()
    for host, p in [("127.0.0.1", port), ("1.1.1.1", 53), ("8.8.8.8", 443)]:
        reply = kernel.run(f"import socket; socket.create_connection(({host!r}, {p}), timeout=2)")
        assert reply.error in ("ConnectionRefusedError", "OSError", "TimeoutError"), (host, reply)
    thread.join()
    server.close()
    assert accepted == [None]


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


def test_only_its_own_processes_are_visible(kernel):
    out = run_ok(kernel, "import os; print(len([p for p in os.listdir('/proc') if p.isdigit()]))")
    assert int(out) <= 4  # bwrap's init, the setup shell's exec (the kernel), and a few children


def test_environment_is_cleared(kernel):
    os.environ["BPTT_GRADER_SECRET"] = SECRET
    try:
        out = run_ok(kernel, "import os; print(sorted(os.environ))")
        assert "BPTT_GRADER_SECRET" not in out  # set after start; and the start env is cleared
        assert "PATH" in out and "HOME" in out
    finally:
        del os.environ["BPTT_GRADER_SECRET"]


def test_unprivileged_user_when_grading_as_root(kernel):
    if os.geteuid() != 0:
        pytest.skip("the kernel runs as the grader's own user when the grader is not root")
    out = run_ok(kernel, "import os; print(os.getuid(), os.geteuid())")
    uid, euid = map(int, out.split())
    assert uid == euid >= sandbox.UID_BASE
    assert run_ok(kernel, "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])").strip() \
        == "0000000000000000"


def test_rlimits_memory_file_size_tmp_size(kernel):
    reply = kernel.run("import numpy as np; a = np.ones(6 * 1024**3 // 8)")
    assert reply.error == "MemoryError", reply
    reply = kernel.run("open('big.bin', 'wb').write(b'x' * (100 * 1024**2))")
    assert reply.error == "OSError" and "too large" in reply.evalue.lower(), reply
    reply = kernel.run("import os\nfor i in range(10):\n    open(f'/tmp/f{i}', 'wb').write(b'x' * (60 * 1024**2))")
    assert reply.error == "OSError" and "space" in reply.evalue.lower(), reply
    run_ok(kernel, "import glob, os\nfor f in glob.glob('/tmp/f*') + ['big.bin']:\n"
                   "    os.path.exists(f) and os.remove(f)")


def test_process_limit(kernel):
    if os.geteuid() != 0:
        pytest.skip("RLIMIT_NPROC is per user; it is set when each kernel has a user id of its own (root)")
    out = run_ok(kernel, "import subprocess\nps = []\ntry:\n    for i in range(200):\n"
                         "        ps.append(subprocess.Popen(['sleep', '30']))\nexcept OSError as e:\n"
                         "    print('stopped', type(e).__name__)\nfor p in ps:\n    p.kill(); p.wait()\n"
                         "print(len(ps))")
    assert out.split()[0] == "stopped"
    assert int(out.split()[-1]) < 64


def _processes_with_marker(marker):
    found = []
    for p in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error, TypeError):
            if any(marker in part for part in p.info["cmdline"] or []):
                found.append(p)
    return found


def test_no_process_survives_the_kernel(course):
    marker = "bptt-sandbox-orphan-marker"
    code = ("import subprocess\n"
            f"subprocess.Popen(['sh', '-c', 'trap \"\" HUP TERM INT; (sleep 300; echo {marker}) & "
            f"sleep 300; echo {marker}'], start_new_session=True)\n"
            f"subprocess.Popen(['python3', '-c', 'import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n"
            f"    time.sleep(300)\\n# {marker}'], stderr=open('orphan-stderr.txt', 'w'))\n")
    k = SandboxedKernel(course / "autograded/alice/a1")
    try:
        run_ok(k, code)
        deadline = time.monotonic() + 10
        while len(_processes_with_marker(marker)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        found = _processes_with_marker(marker)
        if len(found) < 3:      # say why (a full run here once found only the two sh): what python3 printed
            why = run_ok(k, "print(open('orphan-stderr.txt').read()[-2000:])")
            pytest.fail(f"the test's background processes did not start: found {found}; python3's stderr: {why!r}")
    finally:
        k.stop()
    deadline = time.monotonic() + 10
    while _processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with_marker(marker) == []


# ---------------------------------------------------------------------------
# How a kernel ends: recorded by the supervisor, explained in plain words

def short_kernel(course, **limits):
    return SandboxedKernel(course / "autograded/alice/a1", Limits(**limits))


def test_notebook_time_limit_kills_a_loop_that_ignores_interrupts(course):
    # the limit counts from kernel start: 20 s leaves room for a slow start on a loaded machine
    k = short_kernel(course, notebook_seconds=20)
    k.run("import signal\nfor s in (signal.SIGINT, signal.SIGTERM):\n    signal.signal(s, signal.SIG_IGN)\n"
          "while True:\n    pass", timeout=1)
    k.km.interrupt_kernel()
    outcome = k.outcome_when_dead(timeout=60)
    assert outcome is not None, "the kernel was not stopped within 60 s"
    assert outcome["reason"] == REASON_TIME
    assert 20 <= outcome["elapsed"] < 40
    assert "at most 20 s" in explain(outcome)


@pytest.mark.parametrize("code, words", [
    ("import os; os._exit(3)", "exited with status 3"),
    ("import ctypes; ctypes.string_at(0)", "segmentation fault"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "was killed (SIGKILL)"),
])
def test_kernel_death_is_recorded(course, code, words):
    k = short_kernel(course)
    k.run(code, timeout=1)
    outcome = k.outcome_when_dead(timeout=20)
    assert outcome["reason"] == "exited"
    assert words in explain(outcome), explain(outcome)


def test_cpu_limit(course):
    k = short_kernel(course, cpu_seconds=2)
    k.run("while True:\n    pass", timeout=1)
    outcome = k.outcome_when_dead(timeout=20)
    assert "CPU-time limit" in explain(outcome), outcome


def test_memory_of_a_process_tree_is_limited(course):
    # each child stays under the address-space limit; together they exceed memory_mb
    k = short_kernel(course, memory_mb=400, notebook_seconds=60)
    k.run("import subprocess, sys\ncode = 'import time; b = bytearray(250 * 1024**2); time.sleep(60)'\n"
          "ps = [subprocess.Popen([sys.executable, '-c', code]) for _ in range(3)]\n"
          "import time; time.sleep(60)", timeout=2)
    outcome = k.outcome_when_dead(timeout=40)
    assert outcome["reason"] == REASON_MEMORY
    assert "more than 400 MB" in explain(outcome)


def test_writing_into_the_connection_folder_kills_the_kernel(course):
    k = short_kernel(course, runtime_kb=64)
    runtime = str(k.runtime_dir)
    k.run(f"open({runtime + '/junk'!r}, 'wb').write(b'x' * 200000)\nimport time; time.sleep(30)", timeout=2)
    outcome = k.outcome_when_dead(timeout=20)
    assert outcome["reason"] == REASON_RUNTIME_FILES


# Class 5 of issue 10: memory a polled RSS misses, subfolders of the connection folder, CPU over restarts

MEMFDS = ("import os, time\nfds = []\nfor i in range(10):\n    fd = os.memfd_create(f'm{i}')\n"
          "    for _ in range(60):\n        os.write(fd, b'x' * 1024**2)\n    fds.append(fd)\ntime.sleep(60)")
TMPFS = ("import time\nfor folder in ('/tmp', '/dev/shm', '.'):\n    for i in range(3):\n"
         "        with open(f'{folder}/fill{i}', 'wb') as f:\n            f.write(b'x' * 60 * 1024**2)\n"
         "time.sleep(60)")


@pytest.mark.parametrize("code", [MEMFDS, TMPFS], ids=["memfd", "tmpfs"])
def test_memory_counts_memfds_and_tmpfs_pages_not_only_resident_memory(course, code):
    # 600 MB of memfds (none mapped, each under file_mb) / 540 MB on /tmp, /dev/shm and the submission copy
    k = short_kernel(course, memory_mb=300, notebook_seconds=90)
    k.run(code, timeout=2)
    outcome = k.outcome_when_dead(timeout=60)
    assert outcome is not None and outcome["reason"] == REASON_MEMORY, outcome
    assert "more than 300 MB" in explain(outcome)


def test_a_subfolder_of_the_connection_folder_counts_too(course):
    k = short_kernel(course, runtime_kb=64)
    runtime = str(k.runtime_dir)
    k.run(f"import os\nos.makedirs({runtime + '/a/b'!r})\nopen({runtime + '/a/b/junk'!r}, 'wb').write(b'x' * 200000)\n"
          "import time; time.sleep(30)", timeout=2)
    outcome = k.outcome_when_dead(timeout=20)
    assert outcome is not None and outcome["reason"] == REASON_RUNTIME_FILES, outcome


BURN = "import time\nwhile time.process_time() < {seconds}:\n    pass\nprint('burnt')"


def test_cpu_time_counts_every_process_of_the_notebook(course):
    # three children of 2.5 s each: every one under the per-process RLIMIT_CPU of 5 s, 7.5 s together
    k = short_kernel(course, cpu_seconds=5, notebook_seconds=240)
    k.run("import subprocess, sys\n"
          f"ps = [subprocess.Popen([sys.executable, '-c', {BURN.format(seconds=2.5)!r}]) for _ in range(3)]\n"
          "[p.wait() for p in ps]\nimport time; time.sleep(60)", timeout=2)
    outcome = k.outcome_when_dead(timeout=200)
    assert outcome is not None and outcome["reason"] == REASON_CPU, outcome
    assert "CPU-time limit" in explain(outcome)


def test_cpu_time_is_not_reset_by_restarting_the_kernel(course):
    k = short_kernel(course, cpu_seconds=5, notebook_seconds=240)
    assert "burnt" in k.run(BURN.format(seconds=3), timeout=120).stdout
    k.km.restart_kernel(now=True)           # what the grader does after a kernel died
    k.kc.wait_for_ready(timeout=60)
    k.run(BURN.format(seconds=4), timeout=1)
    outcome = k.outcome_when_dead(timeout=120)
    assert outcome is not None and outcome["reason"] == REASON_CPU, outcome
    assert outcome["cpu_seconds"] >= 5


def test_the_outcome_says_which_limits_were_in_force(course):
    k = short_kernel(course)
    k.run("import os; os._exit(0)", timeout=1)
    outcome = k.outcome_when_dead(timeout=20)
    in_force = outcome["in_force"]
    assert set(in_force) == set(Limits().to_dict())
    assert "memfd" in in_force["memory_mb"]["enforced_by"] and "tmpfs" in in_force["tmp_mb"]["enforced_by"]


def test_sandbox_check_prints_the_limits_a_kernel_really_gets(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n"
                                             "c.GradeOutsideKernel.limits = {'tmp_mb': 96, 'file_mb': 16}\n")
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(root), "sandbox-check"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    rows = {line.split()[0]: line.split()[1:3] for line in run.stdout.splitlines()[1:] if line[:1].islower()}
    assert run.stdout.startswith("SANDBOXED")
    assert rows["tmp_mb"] == ["96", "96"] and rows["workdir_mb"] == ["256", "256"], run.stdout
    assert rows["file_mb"] == ["16", "16"] and rows["address_space_mb"] == ["4096", "4096"], run.stdout
    assert "memfds" in run.stdout and "grader packages importable in the kernel: none" in run.stdout
    assert "PROBLEM" not in run.stdout


# ---------------------------------------------------------------------------
# Configuration and the unsandboxed fallback

def test_limits_reject_bad_values():
    with pytest.raises(ValueError, match="notebook_seconds must be a positive number"):
        Limits(notebook_seconds=0)
    with pytest.raises(ValueError, match="unknown limit"):
        Limits.from_dict({"seconds": 3})
    with pytest.raises(TypeError, match="Limits"):
        sandbox.sandbox_launcher({"cpu_seconds": 3})


def test_launcher_wraps_the_kernel_command():
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    wrapped = sandbox.sandbox_launcher(Limits())(list(argv), workdir="/w", runtime_dir="/r")
    assert wrapped[-len(argv):] == argv
    assert wrapped[:4] == [sys.executable, "-I", "-m", "autograder.sandbox"]


def test_unsandboxed_opt_in_warns_loudly_and_still_limits(course, monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_status",
                        lambda: sandbox.SandboxStatus(False, "bubblewrap is not installed"))
    with pytest.raises(sandbox.SandboxUnavailable, match="Grading refused"):
        sandbox.sandbox_launcher(Limits(address_space_mb=3000))
    with pytest.warns(RuntimeWarning, match="UNSANDBOXED"):
        launcher = sandbox.sandbox_launcher(Limits(address_space_mb=3000), allow_unsandboxed=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with SandboxedKernel(course / "autograded/alice/a1", launcher=launcher) as k:
            out = run_ok(k, "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])")
            assert int(out) == 3000 * 1024 ** 2


def test_the_course_grades_every_kernel_in_the_sandbox():
    from traitlets.config.loader import PyFileConfigLoader
    course = Path(sandbox.__file__).resolve().parents[1] / "course"
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    assert config.GradeOutsideKernel.sandbox is True
    assert "allow_unsandboxed" not in config.GradeOutsideKernel     # fail closed: no opt-in shipped


# ---------------------------------------------------------------------------
# The reference is out of reach wherever the course is installed (an allow-list, autograder/kernel_view.py)

PROBE = r'''
import json, os, sys, tempfile, time
from queue import Empty
from jupyter_client.manager import KernelManager
from autograder import kernels, sandbox

secrets = json.loads(sys.argv[1])
workdir = tempfile.mkdtemp(prefix="bptt-view-")
runtime = kernels.make_runtime_dir()
km = kernels.make_kernel_manager(workdir, runtime, launcher=sandbox.sandbox_launcher(), manager_class=KernelManager)
km.start_kernel(cwd=workdir)
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=120)

def run(code):
    msg_id = kc.execute(code)
    out, error = "", None
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out += msg["content"]["text"]
        elif msg["msg_type"] == "error":
            error = msg["content"]["ename"]
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out, error

result = {"imports": {}, "reads": {}}
for module in ("solutions", "autograder", "numpy", "matplotlib.pyplot", "ipywidgets", "bpttlab"):
    result["imports"][module] = run(f"import {module}")[1]
for path in secrets:
    result["reads"][path] = run(f"open({path!r}, 'rb').read(10)")[1]
result["import_path"] = run("import numpy, bpttlab; print(numpy.__file__, bpttlab.__file__)")[0]
kc.stop_channels()
km.shutdown_kernel(now=True)
kernels.remove_runtime_dir(runtime)
print("RESULT", json.dumps(result))
'''


def _install_course(where, editable):
    """The course installed into a venv at `where`/venv (its copy at `where`/src), with its dependencies
    hard-linked from this test run's environment (no download). Returns (python, src, site-packages)."""
    src = where / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "solutions", "autograder", "toolbox", "course"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns(
                "__pycache__", "release", "submitted", "autograded", "feedback", "gradebook.db"))
        else:
            shutil.copy(source, src / name)
    venv = where / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)],
                   check=True, capture_output=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    skip = shutil.ignore_patterns("torch*", "nvidia*", "triton*", "playwright*", "__editable__*", "bptt_course*", "bpttlab*",
                                  "__pycache__")
    shutil.copytree(sysconfig.get_paths()["purelib"], site, ignore=skip, copy_function=os.link,
                    dirs_exist_ok=True, symlinks=True)
    # --ignore-installed: never uninstall the course from the environment running the tests
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
           "--ignore-installed",
           "--prefix", str(venv), *(["-e"] if editable else []), str(src / "toolbox"),
           *(["-e"] if editable else []), str(src)]
    done = subprocess.run(pip, capture_output=True, text=True, cwd=where)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin" / "python", src, site


@pytest.mark.parametrize("top, editable", [("/usr/local", False), ("/usr/local", True), ("/tmp", True)],
                         ids=["usr-local-installed", "usr-local-editable", "tmp-editable"])
def test_the_reference_is_unreachable_when_the_course_is_installed_under_usr_local(top, editable):
    """Also under /tmp, which the sandbox replaces by a private tmpfs: the kernel's venv must still be seen."""
    if os.geteuid() != 0 or not os.access(top, os.W_OK):
        pytest.skip(f"installing into {top} needs root (the CI machine and the development machine are)")
    where = Path(f"{top}/bptt-sandbox-test-{os.getpid()}-{'editable' if editable else 'installed'}")
    try:
        python, src, site = _install_course(where, editable)
        installed = src if editable else site
        secrets = [str(installed / "solutions" / "rnn.py"), str(installed / "autograder" / "grading.py"),
                   str(src / "course" / "nbgrader_config.py"), str(next((src / "course" / "source").glob("*/*.ipynb")))]
        assert all(Path(p).is_file() for p in secrets)
        check = subprocess.run([str(python), "-c", "import solutions, autograder; print(solutions.__file__)"],
                               capture_output=True, text=True, cwd="/")
        assert check.returncode == 0 and str(where) in check.stdout, check.stderr   # the grader uses this copy
        done = subprocess.run([str(python), "-c", PROBE, json.dumps(secrets)], capture_output=True, text=True,
                              cwd="/", timeout=600, env={**os.environ, "PYTHONPATH": ""})
        line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
        assert line, done.stdout[-2000:] + done.stderr[-4000:]
        result = json.loads(line[len("RESULT "):])
    finally:
        shutil.rmtree(where, ignore_errors=True)
    assert result["imports"]["solutions"] == "ModuleNotFoundError", result
    assert result["imports"]["autograder"] == "ModuleNotFoundError", result
    assert {m: e for m, e in result["imports"].items() if m not in ("solutions", "autograder")} == \
        {"numpy": None, "matplotlib.pyplot": None, "ipywidgets": None, "bpttlab": None}, result
    assert all(e in ("FileNotFoundError", "PermissionError") for e in result["reads"].values()), result


@pytest.mark.parametrize("separate_user", [False, True], ids=["same-user", "separate-user"])
def test_an_unsandboxed_kernel_dies_with_its_supervisor(tmp_path, separate_user):
    """nbgrader may SIGKILL the supervisor on shutdown; its kernel must not live on (an orphan keeps nbgrader's
    output pipes open, and the grader waiting on them: a Gradescope run hung 15 min on one)."""
    if separate_user and os.geteuid() != 0:
        pytest.skip("a kernel of its own user id needs root (the CI machine and the development machine are)")
    workdir, runtime = tmp_path / "work", tmp_path / "runtime"
    workdir.mkdir()
    runtime.mkdir()
    for folder in (tmp_path, workdir, runtime):
        folder.chmod(0o755)
    status = sandbox.SandboxStatus(False, "test: unsandboxed on purpose")
    launcher = sandbox.sandbox_launcher(Limits(), allow_unsandboxed=True, status=status, separate_user=separate_user)
    pid_file = workdir / "kernel.pid"
    python = sys.executable
    if separate_user:        # the kernel's user must be able to run it: not a Python under root's home
        python = "/usr/bin/python3"
        if not os.access(python, os.X_OK):
            pytest.skip("no system Python at /usr/bin/python3 for a kernel of its own user")
    kernel = [python, "-c", "import os, time; open('kernel.pid', 'w').write(str(os.getpid())); "
                                    "time.sleep(120)"]                    # written in its working folder
    supervisor = subprocess.Popen(launcher(kernel, workdir=workdir, runtime_dir=runtime))
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        kernel_pid = int(pid_file.read_text())
        supervisor.kill()                                  # SIGKILL: no clean-up of its own can run
        supervisor.wait()
        deadline = time.monotonic() + 10
        while _alive(kernel_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(kernel_pid), "the kernel outlived its SIGKILLed supervisor"
    finally:
        supervisor.kill()
        if pid_file.is_file() and pid_file.read_text() and _alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def _alive(pid):
    """Whether process `pid` runs (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
