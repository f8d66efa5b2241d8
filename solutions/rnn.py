"""The vanilla tanh RNN: one step, the unrolled sequence, and their backward passes.

Legend: N batch size, T time steps, D input size, H hidden size.
Forward:  a_t = x_t @ Wx + h_{t-1} @ Wh + b,   h_t = tanh(a_t),   h_{-1} = h0.
"""
import numpy as np

from ._validate import _check_backward, _check_sequence, _check_step, _check_step_cache


def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
    """One time step of a tanh RNN.

    Inputs:
    - x_t: array of shape (N, D), the inputs at this step
    - h_prev: array of shape (N, H), the hidden state before this step
    - Wx: array of shape (D, H), input-to-hidden weights
    - Wh: array of shape (H, H), hidden-to-hidden weights
    - b: array of shape (H,), bias

    Returns a tuple of:
    - h_next: array of shape (N, H), tanh(x_t @ Wx + h_prev @ Wh + b)
    - cache: the step cache (x_t, h_prev, Wx, Wh, h_next)
    """
    x_t, h_prev, Wx, Wh, b = _check_step(x_t, h_prev, Wx, Wh, b)
    a = x_t @ Wx + h_prev @ Wh + b        # pre-activation, (N, H)
    h_next = np.tanh(a)
    cache = (x_t, h_prev, Wx, Wh, h_next)
    return h_next, cache


def rnn_forward(x, h0, Wx, Wh, b):
    """Run the RNN over a whole sequence: the network unrolled into T layers that share Wx, Wh, b.

    Inputs:
    - x: array of shape (N, T, D), the input sequence
    - h0: array of shape (N, H), the initial hidden state h_{-1}
    - Wx: array of shape (D, H); Wh: array of shape (H, H); b: array of shape (H,)

    Returns a tuple of:
    - h: array of shape (N, T, H); h[:, t] is the state after reading x[:, t]
    - cache: the sequence cache (x, h0, Wx, Wh, h): all that backward needs,
      which grows linearly with T
    """
    x, h0, Wx, Wh, b = _check_sequence(x, h0, Wx, Wh, b)
    N, T, _ = x.shape
    H = h0.shape[1]
    xw = x @ Wx + b                        # input part of every a_t at once, (N, T, H)
    h = np.empty((N, T, H))
    h_prev = h0
    for t in range(T):                     # the recurrence forces a loop over time
        h_prev = np.tanh(xw[:, t] + h_prev @ Wh)
        h[:, t] = h_prev
    cache = (x, h0, Wx, Wh, h)
    return h, cache


def rnn_step_backward(dh_next, cache):
    """Backward pass through one time step.

    Inputs:
    - dh_next: array of shape (N, H), dL/dh_next (all of it: from the output
      and from later steps)
    - cache: the step cache (x_t, h_prev, Wx, Wh, h_next) of rnn_step_forward

    Returns a tuple of:
    - dx_t: array of shape (N, D)
    - dh_prev: array of shape (N, H)
    - dWx: array of shape (D, H)
    - dWh: array of shape (H, H)
    - db: array of shape (H,)
    """
    dh_next, cache = _check_step_cache(dh_next, cache)
    x_t, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1 - h_next ** 2)       # through tanh: tanh'(a) = 1 - tanh(a)^2 = 1 - h_next^2
    dx_t = da @ Wx.T                       # a = x_t @ Wx + ...     -> dL/dx_t
    dh_prev = da @ Wh.T                    # a = ... + h_prev @ Wh  -> dL/dh_prev
    dWx = x_t.T @ da                       # dL/dWx, summed over the batch
    dWh = h_prev.T @ da                    # dL/dWh, summed over the batch
    db = da.sum(axis=0)                    # a = ... + b, b broadcast over the batch
    return dx_t, dh_prev, dWx, dWh, db


def rnn_backward(dh, cache):
    """Full backpropagation through time.

    Inputs:
    - dh: array of shape (N, T, H); dh[:, t] is dL/dh_t coming directly from
      the output at step t (not through the recurrence)
    - cache: the sequence cache (x, h0, Wx, Wh, h) of rnn_forward

    Returns a tuple of:
    - dx: array of shape (N, T, D)
    - dh0: array of shape (N, H)
    - dWx: array of shape (D, H), dWh: array of shape (H, H), db: array of shape (H,),
      each summed over all time steps (the weights are shared by every step)
    """
    dh, cache = _check_backward(dh, cache)
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    D = x.shape[2]
    dtanh = 1 - h ** 2                     # tanh'(a_t) for every step, (N, T, H)
    da = np.empty((N, T, H))
    dh_carry = np.zeros((N, H))            # dL/dh_t arriving through the recurrence from step t+1
    for t in reversed(range(T)):
        dh_t = dh[:, t] + dh_carry         # total gradient at h_t: the output's plus the carried
        da[:, t] = dh_t * dtanh[:, t]      # through tanh
        dh_carry = da[:, t] @ Wh.T         # into h_{t-1} (a_t = ... + h_{t-1} @ Wh)
    dh0 = dh_carry                         # what reached h_{-1} = h0
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)   # h_{t-1} for every t, (N, T, H)
    dx = da @ Wx.T                         # a_t = x_t @ Wx + ...  -> dL/dx_t at every step
    dWx = x.reshape(N * T, D).T @ da.reshape(N * T, H)          # sum over n and t in one product
    dWh = h_prev.reshape(N * T, H).T @ da.reshape(N * T, H)     # likewise, with h_{t-1}
    db = da.sum(axis=(0, 1))
    return dx, dh0, dWx, dWh, db
