"""Visible self-check of notebook 06: temporal_softmax_loss.

Legend: N batch size, T time steps, V vocabulary size.

It never compares with the reference: it checks shapes, cases worked out by
hand, invariances of the softmax, and the gradient against numerical_gradient
(bpttlab.gradcheck_tools).
"""
import numpy as np

from .checking import expect_close, expect_shape, passed, self_check
from .gradcheck_tools import check_gradient


def _call(temporal_softmax_loss, scores, y):
    """Call the student's function on private copies; check it returns (float, dscores (N, T, V))."""
    s, t = scores.copy(), y.copy()
    out = temporal_softmax_loss(s, t)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError("temporal_softmax_loss should return a tuple (loss, dscores)")
    loss, dscores = out
    if not np.array_equal(s, scores) or not np.array_equal(t, y):
        raise AssertionError("temporal_softmax_loss changed its arguments; work on new arrays")
    if np.ndim(loss) != 0 or not np.isfinite(loss):
        raise AssertionError(f"loss should be one finite number; got {loss!r}")
    expect_shape("dscores", dscores, scores.shape)
    return float(loss), dscores


@self_check
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
