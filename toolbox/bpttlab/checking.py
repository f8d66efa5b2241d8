"""Small helpers shared by the notebooks' visible self-checks.

Self-checks never compare with the reference: they check shapes, finiteness,
tiny cases worked out by hand, and gradients against the student's own
numerical_gradient. Each public check is decorated with `self_check`, so that
a function the student has not written yet is reported in one line.
"""
import functools
from pathlib import Path

import numpy as np

TOOLBOX = Path(__file__).resolve().parent


def rel_error(a, b):
    """Largest relative difference between two arrays: max |a - b| / max(1e-8, |a| + |b|)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def expect_shape(name, value, shape):
    """Raise an AssertionError that names `name` unless `value` is an array of `shape`."""
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{name} should be a numpy array of shape {shape}; got {type(value).__name__}")
    if value.shape != tuple(shape):
        raise AssertionError(f"{name} should have shape {tuple(shape)}; got {value.shape}")
    if not np.all(np.isfinite(value)):
        raise AssertionError(f"{name} contains inf or nan")


def expect_close(name, got, want, tol=1e-7):
    """Raise an AssertionError naming `name` unless rel_error(got, want) <= tol."""
    err = rel_error(got, want)
    if not err <= tol:
        raise AssertionError(f"{name}: relative error {err:.2e} (should be below {tol:.0e})")
    return err


def passed(message):
    """Print a one-line success message."""
    print(f"\N{CHECK MARK} {message}")


def self_check(check):
    """Decorator for a notebook's self-check: a student function that still raises
    NotImplementedError (the stub a notebook hands out) is reported as not
    implemented yet, in one printed line, instead of a traceback. Any other
    error, and every AssertionError of a failed check, goes through unchanged.
    """
    @functools.wraps(check)
    def run(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except NotImplementedError as e:
            name = _raised_by(e, check)
            print(f"{name} is not implemented yet (it raises NotImplementedError): write its code in place of "
                  f"`raise NotImplementedError()`, run its cell, then run this check again.")
            return None
    run.is_self_check = True
    return run


def _raised_by(error, check):
    """The name of the function whose body raised `error` (the innermost frame), if it is the student's."""
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    not_the_students = code is check.__code__ or Path(code.co_filename).resolve().is_relative_to(TOOLBOX)
    if not_the_students or not code.co_name.isidentifier():
        return "a function this check calls"
    return code.co_name
