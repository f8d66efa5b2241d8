"""Truncated backpropagation through time: two ways to cut the gradient.

Legend: N batch size, T time steps, D input size, H hidden size, k truncation length.

- Sliding window (rnn_backward_truncated): every loss L_t is backpropagated
  through its own last k steps, t, t-1, ..., t-k+1 (Williams & Peng 1990,
  "BPTT(h; 1)" of Williams & Zipser 1995).
- Chunks (rnn_backward_chunked): the sequence is cut into pieces of k steps;
  full BPTT runs inside each piece and the gradient is detached at the cuts,
  while the hidden state is carried forward. This is what frameworks do
  (`h = h.detach()` between chunks).
- Weighted links (rnn_backward_weighted): every backward link t -> t-1 is
  scaled by a number xi[t]; full BPTT, chunks and randomized truncation
  (Tallec & Ollivier 2017) are special cases.
"""
import numpy as np

from ._validate import _check_truncation, _check_weighted
from .rnn import rnn_backward


def rnn_backward_truncated(dh, cache, k):
    """Sliding-window truncated BPTT: L_t is backpropagated through k steps only.

    The signal of L_t passes through steps t, t-1, ..., max(0, t-k+1) and is
    then dropped; dh0 receives it only when the window reaches step 0
    (t <= k-1). With k >= T this is rnn_backward. Work is O(T k), done as T
    batched steps over the (at most k) signals that are alive at once.

    Inputs:
    - dh: array of shape (N, T, H), dL/dh_t from the output at each step
    - cache: the sequence cache (x, h0, Wx, Wh, h) of rnn_forward
    - k: int >= 1, the truncation length

    Returns (dx, dh0, dWx, dWh, db) with the shapes of rnn_backward:
    (N, T, D), (N, H), (D, H), (H, H), (H,).
    """
    dh, cache, k = _check_truncation(dh, cache, k)
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    D = x.shape[2]
    K = min(k, T)                             # no more than K losses are alive at any step
    dtanh = 1 - h ** 2                        # tanh'(a_s), (N, T, H)
    da = np.empty((N, T, H))                  # dL/da_s summed over the live losses
    live = np.zeros((K, N, H))                # live[j] = dL_{s+j}/dh_s within L_{s+j}'s window
    for s in reversed(range(T)):
        live[0] = dh[:, s]                    # L_s starts at its own step
        da_live = live * dtanh[:, s]          # through tanh, one signal per live loss, (K, N, H)
        da[:, s] = da_live.sum(axis=0)
        dh_prev = da_live @ Wh.T              # into h_{s-1}
        if s == 0:
            dh0 = dh_prev.sum(axis=0)         # windows that reach step 0 end in h0
        live[1:] = dh_prev[:-1]               # L_{s+K-1} has had its k steps: dropped
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)   # h_{s-1} for every s
    dx = da @ Wx.T
    dWx = x.reshape(N * T, D).T @ da.reshape(N * T, H)
    dWh = h_prev.reshape(N * T, H).T @ da.reshape(N * T, H)
    db = da.sum(axis=(0, 1))
    return dx, dh0, dWx, dWh, db


def rnn_backward_chunked(dh, cache, k):
    """Chunked truncated BPTT, as in deep-learning frameworks.

    The steps are cut into chunks [0, k), [k, 2k), ... counted from t = 0 (the
    last may be shorter). Each chunk gets full BPTT, starting from the hidden
    state carried in from the previous chunk; no gradient crosses a chunk
    boundary, so dh0 receives the signal of the first chunk only. O(T) work.

    Inputs:
    - dh: array of shape (N, T, H), dL/dh_t from the output at each step
    - cache: the sequence cache (x, h0, Wx, Wh, h) of rnn_forward
    - k: int >= 1, the chunk length

    Returns (dx, dh0, dWx, dWh, db) with the shapes of rnn_backward:
    (N, T, D), (N, H), (D, H), (H, H), (H,).
    """
    dh, cache, k = _check_truncation(dh, cache, k)
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.empty(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros((H, H)), np.zeros(H)
    for start in range(0, T, k):
        stop = min(start + k, T)
        h_start = h0 if start == 0 else h[:, start - 1]      # the carried (detached) state
        chunk_cache = (x[:, start:stop], h_start, Wx, Wh, h[:, start:stop])
        dx_c, dh_start, dWx_c, dWh_c, db_c = rnn_backward(dh[:, start:stop], chunk_cache)
        dx[:, start:stop] = dx_c
        dWx += dWx_c                          # weights are shared: chunks add up
        dWh += dWh_c
        db += db_c
        if start == 0:
            dh0 = dh_start                    # later chunks' dh_start is cut off (detached)
    return dx, dh0, dWx, dWh, db


def rnn_backward_weighted(dh, cache, xi):
    """BPTT in which every backward link is scaled: the general form of truncation.

    The gradient that step t sends back into h_{t-1} (into h0 for t = 0) is
    multiplied by xi[t] before it joins dh[:, t-1]. Special cases:
    - xi all ones: full BPTT (rnn_backward);
    - xi[t] = 0 at the chunk starts t = k, 2k, ... and 1 elsewhere: rnn_backward_chunked;
    - xi[t] = Bernoulli(p) / p drawn independently: randomized truncation, whose
      expectation is the full gradient (Tallec & Ollivier 2017); without the
      1/p the cut links only ever remove signal, so the mean stays biased.

    Inputs:
    - dh: array of shape (N, T, H), dL/dh_t from the output at each step
    - cache: the sequence cache (x, h0, Wx, Wh, h) of rnn_forward
    - xi: array of shape (T,), the weight of each step's backward link

    Returns (dx, dh0, dWx, dWh, db) with the shapes of rnn_backward:
    (N, T, D), (N, H), (D, H), (H, H), (H,).
    """
    dh, cache, xi = _check_weighted(dh, cache, xi)
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    D = x.shape[2]
    dtanh = 1 - h ** 2                        # tanh'(a_t) for every step, (N, T, H)
    da = np.empty((N, T, H))
    dh_carry = np.zeros((N, H))               # dL/dh_t arriving through the (scaled) link from step t+1
    for t in reversed(range(T)):
        dh_t = dh[:, t] + dh_carry            # total gradient at h_t
        da[:, t] = dh_t * dtanh[:, t]         # through tanh
        dh_carry = xi[t] * (da[:, t] @ Wh.T)  # into h_{t-1}, scaled by this step's link weight
    dh0 = dh_carry                            # what reached h_{-1} = h0 (scaled by xi[0])
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)   # h_{t-1} for every t, (N, T, H)
    dx = da @ Wx.T
    dWx = x.reshape(N * T, D).T @ da.reshape(N * T, H)
    dWh = h_prev.reshape(N * T, H).T @ da.reshape(N * T, H)
    db = da.sum(axis=(0, 1))
    return dx, dh0, dWx, dWh, db
