"""Known mistakes in the assembled language model: the output layer and the whole model's gradient.

Legend: N batch, T time steps, H hidden size, V vocabulary size.
Each template is a correct answer written in another style than the reference
(loops over time steps and positions); each mistake changes the lines that go wrong.
"""
from . import Mistake, variant

AFFINE_FORWARD = '''
def temporal_affine_forward(h, Wy, by):
    N, T, H = h.shape
    scores = (h.reshape(N * T, H) @ Wy).reshape(N, T, Wy.shape[1]) + by
    cache = (h, Wy)
    return scores, cache
'''

AFFINE_BACKWARD = '''
def temporal_affine_backward(dscores, cache):
    h, Wy = cache
    N, T, H = h.shape
    V = Wy.shape[1]
    dh = np.zeros((N, T, H))
    dWy = np.zeros((H, V))
    dby = np.zeros(V)
    for t in range(T):
        dh[:, t] = dscores[:, t] @ Wy.T
        dWy += h[:, t].T @ dscores[:, t]
        dby += dscores[:, t].sum(axis=0)
    return dh, dWy, dby
'''

LM = '''
def lm_loss_and_grads(params, x_ids, y_ids, h0):
    Wx, Wh, b, Wy, by = params["Wx"], params["Wh"], params["b"], params["Wy"], params["by"]
    V, H = Wx.shape
    N, T = x_ids.shape
    embedded = Wx[x_ids]
    h, rnn_cache = rnn_forward(embedded, h0, np.eye(H), Wh, b)
    scores, affine_cache = temporal_affine_forward(h, Wy, by)
    loss, dscores = temporal_softmax_loss(scores, y_ids)
    dh, dWy, dby = temporal_affine_backward(dscores, affine_cache)
    dembedded, dh0, dI, dWh, db = rnn_backward(dh, rnn_cache)
    dWx = np.zeros((V, H))
    for n in range(N):
        for t in range(T):
            dWx[x_ids[n, t]] += dembedded[n, t]
    grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}
    h_last = h[:, T - 1].copy()
    return loss, grads, h_last
'''

TEMPLATES = {"temporal_affine_forward": AFFINE_FORWARD, "temporal_affine_backward": AFFINE_BACKWARD,
             "lm_loss_and_grads": LM}

_ACCUMULATE = '''    for n in range(N):
        for t in range(T):
            dWx[x_ids[n, t]] += dembedded[n, t]
'''

MISTAKES = (
    # --- temporal_affine_forward
    Mistake("temporal_affine_forward/no-bias", "The score bias is left out",
            "Every score gets its symbol's bias by added, at every time step.",
            variant(AFFINE_FORWARD, " + by\n", "\n")),
    Mistake("temporal_affine_forward/Wy-transposed", "The output weights are used transposed",
            "The rows are hidden states: h (N, T, H) times Wy (H, V) gives V scores per position.",
            variant(AFFINE_FORWARD, "@ Wy)", "@ Wy.T)")),
    Mistake("temporal_affine_forward/cache-scores", "The cache stores the scores instead of h",
            "The backward pass needs the layer's input h (for dWy) and Wy (for dh): the cache is (h, Wy).",
            variant(AFFINE_FORWARD, "cache = (h, Wy)", "cache = (scores, Wy)")),
    # --- temporal_affine_backward
    Mistake("temporal_affine_backward/dWy-transposed", "dWy is transposed",
            "A gradient has the shape of its weight: dWy is (H, V), the hidden states transposed times dscores.",
            variant(variant(AFFINE_BACKWARD, "dWy = np.zeros((H, V))", "dWy = np.zeros((V, H))"),
                    "dWy += h[:, t].T @ dscores[:, t]", "dWy += dscores[:, t].T @ h[:, t]")),
    Mistake("temporal_affine_backward/dh-no-transpose", "dh uses Wy instead of its transpose",
            "scores = h Wy, so the gradient flows back through Wy transposed: (N, V) times (V, H).",
            variant(AFFINE_BACKWARD, "dscores[:, t] @ Wy.T", "dscores[:, t] @ Wy")),
    Mistake("temporal_affine_backward/weights-overwritten", "dWy and dby keep only the last time step",
            "Wy and by are shared by every time step: their gradients add up the contributions of all steps.",
            variant(variant(AFFINE_BACKWARD, "dWy += h[:, t]", "dWy = h[:, t]"),
                    "dby += dscores", "dby = dscores")),
    Mistake("temporal_affine_backward/dby-averaged", "dby is averaged over the positions instead of summed",
            "The bias is added at every position, so its gradient is the plain sum of dscores over n and t.",
            variant(AFFINE_BACKWARD, "    return dh, dWy, dby\n", "    return dh, dWy, dby / (N * T)\n")),
    # --- lm_loss_and_grads
    Mistake("lm_loss_and_grads/embedding-assigned", "The embedding gradient is assigned, not accumulated",
            "A row of Wx read at several places (several steps or sequences) gets the sum of all their "
            "gradients; an assignment with repeated ids keeps only one of them (use an unbuffered add).",
            variant(LM, _ACCUMULATE, "    dWx[x_ids] = dembedded\n")),
    Mistake("lm_loss_and_grads/embedding-to-targets", "The embedding gradient goes to the target ids",
            "The rows of Wx are picked by the inputs x_ids: their gradients go back to the same rows.",
            variant(LM, "dWx[x_ids[n, t]] +=", "dWx[y_ids[n, t]] +=")),
    Mistake("lm_loss_and_grads/identity-gradient", "dWx is the gradient of the identity matrix",
            "Once the rows of Wx are picked, the RNN's input weights are the identity; Wx's gradient is "
            "the gradient of the picked rows (the RNN's input gradient), added into the rows that were read.",
            variant(LM, '"Wx": dWx', '"Wx": dI')),
    Mistake("lm_loss_and_grads/embedding-twice", "The embedding is applied twice",
            "Picking rows of Wx already computes the input term: the RNN must leave it unchanged (input weights = identity).",
            variant(LM, "rnn_forward(embedded, h0, np.eye(H), Wh, b)", "rnn_forward(embedded, h0, Wx, Wh, b)")),
    Mistake("lm_loss_and_grads/zeros-not-h0", "The model starts from zeros instead of h0",
            "The state carried in from the previous batch, h0, is where the recurrence starts.",
            variant(LM, "rnn_forward(embedded, h0,", "rnn_forward(embedded, np.zeros((N, H)),")),
    Mistake("lm_loss_and_grads/h-last-first-step", "h_last is the state after the first step",
            "The state to carry into the next batch is the one after the last step, t = T - 1.",
            variant(LM, "h_last = h[:, T - 1].copy()", "h_last = h[:, 0].copy()")),
    Mistake("lm_loss_and_grads/h-last-all-states", "h_last holds every state",
            "Return only the state after the last step, of shape (N, H): the one the next batch starts from.",
            variant(LM, "h_last = h[:, T - 1].copy()", "h_last = h.copy()")),
    Mistake("lm_loss_and_grads/averaged-over-NT", "The loss is averaged over N * T",
            "The contract's loss is temporal_softmax_loss as it is (summed over time, averaged over the batch); "
            "dividing by T as well shrinks the loss and every gradient.",
            variant(LM, "    loss, dscores = temporal_softmax_loss(scores, y_ids)\n",
                    "    loss, dscores = temporal_softmax_loss(scores, y_ids)\n"
                    "    loss, dscores = loss / T, dscores / T\n")),
    Mistake("lm_loss_and_grads/loss-against-inputs", "The loss compares the scores with the inputs",
            "At step t the model predicts the next symbol: the targets are y_ids, not the symbols it has just read.",
            variant(LM, "temporal_softmax_loss(scores, y_ids)", "temporal_softmax_loss(scores, x_ids)")),
    Mistake("lm_loss_and_grads/dWy-transposed", "dWy is transposed",
            "Every gradient has the shape of its weight: Wy is (H, V), and so is its gradient.",
            variant(LM, '"Wy": dWy', '"Wy": dWy.T')),
    Mistake("lm_loss_and_grads/keys-renamed", "The gradients are keyed dWx, dWh, ... instead of the weights' names",
            "grads must have exactly the keys of params (Wx, Wh, b, Wy, by), so that an optimiser finds each "
            "weight's gradient under the weight's name.",
            variant(LM, 'grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}',
                    'grads = {"dWx": dWx, "dWh": dWh, "db": db, "dWy": dWy, "dby": dby}')),
)
