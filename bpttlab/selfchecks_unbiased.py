"""Visible self-checks for notebook 03, part two: rnn_backward_weighted and rnn_backward_checkpointed.

Legend: N batch size, T time steps, D input size, H hidden size; xi (T,) the
weights of the backward links; every, the spacing of the checkpoints.

They never compare with a reference implementation. The weighted backward
pass is gradient-checked with the student's numerical_gradient on a "scaled
graph": a forward pass in which h_{t-1} enters step t as
c + xi[t] * (h_{t-1} - c), c being the same state held constant; its value is
that of the RNN, and its exact gradient is BPTT with every link scaled by
xi[t]. Checkpointing must give the provided rnn_backward's gradients for
every spacing, and must keep far fewer bytes alive than the T states (tracemalloc).
"""
import numpy as np

from .checking import expect_close, passed
from .checkpoint_lab import peak_bytes
from .gradcheck_tools import check_gradient
from .selfchecks_truncation import ARGS, NAMES, _expect_outputs, _expect_untouched, _snapshot
from .truncation_lab import random_problem


def scaled_graph_loss(rnn_step_forward, x, h0, Wx, Wh, b, dh, h_const, xi):
    """sum_t sum(dh[:, t] * h_t) for the RNN whose step t reads c + xi[t] * (h_{t-1} - c).

    Inputs:
    - rnn_step_forward: (x_t, h_prev, Wx, Wh, b) -> (h_next, cache)
    - x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,), dh (N, T, H), xi (T,)
    - h_const: array of shape (N, T + 1, H), the states h_{-1} = h0, h_0, ..., h_{T-1}
      of an earlier forward pass, used as the constants c (no gradient flows into them)

    Returns a float. At the point where h_const was computed its gradient
    with respect to x, h0, Wx, Wh, b is BPTT with link t scaled by xi[t].
    """
    total, h_prev = 0.0, h0
    for t in range(x.shape[1]):
        c = h_const[:, t]
        h_prev, _ = rnn_step_forward(x[:, t], c + xi[t] * (h_prev - c), Wx, Wh, b)
        total += float(np.sum(dh[:, t] * h_prev))
    return total


def _problem(T, seed):
    return random_problem(N=2, T=T, D=3, H=4, seed=seed)      # D != H: a missing transpose cannot hide


def check_rnn_backward_weighted(rnn_backward_weighted, rnn_step_forward, rnn_forward, rnn_backward,
                                numerical_gradient):
    """Self-check of BPTT with weighted links (raises AssertionError with a hint on failure)."""
    fn_name = "rnn_backward_weighted"
    T = 6
    p = _problem(T, seed=4)
    x, h0, Wx, Wh, b, dh = (p[n] for n in ("x", "h0", "Wx", "Wh", "b", "dh"))
    N, _, D = x.shape
    H = h0.shape[1]
    shapes = [(N, T, D), (N, H), (D, H), (H, H), (H,)]
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    xi = np.array([0.5, 2.0, 0.0, 1.0, -0.7, 1.5])             # xi[0] = 0.5: dh0 crosses a weighted link too
    before = _snapshot(dict(p, xi=xi))
    got = rnn_backward_weighted(dh, cache, xi)
    _expect_untouched(dict(p, xi=xi), before, fn_name)
    _expect_outputs(fn_name, got, shapes)

    for name, g, want in zip(NAMES, rnn_backward_weighted(dh, cache, np.ones(T)), rnn_backward(dh, cache)):
        expect_close(f"{fn_name} with every xi[t] = 1 should equal rnn_backward; {name}", g, want, 1e-8)
    cut = rnn_backward_weighted(dh, cache, np.zeros(T))
    expect_close(f"{fn_name} with every xi[t] = 0: no gradient crosses any link, so dh0", cut[1], np.zeros((N, H)))
    for name, g, want in zip(("dx", "db"), (cut[0], cut[4]),
                             (((dh * (1 - h ** 2)) @ Wx.T), (dh * (1 - h ** 2)).sum(axis=(0, 1)))):
        expect_close(f"{fn_name} with every xi[t] = 0: each step keeps its own output's gradient only; {name}",
                     g, want, 1e-8)

    h_const = np.concatenate([h0[:, None], h], axis=1)
    for arg, name, g in zip(ARGS, NAMES, got):
        def f(value, arg=arg):
            vals = {a: (value if a == arg else p[a]) for a in ARGS}
            return scaled_graph_loss(rnn_step_forward, *(vals[a] for a in ARGS), dh, h_const, xi)
        check_gradient(f"{fn_name} with xi = {xi.tolist()}: {name}", f, p[arg], g, numerical_gradient)
    passed(f"{fn_name}: shapes, arguments untouched, xi = 1 gives full BPTT, xi = 0 cuts every link, "
           "and xi = [0.5, 2, 0, 1, -0.7, 1.5] matches numerical gradients of the scaled graph")


def check_rnn_backward_checkpointed(rnn_backward_checkpointed, rnn_forward, rnn_backward):
    """Self-check of checkpointed BPTT (raises AssertionError with a hint on failure).

    Exactness: every spacing (1, T not divisible by every, every = T, every > T)
    gives rnn_backward's gradients. Memory: on T = 1000 steps, every = 32 must
    not have more than half the bytes of the T hidden states alive at once
    (measured with tracemalloc).
    """
    fn_name = "rnn_backward_checkpointed"
    T = 7
    p = _problem(T, seed=5)
    args = tuple(p[a] for a in ARGS)
    N, _, D = p["x"].shape
    H = p["h0"].shape[1]
    shapes = [(N, T, D), (N, H), (D, H), (H, H), (H,)]
    _, cache = rnn_forward(*args)
    full = rnn_backward(p["dh"], cache)
    for every in (1, 2, 3, T, T + 5):
        before = _snapshot(p)
        got = rnn_backward_checkpointed(p["dh"], *args, every)
        _expect_untouched(p, before, fn_name)
        _expect_outputs(fn_name, got, shapes)
        for name, g, want in zip(NAMES, got, full):
            expect_close(f"{fn_name}(..., every={every}) with T = {T} should equal rnn_backward exactly; {name}",
                         g, want, 1e-8)

    big = random_problem(N=4, T=1000, D=2, H=64, seed=6)
    all_states = big["dh"].nbytes                         # T states of N x H floats: what full BPTT keeps
    _, peak = peak_bytes(rnn_backward_checkpointed, big["dh"], *(big[a] for a in ARGS), 32)
    if not peak <= 0.5 * all_states:
        raise AssertionError(f"{fn_name} with T = 1000, every = 32 had {peak / 1e6:.2f} MB alive at its peak, "
                             f"while keeping all T hidden states takes {all_states / 1e6:.2f} MB: keep only the "
                             f"checkpoints from the forward pass, and recompute one segment at a time during the "
                             f"backward pass")
    passed(f"{fn_name}: exact for every = 1, 2, 3 (T = 7, a shorter last segment), T and T + 5; with T = 1000 "
           f"and every = 32 its peak memory is {peak / all_states:.0%} of what the T hidden states alone take")
