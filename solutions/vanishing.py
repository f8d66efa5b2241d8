"""Vanishing and exploding gradients: step Jacobians, gradient norms, spectral radius.

Legend: N batch size, T time steps, H hidden size.
Backpropagating one step multiplies by the step Jacobian
dh_t/dh_{t-1} = diag(1 - h_t^2) @ Wh.T, so dL/dh_s is a product of T-1-s of them
(Pascanu, Mikolov & Bengio 2013).
"""
import numpy as np

from ._validate import _check_cache, _check_last_gradient, _check_square


def step_jacobians(cache):
    """The Jacobian of every step, for every sample.

    Inputs:
    - cache: the sequence cache (x, h0, Wx, Wh, h) of rnn_forward

    Returns:
    - J: array of shape (N, T, H, H); J[n, t] = d h_t / d h_{t-1} for sample n,
      J[n, t][i, j] = d h_t[i] / d h_{t-1}[j] = (1 - h_t[i]^2) Wh[j, i],
      that is diag(1 - h_t^2) @ Wh.T
    """
    cache = _check_cache(cache)
    x, h0, Wx, Wh, h = cache
    return (1 - h ** 2)[..., :, None] * Wh.T     # row i of Wh.T scaled by tanh'(a_t[i])


def gradient_norms_through_time(dh_last, cache):
    """How the gradient of a loss on the last state shrinks or grows going back in time.

    Inputs:
    - dh_last: array of shape (N, H), dL/dh_{T-1}; the loss depends on h_{T-1} only
    - cache: the sequence cache (x, h0, Wx, Wh, h) of rnn_forward

    Returns:
    - norms: array of shape (T,); norms[s] is the Frobenius norm over the whole
      batch of dL/dh_s, so norms[T-1] = ||dh_last||
    """
    dh_last, cache = _check_last_gradient(dh_last, cache)
    x, h0, Wx, Wh, h = cache
    T = h.shape[1]
    norms = np.empty(T)
    dh_s = dh_last
    for s in reversed(range(T)):
        norms[s] = np.linalg.norm(dh_s)                   # Frobenius norm over (N, H)
        if s > 0:
            dh_s = (dh_s * (1 - h[:, s] ** 2)) @ Wh.T     # dL/dh_{s-1} = dL/dh_s · dh_s/dh_{s-1}
    return norms


def scale_to_spectral_radius(W, rho):
    """Rescale a square matrix so that its spectral radius is rho.

    Inputs:
    - W: array of shape (H, H)
    - rho: float >= 0, the wanted spectral radius (largest eigenvalue modulus)

    Returns:
    - W_scaled: array of shape (H, H), W * rho / radius(W)

    Raises ValueError if W's spectral radius is 0 (for example W = 0 or a
    nilpotent W): no rescaling can change it. "0" is judged in floating point,
    relative to the size of W.
    """
    W, rho = _check_square(W, rho)
    radius = np.max(np.abs(np.linalg.eigvals(W)))
    if radius <= W.shape[0] * np.finfo(np.float64).eps * np.linalg.norm(W):
        raise ValueError("W has spectral radius 0 (all its eigenvalues are 0), so no rescaling can give it radius rho")
    return W * (rho / radius)
