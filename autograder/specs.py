"""Scalar test functions for grading `numerical_gradient`, described as plain data.

A `FunctionSpec` holds only numbers and arrays, so it can be pickled, sent to
the student's kernel and turned back into the same function there with
`build_function(spec)`. This module imports numpy only and nothing from the
rest of the autograder: the remote evaluator may send its source into the kernel.

The functions are deliberately not quadratic (a one-sided difference is exact
for a linear f and off by a constant for a quadratic one), so the mistakes of
a finite-difference gradient show:

- "tanh_quartic": f(x) = sum(w * tanh(a * x + c)) + q * sum(x ** 4)
  with w, a, c arrays shaped like x and q a float;
- "log_sum_exp":  f(x) = log(sum(exp(A @ x.ravel() + c)))
  with A of shape (M, x.size) and c of shape (M,).
"""
from dataclasses import dataclass, field

import numpy as np

KINDS = ("tanh_quartic", "log_sum_exp")


@dataclass(frozen=True)
class FunctionSpec:
    """Data that defines a smooth scalar function of an array of shape `shape`.

    kind: one of KINDS; shape: the shape of the argument x;
    params: name -> float64 array or float (see the module docstring).
    """
    kind: str
    shape: tuple
    params: dict = field(default_factory=dict)

    def describe(self):
        """One line for feedback: the kind and the argument's shape, no values."""
        return f"f = {self.kind} of an array of shape {tuple(self.shape)}"


def random_spec(kind, shape, rng):
    """A FunctionSpec of the given kind for arguments of `shape`, drawn from `rng`.

    rng: a numpy Generator (the caller seeds it: np.random.default_rng(seed)).
    """
    shape = tuple(int(s) for s in shape)
    size = int(np.prod(shape))
    if kind == "tanh_quartic":
        params = {"w": rng.normal(size=shape), "a": rng.uniform(0.5, 2.0, size=shape),
                  "c": rng.normal(scale=0.5, size=shape), "q": float(rng.uniform(0.05, 0.2))}
    elif kind == "log_sum_exp":
        M = 3
        params = {"A": rng.normal(size=(M, size)), "c": rng.normal(size=M)}
    else:
        raise ValueError(f"unknown FunctionSpec kind {kind!r}; expected one of {KINDS}")
    return FunctionSpec(kind, shape, params)


def build_function(spec):
    """The function f described by `spec`: f(x) -> float for x of shape spec.shape.

    f never modifies x. A wrongly shaped x raises ValueError naming both shapes.
    """
    if not isinstance(spec, FunctionSpec):
        raise TypeError(f"build_function needs a FunctionSpec; got {type(spec).__name__}")
    shape = tuple(spec.shape)
    p = {k: (np.array(v, dtype=np.float64) if not isinstance(v, float) else v) for k, v in spec.params.items()}

    def check(x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape != shape:
            raise ValueError(f"f expects an array of shape {shape}; got shape {x.shape}")
        return x

    if spec.kind == "tanh_quartic":
        def f(x):
            x = check(x)
            return float(np.sum(p["w"] * np.tanh(p["a"] * x + p["c"])) + p["q"] * np.sum(x ** 4))
    elif spec.kind == "log_sum_exp":
        def f(x):
            z = p["A"] @ check(x).ravel() + p["c"]
            top = z.max()
            return float(top + np.log(np.sum(np.exp(z - top))))
    else:
        raise ValueError(f"unknown FunctionSpec kind {spec.kind!r}; expected one of {KINDS}")
    return f
