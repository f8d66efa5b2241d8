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

    shape_letters: a string of one-letter sizes ("NTD"), or a tuple of them
      where "4H" means four times H (the LSTM's gate blocks);
    sizes: dict letter -> size fixed so far; updated in place with new letters.
    """
    a = _as_float_array(name, a)
    want = "(" + ", ".join(shape_letters) + ("," if len(shape_letters) == 1 else "") + ")"
    if a.ndim != len(shape_letters):
        raise ValueError(f"{name} must have shape {want}; got an array of shape {a.shape}")
    for token, size in zip(shape_letters, a.shape):
        factor, letter = (int(token[:-1]), token[-1]) if len(token) > 1 else (1, token)
        if size % factor:
            raise ValueError(f"{name} must have shape {want}: its size {size} is not a multiple of {factor}; "
                             f"got shape {a.shape}")
        if letter in sizes and sizes[letter] * factor != size:
            raise ValueError(f"{name} must have shape {want} with {letter} = {sizes[letter]}; got shape {a.shape}")
        sizes[letter] = size // factor
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


def _check_lstm_step(x_t, h_prev, c_prev, Wx, Wh, b):
    """x_t (N, D), h_prev (N, H), c_prev (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)."""
    sizes = {}
    out = (
        _expect("h_prev", h_prev, "NH", sizes),
        _expect("x_t", x_t, "ND", sizes),
        _expect("c_prev", c_prev, "NH", sizes),
        _expect("Wx", Wx, ("D", "4H"), sizes),
        _expect("Wh", Wh, ("H", "4H"), sizes),
        _expect("b", b, ("4H",), sizes),
    )
    _check_nonempty(sizes, "NH")
    return (out[1], out[0]) + out[2:]


def _check_lstm_sequence(x, h0, c0, Wx, Wh, b):
    """x (N, T, D), h0 (N, H), c0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)."""
    sizes = {}
    out = (
        _expect("h0", h0, "NH", sizes),
        _expect("x", x, "NTD", sizes),
        _expect("c0", c0, "NH", sizes),
        _expect("Wx", Wx, ("D", "4H"), sizes),
        _expect("Wh", Wh, ("H", "4H"), sizes),
        _expect("b", b, ("4H",), sizes),
    )
    _check_nonempty(sizes, "NTH")
    return (out[1], out[0]) + out[2:]


def _check_lstm_step_cache(dh_next, dc_next, cache):
    """dh_next (N, H), dc_next (N, H); cache = (x_t, h_prev, c_prev, Wx, Wh, gates, c_next)."""
    if not isinstance(cache, tuple) or len(cache) != 7:
        raise TypeError("cache must be the step cache (x_t, h_prev, c_prev, Wx, Wh, gates, c_next) "
                        "from lstm_step_forward")
    sizes = {}
    h_prev = _expect("cache h_prev", cache[1], "NH", sizes)
    cache = (
        _expect("cache x_t", cache[0], "ND", sizes), h_prev,
        _expect("cache c_prev", cache[2], "NH", sizes),
        _expect("cache Wx", cache[3], ("D", "4H"), sizes),
        _expect("cache Wh", cache[4], ("H", "4H"), sizes),
        _expect("cache gates", cache[5], ("N", "4H"), sizes),
        _expect("cache c_next", cache[6], "NH", sizes),
    )
    return _expect("dh_next", dh_next, "NH", sizes), _expect("dc_next", dc_next, "NH", sizes), cache


def _check_lstm_backward(dh, cache):
    """dh (N, T, H) matching the LSTM sequence cache (x, h0, c0, Wx, Wh, gates, c, h)."""
    if not isinstance(cache, tuple) or len(cache) != 8:
        raise TypeError("cache must be the sequence cache (x, h0, c0, Wx, Wh, gates, c, h) from lstm_forward")
    sizes = {}
    h0 = _expect("cache h0", cache[1], "NH", sizes)
    cache = (
        _expect("cache x", cache[0], "NTD", sizes), h0,
        _expect("cache c0", cache[2], "NH", sizes),
        _expect("cache Wx", cache[3], ("D", "4H"), sizes),
        _expect("cache Wh", cache[4], ("H", "4H"), sizes),
        _expect("cache gates", cache[5], ("N", "T", "4H"), sizes),
        _expect("cache c", cache[6], "NTH", sizes),
        _expect("cache h", cache[7], "NTH", sizes),
    )
    _check_nonempty(sizes, "NTH")
    return _expect("dh", dh, "NTH", sizes), cache


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


def _check_weighted(dh, cache, xi):
    """As _check_backward, plus xi (T,) of finite numbers."""
    dh, cache = _check_backward(dh, cache)
    xi = _expect("xi", xi, "T", {"T": dh.shape[1]})
    if not np.all(np.isfinite(xi)):
        raise ValueError("xi must contain only finite numbers (the weights of the backward links)")
    return dh, cache, xi


def _check_checkpointed(dh, x, h0, Wx, Wh, b, every):
    """dh (N, T, H) and the inputs of rnn_forward, plus a whole number every >= 1."""
    x, h0, Wx, Wh, b = _check_sequence(x, h0, Wx, Wh, b)
    N, T, _ = x.shape
    dh = _expect("dh", dh, "NTH", {"N": N, "T": T, "H": h0.shape[1]})
    if isinstance(every, bool) or not isinstance(every, numbers.Integral):
        raise TypeError(f"every must be a whole number of steps; got {every!r}")
    if every < 1:
        raise ValueError(f"every must be at least 1 (a checkpoint every `every` steps); got every = {every}")
    return dh, x, h0, Wx, Wh, b, int(every)


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


def _check_affine(h, Wy, by):
    """h (N, T, H), Wy (H, V), by (V,)."""
    sizes = {}
    out = (_expect("h", h, "NTH", sizes), _expect("Wy", Wy, "HV", sizes), _expect("by", by, "V", sizes))
    _check_nonempty(sizes, "NTHV")
    return out


def _check_affine_cache(dscores, cache):
    """dscores (N, T, V); cache = (h, Wy) with h (N, T, H), Wy (H, V)."""
    if not isinstance(cache, tuple) or len(cache) != 2:
        raise TypeError("cache must be the tuple (h, Wy) from temporal_affine_forward")
    sizes = {}
    cache = (_expect("cache h", cache[0], "NTH", sizes), _expect("cache Wy", cache[1], "HV", sizes))
    return _expect("dscores", dscores, "NTV", sizes), cache


LM_PARAMS = {"Wx": "VH", "Wh": "HH", "b": "H", "Wy": "HV", "by": "V"}


def _check_ids(name, ids, shape, V):
    """An integer array of the given shape with values in [0, V)."""
    ids = np.asarray(ids)
    if ids.shape != shape:
        raise ValueError(f"{name} must have shape (N, T) = {shape}; got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name} must hold integer ids; got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name} must hold ids in [0, V) = [0, {V}); got values from {ids.min()} to {ids.max()}")
    return ids


def _check_lm(params, x_ids, y_ids, h0):
    """params {Wx (V, H), Wh (H, H), b (H,), Wy (H, V), by (V,)}, x_ids and y_ids (N, T) ids, h0 (N, H)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {', '.join(LM_PARAMS)}; got {type(params).__name__}")
    if set(params) != set(LM_PARAMS):
        raise ValueError(f"params must have exactly the keys {', '.join(LM_PARAMS)}; got {', '.join(map(str, params))}")
    sizes = {}
    checked = {name: _expect(f"params[{name!r}]", params[name], letters, sizes) for name, letters in LM_PARAMS.items()}
    h0 = _expect("h0", h0, "NH", sizes)
    _check_nonempty(sizes, "NHV")
    x_ids = np.asarray(x_ids)
    if x_ids.ndim != 2 or x_ids.shape[0] != sizes["N"] or x_ids.shape[1] < 1:
        raise ValueError(f"x_ids must have shape (N, T) with N = {sizes['N']} and T >= 1; got shape {x_ids.shape}")
    x_ids = _check_ids("x_ids", x_ids, x_ids.shape, sizes["V"])
    y_ids = _check_ids("y_ids", y_ids, x_ids.shape, sizes["V"])
    return checked, x_ids, y_ids, h0
