"""Visible self-checks for notebook 04: step_jacobians, gradient_norms_through_time,
scale_to_spectral_radius, clip_grad_norm.

Legend: N batch size, T time steps, D input size, H hidden size.

They never compare with a reference implementation: shapes, untouched
arguments, small cases worked out by hand, and derivatives checked with
numerical_gradient (by finite differences of rnn_forward).
"""
import numpy as np

from .checking import expect_close, expect_shape, passed, self_check
from .gradcheck_tools import check_gradient
from .truncation_lab import random_problem


def _problem(rnn_forward, T=5, seed=4):
    """A small RNN (N = 2, D = 3, H = 4: D != H) and its forward pass: (problem dict, h, cache)."""
    p = random_problem(N=2, T=T, D=3, H=4, weight_scale=1.2, seed=seed)
    h, cache = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    return p, h, cache


def _copies(cache):
    return [np.array(a, copy=True) for a in cache]


def _expect_cache_untouched(cache, before, fn_name):
    for name, a, b in zip(("x", "h0", "Wx", "Wh", "h"), cache, before):
        if not np.array_equal(a, b):
            raise AssertionError(f"{fn_name} changed cache entry {name}: never modify the arguments")


@self_check
def check_step_jacobians(step_jacobians, rnn_forward, numerical_gradient):
    """Self-check: J[n, t][i, j] = d h_t[i] / d h_{t-1}[j], by finite differences of one forward step."""
    p, h, cache = _problem(rnn_forward)
    N, T, H = h.shape
    before = _copies(cache)
    J = step_jacobians(cache)
    _expect_cache_untouched(cache, before, "step_jacobians")
    expect_shape("step_jacobians(cache)", J, (N, T, H, H))
    for t in (0, 2, T - 1):                    # t = 0 starts from h0: h[:, -1] would be the last state
        h_prev = p["h0"] if t == 0 else h[:, t - 1]
        for n in range(N):
            for i in range(H):
                def h_t_i(h_prev_n, n=n, i=i, t=t, h_prev=h_prev):
                    hp = h_prev.copy()
                    hp[n] = h_prev_n
                    out, _ = rnn_forward(p["x"][:, t:t + 1], hp, p["Wx"], p["Wh"], p["b"])
                    return float(out[n, 0, i])
                check_gradient(f"row i = {i} of J[n = {n}, t = {t}] (d h_t[i] / d h_(t-1)[j] for every j)",
                               h_t_i, h_prev[n], J[n, t, i], numerical_gradient)
    passed("step_jacobians: shape (N, T, H, H), cache untouched, rows match finite differences at t = 0, 2, T-1")


@self_check
def check_gradient_norms_through_time(gradient_norms_through_time, rnn_forward, numerical_gradient):
    """Self-check: norms[s] = ||dL/dh_s|| for L = sum(dh_last * h_{T-1}), by finite differences."""
    p, h, cache = _problem(rnn_forward, T=6)
    N, T, H = h.shape
    dh_last = np.random.default_rng(5).standard_normal((N, H))
    dh_before = dh_last.copy()
    before = _copies(cache)
    norms = gradient_norms_through_time(dh_last, cache)
    if not np.array_equal(dh_last, dh_before):
        raise AssertionError("gradient_norms_through_time changed dh_last in place: work on new arrays")
    _expect_cache_untouched(cache, before, "gradient_norms_through_time")
    expect_shape("gradient_norms_through_time(dh_last, cache)", norms, (T,))
    expect_close("norms[T-1] should be ||dh_last|| (the Frobenius norm over the whole batch)",
                 norms[T - 1], np.linalg.norm(dh_last), 1e-10)
    for s in range(T - 1):
        def loss(h_s, s=s):                    # L as a function of h_s: run the steps s+1 .. T-1
            out, _ = rnn_forward(p["x"][:, s + 1:], h_s, p["Wx"], p["Wh"], p["b"])
            return float(np.sum(dh_last * out[:, -1]))
        grad = numerical_gradient(loss, h[:, s].copy())
        expect_close(f"norms[{s}] should be ||dL/dh_{s}|| (numerical: {np.linalg.norm(grad):.6g}); "
                     f"got {norms[s]:.6g}", norms[s], np.linalg.norm(grad), 1e-6)
    zero = (p["x"], p["h0"], p["Wx"], np.zeros((H, H)), h)
    expect_close("with Wh = 0 no gradient reaches earlier steps: norms[:T-1] should be 0",
                 gradient_norms_through_time(dh_last, zero)[:-1], np.zeros(T - 1), 1e-6)
    passed("gradient_norms_through_time: shape (T,), norms[T-1] = ||dh_last||, every norms[s] matches "
           "finite differences, and Wh = 0 gives zeros")


@self_check
def check_scale_to_spectral_radius(scale_to_spectral_radius):
    """Self-check: hand cases, a matrix whose largest singular value is not its spectral radius, errors."""
    D = np.diag([2.0, -4.0])
    D_before = D.copy()
    got = scale_to_spectral_radius(D, 1.0)
    if not np.array_equal(D, D_before):
        raise AssertionError("scale_to_spectral_radius changed W in place: return a new array")
    expect_shape("scale_to_spectral_radius(diag(2, -4), 1)", got, (2, 2))
    expect_close("scale_to_spectral_radius(diag(2, -4), 1) should be diag(0.5, -1)", got, np.diag([0.5, -1.0]), 1e-12)
    # eigenvalues 1 and 1 (radius 1) but largest singular value ~ 3.2: a norm is not the radius
    S = np.array([[1.0, 3.0], [0.0, 1.0]])
    expect_close("scale_to_spectral_radius([[1, 3], [0, 1]], 0.5) should be half of it "
                 "(its eigenvalues are 1 and 1; its largest singular value is 3.30, not the radius)",
                 scale_to_spectral_radius(S, 0.5), 0.5 * S, 1e-12)
    R = np.array([[0.0, -2.0], [2.0, 0.0]])   # rotation times 2: eigenvalues +-2i, modulus 2
    expect_close("scale_to_spectral_radius([[0, -2], [2, 0]], 1) (complex eigenvalues +-2i: use their modulus)",
                 scale_to_spectral_radius(R, 1.0), R / 2, 1e-12)
    for bad, what in ((np.zeros((3, 3)), "the zero matrix"), (np.array([[0.0, 1.0], [0.0, 0.0]]), "[[0, 1], [0, 0]]")):
        try:
            scale_to_spectral_radius(bad, 1.0)
        except ValueError:
            continue
        raise AssertionError(f"scale_to_spectral_radius({what}, 1) should raise ValueError: its spectral "
                             "radius is 0, so no rescaling gives radius 1")
    passed("scale_to_spectral_radius: hand cases, a non-normal matrix, complex eigenvalues, ValueError at radius 0")


@self_check
def check_clip_grad_norm(clip_grad_norm):
    """Self-check: the 3-4-5 case by hand, no clipping below the threshold, zeros, untouched input."""
    grads = {"dW": np.array([[3.0]]), "db": np.array([4.0])}
    before = {k: v.copy() for k, v in grads.items()}
    result = clip_grad_norm(grads, 1.0)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError("clip_grad_norm should return the tuple (clipped, total_norm)")
    clipped, total = result
    for k in grads:
        if not np.array_equal(grads[k], before[k]):
            raise AssertionError("clip_grad_norm changed the input arrays: build new ones")
    if not isinstance(clipped, dict) or clipped is grads or set(clipped) != set(grads):
        raise AssertionError("clipped should be a new dict with the same keys as grads")
    expect_close("total_norm of {dW: [[3]], db: [4]} should be 5 (all arrays together)", total, 5.0, 1e-12)
    expect_shape("clipped['dW']", clipped["dW"], (1, 1))
    expect_close("clipped at 1: dW should be 3/5", clipped["dW"], np.array([[0.6]]), 1e-12)
    expect_close("clipped at 1: db should be 4/5", clipped["db"], np.array([0.8]), 1e-12)
    big, total = clip_grad_norm(grads, 10.0)
    expect_close("below the threshold nothing changes: dW", big["dW"], grads["dW"], 1e-12)
    if any(big[k] is grads[k] for k in grads):
        raise AssertionError("even without clipping, return new arrays (not the input arrays themselves)")
    zeros, total = clip_grad_norm({"a": np.zeros((2, 3))}, 1.0)
    expect_close("all-zero gradients: total_norm should be 0", total, 0.0, 1e-6)
    expect_close("all-zero gradients stay zero", zeros["a"], np.zeros((2, 3)), 1e-6)
    passed("clip_grad_norm: 3-4-5 by hand, no change below the threshold, zeros, new dict and arrays")
