"""Small helpers shared by the notebooks' visible self-checks.

Self-checks never compare with the reference: they check shapes, finiteness,
tiny cases worked out by hand, and gradients against the student's own
numerical_gradient.
"""
import numpy as np


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
