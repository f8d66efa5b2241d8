"""Gradient checkpointing: exact BPTT gradients from a fraction of the stored states.

Legend: N batch size, T time steps, D input size, H hidden size.

Full BPTT keeps all T hidden states for the backward pass. Checkpointing keeps
only the states entering steps 0, every, 2*every, ... (about T/every of them)
and, during the backward pass, recomputes each segment's states from its
checkpoint just before they are needed (at most `every` at a time): memory
O(T/every + every), smallest for every ~ sqrt(T), for one extra forward pass
(Chen, Xu, Zhang & Guestrin 2016; Gruslys, Munos, Danihelka, Lanctot & Graves 2016).
"""
import numpy as np

from ._validate import _check_checkpointed
from .rnn import rnn_backward, rnn_forward, rnn_step_forward


def rnn_backward_checkpointed(dh, x, h0, Wx, Wh, b, every):
    """The exact gradients of rnn_backward, keeping only every `every`-th state from the forward pass.

    Inputs:
    - dh: array of shape (N, T, H), dL/dh_t from the output at each step
    - x: array of shape (N, T, D), the input sequence
    - h0: array of shape (N, H), the initial hidden state h_{-1}
    - Wx: array of shape (D, H); Wh: array of shape (H, H); b: array of shape (H,)
    - every: int >= 1, the segment length; every >= T keeps h0 only

    Returns (dx, dh0, dWx, dWh, db) with the shapes of rnn_backward:
    (N, T, D), (N, H), (D, H), (H, H), (H,).
    """
    dh, x, h0, Wx, Wh, b, every = _check_checkpointed(dh, x, h0, Wx, Wh, b, every)
    N, T, H = dh.shape
    starts = range(0, T, every)                # segments [start, start + every)
    checkpoints = {}                           # start -> the state entering step `start`
    h_prev = h0
    for t in range(T):                         # forward pass: states are dropped once used
        if t % every == 0:
            checkpoints[t] = h_prev
        h_prev = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)[0]
    dx = np.empty(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    dh_carry = np.zeros((N, H))                # dL/dh arriving at a segment's last state from the next segment
    for start in reversed(starts):             # backward pass, last segment first
        stop = min(start + every, T)
        _, seg_cache = rnn_forward(x[:, start:stop], checkpoints.pop(start), Wx, Wh, b)   # recompute its states
        dh_seg = dh[:, start:stop].copy()
        dh_seg[:, -1] += dh_carry              # the later segments' gradient enters at its last state
        dx[:, start:stop], dh_carry, dWx_s, dWh_s, db_s = rnn_backward(dh_seg, seg_cache)
        dWx += dWx_s                           # shared weights: segments add up
        dWh += dWh_s
        db += db_s
    dh0 = dh_carry                             # what reached h_{-1} = h0
    return dx, dh0, dWx, dWh, db
