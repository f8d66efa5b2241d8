"""Known mistakes in the temporal softmax cross-entropy loss.

Legend: N batch, T time steps, V vocabulary size.
"""
from . import Mistake, variant

SOFTMAX_LOSS = '''
def temporal_softmax_loss(scores, y):
    N, T, V = scores.shape
    shifted = scores - scores.max(axis=2, keepdims=True)
    probs = np.exp(shifted)
    probs = probs / probs.sum(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    n_idx, t_idx = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = -log_probs[n_idx, t_idx, y].sum() / N
    dscores = probs.copy()
    dscores[n_idx, t_idx, y] -= 1
    dscores = dscores / N
    return float(loss), dscores
'''

TEMPLATES = {"temporal_softmax_loss": SOFTMAX_LOSS}

MISTAKES = (
    Mistake("temporal_softmax_loss/no-max-subtraction", "exp overflows for large scores",
            "Subtract each row's largest score before exponentiating: softmax does not change, and exp cannot overflow.",
            variant(SOFTMAX_LOSS, "shifted = scores - scores.max(axis=2, keepdims=True)", "shifted = scores")),
    Mistake("temporal_softmax_loss/not-averaged-over-batch", "The loss is summed over the batch, not averaged",
            "Sum over time steps, then divide by N (for the loss and its gradient).",
            variant(variant(SOFTMAX_LOSS, "loss = -log_probs[n_idx, t_idx, y].sum() / N",
                            "loss = -log_probs[n_idx, t_idx, y].sum()"), "    dscores = dscores / N\n", "")),
    Mistake("temporal_softmax_loss/averaged-over-time", "The loss is averaged over time steps as well",
            "The contract sums over time steps and averages over the batch only (divide by N, not N * T).",
            variant(variant(SOFTMAX_LOSS, "loss = -log_probs[n_idx, t_idx, y].sum() / N",
                            "loss = -log_probs[n_idx, t_idx, y].sum() / (N * T)"),
                    "dscores = dscores / N", "dscores = dscores / (N * T)")),
    Mistake("temporal_softmax_loss/gradient-not-averaged", "The gradient is not divided by N",
            "The loss is divided by N, so its gradient is too.",
            variant(SOFTMAX_LOSS, "    dscores = dscores / N\n", "")),
    Mistake("temporal_softmax_loss/gradient-sign", "The gradient has the wrong sign",
            "d(-log p_y)/d scores = softmax - onehot(y).",
            variant(SOFTMAX_LOSS, "dscores = dscores / N", "dscores = -dscores / N")),
)
