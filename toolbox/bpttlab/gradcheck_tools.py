"""Gradient checks driven by the student's own numerical_gradient.

Every backward pass of the course is checked the same way: pick a random
upstream gradient `dout`, define the scalar loss L = sum(dout * out), and
compare what the backward function returns with central differences of L
computed by the numerical_gradient the student wrote (notebook 02). The
reference is never used.

Error measure: gradient_error(got, want) = max |got - want| / max(max |got|,
max |want|), the largest error relative to the scale of the gradient. Unlike
an element-wise relative error it does not blow up on entries that are
nearly 0, where central differences have only absolute accuracy
(about eps * |L| / h ~ 1e-10 for h = 1e-5).
"""
import numpy as np

DEFAULT_TOL = 1e-6


def gradient_error(got, want):
    """max |got - want| / max(max |got|, max |want|); 0 when both are all zeros.

    got, want: arrays of the same shape (any shape).
    """
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise ValueError(f"cannot compare gradients of shapes {got.shape} and {want.shape}")
    scale = max(np.max(np.abs(got), initial=0.0), np.max(np.abs(want), initial=0.0))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(got - want)) / scale)


def check_gradient(name, f, x, analytic, numerical_gradient, tol=DEFAULT_TOL):
    """Compare an analytic gradient with numerical_gradient(f, x).

    Inputs:
    - name: what the gradient is called in messages, e.g. "dWh"
    - f: function mapping an array shaped like x to a float (the loss)
    - x: array of any shape, the point of comparison
    - analytic: array shaped like x, the gradient to check
    - numerical_gradient: the student's function numerical_gradient(f, x) -> array shaped like x
    - tol: largest accepted gradient_error

    Returns the gradient_error (a float). Raises AssertionError naming `name`
    if the shapes differ, something is not finite, or the error exceeds tol.
    """
    analytic = np.asarray(analytic)
    x = np.asarray(x, dtype=np.float64)
    if analytic.shape != x.shape:
        raise AssertionError(f"{name} should have shape {x.shape} (like the input it is the gradient of); "
                             f"got {analytic.shape}")
    if not np.all(np.isfinite(analytic)):
        raise AssertionError(f"{name} contains inf or nan")
    numeric = np.asarray(numerical_gradient(f, x.copy()), dtype=np.float64)
    if numeric.shape != x.shape:
        raise AssertionError(f"numerical_gradient returned shape {numeric.shape} for an input of shape "
                             f"{x.shape}: check numerical_gradient first")
    err = gradient_error(analytic, numeric)
    if not err <= tol:
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(analytic - numeric)), x.shape))
        raise AssertionError(
            f"{name} disagrees with the numerical gradient: error {err:.1e} (should be below {tol:.0e}); "
            f"worst entry {worst}: yours {analytic[worst]:.6g}, numerical {numeric[worst]:.6g}")
    return err


def check_backward(backward_fn, forward_fn, inputs, numerical_gradient, *, seed=0, tol=DEFAULT_TOL,
                   grad_names=None):
    """Gradient-check a (forward, backward) pair on the loss L = sum(dout * out).

    Inputs:
    - backward_fn: backward_fn(dout, cache) -> tuple of gradients, one per
      entry of `inputs`, in the same order (e.g. rnn_step_backward returns
      dx_t, dh_prev, dWx, dWh, db for inputs x_t, h_prev, Wx, Wh, b)
    - forward_fn: forward_fn(*inputs.values()) -> (out, cache), where out is
      an array (e.g. h_next (N, H) or h (N, T, H))
    - inputs: dict name -> array, in the order forward_fn takes them
    - numerical_gradient: the student's numerical_gradient(f, x)
    - seed: seed of np.random.default_rng for dout (standard normal, shaped like out)
    - tol: largest accepted gradient_error per gradient
    - grad_names: names used in messages for the returned gradients;
      default "d" + input name (dx_t, dh_prev, dWx, ...)

    Returns a dict grad name -> gradient_error. Raises AssertionError naming
    the first gradient that is missing, misshapen or wrong. The inputs are
    never modified (a backward that changes dout in place is reported).
    """
    if not isinstance(inputs, dict) or not inputs:
        raise TypeError("inputs must be a non-empty dict name -> array, in forward_fn's argument order")
    names = list(inputs)
    grad_names = list(grad_names) if grad_names is not None else ["d" + n for n in names]
    if len(grad_names) != len(names):
        raise ValueError(f"grad_names has {len(grad_names)} names for {len(names)} inputs")
    values = [np.array(v, dtype=np.float64) for v in inputs.values()]   # private copies

    out, cache = forward_fn(*values)
    out = np.asarray(out, dtype=np.float64)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    dout_before = dout.copy()
    grads = backward_fn(dout, cache)
    if not np.array_equal(dout, dout_before):
        raise AssertionError("the backward function changed its upstream gradient in place; "
                             "work on new arrays instead (e.g. a = b * c, not b *= c)")
    if not isinstance(grads, tuple) or len(grads) != len(names):
        got = f"a tuple of {len(grads)}" if isinstance(grads, tuple) else type(grads).__name__
        raise AssertionError(f"the backward function should return a tuple of {len(names)} gradients "
                             f"({', '.join(grad_names)}); got {got}")

    errors = {}
    for i, (gname, analytic) in enumerate(zip(grad_names, grads)):
        def loss(v, i=i):
            args = list(values)
            args[i] = v
            return float(np.sum(forward_fn(*args)[0] * dout))
        errors[gname] = check_gradient(gname, loss, values[i], analytic, numerical_gradient, tol=tol)
    return errors
