"""Bad input gets a clear, specific error from the reference.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary, k truncation.
A shape error must name the argument, the shape it must have (in the
contract's letters) and the shape it got. The problem below has N = 2, T = 3,
D = 4, H = 5, so that every size is distinct and a swapped axis shows.
"""
import re

import numpy as np
import pytest

import solutions

N, T, D, H, V = 2, 3, 4, 5, 6


@pytest.fixture
def p():
    rng = np.random.default_rng(81)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, H))
    Wh = rng.standard_normal((H, H))
    b = rng.standard_normal(H)
    h, cache = solutions.rnn_forward(x, h0, Wx, Wh, b)
    _, step_cache = solutions.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    return dict(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b, cache=cache, step_cache=step_cache, dh=np.ones((N, T, H)))


def shape_message(name, letters, got):
    """A regex: the argument's name, its expected shape such as (N, T, D), and the shape it got."""
    want = re.escape("(" + ", ".join(letters)) + ",?" + re.escape(")")     # (H) or (H,) for 1-D
    return rf"^{re.escape(name)} must have shape {want}.*{re.escape(str(got))}"


# (id, call(p), argument, expected letters, bad shape)
SHAPE_ERRORS = [
    ("forward-x-2d", lambda p: solutions.rnn_forward(p["x"][0], p["h0"], p["Wx"], p["Wh"], p["b"]), "x", "NTD", (T, D)),
    ("forward-h0-batch", lambda p: solutions.rnn_forward(p["x"], p["h0"][:1], p["Wx"], p["Wh"], p["b"]), "h0", "NH", (1, H)),
    ("forward-Wx-transposed", lambda p: solutions.rnn_forward(p["x"], p["h0"], p["Wx"].T, p["Wh"], p["b"]), "Wx", "DH", (H, D)),
    ("forward-Wh-not-square", lambda p: solutions.rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"][:, :4], p["b"]), "Wh", "HH", (H, 4)),
    ("forward-b-length", lambda p: solutions.rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"][:4]), "b", "H", (4,)),
    ("forward-b-2d", lambda p: solutions.rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"][:, None]), "b", "H", (H, 1)),
    ("step-x_t-3d", lambda p: solutions.rnn_step_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"]), "x_t", "ND", (N, T, D)),
    ("step-h_prev", lambda p: solutions.rnn_step_forward(p["x"][:, 0], p["h0"].T, p["Wx"], p["Wh"], p["b"]), "h_prev", "NH", (H, N)),
    ("step_backward-dh_next", lambda p: solutions.rnn_step_backward(p["dh"], p["step_cache"]), "dh_next", "NH", (N, T, H)),
    ("step_backward-sequence-cache", lambda p: solutions.rnn_step_backward(p["dh"][:, 0], p["cache"]), "cache x_t", "ND", (N, T, D)),
    ("backward-dh-T", lambda p: solutions.rnn_backward(p["dh"][:, :2], p["cache"]), "dh", "NTH", (N, 2, H)),
    ("contributions-dh", lambda p: solutions.gradient_contributions(p["dh"][0], p["cache"]), "dh", "NTH", (T, H)),
    ("truncated-dh", lambda p: solutions.rnn_backward_truncated(p["dh"][:1], p["cache"], 2), "dh", "NTH", (1, T, H)),
    ("chunked-dh", lambda p: solutions.rnn_backward_chunked(p["dh"][..., :4], p["cache"], 2), "dh", "NTH", (N, T, 4)),
    ("norms-dh_last", lambda p: solutions.gradient_norms_through_time(p["dh"], p["cache"]), "dh_last", "NH", (N, T, H)),
    ("softmax-scores", lambda p: solutions.temporal_softmax_loss(np.zeros((N, V)), np.zeros(N, dtype=int)), "scores", "NTV", (N, V)),
]


@pytest.mark.parametrize("call, name, letters, got", [case[1:] for case in SHAPE_ERRORS],
                         ids=[case[0] for case in SHAPE_ERRORS])
def test_wrong_shape_names_the_argument_and_the_expected_shape(p, call, name, letters, got):
    with pytest.raises(ValueError, match=shape_message(name, letters, got)):
        call(p)


def test_a_cache_that_is_not_a_cache(p):
    with pytest.raises(TypeError, match=r"cache must be the sequence cache \(x, h0, Wx, Wh, h\)"):
        solutions.rnn_backward(p["dh"], p["cache"][:4])
    with pytest.raises(TypeError, match=r"cache must be the step cache \(x_t, h_prev, Wx, Wh, h_next\)"):
        solutions.rnn_step_backward(p["dh"][:, 0], list(p["step_cache"]))


def test_an_empty_sequence(p):
    with pytest.raises(ValueError, match=r"T must be at least 1; got T = 0"):
        solutions.rnn_forward(p["x"][:, :0], p["h0"], p["Wx"], p["Wh"], p["b"])


def test_non_numeric_input(p):
    with pytest.raises(TypeError, match=r"^x must be an array of numbers"):
        solutions.rnn_forward("abc", p["h0"], p["Wx"], p["Wh"], p["b"])


@pytest.mark.parametrize("scheme", [solutions.rnn_backward_truncated, solutions.rnn_backward_chunked],
                         ids=["sliding", "chunked"])
@pytest.mark.parametrize("k, error, message", [
    (0, ValueError, r"k must be at least 1.*got k = 0"),
    (-2, ValueError, r"k must be at least 1.*got k = -2"),
    (2.5, TypeError, r"k must be a whole number of steps; got 2\.5"),
    (2.0, TypeError, r"k must be a whole number of steps; got 2\.0"),
    (True, TypeError, r"k must be a whole number of steps; got True"),
    ("2", TypeError, r"k must be a whole number of steps; got '2'"),
], ids=["zero", "negative", "fraction", "float", "bool", "string"])
def test_bad_k(p, scheme, k, error, message):
    with pytest.raises(error, match=message):
        scheme(p["dh"], p["cache"], k)


def test_numpy_integer_k_is_accepted(p):
    for scheme in (solutions.rnn_backward_truncated, solutions.rnn_backward_chunked):
        for got, want in zip(scheme(p["dh"], p["cache"], np.int64(2)), scheme(p["dh"], p["cache"], 2)):
            assert np.array_equal(got, want)


@pytest.mark.parametrize("y, error, message", [
    (np.full((N, T), V), ValueError, rf"y must hold class indices in \[0, V\) = \[0, {V}\); got values from {V} to {V}"),
    (np.full((N, T), -1), ValueError, r"y must hold class indices in \[0, V\).*got values from -1 to -1"),
    (np.zeros((N, T)), TypeError, r"y must hold integer class indices; got dtype float64"),
    (np.zeros((T, N), dtype=int), ValueError, rf"y must have shape \(N, T\) = \({N}, {T}\); got shape \({T}, {N}\)"),
], ids=["y=V", "y=-1", "float-y", "y-transposed"])
def test_bad_targets(y, error, message):
    with pytest.raises(error, match=message):
        solutions.temporal_softmax_loss(np.zeros((N, T, V)), y)


@pytest.mark.parametrize("rho", [-0.5, float("nan"), float("inf"), "1"], ids=["negative", "nan", "inf", "string"])
def test_bad_rho(rho):
    with pytest.raises(ValueError, match=r"rho must be a finite number >= 0"):
        solutions.scale_to_spectral_radius(np.eye(3), rho)


def test_non_square_W():
    with pytest.raises(ValueError, match=r"W must be a square matrix \(H, H\); got shape \(3, 4\)"):
        solutions.scale_to_spectral_radius(np.ones((3, 4)), 1.0)


@pytest.mark.parametrize("max_norm", [0, 0.0, -1.0, float("nan"), float("inf")],
                         ids=["zero", "zero-float", "negative", "nan", "inf"])
def test_bad_max_norm(max_norm):
    with pytest.raises(ValueError, match=r"max_norm must be a finite number > 0"):
        solutions.clip_grad_norm({"W": np.ones((2, 2))}, max_norm)


def test_grads_must_be_a_dict_of_arrays():
    with pytest.raises(TypeError, match=r"grads must be a dict of name -> array; got list"):
        solutions.clip_grad_norm([np.ones(2)], 1.0)
    with pytest.raises(TypeError, match=r"grads\['W'\] must be an array of numbers"):
        solutions.clip_grad_norm({"W": "not numbers"}, 1.0)


@pytest.mark.parametrize("f", [3.0, None, np.ones(2)], ids=["float", "None", "array"])
def test_non_callable_f(f):
    with pytest.raises(TypeError, match=r"f must be a function of one array"):
        solutions.numerical_gradient(f, np.ones(3))


@pytest.mark.parametrize("h", [0, -1e-5, float("nan")], ids=["zero", "negative", "nan"])
def test_bad_step_h(h):
    with pytest.raises(ValueError, match=r"h must be a finite step size > 0"):
        solutions.numerical_gradient(lambda v: float(np.sum(v)), np.ones(3), h)
