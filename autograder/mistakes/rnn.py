"""Known mistakes in the forward and backward passes of the tanh RNN.

Legend: N batch, T time steps, D input size, H hidden size.
Each template below is a correct loop-style implementation (the tests check
that it scores full marks); each mistake changes the lines that go wrong.
"""
from . import Mistake, variant

STEP_FORWARD = '''
def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
    a = x_t @ Wx + h_prev @ Wh + b
    h_next = np.tanh(a)
    cache = (x_t, h_prev, Wx, Wh, h_next)
    return h_next, cache
'''

FORWARD = '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    h_prev = h0
    for t in range(T):
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)
        h[:, t] = h_prev
    return h, (x, h0, Wx, Wh, h)
'''

STEP_BACKWARD = '''
def rnn_step_backward(dh_next, cache):
    x_t, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1 - h_next ** 2)
    dx_t = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x_t.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx_t, dh_prev, dWx, dWh, db
'''

BACKWARD = '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    dh_carry = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        dh_t = dh[:, t] + dh_carry
        da = dh_t * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_carry = da @ Wh.T
    dh0 = dh_carry
    return dx, dh0, dWx, dWh, db
'''

TEMPLATES = {"rnn_step_forward": STEP_FORWARD, "rnn_forward": FORWARD,
             "rnn_step_backward": STEP_BACKWARD, "rnn_backward": BACKWARD}

MISTAKES = (
    # --- rnn_step_forward
    Mistake("rnn_step_forward/no-tanh", "The nonlinearity is missing",
            "h_next is the pre-activation itself: the tanh is never applied.",
            variant(STEP_FORWARD, "h_next = np.tanh(a)", "h_next = a")),
    Mistake("rnn_step_forward/Wh-transposed", "The recurrent weights are used transposed",
            "The contract's rows are h_prev @ Wh (a row vector times Wh); check which side of Wh h_prev sits on.",
            variant(STEP_FORWARD, "h_prev @ Wh", "h_prev @ Wh.T")),
    Mistake("rnn_step_forward/no-bias", "The bias is left out",
            "The pre-activation has three terms: the input's, the previous state's and the bias.",
            variant(STEP_FORWARD, " + b\n", "\n")),
    Mistake("rnn_step_forward/cache-pre-activation", "The cache stores the pre-activation",
            "The last item of the step cache is the new hidden state (after tanh), not the sum before it.",
            variant(STEP_FORWARD, "cache = (x_t, h_prev, Wx, Wh, h_next)", "cache = (x_t, h_prev, Wx, Wh, a)")),
    # --- rnn_forward
    Mistake("rnn_forward/zeros-not-h0", "The recurrence starts from zeros instead of h0",
            "The state before step 0 is the h0 you are given, not an array of zeros.",
            variant(FORWARD, "    h_prev = h0\n", "    h_prev = np.zeros((N, H))\n")),
    Mistake("rnn_forward/h-prev-never-updated", "Every step reads h0 instead of the previous step's state",
            "Each step must use the state produced by the step just before it; check which variable feeds the next step.",
            variant(FORWARD, "        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)\n        h[:, t] = h_prev\n",
                    "        h[:, t] = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)\n")),
    Mistake("rnn_forward/states-shifted", "h[:, t] holds the state before step t",
            "h[:, t] is the state after reading x[:, t]; h0 itself is not part of h.",
            variant(FORWARD, "        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)\n        h[:, t] = h_prev\n",
                    "        h[:, t] = h_prev\n        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)\n")),
    Mistake("rnn_forward/h0-overwritten", "h0 is overwritten in place",
            "Writing into the array that holds h0 changes the caller's h0 (and the cache); build new arrays instead.",
            variant(FORWARD, "        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)\n",
                    "        h_prev[...] = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)\n")),
    # --- rnn_step_backward
    Mistake("rnn_step_backward/tanh-derivative-at-h_prev", "The tanh derivative is taken at the previous state",
            "tanh'(a) = 1 - tanh(a)^2 must use the state this step produced, not the state it read.",
            variant(STEP_BACKWARD, "(1 - h_next ** 2)", "(1 - h_prev ** 2)")),
    Mistake("rnn_step_backward/tanh-derivative-of-pre-activation", "The tanh derivative is applied to the pre-activation",
            "1 - x^2 is the derivative of tanh written in terms of tanh's output; plug in the output, not its input.",
            variant(STEP_BACKWARD, "da = dh_next * (1 - h_next ** 2)",
                    "a = np.arctanh(h_next)\n    da = dh_next * (1 - a ** 2)")),
    Mistake("rnn_step_backward/no-tanh-derivative", "The gradient skips the tanh",
            "Before the linear part, the gradient must pass through tanh: multiply by its derivative.",
            variant(STEP_BACKWARD, "da = dh_next * (1 - h_next ** 2)", "da = dh_next")),
    Mistake("rnn_step_backward/Wx-not-transposed", "dx_t uses Wx without a transpose",
            "dx_t must have shape (N, D); check the shapes of the product that gives it (a D == H test would not show this).",
            variant(STEP_BACKWARD, "dx_t = da @ Wx.T", "dx_t = da @ Wx")),
    Mistake("rnn_step_backward/Wh-not-transposed", "dh_prev uses Wh without a transpose",
            "The forward pass multiplies h_prev @ Wh; going back through it multiplies by the transpose.",
            variant(STEP_BACKWARD, "dh_prev = da @ Wh.T", "dh_prev = da @ Wh")),
    Mistake("rnn_step_backward/batch-averaged", "Weight gradients are averaged over the batch",
            "The loss's gradient with respect to shared weights is the sum over the batch of the samples' gradients.",
            variant(variant(variant(STEP_BACKWARD, "dWx = x_t.T @ da", "dWx = x_t.T @ da / len(da)"),
                            "dWh = h_prev.T @ da", "dWh = h_prev.T @ da / len(da)"),
                    "db = da.sum(axis=0)", "db = da.mean(axis=0)")),
    # --- rnn_backward
    Mistake("rnn_backward/no-carried-gradient", "The gradient carried back from later steps is dropped",
            "The total gradient at h_t has two sources: the output at step t and step t+1 (through the recurrence). Add both.",
            variant(BACKWARD, "dh_t = dh[:, t] + dh_carry", "dh_t = dh[:, t]")),
    Mistake("rnn_backward/only-carried-gradient", "The output's gradient at each step is ignored",
            "Only the last step's output gradient enters; every step's own dh[:, t] must be added to what is carried back.",
            variant(variant(BACKWARD, "dh_carry = np.zeros((N, H))", "dh_carry = dh[:, -1]"),
                    "dh_t = dh[:, t] + dh_carry", "dh_t = dh_carry")),
    Mistake("rnn_backward/weights-overwritten", "Weight gradients are overwritten at each step",
            "Wx, Wh and b are shared by all steps: their gradients are sums over the steps; add each step's share.",
            variant(variant(variant(BACKWARD, "dWx += x[:, t].T @ da", "dWx = x[:, t].T @ da"),
                            "dWh += h_prev.T @ da", "dWh = h_prev.T @ da"),
                    "db += da.sum(axis=0)", "db = da.sum(axis=0)")),
    Mistake("rnn_backward/h-minus-1-wraps", "At t = 0 the previous state is read as h[:, -1]",
            "For t = 0 the state before the step is h0; numpy's h[:, t - 1] at t = 0 is the last step instead.",
            variant(BACKWARD, "h_prev = h0 if t == 0 else h[:, t - 1]", "h_prev = h[:, t - 1]")),
    Mistake("rnn_backward/zeros-not-h0", "The state before step 0 is taken as zeros",
            "dWh at step 0 uses the state before that step, which is h0 (not zeros).",
            variant(BACKWARD, "h_prev = h0 if t == 0 else h[:, t - 1]",
                    "h_prev = np.zeros_like(h0) if t == 0 else h[:, t - 1]")),
    Mistake("rnn_backward/tanh-derivative-at-h_prev", "The tanh derivative is taken at the previous state",
            "At step t the derivative of tanh uses h_t, the state step t produced.",
            variant(BACKWARD, "da = dh_t * (1 - h[:, t] ** 2)", "da = dh_t * (1 - h_prev ** 2)")),
    Mistake("rnn_backward/Wh-not-transposed", "The gradient is carried back through Wh instead of its transpose",
            "Going back through h_{t-1} @ Wh multiplies by the transpose of Wh.",
            variant(BACKWARD, "dh_carry = da @ Wh.T", "dh_carry = da @ Wh")),
    Mistake("rnn_backward/dh0-one-step-short", "dh0 is the gradient at the first state, not at the initial state",
            "dh0 is the gradient with respect to the state before step 0: take it one more step back, through step 0.",
            variant(variant(BACKWARD, "        dh_t = dh[:, t] + dh_carry\n",
                            "        dh_t = dh[:, t] + dh_carry\n        dh_first = dh_t\n"),
                    "dh0 = dh_carry", "dh0 = dh_first")),
    Mistake("rnn_backward/dh-modified", "The upstream gradient dh is modified in place",
            "Adding into dh[:, t] changes the caller's array; keep the sum in a new variable.",
            variant(variant(BACKWARD, "dh_t = dh[:, t] + dh_carry", "dh[:, t] += dh_carry"),
                    "da = dh_t * ", "da = dh[:, t] * ")),
)
