"""Resource limits of one grading kernel, and what happened to it, in plain words.

A submission's kernel runs under these limits (autograder/sandbox.py enforces
them): per process, the kernel's rlimits (address space, CPU seconds, file
size, number of processes); for the whole sandbox, a wall-clock limit for the
notebook and a memory limit on the sum of its processes' resident memory
(rlimits alone would let a tree of processes each take the full address
space). The per-cell timeout is nbclient's (`ExecutePreprocessor.timeout`),
not enforced here.

`explain(outcome)` turns the record the sandbox leaves behind (a dict, see
`KernelOutcome`) into one sentence for the student's feedback and the
instructor's report.
"""
import signal
from dataclasses import asdict, dataclass, fields

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Limits of one grading kernel (all numbers are > 0).

    notebook_seconds: wall clock from kernel start to the end of the notebook
    cpu_seconds:      CPU time of the whole notebook: every process, every restart of its kernel (checked
                      5x a second); each process also RLIMIT_CPU (SIGXCPU, then SIGKILL 5 s later)
    address_space_mb: virtual memory of each process (RLIMIT_AS; Python raises MemoryError)
    memory_mb:        memory of all the kernel's processes: resident memory, open memfds and the pages on
                      the sandbox's tmpfs folders (autograder/usage.py; checked 5x a second)
    processes:        processes and threads of the kernel's user (RLIMIT_NPROC; sandboxed as root only,
                      where each kernel runs under a user id of its own)
    file_mb:          size of any one file written (RLIMIT_FSIZE)
    tmp_mb:           size of the private /tmp (a tmpfs)
    workdir_mb:       size of the private copy of the submission folder (a tmpfs)
    runtime_kb:       size of the kernel's connection folder with its subfolders (sockets only; checked 5x a
                      second)
    """
    notebook_seconds: float = 300.0
    cpu_seconds: int = 240
    address_space_mb: int = 4096
    memory_mb: int = 2048
    processes: int = 64
    file_mb: int = 64
    tmp_mb: int = 256
    workdir_mb: int = 256
    runtime_kb: int = 1024

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"Limits.{f.name} must be a positive number; got {value!r}")

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown limit(s) {unknown}; known: {sorted(known)}")
        return cls(**d)


# Why the sandbox ended the kernel (KernelOutcome.reason), set by the supervisor.
REASON_EXITED = "exited"             # the kernel process ended by itself (or was shut down)
REASON_TIME = "notebook_time"        # killed: wall-clock limit of the notebook
REASON_MEMORY = "memory"             # killed: resident memory of the process tree
REASON_RUNTIME_FILES = "runtime_files"  # killed: wrote into the kernel's connection folder
REASON_START = "start_failed"        # the sandbox could not be set up
REASON_CPU = "cpu"                   # killed: CPU time of the notebook (every process, every restart)


def describe_exit(returncode):
    """Plain words for a process exit status (negative or > 128: killed by a signal)."""
    if returncode is None:
        return "is still running"
    signum = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else None
    if signum is not None:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        if signum == signal.SIGKILL:
            return (f"was killed ({name}): it exceeded its CPU-time limit, ran out of memory "
                    "(out-of-memory killer) or was stopped by the grader")
        if signum == signal.SIGXCPU:
            return f"was killed ({name}): it used more than its CPU-time limit"
        if signum == signal.SIGXFSZ:
            return f"was killed ({name}): it wrote a file larger than the file-size limit"
        if signum == signal.SIGSEGV:
            return f"crashed ({name}, a segmentation fault)"
        return f"was killed by {name}"
    if returncode == 0:
        return "exited normally (exit status 0)"
    return f"exited with status {returncode} (sys.exit / os._exit in the submission, or a crash)"


def explain(outcome, limits=None):
    """One sentence on how the kernel ended, from a KernelOutcome dict (see sandbox.py).

    outcome: {"reason": one of the REASON_* values, "returncode": int or None,
              "elapsed": seconds, "sandboxed": bool, "detail": str}
    """
    limits = limits or Limits.from_dict(outcome.get("limits", {}))
    reason = outcome.get("reason")
    elapsed = outcome.get("elapsed", 0.0)
    if reason == REASON_TIME:
        return (f"The notebook was stopped after {elapsed:.0f} s: the whole notebook may run for at most "
                f"{limits.notebook_seconds:.0f} s (an endless loop or a very slow computation).")
    if reason == REASON_MEMORY:
        return (f"The notebook was stopped after {elapsed:.0f} s: its processes used more than "
                f"{limits.memory_mb} MB of memory.")
    if reason == REASON_CPU:
        return (f"The notebook was stopped after {elapsed:.0f} s: its processes used more than "
                f"{limits.cpu_seconds} s of CPU time, its CPU-time limit (counted over every process and every "
                "restart of its kernel).")
    if reason == REASON_RUNTIME_FILES:
        return ("The notebook was stopped: it wrote files into the grader's connection folder, "
                "which submissions may not touch.")
    if reason == REASON_START:
        return f"The grading sandbox could not start this notebook: {outcome.get('detail', '')}".strip()
    return f"The notebook's Python kernel {describe_exit(outcome.get('returncode'))} after {elapsed:.0f} s."
