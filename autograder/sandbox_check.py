"""`python -m autograder sandbox-check`: is grading safe on this machine, and which limits are in force?

It decides as grading does (a working bubblewrap, or the course's explicit
opt-in to run unsandboxed), then starts one grading kernel exactly as a
submission's (same launcher, the course's GradeOutsideKernel.limits) and asks
it, from inside, what it sees: its rlimits, the sizes of its writable folders,
its user id, whether the grader's packages can be imported. The table printed
sets each configured limit beside what the kernel really got and says who
enforces it (autograder/usage.py `limits_in_force`). Exit status 0 when
grading would run sandboxed with every measured limit as configured, 1 otherwise.
"""
import json
import subprocess
import tempfile
from pathlib import Path

from autograder import kernels, sandbox, usage
from autograder.limits import MiB, Limits

PROBE = r'''
import json, os, resource, importlib.util
def rl(name):
    soft, hard = resource.getrlimit(getattr(resource, name))
    return None if soft == resource.RLIM_INFINITY else soft
def size(path):
    try:
        fs = os.statvfs(path)
        return fs.f_blocks * fs.f_frsize
    except OSError:
        return None
print("PROBE " + json.dumps({
    "address_space_mb": rl("RLIMIT_AS") and rl("RLIMIT_AS") // 2**20,
    "cpu_seconds": rl("RLIMIT_CPU"), "file_mb": rl("RLIMIT_FSIZE") and rl("RLIMIT_FSIZE") // 2**20,
    "processes": rl("RLIMIT_NPROC"),
    "tmp_mb": size("/tmp") and size("/tmp") // 2**20, "shm_mb": size("/dev/shm") and size("/dev/shm") // 2**20,
    "workdir_mb": size(".") and size(".") // 2**20, "uid": os.getuid(),
    "reachable": [m for m in ("solutions", "autograder") if importlib.util.find_spec(m)]}))
'''


def course_limits(course_root):
    """(Limits, allow_unsandboxed) from the course's nbgrader_config.py (GradeOutsideKernel)."""
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    section = config.GradeOutsideKernel
    return Limits.from_dict(dict(section.get("limits", {}))), bool(section.get("allow_unsandboxed", False))


def probe_kernel(limits, status):
    """What a grading kernel started with `limits` reports from inside (a dict, see PROBE)."""
    from jupyter_client import KernelManager
    with tempfile.TemporaryDirectory(prefix="bptt-check-") as workdir:
        runtime_dir = kernels.make_runtime_dir()
        km = kernels.make_kernel_manager(workdir, runtime_dir, manager_class=KernelManager,
                                         launcher=sandbox.sandbox_launcher(limits, status=status))
        try:
            km.start_kernel(cwd=workdir, stdout=subprocess.DEVNULL)   # ipykernel's banner
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=120)
            printed = []
            kc.execute_interactive(PROBE, timeout=120, output_hook=lambda m: printed.append(
                m["content"].get("text", "") if m["msg_type"] == "stream" else ""))
            kc.stop_channels()
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
            kernels.remove_runtime_dir(runtime_dir)
    line = next(l for l in "".join(printed).splitlines() if l.startswith("PROBE "))
    return json.loads(line[len("PROBE "):])


def report(limits, status, measured):
    """(lines of the table, problems): configured vs measured inside the kernel, and who enforces it."""
    expected = {"address_space_mb": limits.address_space_mb, "cpu_seconds": int(limits.cpu_seconds),
                "file_mb": limits.file_mb, "tmp_mb": limits.tmp_mb, "workdir_mb": limits.workdir_mb}
    if status.sandboxed:
        expected["shm_mb"] = limits.tmp_mb
    in_force = usage.limits_in_force(limits, status.sandboxed)
    lines = [f"{'limit':<17} {'configured':>10} {'in the kernel':>13}  enforced by"]
    problems = []
    for name, row in in_force.items():
        got = measured.get(name, "-")
        if name in expected and got != expected[name]:
            problems.append(f"{name}: configured {expected[name]}, the kernel got {got}")
        lines.append(f"{name:<17} {row['value']!s:>10} {got if got is not None else 'none'!s:>13}  {row['enforced_by']}")
    if measured.get("shm_mb") != expected.get("shm_mb", measured.get("shm_mb")):
        problems.append(f"/dev/shm: configured {limits.tmp_mb} MB, the kernel got {measured.get('shm_mb')}")
    if measured.get("reachable"):
        problems.append(f"the kernel can import {', '.join(measured['reachable'])} (the reference must be out of reach)")
    lines.append(f"kernel user id: {measured.get('uid')}; grader packages importable in the kernel: "
                 f"{', '.join(measured.get('reachable') or []) or 'none'}")
    return lines, problems


def main(course_root, out=print):
    """Print the check for the course at `course_root`; the exit status (0: safe, limits as configured)."""
    limits, allow = course_limits(course_root)
    try:
        status = sandbox.decide(True, allow)
    except sandbox.SandboxUnavailable as refused:
        out(str(refused))
        return 1
    out(("SANDBOXED: " if status.sandboxed else "") + status.detail)
    measured = probe_kernel(limits, status)
    lines, problems = report(limits, status, measured)
    for line in lines:
        out(line)
    for problem in problems:
        out("PROBLEM: " + problem)
    return 0 if status.sandboxed and not problems else 1
