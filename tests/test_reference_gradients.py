"""Every gradient of the reference against central differences, in float64.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary, k truncation.
The loss is a random linear functional of the outputs, L = sum(dh * h). The
truncated schemes are checked against the numerical gradient of an objective
written here, independently: each loss recomputed from a frozen (constant)
state, so that no gradient can flow past the cut.
"""
import numpy as np
import pytest

import solutions

TOL = 1e-7           # max relative error, float64 central differences with step 1e-5
PARAMS = ("x", "h0", "Wx", "Wh", "b")
# Truncation lengths as functions of T: k = 1, k = 2 and 3 (T = 5 and 7 are not
# multiples), k = T, k > T.
K_CHOICES = {"k1": lambda T: 1, "k2": lambda T: 2, "k3": lambda T: 3, "kT": lambda T: T, "kT+2": lambda T: T + 2}


def numerical_param_grads(objective, params, num_grad):
    """Central-difference gradients of objective(x, h0, Wx, Wh, b) w.r.t. each of the five arrays."""
    grads = []
    for i in range(len(params)):
        def f_i(v, i=i):
            args = list(params)
            args[i] = v
            return objective(*args)
        grads.append(num_grad(f_i, params[i]))
    return grads


def assert_grads_close(analytic, numeric, rel_error, names=PARAMS):
    assert len(analytic) == len(numeric) == len(names)
    for name, a, n in zip(names, analytic, numeric):
        assert a.shape == n.shape, f"d{name}: shape {a.shape}, expected {n.shape}"
        err = rel_error(a, n)
        assert err < TOL, f"d{name}: relative error {err:.2e} against central differences"


def tanh_step(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx + h_prev @ Wh + b)


def test_rnn_step_backward(regime, make_problem, num_grad, rel_error):
    p = make_problem(regime, seed=1)
    t = regime.T - 1
    x_t, h_prev = p.x[:, t], p.h0            # a step from a non-zero state
    dh_next = p.dh[:, t]
    h_next = tanh_step(x_t, h_prev, p.Wx, p.Wh, p.b)
    analytic = solutions.rnn_step_backward(dh_next, (x_t, h_prev, p.Wx, p.Wh, h_next))

    def loss(x_t, h_prev, Wx, Wh, b):
        return np.sum(dh_next * tanh_step(x_t, h_prev, Wx, Wh, b))

    numeric = numerical_param_grads(loss, [x_t, h_prev, p.Wx, p.Wh, p.b], num_grad)
    assert_grads_close(analytic, numeric, rel_error, names=("x_t", "h_prev", "Wx", "Wh", "b"))


def test_rnn_backward(regime, make_problem, forward, num_grad, rel_error):
    p = make_problem(regime, seed=2)
    h = forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    analytic = solutions.rnn_backward(p.dh, (p.x, p.h0, p.Wx, p.Wh, h))

    def loss(*params):
        return np.sum(p.dh * forward(*params))

    numeric = numerical_param_grads(loss, list(p[:5]), num_grad)
    assert_grads_close(analytic, numeric, rel_error)


def sliding_window_objective(dh, frozen_h, k):
    """sum_t <dh_t, h_t>, h_t recomputed over its last k steps from the frozen state h_{t-k} (or h0)."""
    T = dh.shape[1]

    def loss(x, h0, Wx, Wh, b):
        total = 0.0
        for t in range(T):
            start = max(0, t - k + 1)
            h_prev = h0 if start == 0 else frozen_h[:, start - 1]    # constant unless it is h0
            for s in range(start, t + 1):
                h_prev = tanh_step(x[:, s], h_prev, Wx, Wh, b)
            total += np.sum(dh[:, t] * h_prev)
        return total
    return loss


def chunked_objective(dh, frozen_h, k):
    """sum_t <dh_t, h_t>, each chunk [c, c+k) restarted from a constant copy of the carried state."""
    T = dh.shape[1]

    def loss(x, h0, Wx, Wh, b):
        total = 0.0
        for start in range(0, T, k):
            h_prev = h0 if start == 0 else frozen_h[:, start - 1].copy()
            for s in range(start, min(start + k, T)):
                h_prev = tanh_step(x[:, s], h_prev, Wx, Wh, b)
                total += np.sum(dh[:, s] * h_prev)
        return total
    return loss


@pytest.mark.parametrize("k_of_T", list(K_CHOICES.values()), ids=list(K_CHOICES))
@pytest.mark.parametrize("scheme, objective", [
    (solutions.rnn_backward_truncated, sliding_window_objective),
    (solutions.rnn_backward_chunked, chunked_objective),
], ids=["sliding", "chunked"])
def test_truncated_backward(scheme, objective, k_of_T, regime, make_problem, forward, num_grad, rel_error):
    p = make_problem(regime, seed=3)
    k = k_of_T(regime.T)
    h = forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    analytic = scheme(p.dh, (p.x, p.h0, p.Wx, p.Wh, h), k)
    numeric = numerical_param_grads(objective(p.dh, h, k), list(p[:5]), num_grad)
    assert_grads_close(analytic, numeric, rel_error)


def test_truncated_objectives_really_truncate(make_problem, forward, num_grad):
    """Guard for the guard: with k < T the two objectives' gradients differ from full BPTT's."""
    regime = (2, 6, 3, 4)
    p = make_problem(regime, seed=4)
    h = forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    full = num_grad(lambda Wh: np.sum(p.dh * forward(p.x, p.h0, p.Wx, Wh, p.b)), p.Wh)
    for objective in (sliding_window_objective, chunked_objective):
        loss = objective(p.dh, h, 2)
        truncated = num_grad(lambda Wh: loss(p.x, p.h0, p.Wx, Wh, p.b), p.Wh)
        assert np.max(np.abs(truncated - full)) > 1e-3
        assert np.isclose(loss(*p[:5]), np.sum(p.dh * h))   # same value, different gradient


@pytest.mark.parametrize("N, T, V", [(3, 4, 5), (1, 1, 2), (2, 6, 7)])
def test_temporal_softmax_loss_gradient(N, T, V, naive_softmax_loss, num_grad, rel_error):
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((N, T, V)) * 2
    y = rng.integers(0, V, size=(N, T))
    _, dscores = solutions.temporal_softmax_loss(scores, y)
    numeric = num_grad(lambda s: naive_softmax_loss(s, y), scores)
    assert rel_error(dscores, numeric) < TOL


def test_step_jacobians_match_numerical_jacobians(regime, make_problem, forward):
    p = make_problem(regime, seed=6)
    h = forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    J = solutions.step_jacobians((p.x, p.h0, p.Wx, p.Wh, h))
    N, T, D, H = regime
    assert J.shape == (N, T, H, H)
    h_prev_all = np.concatenate([p.h0[:, None], h[:, :-1]], axis=1)
    step = 1e-5
    for n in range(N):
        for t in range(T):
            x_t, h_prev = p.x[n:n + 1, t], h_prev_all[n:n + 1, t]       # one sample, (1, D) and (1, H)
            numeric = np.empty((H, H))
            for j in range(H):                                           # column j: d h_t / d h_{t-1}[j]
                e = np.zeros((1, H))
                e[0, j] = step
                plus = tanh_step(x_t, h_prev + e, p.Wx, p.Wh, p.b)
                minus = tanh_step(x_t, h_prev - e, p.Wx, p.Wh, p.b)
                numeric[:, j] = ((plus - minus) / (2 * step))[0]
            err = np.max(np.abs(J[n, t] - numeric)) / np.max(np.abs(numeric))
            assert err < TOL, f"J[{n}, {t}]: relative error {err:.2e}"


def test_gradient_norms_through_time_is_a_product_of_step_jacobians(regime, make_problem, forward, rel_error):
    p = make_problem(regime, seed=7)
    h = forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    cache = (p.x, p.h0, p.Wx, p.Wh, h)
    dh_last = p.dh[:, -1]
    norms = solutions.gradient_norms_through_time(dh_last, cache)
    J = solutions.step_jacobians(cache)          # checked against numerical Jacobians above
    N, T, D, H = regime
    expected = np.empty(T)
    for s in range(T):
        rows = []
        for n in range(N):                       # dL/dh_s = dh_last @ J_{T-1} @ J_{T-2} @ ... @ J_{s+1}
            product = np.eye(H)
            for t in range(T - 1, s, -1):
                product = product @ J[n, t]
            rows.append(dh_last[n] @ product)
        expected[s] = np.sqrt(np.sum(np.square(rows)))
    assert rel_error(norms, expected) < 1e-12


def test_gradient_norms_through_time_match_numerical_gradients(regime, make_problem, forward, num_grad, rel_error):
    """norms[s] = ||dL/dh_s|| for L = sum(dh_last * h_{T-1}), with h_s perturbed and steps s+1.. re-run."""
    p = make_problem(regime, seed=8)
    h = forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    dh_last = p.dh[:, -1]
    norms = solutions.gradient_norms_through_time(dh_last, (p.x, p.h0, p.Wx, p.Wh, h))
    T = regime.T
    expected = np.empty(T)
    for s in range(T):
        def loss(h_s, s=s):
            h_last = forward(p.x[:, s + 1:], h_s, p.Wx, p.Wh, p.b)[:, -1] if s < T - 1 else h_s
            return np.sum(dh_last * h_last)
        expected[s] = np.linalg.norm(num_grad(loss, h[:, s]))
    assert rel_error(norms, expected) < TOL
