"""Known mistakes in the LSTM's forward and backward passes (notebook 05, gated cells).

Legend: N batch, T time steps, D input size, H hidden size. Gates in the
contract's order i, f, g, o (PyTorch's); CS231n's assignment uses i, f, o, g,
the most common source of a silently wrong cell. Each template below is a
correct loop-style implementation (the tests check that it scores full
marks); each mistake changes the lines that go wrong.
"""
from . import Mistake, variant

STEP_FORWARD = '''
def lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b
    i = 1 / (1 + np.exp(-a[:, :H]))
    f = 1 / (1 + np.exp(-a[:, H:2 * H]))
    g = np.tanh(a[:, 2 * H:3 * H])
    o = 1 / (1 + np.exp(-a[:, 3 * H:]))
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    gates = np.concatenate([i, f, g, o], axis=1)
    cache = (x_t, h_prev, c_prev, Wx, Wh, gates, c_next)
    return h_next, c_next, cache
'''

FORWARD = '''
def lstm_forward(x, h0, c0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    c = np.zeros((N, T, H))
    gates = np.zeros((N, T, 4 * H))
    h_prev, c_prev = h0, c0
    for t in range(T):
        h_prev, c_prev, step_cache = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)
        h[:, t] = h_prev
        c[:, t] = c_prev
        gates[:, t] = step_cache[5]
    return h, (x, h0, c0, Wx, Wh, gates, c, h)
'''

STEP_BACKWARD = '''
def lstm_step_backward(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, gates, c_next = cache
    H = h_prev.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tanh_c = np.tanh(c_next)
    do = dh_next * tanh_c
    dc = dc_next + dh_next * o * (1 - tanh_c ** 2)
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
    dx_t = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x_t.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx_t, dh_prev, dc_prev, dWx, dWh, db
'''

BACKWARD = '''
def lstm_backward(dh, cache):
    x, h0, c0, Wx, Wh, gates, c, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(4 * H)
    dh_carry = np.zeros((N, H))
    dc_carry = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        c_prev = c0 if t == 0 else c[:, t - 1]
        step_cache = (x[:, t], h_prev, c_prev, Wx, Wh, gates[:, t], c[:, t])
        dh_t = dh[:, t] + dh_carry
        dx[:, t], dh_carry, dc_carry, dWx_t, dWh_t, db_t = lstm_step_backward(dh_t, dc_carry, step_cache)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_carry, dc_carry, dWx, dWh, db
'''

TEMPLATES = {"lstm_step_forward": STEP_FORWARD, "lstm_forward": FORWARD,
             "lstm_step_backward": STEP_BACKWARD, "lstm_backward": BACKWARD}

MISTAKES = (
    # --- lstm_step_forward
    Mistake("lstm_step_forward/gate-order-ifog", "The gates are read in the order i, f, o, g (CS231n's)",
            "The contract uses PyTorch's order: the four blocks of H columns are i, f, g, o, so the candidate "
            "is the third block and the output gate the fourth.",
            variant(variant(STEP_FORWARD, "g = np.tanh(a[:, 2 * H:3 * H])", "g = np.tanh(a[:, 3 * H:])"),
                    "o = 1 / (1 + np.exp(-a[:, 3 * H:]))", "o = 1 / (1 + np.exp(-a[:, 2 * H:3 * H]))")),
    Mistake("lstm_step_forward/forget-gate-on-candidate", "The forget gate multiplies the candidate",
            "The forget gate decides how much of the old cell c_prev is kept, and the input gate how much of "
            "the candidate g is written.",
            variant(STEP_FORWARD, "c_next = f * c_prev + i * g", "c_next = f * g + i * c_prev")),
    Mistake("lstm_step_forward/no-tanh-on-cell", "The new hidden state uses the cell without its tanh",
            "The output gate opens onto the squashed cell: h_next is the output gate times tanh of the new cell.",
            variant(STEP_FORWARD, "h_next = o * np.tanh(c_next)", "h_next = o * c_next")),
    Mistake("lstm_step_forward/candidate-sigmoid", "The candidate g goes through a sigmoid",
            "Three blocks are gates (sigmoids, between 0 and 1); the candidate values g are a tanh, between -1 and 1.",
            variant(STEP_FORWARD, "g = np.tanh(a[:, 2 * H:3 * H])", "g = 1 / (1 + np.exp(-a[:, 2 * H:3 * H]))")),
    Mistake("lstm_step_forward/cache-pre-activations", "The cache stores the pre-activations instead of the gates",
            "The cache's gates are the activated values [i, f, g, o] (after the sigmoids and the tanh), which is "
            "what the backward pass needs.",
            variant(STEP_FORWARD, "cache = (x_t, h_prev, c_prev, Wx, Wh, gates, c_next)",
                    "cache = (x_t, h_prev, c_prev, Wx, Wh, a, c_next)")),
    # --- lstm_forward
    Mistake("lstm_forward/cell-from-zeros", "The cell state starts from zeros instead of c0",
            "The cell state before step 0 is the c0 you are given, like h0 for the hidden state.",
            variant(FORWARD, "    h_prev, c_prev = h0, c0\n", "    h_prev, c_prev = h0, np.zeros((N, H))\n")),
    Mistake("lstm_forward/cell-not-carried", "Every step starts from c0 instead of the previous cell state",
            "Each step must read the cell state the step before it produced; only the hidden state is carried here.",
            variant(variant(FORWARD,
                            "h_prev, c_prev, step_cache = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)",
                            "h_prev, c_t, step_cache = lstm_step_forward(x[:, t], h_prev, c0, Wx, Wh, b)"),
                    "c[:, t] = c_prev", "c[:, t] = c_t")),
    Mistake("lstm_forward/states-shifted", "h[:, t] and c[:, t] hold the states before step t",
            "h[:, t] and c[:, t] are the states after reading x[:, t]; h0 and c0 themselves are not part of them.",
            variant(FORWARD, "        h_prev, c_prev, step_cache = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)\n"
                             "        h[:, t] = h_prev\n        c[:, t] = c_prev\n",
                    "        h[:, t] = h_prev\n        c[:, t] = c_prev\n"
                    "        h_prev, c_prev, step_cache = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)\n")),
    # --- lstm_step_backward
    Mistake("lstm_step_backward/dc-prev-without-forget-gate", "The gradient into the previous cell skips the forget gate",
            "c_next = f * c_prev + i * g, so going back along the cell multiplies by the forget gate: dc_prev is "
            "the cell's gradient times f.",
            variant(STEP_BACKWARD, "dc_prev = dc * f", "dc_prev = dc")),
    Mistake("lstm_step_backward/no-tanh-derivative-of-cell", "The path through h_next misses tanh'(c_next)",
            "h_next = o * tanh(c_next): the gradient that reaches c_next through h_next is multiplied by o and by "
            "the derivative of tanh at c_next, 1 - tanh(c_next)^2.",
            variant(STEP_BACKWARD, "dc = dc_next + dh_next * o * (1 - tanh_c ** 2)", "dc = dc_next + dh_next * o")),
    Mistake("lstm_step_backward/sigmoid-derivative-s", "The sigmoid's derivative is taken as s instead of s(1 - s)",
            "For a gate s = sigmoid(a), ds/da = s (1 - s); the same holds for i, f and o.",
            variant(variant(STEP_BACKWARD, "di * i * (1 - i), df * f * (1 - f)", "di * i, df * f"),
                    "do * o * (1 - o)", "do * o")),
    Mistake("lstm_step_backward/dc-next-ignored", "The cell gradient arriving from later steps is dropped",
            "The cell state has two consumers: h_next (through tanh) and the next step's cell; dc_next must be "
            "added to what comes through h_next.",
            variant(STEP_BACKWARD, "dc = dc_next + dh_next * o * (1 - tanh_c ** 2)",
                    "dc = dh_next * o * (1 - tanh_c ** 2)")),
    Mistake("lstm_step_backward/gate-order-ifog", "The gates are read and written back in the order i, f, o, g",
            "The cache and the weight columns follow the contract's order i, f, g, o, in the backward pass as well.",
            variant(variant(STEP_BACKWARD,
                            "i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]",
                            "i, f, o, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]"),
                    "dg * (1 - g ** 2), do * o * (1 - o)", "do * o * (1 - o), dg * (1 - g ** 2)")),
    Mistake("lstm_step_backward/forget-gradient-from-new-cell", "The forget gate's gradient uses the new cell state",
            "c_next = f * c_prev + ...: the forget gate multiplies the old cell c_prev, so its gradient is the "
            "cell's gradient times c_prev.",
            variant(STEP_BACKWARD, "df = dc * c_prev", "df = dc * c_next")),
    Mistake("lstm_step_backward/candidate-sigmoid-derivative", "The candidate's derivative is a sigmoid's",
            "The candidate g = tanh(a): its derivative is 1 - g^2, not g (1 - g).",
            variant(STEP_BACKWARD, "dg * (1 - g ** 2)", "dg * g * (1 - g)")),
    # --- lstm_backward
    Mistake("lstm_backward/dh0-dc0-swapped", "dh0 and dc0 are returned in each other's place",
            "The returned tuple is (dx, dh0, dc0, ...): the hidden state's gradient first, then the cell's.",
            variant(BACKWARD, "return dx, dh_carry, dc_carry, dWx, dWh, db", "return dx, dc_carry, dh_carry, dWx, dWh, db")),
    Mistake("lstm_backward/cell-gradient-not-carried", "The cell's gradient is not carried from step to step",
            "Each step's backward pass returns dc_prev, the gradient at the previous cell state; pass it on to "
            "the step before as its dc_next (zeros only at the last step).",
            variant(BACKWARD, "lstm_step_backward(dh_t, dc_carry, step_cache)",
                    "lstm_step_backward(dh_t, np.zeros((N, H)), step_cache)")),
    Mistake("lstm_backward/no-carried-dh", "The hidden-state gradient carried back from later steps is dropped",
            "The total gradient at h_t has two sources: the output at step t and step t+1 (through the recurrence). Add both.",
            variant(BACKWARD, "dh_t = dh[:, t] + dh_carry", "dh_t = dh[:, t]")),
    Mistake("lstm_backward/c-minus-1-wraps", "At t = 0 the previous cell state is read as c[:, -1]",
            "For t = 0 the cell state before the step is c0; numpy's c[:, t - 1] at t = 0 is the last step instead.",
            variant(BACKWARD, "c_prev = c0 if t == 0 else c[:, t - 1]", "c_prev = c[:, t - 1]")),
    Mistake("lstm_backward/weights-overwritten", "Weight gradients are overwritten at each step",
            "Wx, Wh and b are shared by all steps: their gradients are sums over the steps; add each step's share.",
            variant(variant(variant(BACKWARD, "dWx += dWx_t", "dWx = dWx_t"), "dWh += dWh_t", "dWh = dWh_t"),
                    "db += db_t", "db = db_t")),
)
