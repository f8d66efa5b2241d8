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
