"""Input checks shared by the reference functions.

Each check raises a ValueError (or TypeError) that names the argument, the
shape it must have in the contract's letters, and what it got, and returns the
arrays as float64 ndarrays (the very same objects when they already are).
The reference functions call these first; the statements that follow are the
algorithm itself, which `tools/sync_notebooks.py` copies into the notebooks.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary.
"""
import numbers

import numpy as np


def _as_float_array(name, a):
    if isinstance(a, np.ndarray) and a.dtype == np.float64 and type(a) is np.ndarray:
        return a
    try:
        out = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be an array of numbers; got {type(a).__name__} ({e})") from None
    return out


def _expect(name, a, shape_letters, sizes):
    """Check that `a` has len(shape_letters) dimensions and agrees with `sizes`.

    sizes: dict letter -> size fixed so far; updated in place with new letters.
    """
    a = _as_float_array(name, a)
    want = "(" + ", ".join(shape_letters) + ("," if len(shape_letters) == 1 else "") + ")"
    if a.ndim != len(shape_letters):
        raise ValueError(f"{name} must have shape {want}; got an array of shape {a.shape}")
    for letter, size in zip(shape_letters, a.shape):
        if letter in sizes and sizes[letter] != size:
            raise ValueError(f"{name} must have shape {want} with {letter} = {sizes[letter]}; got shape {a.shape}")
        sizes[letter] = size
    return a


def _check_nonempty(sizes, letters):
    for letter in letters:
        if sizes.get(letter, 1) < 1:
            raise ValueError(f"{letter} must be at least 1; got {letter} = {sizes[letter]}")


def _check_step(x_t, h_prev, Wx, Wh, b):
    """x_t (N, D), h_prev (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    sizes = {}
    out = (
        _expect("x_t", x_t, "ND", sizes),
        _expect("h_prev", h_prev, "NH", sizes),
        _expect("Wx", Wx, "DH", sizes),
        _expect("Wh", Wh, "HH", sizes),
        _expect("b", b, "H", sizes),
    )
    _check_nonempty(sizes, "NH")
    return out


def _check_sequence(x, h0, Wx, Wh, b):
    """x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    sizes = {}
    out = (
        _expect("x", x, "NTD", sizes),
        _expect("h0", h0, "NH", sizes),
        _expect("Wx", Wx, "DH", sizes),
        _expect("Wh", Wh, "HH", sizes),
        _expect("b", b, "H", sizes),
    )
    _check_nonempty(sizes, "NTH")
    return out


def _check_step_cache(dh_next, cache):
    """dh_next (N, H); cache = (x_t, h_prev, Wx, Wh, h_next)."""
    if not isinstance(cache, tuple) or len(cache) != 5:
        raise TypeError("cache must be the step cache (x_t, h_prev, Wx, Wh, h_next) from rnn_step_forward")
    sizes = {}
    x_t, h_prev, Wx, Wh, h_next = (
        _expect("cache x_t", cache[0], "ND", sizes),
        _expect("cache h_prev", cache[1], "NH", sizes),
        _expect("cache Wx", cache[2], "DH", sizes),
        _expect("cache Wh", cache[3], "HH", sizes),
        _expect("cache h_next", cache[4], "NH", sizes),
    )
    dh_next = _expect("dh_next", dh_next, "NH", sizes)
    return dh_next, (x_t, h_prev, Wx, Wh, h_next)


def _check_sequence_cache(cache):
    """cache = (x, h0, Wx, Wh, h) with x (N, T, D), h0 (N, H), h (N, T, H)."""
    if not isinstance(cache, tuple) or len(cache) != 5:
        raise TypeError("cache must be the sequence cache (x, h0, Wx, Wh, h) from rnn_forward")
    sizes = {}
    out = (
        _expect("cache x", cache[0], "NTD", sizes),
        _expect("cache h0", cache[1], "NH", sizes),
        _expect("cache Wx", cache[2], "DH", sizes),
        _expect("cache Wh", cache[3], "HH", sizes),
        _expect("cache h", cache[4], "NTH", sizes),
    )
    _check_nonempty(sizes, "NTH")
    return out, sizes


def _check_cache(cache):
    """The sequence cache (x, h0, Wx, Wh, h), checked."""
    return _check_sequence_cache(cache)[0]


def _check_backward(dh, cache):
    """dh (N, T, H) matching the sequence cache."""
    cache, sizes = _check_sequence_cache(cache)
    dh = _expect("dh", dh, "NTH", sizes)
    return dh, cache


def _check_truncation(dh, cache, k):
    """As _check_backward, plus a whole number k >= 1."""
    dh, cache = _check_backward(dh, cache)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be a whole number of steps; got {k!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1 (k steps of backpropagation); got k = {k}")
    return dh, cache, int(k)


def _check_last_gradient(dh_last, cache):
    """dh_last (N, H) matching the sequence cache."""
    cache, sizes = _check_sequence_cache(cache)
    dh_last = _expect("dh_last", dh_last, "NH", sizes)
    return dh_last, cache


def _check_square(W, rho):
    """W (H, H) and a finite rho >= 0."""
    W = _as_float_array("W", W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix (H, H); got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W must contain only finite numbers")
    if not isinstance(rho, numbers.Real) or not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite number >= 0 (a spectral radius); got {rho!r}")
    return W, float(rho)


def _check_grads(grads, max_norm):
    """A dict of name -> array and a finite max_norm > 0."""
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of name -> array; got {type(grads).__name__}")
    if not isinstance(max_norm, numbers.Real) or not np.isfinite(max_norm) or max_norm <= 0:
        raise ValueError(f"max_norm must be a finite number > 0; got {max_norm!r}")
    return {name: _as_float_array(f"grads[{name!r}]", g) for name, g in grads.items()}, float(max_norm)


def _check_scores(scores, y):
    """scores (N, T, V) and integer targets y (N, T) with 0 <= y < V."""
    sizes = {}
    scores = _expect("scores", scores, "NTV", sizes)
    _check_nonempty(sizes, "NTV")
    y = np.asarray(y)
    if y.shape != scores.shape[:2]:
        raise ValueError(f"y must have shape (N, T) = {scores.shape[:2]}; got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class indices; got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= sizes["V"]):
        raise ValueError(f"y must hold class indices in [0, V) = [0, {sizes['V']}); got values from {y.min()} to {y.max()}")
    return scores, y


def _check_gradient_args(f, h):
    """f callable, h a finite step > 0."""
    if not callable(f):
        raise TypeError(f"f must be a function of one array; got {type(f).__name__}")
    if not isinstance(h, numbers.Real) or not np.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a finite step size > 0; got {h!r}")
