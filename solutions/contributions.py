"""Where dWh comes from: the per-(loss step, deposit step) decomposition of BPTT.

Legend: N batch size, T time steps, H hidden size.
"""
import numpy as np

from ._validate import _check_backward


def gradient_contributions(dh, cache):
    """Norms of the terms that BPTT adds up into dWh.

    The loss at step t, L_t (whose direct gradient is dh[:, t]), sends a signal
    back through steps t, t-1, ..., 0. At each step s <= t it deposits the term
    h_{s-1}^T @ da_s^(t) in dWh, where da_s^(t) is that signal at step s's
    pre-activation and h_{-1} = h0. Summed over all t and s the terms give the
    dWh of rnn_backward.

    Inputs:
    - dh: array of shape (N, T, H), dL/dh_t from the output at each step
    - cache: the sequence cache (x, h0, Wx, Wh, h) of rnn_forward

    Returns:
    - C: array of shape (T, T); C[t, s] is the Frobenius norm of the term that
      L_t deposits at step s, and 0 for s > t
    """
    dh, cache = _check_backward(dh, cache)
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dtanh = 1 - h ** 2                                          # tanh'(a_s), (N, T, H)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)   # h_{s-1} for every s
    C = np.zeros((T, T))
    g = np.zeros((T, N, H))        # g[t] = dL_t/dh_s for the step s being visited (one signal per loss)
    for s in reversed(range(T)):
        g[s] = dh[:, s]                                         # L_s starts at its own step
        da = g[s:] * dtanh[:, s]                                # through tanh, for every loss t >= s
        terms = np.einsum("ni,tnj->tij", h_prev[:, s], da)      # h_{s-1}^T @ da_s^(t), (T-s, H, H)
        C[s:, s] = np.sqrt(np.einsum("tij,tij->t", terms, terms))   # Frobenius norms
        g[s:] = da @ Wh.T                                       # into h_{s-1}
    return C
