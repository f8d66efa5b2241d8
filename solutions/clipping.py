"""Gradient norm clipping (Pascanu, Mikolov & Bengio 2013, Algorithm 1)."""
import numpy as np

from ._validate import _check_grads


def clip_grad_norm(grads, max_norm):
    """Rescale a set of gradients so that their global L2 norm is at most max_norm.

    Inputs:
    - grads: dict mapping a name to an array of any shape
    - max_norm: float > 0, the threshold

    Returns a tuple of:
    - clipped: a new dict with the same keys; every array is multiplied by
      min(1, max_norm / total_norm) (by 1 when total_norm is 0), so the
      direction of the whole gradient is kept
    - total_norm: float, sqrt(sum of squares of every entry of every array),
      measured before clipping
    """
    grads, max_norm = _check_grads(grads, max_norm)
    biggest = max((np.max(np.abs(g), initial=0.0) for g in grads.values()), default=0.0)
    if biggest == 0 or not np.isfinite(biggest):
        total_norm = float(biggest)                     # all zeros (0) or already inf/nan
    else:                                               # factor out the largest entry: no overflow
        total_norm = float(biggest * np.sqrt(sum(np.sum((g / biggest) ** 2) for g in grads.values())))
    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0
    clipped = {name: g * scale for name, g in grads.items()}
    return clipped, total_norm
