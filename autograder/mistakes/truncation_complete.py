"""Known mistakes in the completed truncation story: weighted backward links and checkpointing.

Legend: N batch, T time steps, D input size, H hidden size; xi (T,) the
weights of the backward links; every, the spacing of the checkpoints.
Each template below is a correct loop-style implementation (the tests check
that it scores full marks); each mistake changes the lines that go wrong.
"""
from . import Mistake, variant

WEIGHTED = '''
def rnn_backward_weighted(dh, cache, xi):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    dh_carry = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        dh_t = dh[:, t] + dh_carry
        da = dh_t * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_back = da @ Wh.T
        dh_carry = xi[t] * dh_back
    dh0 = dh_carry
    return dx, dh0, dWx, dWh, db
'''

CHECKPOINTED = '''
def rnn_backward_checkpointed(dh, x, h0, Wx, Wh, b, every):
    N, T, H = dh.shape
    checkpoints = {}
    h_t = h0
    for t in range(T):
        if t % every == 0:
            checkpoints[t] = h_t
        h_t, _ = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    dh_carry = np.zeros((N, H))
    for start in reversed(range(0, T, every)):
        stop = min(start + every, T)
        _, seg_cache = rnn_forward(x[:, start:stop], checkpoints[start], Wx, Wh, b)
        dh_seg = dh[:, start:stop].copy()
        dh_seg[:, -1] += dh_carry
        dx_s, dh_carry, dWx_s, dWh_s, db_s = rnn_backward(dh_seg, seg_cache)
        dx[:, start:stop] = dx_s
        dWx += dWx_s
        dWh += dWh_s
        db += db_s
    dh0 = dh_carry
    return dx, dh0, dWx, dWh, db
'''

TEMPLATES = {"rnn_backward_weighted": WEIGHTED, "rnn_backward_checkpointed": CHECKPOINTED}

MISTAKES = (
    # --- weighted links
    Mistake("rnn_backward_weighted/xi-ignored", "The link weights are ignored (full BPTT)",
            "Every gradient that step t sends back into the state before it must be multiplied by that step's weight xi[t].",
            variant(WEIGHTED, "dh_carry = xi[t] * dh_back", "dh_carry = dh_back")),
    Mistake("rnn_backward_weighted/not-reweighted", "A link is kept or cut, but never reweighted",
            "A kept link is multiplied by its weight (1/p for randomized truncation), not by 1: the reweighting is what removes the bias.",
            variant(WEIGHTED, "dh_carry = xi[t] * dh_back", "dh_carry = (xi[t] != 0) * dh_back")),
    Mistake("rnn_backward_weighted/wrong-link-index", "Each link gets the weight of the step before",
            "xi[t] belongs to the link from step t back into h_{t-1}; use the weight of the step the gradient leaves.",
            variant(WEIGHTED, "dh_carry = xi[t] * dh_back", "dh_carry = xi[t - 1] * dh_back")),
    Mistake("rnn_backward_weighted/output-gradient-scaled", "The output's own gradient is scaled too",
            "Only what travels through the recurrence is weighted; the gradient dh[:, t] from step t's own output enters unscaled.",
            variant(variant(WEIGHTED, "dh_t = dh[:, t] + dh_carry", "dh_t = xi[t] * (dh[:, t] + dh_carry)"),
                    "dh_carry = xi[t] * dh_back", "dh_carry = dh_back")),
    Mistake("rnn_backward_weighted/deposits-scaled", "The step's own weight gradients are scaled too",
            "The weight scales the link into the previous state only; step t's deposits in dx, dWx, dWh and db are not scaled.",
            variant(variant(WEIGHTED, "da = dh_t * (1 - h[:, t] ** 2)", "da = xi[t] * dh_t * (1 - h[:, t] ** 2)"),
                    "dh_carry = xi[t] * dh_back", "dh_carry = dh_back")),
    Mistake("rnn_backward_weighted/dh0-unweighted", "dh0 misses the weight of the first link",
            "The gradient that step 0 sends into h0 crosses a link too, weighted by xi[0].",
            variant(WEIGHTED, "    dh0 = dh_carry\n", "    dh0 = dh_back\n")),
    Mistake("rnn_backward_weighted/h-minus-1-wraps", "At t = 0 the previous state is read as h[:, -1]",
            "For t = 0 the state before the step is h0; numpy's h[:, t - 1] at t = 0 is the last step instead.",
            variant(WEIGHTED, "h_prev = h0 if t == 0 else h[:, t - 1]", "h_prev = h[:, t - 1]")),
    Mistake("rnn_backward_weighted/dh-modified", "The upstream gradient dh is modified in place",
            "Adding into dh[:, t] changes the caller's array; keep the sum in a new variable.",
            variant(variant(WEIGHTED, "dh_t = dh[:, t] + dh_carry", "dh[:, t] += dh_carry"),
                    "da = dh_t * ", "da = dh[:, t] * ")),
    # --- checkpointing
    Mistake("rnn_backward_checkpointed/carry-dropped", "No gradient crosses from one segment into the one before",
            "Segments are a memory device, not a truncation: the gradient leaving a segment's first step enters the previous segment at its last state.",
            variant(CHECKPOINTED, "        dh_seg[:, -1] += dh_carry\n", "")),
    Mistake("rnn_backward_checkpointed/carry-at-first-state", "The carried gradient enters the segment at its first state",
            "The gradient coming back from the next segment is dL/dh at the last state of this segment.",
            variant(CHECKPOINTED, "dh_seg[:, -1] += dh_carry", "dh_seg[:, 0] += dh_carry")),
    Mistake("rnn_backward_checkpointed/recompute-from-h0", "Every segment is recomputed from h0",
            "Each segment's states must be recomputed from its own checkpoint, the state that entered its first step.",
            variant(CHECKPOINTED, "rnn_forward(x[:, start:stop], checkpoints[start], Wx, Wh, b)",
                    "rnn_forward(x[:, start:stop], h0, Wx, Wh, b)")),
    Mistake("rnn_backward_checkpointed/checkpoint-after-step", "The checkpoints hold the state after the step, not before",
            "A segment starting at step t is recomputed from the state that enters step t (h0 for t = 0), not the state step t produces.",
            variant(CHECKPOINTED, "        if t % every == 0:\n            checkpoints[t] = h_t\n"
                    "        h_t, _ = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)\n",
                    "        h_t, _ = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)\n"
                    "        if t % every == 0:\n            checkpoints[t] = h_t\n")),
    Mistake("rnn_backward_checkpointed/segments-in-forward-order", "The segments are visited first to last",
            "Backpropagation runs from the last segment to the first, so that each one receives the gradient of the segments after it.",
            variant(CHECKPOINTED, "for start in reversed(range(0, T, every)):", "for start in range(0, T, every):")),
    Mistake("rnn_backward_checkpointed/short-last-segment-lost", "A shorter last segment is left out",
            "When T is not a multiple of every, the last segment is shorter; it still needs its backward pass.",
            variant(CHECKPOINTED, "for start in reversed(range(0, T, every)):",
                    "for start in reversed(range(0, T - every + 1, every)):")),
    Mistake("rnn_backward_checkpointed/weights-overwritten", "Each segment overwrites the weight gradients",
            "The weights are shared by all segments: add up the segments' gradients.",
            variant(variant(variant(CHECKPOINTED, "dWx += dWx_s", "dWx = dWx_s"), "dWh += dWh_s", "dWh = dWh_s"),
                    "db += db_s", "db = db_s")),
    Mistake("rnn_backward_checkpointed/dh-modified", "The upstream gradient dh is modified in place",
            "A slice of dh is a view of the caller's array: adding the carried gradient into it changes dh; copy the slice first.",
            variant(CHECKPOINTED, "dh_seg = dh[:, start:stop].copy()", "dh_seg = dh[:, start:stop]")),
)
