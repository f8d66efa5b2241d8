"""Wrong answers written the way students write them, each with the names its feedback may give.

None of them is in the mistakes library (mistakes/): they are variations the
library's exact matching misses (another loop shape, an epsilon, one output
of several), so that the feedback has to name them by symptom. The first
ten are the classics issue 17 lists (a mean over the batch, twice; the
overflowing softmax; the loss averaged over N*T; clipping below the
threshold; the two truncation schemes swapped, both ways; the time loop run
forwards; the tanh derivative forgotten in the weight gradients, twice). Accept sets hold "part:symptom id"
(see autograder/symptoms.py) and mistake ids.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary, k truncation length.
"""
from autograder.mistakes import variant
from autograder.mistakes.clipping import CLIP
from autograder.mistakes.losses import SOFTMAX_LOSS
from autograder.mistakes.rnn import BACKWARD, STEP_BACKWARD
from autograder.mistakes.truncation import CHUNKED, TRUNCATED

BATCH_GRADS = ("dWx", "dWh", "db")


def _all(parts, sid):
    return {f"{p}:{sid}" for p in parts}


# The sliding window written by hand in the chunked function, and chunks in the sliding-window one
# (each as its own loop, not a call of the other function: the library's *-instead mistakes do that).
CHUNKS_AS_TRUNCATED = variant(variant(TRUNCATED, "for s in range(t, max(0, t - k + 1) - 1, -1):",
                                      "for s in range(t, (t // k) * k - 1, -1):"), "if t <= k - 1:", "if t < k:")
WINDOWS_AS_CHUNKED = variant(TRUNCATED, "def rnn_backward_truncated(", "def rnn_backward_chunked(")

SOFTMAX_OVERFLOWS = '''
def temporal_softmax_loss(scores, y):
    N, T, V = scores.shape
    e = np.exp(scores)
    probs = e / e.sum(axis=2, keepdims=True)
    picked = probs[np.arange(N)[:, None], np.arange(T)[None, :], y]
    loss = -np.log(picked).sum() / N
    dscores = probs.copy()
    dscores[np.arange(N)[:, None], np.arange(T)[None, :], y] -= 1
    return float(loss), dscores / N
'''

BACKWARD_FORWARDS_LOOP = variant(BACKWARD, "for t in reversed(range(T)):", "for t in range(T):")

RETURN_ORDER = variant(BACKWARD, "    return dx, dh0, dWx, dWh, db\n", "    return dx, dh0, dWh, dWx, db\n")

REALISTIC = (
    # --- the classics of issue 17
    ("rnn_step_backward", "db a mean over the batch",
     variant(STEP_BACKWARD, "db = da.sum(axis=0)", "db = np.mean(da, axis=0)"), {"db:divided-by-N"}),
    ("rnn_backward", "weight gradients averaged over the batch",
     variant(variant(variant(BACKWARD, "dWx += x[:, t].T @ da", "dWx += x[:, t].T @ da / N"),
                     "dWh += h_prev.T @ da", "dWh += h_prev.T @ da / N"), "db += da.sum(axis=0)", "db += da.mean(axis=0)"),
     _all(BATCH_GRADS, "divided-by-N")),
    ("temporal_softmax_loss", "softmax without the shift overflows", SOFTMAX_OVERFLOWS,
     {"loss:overflow", "dscores:overflow", "temporal_softmax_loss/no-max-subtraction"}),
    ("temporal_softmax_loss", "loss averaged over N*T",
     variant(SOFTMAX_LOSS, "loss = -log_probs[n_idx, t_idx, y].sum() / N",
             "loss = -log_probs[n_idx, t_idx, y].mean()"), {"loss:divided-by-T"}),
    ("clip_grad_norm", "clipping that rescales below the threshold (with an epsilon)",
     variant(CLIP, "scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0",
             "scale = max_norm / (total_norm + 1e-12)"),
     {"clipped:equals:clip_grad_norm/scaled-below-threshold", "clipped:factor-per-case"}),
    ("rnn_backward_truncated", "chunks computed in the sliding-window function", CHUNKS_AS_TRUNCATED,
     _all(("dx", "dh0", "dWx", "dWh", "db"), "equals:rnn_backward_truncated/chunks")),
    ("rnn_backward_chunked", "sliding windows computed in the chunked function", WINDOWS_AS_CHUNKED,
     _all(("dx", "dh0", "dWx", "dWh", "db"), "equals:rnn_backward_chunked/sliding-window")),
    ("rnn_backward", "the time loop run forwards", BACKWARD_FORWARDS_LOOP,
     _all(("dx", "dh0", "dWx", "dWh", "db"), "equals:rnn_backward/time-loop-forwards")),
    ("rnn_step_backward", "tanh derivative forgotten in the weight gradients",
     variant(variant(variant(STEP_BACKWARD, "dWx = x_t.T @ da", "dWx = x_t.T @ dh_next"),
                     "dWh = h_prev.T @ da", "dWh = h_prev.T @ dh_next"), "db = da.sum(axis=0)", "db = dh_next.sum(axis=0)"),
     _all(BATCH_GRADS, "equals:rnn_step_backward/no-tanh-derivative")),
    ("rnn_backward", "tanh derivative forgotten in the weight gradients",
     variant(variant(variant(BACKWARD, "dWx += x[:, t].T @ da", "dWx += x[:, t].T @ dh_t"),
                     "dWh += h_prev.T @ da", "dWh += h_prev.T @ dh_t"), "db += da.sum(axis=0)", "db += dh_t.sum(axis=0)"),
     _all(BATCH_GRADS, "equals:rnn_backward/no-tanh-derivative-in-weights")),
    # --- more of the same families
    ("rnn_backward", "dWx and dWh returned in each other's place", RETURN_ORDER,
     {"dWx:holds:dWh", "dWh:holds:dWx"}),
    ("rnn_backward", "dh0 never filled in",
     variant(BACKWARD, "    dh0 = dh_carry\n", "    dh0 = np.zeros((N, H))\n"), {"dh0:zero"}),
    ("rnn_backward", "the whole gradient without the tanh derivative",
     variant(BACKWARD, "da = dh_t * (1 - h[:, t] ** 2)", "da = dh_t"),
     _all(("dx", "dh0", "dWx", "dWh", "db"), "equals:rnn_backward/no-tanh-derivative")),
    ("rnn_backward_chunked", "chunk boundaries ignored",
     variant(CHUNKED, "    for start in range(0, T, k):\n        stop = min(start + k, T)\n",
             "    for start in range(0, 1):\n        stop = T\n"),
     _all(("dx", "dh0", "dWx", "dWh", "db"), "equals:rnn_backward_chunked/full-bptt")),
    ("temporal_softmax_loss", "gradient averaged over N*T, loss right",
     variant(SOFTMAX_LOSS, "dscores = dscores / N", "dscores = dscores / (N * T)"), {"dscores:divided-by-T"}),
    ("temporal_softmax_loss", "loss and gradient summed over the batch (no division by N)",
     variant(variant(SOFTMAX_LOSS, "loss = -log_probs[n_idx, t_idx, y].sum() / N",
                     "loss = -np.sum(log_probs[n_idx, t_idx, y])"), "    dscores = dscores / N\n", ""),
     {"loss:multiplied-by-N", "dscores:multiplied-by-N", "temporal_softmax_loss/not-averaged-over-batch",
      "temporal_softmax_loss/gradient-not-averaged"}),
)


# --- the LSTM (issue 11) and the language model (issue 13): written from the contract, standalone
# (no template of their mistakes libraries); inert until those functions are graded.
LSTM_STEP_FORWARD_IFOG = '''
def lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b
    sig = lambda z: 1 / (1 + np.exp(-z))
    i, f, o = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H])   # CS231n's blocks i, f, o, g
    g = np.tanh(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x_t, h_prev, c_prev, Wx, Wh, np.hstack([i, f, o, g]), c_next)
'''

LSTM_FORWARD_IGFO = '''
def lstm_forward(x, h0, c0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    hs, cs, gs = [], [], []
    h, c = h0, c0
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        i = 1 / (1 + np.exp(-a[:, :H]))            # TensorFlow 1's blocks i, g, f, o
        g = np.tanh(a[:, H:2 * H])
        f = 1 / (1 + np.exp(-a[:, 2 * H:3 * H]))
        o = 1 / (1 + np.exp(-a[:, 3 * H:]))
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
        gs.append(np.hstack([i, f, g, o]))
    h_all = np.stack(hs, axis=1)
    return h_all, (x, h0, c0, Wx, Wh, np.stack(gs, axis=1), np.stack(cs, axis=1), h_all)
'''

LSTM_STEP_BACKWARD_DB_MEAN = '''
def lstm_step_backward(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, gates, c_next = cache
    H = h_prev.shape[1]
    i, f, g, o = np.split(gates, 4, axis=1)
    tc = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1 - tc * tc)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), dh_next * tc * o * (1 - o)])
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, np.mean(da, axis=0)
'''

LSTM_BACKWARD_TIME_MEAN = '''
def lstm_backward(dh, cache):
    x, h0, c0, Wx, Wh, gates, c, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(4 * H)
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        step = (x[:, t], h0 if t == 0 else h[:, t - 1], c0 if t == 0 else c[:, t - 1], Wx, Wh, gates[:, t], c[:, t])
        dx[:, t], dh_next, dc_next, gx, gh, gb = lstm_step_backward(dh[:, t] + dh_next, dc_next, step)
        dWx, dWh, db = dWx + gx, dWh + gh, db + gb
    return dx, dh_next, dc_next, dWx / T, dWh / T, db / T       # "the average step"
'''

AFFINE_BACKWARD_DBY_MEAN = '''
def temporal_affine_backward(dscores, cache):
    h, Wy = cache
    V = Wy.shape[1]
    dh = dscores @ Wy.T
    dWy = np.einsum("nth,ntv->hv", h, dscores)
    dby = dscores.reshape(-1, V).mean(axis=0)
    return dh, dWy, dby
'''

LM_PER_CHARACTER = '''
def lm_loss_and_grads(params, x_ids, y_ids, h0):
    N, T = x_ids.shape
    H = params["Wh"].shape[0]
    h, cache = rnn_forward(params["Wx"][x_ids], h0, np.eye(H), params["Wh"], params["b"])
    scores, affine_cache = temporal_affine_forward(h, params["Wy"], params["by"])
    loss, dscores = temporal_softmax_loss(scores, y_ids)
    loss, dscores = loss / T, dscores / T          # per character, to compare runs of any length
    dh, dWy, dby = temporal_affine_backward(dscores, affine_cache)
    demb, _, _, dWh, db = rnn_backward(dh, cache)
    dWx = np.zeros_like(params["Wx"])
    np.add.at(dWx, x_ids, demb)
    return loss, {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}, h[:, -1]
'''

LM_FANCY_INDEX_ADD = variant(LM_PER_CHARACTER, "    loss, dscores = loss / T, dscores / T          # per character, to compare runs of any length\n", "")
LM_FANCY_INDEX_ADD = variant(LM_FANCY_INDEX_ADD, "np.add.at(dWx, x_ids, demb)", "dWx[x_ids] += demb")
LM_GRADS = tuple(f"grads[{key!r}]" for key in ("Wx", "Wh", "b", "Wy", "by"))   # lm_loss_and_grads' dict parts

REALISTIC += (
    ("lstm_step_forward", "LSTM gates in CS231n's order i, f, o, g", LSTM_STEP_FORWARD_IFOG,
     {"h_next:equals:lstm_step_forward/gates-ifog", "c_next:equals:lstm_step_forward/gates-ifog",
      "lstm_step_forward/gate-order-ifog"}),
    ("lstm_forward", "LSTM gates in TensorFlow 1's order i, g, f, o", LSTM_FORWARD_IGFO,
     {"h:equals:lstm_forward/gates-igfo"}),
    ("lstm_step_backward", "LSTM db a mean over the batch", LSTM_STEP_BACKWARD_DB_MEAN, {"db:divided-by-N"}),
    ("lstm_backward", "LSTM weight gradients averaged over the time steps", LSTM_BACKWARD_TIME_MEAN,
     _all(("dWx", "dWh", "db"), "divided-by-T")),
    ("temporal_affine_backward", "dby a mean over the positions", AFFINE_BACKWARD_DBY_MEAN,
     {"dby:divided-by-NT", "temporal_affine_backward/dby-averaged"}),
    ("lm_loss_and_grads", "the loss per character (divided by T)", LM_PER_CHARACTER,
     _all(("loss",) + LM_GRADS, "divided-by-T") | {"lm_loss_and_grads/averaged-over-NT"}),
    ("lm_loss_and_grads", "the embedding gradient added with a fancy index (repeats lost)", LM_FANCY_INDEX_ADD,
     {"grads['Wx']:right-only-when:T = 1", "lm_loss_and_grads/embedding-assigned"}),
)
# --- end of the LSTM and the language model

# What the feedback may name for each known mistake when the library is switched off (the
# symptoms its values show), judged by hand. A mistake not listed here may get no symptom at all.
BACKWARD_PARTS = ("dx", "dh0", "dWx", "dWh", "db")
LIBRARY_SYMPTOMS = {
    "rnn_forward/h-prev-never-updated": _all(("h", "cache"), "right-only-when:T = 1"),
    "rnn_forward/states-shifted": _all(("h", "cache"), "shifted-later"),
    "numerical_gradient/denominator-h": {"grad:doubled"},
    "rnn_step_backward/no-tanh-derivative": _all(("dx_t", "dh_prev") + BATCH_GRADS,
                                                 "equals:rnn_step_backward/no-tanh-derivative"),
    "rnn_step_backward/batch-averaged": _all(BATCH_GRADS, "divided-by-N"),
    "rnn_backward/no-carried-gradient": _all(BACKWARD_PARTS, "right-only-when:T = 1"),
    "rnn_backward/only-carried-gradient": _all(BACKWARD_PARTS, "right-only-when:T = 1"),
    "rnn_backward/weights-overwritten": _all(BATCH_GRADS, "right-only-when:T = 1"),
    "rnn_backward/Wh-not-transposed": _all(BACKWARD_PARTS, "right-only-when:T = 1"),
    "gradient_contributions/transposed": {"C:transposed"},
    "gradient_contributions/own-step-only": {"C:right-only-when:T = 1"},
    "gradient_contributions/per-sample-norms": {"C:right-only-when:N = 1"},
    "rnn_backward_truncated/window-k-plus-1": _all(BACKWARD_PARTS, "right-only-when:k >= T"),
    "rnn_backward_truncated/dh0-from-every-window": {"dh0:right-only-when:k >= T"},
    "rnn_backward_truncated/k-ignored": _all(BACKWARD_PARTS, "equals:rnn_backward_truncated/full-bptt"),
    "rnn_backward_chunked/dh0-from-every-chunk": {"dh0:right-only-when:k >= T"},
    "rnn_backward_chunked/h0-for-every-chunk": _all(BACKWARD_PARTS, "right-only-when:k >= T"),
    "rnn_backward_chunked/weights-overwritten": _all(BATCH_GRADS, "right-only-when:k >= T"),
    "step_jacobians/transposed": {"J:transposed"},
    "gradient_norms_through_time/no-tanh-factor": {"norms:right-only-when:T = 1"},
    "gradient_norms_through_time/Wh-not-transposed": {"norms:right-only-when:T = 1"},
    "gradient_norms_through_time/derivative-one-step-early": {"norms:right-only-when:T = 1"},
    "gradient_norms_through_time/reversed": {"norms:time-reversed"},
    "gradient_norms_through_time/per-sample-average": {"norms:right-only-when:N = 1"},
    "scale_to_spectral_radius/largest-singular-value": {"W_scaled:factor-per-case"},
    "scale_to_spectral_radius/frobenius-norm": {"W_scaled:factor-per-case"},
    "clip_grad_norm/always-scaled": {"clipped:equals:clip_grad_norm/scaled-below-threshold",
                                     "clipped:factor-per-case"},
    "clip_grad_norm/inverted-condition": {"clipped:factor-per-case"},
    "clip_grad_norm/sum-of-norms": {"clipped:factor-per-case"},
    "temporal_softmax_loss/no-max-subtraction": {"loss:overflow", "dscores:overflow"},
    "temporal_softmax_loss/not-averaged-over-batch": {"loss:multiplied-by-N", "dscores:multiplied-by-N"},
    "temporal_softmax_loss/averaged-over-time": {"loss:divided-by-T", "dscores:divided-by-T"},
    "temporal_softmax_loss/gradient-not-averaged": {"dscores:multiplied-by-N"},
    "temporal_softmax_loss/gradient-sign": {"dscores:sign-flipped"},
    "rnn_backward_weighted/xi-ignored": _all(BACKWARD_PARTS, "equals:rnn_backward_weighted/full-bptt"),
    "rnn_backward_weighted/wrong-link-index": _all(BACKWARD_PARTS, "equals:rnn_backward_weighted/xi-one-step-early"),
    "rnn_backward_weighted/dh0-unweighted": {"dh0:equals:rnn_backward_weighted/dh0-not-scaled"},
    "rnn_backward_checkpointed/carry-dropped": _all(BACKWARD_PARTS,
                                                    "equals:rnn_backward_checkpointed/cut-at-checkpoints"),
    "rnn_backward_checkpointed/recompute-from-h0": _all(BACKWARD_PARTS,
                                                        "equals:rnn_backward_checkpointed/segments-from-h0"),
    "rnn_backward_checkpointed/segments-in-forward-order": _all(BACKWARD_PARTS, "right-only-when:every >= T"),
    "rnn_backward_checkpointed/weights-overwritten": _all(BATCH_GRADS, "right-only-when:every >= T"),
}

# --- the LSTM (issue 11) and the language model (issue 13): judged on a trial merge of their branches;
# inert until those functions are graded.
LSTM_BACKWARD_PARTS = ("dx", "dh0", "dc0", "dWx", "dWh", "db")
LIBRARY_SYMPTOMS.update({
    "lstm_step_forward/gate-order-ifog": _all(("h_next", "c_next"), "equals:lstm_step_forward/gates-ifog"),
    "lstm_forward/cell-from-zeros": {"h:equals:lstm_forward/c0-ignored"},
    "lstm_forward/cell-not-carried": _all(("h", "cache"), "right-only-when:T = 1"),
    "lstm_forward/states-shifted": _all(("h", "cache"), "shifted-later"),
    "lstm_step_backward/gate-order-ifog": _all(("dx_t", "dh_prev", "dc_prev", "dWx", "dWh", "db"),
                                               "equals:lstm_step_backward/gates-ifog"),
    "lstm_backward/dh0-dc0-swapped": {"dh0:holds:dc0", "dc0:holds:dh0"},
    "lstm_backward/cell-gradient-not-carried": _all(LSTM_BACKWARD_PARTS, "right-only-when:T = 1"),
    "lstm_backward/no-carried-dh": _all(LSTM_BACKWARD_PARTS, "right-only-when:T = 1"),
    "lstm_backward/weights-overwritten": _all(("dWx", "dWh", "db"), "right-only-when:T = 1"),
    "temporal_affine_backward/dWy-transposed": {"dWy:transposed"},
    "temporal_affine_backward/weights-overwritten": _all(("dWy", "dby"), "right-only-when:T = 1"),
    "temporal_affine_backward/dby-averaged": {"dby:divided-by-NT"},
    "lm_loss_and_grads/embedding-assigned": {"grads['Wx']:right-only-when:T = 1"},
    "lm_loss_and_grads/zeros-not-h0": _all(("loss",) + LM_GRADS + ("h_last",), "equals:lm_loss_and_grads/h0-ignored"),
    "lm_loss_and_grads/h-last-first-step": {"h_last:equals:lm_loss_and_grads/h-last-after-first-step"},
    "lm_loss_and_grads/averaged-over-NT": _all(("loss",) + LM_GRADS, "divided-by-T"),
    "lm_loss_and_grads/dWy-transposed": {"grads['Wy']:transposed"},
})
# --- end of the LSTM and the language model

# Known mistakes that the library names together with another one, judged true by hand: the other
# mistake explains some of the same outputs exactly (the pre-activation does sit in the cache of a
# step without tanh; scaling by a norm never raises for a zero spectral radius; a loss summed over
# the batch has a gradient not divided by N; scaling the gradient at h_t by xi[t] and scaling the
# step's deposits by xi[t] are one and the same computation, the link being linear).
LIBRARY_ALSO = {
    "rnn_backward_weighted/output-gradient-scaled": {"rnn_backward_weighted/deposits-scaled"},
    "rnn_backward_weighted/deposits-scaled": {"rnn_backward_weighted/output-gradient-scaled"},
    "rnn_step_forward/no-tanh": {"rnn_step_forward/cache-pre-activation"},
    "scale_to_spectral_radius/largest-singular-value": {"scale_to_spectral_radius/no-zero-check"},
    "scale_to_spectral_radius/frobenius-norm": {"scale_to_spectral_radius/no-zero-check"},
    "temporal_softmax_loss/not-averaged-over-batch": {"temporal_softmax_loss/gradient-not-averaged"},
}
