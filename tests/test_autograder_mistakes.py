"""The known-mistakes library: every mistake is caught, named, and costs nothing elsewhere.

Legend: N batch, T time steps, D input size, H hidden size, k truncation length.
"""
import inspect
import re

import numpy as np
import pytest

import solutions
from autograder.evaluate import in_process
from autograder.grading import grade_function
from autograder.mistakes import all_mistakes, by_id, library, mistakes_for, namespace_with, variant

MISTAKES = all_mistakes()
SEED = 20240611

# Correct answers that call the other graded functions, as students often write
# them: a mistake dropped in for one function must not cost the others anything.
CALLERS = '''
def rnn_forward(x, h0, Wx, Wh, b):
    states, h_t = [], h0
    for t in range(x.shape[1]):
        h_t, _ = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        states.append(h_t)
    h = np.stack(states, axis=1)
    return h, (x, h0, Wx, Wh, h)

def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    carry = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        dx[:, t], carry, a, b_, c = rnn_step_backward(dh[:, t] + carry, (x[:, t], h_prev, Wx, Wh, h[:, t]))
        dWx, dWh, db = dWx + a, dWh + b_, db + c
    return dx, carry, dWx, dWh, db

def rnn_backward_chunked(dh, cache, k):
    x, h0, Wx, Wh, h = cache
    T = h.shape[1]
    out = None
    for start in range(0, T, k):
        stop = min(start + k, T)
        h_in = h0 if start == 0 else h[:, start - 1]
        dx_c, dh_in, dWx, dWh, db = rnn_backward(dh[:, start:stop], (x[:, start:stop], h_in, Wx, Wh, h[:, start:stop]))
        if out is None:
            out = [[dx_c], dh_in, dWx, dWh, db]
        else:
            out = [out[0] + [dx_c], out[1], out[2] + dWx, out[3] + dWh, out[4] + db]
    return np.concatenate(out[0], axis=1), out[1], out[2], out[3], out[4]

def rnn_backward_truncated(dh, cache, k):
    T = dh.shape[1]
    if k >= T:
        return rnn_backward(dh, cache)
    x, h0, Wx, Wh, h = cache
    total = None
    for t in range(T):                        # one loss at a time, through its own window
        start = max(0, t - k + 1)
        h_in = h0 if start == 0 else h[:, start - 1]
        only_t = np.zeros((dh.shape[0], t + 1 - start, dh.shape[2]))
        only_t[:, -1] = dh[:, t]
        dx_w, dh_in, dWx, dWh, db = rnn_backward(only_t, (x[:, start:t + 1], h_in, Wx, Wh, h[:, start:t + 1]))
        dx = np.zeros(x.shape)
        dx[:, start:t + 1] = dx_w
        piece = [dx, dh_in if start == 0 else np.zeros(h0.shape), dWx, dWh, db]
        total = piece if total is None else [a + b for a, b in zip(total, piece)]
    return tuple(total)

# truncation, completed (notebook 03): built from the step and sequence functions, looked up by name
def rnn_backward_weighted(dh, cache, xi):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    carry = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        dx[:, t], back, a, b_, c = rnn_step_backward(dh[:, t] + carry, (x[:, t], h_prev, Wx, Wh, h[:, t]))
        carry = xi[t] * back
        dWx, dWh, db = dWx + a, dWh + b_, db + c
    return dx, carry, dWx, dWh, db

def rnn_backward_checkpointed(dh, x, h0, Wx, Wh, b, every):
    T = x.shape[1]
    kept, h_t = [], h0
    for t in range(T):
        if t % every == 0:
            kept.append(h_t)
        h_t, _ = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
    pieces, carry = [], np.zeros(h0.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wh.shape[0])
    for i in reversed(range(len(kept))):
        start, stop = i * every, min((i + 1) * every, T)
        _, seg = rnn_forward(x[:, start:stop], kept[i], Wx, Wh, b)
        dh_seg = np.concatenate([dh[:, start:stop - 1], (dh[:, stop - 1] + carry)[:, None]], axis=1)
        dx_s, carry, a, b_, c = rnn_backward(dh_seg, seg)
        pieces.insert(0, dx_s)
        dWx, dWh, db = dWx + a, dWh + b_, db + c
    return np.concatenate(pieces, axis=1), carry, dWx, dWh, db
# end of truncation, completed

def gradient_norms_through_time(dh_last, cache):
    J = step_jacobians(cache)                 # (N, T, H, H)
    T = J.shape[1]
    norms = np.zeros(T)
    g = dh_last
    for s in range(T - 1, -1, -1):
        norms[s] = np.linalg.norm(g)
        g = np.einsum("ni,nij->nj", g, J[:, s])
    return norms
'''


# The LSTM's sequence functions built on the student's step functions (autograder/mistakes/lstm.py templates).
from autograder.mistakes import lstm as _lstm_mistakes  # noqa: E402

CALLERS += _lstm_mistakes.FORWARD + _lstm_mistakes.BACKWARD


def test_the_library_is_large_and_well_formed():
    assert len(MISTAKES) >= 30
    ids = [m.id for m in MISTAKES]
    assert len(ids) == len(set(ids))
    for name in solutions.GRADED_FUNCTIONS:
        assert len(mistakes_for(name)) >= 2, name
    assert set(library()) == set(solutions.GRADED_FUNCTIONS)
    for m in MISTAKES:
        assert re.fullmatch(r"[a-z_]+/[A-Za-z0-9_-]+", m.id), m.id
        assert m.title and m.hint.endswith(".")


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_mistake_source_defines_the_function_with_the_contract_signature(mistake):
    ns = namespace_with(mistake)                  # as if pasted into a notebook with numpy as np
    got = inspect.signature(ns[mistake.function])
    want = inspect.signature(getattr(solutions, mistake.function))
    assert list(got.parameters) == list(want.parameters)
    assert "np." not in mistake.hint and "def " not in mistake.hint     # hints point at terms, not code


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_every_mistake_is_caught_and_named_on_its_own_function(mistake):
    report = grade_function(mistake.function, in_process(namespace_with(mistake)), SEED)
    assert report.fraction < 1, f"{mistake.id} scored full marks"
    assert mistake.id in report.mistakes, (report.mistakes, report.feedback)
    assert mistake.hint in report.feedback


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_a_mistake_costs_nothing_in_the_other_functions(mistake):
    ns = {"np": np}
    exec(CALLERS, ns)                             # callers look their helpers up in ns, as in a notebook
    for name in solutions.GRADED_FUNCTIONS:
        ns.setdefault(name, getattr(solutions, name))
    ns[mistake.function] = namespace_with(mistake)[mistake.function]
    evaluate = in_process(ns)
    for name in solutions.GRADED_FUNCTIONS:
        if name != mistake.function:
            report = grade_function(name, evaluate, SEED, diagnose=False)
            assert report.fraction == 1.0, (name, report.feedback)


def test_the_callers_are_correct_on_their_own():
    ns = {"np": np}
    exec(CALLERS, ns)
    ns.update({n: getattr(solutions, n) for n in ("rnn_step_forward", "rnn_step_backward", "step_jacobians",
                                                  "lstm_step_forward", "lstm_step_backward")})
    for name in ("rnn_forward", "rnn_backward", "rnn_backward_chunked", "rnn_backward_truncated",
                 "rnn_backward_weighted", "rnn_backward_checkpointed", "gradient_norms_through_time",
                 "lstm_forward", "lstm_backward"):
        assert grade_function(name, in_process(ns), SEED).fraction == 1.0, name


def test_two_mistakes_in_different_parts_are_both_named():
    from autograder.mistakes.rnn import BACKWARD
    source = variant(variant(BACKWARD, "h_prev = h0 if t == 0 else h[:, t - 1]", "h_prev = h[:, t - 1]"),
                     "dh0 = dh_carry", "dh0 = dh_first")
    source = variant(source, "        dh_t = dh[:, t] + dh_carry\n",
                     "        dh_t = dh[:, t] + dh_carry\n        dh_first = dh_t\n")
    ns = {"np": np}
    exec(source, ns)
    report = grade_function("rnn_backward", in_process(ns), SEED)
    assert {"rnn_backward/h-minus-1-wraps", "rnn_backward/dh0-one-step-short"} <= set(report.mistakes)


def test_lookup_and_variant_errors():
    assert by_id("rnn_backward/no-carried-gradient").function == "rnn_backward"
    with pytest.raises(KeyError, match="no mistake"):
        by_id("rnn_backward/typo")
    with pytest.raises(ValueError, match="occurrence"):
        variant("a = 1\n", "b = 2", "b = 3")
    assert mistakes_for("not_graded") == ()
