"""The evaluator protocol, and the evaluator that runs a function in this process.

An evaluator is any callable

    evaluate(name, args, stand_ins) -> Outcome

- name: the graded function to call (e.g. "rnn_backward");
- args: its positional arguments as plain data (see cases.Case); a
  `specs.FunctionSpec` among them stands for the function
  `specs.build_function(spec)` and must be turned into it before the call;
- stand_ins: names of the other graded functions; while `name` runs, each of
  them must be the reference's (so a student's rnn_forward that calls their
  own rnn_step_forward is graded with the reference step: one bug costs once).

It returns an `Outcome` made of plain data only: the return value passed
through `to_plain` (what the grader may trust), the arguments as they are
after the call (to detect in-place modification), the exception if one was
raised, and what was printed. The grader never calls anything on a student's
object: anything that is not a plain ndarray, number, str, None, tuple, list
or dict of str keys comes back as an `Opaque` holding only its type's name.

`in_process(namespace)` is the evaluator for a namespace in this process (a
notebook's globals(), a dict filled by exec): the hidden test cells and the
tests use it. `remote.py` provides one for a student's kernel.

remote.py sends the source of `Opaque`, `to_plain`, `prepare_args`,
`after_args` and `call_captured` into the kernel: keep them self-contained
(they may use only np, copy, contextlib, io, time, warnings, PLAIN_SCALARS,
MAX_DEPTH, Opaque, FunctionSpec, build_function and each other).

Fairness rule for return values: an object that is not one of the plain types
(an ndarray subclass, a list-like, an object with `__array__`, even one that
would produce the right numbers) is a wrong type, reported as such: the
grader never runs code of the student's objects, so a hostile `__array__`,
`__eq__`, `__sub__` or `__float__` cannot change or crash the verdict.
"""
import contextlib
import copy
import io
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .specs import FunctionSpec, build_function

# Scalars the grader accepts as numbers (exact types: subclasses could override anything).
PLAIN_SCALARS = (float, int, bool, np.float64, np.float32, np.float16, np.longdouble,
                 np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8, np.bool_)
MAX_DEPTH = 4


@dataclass(frozen=True)
class Opaque:
    """Stands for a returned object the grader will not touch; `type_name` says what it was."""
    type_name: str

    def __repr__(self):
        return f"<{self.type_name}>"


@dataclass
class Outcome:
    """What one call of a graded function did, as plain data.

    outputs: the return value through to_plain (None when an exception was raised);
    error_type, error: the exception's class name and message, or None;
    args_after: the arguments after the call, through to_plain (FunctionSpec kept as is);
    stdout: everything printed (stdout and stderr) and every warning, as text;
    seconds: wall time of the call.
    """
    outputs: object = None
    error_type: str = None
    error: str = None
    args_after: tuple = ()
    stdout: str = ""
    seconds: float = 0.0
    warnings: list = field(default_factory=list)


def to_plain(value, depth=0):
    """A copy of `value` made of trusted types only; anything else becomes an Opaque.

    Arrays must be exactly numpy.ndarray (not a subclass) with a numeric dtype;
    they are copied with np.array(value, copy=True). Tuples, lists and dicts
    (str keys) are copied element by element, to a depth of MAX_DEPTH.
    """
    kind = type(value)
    if value is None or kind is str:
        return value
    if kind in PLAIN_SCALARS:
        return value
    if kind is np.ndarray:
        if value.dtype.kind not in "fiub":
            return Opaque(f"ndarray of dtype {value.dtype}")
        return np.array(value, copy=True)
    if kind is FunctionSpec:
        return value
    if depth >= MAX_DEPTH:
        return Opaque(f"{kind.__name__} nested too deeply")
    if kind is tuple:
        return tuple(to_plain(v, depth + 1) for v in value)
    if kind is list:
        return [to_plain(v, depth + 1) for v in value]
    if kind is dict:
        if not all(type(key) is str for key in value):
            return Opaque("dict with keys that are not all str")
        return {key: to_plain(v, depth + 1) for key, v in value.items()}
    return Opaque(f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__)


def prepare_args(args):
    """The arguments as the function receives them: deep copies, FunctionSpec -> function."""
    return tuple(build_function(a) if isinstance(a, FunctionSpec) else copy.deepcopy(a) for a in args)


def after_args(original, passed):
    """args_after for an Outcome: the passed arguments, but FunctionSpec in place of the built function."""
    return tuple(o if isinstance(o, FunctionSpec) else to_plain(p) for o, p in zip(original, passed))


class _Swapped:
    """Puts the reference's functions into one or more namespaces and restores them afterwards."""
    _MISSING = object()

    def __init__(self, namespaces, names):
        import solutions
        self.spaces = [ns for i, ns in enumerate(namespaces) if all(ns is not o for o in namespaces[:i])]
        self.replacements = {n: getattr(solutions, n) for n in names}
        self.saved = []

    def __enter__(self):
        for ns in self.spaces:
            for n, ref in self.replacements.items():
                self.saved.append((ns, n, ns.get(n, self._MISSING)))
                ns[n] = ref
        return self

    def __exit__(self, *exc):
        for ns, n, old in reversed(self.saved):
            if old is self._MISSING:
                ns.pop(n, None)
            else:
                ns[n] = old
        return False


def call_captured(func, args):
    """Call func(*args) capturing prints and warnings; returns (value, exception or None, text, warnings, seconds).

    Exceptions (not KeyboardInterrupt) are returned, not raised; numpy
    floating-point errors are kept as warnings.
    """
    buffer = io.StringIO()
    start = time.perf_counter()
    value, error = None, None
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        warnings.simplefilter("always")
        try:
            value = func(*args)
        except (Exception, SystemExit) as e:          # the student's bug is data here
            error = e
    seconds = time.perf_counter() - start
    notes = [f"{w.category.__name__}: {w.message}" for w in caught]
    return value, error, buffer.getvalue(), notes, seconds


def _message(error):
    """The exception's message, at most 500 characters; a message that cannot be built is reported as such."""
    try:
        text = str(error)
    except Exception:                                    # a hostile __str__
        return "(the exception's message could not be read)"
    return text[:500] if type(text) is str else "(the exception's message is not text)"


def in_process(namespace):
    """The evaluator for functions defined in `namespace` (a dict such as a notebook's globals()).

    The function is looked up as namespace[name] at each call; stand-ins are
    swapped into `namespace` and into the function's own globals for the
    duration of the call, then the previous bindings are restored.
    """
    def evaluate(name, args, stand_ins=()):
        func = namespace.get(name)
        if func is None:
            return Outcome(error_type="NameError", error=f"{name} is not defined (was its cell run?)",
                           args_after=tuple(args))
        if not callable(func):
            return Outcome(error_type="TypeError", error=f"{name} is a {type(func).__name__}, not a function",
                           args_after=tuple(args))
        passed = prepare_args(args)
        spaces = [namespace] + ([func.__globals__] if isinstance(getattr(func, "__globals__", None), dict) else [])
        with _Swapped(spaces, [n for n in stand_ins if n != name]):
            value, error, text, notes, seconds = call_captured(func, passed)
        outcome = Outcome(args_after=after_args(args, passed), stdout=text, seconds=seconds, warnings=notes)
        if error is not None:
            outcome.error_type = type(error).__name__
            outcome.error = _message(error)
        else:
            outcome.outputs = to_plain(value)
        return outcome
    return evaluate
