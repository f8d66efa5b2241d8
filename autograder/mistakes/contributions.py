"""Known mistakes in the per-(loss step, deposit step) decomposition of dWh.

Legend: N batch, T time steps, H hidden size.
"""
from . import Mistake, variant

GRADIENT_CONTRIBUTIONS = '''
def gradient_contributions(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    C = np.zeros((T, T))
    for t in range(T):
        g = dh[:, t]
        for s in range(t, -1, -1):
            da = g * (1 - h[:, s] ** 2)
            h_prev = h0 if s == 0 else h[:, s - 1]
            C[t, s] = np.linalg.norm(h_prev.T @ da)
            g = da @ Wh.T
    return C
'''

TEMPLATES = {"gradient_contributions": GRADIENT_CONTRIBUTIONS}

MISTAKES = (
    Mistake("gradient_contributions/transposed", "Rows and columns are swapped",
            "C[t, s] is indexed by the loss step t first and the deposit step s second; it is zero above the diagonal.",
            variant(GRADIENT_CONTRIBUTIONS, "    return C\n", "    return C.T\n")),
    Mistake("gradient_contributions/state-after-step", "The term uses h_s instead of h_{s-1}",
            "The term deposited at step s multiplies the state that step s read (the one before it).",
            variant(GRADIENT_CONTRIBUTIONS, "h_prev = h0 if s == 0 else h[:, s - 1]", "h_prev = h[:, s]")),
    Mistake("gradient_contributions/h-minus-1-wraps", "At s = 0 the previous state is read as h[:, -1]",
            "The state before step 0 is h0; h[:, s - 1] at s = 0 wraps to the last step.",
            variant(GRADIENT_CONTRIBUTIONS, "h_prev = h0 if s == 0 else h[:, s - 1]", "h_prev = h[:, s - 1]")),
    Mistake("gradient_contributions/no-tanh-derivative", "The signal skips the tanh derivative",
            "At every step the signal passes through tanh before it reaches the pre-activation.",
            variant(GRADIENT_CONTRIBUTIONS, "da = g * (1 - h[:, s] ** 2)", "da = g")),
    Mistake("gradient_contributions/own-step-only", "Each loss deposits only at its own step",
            "The signal of L_t travels back through every earlier step and deposits a term at each of them.",
            variant(GRADIENT_CONTRIBUTIONS, "for s in range(t, -1, -1):", "for s in range(t, t - 1, -1):")),
    Mistake("gradient_contributions/per-sample-norms", "Norms taken per sample and added up",
            "The term is summed over the batch first; C[t, s] is the norm of that one (H, H) matrix.",
            variant(GRADIENT_CONTRIBUTIONS, "C[t, s] = np.linalg.norm(h_prev.T @ da)",
                    "C[t, s] = sum(np.linalg.norm(np.outer(hp, d)) for hp, d in zip(h_prev, da))")),
)
