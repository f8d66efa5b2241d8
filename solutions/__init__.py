"""The reference solution: the trusted implementation of every graded function.

Instructors and the autograder use it; it is never shipped to students.
Names, signatures, shapes and cache formats follow CONTRACT.md §2.
Legend used in every docstring: N batch, T time steps, D input size,
H hidden size, V vocabulary size, k truncation length.
"""
from .clipping import clip_grad_norm
from .contributions import gradient_contributions
from .gradcheck import numerical_gradient
from .losses import temporal_softmax_loss
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .truncation import rnn_backward_chunked, rnn_backward_truncated
from .vanishing import gradient_norms_through_time, scale_to_spectral_radius, step_jacobians

# In the order the course teaches them.
GRADED_FUNCTIONS = (
    "rnn_step_forward", "rnn_forward",
    "numerical_gradient", "rnn_step_backward", "rnn_backward", "gradient_contributions",
    "rnn_backward_truncated", "rnn_backward_chunked",
    "step_jacobians", "gradient_norms_through_time", "scale_to_spectral_radius", "clip_grad_norm",
    "temporal_softmax_loss",
)

__all__ = list(GRADED_FUNCTIONS) + ["GRADED_FUNCTIONS"]
