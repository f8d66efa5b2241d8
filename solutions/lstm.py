"""The LSTM cell: one step, the unrolled sequence, and their backward passes.

Legend: N batch size, T time steps, D input size, H hidden size.
Gates in PyTorch's order i, f, g, o (Hochreiter & Schmidhuber 1997; the
forget gate of Gers, Schmidhuber & Cummins 2000):

    a = x_t @ Wx + h_prev @ Wh + b                (N, 4H), four blocks of H columns
    i = sigmoid(a[:, :H])      input gate
    f = sigmoid(a[:, H:2H])    forget gate
    g = tanh(a[:, 2H:3H])      candidate cell values
    o = sigmoid(a[:, 3H:])     output gate
    c_next = f * c_prev + i * g                   the cell state: an additive path
    h_next = o * tanh(c_next)

Backward, the cell state carries dc_prev = dc * f: an elementwise product with
the forget gate, no weight matrix and no squashing derivative on the way, which
is why its gradient can survive many steps (notebook 04's tanh RNN multiplies
by diag(1 - h_t^2) Wh^T at every step instead).
"""
import numpy as np

from ._validate import _check_lstm_backward, _check_lstm_sequence, _check_lstm_step, _check_lstm_step_cache


def lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b):
    """One time step of an LSTM.

    Inputs:
    - x_t: array of shape (N, D), the inputs at this step
    - h_prev: array of shape (N, H), the hidden state before this step
    - c_prev: array of shape (N, H), the cell state before this step
    - Wx: array of shape (D, 4H), input-to-gates weights, blocks i, f, g, o
    - Wh: array of shape (H, 4H), hidden-to-gates weights, blocks i, f, g, o
    - b: array of shape (4H,), gate biases, blocks i, f, g, o

    Returns a tuple of:
    - h_next: array of shape (N, H), o * tanh(c_next)
    - c_next: array of shape (N, H), f * c_prev + i * g
    - cache: the step cache (x_t, h_prev, c_prev, Wx, Wh, gates, c_next), with
      gates of shape (N, 4H) holding the activated [i, f, g, o]
    """
    x_t, h_prev, c_prev, Wx, Wh, b = _check_lstm_step(x_t, h_prev, c_prev, Wx, Wh, b)
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b                 # pre-activations of the four gates, (N, 4H)
    gates = 0.5 * (1 + np.tanh(0.5 * a))           # sigmoid(a) = 1 / (1 + exp(-a)), written so it cannot overflow
    gates[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])   # the candidate g uses tanh instead
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    c_next = f * c_prev + i * g                    # keep part of the old cell, write part of the new
    h_next = o * np.tanh(c_next)                   # expose part of the squashed cell
    cache = (x_t, h_prev, c_prev, Wx, Wh, gates, c_next)
    return h_next, c_next, cache


def lstm_step_backward(dh_next, dc_next, cache):
    """Backward pass through one LSTM step.

    Inputs:
    - dh_next: array of shape (N, H), dL/dh_next (all of it: from the output and from later steps)
    - dc_next: array of shape (N, H), dL/dc_next arriving from later steps (zeros at the last step)
    - cache: the step cache (x_t, h_prev, c_prev, Wx, Wh, gates, c_next) of lstm_step_forward

    Returns a tuple of:
    - dx_t: array of shape (N, D)
    - dh_prev: array of shape (N, H)
    - dc_prev: array of shape (N, H)
    - dWx: array of shape (D, 4H)
    - dWh: array of shape (H, 4H)
    - db: array of shape (4H,)
    """
    dh_next, dc_next, cache = _check_lstm_step_cache(dh_next, dc_next, cache)
    x_t, h_prev, c_prev, Wx, Wh, gates, c_next = cache
    H = h_prev.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tanh_c = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1 - tanh_c ** 2) # c_next's two sources: later steps, and h_next = o * tanh(c_next)
    da = np.empty(gates.shape)                     # dL/da, block by block
    da[:, :H] = dc * g * i * (1 - i)               # c = ... + i * g:    dL/di, then sigmoid' = i (1 - i)
    da[:, H:2 * H] = dc * c_prev * f * (1 - f)     # c = f * c_prev + ...: dL/df, then sigmoid'
    da[:, 2 * H:3 * H] = dc * i * (1 - g ** 2)     # c = ... + i * g:    dL/dg, then tanh' = 1 - g^2
    da[:, 3 * H:] = dh_next * tanh_c * o * (1 - o) # h = o * tanh(c):    dL/do, then sigmoid'
    dc_prev = dc * f                               # the additive path: c = f * c_prev + ...
    dx_t = da @ Wx.T                               # a = x_t @ Wx + ...     -> dL/dx_t
    dh_prev = da @ Wh.T                            # a = ... + h_prev @ Wh  -> dL/dh_prev
    dWx = x_t.T @ da                               # summed over the batch
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx_t, dh_prev, dc_prev, dWx, dWh, db


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """Run the LSTM over a whole sequence: the step of lstm_step_forward at t = 0..T-1, from (h0, c0).

    Inputs:
    - x: array of shape (N, T, D), the input sequence
    - h0: array of shape (N, H), the initial hidden state h_{-1}
    - c0: array of shape (N, H), the initial cell state c_{-1}
    - Wx: array of shape (D, 4H); Wh: array of shape (H, 4H); b: array of shape (4H,)

    Returns a tuple of:
    - h: array of shape (N, T, H); h[:, t] is the hidden state after reading x[:, t]
    - cache: the sequence cache (x, h0, c0, Wx, Wh, gates, c, h) with
      gates (N, T, 4H) the activated [i, f, g, o] and c (N, T, H) the cell states
    """
    x, h0, c0, Wx, Wh, b = _check_lstm_sequence(x, h0, c0, Wx, Wh, b)
    N, T, _ = x.shape
    H = h0.shape[1]
    xw = x @ Wx + b                                # input part of every step's pre-activations at once, (N, T, 4H)
    gates = np.empty((N, T, 4 * H))
    c = np.empty((N, T, H))
    h = np.empty((N, T, H))
    h_prev, c_prev = h0, c0
    with np.errstate(over="ignore"):               # e^-a overflows to inf for a < -709: 1 / (1 + inf) = 0 is right
        for t in range(T):                         # the recurrence forces a loop over time
            a = xw[:, t] + h_prev @ Wh             # the four gates' pre-activations, (N, 4H)
            z = 1 / (1 + np.exp(-a))               # sigmoid for i, f, o (numpy's exp is faster than its tanh)
            z[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])   # the candidate g uses tanh instead
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            c_prev = f * c_prev + i * g            # the cell: keep part of the old, write part of the new
            h_prev = o * np.tanh(c_prev)
            gates[:, t], c[:, t], h[:, t] = z, c_prev, h_prev
    cache = (x, h0, c0, Wx, Wh, gates, c, h)
    return h, cache


def lstm_backward(dh, cache):
    """Full backpropagation through time for the LSTM: the step of lstm_step_backward at t = T-1..0.

    Inputs:
    - dh: array of shape (N, T, H); dh[:, t] is dL/dh_t coming directly from
      the output at step t (not through the recurrence; no loss on the cell states)
    - cache: the sequence cache (x, h0, c0, Wx, Wh, gates, c, h) of lstm_forward

    Returns a tuple of:
    - dx: array of shape (N, T, D)
    - dh0: array of shape (N, H)
    - dc0: array of shape (N, H)
    - dWx: array of shape (D, 4H), dWh: array of shape (H, 4H), db: array of shape (4H,),
      each summed over all time steps (the weights are shared by every step)
    """
    dh, cache = _check_lstm_backward(dh, cache)
    x, h0, c0, Wx, Wh, gates, c, h = cache
    N, T, H = h.shape
    D = x.shape[2]
    i, f, g, o = gates[..., :H], gates[..., H:2 * H], gates[..., 2 * H:3 * H], gates[..., 3 * H:]
    c_prev = np.concatenate([c0[:, None], c[:, :-1]], axis=1)   # c_{t-1} for every t, (N, T, H)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)   # h_{t-1} for every t, (N, T, H)
    tanh_c = np.tanh(c)
    # Local derivatives of every step at once: how the pre-activations of i, f, g move c_t,
    # how the output gate's moves h_t, and how c_t moves h_t.
    dc_da = np.stack([g * i * (1 - i),              # c = ... + i * g,       sigmoid' = i (1 - i)
                      c_prev * f * (1 - f),         # c = f * c_prev + ...,  sigmoid' = f (1 - f)
                      i * (1 - g ** 2)],            # c = ... + i * g,       tanh' = 1 - g^2
                     axis=2)                        # dc_t/da, (N, T, 3, H): blocks i, f, g
    dh_dao = tanh_c * o * (1 - o)                  # dh_t/da_o: h = o * tanh(c), sigmoid' = o (1 - o)
    dh_dc = o * (1 - tanh_c ** 2)                  # dh_t/dc_t: h = o * tanh(c), tanh' = 1 - tanh(c)^2
    da = np.empty((N, T, 4, H))                    # dL/da_t for every step, block by block (i, f, g, o)
    dh_carry = np.zeros((N, H))                    # dL/dh_t arriving through the recurrence from step t+1
    dc_carry = np.zeros((N, H))                    # dL/dc_t arriving from step t+1 (the cell path)
    for t in reversed(range(T)):
        dh_t = dh[:, t] + dh_carry                 # total gradient at h_t: the output's plus the carried
        dc_t = dc_carry + dh_t * dh_dc[:, t]       # total gradient at c_t: later steps' plus through h_t
        da[:, t, :3] = dc_t[:, None] * dc_da[:, t] # into the pre-activations of i, f, g
        da[:, t, 3] = dh_t * dh_dao[:, t]          # and of o
        dc_carry = dc_t * f[:, t]                  # the additive path: c_t = f_t * c_{t-1} + ...
        dh_carry = da[:, t].reshape(N, 4 * H) @ Wh.T   # a_t = ... + h_{t-1} @ Wh
    dh0, dc0 = dh_carry, dc_carry                  # what reached h_{-1} = h0 and c_{-1} = c0
    da = da.reshape(N, T, 4 * H)                   # the blocks side by side, as in a_t
    dx = da @ Wx.T                                 # a_t = x_t @ Wx + ...  -> dL/dx_t at every step
    dWx = x.reshape(N * T, D).T @ da.reshape(N * T, 4 * H)      # sum over n and t in one product
    dWh = h_prev.reshape(N * T, H).T @ da.reshape(N * T, 4 * H) # likewise, with h_{t-1}
    db = da.sum(axis=(0, 1))
    return dx, dh0, dc0, dWx, dWh, db
