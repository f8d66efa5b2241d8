"""The character-level language model, assembled: embedding, tanh RNN, output layer, loss.

Legend: N batch size, T time steps, H hidden size, V vocabulary size.

    x_ids (N, T) --embedding: rows of Wx (V, H)--> the input term of every step
    h = tanh RNN from h0 (Wh (H, H), b (H,))                       (N, T, H)
    scores = h @ Wy + by  (temporal affine layer, Wy (H, V), by (V,))  (N, T, V)
    loss = temporal_softmax_loss(scores, y_ids)

Picking row x_ids[n, t] of Wx is exactly x_t @ Wx for the one-hot x_t of that
id, without building the one-hot vectors.
"""
import numpy as np

from ._validate import _check_affine, _check_affine_cache, _check_lm
from .losses import temporal_softmax_loss
from .rnn import rnn_backward, rnn_forward


def temporal_affine_forward(h, Wy, by):
    """The output layer at every time step: scores = h @ Wy + by.

    Inputs:
    - h: array of shape (N, T, H), the hidden states
    - Wy: array of shape (H, V), hidden-to-scores weights
    - by: array of shape (V,), score biases

    Returns a tuple of:
    - scores: array of shape (N, T, V)
    - cache: the tuple (h, Wy)
    """
    h, Wy, by = _check_affine(h, Wy, by)
    scores = h @ Wy + by                      # one product for all N * T positions
    cache = (h, Wy)
    return scores, cache


def temporal_affine_backward(dscores, cache):
    """Backward pass of the output layer.

    Inputs:
    - dscores: array of shape (N, T, V), dL/dscores
    - cache: the tuple (h, Wy) of temporal_affine_forward

    Returns a tuple of:
    - dh: array of shape (N, T, H)
    - dWy: array of shape (H, V), summed over the batch and the time steps
    - dby: array of shape (V,), likewise
    """
    dscores, cache = _check_affine_cache(dscores, cache)
    h, Wy = cache
    N, T, H = h.shape
    V = Wy.shape[1]
    dh = dscores @ Wy.T                                        # scores = h @ Wy + ...  -> dL/dh
    dWy = h.reshape(N * T, H).T @ dscores.reshape(N * T, V)    # every position adds its outer product
    dby = dscores.sum(axis=(0, 1))                             # by is broadcast over n and t
    return dh, dWy, dby


def lm_loss_and_grads(params, x_ids, y_ids, h0):
    """Loss and gradients of the language model on one batch, and the final state to carry on.

    Inputs:
    - params: dict with Wx (V, H), Wh (H, H), b (H,), Wy (H, V), by (V,)
    - x_ids: integer array of shape (N, T), the input ids, 0 <= x_ids < V
    - y_ids: integer array of shape (N, T), the target ids (the next character), 0 <= y_ids < V
    - h0: array of shape (N, H), the state carried in (it gets no gradient)

    Returns a tuple of:
    - loss: float, temporal_softmax_loss of the scores against y_ids
    - grads: a new dict with the keys and shapes of params
    - h_last: array of shape (N, H), the state after the last step
    """
    params, x_ids, y_ids, h0 = _check_lm(params, x_ids, y_ids, h0)
    Wx, Wh, b, Wy, by = (params[name] for name in ("Wx", "Wh", "b", "Wy", "by"))
    H = Wh.shape[0]
    embedded = Wx[x_ids]                                      # row x_ids[n, t] of Wx = x_t @ Wx, (N, T, H)
    h, rnn_cache = rnn_forward(embedded, h0, np.eye(H), Wh, b)   # input weights = identity: the term is complete
    scores, affine_cache = temporal_affine_forward(h, Wy, by)
    loss, dscores = temporal_softmax_loss(scores, y_ids)
    dh, dWy, dby = temporal_affine_backward(dscores, affine_cache)     # output layer: dL/dh_t from each output
    dembedded, _, _, dWh, db = rnn_backward(dh, rnn_cache)   # BPTT; the identity's and h0's gradients are dropped
    dWx = np.zeros(Wx.shape)
    np.add.at(dWx, x_ids, dembedded)                          # each row gets the sum over every place it was picked
    grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}
    h_last = h[:, -1].copy()
    return loss, grads, h_last
