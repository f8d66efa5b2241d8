"""Numerical gradients by central differences: the check every backward pass must pass."""
import numpy as np

from ._validate import _check_gradient_args


def numerical_gradient(f, x, h=1e-5):
    """Estimate the gradient of a scalar function by central differences.

    Inputs:
    - f: function mapping an array shaped like x to a float
    - x: array of any shape, the point at which to differentiate
    - h: step size

    Returns:
    - grad: array shaped like x; grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)
      for every element i. The error is O(h^2) plus round-off of order
      eps * |f| / h, so h = 1e-5 gives about 1e-10 relative accuracy in float64.

    x itself is never changed: f is evaluated on a private copy.
    """
    _check_gradient_args(f, h)
    x_work = np.array(x, dtype=np.float64)         # private copy; x is never touched
    grad = np.zeros(x_work.shape)
    for i in np.ndindex(x_work.shape):
        old = x_work[i]
        x_work[i] = old + h
        f_plus = float(f(x_work))
        x_work[i] = old - h
        f_minus = float(f(x_work))
        x_work[i] = old                            # restore before the next element
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
