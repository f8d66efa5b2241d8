"""Known mistakes in global gradient-norm clipping (Pascanu, Mikolov & Bengio 2013)."""
from . import Mistake, variant

CLIP = '''
def clip_grad_norm(grads, max_norm):
    total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0
    clipped = {name: g * scale for name, g in grads.items()}
    return clipped, float(total_norm)
'''

TEMPLATES = {"clip_grad_norm": CLIP}

MISTAKES = (
    Mistake("clip_grad_norm/per-tensor", "Each array is clipped by its own norm",
            "Norm clipping uses one global norm over all the arrays and one scale factor for all of them, keeping the direction.",
            variant(CLIP, "clipped = {name: g * scale for name, g in grads.items()}",
                    "clipped = {name: g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-300)) for name, g in grads.items()}")),
    Mistake("clip_grad_norm/always-scaled", "Gradients are scaled to max_norm even when smaller",
            "Clipping only shrinks: when the total norm is below max_norm the gradients are returned unchanged.",
            variant(CLIP, "min(1.0, max_norm / total_norm)", "max_norm / total_norm")),
    Mistake("clip_grad_norm/inverted-condition", "Clipping happens below the threshold instead of above it",
            "Rescale only when the total norm is larger than max_norm.",
            variant(CLIP, "min(1.0, max_norm / total_norm)", "max(1.0, max_norm / total_norm)")),
    Mistake("clip_grad_norm/norm-after-clipping", "total_norm is measured after clipping",
            "Return the norm the gradients had before they were rescaled.",
            variant(CLIP, "    return clipped, float(total_norm)\n",
                    "    return clipped, float(np.sqrt(sum(np.sum(g ** 2) for g in clipped.values())))\n")),
    Mistake("clip_grad_norm/sum-of-norms", "The total norm is the sum of the arrays' norms",
            "The global norm is the square root of the sum of the squares of every entry of every array.",
            variant(CLIP, "total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))",
                    "total_norm = sum(np.linalg.norm(g) for g in grads.values())")),
    Mistake("clip_grad_norm/in-place", "The caller's arrays are scaled in place",
            "Build new arrays for the clipped dict; the arrays in grads must not change.",
            variant(CLIP, "    clipped = {name: g * scale for name, g in grads.items()}\n",
                    "    for g in grads.values():\n        g *= scale\n    clipped = dict(grads)\n")),
    Mistake("clip_grad_norm/zero-total", "Division by zero when every gradient is 0",
            "When the total norm is 0 there is nothing to clip: use the scale 1.",
            variant(CLIP, "    total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))\n"
                    "    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0\n",
                    "    total_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))\n"
                    "    scale = min(1.0, max_norm / total_norm)\n")),
)
