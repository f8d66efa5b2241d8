"""The contract's second-round reference functions against independent derivations.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary.
- rnn_backward_weighted, rnn_backward_checkpointed (truncation, completed);
- lstm_step_forward/backward, lstm_forward/backward (gated cells);
- temporal_affine_forward/backward, lm_loss_and_grads (the language model).
Every gradient is checked against central differences of an objective written
here, with its own forward pass (conftest: num_grad, rel_error), in the regimes
where bugs hide (D != H and D == H, T = 1, N = 1, non-zero initial states).
"""
import numpy as np
import pytest

import solutions

TOL = 1e-7


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_forward_plain(x, h0, c0, Wx, Wh, b):
    """The LSTM of the contract written out plainly: h (N, T, H), c (N, T, H)."""
    H = h0.shape[1]
    hs, cs, h, c = [], [], h0, c0
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
        g = np.tanh(a[:, 2 * H:3 * H])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)


def lstm_problem(regime, seed):
    N, T, D, H = regime
    rng = np.random.default_rng(seed)
    return dict(x=rng.standard_normal((N, T, D)), h0=0.5 * rng.standard_normal((N, H)),
                c0=rng.standard_normal((N, H)), Wx=rng.standard_normal((D, 4 * H)) / np.sqrt(D),
                Wh=rng.standard_normal((H, 4 * H)) / np.sqrt(H), b=0.3 * rng.standard_normal(4 * H))


def check_all(analytic, numeric, rel_error, names):
    for name, a, n in zip(names, analytic, numeric):
        assert a.shape == n.shape, f"d{name}: shape {a.shape}, expected {n.shape}"
        assert rel_error(a, n) < TOL, f"d{name}: relative error {rel_error(a, n):.2e}"


def grads_of(objective, args, num_grad):
    out = []
    for i in range(len(args)):
        def f(v, i=i):
            a = list(args)
            a[i] = v
            return objective(*a)
        out.append(num_grad(f, args[i]))
    return out


# --- LSTM ------------------------------------------------------------------------------

def test_lstm_forward_matches_the_plain_recurrence(regime):
    p = lstm_problem(regime, 0)
    h, cache = solutions.lstm_forward(*p.values())
    h_ref, c_ref = lstm_forward_plain(*p.values())
    assert np.allclose(h, h_ref, rtol=0, atol=1e-13) and np.allclose(cache[6], c_ref, rtol=0, atol=1e-13)
    assert len(cache) == 8 and cache[0] is p["x"] and cache[5].shape == h.shape[:2] + (4 * regime.H,)


def test_lstm_step_matches_the_sequence_at_t0(regime):
    p = lstm_problem(regime, 1)
    h, cache = solutions.lstm_forward(*p.values())
    h1, c1, step = solutions.lstm_step_forward(p["x"][:, 0], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    # the sequence adds x @ Wx + b for all steps at once and computes the sigmoid from exp: rounding differs
    for name, got, want in (("h", h1, h[:, 0]), ("c", c1, cache[6][:, 0]), ("gates", step[5], cache[5][:, 0])):
        assert np.allclose(got, want, rtol=0, atol=1e-14), name
    assert step[6] is c1


def test_lstm_backward_against_central_differences(regime, num_grad, rel_error):
    p = lstm_problem(regime, 2)
    dh = np.random.default_rng(3).standard_normal(regime[:2] + (regime.H,))
    _, cache = solutions.lstm_forward(*p.values())
    analytic = solutions.lstm_backward(dh, cache)

    def loss(x, h0, c0, Wx, Wh, b):
        return np.sum(dh * lstm_forward_plain(x, h0, c0, Wx, Wh, b)[0])
    numeric = grads_of(loss, list(p.values()), num_grad)
    check_all(analytic, numeric, rel_error, ("x", "h0", "c0", "Wx", "Wh", "b"))


def test_lstm_step_backward_with_a_cell_gradient_from_later_steps(regime, num_grad, rel_error):
    p = lstm_problem(regime, 4)
    rng = np.random.default_rng(5)
    dh_next, dc_next = rng.standard_normal((2, regime.N, regime.H))
    x_t = p["x"][:, 0]
    _, _, cache = solutions.lstm_step_forward(x_t, p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    analytic = solutions.lstm_step_backward(dh_next, dc_next, cache)

    def loss(x_t, h_prev, c_prev, Wx, Wh, b):          # L = dh_next . h_next + dc_next . c_next
        h, c = lstm_forward_plain(x_t[:, None], h_prev, c_prev, Wx, Wh, b)
        return np.sum(dh_next * h[:, 0]) + np.sum(dc_next * c[:, 0])
    numeric = grads_of(loss, [x_t, p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"]], num_grad)
    check_all(analytic, numeric, rel_error, ("x_t", "h_prev", "c_prev", "Wx", "Wh", "b"))


def test_lstm_sigmoid_does_not_overflow():
    x = np.full((1, 1, 1), 1e4)
    # e^-|a| underflowing to 0 is harmless (numpy ignores underflow by default); overflow, 0/0 and inf/inf are not
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        h, cache = solutions.lstm_forward(x, np.zeros((1, 1)), np.zeros((1, 1)), -np.ones((1, 4)),
                                          np.zeros((1, 4)), np.zeros(4))
    assert np.all(np.isfinite(h)) and np.all(np.isfinite(cache[5]))


def test_lstm_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"Wx must have shape \(D, 4H\)"):
        solutions.lstm_forward(np.zeros((1, 2, 3)), np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((3, 7)),
                               np.zeros((2, 8)), np.zeros(8))
    with pytest.raises(TypeError, match="sequence cache"):
        solutions.lstm_backward(np.zeros((1, 2, 2)), (np.zeros(1),) * 5)


# --- truncation, completed ------------------------------------------------------------------

def test_weighted_with_all_ones_is_full_bptt(regime, make_problem, forward):
    p = make_problem(regime, seed=6)
    cache = (p.x, p.h0, p.Wx, p.Wh, forward(p.x, p.h0, p.Wx, p.Wh, p.b))
    full = solutions.rnn_backward(p.dh, cache)
    weighted = solutions.rnn_backward_weighted(p.dh, cache, np.ones(regime.T))
    for a, b in zip(full, weighted):
        assert np.allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 10])
def test_weighted_with_zeros_at_chunk_starts_is_chunked(regime, make_problem, forward, k):
    p = make_problem(regime, seed=7)
    cache = (p.x, p.h0, p.Wx, p.Wh, forward(p.x, p.h0, p.Wx, p.Wh, p.b))
    xi = np.ones(regime.T)
    xi[k::k] = 0.0
    for a, b in zip(solutions.rnn_backward_chunked(p.dh, cache, k), solutions.rnn_backward_weighted(p.dh, cache, xi)):
        assert np.allclose(a, b, rtol=0, atol=1e-12)


def test_weighted_against_central_differences_of_a_scaled_graph(regime, make_problem, forward, num_grad, rel_error):
    """xi[t] scales the link h_{t-1} -> h_t in the backward pass only: written here as the gradient of a
    forward pass where h_{t-1} enters step t as xi[t] * h_{t-1} + (1 - xi[t]) * stop_gradient(h_{t-1})."""
    p = make_problem(regime, seed=8)
    xi = np.random.default_rng(9).uniform(-0.5, 2.0, size=regime.T)
    h_frozen = forward(p.x, p.h0, p.Wx, p.Wh, p.b)            # the base point's states, held constant below

    def forward_scaled(x, h0, Wx, Wh, b):
        hs, h_prev = [], h0
        for t in range(x.shape[1]):
            frozen_prev = p.h0 if t == 0 else h_frozen[:, t - 1]
            h_in = xi[t] * h_prev + (1 - xi[t]) * frozen_prev      # equal to h_prev in value at the base point
            h_prev = np.tanh(x[:, t] @ Wx + h_in @ Wh + b)
            hs.append(h_prev)
        return np.stack(hs, axis=1)
    cache = (p.x, p.h0, p.Wx, p.Wh, h_frozen)
    analytic = solutions.rnn_backward_weighted(p.dh, cache, xi)
    numeric = grads_of(lambda *a: np.sum(p.dh * forward_scaled(*a)), [p.x, p.h0, p.Wx, p.Wh, p.b], num_grad)
    check_all(analytic, numeric, rel_error, ("x", "h0", "Wx", "Wh", "b"))


@pytest.mark.parametrize("every", [1, 2, 3, 5, 7, 50])
def test_checkpointed_is_exactly_full_bptt(regime, make_problem, forward, every):
    p = make_problem(regime, seed=10)
    cache = (p.x, p.h0, p.Wx, p.Wh, forward(p.x, p.h0, p.Wx, p.Wh, p.b))
    full = solutions.rnn_backward(p.dh, cache)
    ckpt = solutions.rnn_backward_checkpointed(p.dh, p.x, p.h0, p.Wx, p.Wh, p.b, every)
    for a, b in zip(full, ckpt):
        assert np.allclose(a, b, rtol=0, atol=1e-10)


def test_checkpointed_rejects_a_bad_segment_length(make_problem, regime):
    p = make_problem(regime)
    with pytest.raises(ValueError, match="every must be at least 1"):
        solutions.rnn_backward_checkpointed(p.dh, p.x, p.h0, p.Wx, p.Wh, p.b, 0)
    with pytest.raises(TypeError, match="whole number"):
        solutions.rnn_backward_checkpointed(p.dh, p.x, p.h0, p.Wx, p.Wh, p.b, 2.5)


# --- the language model ---------------------------------------------------------------

def lm_problem(N, T, V, H, seed):
    rng = np.random.default_rng(seed)
    params = {"Wx": rng.standard_normal((V, H)), "Wh": 0.5 * rng.standard_normal((H, H)) / np.sqrt(H),
              "b": 0.1 * rng.standard_normal(H), "Wy": rng.standard_normal((H, V)) / np.sqrt(H),
              "by": 0.1 * rng.standard_normal(V)}
    x_ids = rng.integers(0, V, size=(N, T))
    x_ids[:, -1] = x_ids[:, 0]                 # a repeated id in every row: its embedding gradient accumulates
    return params, x_ids, rng.integers(0, V, size=(N, T)), 0.3 * rng.standard_normal((N, H))


def lm_loss_plain(params, x_ids, y_ids, h0):
    """The model written out with one-hot inputs and a log-softmax straight from the definition."""
    V = params["Wx"].shape[0]
    onehot = np.eye(V)[x_ids]
    h, hs = h0, []
    for t in range(x_ids.shape[1]):
        h = np.tanh(onehot[:, t] @ params["Wx"] + h @ params["Wh"] + params["b"])
        hs.append(h)
    scores = np.stack(hs, axis=1) @ params["Wy"] + params["by"]
    logp = scores - np.log(np.exp(scores).sum(axis=2, keepdims=True))
    return -np.take_along_axis(logp, y_ids[..., None], axis=2).sum() / x_ids.shape[0], h


@pytest.mark.parametrize("N, T, V, H", [(3, 6, 5, 4), (1, 1, 3, 3), (2, 9, 4, 6)])
def test_lm_loss_and_grads_against_central_differences(N, T, V, H, num_grad, rel_error):
    params, x_ids, y_ids, h0 = lm_problem(N, T, V, H, seed=11)
    loss, grads, h_last = solutions.lm_loss_and_grads(params, x_ids, y_ids, h0)
    loss_ref, h_ref = lm_loss_plain(params, x_ids, y_ids, h0)
    assert abs(loss - loss_ref) < 1e-12 and np.allclose(h_last, h_ref, rtol=0, atol=1e-14)
    assert set(grads) == set(params) and grads is not params
    for name in params:
        def f(v, name=name):
            return lm_loss_plain({**params, name: v}, x_ids, y_ids, h0)[0]
        numeric = num_grad(f, params[name])
        assert rel_error(grads[name], numeric) < TOL, name


def test_temporal_affine_against_central_differences(num_grad, rel_error):
    rng = np.random.default_rng(12)
    h, Wy, by = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    dscores = rng.standard_normal((2, 3, 5))
    scores, cache = solutions.temporal_affine_forward(h, Wy, by)
    assert np.allclose(scores, np.einsum("nth,hv->ntv", h, Wy) + by) and cache[0] is h and cache[1] is Wy
    analytic = solutions.temporal_affine_backward(dscores, cache)
    numeric = grads_of(lambda h, Wy, by: np.sum(dscores * (h @ Wy + by)), [h, Wy, by], num_grad)
    check_all(analytic, numeric, rel_error, ("h", "Wy", "by"))


def test_lm_rejects_bad_ids_and_params():
    params, x_ids, y_ids, h0 = lm_problem(2, 3, 4, 3, seed=13)
    with pytest.raises(ValueError, match=r"x_ids must hold ids in \[0, V\)"):
        solutions.lm_loss_and_grads(params, x_ids + 4, y_ids, h0)
    with pytest.raises(ValueError, match="exactly the keys"):
        solutions.lm_loss_and_grads({k: v for k, v in params.items() if k != "by"}, x_ids, y_ids, h0)
    with pytest.raises(TypeError, match="integer ids"):
        solutions.lm_loss_and_grads(params, x_ids, y_ids.astype(float), h0)
