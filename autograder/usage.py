"""What a grading kernel's processes use, as the sandbox's supervisor measures it (5 times a second).

Polled resident memory (RSS) alone misses memory a submission can take without
mapping it: a memfd written with write(), files in the sandbox's tmpfs folders
(/tmp, /dev/shm, the submission copy are all memory). So the supervisor counts

    memory = sum of the processes' resident memory (shared pages they map included)
           + every memfd any of them holds open (allocated pages, each file once)
           + the pages in use on the sandbox's own tmpfs mounts

and kills the kernel when that exceeds Limits.memory_mb. Not counted: System V
shared memory segments no process has attached (the sandbox has an IPC
namespace of its own, whose segments the supervisor cannot list). cgroup v2
(memory.max, pids.max), which would count every page in the kernel itself, is
not used yet: the machines this was built on offer cgroup v1 only, so it could
not be tested. `limits_in_force` says how each limit is enforced.

CPU time is counted for the whole process tree (live processes, and the
children they have reaped), added to what earlier kernels of the same notebook
used (a grader restarts a kernel that died): `CpuLedger` keeps that sum in a
file beside the kernel's connection folder, so restarts cannot reset it.

Every function takes psutil processes and never raises for a process that
ends while it is measured.
"""
import contextlib
import os
from pathlib import Path

import psutil

from autograder.limits import MiB

TMPFS_IN_SANDBOX = ("/tmp", "/dev/shm")        # plus the submission copy (the kernel's working folder)


def _quiet(default):
    def wrap(f):
        def safe(*args, **kwargs):
            try:
                return f(*args, **kwargs)
            except (psutil.Error, OSError, ValueError):
                return default
        return safe
    return wrap


@_quiet(0)
def _rss(p):
    return p.memory_info().rss


@_quiet(())
def _memfds(pid):
    """(dev, ino, allocated bytes) of every memfd that process `pid` holds open."""
    found = []
    folder = f"/proc/{pid}/fd"
    for fd in os.listdir(folder):
        with contextlib.suppress(OSError):
            if os.readlink(f"{folder}/{fd}").startswith("/memfd:"):
                st = os.stat(f"{folder}/{fd}")
                found.append((st.st_dev, st.st_ino, st.st_blocks * 512))
    return found


@_quiet(None)
def _tmpfs_use(pid, path):
    """(dev, bytes in use) of the file system at `path` as process `pid` sees it, or None."""
    seen = f"/proc/{pid}/root{path}"
    st, fs = os.stat(seen), os.statvfs(seen)
    return st.st_dev, (fs.f_blocks - fs.f_bfree) * fs.f_frsize


def memory_bytes(processes, sandbox_paths=()):
    """Memory the processes hold: resident memory + open memfds (each once) + pages in use on the
    sandbox's tmpfs mounts `sandbox_paths` (each file system once; the host's own are never counted)."""
    total = sum(_rss(p) for p in processes)
    files = {}
    for p in processes:
        for dev, ino, size in _memfds(p.pid):
            files[dev, ino] = size
    total += sum(files.values())
    host = {}
    for path in sandbox_paths:
        with contextlib.suppress(OSError):
            host[os.stat(path).st_dev] = True
    mounts = {}
    for p in processes:
        for path in sandbox_paths:
            use = _tmpfs_use(p.pid, path)
            if use and use[0] not in host:
                mounts[use[0]] = use[1]
    return total + sum(mounts.values())


@_quiet(0.0)
def _cpu(p):
    t = p.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def cpu_seconds(processes):
    """CPU time of the processes and of the children they have reaped (each process counted once)."""
    return sum(_cpu(p) for p in processes)


def folder_bytes(path):
    """Bytes under `path`, subfolders included (links not followed; every entry costs 512 bytes more)."""
    total = 0
    for root, dirs, files in os.walk(path, followlinks=False):
        for name in dirs + files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size + 512
    return total


class CpuLedger:
    """CPU seconds used by the earlier kernels of one notebook (a file beside its connection folder)."""

    def __init__(self, runtime_dir):
        self.path = Path(str(Path(runtime_dir).resolve()) + ".cpu")
        try:
            self.before = max(0.0, float(self.path.read_text()))
        except (OSError, ValueError):
            self.before = 0.0

    def record(self, used_now):
        """Write the total (earlier kernels + `used_now` of this one); returns it."""
        total = self.before + used_now
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(f"{total:.3f}")
        os.replace(tmp, self.path)
        return total


def limits_in_force(limits, sandboxed):
    """{limit: (value, how it is enforced on this machine)}, in plain words: what `python -m autograder
    sandbox-check` prints and what every results file records."""
    polled = "checked 5x a second by the supervisor, the kernel killed above it"
    where = "in the sandbox" if sandboxed else "NOT SANDBOXED: no private mounts"
    rows = {
        "memory_mb": (limits.memory_mb, f"resident memory of every process + open memfds + the sandbox's tmpfs "
                                        f"pages, {polled}"),
        "address_space_mb": (limits.address_space_mb, "per process (RLIMIT_AS), enforced by the kernel"),
        "cpu_seconds": (limits.cpu_seconds, "for the whole notebook, every restart of its kernel counted, "
                                            f"{polled}; per process also RLIMIT_CPU"),
        "notebook_seconds": (limits.notebook_seconds, f"wall clock from kernel start, {polled}"),
        "file_mb": (limits.file_mb, "any one file written (RLIMIT_FSIZE), enforced by the kernel"),
        "processes": (limits.processes, "processes and threads (RLIMIT_NPROC of the kernel's own user id), "
                                        "enforced by the kernel" if sandboxed and os.geteuid() == 0 else
                                        "NOT enforced: the grader does not run as root, so kernels share its "
                                        "user id (RLIMIT_NPROC would count the grader's own processes)"),
        "tmp_mb": (limits.tmp_mb, f"/tmp and /dev/shm, each a tmpfs of this size ({where}); counted as memory"
                   if sandboxed else "NOT enforced: no private /tmp without the sandbox"),
        "workdir_mb": (limits.workdir_mb, "the submission copy, a tmpfs of this size; counted as memory"
                       if sandboxed else "NOT enforced: the kernel works in the real folder"),
        "runtime_kb": (limits.runtime_kb, f"the connection folder with its subfolders, {polled}"),
    }
    return {name: {"value": value, "enforced_by": how} for name, (value, how) in rows.items()}
