"""Known mistakes in truncated BPTT: the sliding window and the chunks.

Legend: N batch, T time steps, D input size, H hidden size, k truncation length.
"""
from . import Mistake, variant

TRUNCATED = '''
def rnn_backward_truncated(dh, cache, k):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx, dh0 = np.zeros(x.shape), np.zeros(h0.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    for t in range(T):
        g = dh[:, t]
        for s in range(t, max(0, t - k + 1) - 1, -1):
            da = g * (1 - h[:, s] ** 2)
            h_prev = h0 if s == 0 else h[:, s - 1]
            dx[:, s] += da @ Wx.T
            dWx += x[:, s].T @ da
            dWh += h_prev.T @ da
            db += da.sum(axis=0)
            g = da @ Wh.T
        if t <= k - 1:
            dh0 += g
    return dx, dh0, dWx, dWh, db
'''

CHUNKED = '''
def rnn_backward_chunked(dh, cache, k):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx, dh0 = np.zeros(x.shape), np.zeros(h0.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    for start in range(0, T, k):
        stop = min(start + k, T)
        h_start = h0 if start == 0 else h[:, start - 1]
        chunk_cache = (x[:, start:stop], h_start, Wx, Wh, h[:, start:stop])
        dx_c, dh_start, dWx_c, dWh_c, db_c = rnn_backward(dh[:, start:stop], chunk_cache)
        dx[:, start:stop] = dx_c
        dWx += dWx_c
        dWh += dWh_c
        db += db_c
        if start == 0:
            dh0 = dh_start
    return dx, dh0, dWx, dWh, db
'''

TEMPLATES = {"rnn_backward_truncated": TRUNCATED, "rnn_backward_chunked": CHUNKED}

MISTAKES = (
    # --- sliding window
    Mistake("rnn_backward_truncated/window-k-plus-1", "Each window spans k + 1 steps",
            "The signal of L_t passes through exactly k steps: t, t-1, ..., t-k+1 (count them for k = 1).",
            variant(variant(TRUNCATED, "max(0, t - k + 1) - 1", "max(0, t - k) - 1"),
                    "if t <= k - 1:", "if t <= k:")),
    Mistake("rnn_backward_truncated/window-k-minus-1", "Each window spans k - 1 steps",
            "The signal of L_t passes through exactly k steps, its own step included.",
            variant(variant(TRUNCATED, "max(0, t - k + 1) - 1", "max(0, t - k + 2) - 1"),
                    "if t <= k - 1:", "if t <= k - 2:")),
    Mistake("rnn_backward_truncated/dh0-from-every-window", "dh0 collects the signal of every loss",
            "Only the windows that reach step 0 (t <= k - 1) continue into h0; the others are dropped before it.",
            variant(TRUNCATED, "        if t <= k - 1:\n            dh0 += g\n", "        dh0 += g\n")),
    Mistake("rnn_backward_truncated/k-ignored", "The window length is ignored (full BPTT)",
            "Stop the signal of L_t after k steps.",
            variant(variant(TRUNCATED, "max(0, t - k + 1) - 1", "-1"), "if t <= k - 1:", "if True:")),
    Mistake("rnn_backward_truncated/chunks-instead", "Chunks computed instead of sliding windows",
            "In the sliding-window scheme every loss gets its own k steps, wherever it is; chunk boundaries play no role.",
            "\ndef rnn_backward_truncated(dh, cache, k):\n    return rnn_backward_chunked(dh, cache, k)\n"),
    # --- chunks
    Mistake("rnn_backward_chunked/chunks-from-the-end", "Chunks are counted from the last step",
            "Chunks start at t = 0: [0, k), [k, 2k), ...; only the last one may be shorter.",
            variant(CHUNKED, "    for start in range(0, T, k):\n        stop = min(start + k, T)\n",
                    "    for stop in range(T, 0, -k):\n        start = max(0, stop - k)\n")),
    Mistake("rnn_backward_chunked/dh0-from-every-chunk", "dh0 collects the signal of every chunk",
            "The gradient is detached at every chunk boundary: only the first chunk reaches h0.",
            variant(CHUNKED, "        if start == 0:\n            dh0 = dh_start\n", "        dh0 = dh0 + dh_start\n")),
    Mistake("rnn_backward_chunked/h0-for-every-chunk", "Every chunk starts from h0",
            "The hidden state is carried forward: the state entering a later chunk is the last state of the chunk before.",
            variant(CHUNKED, "h_start = h0 if start == 0 else h[:, start - 1]", "h_start = h0")),
    Mistake("rnn_backward_chunked/weights-overwritten", "Each chunk overwrites the weight gradients",
            "The weights are shared by all chunks: add up the chunks' gradients.",
            variant(variant(variant(CHUNKED, "dWx += dWx_c", "dWx = dWx_c"), "dWh += dWh_c", "dWh = dWh_c"),
                    "db += db_c", "db = db_c")),
    Mistake("rnn_backward_chunked/sliding-window-instead", "Sliding windows computed instead of chunks",
            "In the chunked scheme the cut points are fixed (multiples of k); a loss near the start of a chunk gets few steps.",
            "\ndef rnn_backward_chunked(dh, cache, k):\n    return rnn_backward_truncated(dh, cache, k)\n"),
)
