"""Shared fixtures for the reference-module tests.

Legend: N batch, T time steps, D input size, H hidden size.
Everything here is written independently of solutions/ (its own forward pass,
its own central differences), so that the tests can catch the reference.
"""
from typing import NamedTuple

import numpy as np
import pytest


class Regime(NamedTuple):
    """Sizes of one test problem."""
    N: int
    T: int
    D: int
    H: int


# The shape regimes where BPTT bugs hide (CONTRACT.md, NOTES.md "weak tests").
REGIMES = {
    "N3-T6-D4-H5": Regime(3, 6, 4, 5),     # D != H, N > 1, T >= 5
    "N2-T5-D4-H4": Regime(2, 5, 4, 4),     # D == H (a missing transpose is invisible here)
    "N2-T1-D3-H4": Regime(2, 1, 3, 4),     # T = 1
    "N1-T7-D3-H2": Regime(1, 7, 3, 2),     # N = 1, T = 7 (prime: no k > 1 below T divides it)
}


class Problem(NamedTuple):
    """x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,), dh (N, T, H): float64, h0 != 0."""
    x: np.ndarray
    h0: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray
    b: np.ndarray
    dh: np.ndarray


@pytest.fixture(params=list(REGIMES.values()), ids=list(REGIMES))
def regime(request):
    return request.param


def _make_problem(regime, seed=0):
    N, T, D, H = regime
    rng = np.random.default_rng(seed)
    return Problem(
        x=rng.standard_normal((N, T, D)),
        h0=rng.standard_normal((N, H)) * 0.5,                  # non-zero h0
        Wx=rng.standard_normal((D, H)) / np.sqrt(D),
        Wh=rng.standard_normal((H, H)) * (0.9 / np.sqrt(H)),
        b=rng.standard_normal(H) * 0.3,
        dh=rng.standard_normal((N, T, H)),                     # L = sum(dh * h)
    )


@pytest.fixture
def make_problem():
    """make_problem(regime, seed=0) -> Problem with float64 arrays drawn from default_rng(seed)."""
    return _make_problem


def _forward(x, h0, Wx, Wh, b):
    """The tanh RNN written out plainly: h (N, T, H) with h[:, t] = tanh(x_t Wx + h_{t-1} Wh + b)."""
    states = []
    h_prev = h0
    for t in range(x.shape[1]):
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)
        states.append(h_prev)
    return np.stack(states, axis=1)


@pytest.fixture
def forward():
    """forward(x, h0, Wx, Wh, b) -> h (N, T, H), written independently of solutions."""
    return _forward


def _central_differences(f, x, step=1e-5):
    """Gradient of the scalar function f at x (any shape), by central differences, x untouched."""
    x = np.array(x, dtype=np.float64)
    grad = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = step
        grad[i] = (f(x + e) - f(x - e)) / (2 * step)
    return grad


@pytest.fixture
def num_grad():
    """num_grad(f, x) -> central-difference gradient of f at x (independent of solutions)."""
    return _central_differences


def _rel_error(a, b):
    """max |a - b| / max(max |a|, max |b|): the largest error relative to the arrays' scale."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    if scale == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / scale)


@pytest.fixture
def rel_error():
    """rel_error(a, b): max |a - b| / max(max |a|, max |b|) (0 when both are 0)."""
    return _rel_error


def _naive_softmax_loss(scores, y):
    """-(1/N) sum_{n,t} log(exp(s_y) / sum_v exp(s_v)), straight from the definition (small scores only)."""
    e = np.exp(scores)
    p_target = np.take_along_axis(e, y[..., None], axis=2)[..., 0] / e.sum(axis=2)
    return -np.log(p_target).sum() / scores.shape[0]


@pytest.fixture
def naive_softmax_loss():
    """naive_softmax_loss(scores (N, T, V), y (N, T)) -> float, overflowing for large scores."""
    return _naive_softmax_loss


def pytest_configure(config):
    """Markers of this suite: `pytest -m browser` selects the real-browser tests (tests/test_browser.py)."""
    config.addinivalue_line("markers", "browser: drives JupyterLab in Chromium with Playwright (slow; needs "
                                       "`apt-get install chromium` and `pip install playwright`)")
