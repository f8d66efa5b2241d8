"""Properties of the reference that the contract states, checked one by one.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary, k truncation.
"""
import copy

import numpy as np
import pytest

import solutions


# --- truncation ---------------------------------------------------------------

@pytest.mark.parametrize("extra", [0, 1, 5], ids=["k=T", "k=T+1", "k=T+5"])
@pytest.mark.parametrize("scheme", [solutions.rnn_backward_truncated, solutions.rnn_backward_chunked],
                         ids=["sliding", "chunked"])
def test_k_at_least_T_is_full_bptt(scheme, extra, regime, make_problem, forward):
    p = make_problem(regime, seed=21)
    cache = (p.x, p.h0, p.Wx, p.Wh, forward(p.x, p.h0, p.Wx, p.Wh, p.b))
    full = solutions.rnn_backward(p.dh, cache)
    for name, ours, want in zip(("dx", "dh0", "dWx", "dWh", "db"), scheme(p.dh, cache, regime.T + extra), full):
        assert np.allclose(ours, want, rtol=0, atol=1e-12), f"{name} differs from rnn_backward's"


def test_truncation_changes_the_gradient_when_k_is_below_T(make_problem, forward):
    """The other side: k < T must not be full BPTT (dWh differs for both schemes)."""
    p = make_problem((2, 6, 3, 4), seed=22)
    cache = (p.x, p.h0, p.Wx, p.Wh, forward(p.x, p.h0, p.Wx, p.Wh, p.b))
    full_dWh = solutions.rnn_backward(p.dh, cache)[3]
    for scheme in (solutions.rnn_backward_truncated, solutions.rnn_backward_chunked):
        assert np.max(np.abs(scheme(p.dh, cache, 2)[3] - full_dWh)) > 1e-3


# --- gradient contributions ------------------------------------------------------

def per_loss_terms(p, h):
    """terms[t, s] = h_{s-1}^T @ da_s^(t), from a separate backward pass for each loss L_t."""
    N, T, H = h.shape
    h_prev = [p.h0] + [h[:, s - 1] for s in range(1, T)]
    terms = np.zeros((T, T, H, H))
    for t in range(T):
        g = p.dh[:, t]                          # dL_t/dh_t: L_t = sum(dh[:, t] * h_t)
        for s in range(t, -1, -1):
            da = g * (1 - h[:, s] ** 2)         # dL_t/da_s, through tanh
            terms[t, s] = h_prev[s].T @ da      # what L_t deposits in dWh at step s
            g = da @ p.Wh.T                     # dL_t/dh_{s-1}
    return terms


def test_gradient_contributions_are_the_per_loss_terms(regime, make_problem, forward, rel_error):
    p = make_problem(regime, seed=23)
    h = forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    cache = (p.x, p.h0, p.Wx, p.Wh, h)
    C = solutions.gradient_contributions(p.dh, cache)
    T = regime.T
    assert C.shape == (T, T)
    terms = per_loss_terms(p, h)
    assert rel_error(C, np.sqrt(np.sum(terms ** 2, axis=(2, 3)))) < 1e-12
    assert rel_error(terms.sum(axis=(0, 1)), solutions.rnn_backward(p.dh, cache)[3]) < 1e-12
    assert np.all(C[np.triu_indices(T, 1)] == 0), "C[t, s] must be 0 for s > t"
    assert np.all(C[np.tril_indices(T)] > 0), "every loss deposits a non-zero term at each s <= t here"


def test_per_loss_terms_match_numerical_gradients(make_problem, forward, num_grad, rel_error):
    """The term L_t deposits at step s is dL_t/dWh_s, where step s alone uses a private copy Wh_s."""
    p = make_problem((2, 4, 3, 3), seed=24)
    h = forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    terms = per_loss_terms(p, h)

    def loss_t(t, s, Wh_s):
        h_prev = p.h0
        for u in range(t + 1):
            h_prev = np.tanh(p.x[:, u] @ p.Wx + h_prev @ (Wh_s if u == s else p.Wh) + p.b)
        return np.sum(p.dh[:, t] * h_prev)

    for t in range(4):
        for s in range(t + 1):
            numeric = num_grad(lambda W: loss_t(t, s, W), p.Wh)
            assert rel_error(terms[t, s], numeric) < 1e-7, f"term (t={t}, s={s})"


# --- gradient norms through time ------------------------------------------------

def test_gradient_norms_last_entry_is_the_norm_of_dh_last(regime, make_problem, forward):
    p = make_problem(regime, seed=25)
    cache = (p.x, p.h0, p.Wx, p.Wh, forward(p.x, p.h0, p.Wx, p.Wh, p.b))
    dh_last = p.dh[:, -1]
    norms = solutions.gradient_norms_through_time(dh_last, cache)
    assert norms.shape == (regime.T,)
    assert norms[-1] == pytest.approx(np.sqrt(np.sum(dh_last ** 2)), rel=1e-14)


# --- clipping -------------------------------------------------------------------

def global_norm(grads):
    return float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))


def random_grads(seed, scale):
    rng = np.random.default_rng(seed)
    return {"Wx": rng.standard_normal((3, 4)) * scale, "Wh": rng.standard_normal((4, 4)) * scale * 3,
            "b": rng.standard_normal(4) * scale}


def test_clip_grad_norm_below_max_norm_changes_nothing():
    grads = random_grads(31, 0.05)
    total = global_norm(grads)
    assert total < 1.0
    clipped, total_norm = solutions.clip_grad_norm(grads, 1.0)
    assert total_norm == pytest.approx(total, rel=1e-14)
    assert clipped.keys() == grads.keys()
    for name in grads:
        assert np.array_equal(clipped[name], grads[name])
        assert not np.shares_memory(clipped[name], grads[name]), "clipped must hold new arrays, even unscaled"


def test_clip_grad_norm_above_max_norm_scales_everything_by_one_factor():
    grads = random_grads(32, 10.0)
    total = global_norm(grads)
    max_norm = 2.5
    clipped, total_norm = solutions.clip_grad_norm(grads, max_norm)
    assert total_norm == pytest.approx(total, rel=1e-14)               # measured before clipping
    assert global_norm(clipped) == pytest.approx(max_norm, rel=1e-12)
    for name in grads:                                                 # global, not per tensor:
        assert np.allclose(clipped[name], grads[name] * (max_norm / total), rtol=1e-13, atol=0)
    per_tensor = [np.linalg.norm(clipped[name]) for name in grads]
    assert max(per_tensor) < max_norm and min(per_tensor) < max_norm / 2


def test_clip_grad_norm_of_zero_gradients():
    grads = {"Wx": np.zeros((2, 3)), "b": np.zeros(3)}
    clipped, total_norm = solutions.clip_grad_norm(grads, 1.0)
    assert total_norm == 0.0
    for name in grads:
        assert np.array_equal(clipped[name], grads[name])


def test_clip_grad_norm_of_huge_gradients_does_not_overflow():
    grads = {"a": np.full(4, 1e200), "b": np.full(5, -1e200)}
    clipped, total_norm = solutions.clip_grad_norm(grads, 1.0)
    assert total_norm == pytest.approx(3e200, rel=1e-14)               # sqrt(9) * 1e200
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-12)


# --- spectral radius -------------------------------------------------------------

def spectral_radius(W):
    return float(np.max(np.abs(np.linalg.eigvals(W))))


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.7])
def test_scale_to_spectral_radius_gives_the_requested_radius(rho):
    W = np.random.default_rng(41).standard_normal((6, 6))          # non-symmetric: complex eigenvalues
    W_scaled = solutions.scale_to_spectral_radius(W, rho)
    assert spectral_radius(W_scaled) == pytest.approx(rho, rel=1e-12)
    assert np.allclose(W_scaled, W * (rho / spectral_radius(W)), rtol=1e-13, atol=0)


def test_scale_to_spectral_radius_of_a_rotation():
    """2 * (90 degree rotation) has eigenvalues +-2i: radius 2, although no eigenvalue is real."""
    W = np.array([[0.0, -2.0], [2.0, 0.0]])
    assert np.allclose(solutions.scale_to_spectral_radius(W, 1.0), W / 2, rtol=1e-14, atol=0)


@pytest.mark.parametrize("W", [np.zeros((3, 3)), np.zeros((1, 1)),
                               np.triu(np.random.default_rng(42).standard_normal((4, 4)), 1)],
                         ids=["zeros", "zero-1x1", "nilpotent"])
def test_scale_to_spectral_radius_refuses_radius_zero(W):
    with pytest.raises(ValueError, match="spectral radius 0"):
        solutions.scale_to_spectral_radius(W, 0.9)


# --- softmax loss ---------------------------------------------------------------

def test_temporal_softmax_loss_matches_the_definition(naive_softmax_loss):
    rng = np.random.default_rng(51)
    scores = rng.standard_normal((3, 4, 6))
    y = rng.integers(0, 6, size=(3, 4))
    loss, dscores = solutions.temporal_softmax_loss(scores, y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(naive_softmax_loss(scores, y), rel=1e-13)


def test_temporal_softmax_loss_is_stable_for_huge_scores(naive_softmax_loss):
    rng = np.random.default_rng(52)
    N, T, V = 2, 3, 5
    scores = rng.standard_normal((N, T, V)) * 1e4
    y = rng.integers(0, V, size=(N, T))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        assert not np.isfinite(naive_softmax_loss(scores, y))         # the naive formula overflows here
    loss, dscores = solutions.temporal_softmax_loss(scores, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    log_norm = np.logaddexp.reduce(scores, axis=2)                     # log sum_v exp(s_v), stably
    s_y = np.take_along_axis(scores, y[..., None], axis=2)[..., 0]
    assert loss == pytest.approx(np.sum(log_norm - s_y) / N, rel=1e-12)
    softmax = np.exp(scores - log_norm[..., None])
    assert np.allclose(dscores, (softmax - np.eye(V)[y]) / N, rtol=0, atol=1e-15)


# --- numerical_gradient ----------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)])
def test_numerical_gradient_on_any_shape_leaves_x_unchanged(shape):
    rng = np.random.default_rng(61)
    x = rng.standard_normal(shape)
    A = rng.standard_normal(shape)
    x_before = x.copy()
    seen = []

    def f(v):
        seen.append(np.shape(v))
        return np.sum(A * np.sin(v))

    grad = solutions.numerical_gradient(f, x)
    assert np.array_equal(x, x_before), "numerical_gradient changed x"
    assert type(grad) is np.ndarray and grad.dtype == np.float64 and grad.shape == shape
    assert set(seen) == {shape}, "f must be called with arrays shaped like x"
    assert np.allclose(grad, A * np.cos(x), rtol=0, atol=1e-9)


def test_numerical_gradient_uses_central_differences_of_step_h():
    """For f = sum(x^3), (f(x+h) - f(x-h)) / 2h = 3x^2 + h^2 exactly: it shows both the step and the scheme."""
    x = np.random.default_rng(62).standard_normal((3, 2))
    grad = solutions.numerical_gradient(lambda v: np.sum(v ** 3), x, h=0.1)
    assert np.allclose(grad, 3 * x ** 2 + 0.01, rtol=0, atol=1e-12)


# --- for every function: arguments untouched, fresh float64 arrays of the contract's shapes ---

def contract_calls(p, N, T, D, H):
    """{name: (args, expected)} for every graded function; expected mirrors the return value:
    a shape tuple for an array, float for a Python float, "cache" for a cache, a dict of shapes."""
    V = 4
    rng = np.random.default_rng(71)
    h, seq_cache = solutions.rnn_forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    h_next, step_cache = solutions.rnn_step_forward(p.x[:, 0], p.h0, p.Wx, p.Wh, p.b)
    backward_shapes = ((N, T, D), (N, H), (D, H), (H, H), (H,))
    grads = {"Wx": p.Wx * 3, "Wh": p.Wh * 3, "b": p.b * 3}
    return {
        "rnn_step_forward": ((p.x[:, 0], p.h0, p.Wx, p.Wh, p.b), ((N, H), "cache")),
        "rnn_forward": ((p.x, p.h0, p.Wx, p.Wh, p.b), ((N, T, H), "cache")),
        "numerical_gradient": ((lambda v: float(np.sum(v ** 2)), p.Wh), (H, H)),
        "rnn_step_backward": ((p.dh[:, 0], step_cache), ((N, D), (N, H), (D, H), (H, H), (H,))),
        "rnn_backward": ((p.dh, seq_cache), backward_shapes),
        "gradient_contributions": ((p.dh, seq_cache), (T, T)),
        "rnn_backward_truncated": ((p.dh, seq_cache, 2), backward_shapes),
        "rnn_backward_chunked": ((p.dh, seq_cache, 2), backward_shapes),
        # truncation, completed (notebook 03)
        "rnn_backward_weighted": ((p.dh, seq_cache, rng.uniform(-1.0, 2.0, size=T)), backward_shapes),
        "rnn_backward_checkpointed": ((p.dh, p.x, p.h0, p.Wx, p.Wh, p.b, 2), backward_shapes),
        # end of truncation, completed
        "step_jacobians": ((seq_cache,), (N, T, H, H)),
        "gradient_norms_through_time": ((p.dh[:, -1], seq_cache), (T,)),
        "scale_to_spectral_radius": ((p.Wh, 0.9), (H, H)),
        "clip_grad_norm": ((grads, 0.5), ({name: g.shape for name, g in grads.items()}, float)),
        "temporal_softmax_loss": ((rng.standard_normal((N, T, V)), rng.integers(0, V, size=(N, T))),
                                  (float, (N, T, V))),
        **lstm_calls(p, N, T, D, H, rng),
        **lm_calls(p, N, T, H, rng),
    }


def lm_calls(p, N, T, H, rng):
    """contract_calls for the language model's functions (notebook 06): output layer H -> V, ids in [0, V)."""
    V = 5
    Wy, by = rng.standard_normal((H, V)) / np.sqrt(H), 0.1 * rng.standard_normal(V)
    h = rng.standard_normal((N, T, H))
    _, affine_cache = solutions.temporal_affine_forward(h, Wy, by)
    params = {"Wx": rng.standard_normal((V, H)), "Wh": p.Wh, "b": p.b, "Wy": Wy, "by": by}
    x_ids, y_ids = rng.integers(0, V, size=(N, T)), rng.integers(0, V, size=(N, T))
    return {
        "temporal_affine_forward": ((h, Wy, by), ((N, T, V), "affine cache")),
        "temporal_affine_backward": ((rng.standard_normal((N, T, V)), affine_cache), ((N, T, H), (H, V), (V,))),
        "lm_loss_and_grads": ((params, x_ids, y_ids, p.h0),
                              (float, {"Wx": (V, H), "Wh": (H, H), "b": (H,), "Wy": (H, V), "by": (V,)}, (N, H))),
    }


def lstm_calls(p, N, T, D, H, rng):
    """contract_calls for the LSTM functions (weights 4H wide, blocks i, f, g, o; c0 != 0)."""
    c0 = rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)) / np.sqrt(D), rng.standard_normal((H, 4 * H)) / np.sqrt(H), \
        0.3 * rng.standard_normal(4 * H)
    _, _, step_cache = solutions.lstm_step_forward(p.x[:, 0], p.h0, c0, Wx, Wh, b)
    _, seq_cache = solutions.lstm_forward(p.x, p.h0, c0, Wx, Wh, b)
    return {
        "lstm_step_forward": ((p.x[:, 0], p.h0, c0, Wx, Wh, b), ((N, H), (N, H), "lstm step cache")),
        "lstm_forward": ((p.x, p.h0, c0, Wx, Wh, b), ((N, T, H), "lstm sequence cache")),
        "lstm_step_backward": ((p.dh[:, 0], p.dh[:, -1], step_cache),
                               ((N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,))),
        "lstm_backward": ((p.dh, seq_cache), ((N, T, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,))),
    }


def arrays_in(obj):
    """Every ndarray inside obj (tuples, lists, dicts)."""
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [a for item in obj for a in arrays_in(item)]
    if isinstance(obj, dict):
        return [a for item in obj.values() for a in arrays_in(item)]
    return []


def assert_same(before, after, where):
    if isinstance(before, np.ndarray):
        assert np.array_equal(before, after) and before.dtype == after.dtype, f"{where} was modified"
    elif isinstance(before, (tuple, list)):
        for i, (b, a) in enumerate(zip(before, after)):
            assert_same(b, a, f"{where}[{i}]")
    elif isinstance(before, dict):
        for key in before:
            assert_same(before[key], after[key], f"{where}[{key!r}]")


CACHE_LENGTHS = {"cache": 5, "lstm step cache": 7, "lstm sequence cache": 8, "affine cache": 2}


def check_output(out, expected, where):
    """out matches the expected structure: exactly np.ndarray float64 of each shape, floats, dicts."""
    if isinstance(expected, str):                                       # a cache
        n = CACHE_LENGTHS[expected]
        assert isinstance(out, tuple) and len(out) == n, f"{where}: a {expected} is a {n}-tuple"
    elif expected is float:
        assert type(out) is float, f"{where}: expected a Python float, got {type(out).__name__}"
    elif isinstance(expected, dict):
        assert isinstance(out, dict) and out.keys() == expected.keys(), f"{where}: keys differ"
        for key in expected:
            check_output(out[key], expected[key], f"{where}[{key!r}]")
    elif all(isinstance(e, int) for e in expected):                     # a shape
        assert type(out) is np.ndarray, f"{where}: expected exactly np.ndarray, got {type(out).__name__}"
        assert out.dtype == np.float64, f"{where}: dtype {out.dtype}, expected float64"
        assert out.shape == expected, f"{where}: shape {out.shape}, expected {expected}"
    else:                                                                # a tuple of outputs
        assert isinstance(out, tuple) and len(out) == len(expected), f"{where}: expected a {len(expected)}-tuple"
        for i, (o, e) in enumerate(zip(out, expected)):
            check_output(o, e, f"{where}[{i}]")


def returned_arrays(name, out):
    """The returned arrays that must be new: all of them, except the cache of a forward function."""
    if name in ("rnn_step_forward", "rnn_forward", "lstm_forward", "temporal_affine_forward"):
        out = out[0]
    elif name == "lstm_step_forward":
        out = out[:2]
    return arrays_in(out)


def read_only(obj):
    """A deep copy of obj whose arrays cannot be written: an in-place change raises."""
    obj = copy.deepcopy(obj)
    for a in arrays_in(obj):
        a.flags.writeable = False
    return obj


@pytest.mark.parametrize("name", solutions.GRADED_FUNCTIONS)
def test_function_leaves_arguments_alone_and_returns_fresh_arrays(name, regime, make_problem):
    p = make_problem(regime, seed=72)
    calls = contract_calls(p, *regime)
    assert name in calls, f"no test inputs for graded function {name!r}: add it to contract_calls"
    args, expected = calls[name]
    fn = getattr(solutions, name)
    before = copy.deepcopy(args)
    out = fn(*args)
    assert_same(before, args, f"{name}: argument")
    check_output(out, expected, name)
    for i, r in enumerate(returned_arrays(name, out)):
        for a in arrays_in(args):
            assert not np.shares_memory(r, a), f"{name}: returned array #{i} shares memory with an argument"
    fn(*read_only(args))                     # raises if anything writes into an argument


def test_forward_caches_hold_the_inputs(make_problem):
    p = make_problem((2, 3, 4, 5), seed=73)
    h, cache = solutions.rnn_forward(p.x, p.h0, p.Wx, p.Wh, p.b)
    for got, want in zip(cache, (p.x, p.h0, p.Wx, p.Wh, h)):
        assert np.array_equal(got, want)
    h_next, cache = solutions.rnn_step_forward(p.x[:, 0], p.h0, p.Wx, p.Wh, p.b)
    for got, want in zip(cache, (p.x[:, 0], p.h0, p.Wx, p.Wh, h_next)):
        assert np.array_equal(got, want)
