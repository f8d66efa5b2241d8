"""Known mistakes in step Jacobians, gradient norms through time and spectral-radius scaling.

Legend: N batch, T time steps, H hidden size.
"""
from . import Mistake, variant

STEP_JACOBIANS = '''
def step_jacobians(cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    J = np.zeros((N, T, H, H))
    for n in range(N):
        for t in range(T):
            J[n, t] = np.diag(1 - h[n, t] ** 2) @ Wh.T
    return J
'''

GRADIENT_NORMS = '''
def gradient_norms_through_time(dh_last, cache):
    x, h0, Wx, Wh, h = cache
    T = h.shape[1]
    norms = np.zeros(T)
    g = dh_last
    for s in range(T - 1, -1, -1):
        norms[s] = np.sqrt(np.sum(g ** 2))
        g = (g * (1 - h[:, s] ** 2)) @ Wh.T
    return norms
'''

SPECTRAL = '''
def scale_to_spectral_radius(W, rho):
    radius = np.max(np.abs(np.linalg.eigvals(W)))
    if radius < 1e-12 * max(1.0, np.abs(W).max()):
        raise ValueError("W has spectral radius 0")
    return W * (rho / radius)
'''

TEMPLATES = {"step_jacobians": STEP_JACOBIANS, "gradient_norms_through_time": GRADIENT_NORMS,
             "scale_to_spectral_radius": SPECTRAL}

MISTAKES = (
    # --- step_jacobians
    Mistake("step_jacobians/transposed", "The Jacobian is transposed",
            "J[n, t][i, j] is d h_t[i] / d h_{t-1}[j]: row i belongs to output unit i.",
            variant(STEP_JACOBIANS, "J[n, t] = np.diag(1 - h[n, t] ** 2) @ Wh.T",
                    "J[n, t] = (np.diag(1 - h[n, t] ** 2) @ Wh.T).T")),
    Mistake("step_jacobians/derivative-at-h_prev", "The tanh derivative is taken at the previous state",
            "The derivative of h_t = tanh(a_t) uses h_t itself.",
            variant(STEP_JACOBIANS, "J[n, t] = np.diag(1 - h[n, t] ** 2) @ Wh.T",
                    "J[n, t] = np.diag(1 - (h0[n] if t == 0 else h[n, t - 1]) ** 2) @ Wh.T")),
    Mistake("step_jacobians/no-tanh-factor", "The tanh derivative is missing",
            "h_t = tanh(a_t): the chain rule puts tanh'(a_t) in front of the recurrent weights.",
            variant(STEP_JACOBIANS, "np.diag(1 - h[n, t] ** 2) @ Wh.T", "Wh.T")),
    Mistake("step_jacobians/Wh-not-transposed", "Wh is used without a transpose",
            "h_t[i] depends on h_{t-1}[j] through Wh[j, i].",
            variant(STEP_JACOBIANS, "np.diag(1 - h[n, t] ** 2) @ Wh.T", "np.diag(1 - h[n, t] ** 2) @ Wh")),
    # --- gradient_norms_through_time
    Mistake("gradient_norms_through_time/no-tanh-factor", "The tanh derivative is left out going back",
            "Each step back multiplies by the step Jacobian, which includes tanh'(a_s), not by Wh alone.",
            variant(GRADIENT_NORMS, "g = (g * (1 - h[:, s] ** 2)) @ Wh.T", "g = g @ Wh.T")),
    Mistake("gradient_norms_through_time/Wh-not-transposed", "The gradient goes back through Wh instead of its transpose",
            "With row vectors, going back through h_{s-1} @ Wh multiplies by the transpose of Wh.",
            variant(GRADIENT_NORMS, "g = (g * (1 - h[:, s] ** 2)) @ Wh.T", "g = (g * (1 - h[:, s] ** 2)) @ Wh")),
    Mistake("gradient_norms_through_time/derivative-one-step-early", "The tanh derivative of the wrong step",
            "Going from h_s back to h_{s-1} passes through tanh at step s: use h_s.",
            variant(GRADIENT_NORMS, "g = (g * (1 - h[:, s] ** 2)) @ Wh.T",
                    "g = (g * (1 - h[:, s - 1] ** 2)) @ Wh.T")),
    Mistake("gradient_norms_through_time/reversed", "The norms are in reverse order",
            "norms[s] belongs to h_s, so norms[T-1] is the norm of dh_last.",
            variant(GRADIENT_NORMS, "    return norms\n", "    return norms[::-1].copy()\n")),
    Mistake("gradient_norms_through_time/per-sample-average", "Per-sample norms averaged over the batch",
            "norms[s] is one Frobenius norm over the whole (N, H) gradient.",
            variant(GRADIENT_NORMS, "norms[s] = np.sqrt(np.sum(g ** 2))",
                    "norms[s] = np.mean(np.sqrt(np.sum(g ** 2, axis=1)))")),
    # --- scale_to_spectral_radius
    Mistake("scale_to_spectral_radius/largest-singular-value", "Scaled by the largest singular value",
            "The spectral radius is the largest eigenvalue modulus; it equals the largest singular value only for normal W.",
            variant(SPECTRAL, "radius = np.max(np.abs(np.linalg.eigvals(W)))", "radius = np.linalg.norm(W, 2)")),
    Mistake("scale_to_spectral_radius/frobenius-norm", "Scaled by the Frobenius norm",
            "The spectral radius is the largest eigenvalue modulus, not a matrix norm.",
            variant(SPECTRAL, "radius = np.max(np.abs(np.linalg.eigvals(W)))", "radius = np.linalg.norm(W)")),
    Mistake("scale_to_spectral_radius/largest-real-eigenvalue", "The largest real part instead of the largest modulus",
            "Eigenvalues can be negative or complex: take the largest absolute value.",
            variant(SPECTRAL, "radius = np.max(np.abs(np.linalg.eigvals(W)))",
                    "radius = np.max(np.linalg.eigvals(W).real)")),
    Mistake("scale_to_spectral_radius/no-zero-check", "No error when the spectral radius is 0",
            "When every eigenvalue is 0 no rescaling can give radius rho: raise ValueError.",
            variant(SPECTRAL, '    if radius < 1e-12 * max(1.0, np.abs(W).max()):\n'
                    '        raise ValueError("W has spectral radius 0")\n', "")),
    Mistake("scale_to_spectral_radius/in-place", "W is rescaled in place",
            "Multiplying into W changes the caller's matrix; return a new array.",
            variant(SPECTRAL, "    return W * (rho / radius)\n", "    W *= rho / radius\n    return W\n")),
)
