"""Visible self-checks for notebook 03: rnn_backward_truncated and rnn_backward_chunked.

Legend: N batch size, T time steps, D input size, H hidden size, k truncation length.

They never compare with a reference implementation. They check shapes, that
the arguments are left untouched, that k >= T gives full BPTT (the provided
rnn_backward), and they gradient-check the truncated gradient with
numerical_gradient on a "detached" loss: the loss of step t recomputed from a
*constant* hidden state at the start of its window, so that its exact gradient
is the truncated one.
"""
import numpy as np

from .checking import expect_close, expect_shape, passed, self_check
from .gradcheck_tools import check_gradient
from .truncation_lab import random_problem, window_starts

NAMES = ("dx", "dh0", "dWx", "dWh", "db")
ARGS = ("x", "h0", "Wx", "Wh", "b")


def detached_loss(rnn_forward, x, h0, Wx, Wh, b, dh, h_const, starts):
    """Sum over t of sum(dh[:, t] * h_t), each h_t recomputed from the start of its window.

    Inputs:
    - rnn_forward: (x, h0, Wx, Wh, b) -> (h, cache)
    - x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,), dh (N, T, H)
    - h_const: array of shape (N, T, H), hidden states of an earlier forward
      pass, used as constants (no gradient flows into them)
    - starts: int array of shape (T,), the first step of the window of each loss

    The window of loss t starts from h0 when starts[t] == 0, else from the
    constant h_const[:, starts[t] - 1]. Returns a float. Its gradient w.r.t.
    x, h0, Wx, Wh, b is exactly the truncated BPTT gradient with those windows.
    """
    total = 0.0
    for t, start in enumerate(starts):
        h_in = h0 if start == 0 else h_const[:, start - 1]
        h_win, _ = rnn_forward(x[:, start:t + 1], h_in, Wx, Wh, b)
        total += float(np.sum(dh[:, t] * h_win[:, -1]))
    return total


def detached_loss_of(rnn_forward, problem, starts, name):
    """The detached loss as a function of one argument (the others fixed), for a gradient check.

    problem: dict from truncation_lab.random_problem; starts (T,) as in
    detached_loss; name: one of "x", "h0", "Wx", "Wh", "b". Returns a function
    mapping an array shaped like problem[name] to a float.
    """
    p = problem
    h_const, _ = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])

    def f(value):
        vals = {a: (value if a == name else p[a]) for a in ARGS}
        return detached_loss(rnn_forward, *(vals[a] for a in ARGS), p["dh"], h_const, starts)
    return f


def _snapshot(problem):
    return {name: value.copy() for name, value in problem.items()}


def _expect_untouched(problem, before, fn_name):
    for name, value in before.items():
        if not np.array_equal(problem[name], value):
            raise AssertionError(f"{fn_name} changed its argument {name}: work on copies "
                                 f"(for example dh = dh.copy() or new arrays), never in place")


def _expect_outputs(fn_name, got, shapes):
    if not isinstance(got, tuple) or len(got) != 5:
        raise AssertionError(f"{fn_name} should return the tuple (dx, dh0, dWx, dWh, db); got {type(got).__name__}")
    for name, value, shape in zip(NAMES, got, shapes):
        expect_shape(f"{fn_name}: {name}", value, shape)


def _check_scheme(fn, fn_name, scheme, rnn_forward, rnn_backward, numerical_gradient, T, ks):
    p = random_problem(N=2, T=T, D=3, H=4, seed=3)    # D != H: a missing transpose cannot hide
    x, h0, Wx, Wh, b, dh = (p[n] for n in ("x", "h0", "Wx", "Wh", "b", "dh"))
    N, _, D = x.shape
    H = h0.shape[1]
    shapes = [(N, T, D), (N, H), (D, H), (H, H), (H,)]
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    full = rnn_backward(dh, cache)

    before = _snapshot(p)
    got = fn(dh, cache, 2)
    _expect_untouched(p, before, fn_name)
    _expect_outputs(fn_name, got, shapes)

    for k in (T, T + 3):                               # nothing to cut: full BPTT
        got = fn(dh, cache, k)
        _expect_outputs(fn_name, got, shapes)
        for name, g, want in zip(NAMES, got, full):
            expect_close(f"{fn_name}(dh, cache, k={k}) should equal rnn_backward when k >= T; {name}", g, want, 1e-8)

    for k in ks:
        starts = window_starts(T, k, scheme)
        got = fn(dh, cache, k)
        _expect_outputs(fn_name, got, shapes)
        for arg, name, g in zip(ARGS, NAMES, got):
            f = detached_loss_of(rnn_forward, p, starts, arg)
            check_gradient(f"{fn_name} with k = {k} (windows start at steps {starts.tolist()}): {name}",
                           f, p[arg], g, numerical_gradient)


@self_check
def check_rnn_backward_truncated(rnn_backward_truncated, rnn_forward, rnn_backward, numerical_gradient):
    """Self-check of the sliding-window TBPTT (raises AssertionError with a hint on failure)."""
    _check_scheme(rnn_backward_truncated, "rnn_backward_truncated", "sliding", rnn_forward, rnn_backward,
                  numerical_gradient, T=6, ks=(1, 2, 4))
    passed("rnn_backward_truncated: shapes, arguments untouched, k >= T gives full BPTT, "
           "and k = 1, 2, 4 match numerical gradients of the windowed loss")


@self_check
def check_rnn_backward_chunked(rnn_backward_chunked, rnn_forward, rnn_backward, numerical_gradient):
    """Self-check of the chunked TBPTT (raises AssertionError with a hint on failure)."""
    _check_scheme(rnn_backward_chunked, "rnn_backward_chunked", "chunked", rnn_forward, rnn_backward,
                  numerical_gradient, T=7, ks=(1, 2, 3))
    passed("rnn_backward_chunked: shapes, arguments untouched, k >= T gives full BPTT, "
           "and k = 1, 2, 3 (a shorter last chunk) match numerical gradients of the chunked loss")
