"""Starting the kernel that runs a submission: one kernel per notebook, made in one place.

Everything that decides *how* a student's code is run (which Python, which
command line, which transport, a sandbox around it) lives in
`make_kernel_manager`. The grading preprocessor (nbgrader_plugin.py) and the
remote evaluator (remote.py) only talk to the kernel it returns.

Plugging in a sandbox: pass `launcher`, a callable

    launcher(argv, workdir=..., runtime_dir=...) -> new_argv

that wraps the kernel's command line, for example
`["bwrap", ..., "--bind", workdir, workdir, "--bind", runtime_dir, runtime_dir, "--", *argv]`.
The new argv must END with the given argv (a prefix wrapper), because the
kernel manager appends extra ipykernel arguments at the end. `workdir` is the
submission's folder (the kernel's working directory) and `runtime_dir` a
private folder that holds the connection file and the IPC sockets: both must
stay reachable from inside the sandbox. Nothing else is shared with the
kernel: inputs and results travel over the kernel's own messages (remote.py).

Choices made here, and why:
- clients whose sockets refuse any message larger than MAX_MESSAGE_BYTES:
  a kernel cannot make the grader receive (and hold) a gigabyte of output;
- transport "ipc" with sockets in a fresh private folder: no TCP ports, so two
  kernels started at once cannot race for a port (NOTES.md), and nothing
  listens on the network;
- interrupt_mode "message": the interrupt travels as a control message, which
  still reaches a kernel wrapped in a sandbox or another process (a SIGINT to
  the wrapper would not);
- in-memory IPython history: no history database written by a submission.
"""
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance, default

KERNEL_NAME = "bptt-grader"
# Largest message the grader accepts from a kernel (per message part). zmq drops a larger one on arrival
# (and reconnects), so a kernel cannot make the grader hold a huge message in memory at all.
MAX_MESSAGE_BYTES = 32 * 2 ** 20


def _capped(context):
    context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)     # a default for every socket made from it
    return context


def _watch(socket):
    """(monitor socket, a plain blocking view of it) reporting when `socket` loses its connection."""
    watched = socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    return watched, zmq.Socket.shadow(watched.underlying)


def heal_channels(kc):
    """Replace the client's channel sockets that lost their connection. Returns the channels replaced.

    zmq ends a connection when a message is larger than MAXMSGSIZE and, that being a protocol error, never
    connects again: without this, one oversized output would leave the grader deaf to the kernel. A socket
    whose connection dropped is replaced by a fresh one to the same endpoint (a connection lost because the
    kernel died is replaced too, which is harmless). The first call only starts watching. Call it from the
    thread that uses the client, between requests (zmq sockets are not thread-safe).
    """
    monitors = kc.__dict__.setdefault("_bptt_monitors", {})
    healed = []
    for name in ("iopub", "shell", "stdin", "control"):
        channel = getattr(kc, f"_{name}_channel", None)
        socket = getattr(channel, "socket", None)
        if socket is None or socket.closed:
            continue
        entry = monitors.get(name)
        if entry is None or entry[0] is not socket:
            monitors[name] = (socket, *_watch(socket))
            continue
        _, watched, view = entry
        dropped = False
        while view.poll(0):
            view.recv_multipart()
            dropped = True
        if not dropped:
            continue
        fresh = getattr(kc, f"connect_{name}")(identity=kc.session.bsession)
        with contextlib.suppress(zmq.ZMQError):
            socket.disable_monitor()
        watched.close(linger=0)
        socket.close(linger=0)
        channel.socket = fresh
        monitors[name] = (fresh, *_watch(fresh))
        healed.append(name)
    return healed


class CappedBlockingKernelClient(BlockingKernelClient):
    """A blocking client whose sockets refuse messages larger than MAX_MESSAGE_BYTES."""

    @default("context")
    def _context_default(self):
        self._created_context = True
        return _capped(zmq.Context())


class CappedAsyncKernelClient(AsyncKernelClient):
    """An asynchronous client (what nbclient uses) whose sockets refuse messages larger than MAX_MESSAGE_BYTES."""

    @default("context")
    def _context_default(self):
        self._created_context = True
        return _capped(zmq.asyncio.Context())


def kernel_argv(python=None):
    """The command line of a plain IPython kernel; `{connection_file}` is filled in at start."""
    return [python or sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
            "--HistoryManager.hist_file=:memory:"]


class _OneSpecManager(KernelSpecManager):
    """A kernel-spec manager that knows one spec only: the one built by make_kernel_manager."""

    spec = Instance(KernelSpec)

    def get_kernel_spec(self, kernel_name, *args, **kwargs):
        return self.spec

    def find_kernel_specs(self):
        return {KERNEL_NAME: ""}


def make_runtime_dir():
    """A fresh private folder for one kernel's connection file and sockets (short path: IPC limit)."""
    return Path(tempfile.mkdtemp(prefix="bptt-k-"))


def remove_runtime_dir(runtime_dir):
    """Delete the kernel's private folder and the sandbox's record of how the kernel ended, beside it."""
    shutil.rmtree(runtime_dir, ignore_errors=True)
    from .sandbox import side_files
    for path in side_files(runtime_dir):
        path.unlink(missing_ok=True)


def make_kernel_manager(workdir, runtime_dir, launcher=None, python=None, manager_class=AsyncKernelManager,
                        **manager_kwargs):
    """The kernel manager for one submission's kernel (not started yet).

    Inputs:
    - workdir: path, the submission's folder; the kernel's working directory
      (the caller passes it as `cwd` when starting the kernel)
    - runtime_dir: path, an existing private folder (see make_runtime_dir) for
      the connection file and IPC sockets
    - launcher: None, or a callable launcher(argv, workdir=..., runtime_dir=...)
      -> argv that wraps the command line (the sandbox plugs in here)
    - python: the interpreter that runs ipykernel (default: this one)
    - manager_class: jupyter_client's AsyncKernelManager (what nbclient needs)
      or KernelManager (blocking)

    Returns a manager whose `kernel_spec` is fixed (no lookup of installed
    kernels, so a submission's notebook metadata cannot choose the kernel).
    """
    workdir, runtime_dir = Path(workdir).resolve(), Path(runtime_dir).resolve()
    if not runtime_dir.is_dir():
        raise ValueError(f"runtime_dir must be an existing folder; got {runtime_dir}")
    argv = kernel_argv(python)
    if launcher is not None:
        wrapped = list(launcher(list(argv), workdir=str(workdir), runtime_dir=str(runtime_dir)))
        if wrapped[len(wrapped) - len(argv):] != argv:
            raise ValueError("the kernel launcher must return a command line that ends with the "
                             f"kernel's own argv {argv}; got {wrapped}")
        argv = wrapped
    spec = KernelSpec(argv=argv, display_name="BPTT grader", language="python",
                      interrupt_mode="message", env={}, metadata={})
    km = manager_class(kernel_name=KERNEL_NAME, kernel_spec_manager=_OneSpecManager(spec=spec),
                       transport="ipc", ip=str(runtime_dir / "kernel"),
                       connection_file=str(runtime_dir / "kernel.json"), **manager_kwargs)
    km.client_factory = CappedAsyncKernelClient if issubclass(manager_class, AsyncKernelManager) \
        else CappedBlockingKernelClient
    km.blocking_class = CappedBlockingKernelClient
    return km
