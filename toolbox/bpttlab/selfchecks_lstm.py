"""Visible self-checks for notebook 05 (gated cells): lstm_step_forward, lstm_forward,
lstm_step_backward, lstm_backward.

Legend: N batch size, T time steps, D input size, H hidden size.
Gates in the contract's order i, f, g, o (PyTorch's): a = x_t Wx + h_prev Wh + b,
i = sigmoid(a[:, :H]), f = sigmoid(a[:, H:2H]), g = tanh(a[:, 2H:3H]), o = sigmoid(a[:, 3H:]),
c_next = f c_prev + i g, h_next = o tanh(c_next) (element-wise products).

Like every self-check of the course, they never compare with the reference
solution: a cell worked out by hand (written so that the usual mistakes give
other, recognisable numbers), shapes, untouched arguments, the cache format,
consistency between the student's own functions, and gradient checks with
the student's own numerical_gradient (notebook 02). Sizes avoid the cases
where bugs hide: D != H, N > 1, T > 1, non-zero h0 and c0, dc_next != 0.
"""
import numpy as np

from .checking import expect_close, expect_shape, passed, self_check
from .gradcheck_tools import check_backward
from .selfchecks_rnn import (_copies, _expect_agree, _expect_cache, _expect_fresh, _expect_untouched,
                             _expect_working_numerical_gradient)

STEP_CACHE = ("x_t", "h_prev", "c_prev", "Wx", "Wh", "gates", "c_next")
SEQUENCE_CACHE = ("x", "h0", "c0", "Wx", "Wh", "gates", "c", "h")


def random_lstm(N, T, D, H, seed=0):
    """A random LSTM problem with non-zero h0 and c0 and gates away from saturation.

    Returns a dict x (N, T, D), h0 (N, H), c0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,),
    in lstm_forward's argument order (float64, drawn from np.random.default_rng(seed)).
    """
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((N, T, D)),
            "h0": 0.5 * rng.standard_normal((N, H)),
            "c0": rng.standard_normal((N, H)),
            "Wx": rng.standard_normal((D, 4 * H)) / np.sqrt(D),
            "Wh": 0.9 * rng.standard_normal((H, 4 * H)) / np.sqrt(H),
            "b": 0.3 * rng.standard_normal(4 * H)}


# ---------------------------------------------------------------- the cell worked out by hand
#
# N = D = H = 1, x_t = 1, h_prev = 0.5, c_prev = 2, b = 0,
# Wx = [0, ln 3, 0, -ln 3] and Wh = [0, 0, 2 ln 2, 0] (blocks i, f, g, o), so the
# pre-activations are a = [0, ln 3, ln 2, -ln 3] and, since sigmoid(ln 3) = 3/4,
# sigmoid(-ln 3) = 1/4 and tanh(ln 2) = (4 - 1) / (4 + 1) = 3/5:
#     i = 1/2, f = 3/4, g = 3/5, o = 1/4,
#     c_next = f c_prev + i g = 3/2 + 3/10 = 1.8,     h_next = o * tanh(c_next) = tanh(1.8) / 4.
HAND = {"x_t": np.array([[1.0]]), "h_prev": np.array([[0.5]]), "c_prev": np.array([[2.0]]),
        "Wx": np.array([[0.0, np.log(3), 0.0, -np.log(3)]]), "Wh": np.array([[0.0, 0.0, 2 * np.log(2), 0.0]]),
        "b": np.zeros(4)}
HAND_GATES = np.array([[0.5, 0.75, 0.6, 0.25]])
HAND_C = 1.8
HAND_H = np.tanh(1.8) / 4
# What the usual mistakes give on the same cell (each worked out the same way):
HAND_WRONG_C = {
    # i, f, o, g (CS231n's order): o = sigmoid(ln 2) = 2/3, g = tanh(-ln 3) = -4/5, c = 3/2 - 2/5
    1.1: "looks like the gate order i, f, o, g (CS231n's); the contract's order is i, f, g, o (PyTorch's)",
    # forget gate on the candidate, input gate on the old cell: 3/4 * 3/5 + 1/2 * 2
    1.45: "looks like f multiplies g and i multiplies c_prev; c_next is f * c_prev plus i * g",
    # g through a sigmoid: sigmoid(ln 2) = 2/3, c = 3/2 + 1/3
    1.5 + 1 / 3: "looks like g went through a sigmoid; the candidate g uses tanh",
}


def _hand_step_cache():
    """The step cache of the hand-worked cell: (x_t, h_prev, c_prev, Wx, Wh, gates, c_next)."""
    return (HAND["x_t"], HAND["h_prev"], HAND["c_prev"], HAND["Wx"], HAND["Wh"], HAND_GATES.copy(),
            np.array([[HAND_C]]))


def _step_args(p):
    """The arguments of lstm_step_forward for step 0 of a random_lstm problem, by name."""
    return {"x_t": p["x"][:, 0], "h_prev": p["h0"], "c_prev": p["c0"], "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}


def _split(gates):
    H = gates.shape[-1] // 4
    return gates[..., :H], gates[..., H:2 * H], gates[..., 2 * H:3 * H], gates[..., 3 * H:]


# ---------------------------------------------------------------- lstm_step_forward

@self_check
def check_lstm_step_forward(lstm_step_forward):
    """Self-check of lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b) -> (h_next, c_next, cache).

    1. The cell worked out by hand (N = D = H = 1): the gates, c_next and h_next.
    2. Shapes (N = 3, D = 4, H = 5), float64, arguments untouched, the step cache,
       gates in range, and c_next, h_next consistent with the gates in the cache.
    3. Pre-activations of size 1000 give finite values (sigmoid and tanh saturate).
    """
    result = lstm_step_forward(*HAND.values())
    if not (isinstance(result, tuple) and len(result) == 3):
        raise AssertionError("lstm_step_forward should return the tuple (h_next, c_next, cache)")
    h_next, c_next, cache = result
    expect_shape("c_next", c_next, (1, 1))
    expect_shape("h_next", h_next, (1, 1))
    for wrong, why in HAND_WRONG_C.items():
        if np.isclose(c_next[0, 0], wrong, rtol=0, atol=1e-9):
            raise AssertionError(f"c_next on the hand-worked cell is {c_next[0, 0]:.4f}, not 1.8: {why}")
    expect_close("c_next on the hand-worked cell (f * c_prev + i * g = 0.75 * 2 + 0.5 * 0.6 = 1.8)",
                 c_next, [[HAND_C]], tol=1e-12)
    if np.isclose(h_next[0, 0], 0.25 * HAND_C, rtol=0, atol=1e-9):
        raise AssertionError("h_next = o * c_next: the cell goes through tanh first, h_next = o * tanh(c_next)")
    expect_close("h_next on the hand-worked cell (o * tanh(c_next) = tanh(1.8) / 4)", h_next, [[HAND_H]], tol=1e-12)
    passed("lstm_step_forward: hand-worked cell (gates 0.5, 0.75, 0.6, 0.25; c_next = 1.8) is right")

    p = random_lstm(N=3, T=1, D=4, H=5, seed=1)
    args = _step_args(p)
    before = _copies(args)
    h_next, c_next, cache = lstm_step_forward(*args.values())
    expect_shape("h_next", h_next, (3, 5))
    expect_shape("c_next", c_next, (3, 5))
    _expect_fresh("h_next", h_next, args)
    _expect_fresh("c_next", c_next, args)
    _expect_untouched("lstm_step_forward", args, before)
    if not (isinstance(cache, tuple) and len(cache) == 7):
        raise AssertionError(f"the step cache should be the tuple ({', '.join(STEP_CACHE)})")
    gates = cache[5]
    expect_shape("cache[5] (gates)", gates, (3, 20))
    _expect_cache("lstm_step_forward", cache,
                  [("x_t", args["x_t"]), ("h_prev", args["h_prev"]), ("c_prev", args["c_prev"]), ("Wx", args["Wx"]),
                   ("Wh", args["Wh"]), ("gates", gates), ("c_next", c_next)])
    i, f, g, o = _split(gates)
    if not (np.all((i > 0) & (i < 1)) and np.all((f > 0) & (f < 1)) and np.all((o > 0) & (o < 1))):
        raise AssertionError("the gates i, f, o in the cache should lie between 0 and 1 (sigmoids); "
                             "store the activated gates, not the pre-activations")
    if not np.all(np.abs(g) < 1):
        raise AssertionError("the candidate g in the cache should lie between -1 and 1 (a tanh)")
    _expect_agree("c_next vs f * c_prev + i * g with the gates in your cache", c_next, f * args["c_prev"] + i * g)
    _expect_agree("h_next vs o * tanh(c_next) with the gates in your cache", h_next, o * np.tanh(c_next))
    passed("lstm_step_forward: shapes (N=3, D=4, H=5), float64, arguments untouched, cache format, "
           "gates in range and consistent with c_next and h_next")

    with np.errstate(all="ignore"):            # a warning is not an error here; a nan or inf is
        big = lstm_step_forward(1000 * args["x_t"], args["h_prev"], args["c_prev"], args["Wx"], args["Wh"], args["b"])
    for name, value in (("h_next", big[0]), ("c_next", big[1]), ("gates", big[2][5])):
        if not np.all(np.isfinite(value)):
            raise AssertionError(f"with pre-activations near +-1000, {name} has inf or nan: a sigmoid written as "
                                 "1 / (1 + exp(-a)) still works (exp overflows to inf, 1 / inf = 0), but "
                                 "e.g. exp(a) / (1 + exp(a)) gives inf / inf = nan")
    passed("lstm_step_forward: pre-activations near +-1000 give finite values")


# ---------------------------------------------------------------- lstm_forward

@self_check
def check_lstm_forward(lstm_forward, lstm_step_forward=None):
    """Self-check of lstm_forward(x, h0, c0, Wx, Wh, b) -> (h, cache).

    1. Step 0 of the hand-worked cell: h[:, 0] = tanh(1.8) / 4 (starts from h0 and c0).
    2. Shapes (N = 2, T = 5, D = 3, H = 4 and T = 1), float64, arguments untouched, the sequence cache.
    3. Causality: h[:, t] does not depend on inputs after step t.
    4. If lstm_step_forward is given: every step agrees with it (h, c and gates).
    """
    x = np.concatenate([HAND["x_t"][:, None], np.zeros((1, 1, 1))], axis=1)      # (1, 2, 1): 1, then 0
    h, cache = lstm_forward(x, HAND["h_prev"], HAND["c_prev"], HAND["Wx"], HAND["Wh"], HAND["b"])
    expect_shape("h", h, (1, 2, 1))
    if not (isinstance(cache, tuple) and len(cache) == 8):
        raise AssertionError(f"the sequence cache should be the tuple ({', '.join(SEQUENCE_CACHE)})")
    c = np.asarray(cache[6])
    if c.shape == (1, 2, 1) and np.isclose(c[0, 0, 0], 0.5 * 0.6, atol=1e-9):
        raise AssertionError("c[:, 0] = i * g = 0.3 on the hand-worked cell: the first step must start from "
                             "c_{-1} = c0 (here 2), not zeros")
    expect_close("c[:, 0] on the hand-worked cell (1.8)", c[:, 0], [[HAND_C]], tol=1e-12)
    expect_close("h[:, 0] on the hand-worked cell (tanh(1.8) / 4)", h[:, 0], [[HAND_H]], tol=1e-12)
    passed("lstm_forward: step 0 of the hand-worked cell (from h0 = 0.5, c0 = 2) is right")

    p = random_lstm(N=2, T=5, D=3, H=4, seed=2)
    before = _copies(p)
    h, cache = lstm_forward(*p.values())
    expect_shape("h", h, (2, 5, 4))
    _expect_fresh("h", h, p)
    _expect_untouched("lstm_forward", p, before)
    if not (isinstance(cache, tuple) and len(cache) == 8):
        raise AssertionError(f"the sequence cache should be the tuple ({', '.join(SEQUENCE_CACHE)})")
    expect_shape("cache[5] (gates)", cache[5], (2, 5, 16))
    expect_shape("cache[6] (c)", cache[6], (2, 5, 4))
    _expect_cache("lstm_forward", cache, [("x", p["x"]), ("h0", p["h0"]), ("c0", p["c0"]), ("Wx", p["Wx"]),
                                          ("Wh", p["Wh"]), ("gates", cache[5]), ("c", cache[6]), ("h", h)])
    q = random_lstm(N=2, T=1, D=3, H=4, seed=3)
    expect_shape("h for T = 1", lstm_forward(*q.values())[0], (2, 1, 4))
    passed("lstm_forward: shapes (N=2, T=5, D=3, H=4 and T=1), float64, arguments untouched, cache format")

    x2 = p["x"].copy()
    x2[:, 3] += 1.0
    h2 = lstm_forward(x2, *list(p.values())[1:])[0]
    if not np.array_equal(h2[:, :3], h[:, :3]):
        raise AssertionError("changing x[:, 3] changed h[:, :3]: a state may only depend on earlier inputs")
    if np.allclose(h2[:, 3:], h[:, 3:]):
        raise AssertionError("changing x[:, 3] did not change h[:, 3:]: does step t read x[:, t]?")
    passed("lstm_forward: h[:, t] depends on x[:, :t+1] only")

    if lstm_step_forward is not None:
        _, _, _, Wx, Wh, b = p.values()
        gates, c = cache[5], cache[6]
        h_prev, c_prev = p["h0"], p["c0"]
        for t in range(5):
            h_t, c_t, step = lstm_step_forward(p["x"][:, t], h_prev, c_prev, Wx, Wh, b)
            _expect_agree(f"h[:, {t}] vs lstm_step_forward from step {t - 1}", h[:, t], h_t)
            _expect_agree(f"c[:, {t}] (cache) vs lstm_step_forward from step {t - 1}", c[:, t], c_t)
            _expect_agree(f"gates[:, {t}] (cache) vs lstm_step_forward's", gates[:, t], step[5])
            h_prev, c_prev = h[:, t], c[:, t]
        passed("lstm_forward agrees with your lstm_step_forward at every step (h, c and gates)")


# ---------------------------------------------------------------- lstm_step_backward

def _step_pair(lstm_step_forward, lstm_step_backward):
    """(forward, backward) of one step with the two outputs stacked: out = [h_next, c_next] (2, N, H).

    Lets gradcheck_tools.check_backward check L = sum(dh_next * h_next) + sum(dc_next * c_next).
    """
    def forward(x_t, h_prev, c_prev, Wx, Wh, b):
        h_next, c_next, cache = lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b)
        return np.stack([h_next, c_next]), cache

    def backward(dout, cache):
        return lstm_step_backward(dout[0], dout[1], cache)
    return forward, backward


@self_check
def check_lstm_step_backward(lstm_step_backward, lstm_step_forward, numerical_gradient):
    """Self-check of lstm_step_backward(dh_next, dc_next, cache) -> (dx_t, dh_prev, dc_prev, dWx, dWh, db).

    1. The hand-worked cell: with dh_next = 0 and dc_next = 1 only the cell path is used, so
       dc_prev = f = 0.75 and db = [g i (1-i), c_prev f (1-f), i (1-g^2), 0] = [0.15, 0.375, 0.32, 0];
       with dh_next = 1 and dc_next = 0 the gradient reaches c_next through tanh: dc_prev = f o (1 - tanh(1.8)^2).
    2. A gradient check of all six gradients with your numerical_gradient on
       L = sum(dh_next * h_next) + sum(dc_next * c_next), for D != H and D == H.
    """
    grads = lstm_step_backward(np.zeros((1, 1)), np.ones((1, 1)), _hand_step_cache())
    names = ("dx_t", "dh_prev", "dc_prev", "dWx", "dWh", "db")
    if not isinstance(grads, tuple) or len(grads) != 6:
        raise AssertionError(f"lstm_step_backward should return the tuple ({', '.join(names)})")
    dc_prev, db = grads[2], grads[5]
    expect_shape("dc_prev", dc_prev, (1, 1))
    expect_shape("db", db, (4,))
    if np.isclose(dc_prev[0, 0], 1.0, atol=1e-9):
        raise AssertionError("with dc_next = 1 and dh_next = 0, dc_prev = 1: the cell path c_next = f * c_prev + ... "
                             "multiplies by the forget gate on the way back, dc_prev = dc * f")
    expect_close("dc_prev with dh_next = 0, dc_next = 1 (the additive path: dc_next * f = 0.75)",
                 dc_prev, [[0.75]], tol=1e-12)
    for wrong, what in (([0.3, 1.5], "[g i, c_prev f]: sigmoid' taken as s"),
                        ([0.6, 2.0], "[g, c_prev]: sigmoid' left out")):
        if np.allclose(db[:2], wrong, atol=1e-9):
            raise AssertionError(f"db[:2] = {wrong} = {what}; the sigmoid's derivative is s (1 - s), "
                                 "so db[:2] = [g i (1-i), c_prev f (1-f)] = [0.15, 0.375]")
    expect_close("db with dh_next = 0, dc_next = 1 ([g i(1-i), c_prev f(1-f), i(1-g^2), 0])",
                 db, [0.15, 0.375, 0.32, 0.0], tol=1e-12)
    grads = lstm_step_backward(np.ones((1, 1)), np.zeros((1, 1)), _hand_step_cache())
    through_tanh = 0.75 * 0.25 * (1 - np.tanh(HAND_C) ** 2)
    if np.isclose(grads[2][0, 0], 0.75 * 0.25, atol=1e-9):
        raise AssertionError("with dh_next = 1, dc_prev = f * o: the gradient reaches c_next through "
                             "h_next = o * tanh(c_next), so it needs tanh'(c_next) = 1 - tanh(c_next)^2 too")
    expect_close("dc_prev with dh_next = 1, dc_next = 0 (f * o * (1 - tanh(1.8)^2))", grads[2], [[through_tanh]],
                 tol=1e-12)
    passed("lstm_step_backward: hand-worked cell, through the cell path (dc_prev = f dc_next) and through h_next")

    _expect_working_numerical_gradient(numerical_gradient)
    forward, backward = _step_pair(lstm_step_forward, lstm_step_backward)
    for N, D, H, seed in ((3, 4, 5, 5), (2, 3, 3, 6)):
        p = random_lstm(N=N, T=1, D=D, H=H, seed=seed)
        errors = check_backward(backward, forward, _step_args(p), numerical_gradient, seed=seed, grad_names=names)
        passed(f"lstm_step_backward: all six gradients match your numerical_gradient with dh_next and dc_next "
               f"both non-zero (N={N}, D={D}, H={H}); largest error {max(errors.values()):.1e}")


# ---------------------------------------------------------------- lstm_backward

def _reached(lstm_backward, lstm_forward, p):
    """Steps whose dx is not negligible (above 1e-12 of the largest), and whether dc0 is non-zero,
    for a loss on the last hidden state only."""
    h, cache = lstm_forward(*p.values())
    dh = np.zeros(h.shape)
    dh[:, -1] = 1.0
    dx, dh0, dc0 = (np.asarray(g, dtype=np.float64) for g in lstm_backward(dh, cache)[:3])
    scale = np.abs(dx).max(initial=0.0)
    return [t for t in range(h.shape[1]) if np.abs(dx[:, t]).max() > 1e-12 * scale], bool(np.any(dc0 != 0))


@self_check
def check_lstm_backward(lstm_backward, lstm_forward, numerical_gradient, lstm_step_backward=None):
    """Self-check of lstm_backward(dh, cache) -> (dx, dh0, dc0, dWx, dWh, db).

    1. The two paths back, one at a time, for a loss on the last step only: with Wh = 0 only
       the cell carries the gradient back; with the forget gate shut (f = 0) only the recurrence
       through Wh does. Each must reach every step.
    2. Gradient checks with your numerical_gradient on the loss sum(dh * h) for
       (N, T, D, H) = (2, 5, 3, 4), (2, 4, 3, 3) (D == H) and (2, 1, 3, 4) (T = 1).
    3. If lstm_step_backward is given: for T = 1 both agree (with dc_next = 0).
    """
    p = random_lstm(N=2, T=5, D=3, H=4, seed=12)
    steps, dc0_reached = _reached(lstm_backward, lstm_forward, {**p, "Wh": np.zeros(p["Wh"].shape)})
    if steps != list(range(5)) or not dc0_reached:
        raise AssertionError(f"with Wh = 0 the cell is the only way back, and a loss at the last step reached dx at "
                             f"steps {steps} and {'a non-zero' if dc0_reached else 'a zero'} dc0: carry the cell's "
                             "gradient, dc along the cell (dc_prev of step t is dc_next of step t-1)")
    shut = p["b"].copy()
    shut[4:8] = -50.0                             # forget gate f = sigmoid(-50) ~ 2e-22: the cell path is cut
    steps, _ = _reached(lstm_backward, lstm_forward, {**p, "b": shut})
    if steps != list(range(5)):
        raise AssertionError(f"with the forget gate shut (f = 0) only the recurrence through Wh goes back, and a loss "
                             f"at the last step reached dx at steps {steps}: add the gradient carried back from "
                             "step t+1 to dh[:, t]")
    passed("lstm_backward: a loss at the last step goes back along the cell (Wh = 0) and through Wh (f = 0)")

    _expect_working_numerical_gradient(numerical_gradient)
    names = ("dx", "dh0", "dc0", "dWx", "dWh", "db")
    for N, T, D, H in ((2, 5, 3, 4), (2, 4, 3, 3), (2, 1, 3, 4)):
        p = random_lstm(N, T, D, H, seed=7 + T)
        errors = check_backward(lstm_backward, lstm_forward, p, numerical_gradient, seed=T, grad_names=names)
        passed(f"lstm_backward: {', '.join(names)} match your numerical_gradient for N={N}, T={T}, D={D}, H={H}; "
               f"largest error {max(errors.values()):.1e}")

    if lstm_step_backward is not None:
        p = random_lstm(N=2, T=1, D=3, H=4, seed=13)
        h, cache = lstm_forward(*p.values())
        dh = np.random.default_rng(14).standard_normal(h.shape)
        seq = lstm_backward(dh, cache)
        x, h0, c0, Wx, Wh, gates, c, _ = cache
        step = lstm_step_backward(dh[:, 0], np.zeros(h0.shape), (x[:, 0], h0, c0, Wx, Wh, gates[:, 0], c[:, 0]))
        for name, a, b_ in zip(("dx[:, 0]", "dh0", "dc0", "dWx", "dWh", "db"), (seq[0][:, 0],) + seq[1:], step):
            _expect_agree(f"{name}: lstm_backward vs lstm_step_backward for T = 1", a, b_)
        passed("lstm_backward agrees with your lstm_step_backward when T = 1")
