"""Visible self-checks of notebook 06: temporal_softmax_loss, the output layer, the assembled model.

Legend: N batch size, T time steps, H hidden size, V vocabulary size.

They never compare with the reference: they check shapes, cases worked out by
hand, invariances, agreement between the student's own functions, and every
gradient against the student's numerical_gradient (bpttlab.gradcheck_tools).
"""
import numpy as np

from .checking import expect_close, expect_shape, passed
from .gradcheck_tools import check_backward, check_gradient, gradient_error
from .selfchecks_rnn import _copies, _expect_agree, _expect_fresh, _expect_untouched, \
    _expect_working_numerical_gradient


def _call(temporal_softmax_loss, scores, y):
    """Call the student's function on private copies; check it returns (float, dscores (N, T, V))."""
    s, t = scores.copy(), y.copy()
    out = temporal_softmax_loss(s, t)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError("temporal_softmax_loss should return a tuple (loss, dscores)")
    value, grad = out
    if not np.array_equal(s, scores) or not np.array_equal(t, y):
        raise AssertionError("temporal_softmax_loss changed its arguments; work on new arrays")
    if np.ndim(value) != 0 or not np.isfinite(value):
        raise AssertionError(f"loss should be one finite number; got {value!r}")
    expect_shape("dscores", grad, scores.shape)
    return float(value), grad


def check_temporal_softmax_loss(temporal_softmax_loss, numerical_gradient, seed=0):
    """Self-check of temporal_softmax_loss(scores (N, T, V), y (N, T)) -> (loss, dscores (N, T, V)).

    Checks, in order: a one-step case by hand; the sum over time and the
    average over the batch (uniform scores); that each row of dscores sums to
    0; huge scores (stability); and dscores against numerical_gradient.
    Prints a line per check; raises AssertionError with a hint at the first failure.
    """
    # 1. By hand: scores (0, ln 3) give probabilities (1/4, 3/4); target 1.
    scores = np.array([[[0.0, np.log(3.0)]]])                       # N = 1, T = 1, V = 2
    loss, dscores = _call(temporal_softmax_loss, scores, np.array([[1]]))
    expect_close("loss of the one-step case (should be ln(4/3))", loss, np.log(4 / 3), tol=1e-9)
    expect_close("dscores of the one-step case (should be (1/4, -1/4))", dscores, np.array([[[0.25, -0.25]]]),
                 tol=1e-9)
    passed("one step by hand: loss = ln(4/3), dscores = p - onehot(y)")

    # 2. Uniform scores: every step costs ln V; summed over T, averaged over N.
    N, T, V = 2, 3, 5
    y = np.array([[0, 4, 2], [1, 1, 3]])
    loss, dscores = _call(temporal_softmax_loss, np.zeros((N, T, V)), y)
    if abs(loss - T * np.log(V)) > 1e-9:
        hint = ""
        if abs(loss - np.log(V)) < 1e-9:
            hint = " (it looks averaged over time steps too: sum over t, average over n only)"
        elif abs(loss - N * T * np.log(V)) < 1e-9:
            hint = " (it looks summed over the batch: divide by N)"
        raise AssertionError(f"uniform scores, N = 2, T = 3, V = 5: loss should be T ln V = {T * np.log(V):.6f}; "
                             f"got {loss:.6f}{hint}")
    want = (np.full((N, T, V), 1 / V) - (np.arange(V) == y[..., None])) / N
    expect_close("dscores for uniform scores (should be (1/V - onehot(y)) / N)", dscores, want, tol=1e-9)
    passed("uniform scores: loss = T ln V, summed over time and averaged over the batch")

    # 3. Random scores: rows of dscores sum to zero (probabilities sum to 1).
    rng = np.random.default_rng(seed)
    N, T, V = 3, 4, 6
    scores = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    loss, dscores = _call(temporal_softmax_loss, scores, y)
    if not np.allclose(dscores.sum(axis=2), 0.0, atol=1e-12):
        raise AssertionError("every row dscores[n, t] should sum to 0 (softmax sums to 1, the one-hot to 1)")
    passed("each dscores[n, t] sums to 0")

    # 4. Stability: adding a constant changes nothing, however large.
    for shift in (1e3, -1e3, 1e6):
        loss_s, dscores_s = _call(temporal_softmax_loss, scores + shift, y)
        if abs(loss_s - loss) > 1e-6 * max(1.0, abs(loss)) or not np.allclose(dscores_s, dscores, atol=1e-9):
            raise AssertionError(f"adding {shift:g} to every score changed the result: softmax does not change "
                                 "when a constant is added; subtract the largest score before np.exp")
    passed("scores shifted by +-1e3 and 1e6: same loss and dscores (numerically stable)")

    # 5. dscores against your numerical_gradient.
    err = check_gradient("dscores", lambda s: _call(temporal_softmax_loss, s, y)[0], scores, dscores,
                         numerical_gradient)
    passed(f"dscores agrees with numerical_gradient (error {err:.1e})")


# ---------------------------------------------------------------- the output layer

def _random_output_layer(N, T, H, V, seed):
    """h (N, T, H) in (-1, 1) like tanh states, Wy (H, V), by (V,), drawn from np.random.default_rng(seed)."""
    rng = np.random.default_rng(seed)
    return {"h": rng.uniform(-1, 1, (N, T, H)), "Wy": rng.standard_normal((H, V)) / np.sqrt(H),
            "by": 0.5 * rng.standard_normal(V)}


def check_temporal_affine_forward(temporal_affine_forward):
    """Self-check of temporal_affine_forward(h (N, T, H), Wy (H, V), by (V,)) -> (scores (N, T, V), cache).

    1. A case worked out by hand (N = 1, T = 2, H = 2, V = 3).
    2. Shapes with H != V, a new float64 array, arguments untouched, the cache (h, Wy).
    3. Every position (n, t) is scored on its own, with the same weights.
    """
    # 1. By hand: h_0 = (1, 0) picks row 0 of Wy, h_1 = (0, 2) twice row 1; by is added to both.
    h = np.array([[[1.0, 0.0], [0.0, 2.0]]])
    Wy = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    by = np.array([0.5, 0.0, -0.5])
    scores, _ = temporal_affine_forward(h, Wy, by)
    expect_shape("scores", scores, (1, 2, 3))
    if np.allclose(scores, [[[1, 2, 3], [8, 10, 12]]]):
        raise AssertionError("scores miss the bias: every score gets its symbol's by[v] added")
    expect_close("scores of the hand-worked case (should be [[1.5, 2, 2.5], [8.5, 10, 11.5]])", scores,
                 np.array([[[1.5, 2.0, 2.5], [8.5, 10.0, 11.5]]]), tol=1e-12)
    passed("temporal_affine_forward: hand-worked case (N=1, T=2, H=2, V=3) is right")

    # 2. The contract: shapes, new arrays, untouched arguments, cache (h, Wy).
    p = _random_output_layer(N=2, T=3, H=4, V=5, seed=10)
    before = _copies(p)
    scores, cache = temporal_affine_forward(*p.values())
    expect_shape("scores", scores, (2, 3, 5))
    _expect_fresh("scores", scores, p)
    _expect_untouched("temporal_affine_forward", p, before)
    if not (isinstance(cache, tuple) and len(cache) == 2 and np.array_equal(cache[0], p["h"])
            and np.array_equal(cache[1], p["Wy"])):
        raise AssertionError("the cache should be the tuple (h, Wy): what the backward pass needs")
    passed("temporal_affine_forward: shapes (N=2, T=3, H=4, V=5), new float64 array, arguments untouched, "
           "cache (h, Wy)")

    # 3. One position at a time (N = T = 1) gives the same scores.
    for n, t in ((0, 0), (1, 2)):
        alone, _ = temporal_affine_forward(p["h"][n:n + 1, t:t + 1], p["Wy"], p["by"])
        _expect_agree(f"scores[{n}, {t}] computed alone vs in the batch", alone[0, 0], scores[n, t])
    passed("temporal_affine_forward: every position is scored on its own, with the same Wy and by")


def check_temporal_affine_backward(temporal_affine_backward, temporal_affine_forward, numerical_gradient):
    """Self-check of temporal_affine_backward(dscores (N, T, V), cache) -> (dh, dWy, dby).

    1. dscores of ones worked out by hand: dby counts the positions, dh sums Wy's rows.
    2. All three gradients against your numerical_gradient (N = 2, T = 3, H = 4, V = 5), dscores untouched.
    """
    # 1. By hand: N = 2, T = 3, dscores all ones, so dby = N T = 6 per symbol, dh[n, t] = Wy summed over
    #    its columns, dWy[i, v] = the sum of h[..., i] over all positions.
    p = _random_output_layer(N=2, T=3, H=4, V=5, seed=11)
    _, cache = temporal_affine_forward(*p.values())
    grads = temporal_affine_backward(np.ones((2, 3, 5)), cache)
    if not isinstance(grads, tuple) or len(grads) != 3:
        raise AssertionError("temporal_affine_backward should return the tuple (dh, dWy, dby)")
    dh, dWy, dby = grads
    expect_shape("dh", dh, (2, 3, 4))
    expect_shape("dWy", dWy, (4, 5))
    expect_shape("dby", dby, (5,))
    if np.allclose(dby, 1.0) or np.allclose(dby, 3.0) or np.allclose(dby, 2.0):
        raise AssertionError("with dscores all ones, dby should be 6 = N * T for every symbol: by is added at "
                             "every position, so its gradient sums over the batch and over time")
    expect_close("dby for dscores of ones (should be N * T = 6 everywhere)", dby, np.full(5, 6.0), tol=1e-12)
    expect_close("dh for dscores of ones (each dh[n, t] is the row sums of Wy)", dh,
                 np.broadcast_to(p["Wy"].sum(axis=1), (2, 3, 4)), tol=1e-12)
    expect_close("dWy for dscores of ones (each column is the sum of h over n and t)", dWy,
                 np.repeat(p["h"].sum(axis=(0, 1))[:, None], 5, axis=1), tol=1e-12)
    passed("temporal_affine_backward: dscores of ones by hand (dby = N T, dh = row sums of Wy)")

    # 2. Gradient check of all three.
    _expect_working_numerical_gradient(numerical_gradient)
    p = _random_output_layer(N=2, T=3, H=4, V=5, seed=12)
    errors = check_backward(temporal_affine_backward, temporal_affine_forward, p, numerical_gradient, seed=13)
    passed("temporal_affine_backward: dh, dWy, dby match your numerical_gradient; "
           f"largest error {max(errors.values()):.1e}")


# ---------------------------------------------------------------- the assembled model

LM_KEYS = ("Wx", "Wh", "b", "Wy", "by")


def random_lm(N, T, V, H, seed=0):
    """A random language-model problem: (params, x_ids, y_ids, h0), drawn from np.random.default_rng(seed).

    params holds Wx (V, H), Wh (H, H), b (H,), Wy (H, V), by (V,); x_ids and y_ids
    are int arrays (N, T) in [0, V); h0 (N, H) is not zero.
    """
    rng = np.random.default_rng(seed)
    params = {"Wx": rng.standard_normal((V, H)), "Wh": 0.9 * rng.standard_normal((H, H)) / np.sqrt(H),
              "b": 0.3 * rng.standard_normal(H), "Wy": rng.standard_normal((H, V)) / np.sqrt(H),
              "by": 0.5 * rng.standard_normal(V)}
    return params, rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T)), 0.5 * rng.standard_normal((N, H))


def _call_lm(lm_loss_and_grads, params, x_ids, y_ids, h0):
    """Call the student's function on private copies; check the structure of (loss, grads, h_last)."""
    copies = {k: v.copy() for k, v in params.items()}
    args = {"x_ids": x_ids.copy(), "y_ids": y_ids.copy(), "h0": h0.copy()}
    out = lm_loss_and_grads(copies, args["x_ids"], args["y_ids"], args["h0"])
    if not (isinstance(out, tuple) and len(out) == 3):
        raise AssertionError("lm_loss_and_grads should return a tuple (loss, grads, h_last)")
    loss, grads, h_last = out
    _expect_untouched("lm_loss_and_grads", copies, params)
    _expect_untouched("lm_loss_and_grads", args, {"x_ids": x_ids, "y_ids": y_ids, "h0": h0})
    if np.ndim(loss) != 0 or not np.isfinite(loss):
        raise AssertionError(f"loss should be one finite number; got {loss!r}")
    if not isinstance(grads, dict) or set(grads) != set(LM_KEYS):
        got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise AssertionError(f"grads should be a dict with the keys of params, {list(LM_KEYS)} (so that the "
                             f"optimiser finds each weight's gradient under its name); got {got}")
    for key in LM_KEYS:
        expect_shape(f"grads[{key!r}]", grads[key], params[key].shape)
    expect_shape("h_last", h_last, h0.shape)
    return float(loss), grads, h_last


def check_lm_loss_and_grads(lm_loss_and_grads, numerical_gradient, rnn_forward, temporal_affine_forward,
                            temporal_softmax_loss):
    """Self-check of lm_loss_and_grads(params, x_ids (N, T), y_ids (N, T), h0 (N, H)) -> (loss, grads, h_last).

    1. Wy = 0 and by = 0: every symbol gets probability 1/V, so the loss is T ln V.
    2. The same model built from one-hot inputs (D = V) with your other functions
       (rnn_forward, temporal_affine_forward, temporal_softmax_loss) gives the same loss and h_last.
    3. Carrying h_last: the loss of a sequence equals the loss of its first half plus
       the loss of its second half started from the first half's h_last.
    4. Every gradient against your numerical_gradient, with ids read more than once.
    """
    from .charlm import one_hot
    N, T, V, H = 2, 4, 5, 3
    params, x_ids, y_ids, h0 = random_lm(N, T, V, H, seed=20)

    # 1. Uniform predictions.
    flat = dict(params, Wy=np.zeros((H, V)), by=np.zeros(V))
    loss, _, _ = _call_lm(lm_loss_and_grads, flat, x_ids, y_ids, h0)
    if abs(loss - np.log(V)) < 1e-9 or abs(loss - N * T * np.log(V)) < 1e-9:
        raise AssertionError(f"with Wy = 0 and by = 0 the loss should be T ln V = {T * np.log(V):.6f}; got "
                             f"{loss:.6f}: use temporal_softmax_loss as it is (summed over time, averaged over the batch)")
    expect_close(f"loss with Wy = 0, by = 0 (should be T ln V = {T * np.log(V):.6f})", loss, T * np.log(V), tol=1e-10)
    passed("lm_loss_and_grads: Wy = 0, by = 0 gives the loss T ln V (every symbol 1/V)")

    # 2. Against the model written with one-hot inputs and your own functions.
    loss, grads, h_last = _call_lm(lm_loss_and_grads, params, x_ids, y_ids, h0)
    h, _ = rnn_forward(one_hot(x_ids, V), h0, params["Wx"], params["Wh"], params["b"])
    scores, _ = temporal_affine_forward(h, params["Wy"], params["by"])
    want_loss, _ = temporal_softmax_loss(scores, y_ids)
    if np.allclose(h_last, h[:, 0]) and not np.allclose(h_last, h[:, -1]):
        raise AssertionError("h_last is the state after step 0: it should be the state after the last step, "
                             "the one the next batch starts from")
    h_zero, _ = rnn_forward(one_hot(x_ids, V), np.zeros((N, H)), params["Wx"], params["Wh"], params["b"])
    if np.allclose(h_last, h_zero[:, -1]) and not np.allclose(h_last, h[:, -1]):
        raise AssertionError("your model ignores h0: the recurrence must start from the state carried in, h0")
    _expect_agree("h_last vs the last state of rnn_forward on one-hot inputs", h_last, h[:, -1])
    _expect_agree("loss vs the same model on one-hot inputs (rnn_forward, temporal_affine_forward, "
                  "temporal_softmax_loss)", loss, float(want_loss))
    passed("lm_loss_and_grads: loss and h_last agree with rnn_forward on one-hot inputs (picking rows of Wx "
           "is the one-hot product)")

    # 3. Two halves with the state carried: the loss is a sum over time steps.
    first, _, h_mid = _call_lm(lm_loss_and_grads, params, x_ids[:, :2], y_ids[:, :2], h0)
    second, _, h_end = _call_lm(lm_loss_and_grads, params, x_ids[:, 2:], y_ids[:, 2:], h_mid)
    _expect_agree("loss of the whole sequence vs first half + second half from h_last", loss, first + second)
    _expect_agree("h_last of the whole sequence vs h_last of the second half", h_last, h_end)
    passed("lm_loss_and_grads: two halves with h_last carried give the loss and h_last of the whole sequence")

    # 4. Every gradient against your numerical_gradient; x_ids reads some ids more than once.
    _expect_working_numerical_gradient(numerical_gradient)
    repeated = np.unique(x_ids, return_counts=True)
    repeated = repeated[0][repeated[1] > 1]
    errors = {}
    for key in LM_KEYS:
        def f(value, key=key):
            return _call_lm(lm_loss_and_grads, dict(params, **{key: value}), x_ids, y_ids, h0)[0]
        try:
            errors[key] = check_gradient(f"grads[{key!r}]", f, params[key], grads[key], numerical_gradient)
        except AssertionError as e:
            if key == "Wx":
                numeric = np.asarray(numerical_gradient(f, params["Wx"].copy()))
                wrong = [v for v in range(V) if gradient_error(grads["Wx"][v], numeric[v]) > 1e-6]
                if wrong and set(wrong) <= set(repeated.tolist()):
                    raise AssertionError(
                        f"{e}. Only the rows of ids read more than once are wrong ({wrong}): a row of Wx picked at "
                        "several places gets the sum of their gradients; an assignment dWx[x_ids] = ... keeps "
                        "one of them. Add them up (np.add.at, or a loop with +=)") from None
            raise
    passed(f"lm_loss_and_grads: all five gradients match your numerical_gradient (N={N}, T={T}, V={V}, H={H}, "
           f"ids {sorted(repeated.tolist())} read more than once); largest error {max(errors.values()):.1e}")
