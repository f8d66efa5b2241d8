"""The reference against an independent oracle: PyTorch autograd (CPU, float64).

Legend: N batch, T time steps, D input size, H hidden size, k truncation length.
torch.nn.RNN computes h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), so
W_ih = Wx.T (H, D), W_hh = Wh.T (H, H), b_ih = b and b_hh = 0. Gradients are
those of L = sum(dh * h). The truncated schemes are written in torch with
.detach() at their cut points. torch.nn.LSTM uses the contract's gate order
i, f, g, o, so W_ih = Wx.T (4H, D), W_hh = Wh.T (4H, H), b_ih = b, b_hh = 0.
torch is the `oracle` extra: on Python 3.11 these tests fail without it (CI
installs it); on 3.12 and 3.13, where no torch wheel is installed, they skip
and say why (tests/oracle.py).
"""
import numpy as np
import pytest

import solutions
from oracle import require_torch

TOL = 1e-10                              # absolute, on values of order 1


@pytest.fixture(scope="module")
def oracle():
    torch = require_torch()
    torch.set_num_threads(1)
    return torch


def as_leaves(torch, *arrays):
    """float64 torch leaves that require grad, copies of the numpy arrays."""
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def torch_rnn(torch, Wx, Wh, b):
    """torch.nn.RNN (tanh, batch_first, bias) holding the reference's weights."""
    D, H = Wx.shape
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True, bias=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(Wx.T.copy()))
        rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.T.copy()))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    return rnn


def assert_close(name, ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape}, torch has {theirs.shape}"
    err = np.max(np.abs(ours - theirs))
    assert err <= TOL, f"{name}: max absolute difference from torch {err:.2e}"


def assert_grads_match_torch(ours, leaves, names=("dx", "dh0", "dWx", "dWh", "db")):
    for name, g, leaf in zip(names, ours, leaves):
        assert leaf.grad is not None, f"{name}: torch computed no gradient"
        assert_close(name, g, leaf.grad)


def test_rnn_forward_and_backward_match_torch_nn_rnn(oracle, regime, make_problem):
    torch = oracle
    p = make_problem(regime, seed=11)
    h, cache = solutions.rnn_forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    dx, dh0, dWx, dWh, db = solutions.rnn_backward(p.dh, cache)

    rnn = torch_rnn(torch, p.Wx, p.Wh, p.b)
    x_t, h0_t = as_leaves(torch, p.x, p.h0)
    h_t, h_last = rnn(x_t, h0_t[None])                  # h0 as (layers = 1, N, H)
    assert_close("h", h, h_t)
    assert_close("h[:, -1]", h[:, -1], h_last[0])
    (h_t * torch.from_numpy(p.dh)).sum().backward()
    assert_close("dx", dx, x_t.grad)
    assert_close("dh0", dh0, h0_t.grad)
    assert_close("dWx", dWx, rnn.weight_ih_l0.grad.T)
    assert_close("dWh", dWh, rnn.weight_hh_l0.grad.T)
    assert_close("db", db, rnn.bias_ih_l0.grad)
    assert_close("db (as b_hh)", db, rnn.bias_hh_l0.grad)   # b_hh enters a_t exactly like b


def test_rnn_step_forward_and_backward_match_torch(oracle, regime, make_problem):
    torch = oracle
    p = make_problem(regime, seed=12)
    x_t, h_prev, dh_next = p.x[:, 0], p.h0, p.dh[:, 0]
    h_next, cache = solutions.rnn_step_forward(x_t, h_prev, p.Wx, p.Wh, p.b)
    ours = solutions.rnn_step_backward(dh_next, cache)
    leaves = as_leaves(torch, x_t, h_prev, p.Wx, p.Wh, p.b)
    xs, hp, Wx, Wh, b = leaves
    out = torch.tanh(xs @ Wx + hp @ Wh + b)
    assert_close("h_next", h_next, out)
    (out * torch.from_numpy(dh_next)).sum().backward()
    assert_grads_match_torch(ours, leaves, names=("dx_t", "dh_prev", "dWx", "dWh", "db"))


def torch_step(torch, x_t, h_prev, Wx, Wh, b):
    return torch.tanh(x_t @ Wx + h_prev @ Wh + b)


def sliding_window_loss(torch, leaves, dh, k):
    """sum_t <dh_t, h_t>, h_t recomputed over its last k steps from a detached h_{t-k} (h0 itself at the start)."""
    x, h0, Wx, Wh, b = leaves
    T = x.shape[1]
    with torch.no_grad():                                 # the states every window starts from
        states, h_prev = [], h0
        for t in range(T):
            h_prev = torch_step(torch, x[:, t], h_prev, Wx, Wh, b)
            states.append(h_prev)
    total = 0.0
    for t in range(T):
        start = max(0, t - k + 1)
        h_prev = h0 if start == 0 else states[start - 1].detach()
        for s in range(start, t + 1):
            h_prev = torch_step(torch, x[:, s], h_prev, Wx, Wh, b)
        total = total + (dh[:, t] * h_prev).sum()
    return total


def chunked_loss(torch, leaves, dh, k):
    """sum_t <dh_t, h_t> of one forward pass whose carried state is detached every k steps."""
    x, h0, Wx, Wh, b = leaves
    T = x.shape[1]
    total, h_prev = 0.0, h0
    for t in range(T):
        if t % k == 0 and t > 0:
            h_prev = h_prev.detach()                      # chunk boundary: state carried, gradient cut
        h_prev = torch_step(torch, x[:, t], h_prev, Wx, Wh, b)
        total = total + (dh[:, t] * h_prev).sum()
    return total


@pytest.mark.parametrize("k_of_T", [lambda T: 1, lambda T: 2, lambda T: 3, lambda T: T, lambda T: T + 1],
                         ids=["k1", "k2", "k3", "kT", "kT+1"])
@pytest.mark.parametrize("scheme, torch_loss", [
    (solutions.rnn_backward_truncated, sliding_window_loss),
    (solutions.rnn_backward_chunked, chunked_loss),
], ids=["sliding", "chunked"])
def test_truncated_schemes_match_torch_with_detach(oracle, scheme, torch_loss, k_of_T, regime, make_problem):
    torch = oracle
    p = make_problem(regime, seed=13)
    k = k_of_T(regime.T)
    _, cache = solutions.rnn_forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    ours = scheme(p.dh, cache, k)
    leaves = as_leaves(torch, p.x, p.h0, p.Wx, p.Wh, p.b)
    torch_loss(torch, leaves, torch.from_numpy(p.dh), k).backward()
    assert_grads_match_torch(ours, leaves)


def test_temporal_softmax_loss_matches_torch_cross_entropy(oracle):
    torch = oracle
    rng = np.random.default_rng(14)
    N, T, V = 3, 5, 7
    scores = rng.standard_normal((N, T, V)) * 3
    y = rng.integers(0, V, size=(N, T))
    loss, dscores = solutions.temporal_softmax_loss(scores, y)
    s = torch.tensor(scores, requires_grad=True)
    # cross_entropy sums over all N*T positions; the contract averages over the batch only.
    ref = torch.nn.functional.cross_entropy(s.reshape(N * T, V), torch.from_numpy(y).reshape(-1),
                                            reduction="sum") / N
    ref.backward()
    assert abs(loss - ref.item()) <= TOL
    assert_close("dscores", dscores, s.grad)


# --- LSTM --------------------------------------------------------------------------------

def lstm_problem(regime, seed, weight_scale=1.0):
    """x (N, T, D), h0, c0 (N, H) non-zero, Wx (D, 4H), Wh (H, 4H), b (4H,), dh (N, T, H), dc (N, H).

    weight_scale 1 keeps the gates between saturation and linearity; 10 saturates most of them.
    """
    N, T, D, H = regime
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((N, T, D)), "h0": 0.5 * rng.standard_normal((N, H)),
            "c0": rng.standard_normal((N, H)),
            "Wx": weight_scale * rng.standard_normal((D, 4 * H)) / np.sqrt(D),
            "Wh": weight_scale * rng.standard_normal((H, 4 * H)) / np.sqrt(H),
            "b": weight_scale * 0.3 * rng.standard_normal(4 * H),
            "dh": rng.standard_normal((N, T, H)), "dc": rng.standard_normal((N, H))}


def torch_lstm(torch, Wx, Wh, b, cell=False):
    """torch.nn.LSTM (batch_first) or torch.nn.LSTMCell holding the reference's weights."""
    D, H = Wx.shape[0], Wh.shape[0]
    module = (torch.nn.LSTMCell(D, H) if cell else torch.nn.LSTM(D, H, batch_first=True)).double()
    suffix = "" if cell else "_l0"
    with torch.no_grad():
        getattr(module, "weight_ih" + suffix).copy_(torch.from_numpy(Wx.T.copy()))
        getattr(module, "weight_hh" + suffix).copy_(torch.from_numpy(Wh.T.copy()))
        getattr(module, "bias_ih" + suffix).copy_(torch.from_numpy(b))
        getattr(module, "bias_hh" + suffix).zero_()
    return module, suffix


@pytest.mark.parametrize("weight_scale", [1.0, 10.0], ids=["moderate", "saturated"])
def test_lstm_forward_and_backward_match_torch_nn_lstm(oracle, regime, weight_scale):
    torch = oracle
    p = lstm_problem(regime, seed=21, weight_scale=weight_scale)
    h, cache = solutions.lstm_forward(p["x"], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    dx, dh0, dc0, dWx, dWh, db = solutions.lstm_backward(p["dh"], cache)

    lstm, sfx = torch_lstm(torch, p["Wx"], p["Wh"], p["b"])
    x_t, h0_t, c0_t = as_leaves(torch, p["x"], p["h0"], p["c0"])
    h_t, (h_last, c_last) = lstm(x_t, (h0_t[None], c0_t[None]))       # states as (layers = 1, N, H)
    assert_close("h", h, h_t)
    assert_close("c[:, -1]", cache[6][:, -1], c_last[0])
    (h_t * torch.from_numpy(p["dh"])).sum().backward()
    assert_close("dx", dx, x_t.grad)
    assert_close("dh0", dh0, h0_t.grad)
    assert_close("dc0", dc0, c0_t.grad)
    assert_close("dWx", dWx, getattr(lstm, "weight_ih" + sfx).grad.T)
    assert_close("dWh", dWh, getattr(lstm, "weight_hh" + sfx).grad.T)
    assert_close("db", db, getattr(lstm, "bias_ih" + sfx).grad)
    assert_close("db (as b_hh)", db, getattr(lstm, "bias_hh" + sfx).grad)


@pytest.mark.parametrize("weight_scale", [1.0, 10.0], ids=["moderate", "saturated"])
def test_lstm_step_matches_torch_lstm_cell_with_a_cell_gradient(oracle, regime, weight_scale):
    """One step, loss sum(dh * h_next) + sum(dc * c_next): dc_next != 0, as inside a sequence."""
    torch = oracle
    p = lstm_problem(regime, seed=22, weight_scale=weight_scale)
    x_t, dh_next = p["x"][:, 0], p["dh"][:, 0]
    h_next, c_next, cache = solutions.lstm_step_forward(x_t, p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    dx_t, dh_prev, dc_prev, dWx, dWh, db = solutions.lstm_step_backward(dh_next, p["dc"], cache)

    cell, _ = torch_lstm(torch, p["Wx"], p["Wh"], p["b"], cell=True)
    xs, hp, cp = as_leaves(torch, x_t, p["h0"], p["c0"])
    h1, c1 = cell(xs, (hp, cp))
    assert_close("h_next", h_next, h1)
    assert_close("c_next", c_next, c1)
    ((h1 * torch.from_numpy(dh_next)).sum() + (c1 * torch.from_numpy(p["dc"])).sum()).backward()
    for name, ours, theirs in (("dx_t", dx_t, xs.grad), ("dh_prev", dh_prev, hp.grad), ("dc_prev", dc_prev, cp.grad),
                               ("dWx", dWx, cell.weight_ih.grad.T), ("dWh", dWh, cell.weight_hh.grad.T),
                               ("db", db, cell.bias_ih.grad)):
        assert_close(name, ours, theirs)
