"""Function-specific symptoms: wrong answers that a reference computes, and the regimes where bugs hide.

A student's truncated BPTT that returns the chunked scheme's gradients, full
BPTT where truncation was asked, an LSTM with its gate blocks in another
order: each is a `Relation`, a prediction built from the references (the
graded function's own on changed inputs, or another graded function's) that
symptoms.py compares with the student's values case by case, per output.
A relation is named for an output only when it agrees on every case there,
and when no other shape of wrongness agrees as well. Unlike a known mistake
(mistakes/: a whole wrong implementation, named when it explains every
output it gets wrong), a relation is computed from the references and speaks
for each output on its own, so a student who makes the mistake in two of five
outputs, or alongside another bug, still hears it.

Add an entry for a function when its students make a mistake that one of the
references can compute; the entry costs nothing until the function is graded
(`relations_for` only returns entries of functions in cases.GRADED).
`predict(*args)` gets the case's arguments (copies) and returns what the
function would return (the same tuple); `what` completes "your dx is ...";
`hint` points at the cause in words, never in code; `outputs` lists the
positions in the returned tuple the relation speaks about (None: all).

CONDITIONS adds, per function, regimes of cases beyond T = 1, N = 1 and D == H
(symptoms.GENERIC_CONDITIONS): (label, predicate on the case's sizes (a
missing size skips the condition), what such cases hide, hint when the part
is right only there, hint when it is wrong only there or None).

Legend: N batch, T time steps, D input size, H hidden size, k truncation length.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Relation:
    """function: the graded function it describes; id: "function/short-name"; predict(*args) -> what
    the function returns under this mistake; what, hint: see the module docstring; outputs: positions
    in the returned tuple it speaks for (None: all)."""
    function: str
    id: str
    predict: object
    what: str
    hint: str
    outputs: tuple = None


def _ref(name):
    import solutions
    return getattr(solutions, name)


# --- the tanh RNN's backward pass, step by step from the reference's rnn_step_backward -----------

def bptt_variant(dh, cache, forwards=False, derivative_in_carry=True, derivative_in_weights=True):
    """What full BPTT returns when it is run in a wrong way, built from the reference step backward.

    forwards: the time loop runs t = 0..T-1 (the gradient carried from each step into the next one);
    derivative_in_carry / _in_weights: False leaves out tanh'(a_t) in what goes back through the
    step (dx_t, the carried gradient) / in the weight gradients (the step's h_next read as 0 there).
    Returns (dx, dh0, dWx, dWh, db) as rnn_backward, dh0 being what the loop carried last.
    """
    step = _ref("rnn_step_backward")
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    carry = np.zeros((N, H))
    for t in (range(T) if forwards else reversed(range(T))):
        h_prev = h0 if t == 0 else h[:, t - 1]
        g = dh[:, t] + carry
        exact = step(g, (x[:, t], h_prev, Wx, Wh, h[:, t]))
        flat = step(g, (x[:, t], h_prev, Wx, Wh, np.zeros_like(h[:, t])))   # tanh' read as 1
        through = exact if derivative_in_carry else flat
        weights = exact if derivative_in_weights else flat
        dx[:, t], carry = through[0], through[1]
        dWx, dWh, db = dWx + weights[2], dWh + weights[3], db + weights[4]
    return dx, carry, dWx, dWh, db


def _step_backward_without_derivative(dh_next, cache):
    x_t, h_prev, Wx, Wh, h_next = cache
    return _ref("rnn_step_backward")(dh_next, (x_t, h_prev, Wx, Wh, np.zeros_like(h_next)))


# --- truncation, weighted links, checkpointing --------------------------------------------------

def _full_bptt(dh, cache, *rest):
    return _ref("rnn_backward")(dh, cache)


def _weighted_with(change):
    def predict(dh, cache, xi):
        return _ref("rnn_backward_weighted")(dh, cache, change(np.array(xi, dtype=np.float64)))
    return predict


def _first_link_one(xi):
    xi[0] = 1.0
    return xi


def _checkpointed_as_chunks(dh, x, h0, Wx, Wh, b, every):
    _, cache = _ref("rnn_forward")(x, h0, Wx, Wh, b)
    return _ref("rnn_backward_chunked")(dh, cache, every)


def _checkpointed_from_h0(dh, x, h0, Wx, Wh, b, every):
    """Every segment's states recomputed from h0 instead of its own checkpoint (the gradient still carried)."""
    N, T, H = dh.shape
    dx = np.empty(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    carry = np.zeros((N, H))
    for start in reversed(range(0, T, every)):
        stop = min(start + every, T)
        _, seg_cache = _ref("rnn_forward")(x[:, start:stop], h0, Wx, Wh, b)
        dh_seg = dh[:, start:stop].copy()
        dh_seg[:, -1] += carry
        dx[:, start:stop], carry, a, w, c = _ref("rnn_backward")(dh_seg, seg_cache)
        dWx, dWh, db = dWx + a, dWh + w, db + c
    return dx, carry, dWx, dWh, db


# --- clipping ------------------------------------------------------------------------------

def _clip_always_scaled(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads.values())))
    scale = max_norm / total if total > 0 else 1.0
    return {k: np.asarray(g, dtype=np.float64) * scale for k, g in grads.items()}, total


# --- LSTM gate blocks in another order -------------------------------------------------------

CONTRACT_GATES = "ifgo"


def _gate_columns(order, H):
    """Columns that put the student's blocks (gate order `order`) in the contract's order i, f, g, o."""
    return np.concatenate([np.arange(order.index(g) * H, (order.index(g) + 1) * H) for g in CONTRACT_GATES])


def _student_columns(order, H):
    """Columns that put blocks in the contract's order back into the student's order."""
    return np.concatenate([np.arange(CONTRACT_GATES.index(g) * H, (CONTRACT_GATES.index(g) + 1) * H) for g in order])


def _lstm_step_forward_order(order):
    def predict(x_t, h_prev, c_prev, Wx, Wh, b):
        cols = _gate_columns(order, h_prev.shape[1])
        return _ref("lstm_step_forward")(x_t, h_prev, c_prev, Wx[:, cols], Wh[:, cols], b[cols])
    return predict


def _lstm_forward_order(order):
    def predict(x, h0, c0, Wx, Wh, b):
        cols = _gate_columns(order, h0.shape[1])
        return _ref("lstm_forward")(x, h0, c0, Wx[:, cols], Wh[:, cols], b[cols])
    return predict


def _in_student_order(grads, order, H):
    back = _student_columns(order, H)
    return tuple(grads[:-3]) + tuple(g[..., back] for g in grads[-3:])


def _lstm_step_backward_order(order):
    """The student's backward reads the reference's gates (i, f, g, o) as if they were in `order`."""
    def predict(dh_next, dc_next, cache):
        x_t, h_prev, c_prev, Wx, Wh, gates, c_next = cache
        H = h_prev.shape[1]
        cols = _gate_columns(order, H)
        grads = _ref("lstm_step_backward")(dh_next, dc_next,
                                           (x_t, h_prev, c_prev, Wx[:, cols], Wh[:, cols], gates[:, cols], c_next))
        return _in_student_order(grads, order, H)
    return predict


def _lstm_backward_order(order):
    def predict(dh, cache):
        x, h0, c0, Wx, Wh, gates, c, h = cache
        H = h0.shape[1]
        cols = _gate_columns(order, H)
        grads = _ref("lstm_backward")(dh, (x, h0, c0, Wx[:, cols], Wh[:, cols], gates[..., cols], c, h))
        return _in_student_order(grads, order, H)
    return predict


GATE_ORDERS = (("ifog", "i, f, o, g (CS231n's order)"), ("igfo", "i, g, f, o (TensorFlow 1's order)"))
GATE_HINT = ("the contract splits the four blocks of H columns in the order i, f, g, o (PyTorch's): check "
             "which block each gate reads, in the forward and the backward pass alike.")


def _gate_order_relations():
    found = []
    for function, make, outputs in (("lstm_step_forward", _lstm_step_forward_order, (0, 1)),
                                    ("lstm_forward", _lstm_forward_order, (0,)),
                                    ("lstm_step_backward", _lstm_step_backward_order, None),
                                    ("lstm_backward", _lstm_backward_order, None)):
        for order, words in GATE_ORDERS:
            found.append(Relation(function, f"{function}/gates-{order}", make(order),
                                  f"what the gate blocks in the order {words} give", GATE_HINT, outputs))
    return tuple(found)


def _lstm_forward_from_zero_cell(x, h0, c0, Wx, Wh, b):
    return _ref("lstm_forward")(x, h0, np.zeros_like(c0), Wx, Wh, b)


# --- the language model ------------------------------------------------------------------------

def _lm_first_step(params, x_ids, y_ids, h0):
    return _ref("lm_loss_and_grads")(params, x_ids[:, :1], y_ids[:, :1], h0)


def _lm_from_zeros(params, x_ids, y_ids, h0):
    return _ref("lm_loss_and_grads")(params, x_ids, y_ids, np.zeros_like(h0))


# --- the table ---------------------------------------------------------------------------------

FULL_BPTT_HINT = ("that is full BPTT: the truncation length never takes effect. Stop each signal where the "
                  "contract's scheme cuts it.")

RELATIONS = (
    Relation("rnn_step_backward", "rnn_step_backward/no-tanh-derivative", _step_backward_without_derivative,
             "what the step gives without the tanh derivative",
             "between dh_next and the products with the weights and inputs, the gradient passes through tanh: "
             "multiply by its derivative, written with the state this step produced."),
    Relation("rnn_backward", "rnn_backward/no-tanh-derivative",
             lambda dh, cache: bptt_variant(dh, cache, derivative_in_carry=False, derivative_in_weights=False),
             "what BPTT gives without the tanh derivative",
             "at every step the gradient at h_t passes through tanh before it reaches the pre-activation a_t: "
             "multiply by tanh'(a_t), written with h_t."),
    Relation("rnn_backward", "rnn_backward/no-tanh-derivative-in-weights",
             lambda dh, cache: bptt_variant(dh, cache, derivative_in_weights=False),
             "the weight gradient built from the gradient at h_t, without the tanh derivative",
             "the weight gradients take the gradient after it has passed through tanh (at the pre-activation "
             "a_t), the same signal that goes on to x_t and h_{t-1}.", (2, 3, 4)),
    Relation("rnn_backward", "rnn_backward/time-loop-forwards",
             lambda dh, cache: bptt_variant(dh, cache, forwards=True),
             "what BPTT gives with the time loop run forwards (t = 0, 1, ..., T-1)",
             "the gradient flows backwards in time: start at the last step, and let each step pass its "
             "gradient to the step before it."),
    Relation("rnn_backward_truncated", "rnn_backward_truncated/chunks",
             lambda dh, cache, k: _ref("rnn_backward_chunked")(dh, cache, k),
             "the chunked scheme's result (what rnn_backward_chunked returns)",
             "in the sliding-window scheme every loss L_t gets its own k steps back from t; fixed chunk "
             "boundaries belong to the other scheme."),
    Relation("rnn_backward_truncated", "rnn_backward_truncated/full-bptt", _full_bptt,
             "full BPTT's result (what rnn_backward returns, whatever k)", FULL_BPTT_HINT),
    Relation("rnn_backward_chunked", "rnn_backward_chunked/sliding-window",
             lambda dh, cache, k: _ref("rnn_backward_truncated")(dh, cache, k),
             "the sliding window's result (what rnn_backward_truncated returns)",
             "in the chunked scheme the cuts are fixed at t = k, 2k, ...; a window of k steps behind every "
             "loss belongs to the other scheme."),
    Relation("rnn_backward_chunked", "rnn_backward_chunked/full-bptt", _full_bptt,
             "full BPTT's result (what rnn_backward returns, whatever k)", FULL_BPTT_HINT),
    Relation("rnn_backward_weighted", "rnn_backward_weighted/full-bptt", _full_bptt,
             "full BPTT's result (what rnn_backward returns, whatever xi)",
             "every backward link t -> t-1 is multiplied by xi[t] before it joins the gradient at h_{t-1}."),
    Relation("rnn_backward_weighted", "rnn_backward_weighted/xi-one-step-early",
             _weighted_with(lambda xi: np.roll(xi, 1)),
             "the result with the link from step t scaled by xi[t-1] instead of xi[t]",
             "the link from step t back into h_{t-1} is scaled by xi[t], the weight of step t itself."),
    Relation("rnn_backward_weighted", "rnn_backward_weighted/dh0-not-scaled", _weighted_with(_first_link_one),
             "the result without xi[0] on the link into h0",
             "the link from step 0 into h0 is a backward link like the others: it is scaled by xi[0].", (1,)),
    Relation("rnn_backward_checkpointed", "rnn_backward_checkpointed/cut-at-checkpoints", _checkpointed_as_chunks,
             "chunked truncation's result with chunks of `every` steps (the gradient stops at each checkpoint)",
             "checkpointing changes what is stored, not what is computed: the gradient reaching a segment's "
             "first step goes on into the segment before it (the result equals full BPTT)."),
    Relation("rnn_backward_checkpointed", "rnn_backward_checkpointed/segments-from-h0", _checkpointed_from_h0,
             "the result of recomputing every segment from h0",
             "each segment's states are recomputed from the state kept for that segment (the state entering "
             "its first step), not from h0."),
    Relation("lstm_forward", "lstm_forward/c0-ignored", _lstm_forward_from_zero_cell,
             "what the LSTM gives from a zero cell state instead of c0",
             "the cell state before step 0 is the c0 you are given, like h0 for the hidden state.", (0,)),
    Relation("clip_grad_norm", "clip_grad_norm/scaled-below-threshold", _clip_always_scaled,
             "rescaled to max_norm even where the total norm is below it",
             "clipping only ever shrinks: below the threshold the gradients are returned unchanged.", (0,)),
    Relation("lm_loss_and_grads", "lm_loss_and_grads/h-last-after-first-step", _lm_first_step,
             "the state after the first step, not the last",
             "the state to carry into the next batch is the one after the last time step.", (2,)),
    Relation("lm_loss_and_grads", "lm_loss_and_grads/h0-ignored", _lm_from_zeros,
             "what the model gives from a zero initial state instead of h0",
             "the state carried in (h0) is the state before step 0: start the recurrence from it."),
) + _gate_order_relations()


TRUNCATION_CONDITIONS = (
    ("k >= T", lambda s: s["k"] >= s["T"], "nothing is cut",
     "with k >= T nothing is cut: the BPTT part works and the cutting does not: check where each signal "
     "stops and what reaches h0.",
     "with k >= T the result must equal full BPTT: look at how a window or chunk longer than the "
     "sequence is handled (loop bounds, indices past the ends)."),
)

CONDITIONS = {
    "rnn_backward_truncated": TRUNCATION_CONDITIONS,
    "rnn_backward_chunked": TRUNCATION_CONDITIONS,
    "rnn_backward_checkpointed": (
        ("every >= T", lambda s: s["every"] >= s["T"], "one segment covers the whole sequence",
         "with every >= T only h0 is kept and one segment covers everything: the work across segments "
         "(what each segment restarts from, the gradient passed between segments) is where it goes wrong.",
         "with every >= T a single segment covers the whole sequence: look at how a segment longer than "
         "the sequence is handled."),
        ("every = 1", lambda s: s["every"] == 1, "every state is kept",
         "with every = 1 every state is kept: the recomputation of longer segments is where it goes wrong.",
         "with every = 1 each segment is one step long: look at the segment bounds."),
    ),
}


def graded(name):
    from .cases import GRADED
    return name in GRADED


def relations_for(name):
    """The relations of graded function `name` (none for a function that is not graded yet)."""
    return tuple(r for r in RELATIONS if r.function == name) if graded(name) else ()


def conditions_for(name):
    """The extra regimes of cases of graded function `name` (see the module docstring)."""
    return CONDITIONS.get(name, ()) if graded(name) else ()
