"""The loss of a language model: softmax cross-entropy at every time step.

Legend: N batch size, T time steps, V vocabulary size.
"""
import numpy as np

from ._validate import _check_scores


def temporal_softmax_loss(scores, y):
    """Softmax cross-entropy summed over time steps and averaged over the batch.

    Inputs:
    - scores: array of shape (N, T, V), unnormalised log-probabilities
    - y: integer array of shape (N, T), the target class at every step, 0 <= y < V

    Returns a tuple of:
    - loss: float, -(1/N) sum_{n,t} log softmax(scores[n, t])[y[n, t]]
    - dscores: array of shape (N, T, V), d loss / d scores = (softmax - onehot(y)) / N

    Stable for scores of any size: the largest score is subtracted before
    exponentiating (softmax does not change when a constant is added).
    """
    scores, y = _check_scores(scores, y)
    N, T, V = scores.shape
    shifted = scores - scores.max(axis=2, keepdims=True)            # largest is 0: exp cannot overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    loss = -np.take_along_axis(log_probs, y[..., None], axis=2).sum() / N
    onehot = np.arange(V) == y[..., None]                           # (N, T, V)
    dscores = (np.exp(log_probs) - onehot) / N                      # d(-log softmax_y)/d scores
    return float(loss), dscores
