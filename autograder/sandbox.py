"""The sandbox around a grading kernel: bubblewrap + rlimits + a supervisor.

A submission's code runs on the instructor's machine. Every grading kernel is
started through `sandbox_launcher(limits)`, a launcher for
`kernels.make_kernel_manager`. It wraps the kernel's command line as

    python -I -m autograder.sandbox run CONFIG -- <kernel argv>

and that supervisor process (outside the sandbox, this module's `run`) starts

    bwrap <namespaces> <file system> -- sh -c SETUP <kernel argv>

Inside the sandbox (Linux, bubblewrap; Debian package `bubblewrap`):
- file system: only /usr, /etc and the Python installation, read-only; no
  /home, /root, /sys, no course folder, no other submission, no reference
  module (`solutions`, `autograder` are not reachable); a private /tmp and
  /dev/shm (size-limited tmpfs); the submission folder is a size-limited tmpfs
  holding a *copy* of that one submission (the real folder is never written);
  the kernel's connection folder (IPC sockets) is the one shared path;
- namespaces: its own PID namespace (it sees only its own processes; when it
  ends, the kernel kills every process in it), no network (a fresh, empty
  network namespace), IPC and UTS; `--die-with-parent`, `--new-session`;
- user: when the grader runs as root, each kernel runs as a user id of its
  own (no capabilities, no_new_privs), so the process limit of one kernel
  cannot starve another; otherwise as the grader's own user in a user namespace;
- environment: cleared, then a few variables set (HOME=/tmp, one BLAS thread).

The supervisor enforces what rlimits cannot (autograder/usage.py measures): the
notebook's wall-clock limit, the memory of the whole process tree (resident,
memfds, the sandbox's tmpfs pages), its CPU time over every restart of the
notebook's kernel, and a size cap on the connection folder and its subfolders.
It records how the kernel ended in `<runtime_dir>.sandbox.json`
(`read_outcome`), which `limits.explain` turns into plain words.

Without a working bubblewrap (macOS, a container or a Linux that refuses user
namespaces) grading is refused (`decide` raises SandboxUnavailable with the
reason and the fix), unless the instructor opts in with
`allow_unsandboxed`: then the same rlimits and supervisor apply, and the
log, the results and the reports say UNSANDBOXED.
"""
import contextlib
import fcntl
import functools
import json
import logging
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.kernel_view import ETC, SYSTEM_DIRS, USR_SHARE, KernelView, kernel_view
from autograder import usage
from autograder.limits import (MiB, REASON_CPU, REASON_EXITED, REASON_MEMORY, REASON_RUNTIME_FILES,
                               REASON_START, REASON_TIME, Limits)

log = logging.getLogger(__name__)

UNSANDBOXED_WARNING = (
    "UNSANDBOXED: submissions run with the grader's own rights (they can read the course source and hidden "
    "tests, other students' work and gradebook.db, and outlive grading). Only resource limits apply."
)
ALLOW_UNSANDBOXED = "c.GradeOutsideKernel.allow_unsandboxed = True"
HOW_TO_FIX = (
    "How to fix: grade on Linux with bubblewrap installed (`apt-get install bubblewrap`) and unprivileged user "
    "namespaces allowed (`sysctl kernel.unprivileged_userns_clone=1` on older Debian/Ubuntu, "
    "`sysctl kernel.apparmor_restrict_unprivileged_userns=0` on Ubuntu 24.04; in Docker "
    "`--security-opt seccomp=unconfined --security-opt apparmor=unconfined`, or grade as root in a VM "
    "instead of a container). `python -m autograder sandbox-check` says whether it works."
)


class SandboxUnavailable(RuntimeError):
    """Grading was refused: no working sandbox, and running unsandboxed was not allowed."""


# Where the submission's original files are visible (read-only) inside the sandbox,
# before SETUP copies them into the private working folder.
SUBMISSION_MOUNT = "/.submission"
# Kernels of a root grader run as UID_BASE + slot (a user id of their own each).
UID_BASE = 61000
UID_SLOTS = 256
POLL_SECONDS = 0.2


# ---------------------------------------------------------------------------
# Availability

@dataclass(frozen=True)
class SandboxStatus:
    """Whether kernels can be sandboxed: `sandboxed`, `detail` in plain words, `bwrap` the program used."""
    sandboxed: bool
    detail: str
    bwrap: str = None


def _namespace_failure(stderr):
    """Plain words for bwrap's complaint when the machine refuses the namespaces it needs."""
    text = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    if any(s in stderr for s in ("namespace", "uid map", "Operation not permitted", "Permission denied")):
        return (f"bubblewrap cannot create the user/PID/network namespaces it needs (it said: {text}); "
                "containers (Docker's default seccomp profile, many Kubernetes pods) and hardened kernels "
                "refuse them")
    return f"bubblewrap failed to start a process (it said: {text})"


@functools.lru_cache(maxsize=1)
def sandbox_status():
    """Probe bubblewrap once: it must start a process with the namespaces used here."""
    if not sys.platform.startswith("linux"):
        return SandboxStatus(False, f"the sandbox needs Linux (this is {sys.platform})")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxStatus(False, "bubblewrap (the `bwrap` program) is not installed")
    probe = [bwrap, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
             "--", "/bin/sh", "-c", "exit 0"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return SandboxStatus(False, f"bubblewrap ({bwrap}) could not be run: {e}")
    if done.returncode != 0:
        return SandboxStatus(False, _namespace_failure(done.stderr or ""))
    who = "a user id of its own per kernel" if os.geteuid() == 0 else f"user {os.geteuid()}"
    return SandboxStatus(True, f"sandboxed with bubblewrap ({bwrap}), kernels run as {who}", bwrap)


def refusal_message(status, switched_off=False):
    """The one message of a grader that refuses to run student code without a sandbox."""
    why = "the course config switches the sandbox off (GradeOutsideKernel.sandbox = False)" if switched_off \
        else status.detail
    return (f"Grading refused: no working sandbox for student code: {why}. Without it a submission runs with "
            "the grader's rights: it can read the reference and hidden tests, rewrite other students' grades "
            f"and outlive grading. {HOW_TO_FIX} To grade trusted code without a sandbox anyway, set "
            f"`{ALLOW_UNSANDBOXED}` in nbgrader_config.py (or pass --allow-unsandboxed to "
            "`python -m autograder grade`); every result is then marked UNSANDBOXED.")


def decide(sandbox=True, allow_unsandboxed=False):
    """Whether kernels run sandboxed: a SandboxStatus, or SandboxUnavailable (the refusal) raised.

    sandbox: the course asks for the sandbox (False: switched off, which also needs allow_unsandboxed);
    allow_unsandboxed: the explicit opt-in to run student code without it (logged loudly).
    """
    status = sandbox_status() if sandbox else SandboxStatus(False, "the sandbox is switched off")
    if status.sandboxed:
        return status
    if not allow_unsandboxed:
        raise SandboxUnavailable(refusal_message(status, switched_off=not sandbox))
    message = f"{UNSANDBOXED_WARNING} Reason: {status.detail}. Allowed by {ALLOW_UNSANDBOXED}."
    log.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=2)
    return SandboxStatus(False, message)


# ---------------------------------------------------------------------------
# The launcher (what kernels.make_kernel_manager calls)

def sandbox_launcher(limits=None, allow_unsandboxed=False, status=None, separate_user=False):
    """A launcher(argv, workdir=..., runtime_dir=...) -> argv for kernels.make_kernel_manager.

    limits: Limits (default Limits()).
    allow_unsandboxed: run kernels without the sandbox (rlimits and the supervisor only) when bubblewrap
      does not work here; otherwise that raises SandboxUnavailable with the reason and the fix.
    status: a SandboxStatus already decided (see `decide`), instead of deciding here.
    separate_user: unsandboxed and running as root (a Gradescope container, where bubblewrap cannot make
      namespaces): run the kernel as a user id of its own (no groups, no_new_privs, a clean environment),
      its working and connection folders given to that user, so that it cannot read what only root may
      read (the reference, the gradebook, the results). Ignored when sandboxed (bubblewrap does that too).
    The returned command line ends with the kernel's own argv (a prefix wrapper).
    """
    limits = limits or Limits()
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be an autograder.limits.Limits; got {type(limits).__name__}")
    status = status or decide(True, allow_unsandboxed)

    def launcher(argv, *, workdir, runtime_dir):
        view = kernel_view(argv[0]) if status.sandboxed else None     # probed once per grader process
        config = {"workdir": str(Path(workdir).resolve()), "runtime_dir": str(Path(runtime_dir).resolve()),
                  "limits": limits.to_dict(), "sandboxed": status.sandboxed, "bwrap": status.bwrap,
                  "view": view and asdict(view), "separate_user": bool(separate_user)}
        return [sys.executable, "-I", "-m", "autograder.sandbox", "run", json.dumps(config), "--", *argv]

    return launcher


def outcome_path(runtime_dir):
    """Where the supervisor records how the kernel of `runtime_dir` ended (outside the sandbox)."""
    return Path(str(Path(runtime_dir).resolve()) + ".sandbox.json")


def side_files(runtime_dir):
    """Every file the supervisor keeps beside `runtime_dir` (outside the sandbox), for clean-up."""
    base = str(Path(runtime_dir).resolve())
    return [Path(base + suffix) for suffix in (".sandbox.json", ".paths.pth", ".cpu", ".cpu.tmp")]


def _view_from_config(config):
    raw = config.get("view")
    if not raw:
        return None
    return KernelView(python=raw["python"], readonly=tuple(tuple(p) for p in raw["readonly"]),
                      filtered=tuple((f, tuple(tuple(e) for e in entries)) for f, entries in raw["filtered"]),
                      distributions=tuple(raw["distributions"]), search_path=tuple(raw["search_path"]))


def read_outcome(runtime_dir, remove=False):
    """The supervisor's record for this kernel (a dict, see `run`), or None if it left none.

    None means the supervisor itself was stopped, which is what a normal kernel
    shutdown does (the grader kills the kernel when the notebook is done).
    """
    path = outcome_path(runtime_dir)
    try:
        outcome = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if remove:
        path.unlink(missing_ok=True)
    return outcome


# ---------------------------------------------------------------------------
# The bubblewrap command line

def _namespace_args():
    args = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        args.insert(0, "--unshare-user")
    return args


class _Mounts:
    """bwrap file-system arguments, creating each missing parent folder once (mode 0755)."""

    def __init__(self):
        self.args = []
        self.dirs = {"/"}

    def parents(self, path):
        for parent in reversed(Path(path).parents):
            p = str(parent)
            if p not in self.dirs:
                self.args += ["--perms", "0755", "--dir", p]
                self.dirs.add(p)

    def add(self, option, source, dest, *, size=None, perms=None):
        self.parents(dest)
        if size is not None:
            self.args += ["--size", str(size)]
        if perms is not None:
            self.args += ["--perms", perms]
        self.args += [option, *([source] if source is not None else []), dest]
        self.dirs.add(str(dest))


def _view_mounts(mounts, view, path_file=None):
    """The allow-list of kernel_view.py as bwrap arguments: system folders, the kernel's Python, and its
    package folders filtered down to what a student kernel needs (everything else is simply not there)."""
    for folder in SYSTEM_DIRS:
        if os.path.isdir(folder) and not os.path.islink(folder):
            mounts.add("--ro-bind", folder, folder)
    for names, top in ((USR_SHARE, "/usr/share"), (ETC, "/etc")):
        for name in names:
            path = os.path.join(top, name)
            if os.path.islink(path):
                mounts.parents(path)
                mounts.args += ["--symlink", os.readlink(path), path]
            elif os.path.exists(path):
                mounts.add("--ro-bind", path, path)
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            mounts.args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            mounts.add("--ro-bind", top, top)
    for source, dest in view.readonly:
        mounts.add("--ro-bind", source, dest)
    for folder, entries in view.filtered:
        mounts.add("--tmpfs", None, folder, size=64 * 1024, perms="0755")
        for source, name in entries:
            mounts.add("--ro-bind", source, os.path.join(folder, name))
        if path_file and view.search_path and folder == view.search_path[0]:
            mounts.add("--ro-bind", str(path_file), os.path.join(folder, view.PATH_FILE))
        mounts.args += ["--remount-ro", folder]


def bwrap_argv(kernel_argv, workdir, runtime_dir, limits, uid=None, bwrap=None, view=None, path_file=None):
    """The full sandbox command line for one kernel.

    kernel_argv: list of str, the kernel's command (argv[0] its Python)
    workdir, runtime_dir: absolute paths; see the module docstring
    uid: run the kernel as this user id (needs root), or None to keep the current user
    view: the kernel_view.KernelView to show (default: probed for argv[0]); path_file: a file holding
      view.path_file(), when that is not empty
    """
    mounts = _Mounts()
    view = view or kernel_view(kernel_argv[0])
    # The private /tmp first: a course or venv that lives under /tmp is then shown inside it (read-only,
    # by the allow-list below) instead of being hidden by it.
    mounts.add("--tmpfs", None, "/tmp", size=limits.tmp_mb * MiB, perms="1777")
    _view_mounts(mounts, view, path_file)
    mounts.args += ["--dev", "/dev"]
    mounts.dirs.add("/dev")
    mounts.add("--tmpfs", None, "/dev/shm", size=limits.tmp_mb * MiB, perms="1777")
    mounts.args += ["--proc", "/proc"]
    mounts.dirs.add("/proc")
    mounts.add("--bind", runtime_dir, runtime_dir)
    mounts.add("--ro-bind", workdir, SUBMISSION_MOUNT)
    mounts.add("--tmpfs", None, workdir, size=limits.workdir_mb * MiB, perms="1777")

    venv_bin = str(Path(sys.prefix) / "bin")
    env = {"PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "USER": "grader",
           "LOGNAME": "grader", "LANG": "C.UTF-8", "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/.matplotlib",
           "IPYTHONDIR": "/tmp/.ipython", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde")}
    env_args = ["--clearenv"]
    for key, value in env.items():
        env_args += ["--setenv", key, value]

    prlimit = ["prlimit", f"--as={limits.address_space_mb * MiB}",
               f"--cpu={int(limits.cpu_seconds)}:{int(limits.cpu_seconds) + 5}",
               f"--fsize={limits.file_mb * MiB}", "--core=0"]
    setup = 'cp -R "$SUBMISSION"/. . || { echo "sandbox: could not copy the submission" >&2; exit 90; }\n'
    caps = []
    if uid is not None:
        prlimit.append(f"--nproc={limits.processes}")
        setup += (f'chown -R {uid}:{uid} . {shlex.quote(runtime_dir)}\n'
                  f'exec {shlex.join(prlimit)} -- setpriv --reuid={uid} --regid={uid} --clear-groups '
                  '--no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"\n')
        caps = ["--cap-add", "CAP_SETUID,CAP_SETGID,CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER"]
    else:
        setup += f'exec {shlex.join(prlimit)} -- "$@"\n'
    env_args += ["--setenv", "SUBMISSION", SUBMISSION_MOUNT]
    return [bwrap or "bwrap", *_namespace_args(), *mounts.args, "--chdir", workdir, *env_args, *caps,
            "--", "/bin/sh", "-c", setup, "sandbox-setup", *kernel_argv]


# ---------------------------------------------------------------------------
# The supervisor (python -m autograder.sandbox run CONFIG -- argv)

@contextlib.contextmanager
def _uid_slot():
    """A user id no other running kernel uses, held until the block ends (root only; else None)."""
    if os.geteuid() != 0:
        yield None
        return
    lock_dir = Path(tempfile.gettempdir()) / "bptt-sandbox-uids"
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    for slot in range(UID_SLOTS):
        uid = UID_BASE + slot
        try:
            pwd.getpwuid(uid)
            continue  # a real account: never borrow it
        except KeyError:
            pass
        fd = os.open(lock_dir / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield uid
        finally:
            os.close(fd)
        return
    raise RuntimeError(f"all {UID_SLOTS} sandbox user ids are in use")


def _tie_to_parent():
    """Linux: orphans of the kernel's processes become our children (so none escape the clean-up),
    and we get SIGTERM when the grader that started us dies (so the sandbox goes with it)."""
    if sys.platform.startswith("linux"):
        import ctypes
        PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() == 1:   # the grader died before the line above
            sys.exit(143)


def _rlimit_preexec(limits, uid=None):
    """For the unsandboxed fallback: set the kernel's rlimits in the child before exec; with `uid` (root
    only) also the process limit, then drop to that user id for good (no groups, no_new_privs)."""
    import resource
    supervisor = os.getpid()

    def apply():
        os.setsid()
        wanted = [("RLIMIT_AS", limits.address_space_mb * MiB), ("RLIMIT_FSIZE", limits.file_mb * MiB),
                  ("RLIMIT_CPU", (int(limits.cpu_seconds), int(limits.cpu_seconds) + 5)),
                  ("RLIMIT_CORE", 0)]
        if uid is not None:
            wanted.append(("RLIMIT_NPROC", limits.processes))
        for name, value in wanted:
            soft, hard = value if isinstance(value, tuple) else (value, value)
            with contextlib.suppress(AttributeError, ValueError, OSError):  # e.g. RLIMIT_AS on macOS
                resource.setrlimit(getattr(resource, name), (soft, hard))
        if uid is not None:       # any failure here raises: the kernel never starts as root
            import ctypes
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            PR_SET_NO_NEW_PRIVS = 38
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            if os.getuid() != uid or os.geteuid() != uid:
                os._exit(126)
        # Killed with its supervisor (which nbgrader may SIGKILL on shutdown): an orphaned kernel would keep
        # nbgrader's output pipes open, and the grader waiting on them. Set after the user change, which
        # clears it.
        if sys.platform.startswith("linux"):
            import ctypes
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != supervisor:          # the supervisor died before the line above
                os._exit(125)
    return apply


def _give_to(uid, *folders):
    """chown -R the kernel's own folders to its user id (links are not followed)."""
    for folder in folders:
        os.chown(folder, uid, uid, follow_symlinks=False)
        for top, dirs, files in os.walk(folder):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    os.chown(os.path.join(top, name), uid, uid, follow_symlinks=False)


def _separate_user_env(workdir):
    """The environment of a kernel run as its own user: nothing inherited from the grader (no PYTHONPATH
    to the grader's code, no tokens), one BLAS thread, home and caches in its own working folder."""
    return {"PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": workdir,
            "USER": "grader", "LOGNAME": "grader", "LANG": "C.UTF-8", "TMPDIR": workdir,
            "MPLCONFIGDIR": os.path.join(workdir, ".matplotlib"), "IPYTHONDIR": os.path.join(workdir, ".ipython"),
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde")}


def _tree(pid):
    """psutil processes: pid's descendants (psutil ships with ipykernel)."""
    import psutil
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_tree(proc):
    """SIGKILL the process we started and everything below it (and, unsandboxed, its session)."""
    import psutil
    victims = _tree(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    for p in victims:
        with contextlib.suppress(psutil.Error):
            p.kill()


def _kill_uid(uid):
    """SIGKILL any process left with the kernel's user id (there should be none). Returns how many."""
    import psutil
    count = 0
    for p in psutil.process_iter(["uids"]):
        with contextlib.suppress(psutil.Error, TypeError):
            if p.info["uids"].real == uid:
                p.kill()
                count += 1
    return count


def _write_outcome(runtime_dir, outcome):
    path = outcome_path(runtime_dir)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(outcome))
    os.replace(tmp, path)


def run(config, kernel_argv):
    """Start the kernel (sandboxed or not), enforce the limits, record the outcome; its exit status."""
    limits = Limits.from_dict(config["limits"])
    workdir, runtime_dir = config["workdir"], config["runtime_dir"]
    outcome_path(runtime_dir).unlink(missing_ok=True)
    outcome = {"reason": REASON_EXITED, "returncode": None, "elapsed": 0.0, "sandboxed": config["sandboxed"],
               "limits": limits.to_dict(), "detail": "", "leftover_processes": 0,
               "in_force": usage.limits_in_force(limits, config["sandboxed"])}
    ledger = usage.CpuLedger(runtime_dir)          # CPU of this notebook's earlier kernels (restarts)
    tmpfs = (*usage.TMPFS_IN_SANDBOX, workdir) if config["sandboxed"] else ()
    cpu_now = recorded = 0.0
    # SIGTERM (the grader stopping the kernel, or dying) must take the kernel along: see `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _tie_to_parent()
    start = time.monotonic()
    with _uid_slot() as uid:
        outcome["uid"] = uid
        if config["sandboxed"]:
            view = _view_from_config(config) or kernel_view(kernel_argv[0])
            path_file = None
            if view.path_file():
                path_file = side_files(runtime_dir)[1]
                path_file.write_text(view.path_file())
            argv = bwrap_argv(kernel_argv, workdir, runtime_dir, limits, uid=uid, bwrap=config.get("bwrap"),
                              view=view, path_file=path_file)
            popen_kw = {}
        elif config.get("separate_user") and uid is not None:
            argv = kernel_argv
            _give_to(uid, workdir, runtime_dir)
            popen_kw = {"preexec_fn": _rlimit_preexec(limits, uid=uid), "cwd": workdir,
                        "env": _separate_user_env(workdir)}
        else:
            argv = kernel_argv
            popen_kw = {"preexec_fn": _rlimit_preexec(limits), "cwd": workdir}
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **popen_kw)
        except OSError as e:
            outcome.update(reason=REASON_START, detail=str(e), returncode=127)
            _write_outcome(runtime_dir, outcome)
            return 127
        try:
            import psutil
            try:
                root = [psutil.Process(proc.pid)]
            except psutil.Error:        # it has already ended
                root = []
            while proc.poll() is None:
                elapsed = time.monotonic() - start
                processes = [*root, *_tree(proc.pid)]
                cpu_now = max(cpu_now, usage.cpu_seconds(processes))
                if cpu_now - recorded >= 0.05:        # a restart kills this supervisor: keep the ledger current
                    ledger.record(recorded := cpu_now)
                reason = None
                if elapsed > limits.notebook_seconds:
                    reason = REASON_TIME
                elif ledger.before + cpu_now > limits.cpu_seconds:
                    reason = REASON_CPU
                elif usage.memory_bytes(processes, tmpfs) > limits.memory_mb * MiB:
                    reason = REASON_MEMORY
                elif usage.folder_bytes(runtime_dir) > limits.runtime_kb * 1024:
                    reason = REASON_RUNTIME_FILES
                if reason:
                    outcome["reason"] = reason
                    _kill_tree(proc)
                    proc.wait()
                    break
                time.sleep(POLL_SECONDS)
        finally:
            if proc.poll() is None:
                _kill_tree(proc)
            proc.wait()
            for p in _tree(os.getpid()):  # orphans re-parented to us (subreaper)
                with contextlib.suppress(Exception):
                    p.kill()
            if uid is not None:
                outcome["leftover_processes"] = _kill_uid(uid)
            import resource        # every process of the tree that was waited for, down to the last one
            reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
            outcome["cpu_seconds"] = round(ledger.record(max(cpu_now, reaped.ru_utime + reaped.ru_stime)), 2)
        outcome["returncode"] = proc.returncode
        outcome["elapsed"] = round(time.monotonic() - start, 2)
        if proc.returncode == 90 and config["sandboxed"] and outcome["reason"] == REASON_EXITED:
            outcome.update(reason=REASON_START, detail="the submission folder could not be copied into "
                           f"the sandbox (larger than {limits.workdir_mb} MB?)")
        _write_outcome(runtime_dir, outcome)
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 4 or argv[0] != "run" or argv[2] != "--":
        print("usage: python -m autograder.sandbox run CONFIG_JSON -- KERNEL_ARGV...", file=sys.stderr)
        return 2
    return run(json.loads(argv[1]), argv[3:])


if __name__ == "__main__":
    sys.exit(main())
