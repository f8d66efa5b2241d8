"""The remote evaluator: run a student's function in their own kernel, judge the result here.

`RemoteEvaluator(session)` implements the evaluator protocol of evaluate.py,
`evaluate(name, args, stand_ins) -> Outcome`, for a function defined in a
running kernel (`KernelSession`, a blocking connection to it). What crosses
the boundary, and in which direction:

    grader -> kernel   once per kernel: the harness (the code below marked
                       KERNEL SIDE, sent as source with specs.py and
                       evaluate.py's to_plain/prepare_args/call_captured),
                       loaded as a module under a random name; then one
                       execute request per call: the function's name and the
                       inputs, packed as an .npz in base64. Both are sent as
                       IPython *user expressions* (evaluated with plain eval),
                       so input transformers registered by a submission
                       cannot rewrite or drop them.
    kernel -> grader   input() prompts on the Jupyter stdin channel:
                       "call"   a stand-in wants the reference's result on its
                                arguments; the grader computes it here and
                                answers with the packed result;
                       "result" the outputs, the arguments after the call,
                                the exception and the printed text, packed.

The reference module and the expected outputs never enter the kernel. The
grader unpacks what the kernel sends with `np.load(..., allow_pickle=False)`,
checks sizes, tags and dtypes, rebuilds plain data only (evaluate.to_plain
again) and compares it with the reference in this process (grading.py):
whatever a submission does to numpy, builtins or the harness in its kernel,
it can only change what it *claims* its function returned, never the verdict.
Every call carries a fresh random token, so nothing can be prepared in advance.

Stand-ins answer only for the names the grader listed for that call (never
for the function under test); their answers are computed by the reference
functions here on the decoded arguments.
"""
import base64
import contextlib
import functools
import inspect
import io
import json
import os
import secrets
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass

import numpy as np
import zmq

from . import evaluate, specs
from .evaluate import MAX_DEPTH, PLAIN_SCALARS, FunctionSpec, Opaque, Outcome, to_plain

MAGIC = "BPTT-AUTOGRADER-1"
MAX_UNPACKED_BYTES = 12 * 2 ** 20       # arrays of one message, once unpacked (packed: < kernels.MAX_MESSAGE_BYTES)
MAX_STAND_IN_BYTES = 4 * 2 ** 20        # arguments of one stand-in call (the reference runs on them here)
MAX_STAND_IN_WORK = 2 ** 26             # stand_in_work() of one stand-in call (see there)
STAND_IN_MEMORY = 2 * 2 ** 30           # address space of the process that computes stand-in answers
MAX_TEXT = 20_000                       # printed text kept per call
MAX_NODES = 100_000                     # values in one message


class WireError(ValueError):
    """A message from the kernel that is not a well-formed packed value."""


# ----------------------------------------------------------------------------
# KERNEL SIDE and grader side alike: the wire format (numpy and stdlib only).
# A value becomes a JSON tree of tagged lists plus arrays stored in an .npz:
#   ["none"] ["str", s] ["bool", b] ["int", "12"] ["float", "0.5"]
#   ["array", i] ["npscalar", i] (0-d array i of the .npz)
#   ["tuple", [..]] ["list", [..]] ["dict", [[key, ..], ..]]
#   ["opaque", type name] ["spec", kind, shape, params]
# ----------------------------------------------------------------------------

def _encode(value, arrays):
    """The tagged tree of a plain value (what to_plain returns); arrays are appended to `arrays`."""
    kind = type(value)
    if value is None:
        return ["none"]
    if kind is str:
        return ["str", value]
    if kind is bool:
        return ["bool", value]
    if kind is int:
        return ["int", str(value)]
    if kind is float:
        return ["float", repr(value)]
    if kind is np.ndarray or kind in PLAIN_SCALARS:
        arrays.append(np.asarray(value))
        return ["array" if kind is np.ndarray else "npscalar", len(arrays) - 1]
    if kind is tuple or kind is list:
        return [kind.__name__, [_encode(v, arrays) for v in value]]
    if kind is dict:
        return ["dict", [[str(k), _encode(v, arrays)] for k, v in value.items()]]
    if kind is FunctionSpec:
        return ["spec", value.kind, [int(s) for s in value.shape], _encode(dict(value.params), arrays)]
    if kind is Opaque:
        return ["opaque", str(value.type_name)]
    return ["opaque", kind.__qualname__]


def _decode(node, arrays, depth=0, budget=None):
    """The value of a tagged tree; strict: anything unexpected raises WireError.

    arrays: the loaded .npz (name "a<i>" -> array); budget: a one-element list
    counting down the number of values allowed.
    """
    budget = [MAX_NODES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH + 2:
        raise WireError("message too large or nested too deeply")
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        raise WireError("malformed value")
    tag, rest = node[0], node[1:]
    if tag == "none" and not rest:
        return None
    if tag == "str" and len(rest) == 1 and isinstance(rest[0], str):
        return rest[0][:MAX_TEXT]
    if tag == "bool" and len(rest) == 1 and isinstance(rest[0], bool):
        return rest[0]
    if tag == "int" and len(rest) == 1 and isinstance(rest[0], str) and len(rest[0]) <= 400:
        try:
            return int(rest[0])
        except ValueError:
            raise WireError("malformed int") from None
    if tag == "float" and len(rest) == 1 and isinstance(rest[0], str) and len(rest[0]) <= 40:
        try:
            return float(rest[0])
        except ValueError:
            raise WireError("malformed float") from None
    if tag in ("array", "npscalar") and len(rest) == 1 and type(rest[0]) is int:
        key = f"a{rest[0]}"
        if key not in arrays:
            raise WireError(f"missing array {key}")
        a = arrays[key]
        if type(a) is not np.ndarray:
            raise WireError("not an array")
        if a.dtype.kind not in "fiub":
            return Opaque(f"ndarray of dtype {a.dtype}")
        if tag == "npscalar":
            value = a[()] if a.ndim == 0 else None
            if type(value) not in PLAIN_SCALARS:
                raise WireError("malformed numpy scalar")
            return value
        return np.array(a, copy=True)
    if tag in ("tuple", "list") and len(rest) == 1 and isinstance(rest[0], list):
        items = [_decode(v, arrays, depth + 1, budget) for v in rest[0]]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and len(rest) == 1 and isinstance(rest[0], list):
        out = {}
        for pair in rest[0]:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise WireError("malformed dict")
            out[pair[0]] = _decode(pair[1], arrays, depth + 1, budget)
        return out
    if tag == "opaque" and len(rest) == 1 and isinstance(rest[0], str):
        return Opaque(rest[0][:200])
    if tag == "spec" and len(rest) == 3 and isinstance(rest[0], str) and isinstance(rest[1], list):
        params = _decode(rest[2], arrays, depth + 1, budget)
        if not isinstance(params, dict) or not all(type(s) is int for s in rest[1]):
            raise WireError("malformed FunctionSpec")
        return FunctionSpec(rest[0], tuple(rest[1]), params)
    raise WireError(f"unknown or malformed value tag {tag!r}")


def pack(value):
    """A plain value as base64 text of an .npz (its JSON tree in "meta", arrays in "a<i>")."""
    arrays = []
    meta = json.dumps(_encode(value, arrays))
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(meta.encode("utf-8"), dtype=np.uint8),
             **{f"a{i}": a for i, a in enumerate(arrays)})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def unpack(text, max_bytes=None):
    """The value packed by `pack`, read as untrusted data (no pickles; at most max_bytes of arrays,
    default MAX_UNPACKED_BYTES)."""
    max_bytes = MAX_UNPACKED_BYTES if max_bytes is None else max_bytes
    if not isinstance(text, str) or len(text) > 2 * max_bytes + 2 ** 20:
        raise WireError("message missing or too large")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > max_bytes:
                raise WireError("message too large once unpacked")
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = arrays.pop("meta")
        if meta.dtype != np.uint8 or meta.ndim != 1:
            raise WireError("malformed message header")
        tree = json.loads(meta.tobytes().decode("utf-8"))
    except WireError:
        raise
    except Exception as e:                 # binascii, zipfile, numpy, json: all mean "malformed"
        raise WireError(f"unreadable message ({type(e).__name__})") from None
    return _decode(tree, arrays)


# ----------------------------------------------------------------------------
# KERNEL SIDE: what runs in the student's kernel for one call.
# ----------------------------------------------------------------------------

def _kernel_call(user_ns, request, token):
    """Call user_ns[name] on the request's arguments with stand-ins in place; send the result back."""
    import builtins
    from IPython import get_ipython
    kernel = getattr(get_ipython(), "kernel", None)
    ask = kernel.raw_input if kernel is not None else builtins.input   # a request on the stdin channel

    def send(kind, value):
        return ask(f"{MAGIC} {token} {kind} {pack(value)}")

    def make_stand_in(stand_name):
        def stand_in(*args, **kwargs):
            reply = unpack(send("call", {"name": stand_name, "args": to_plain(tuple(args)),
                                         "kwargs": to_plain(dict(kwargs))}))
            if reply["error_type"] is not None:
                error_class = {"ValueError": ValueError, "TypeError": TypeError}.get(reply["error_type"], RuntimeError)
                raise error_class(reply["error"])
            return reply["value"]
        stand_in.__name__ = stand_name
        return stand_in

    req = unpack(request)
    name = req["name"]
    result = {"outputs": None, "error_type": None, "error": None, "args_after": list(req["args"]), "stdout": "",
              "warnings": [], "seconds": 0.0}
    func = user_ns.get(name)
    if func is None:
        result.update(error_type="NameError", error=f"{name} is not defined (was its cell run?)")
    elif not callable(func):
        result.update(error_type="TypeError", error=f"{name} is a {type(func).__name__}, not a function")
    else:
        passed = prepare_args(req["args"])         # noqa: F821 (sent with the harness: evaluate.py)
        spaces = [user_ns]
        if isinstance(getattr(func, "__globals__", None), dict) and func.__globals__ is not user_ns:
            spaces.append(func.__globals__)
        missing = object()
        saved = []
        try:
            for space in spaces:
                for stand_name in req["stand_ins"]:
                    saved.append((space, stand_name, space.get(stand_name, missing)))
                    space[stand_name] = make_stand_in(stand_name)
            value, error, text, notes, seconds = call_captured(func, passed)  # noqa: F821 (sent likewise)
        finally:
            for space, stand_name, old in reversed(saved):
                if old is missing:
                    space.pop(stand_name, None)
                else:
                    space[stand_name] = old
        result.update(args_after=list(after_args(req["args"], passed)),  # noqa: F821 (sent likewise)
                      stdout=text, warnings=notes,
                      seconds=seconds)
        if error is not None:
            result.update(error_type=type(error).__name__, error=str(error)[:500])
        else:
            result["outputs"] = to_plain(value)
    send("result", result)


@functools.lru_cache(maxsize=1)
def _kernel_source():
    """The harness source loaded into the kernel: specs.py, evaluate.py's rules, the wire format, _kernel_call.
    Built once per process (reading the sources costs ~50 ms; a notebook opens up to 3 sessions)."""
    scalars = ", ".join(t.__name__ if t.__module__ == "builtins" else f"np.{t.__name__}" for t in PLAIN_SCALARS)
    parts = [
        inspect.getsource(specs),
        "import base64, builtins, contextlib, copy, io, json, time, warnings, zipfile\n",
        f"MAGIC = {MAGIC!r}\nMAX_DEPTH = {MAX_DEPTH!r}\n"
        f"MAX_UNPACKED_BYTES = {MAX_UNPACKED_BYTES!r}\nMAX_TEXT = {MAX_TEXT!r}\nMAX_NODES = {MAX_NODES!r}\n"
        f"PLAIN_SCALARS = ({scalars},)\n",
        inspect.getsource(WireError),
        inspect.getsource(Opaque),
    ]
    parts += [inspect.getsource(f) for f in (evaluate.to_plain, evaluate.prepare_args, evaluate.after_args,
                                             evaluate.call_captured, _encode, _decode, pack, unpack,
                                             _kernel_call)]
    return "\n\n".join(parts)


# ----------------------------------------------------------------------------
# Grader side.
# ----------------------------------------------------------------------------

def stand_in_work(value):
    """The work a stand-in call's arguments imply: (elements) x (longest axis), every axis counted as at least 1.

    A zero-size axis costs no bytes but not no work (x of shape (1, 10**9, 0) makes rnn_forward loop 10**9
    times), so each array counts as the product of max(axis, 1); the longest axis is what a step-by-step
    function loops over while it works on the other arrays. An upper estimate for the graded functions
    (matrix products and loops over time); the per-call timeout bounds the rest.
    """
    sizes, longest = [0], [1]

    def account(shape):
        size = 1
        for d in shape:
            size *= max(int(d), 1)
        sizes[0] += size
        longest[0] = max([longest[0], *shape])

    def visit(v, depth=0):
        if isinstance(v, np.ndarray):
            account(v.shape)
        elif isinstance(v, (tuple, list)) and depth <= MAX_DEPTH:
            for item in v:
                visit(item, depth + 1)
        elif isinstance(v, dict) and depth <= MAX_DEPTH:
            for item in v.values():
                visit(item, depth + 1)
        elif isinstance(v, FunctionSpec):
            account(v.shape)
            visit(v.params, depth + 1)
        elif type(v) in (int, np.int64, np.int32) and not isinstance(v, bool):
            longest[0] = max(longest[0], int(v))
    visit(value)
    return sizes[0] * longest[0]


def _reference_answer(reference, name, args, kwargs):
    """The packed reply of the reference's `name` on (args, kwargs): its value, or its exception as data."""
    reply = {"value": None, "error_type": None, "error": None}
    try:
        func = getattr(reference, name)
        args = tuple(specs.build_function(a) if isinstance(a, FunctionSpec) else a for a in args)
        reply["value"] = to_plain(func(*args, **kwargs))
        packed = pack(reply)
    except Exception as e:                # the reference's input checks: data for the student's code
        reply.update(value=None, error_type=type(e).__name__, error=str(e)[:500])
        packed = pack(reply)
    if len(packed) > 2 * MAX_UNPACKED_BYTES:
        packed = pack({"value": None, "error_type": "ValueError",
                       "error": "the reference's answer for these arguments is too large to send back"})
    return packed


def _stand_in_worker_main():
    """The stand-in process: one packed call per line on stdin, one packed reply per line on stdout.

    Runs the reference outside the grader's process, with its own memory limit: the grader stays
    responsive, and a call that takes too long is ended by killing this process.
    """
    import resource
    import sys
    import solutions
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (STAND_IN_MEMORY, STAND_IN_MEMORY))
    out = sys.stdout
    sys.stdout = sys.stderr                # prints of any module never reach the protocol
    out.write("ready\n")                   # imports done: from here on its time is the answers'
    out.flush()
    for line in sys.stdin:
        try:
            call = unpack(line.strip(), max_bytes=MAX_STAND_IN_BYTES)
            answer = _reference_answer(solutions, call["name"], call["args"], call["kwargs"])
        except MemoryError:
            answer = pack({"value": None, "error_type": "MemoryError", "error": "out of memory"})
        out.write(answer + "\n")
        out.flush()


STAND_IN_STARTUP_SECONDS = 120          # for the stand-in process to import numpy and the reference


class PendingAnswer:
    """A stand-in answer being computed by the StandInWorker: `fd` to wait on, `poll()` -> the packed
    answer or None, `cancel()` to give up (the worker is killed), `waited()` seconds spent computing it
    (the worker's start-up excluded), `deadline(budget)` when to give up."""

    def __init__(self, worker):
        self.worker = worker
        self.buffer = bytearray()
        self.fd = worker.proc.stdout.fileno()
        self.asked = time.monotonic()

    def _since(self):
        return max(self.asked, self.worker.ready_at or self.asked)

    def waited(self):
        return time.monotonic() - self._since() if self.worker.ready_at else 0.0

    def deadline(self, budget):
        if not self.worker.ready_at:
            return self.asked + STAND_IN_STARTUP_SECONDS + budget
        return self._since() + budget

    def poll(self):
        proc = self.worker.proc
        try:
            chunk = os.read(proc.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return None
        if not chunk:                            # the worker died (its memory limit, a crash)
            self.worker.stop()
            return pack({"value": None, "error_type": "RuntimeError",
                         "error": "the reference could not answer for these arguments (out of memory?)"})
        self.buffer += chunk
        if not self.worker.ready_at and self.buffer.startswith(b"ready\n"):
            self.worker.ready_at = time.monotonic()
            del self.buffer[:6]
        if len(self.buffer) > 2 * MAX_UNPACKED_BYTES + 2 ** 20:
            self.worker.stop()
            return pack({"value": None, "error_type": "ValueError", "error": "answer too large"})
        if self.buffer.endswith(b"\n"):
            return self.buffer.decode("ascii").strip()
        return None

    def cancel(self):
        self.worker.stop()


class StandInWorker:
    """A child process that computes the reference's stand-in answers (started on first use)."""

    def __init__(self):
        self.proc = None
        self.ready_at = None                     # when it had imported the reference

    def start(self):
        """Start the process now (it takes a moment to import numpy and the reference)."""
        if self.proc is None or self.proc.poll() is not None:
            code = "from autograder.remote import _stand_in_worker_main; _stand_in_worker_main()"
            self.proc = subprocess.Popen([sys.executable, "-I", "-c", code], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            os.set_blocking(self.proc.stdout.fileno(), False)
            self.ready_at = None

    def submit(self, packed_call):
        """Send one packed call; a PendingAnswer for its reply."""
        self.start()
        if not self.ready_at:                    # its "ready" line may be waiting in the pipe already
            with contextlib.suppress(BlockingIOError):
                head = os.read(self.proc.stdout.fileno(), 6)
                if head == b"ready\n":
                    self.ready_at = time.monotonic()
                elif head:
                    raise RuntimeError(f"the stand-in process said {head!r} instead of ready")
        self.proc.stdin.write(packed_call.encode("ascii") + b"\n")
        self.proc.stdin.flush()
        return PendingAnswer(self)

    def stop(self):
        if self.proc is not None:
            with contextlib.suppress(OSError):
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc = None
            self.ready_at = None


@dataclass
class RunResult:
    """What one execute request did: the reply's status, error name, printed text, and whether it hung or died."""
    status: str = None
    ename: str = None
    evalue: str = None
    printed: str = ""
    timed_out: bool = False
    died: bool = False


def _blocking(value):
    """The result of a kernel-manager method, awaited when the manager is asynchronous."""
    if inspect.isawaitable(value):
        from jupyter_core.utils import run_sync

        async def wait():
            return await value
        return run_sync(wait)()
    return value


def _plain(value, depth=0):
    """evaluate.to_plain for a decoded value, keeping the Opaque markers that the kernel sent."""
    kind = type(value)
    if kind is Opaque:
        return value
    if depth < MAX_DEPTH and (kind is tuple or kind is list):
        return kind(_plain(v, depth + 1) for v in value)
    if depth < MAX_DEPTH and kind is dict:
        return {k: _plain(v, depth + 1) for k, v in value.items()}
    return to_plain(value, depth)


class KernelSession:
    """A blocking connection to a running kernel, made for the grader's own requests.

    km: the kernel's manager (jupyter_client KernelManager or AsyncKernelManager).
    """

    def __init__(self, km, startup_timeout=60):
        self.km = km
        from .kernels import heal_channels
        self.kc = km.blocking_client()
        self.kc.start_channels()
        heal_channels(self.kc)                     # arm: oversized messages must not leave the grader deaf
        try:
            self.kc.wait_for_ready(timeout=startup_timeout)
        except BaseException:
            self.kc.stop_channels()
            raise

    def is_alive(self):
        return bool(_blocking(self.km.is_alive()))

    def interrupt(self):
        _blocking(self.km.interrupt_kernel())

    def close(self):
        self.kc.stop_channels()

    def run(self, code, on_prompt=None, timeout=30.0, grace=5.0, expression=None):
        """Execute `code` (no history); answer input() prompts with on_prompt(prompt) -> str.

        With `expression`, the code is empty and the expression is evaluated as
        a user expression instead: IPython evaluates those with plain eval(),
        so input transformers a submission registered cannot touch it. Its
        error, if any, is reported in ename/evalue.

        on_prompt may return a PendingAnswer (computed in another process): the
        kernel keeps being served meanwhile, and the answer is sent when it is
        ready. Time spent waiting for such answers does not count against
        `timeout`; they have `timeout` seconds in all, after which the kernel
        gets a TimeoutError as the answer.

        Waits until the reply has come and the kernel is idle. After `timeout`
        seconds the kernel is interrupted; if it still has not answered `grace`
        seconds later, the result says timed_out with no status (the kernel
        must be restarted). A dead kernel gives died=True.
        """
        kc = self.kc
        if expression is None:
            msg_id = kc.execute(code, silent=False, store_history=False, allow_stdin=True)
        else:
            msg_id = kc.execute("", silent=True, store_history=False, allow_stdin=True,
                                user_expressions={"e": expression})
        result, printed, idle = RunResult(), _CappedText(MAX_TEXT), False

        def listen():
            channels = {kc.stdin_channel.socket: kc.stdin_channel, kc.shell_channel.socket: kc.shell_channel,
                        kc.iopub_channel.socket: kc.iopub_channel}
            poller = zmq.Poller()
            for sock in channels:
                poller.register(sock, zmq.POLLIN)
            return channels, poller
        channels, poller = listen()
        pending = None                             # an answer still being computed (PendingAnswer)
        lost_idle = False
        deadline = time.monotonic() + timeout
        # waiting for answers computed elsewhere does not count against the call: it has its own budget,
        # the same time again in all (so a call ends within 2 x timeout + grace whatever it asks)
        answer_budget = timeout
        last_alive_check = time.monotonic()
        while result.status is None or not idle:
            now = time.monotonic()
            if pending is not None and now > pending.deadline(answer_budget):
                poller.unregister(pending.fd)
                pending.cancel()
                answer_budget = 0.0
                deadline += now - pending.asked
                pending = None
                kc.input(pack({"value": None, "error_type": "TimeoutError",
                               "error": f"the reference's answers took more than {timeout:g} s in all"}))
            if pending is None and now > deadline:
                if result.timed_out:               # interrupted already and still no answer
                    result.status = None
                    break
                result.timed_out = True
                self.interrupt()
                deadline = now + grace
            if now - last_alive_check > 1.0:
                last_alive_check = now
                if not self.is_alive():
                    result.died = True
                    break
                from .kernels import heal_channels
                healed = heal_channels(kc)
                if healed:                         # a connection dropped (an oversized message): listen anew
                    channels, poller = listen()
                    if pending is not None:
                        poller.register(pending.fd, zmq.POLLIN)
                if "iopub" in healed:              # the output was dropped; the idle status may have been too
                    printed.add("\n[output cut: a message larger than the grader accepts was dropped]\n")
                    lost_idle = True
                if lost_idle and result.status is not None:
                    idle = True
            events = dict(poller.poll(timeout=200))
            if pending is not None and pending.fd in events:      # (pyzmq reports plain fds by number)
                answer = pending.poll()
                if answer is not None:
                    poller.unregister(pending.fd)
                    deadline += time.monotonic() - pending.asked
                    answer_budget = max(0.0, answer_budget - pending.waited())
                    pending = None
                    kc.input(answer)
            for sock, channel in channels.items():
                if sock not in events:
                    continue
                msg = channel.get_msg(timeout=0)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if channel is kc.stdin_channel and kind == "input_request":
                    answer = on_prompt(content.get("prompt", "")) if on_prompt else ""
                    if isinstance(answer, PendingAnswer):       # computed elsewhere: keep serving the kernel
                        if pending is not None:
                            poller.unregister(pending.fd)
                            pending.cancel()
                        pending = answer
                        poller.register(pending.fd, zmq.POLLIN)
                    else:
                        kc.input(answer)
                elif kind == "execute_reply":
                    result.status = content.get("status")
                    result.ename, result.evalue = content.get("ename"), content.get("evalue")
                    value = (content.get("user_expressions") or {}).get("e") or {}
                    if expression is not None and value.get("status") == "error":
                        result.ename, result.evalue = value.get("ename"), value.get("evalue")
                elif kind == "stream":
                    printed.add(content.get("text", ""))
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
        if pending is not None:
            pending.cancel()
        result.printed = printed.text()
        return result


class _CappedText:
    """Text collected while it arrives, never more than `limit` characters kept (the rest is counted)."""

    def __init__(self, limit):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def add(self, text):
        text = text if isinstance(text, str) else ""
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))

    def text(self):
        out = "".join(self.parts)
        return out + (f"\n[... {self.dropped} more characters of output not kept]" if self.dropped else "")


class RemoteEvaluator:
    """evaluate(name, args, stand_ins) -> Outcome, running the student's function in a KernelSession.

    session: a KernelSession on a kernel where the student's cells have run;
    reference: the object whose attributes are the reference functions
      (default: the `solutions` package), used for the stand-ins only;
    call_timeout: seconds one call may take before the kernel is interrupted.

    After the kernel died or hung, `needs_restart` is True and every further
    call returns an error Outcome at once, until `session` is replaced. A
    function that ran out of time once is not called again (TimeoutError).
    """

    def __init__(self, session, reference=None, call_timeout=30.0):
        self.session = session
        self.reference = reference             # None: the `solutions` package, in a StandInWorker process
        self.worker = StandInWorker() if reference is None else None
        if self.worker is not None:
            self.worker.start()                # importing the reference overlaps with the first calls
        self.call_timeout = call_timeout
        self.needs_restart = False
        self.broken_reason = ""
        self.input_prompts = 0                 # input() calls that were not the harness's
        self.timed_out = set()                 # functions that ran out of time once: not run again
        self._harness = _kernel_source()
        self._module = None                    # the harness's module name in the current kernel
        self.use_expressions = True            # run calls as user expressions (immune to input transformers)

    def close(self):
        """Stop the stand-in process (if one was started)."""
        if self.worker is not None:
            self.worker.stop()

    def replace_session(self, session):
        self.session, self.needs_restart, self.broken_reason = session, False, ""
        self._module = None

    def _install(self):
        """Load the harness into the kernel once, as a module under a fresh random name (compiling it
        costs ~0.1 s; a call then costs ~20 ms). The kernel may tamper with it: that changes nothing
        but what it claims, which is judged here anyway."""
        module = f"_bptt_autograder_{secrets.token_hex(8)}"
        code = ("import sys as _s, types as _t\n"
                f"_m = _t.ModuleType({module!r})\n"
                f"exec(compile({self._harness!r}, {module!r}, 'exec'), _m.__dict__)\n"
                f"_s.modules[{module!r}] = _m\n"
                "del _s, _t, _m")
        run = self._run(f"exec({code!r}, {{}})")
        self._module = module if run.status == "ok" and run.ename is None else None
        return run

    def _run(self, expression, on_prompt=None):
        """Run `expression` in the kernel: as a user expression (see KernelSession.run), or as cell code
        when this ipykernel does not forward input() from user expressions."""
        if self.use_expressions:
            return self.session.run("", on_prompt, timeout=self.call_timeout, expression=expression)
        return self.session.run(expression, on_prompt, timeout=self.call_timeout)

    def __call__(self, name, args, stand_ins=(), _retry=True):
        if self.needs_restart:
            return Outcome(error_type="KernelDied", error=self.broken_reason, args_after=tuple(args))
        if name in self.timed_out:             # one endless loop must not cost call_timeout on every case
            return Outcome(error_type="TimeoutError", args_after=tuple(args),
                           error=f"{name} was not run again: it did not finish within {self.call_timeout:g} s "
                                 "on an earlier case")
        token = secrets.token_hex(16)
        allowed = tuple(n for n in stand_ins if n != name)
        request = pack({"name": name, "args": tuple(args), "stand_ins": list(allowed)})
        if self._module is None:
            installed = self._install()
            if self._module is None:
                return Outcome(error_type="NoResult", args_after=tuple(args), stdout=installed.printed,
                               error=f"the grading harness could not be loaded into the kernel "
                                     f"({installed.ename}: {installed.evalue})"[:500])
        code = f"__import__('sys').modules[{self._module!r}]._kernel_call(globals(), {request!r}, {token!r})"
        answer = {}

        def on_prompt(prompt):
            head, _, payload = prompt.partition(" ")
            got_token, _, rest = payload.partition(" ")
            kind, _, body = rest.partition(" ")
            if head != MAGIC or got_token != token:
                self.input_prompts += 1
                return ""
            if kind == "call":
                return self._stand_in_answer(body, allowed)
            if kind == "result" and "result" not in answer:
                try:
                    answer["result"] = unpack(body)
                except WireError as e:
                    answer["result"] = e
            return ""

        start = time.perf_counter()
        run = self._run(code, on_prompt)
        wall = time.perf_counter() - start
        if run.died:
            self.needs_restart = True
            self.broken_reason = (f"the Python process stopped (a crash, os._exit or out of memory) "
                                  f"while {name} was running")
            return Outcome(error_type="KernelDied", error=self.broken_reason, args_after=tuple(args),
                           stdout=run.printed, seconds=wall)
        if run.timed_out:
            self.timed_out.add(name)
            if run.status is None:
                self.needs_restart = True
                self.broken_reason = f"{name} did not stop when interrupted after {self.call_timeout:g} s"
            return Outcome(error_type="TimeoutError",
                           error=f"{name} did not finish within {self.call_timeout:g} s",
                           args_after=tuple(args), stdout=run.printed, seconds=wall)
        if "result" not in answer and run.ename == "StdinNotImplementedError" and self.use_expressions:
            self.use_expressions = False       # this ipykernel: input() only from cell code
            return self(name, args, stand_ins, _retry=_retry)
        if "result" not in answer and run.ename == "KeyError" and _retry:
            self._module = None                # the harness module was removed from the kernel: load it again
            return self(name, args, stand_ins, _retry=False)
        return self._outcome(name, args, answer.get("result"), run, wall)

    def _outcome(self, name, args, result, run, wall):
        """The Outcome built from the kernel's result message, trusting nothing in it."""
        if result is None or isinstance(result, WireError) or not self._well_formed(result, args):
            why = ("the harness was stopped before it could report" if result is None
                   else "the report from the kernel was malformed")
            error = f"no usable result came back from the kernel ({why}"
            error += f"; the kernel said {run.ename}: {run.evalue})" if run.ename else ")"
            return Outcome(error_type=run.ename or "NoResult", error=error[:500], args_after=tuple(args),
                           stdout=run.printed, seconds=wall)
        args_after = tuple(orig if isinstance(orig, FunctionSpec) else _plain(after)
                           for orig, after in zip(args, result["args_after"]))
        text = result["stdout"] + (run.printed if run.printed else "")
        seconds = result["seconds"] if isinstance(result["seconds"], float) and 0 <= result["seconds"] <= wall else wall
        outcome = Outcome(args_after=args_after, stdout=text[:MAX_TEXT], seconds=seconds,
                          warnings=[str(w)[:500] for w in result["warnings"]][:50])
        if result["error_type"] is not None:
            outcome.error_type = result["error_type"][:100]
            outcome.error = (result["error"] or "")[:500]
        else:
            outcome.outputs = _plain(result["outputs"])
        return outcome

    @staticmethod
    def _well_formed(result, args):
        if not isinstance(result, dict):
            return False
        types = {"error_type": (str, type(None)), "error": (str, type(None)), "args_after": (list,),
                 "stdout": (str,), "warnings": (list,), "seconds": (float, int)}
        return (all(isinstance(result.get(k, ...), t) for k, t in types.items()) and "outputs" in result
                and len(result["args_after"]) == len(args))

    def _stand_in_answer(self, body, allowed):
        """The reference's answer to a stand-in's call: a PendingAnswer computed by the StandInWorker (the
        grader keeps serving the kernel meanwhile), or the packed refusal when the call is not allowed or
        implies too much work (stand_in_work > MAX_STAND_IN_WORK)."""
        try:
            call = unpack(body, max_bytes=MAX_STAND_IN_BYTES)
            if not (isinstance(call, dict) and call.get("name") in allowed
                    and isinstance(call.get("args"), tuple) and isinstance(call.get("kwargs"), dict)):
                raise WireError("not a call of an allowed stand-in")
            work = stand_in_work((call["args"], call["kwargs"]))
            if work > MAX_STAND_IN_WORK:
                raise WireError(f"the arguments imply too much work for a stand-in call ({work:.3g} > "
                                f"{MAX_STAND_IN_WORK:.3g}: elements x longest axis, empty axes counted as 1)")
        except Exception as e:
            return pack({"value": None, "error_type": type(e).__name__, "error": str(e)[:500]})
        if self.worker is None:
            return _reference_answer(self.reference, call["name"], call["args"], call["kwargs"])
        return self.worker.submit(pack({"name": call["name"], "args": call["args"], "kwargs": call["kwargs"]}))
