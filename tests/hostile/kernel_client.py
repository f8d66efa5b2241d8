"""A blocking client for one grading kernel started exactly as the grader starts it.

`SandboxedKernel(workdir, limits)` starts a kernel through
`kernels.make_kernel_manager(..., launcher=sandbox.sandbox_launcher(limits))`;
`run(code)` executes code and returns what came back (`Reply`);
`stop()` shuts the kernel down and returns the supervisor's outcome record.
"""
import time
from dataclasses import dataclass, field
from queue import Empty

from jupyter_client.manager import KernelManager

from autograder import kernels, sandbox


@dataclass
class Reply:
    """stdout: printed text; error: exception class name or None; timed_out: no reply in time."""
    stdout: str = ""
    error: str | None = None
    evalue: str = ""
    timed_out: bool = False
    outputs: list = field(default_factory=list)


class SandboxedKernel:
    def __init__(self, workdir, limits=None, launcher=None):
        self.runtime_dir = kernels.make_runtime_dir()
        launcher = launcher or sandbox.sandbox_launcher(limits)
        self.km = kernels.make_kernel_manager(workdir, self.runtime_dir, launcher=launcher,
                                              manager_class=KernelManager)
        self.km.start_kernel(cwd=str(workdir))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def run(self, code, timeout=30):
        msg_id = self.kc.execute(code, allow_stdin=False)
        reply = Reply()
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.05, deadline - time.monotonic()))
            except Empty:
                reply.timed_out = True
                return reply
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                reply.stdout += content["text"]
            elif kind == "error":
                reply.error, reply.evalue = content["ename"], content["evalue"]
            elif kind in ("execute_result", "display_data"):
                reply.outputs.append(content)
            elif kind == "status" and content["execution_state"] == "idle":
                return reply

    def is_alive(self):
        return self.km.is_alive()

    def wait_dead(self, timeout):
        deadline = time.monotonic() + timeout
        while self.km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        return not self.km.is_alive()

    def stop(self):
        """Shut the kernel down (as the grader does); the supervisor's outcome record or None."""
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)
        outcome = sandbox.read_outcome(self.runtime_dir, remove=True)
        kernels.remove_runtime_dir(self.runtime_dir)
        return outcome

    def outcome_when_dead(self, timeout=30):
        """Wait for the kernel to die by itself, then the supervisor's outcome record."""
        deadline = time.monotonic() + timeout
        while sandbox.read_outcome(self.runtime_dir) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.stop()
