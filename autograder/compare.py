"""Comparing returned values with the reference's: structure, types, shapes, tolerances.

Tolerances come from the reference's own numerical error, measured per case:
the reference is run again on inputs whose every float is multiplied by
(1 + 4 eps u), u uniform in [-1, 1] (eps = 2.2e-16, two independent draws).
A backward-stable computation returns the exact result for inputs perturbed
at about that level, so the change of each output, `spread`, is the size of
the rounding error any correct float64 implementation makes, whatever its
summation order (it grows with the condition of the problem: cancellation in
dWh, eigenvalues of a non-normal W, softmax scores of 1e4, round-off divided
by h in a finite difference). Each returned array (leaf) is then accepted when

    max |student - reference| <= SAFETY * max(spread, eps * max|reference|)

with SAFETY = 1000 (the gap between a typical and a worst-case rounding error
of the sums involved, T * H <= 100 terms here, with room to spare). Measured
on the cases of cases.py: 2e-13 to 5e-12 of the largest value for every
function except numerical_gradient, 1e-9 to 3e-8 there (the round-off
eps * |f| / h of a finite difference). Every mistake of the library misses
by far more: the closest, numerical_gradient/x-not-restored, lands 200 times
above the tolerance, the one-sided difference 1e5 times, all others 1e7 times
or more.

Returned values are judged by walking the reference's value: a tuple must be a
tuple of the same length, a dict a dict with the same keys, an array an
ndarray of dtype float64 and the same shape, a float a plain number.
Only plain data from `evaluate.to_plain` reaches this module. For arrays
shaped (N, T, ...) (N batch, T time steps) a mismatch names the time steps.
"""
import numpy as np

from .evaluate import PLAIN_SCALARS, Opaque
from .specs import FunctionSpec

EPS = np.finfo(np.float64).eps
SAFETY = 1000.0
PERTURBATION = 4 * EPS


def perturbed(args, rng):
    """Deep copy of args with every float multiplied by (1 + PERTURBATION * u), u ~ U[-1, 1]."""
    def walk(a):
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            return a * (1 + PERTURBATION * rng.uniform(-1, 1, size=a.shape))
        if type(a) is float:
            return a * (1 + PERTURBATION * rng.uniform(-1, 1))
        if isinstance(a, tuple):
            return tuple(walk(v) for v in a)
        if isinstance(a, dict):
            return {k: walk(v) for k, v in a.items()}
        return a                  # ints, integer arrays (targets y), FunctionSpec: exact data
    return tuple(walk(a) for a in args)


def leaves(value, path=()):
    """[(path, leaf)] of a nested tuple/dict value, in order; a path is a tuple of indices/keys."""
    if isinstance(value, tuple):
        return [item for i, v in enumerate(value) for item in leaves(v, path + (i,))]
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in leaves(v, path + (k,))]
    return [(path, value)]


def spreads(reference, others):
    """{path: largest |other - reference|} over the perturbed results `others`."""
    out = {}
    for path, ref in leaves(reference):
        diffs = [0.0]
        for other in others:
            o = dict(leaves(other)).get(path)
            if o is not None:
                d = np.abs(np.asarray(o, dtype=np.float64) - np.asarray(ref, dtype=np.float64))
                diffs.append(float(np.max(d, initial=0.0)) if np.all(np.isfinite(d)) else 0.0)
        out[path] = max(diffs)
    return out


def tolerance(ref, spread):
    """The absolute tolerance for one returned array or number (see the module docstring)."""
    scale = float(np.max(np.abs(ref), initial=0.0)) if np.all(np.isfinite(ref)) else 0.0
    return SAFETY * max(spread, EPS * scale)


def as_number(v):
    """A returned scalar as a float, or None when it is not a plain number (or a 0-d float array)."""
    if type(v) in PLAIN_SCALARS and type(v) not in (bool, np.bool_):
        return float(v)
    if type(v) is np.ndarray and v.shape == () and v.dtype.kind in "fi":
        return float(v)
    return None


def describe_type(v):
    if isinstance(v, Opaque):
        return f"an object of type {v.type_name}"
    if type(v) is np.ndarray:
        return f"an array of shape {v.shape} and dtype {v.dtype}"
    if isinstance(v, (tuple, list)):
        return f"a {type(v).__name__} of {len(v)} items"
    if isinstance(v, dict):
        return f"a dict with keys {sorted(v)}"
    return f"a {type(v).__name__}"


class Mismatch:
    """Why a returned value is not accepted: a message for students and, for wrong numbers, the errors."""

    def __init__(self, message, abs_error=None, rel_error=None, where=None):
        self.message, self.abs_error, self.rel_error, self.where = message, abs_error, rel_error, where

    def __repr__(self):
        return f"Mismatch({self.message!r})"


def _where(bad, time_axis):
    """Which time steps (if the array is (N, T, ...)) or which entries hold the wrong values."""
    if time_axis:
        steps = np.flatnonzero(bad.reshape(bad.shape[0], bad.shape[1], -1).any(axis=(0, 2)))
        return "time steps t = " + ", ".join(str(t) for t in steps[:12]) + (" ..." if len(steps) > 12 else "")
    idx = np.argwhere(bad)
    if bad.ndim == 0:
        return "the value"
    shown = ", ".join(str(tuple(int(i) for i in row)) for row in idx[:4])
    return f"{len(idx)} of {bad.size} entries, e.g. at {shown}" + (" ..." if len(idx) > 4 else "")


def compare_leaf(name, got, ref, tol, time_axis=False):
    """None when `got` is accepted as `ref` within tol, else a Mismatch naming the problem.

    time_axis: the array is shaped (N, T, ...): report wrong time steps.
    """
    if isinstance(ref, float):
        value = as_number(got)
        if value is None:
            return Mismatch(f"{name} should be a number (float); got {describe_type(got)}")
        if not np.isfinite(value):
            return Mismatch(f"{name} is {value}; expected a finite number")
        err = abs(value - ref)
        if err > tol:
            return Mismatch(f"{name} is wrong: off by {err:.3g} (relative {err / max(abs(ref), 1e-300):.3g})",
                            err, err / max(abs(ref), 1e-300), "the value")
        return None
    if type(got) is not np.ndarray:
        return Mismatch(f"{name} should be a numpy array of shape {ref.shape}; got {describe_type(got)}")
    if got.shape != ref.shape:
        return Mismatch(f"{name} has shape {got.shape}; expected {ref.shape}")
    if got.dtype != np.float64:
        return Mismatch(f"{name} has dtype {got.dtype}; expected float64")
    if not np.all(np.isfinite(got)):
        bad = ~np.isfinite(got)
        return Mismatch(f"{name} holds inf or nan at {_where(bad, time_axis)}", float("inf"), float("inf"),
                        _where(bad, time_axis))
    diff = np.abs(got - ref)
    if np.max(diff, initial=0.0) <= tol:
        return None
    bad = diff > tol
    abs_err = float(diff.max())
    rel_err = abs_err / max(float(np.abs(ref).max()), 1e-300)
    where = _where(bad, time_axis)
    return Mismatch(f"{name} is wrong at {where}: max abs error {abs_err:.3g}, "
                    f"relative to its largest entry {rel_err:.3g}", abs_err, rel_err, where)


def compare_value(name, got, ref, tols, time_axis_leaves=(), path=()):
    """Walk the reference value `ref`; None when `got` matches everywhere, else the first Mismatch.

    tols: {path: tolerance} for every leaf of ref; time_axis_leaves: paths of (N, T, ...) arrays.
    """
    if isinstance(ref, tuple):
        if type(got) is not tuple:
            return Mismatch(f"{name} should be a tuple of {len(ref)} items; got {describe_type(got)}")
        if len(got) != len(ref):
            return Mismatch(f"{name} should be a tuple of {len(ref)} items; got {len(got)} items")
        for i, (g, r) in enumerate(zip(got, ref)):
            m = compare_value(f"{name}[{i}]", g, r, tols, time_axis_leaves, path + (i,))
            if m:
                return m
        return None
    if isinstance(ref, dict):
        if type(got) is not dict:
            return Mismatch(f"{name} should be a dict with keys {sorted(ref)}; got {describe_type(got)}")
        if set(got) != set(ref):
            return Mismatch(f"{name} should have the keys {sorted(ref)}; got {sorted(got)}")
        for k in ref:
            m = compare_value(f"{name}[{k!r}]", got[k], ref[k], tols, time_axis_leaves, path + (k,))
            if m:
                return m
        return None
    return compare_leaf(name, got, ref, tols.get(path, 0.0), path in time_axis_leaves)


def same_value(a, b, tols, path=()):
    """Do two returned values agree (within the tolerances of the reference, inf/nan equal to themselves)?

    Used to match a student's value with a known mistake's; types must match as well.
    """
    if isinstance(a, Opaque) or isinstance(b, Opaque):
        return type(a) is Opaque and type(b) is Opaque and a.type_name == b.type_name
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same_value(x, y, tols, path + (i,)) for i, (x, y) in enumerate(zip(a, b))))
    if isinstance(a, dict) or isinstance(b, dict):
        return (type(a) is dict and type(b) is dict and set(a) == set(b)
                and all(same_value(a[k], b[k], tols, path + (k,)) for k in a))
    if isinstance(a, FunctionSpec) or isinstance(b, FunctionSpec):
        return a is b
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        a, b = np.float64(na), np.float64(nb)
    elif type(a) is not np.ndarray or type(b) is not np.ndarray:
        return type(a) is type(b) and a == b if a is None or isinstance(a, str) else False
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(a[~fa], b[~fb], equal_nan=True):
        return False
    tol = tols.get(path, 0.0)
    return bool(np.all(np.abs(a[fa] - b[fb]) <= max(tol, EPS * float(np.max(np.abs(a[fa]), initial=0.0)) * SAFETY)))


def unchanged(before, after):
    """Are the arguments after the call bit-for-bit what they were before (FunctionSpec skipped)?

    Returns None when unchanged, else the position of the first changed argument.
    """
    for i, (b, a) in enumerate(zip(before, after)):
        if isinstance(b, FunctionSpec):
            continue
        if not _identical(b, a):
            return i
    return None


def _identical(b, a):
    if isinstance(b, tuple):
        return type(a) is tuple and len(a) == len(b) and all(_identical(x, y) for x, y in zip(b, a))
    if isinstance(b, dict):
        return type(a) is dict and set(a) == set(b) and all(_identical(b[k], a[k]) for k in b)
    if isinstance(b, np.ndarray):
        return (type(a) is np.ndarray and a.shape == b.shape and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=b.dtype.kind in "fc"))
    return type(a) is type(b) and a == b
