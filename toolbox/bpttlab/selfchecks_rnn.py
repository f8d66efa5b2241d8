"""Visible self-checks for notebooks 01 (unrolling) and 02 (BPTT).

Legend: N batch size, T time steps, D input size, H hidden size.

Each check takes the student's function (and, where a gradient is checked,
the student's own numerical_gradient) as arguments, raises an AssertionError
that says what is wrong, and prints one line per part that passed. The checks
never compare with the reference solution: they use
- shapes, dtypes, finiteness, untouched arguments;
- tiny cases worked out by hand (the arithmetic is written in the comments);
- gradient checks against central differences of the student's numerical_gradient;
- consistency between the student's own functions.
The sizes avoid the cases where bugs hide (D != H, N > 1, T > 1, h0 != 0,
non-symmetric Wh), as listed in NOTES.md.
"""
import numpy as np

from .checking import expect_close, expect_shape, passed, self_check
from .gradcheck_tools import check_backward, gradient_error


# ---------------------------------------------------------------- shared pieces

def random_rnn(N, T, D, H, seed=0):
    """A random tanh RNN problem with a non-zero h0 and a non-symmetric Wh.

    Returns a dict with x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,),
    in rnn_forward's argument order (float64, drawn from np.random.default_rng(seed)).
    """
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((N, T, D)),
            "h0": 0.5 * rng.standard_normal((N, H)),
            "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
            "Wh": 0.9 * rng.standard_normal((H, H)) / np.sqrt(H),
            "b": 0.3 * rng.standard_normal(H)}


def _expect_agree(name, got, want, tol=1e-10):
    """Two computations of the same quantity agree up to rounding, relative to the arrays' scale.

    (Element-wise relative errors would flag harmless rounding in entries close to 0.)
    """
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shapes differ, {got.shape} vs {want.shape}")
    err = gradient_error(got, want)
    if not err <= tol:
        raise AssertionError(f"{name}: they differ by {err:.1e} relative to their size (should be below {tol:.0e})")


def _copies(arrays):
    return {name: np.array(a, copy=True) for name, a in arrays.items()}


def _expect_untouched(fn_name, arrays, before):
    for name, a in arrays.items():
        if not np.array_equal(a, before[name]):
            raise AssertionError(f"{fn_name} changed its argument {name}; compute new arrays instead")


def _expect_fresh(name, value, arrays):
    """value is a new float64 ndarray, not a view of any argument."""
    if type(value) is not np.ndarray or value.dtype != np.float64:
        raise AssertionError(f"{name} should be a numpy float64 array; got {type(value).__name__} "
                             f"of dtype {getattr(value, 'dtype', None)}")
    for arg_name, a in arrays.items():
        if np.shares_memory(value, a):
            raise AssertionError(f"{name} shares memory with the argument {arg_name}; return a new array")


def _expect_cache(fn_name, cache, want):
    """cache is a tuple equal, entry by entry, to the list of (name, array) pairs `want`."""
    names = ", ".join(n for n, _ in want)
    if not isinstance(cache, tuple) or len(cache) != len(want):
        raise AssertionError(f"{fn_name} should return the cache as the tuple ({names})")
    for (name, a), c in zip(want, cache):
        if not (isinstance(c, np.ndarray) and c.shape == np.shape(a) and np.array_equal(c, a)):
            raise AssertionError(f"{fn_name}: the cache should be ({names}); its entry {name} is not {name}")


# ---------------------------------------------------------------- notebook 01

@self_check
def check_rnn_step_forward(rnn_step_forward):
    """Self-check of rnn_step_forward(x_t, h_prev, Wx, Wh, b) -> (h_next, cache).

    1. A case worked out by hand (N = 2, D = 2, H = 3, Wh not symmetric).
    2. Shapes, float64, finite, |h_next| < 1, arguments untouched, the step cache.
    """
    # 1. By hand. Row 0: x_t @ Wx = [0.5, -1, 0], h_prev @ Wh = [0, 0, 0]
    #    Row 1: x_t @ Wx = [0, 0.5, 2],  h_prev @ Wh = [0.5*h_prev[2], 0.5*h_prev[0], 0.5*h_prev[1]]
    #                                                = [0.25, 0.5, -0.5]
    #    Adding b = [0.1, 0, -0.1] gives the pre-activations a below.
    x_t = np.array([[1.0, 0.0], [0.0, 2.0]])
    h_prev = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    Wx = np.array([[0.5, -1.0, 0.0], [0.0, 0.25, 1.0]])
    Wh = np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 0.5], [0.5, 0.0, 0.0]])
    b = np.array([0.1, 0.0, -0.1])
    a = np.array([[0.6, -1.0, -0.1], [0.35, 1.0, 1.4]])
    h_next, cache = rnn_step_forward(x_t, h_prev, Wx, Wh, b)
    expect_shape("h_next", h_next, (2, 3))
    if np.allclose(h_next, a):
        raise AssertionError("h_next equals the pre-activation a: apply tanh")
    # With Wh transposed, row 1 would read h_prev @ Wh.T = [-0.5, 0.25, 0.5], so a = [-0.4, 0.75, 2.4].
    a_transposed = np.array([[0.6, -1.0, -0.1], [-0.4, 0.75, 2.4]])
    if np.allclose(h_next, np.tanh(a_transposed)):
        raise AssertionError("h_next looks like it used Wh transposed: the state is a row vector, h_prev @ Wh")
    expect_close("h_next on the hand-worked case", h_next, np.tanh(a), tol=1e-12)
    passed("rnn_step_forward: hand-worked case (N=2, D=2, H=3) is right")

    # 2. Shapes and the contract on random inputs.
    p = random_rnn(N=3, T=1, D=4, H=5, seed=1)
    args = {"x_t": p["x"][:, 0], "h_prev": p["h0"], "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}
    before = _copies(args)
    h_next, cache = rnn_step_forward(*args.values())
    expect_shape("h_next", h_next, (3, 5))
    _expect_fresh("h_next", h_next, args)
    _expect_untouched("rnn_step_forward", args, before)
    if not np.all(np.abs(h_next) < 1):
        raise AssertionError("every entry of h_next = tanh(...) should lie strictly between -1 and 1")
    _expect_cache("rnn_step_forward", cache,
                  [("x_t", args["x_t"]), ("h_prev", args["h_prev"]), ("Wx", args["Wx"]),
                   ("Wh", args["Wh"]), ("h_next", h_next)])
    passed("rnn_step_forward: shapes (N=3, D=4, H=5), float64, arguments untouched, cache format")


@self_check
def check_rnn_forward(rnn_forward, rnn_step_forward=None):
    """Self-check of rnn_forward(x, h0, Wx, Wh, b) -> (h, cache).

    1. A scalar RNN over 3 steps worked out by hand (h0 != 0).
    2. Shapes, float64, arguments untouched, the sequence cache, T = 1.
    3. Causality: h[:, t] does not depend on inputs after step t.
    4. The samples of a batch do not mix.
    5. If rnn_step_forward is given: h[:, t] is one step from h[:, t-1].
    """
    # 1. By hand, N = D = H = 1, Wx = 1, Wh = 0.5, b = 0, h0 = 0.5, x = (1, 0, -1):
    #    h_0 = tanh(1 + 0.5*0.5) = tanh(1.25),  h_1 = tanh(0 + 0.5*h_0),  h_2 = tanh(-1 + 0.5*h_1)
    x = np.array([1.0, 0.0, -1.0]).reshape(1, 3, 1)
    h0 = np.array([[0.5]])
    h_0 = np.tanh(1.25)
    h_1 = np.tanh(0.5 * h_0)
    h_2 = np.tanh(-1 + 0.5 * h_1)
    h, cache = rnn_forward(x, h0, np.array([[1.0]]), np.array([[0.5]]), np.array([0.0]))
    expect_shape("h", h, (1, 3, 1))
    if np.isclose(h[0, 0, 0], np.tanh(1.0)):
        raise AssertionError("h[:, 0] ignores h0: the first step must start from h_{-1} = h0, not zeros")
    expect_close("h on the hand-worked scalar case", h.ravel(), [h_0, h_1, h_2], tol=1e-12)
    passed("rnn_forward: hand-worked scalar case over 3 steps (h0 = 0.5) is right")

    # 2. Shapes and the contract.
    p = random_rnn(N=2, T=5, D=3, H=4, seed=2)
    before = _copies(p)
    h, cache = rnn_forward(*p.values())
    expect_shape("h", h, (2, 5, 4))
    _expect_fresh("h", h, p)
    _expect_untouched("rnn_forward", p, before)
    _expect_cache("rnn_forward", cache, [("x", p["x"]), ("h0", p["h0"]), ("Wx", p["Wx"]), ("Wh", p["Wh"]),
                                         ("h", h)])
    q = random_rnn(N=2, T=1, D=3, H=4, seed=3)
    expect_shape("h for T = 1", rnn_forward(*q.values())[0], (2, 1, 4))
    passed("rnn_forward: shapes (N=2, T=5, D=3, H=4 and T=1), float64, arguments untouched, cache format")

    # 3. Causality: change the input at step 3 only.
    x2 = p["x"].copy()
    x2[:, 3] += 1.0
    h2 = rnn_forward(x2, *list(p.values())[1:])[0]
    if not np.array_equal(h2[:, :3], h[:, :3]):
        raise AssertionError("changing x[:, 3] changed h[:, :3]: a state may only depend on earlier inputs")
    if np.allclose(h2[:, 3:], h[:, 3:]):
        raise AssertionError("changing x[:, 3] did not change h[:, 3:]: does step t read x[:, t]?")
    passed("rnn_forward: h[:, t] depends on x[:, :t+1] only")

    # 4. Each sample on its own gives the same states.
    for n in range(2):
        alone = rnn_forward(p["x"][n:n + 1], p["h0"][n:n + 1], p["Wx"], p["Wh"], p["b"])[0]
        _expect_agree(f"sample {n} run alone vs in the batch", alone[0], h[n])
    passed("rnn_forward: samples of the batch are independent")

    # 5. Agreement with the student's own step.
    if rnn_step_forward is not None:
        h_prev = p["h0"]
        for t in range(5):
            step = rnn_step_forward(p["x"][:, t], h_prev, p["Wx"], p["Wh"], p["b"])[0]
            _expect_agree(f"h[:, {t}] vs rnn_step_forward from h[:, {t - 1}]", h[:, t], step)
            h_prev = h[:, t]
        passed("rnn_forward agrees with your rnn_step_forward at every step")


# ---------------------------------------------------------------- notebook 02

@self_check
def check_numerical_gradient(numerical_gradient):
    """Self-check of numerical_gradient(f, x, h=1e-5) -> grad.

    Known gradients: sum(x**2) -> 2x; sum(w * sin(x)) -> w cos(x) on a 3-D
    array; a 0-d array; the cubic sum(x**3), whose central difference is
    exactly 3x**2 + h**2 (so both the formula and the step h are checked);
    x untouched; f always receives an array shaped like x.
    """
    rng = np.random.default_rng(4)

    x = rng.standard_normal((2, 3))
    before = x.copy()
    seen_shapes = set()

    def square(v):
        seen_shapes.add(np.shape(v))
        return float(np.sum(v ** 2))

    grad = numerical_gradient(square, x)
    expect_shape("grad of sum(x**2)", grad, (2, 3))
    if not np.array_equal(x, before):
        raise AssertionError("numerical_gradient changed x: restore every entry (or work on a copy)")
    if seen_shapes != {(2, 3)}:
        raise AssertionError(f"f should always be called with an array shaped like x (2, 3); got {seen_shapes}")
    # One-sided differences give ((x+h)^2 - x^2) / h = 2x + h here.
    if np.allclose(grad, 2 * x + 1e-5, rtol=0, atol=1e-8) or np.allclose(grad, 2 * x - 1e-5, rtol=0, atol=1e-8):
        raise AssertionError("that is a one-sided difference (f(x+h) - f(x)) / h; use the central one")
    _expect_agree("grad of sum(x**2) vs 2x", grad, 2 * x, tol=1e-8)
    passed("numerical_gradient: sum(x**2) on a (2, 3) array gives 2x; x untouched")

    w = rng.standard_normal((2, 3, 4))
    x3 = rng.standard_normal((2, 3, 4))
    grad = numerical_gradient(lambda v: float(np.sum(w * np.sin(v))), x3)
    expect_shape("grad of sum(w * sin(x))", grad, (2, 3, 4))
    _expect_agree("grad of sum(w * sin(x)) vs w cos(x)", grad, w * np.cos(x3), tol=1e-8)
    passed("numerical_gradient: sum(w * sin(x)) on a (2, 3, 4) array gives w cos(x)")

    grad = numerical_gradient(lambda v: float(v ** 2), np.array(1.5))
    expect_shape("grad for a 0-d array", np.asarray(grad), ())
    _expect_agree("grad of x**2 at 1.5", grad, 3.0, tol=1e-8)
    passed("numerical_gradient: works for a 0-d array")

    # ((x+h)^3 - (x-h)^3) / (2h) = 3x^2 + h^2 exactly; a one-sided difference gives 3x^2 + 3xh + h^2.
    xc = np.array([-1.0, 0.5, 2.0])
    step = 1e-2
    grad = numerical_gradient(lambda v: float(np.sum(v ** 3)), xc, step)
    if np.allclose(grad, 3 * xc ** 2 + 3 * xc * step + step ** 2, atol=1e-9):
        raise AssertionError("that is a one-sided difference (f(x+h) - f(x)) / h; use the central one")
    _expect_agree("central difference of sum(x**3) with h = 1e-2 vs 3x^2 + h^2", grad, 3 * xc ** 2 + step ** 2,
                  tol=1e-9)
    passed("numerical_gradient: central differences with the step h you pass")


def _expect_working_numerical_gradient(numerical_gradient):
    """Refuse to judge a backward pass with a numerical_gradient that fails sum(x**2) -> 2x."""
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    try:
        grad = np.asarray(numerical_gradient(lambda v: float(np.sum(v ** 2)), x.copy()), dtype=np.float64)
        ok = grad.shape == x.shape and gradient_error(grad, 2 * x) < 1e-6
    except NotImplementedError:
        raise
    except Exception as e:                          # report the checker, not the backward pass
        raise AssertionError(f"your numerical_gradient fails on sum(x**2) ({type(e).__name__}: {e}); "
                             "fix it first (run its self-check)") from e
    if not ok:
        raise AssertionError("your numerical_gradient gets sum(x**2) wrong, so it cannot check a backward pass; "
                             "fix it first (run its self-check)")


def _hand_step_cache():
    """N = D = H = 1: x_t = 2, h_prev = 0.5, Wx = 0.3, Wh = -0.4, b = 0.1, so a = 0.6 - 0.2 + 0.1 = 0.5."""
    x_t, h_prev = np.array([[2.0]]), np.array([[0.5]])
    Wx, Wh = np.array([[0.3]]), np.array([[-0.4]])
    return (x_t, h_prev, Wx, Wh, np.array([[np.tanh(0.5)]]))


@self_check
def check_rnn_step_backward(rnn_step_backward, rnn_step_forward, numerical_gradient):
    """Self-check of rnn_step_backward(dh_next, cache) -> (dx_t, dh_prev, dWx, dWh, db).

    1. A scalar step worked out by hand (the tanh derivative at the right state).
    2. A gradient check of all five gradients with your numerical_gradient
       (N = 3, D = 4, H = 5), dh_next untouched.
    """
    # 1. By hand: h_next = tanh(0.5), dh_next = 1, so da = 1 - tanh(0.5)^2 and
    #    dx_t = da*Wx = 0.3 da, dh_prev = da*Wh = -0.4 da, dWx = x_t*da = 2 da, dWh = h_prev*da = 0.5 da, db = da.
    da = 1 - np.tanh(0.5) ** 2
    grads = rnn_step_backward(np.array([[1.0]]), _hand_step_cache())
    names = ("dx_t", "dh_prev", "dWx", "dWh", "db")
    if not isinstance(grads, tuple) or len(grads) != 5:
        raise AssertionError("rnn_step_backward should return the tuple (dx_t, dh_prev, dWx, dWh, db)")
    wants = (0.3 * da, -0.4 * da, 2 * da, 0.5 * da, da)
    if np.size(grads[4]) == 1 and np.isclose(np.ravel(grads[4])[0], 1 - 0.5 ** 2):
        raise AssertionError("db = 1 - h_prev^2 = 0.75 here: take tanh' at the new state, 1 - h_next^2")
    shapes = ((1, 1), (1, 1), (1, 1), (1, 1), (1,))
    for name, got, want, shape in zip(names, grads, wants, shapes):
        expect_shape(name, got, shape)
        expect_close(f"{name} on the hand-worked scalar step", got, np.full(shape, want), tol=1e-12)
    passed("rnn_step_backward: hand-worked scalar step is right")

    # 2. Gradient check.
    _expect_working_numerical_gradient(numerical_gradient)
    p = random_rnn(N=3, T=1, D=4, H=5, seed=5)
    inputs = {"x_t": p["x"][:, 0], "h_prev": p["h0"], "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}
    errors = check_backward(rnn_step_backward, rnn_step_forward, inputs, numerical_gradient, seed=6)
    passed("rnn_step_backward: all five gradients match your numerical_gradient (N=3, D=4, H=5); "
           f"largest error {max(errors.values()):.1e}")


@self_check
def check_rnn_backward(rnn_backward, rnn_forward, numerical_gradient, rnn_step_backward=None):
    """Self-check of rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db).

    1. Gradient checks with your numerical_gradient on the loss sum(dh * h) for
       (N, T, D, H) = (2, 5, 3, 4), (2, 4, 3, 3) (D == H) and (2, 1, 3, 4) (T = 1).
    2. A loss at the last step only must reach every earlier step (the carried gradient).
    3. If rnn_step_backward is given: for T = 1 both agree.
    """
    _expect_working_numerical_gradient(numerical_gradient)
    for N, T, D, H in ((2, 5, 3, 4), (2, 4, 3, 3), (2, 1, 3, 4)):
        p = random_rnn(N, T, D, H, seed=7 + T)
        errors = check_backward(rnn_backward, rnn_forward, p, numerical_gradient, seed=T)
        passed(f"rnn_backward: dx, dh0, dWx, dWh, db match your numerical_gradient for N={N}, T={T}, D={D}, "
               f"H={H}; largest error {max(errors.values()):.1e}")

    p = random_rnn(N=2, T=5, D=3, H=4, seed=12)
    h, cache = rnn_forward(*p.values())
    dh = np.zeros_like(h)
    dh[:, -1] = 1.0
    dx = rnn_backward(dh, cache)[0]
    reached = [t for t in range(5) if np.any(dx[:, t] != 0)]
    if reached != list(range(5)):
        raise AssertionError(f"with a loss at the last step only, dx is non-zero at steps {reached}; it should "
                             "reach every step: add the gradient carried back from step t+1")
    passed("rnn_backward: a loss at the last step sends gradient back to every step")

    if rnn_step_backward is not None:
        p = random_rnn(N=2, T=1, D=3, H=4, seed=13)
        h, cache = rnn_forward(*p.values())
        dh = np.random.default_rng(14).standard_normal(h.shape)
        seq = rnn_backward(dh, cache)
        x, h0, Wx, Wh, _ = cache
        step = rnn_step_backward(dh[:, 0], (x[:, 0], h0, Wx, Wh, h[:, 0]))
        for name, a, b_ in zip(("dx[:, 0]", "dh0", "dWx", "dWh", "db"), (seq[0][:, 0],) + seq[1:], step):
            _expect_agree(f"{name}: rnn_backward vs rnn_step_backward for T = 1", a, b_)
        passed("rnn_backward agrees with your rnn_step_backward when T = 1")


def untied_contribution(rnn_forward, rnn_step_forward, numerical_gradient, problem, dh, t, s):
    """The term that the loss L_t deposits at step s, measured directly with untied weights.

    Give step s its own copy of Wh (call it Wh_s) and leave every other step
    with Wh. Then dL_t/dWh_s is exactly the term h_{s-1}^T @ da_s^(t) of BPTT
    (the chain rule through the copy used at step s only). It is computed here
    by restarting the forward pass at step s with your rnn_forward and
    rnn_step_forward, and differentiating with your numerical_gradient.

    Inputs:
    - problem: dict with x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)
    - dh: array of shape (N, T, H); L_t = sum(dh[:, t] * h[:, t])
    - t, s: loss step and deposit step, 0 <= s <= t < T

    Returns dL_t/dWh_s, an array of shape (H, H).
    """
    x, h0, Wx, Wh, b = (problem[k] for k in ("x", "h0", "Wx", "Wh", "b"))
    if not 0 <= s <= t < x.shape[1]:
        raise ValueError(f"need 0 <= s <= t < T = {x.shape[1]}; got t = {t}, s = {s}")
    h_before = h0 if s == 0 else rnn_forward(x[:, :s], h0, Wx, Wh, b)[0][:, -1]     # h_{s-1}

    def loss_t(Wh_s):
        h_s = rnn_step_forward(x[:, s], h_before, Wx, Wh_s, b)[0]
        h_t = h_s if t == s else rnn_forward(x[:, s + 1:t + 1], h_s, Wx, Wh, b)[0][:, -1]
        return float(np.sum(dh[:, t] * h_t))

    return numerical_gradient(loss_t, Wh.copy())


@self_check
def check_gradient_contributions(gradient_contributions, rnn_forward, rnn_step_forward, numerical_gradient,
                                 rnn_backward=None):
    """Self-check of gradient_contributions(dh, cache) -> C (T, T).

    1. Shape (T, T), finite, non-negative, zero above the diagonal (s > t).
    2. Every C[t, s] equals the norm of the untied-weights derivative
       dL_t/dWh_s (see untied_contribution), measured with your numerical_gradient.
    3. If rnn_backward is given: for T = 1, C[0, 0] = ||dWh|| (one term is all of dWh).
    """
    _expect_working_numerical_gradient(numerical_gradient)
    p = random_rnn(N=2, T=4, D=3, H=3, seed=15)
    h, cache = rnn_forward(*p.values())
    dh = np.random.default_rng(16).standard_normal(h.shape)
    dh_before = dh.copy()
    C = gradient_contributions(dh, cache)
    expect_shape("C", C, (4, 4))
    if not np.array_equal(dh, dh_before):
        raise AssertionError("gradient_contributions changed dh; compute new arrays instead")
    if np.any(np.triu(C, k=1) != 0):
        raise AssertionError("C[t, s] must be 0 for s > t: a loss at step t sends no signal to later steps")
    if np.any(C < 0):
        raise AssertionError("C holds norms: every entry must be >= 0")
    passed("gradient_contributions: shape (T, T), finite, >= 0, zero above the diagonal")

    want = np.zeros((4, 4))
    for t in range(4):
        for s in range(t + 1):
            want[t, s] = np.linalg.norm(untied_contribution(rnn_forward, rnn_step_forward, numerical_gradient,
                                                            p, dh, t, s))
    err = gradient_error(C, want)
    if not err <= 1e-6:
        t, s = (int(i) for i in np.unravel_index(np.argmax(np.abs(C - want)), C.shape))
        raise AssertionError(f"C disagrees with the untied-weights measurement: error {err:.1e}; worst at "
                             f"t = {t}, s = {s}: yours {C[t, s]:.6g}, measured {want[t, s]:.6g}")
    passed(f"gradient_contributions: every C[t, s] matches ||dL_t/dWh_s|| with untied weights (error {err:.1e})")

    if rnn_backward is not None:
        q = random_rnn(N=2, T=1, D=3, H=4, seed=17)
        h1, cache1 = rnn_forward(*q.values())
        dh1 = np.random.default_rng(18).standard_normal(h1.shape)
        dWh = rnn_backward(dh1, cache1)[3]
        expect_close("C[0, 0] vs ||dWh|| of your rnn_backward for T = 1", gradient_contributions(dh1, cache1),
                     [[np.linalg.norm(dWh)]], tol=1e-10)
        passed("gradient_contributions: for T = 1 the single term is all of dWh, as in your rnn_backward")
