"""The inputs every graded function is checked on, drawn fresh at grading time.

`cases_for(name, seed)` returns a list of `Case`; case i draws its numbers from
`np.random.default_rng([seed, i])`, so the seed printed in a report rebuilds
exactly the same inputs (`cases_for(name, seed)[i]`). Only the sizes are ever
shown to students, never the values.

The sizes are chosen where bugs hide (peers' experience, see NOTES.md):
D != H (a missing transpose fails) and D == H (it does not), T = 1 and T >= 5,
N = 1, non-zero h0, T not divisible by k, k = 1, k = T and k > T (and the
same for the checkpoint spacing `every`), link weights xi with xi[0] not 0 or 1, clipping
below and above the threshold and a total of 0, softmax scores near 1e4,
arrays of 1, 2 and 3 dimensions for the gradient checker; for the LSTM, non-zero
c0 and dc_next (and dc_next = 0, the last step), every gate block different
(a swapped gate order shows); H != V and H == V for the output layer, repeated
and unread ids for the embedding.

Weights are drawn so that tanh is neither saturated nor linear (|a| about 1):
a saturated tanh hides a wrong tanh derivative, a linear one hides a missing one.
Backward functions get caches built by the reference forward pass, so a wrong
forward pass of the student's does not cost marks twice.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary, k truncation length.
"""
from dataclasses import dataclass, field

import numpy as np

from .specs import random_spec


@dataclass
class Case:
    """One set of inputs for one graded function.

    label: what the case is about, e.g. "D != H, T not divisible by k";
    args: the positional arguments, plain data only (float64 arrays, ints,
      floats, dicts of arrays, tuples of arrays, FunctionSpec);
    seed: the run seed; index: position in cases_for(name, seed), so
      np.random.default_rng([seed, index]) drew the values;
    sizes: the sizes to report, e.g. {"N": 3, "T": 7, "D": 4, "H": 5, "k": 3};
    expect_error: the name of the exception the contract asks for (e.g.
      "ValueError"), or None when outputs are expected.
    """
    label: str
    args: tuple
    seed: int
    index: int
    sizes: dict = field(default_factory=dict)
    expect_error: str = None

    def describe(self):
        """e.g. "case 2 'T = 1, N = 1' (N=1, T=1, D=3, H=3)": no values."""
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        return f"case {self.index} '{self.label}' ({sizes})"


# --- drawing RNN inputs -------------------------------------------------------

def _params(rng, D, H):
    """Wx (D, H), Wh (H, H), b (H,): tanh pre-activations of size about 1, Wh not symmetric."""
    Wx = rng.normal(scale=0.8 / np.sqrt(D), size=(D, H))
    Wh = rng.normal(scale=0.9 / np.sqrt(H), size=(H, H))
    b = rng.normal(scale=0.3, size=H)
    return Wx, Wh, b


def _sequence(rng, N, T, D, H, zero_h0=False):
    """x (N, T, D), h0 (N, H) (non-zero unless zero_h0), Wx, Wh, b."""
    x = rng.normal(size=(N, T, D))
    h0 = np.zeros((N, H)) if zero_h0 else rng.uniform(-0.8, 0.8, size=(N, H))
    return (x, h0) + _params(rng, D, H)


def _sequence_cache(rng, N, T, D, H, zero_h0=False):
    """The sequence cache (x, h0, Wx, Wh, h), with h from the reference rnn_forward."""
    from solutions import rnn_forward
    x, h0, Wx, Wh, b = _sequence(rng, N, T, D, H, zero_h0)
    return rnn_forward(x, h0, Wx, Wh, b)[1]


def _step_cache(rng, N, D, H):
    """The step cache (x_t, h_prev, Wx, Wh, h_next), with h_next from the reference rnn_step_forward."""
    from solutions import rnn_step_forward
    x_t = rng.normal(size=(N, D))
    h_prev = rng.uniform(-0.8, 0.8, size=(N, H))
    return rnn_step_forward(x_t, h_prev, *_params(rng, D, H))[1]


# --- one builder per graded function: list of (label, sizes, make(rng) -> args[, expect_error]) ---

def _rnn_step_forward():
    def make(N, D, H):
        def draw(rng):
            x_t = rng.normal(size=(N, D))
            h_prev = rng.uniform(-0.8, 0.8, size=(N, H))
            return (x_t, h_prev) + _params(rng, D, H)
        return draw
    return [("D != H", dict(N=3, D=4, H=5), make(3, 4, 5)),
            ("N = 1, D == H", dict(N=1, D=3, H=3), make(1, 3, 3)),
            ("D < H", dict(N=4, D=2, H=6), make(4, 2, 6))]


def _rnn_forward():
    def make(N, T, D, H, zero_h0=False):
        return lambda rng: _sequence(rng, N, T, D, H, zero_h0)
    return [("D != H, T >= 5", dict(N=3, T=6, D=4, H=5), make(3, 6, 4, 5)),
            ("T = 1, N = 1", dict(N=1, T=1, D=3, H=3), make(1, 1, 3, 3)),
            ("D == H, h0 = 0", dict(N=2, T=5, D=4, H=4), make(2, 5, 4, 4, zero_h0=True)),
            ("D > H", dict(N=2, T=7, D=6, H=3), make(2, 7, 6, 3))]


def _numerical_gradient():
    def make(kind, shape, h=None):
        def draw(rng):
            x = rng.normal(size=shape)
            spec = random_spec(kind, shape, rng)
            return (spec, x) if h is None else (spec, x, h)
        return draw
    return [("x a matrix, default h", dict(shape=(3, 4)), make("tanh_quartic", (3, 4))),
            ("x of 3 dimensions", dict(shape=(2, 3, 2)), make("log_sum_exp", (2, 3, 2))),
            ("x a vector, h = 1e-4", dict(shape=(5,), h=1e-4), make("tanh_quartic", (5,), 1e-4))]


def _rnn_step_backward():
    def make(N, D, H):
        return lambda rng: (rng.normal(size=(N, H)), _step_cache(rng, N, D, H))
    return [("D != H", dict(N=3, D=4, H=5), make(3, 4, 5)),
            ("N = 1, D == H", dict(N=1, D=3, H=3), make(1, 3, 3)),
            ("D > H", dict(N=4, D=6, H=2), make(4, 6, 2))]


def _backward_cases():
    """Cases for rnn_backward and gradient_contributions: (dh (N, T, H), cache)."""
    def make(N, T, D, H, zero_h0=False):
        return lambda rng: (rng.normal(size=(N, T, H)), _sequence_cache(rng, N, T, D, H, zero_h0))
    return [("D != H, T >= 5", dict(N=3, T=6, D=4, H=5), make(3, 6, 4, 5)),
            ("T = 1, N = 1", dict(N=1, T=1, D=3, H=3), make(1, 1, 3, 3)),
            ("D == H", dict(N=2, T=5, D=4, H=4), make(2, 5, 4, 4)),
            ("D > H, h0 = 0", dict(N=2, T=7, D=5, H=3), make(2, 7, 5, 3, zero_h0=True))]


def _truncation_cases():
    """(dh, cache, k) covering T not divisible by k, k = 1, k = T, k > T, T = 1."""
    def make(N, T, D, H, k):
        return lambda rng: (rng.normal(size=(N, T, H)), _sequence_cache(rng, N, T, D, H), k)
    return [("T not divisible by k", dict(N=2, T=7, D=3, H=4, k=3), make(2, 7, 3, 4, 3)),
            ("k = 1", dict(N=2, T=5, D=4, H=3, k=1), make(2, 5, 4, 3, 1)),
            ("T divisible by k, N = 1", dict(N=1, T=8, D=4, H=4, k=2), make(1, 8, 4, 4, 2)),
            ("k = T", dict(N=3, T=5, D=2, H=4, k=5), make(3, 5, 2, 4, 5)),
            ("k > T", dict(N=2, T=4, D=3, H=5, k=6), make(2, 4, 3, 5, 6)),
            ("T = 1", dict(N=2, T=1, D=3, H=2, k=2), make(2, 1, 3, 2, 2))]


# --- truncation, completed (notebook 03): weighted links and checkpointing --------------------------
def _weighted_cases():
    """(dh, cache, xi) with xi (T,): all ones, a chunk pattern, Bernoulli(p)/p draws, any real weights.

    Cases with xi[0] not in {0, 1} show whether dh0 is scaled by the first link's weight.
    """
    def make(N, T, D, H, weights, zero_h0=False):
        def draw(rng):
            return (rng.normal(size=(N, T, H)), _sequence_cache(rng, N, T, D, H, zero_h0), weights(rng, T))
        return draw

    def ones(rng, T):
        return np.ones(T)

    def chunk_starts(k):
        return lambda rng, T: np.where((np.arange(T) % k == 0) & (np.arange(T) > 0), 0.0, 1.0)

    def bernoulli(p):
        def draw(rng, T):
            keep = rng.random(T) < p
            keep[[1, 2]] = (True, False)            # both kinds of link, whatever the draw
            return keep / p
        return draw

    def real(rng, T):                              # any numbers, negative ones too; xi[0] = 0.5
        xi = rng.uniform(-1.0, 2.0, size=T)
        xi[0] = 0.5
        return xi

    def single(rng, T):
        return np.array([2.5])
    return [("xi all ones (full BPTT), D != H", dict(N=3, T=6, D=4, H=5), make(3, 6, 4, 5, ones)),
            ("xi = Bernoulli(p)/p, p = 0.6", dict(N=2, T=8, D=3, H=4, p=0.6), make(2, 8, 3, 4, bernoulli(0.6))),
            ("real weights, xi[0] = 0.5", dict(N=2, T=7, D=4, H=3), make(2, 7, 4, 3, real)),
            ("zeros at the chunk starts (k = 3), D == H", dict(N=2, T=7, D=4, H=4, k=3),
             make(2, 7, 4, 4, chunk_starts(3))),
            ("T = 1, N = 1, xi = [2.5]", dict(N=1, T=1, D=3, H=3), make(1, 1, 3, 3, single)),
            ("real weights, h0 = 0, D > H", dict(N=2, T=5, D=5, H=3), make(2, 5, 5, 3, real, zero_h0=True))]


def _checkpointed_cases():
    """(dh, x, h0, Wx, Wh, b, every): T not divisible by every, every = 1, every = T, every > T, T = 1."""
    def make(N, T, D, H, every):
        return lambda rng: (rng.normal(size=(N, T, H)),) + _sequence(rng, N, T, D, H) + (every,)
    return [("T not divisible by every", dict(N=2, T=7, D=3, H=4, every=3), make(2, 7, 3, 4, 3)),
            ("every = 1", dict(N=2, T=5, D=4, H=3, every=1), make(2, 5, 4, 3, 1)),
            ("every = 3 = sqrt(T), D == H, N = 1", dict(N=1, T=9, D=4, H=4, every=3), make(1, 9, 4, 4, 3)),
            ("every = T", dict(N=3, T=6, D=2, H=4, every=6), make(3, 6, 2, 4, 6)),
            ("every > T", dict(N=2, T=4, D=3, H=5, every=9), make(2, 4, 3, 5, 9)),
            ("T = 1", dict(N=2, T=1, D=3, H=2, every=2), make(2, 1, 3, 2, 2))]
# --- end of truncation, completed ---------------------------------------------------------------------


def _step_jacobians():
    def make(N, T, D, H):
        return lambda rng: (_sequence_cache(rng, N, T, D, H),)
    return [("D != H", dict(N=2, T=5, D=3, H=4), make(2, 5, 3, 4)),
            ("T = 1, N = 1", dict(N=1, T=1, D=3, H=3), make(1, 1, 3, 3))]


def _gradient_norms_through_time():
    def make(N, T, D, H):
        return lambda rng: (rng.normal(size=(N, H)), _sequence_cache(rng, N, T, D, H))
    return [("T >= 5", dict(N=3, T=6, D=4, H=5), make(3, 6, 4, 5)),
            ("T = 1, N = 1", dict(N=1, T=1, D=2, H=2), make(1, 1, 2, 2)),
            ("D == H", dict(N=2, T=4, D=3, H=3), make(2, 4, 3, 3))]


def _scale_to_spectral_radius():
    def gaussian(H, rho):
        return lambda rng: (rng.normal(size=(H, H)), rho)

    def rotation_like(rng):          # complex eigenvalues, non-normal
        theta = rng.uniform(0.3, 1.2)
        R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        S = np.array([[1.0, rng.uniform(1.0, 3.0)], [0.0, 1.0]])
        return (1.7 * S @ R @ np.linalg.inv(S), 0.8)

    def nilpotent(rng):              # strictly upper triangular: every eigenvalue is 0
        return (np.triu(rng.normal(size=(4, 4)), k=1), 1.0)
    return [("non-normal W, rho < 1", dict(H=5, rho=0.9), gaussian(5, 0.9)),
            ("H = 1, rho > 1", dict(H=1, rho=1.3), gaussian(1, 1.3)),
            ("complex eigenvalues", dict(H=2, rho=0.8), rotation_like),
            ("spectral radius 0", dict(H=4, rho=1.0), nilpotent, "ValueError")]


def _clip_grad_norm():
    def grads(rng, scale):
        return {"Wx": scale * rng.normal(size=(3, 4)), "Wh": scale * rng.normal(size=(4, 4)),
                "b": scale * rng.normal(size=4)}

    def above(rng):                  # total norm about 40, each tensor above the threshold too
        return (grads(rng, 5.0), 1.0)

    def below(rng):                  # total norm about 0.5 < max_norm
        return (grads(rng, 0.1), 5.0)

    def zero(rng):
        return ({"Wx": np.zeros((2, 3)), "b": np.zeros(3)}, 1.0)

    def uneven(rng):                 # one big tensor, one tiny one: per-tensor clipping differs from global
        return ({"W": 3.0 * rng.normal(size=(4, 5)), "b": 0.01 * rng.normal(size=5)}, 2.0)
    return [("above the threshold", dict(tensors=3, max_norm=1.0), above),
            ("below the threshold", dict(tensors=3, max_norm=5.0), below),
            ("all gradients 0", dict(tensors=2, max_norm=1.0), zero),
            ("one large and one small tensor", dict(tensors=2, max_norm=2.0), uneven)]


# --- LSTM (notebook 05): gate order, c0 != 0, dc_next != 0, D != H and D == H, T = 1 ---------------

def _lstm_params(rng, D, H):
    """Wx (D, 4H), Wh (H, 4H), b (4H,), blocks i, f, g, o: pre-activations of size about 1 (no gate
    saturated, none linear), every block different (a swapped gate order changes the result)."""
    Wx = rng.normal(scale=0.8 / np.sqrt(D), size=(D, 4 * H))
    Wh = rng.normal(scale=0.9 / np.sqrt(H), size=(H, 4 * H))
    b = rng.normal(scale=0.3, size=4 * H)
    return Wx, Wh, b


def _lstm_states(rng, N, H, zero=False):
    """h (N, H) and c (N, H): non-zero unless zero (c wider than h: a cell is not squashed)."""
    if zero:
        return np.zeros((N, H)), np.zeros((N, H))
    return rng.uniform(-0.8, 0.8, size=(N, H)), rng.uniform(-1.5, 1.5, size=(N, H))


def _lstm_sequence(rng, N, T, D, H, zero_states=False):
    """x (N, T, D), h0, c0 (N, H), Wx, Wh, b."""
    x = rng.normal(size=(N, T, D))
    return (x,) + _lstm_states(rng, N, H, zero_states) + _lstm_params(rng, D, H)


def _lstm_step_forward():
    def make(N, D, H):
        return lambda rng: (rng.normal(size=(N, D)),) + _lstm_states(rng, N, H) + _lstm_params(rng, D, H)
    return [("D != H", dict(N=3, D=4, H=5), make(3, 4, 5)),
            ("N = 1, D == H", dict(N=1, D=3, H=3), make(1, 3, 3)),
            ("D < H", dict(N=4, D=2, H=6), make(4, 2, 6))]


def _lstm_forward():
    def make(N, T, D, H, zero_states=False):
        return lambda rng: _lstm_sequence(rng, N, T, D, H, zero_states)
    return [("D != H, T >= 5", dict(N=3, T=6, D=4, H=5), make(3, 6, 4, 5)),
            ("T = 1, N = 1", dict(N=1, T=1, D=3, H=3), make(1, 1, 3, 3)),
            ("D == H, h0 = c0 = 0", dict(N=2, T=5, D=4, H=4), make(2, 5, 4, 4, zero_states=True)),
            ("D > H", dict(N=2, T=7, D=6, H=3), make(2, 7, 6, 3))]


def _lstm_step_backward():
    """(dh_next, dc_next, step cache from the reference lstm_step_forward)."""
    from solutions import lstm_step_forward

    def make(N, D, H, dc_zero=False):
        def draw(rng):
            x_t = rng.normal(size=(N, D))
            cache = lstm_step_forward(x_t, *_lstm_states(rng, N, H), *_lstm_params(rng, D, H))[2]
            dc_next = np.zeros((N, H)) if dc_zero else rng.normal(size=(N, H))
            return (rng.normal(size=(N, H)), dc_next, cache)
        return draw
    return [("D != H, dc_next != 0", dict(N=3, D=4, H=5), make(3, 4, 5)),
            ("N = 1, D == H", dict(N=1, D=3, H=3), make(1, 3, 3)),
            ("D > H, dc_next = 0 (the last step)", dict(N=4, D=6, H=2), make(4, 6, 2, dc_zero=True))]


def _lstm_backward():
    """(dh (N, T, H), sequence cache from the reference lstm_forward)."""
    from solutions import lstm_forward

    def make(N, T, D, H, zero_states=False):
        return lambda rng: (rng.normal(size=(N, T, H)), lstm_forward(*_lstm_sequence(rng, N, T, D, H, zero_states))[1])
    return [("D != H, T >= 5", dict(N=3, T=6, D=4, H=5), make(3, 6, 4, 5)),
            ("T = 1, N = 1", dict(N=1, T=1, D=3, H=3), make(1, 1, 3, 3)),
            ("D == H", dict(N=2, T=5, D=4, H=4), make(2, 5, 4, 4)),
            ("D > H, h0 = c0 = 0", dict(N=2, T=7, D=5, H=3), make(2, 7, 5, 3, zero_states=True))]


def _temporal_softmax_loss():
    def make(N, T, V, scale):
        return lambda rng: (scale * rng.normal(size=(N, T, V)), rng.integers(0, V, size=(N, T)))
    return [("moderate scores", dict(N=3, T=4, V=5), make(3, 4, 5, 2.0)),
            ("scores near 1e4", dict(N=2, T=3, V=6, scale=1e4), make(2, 3, 6, 1e4)),
            ("N = 1, T = 1", dict(N=1, T=1, V=3), make(1, 1, 3, 1.0))]


# --- language model, assembled (notebook 06) ---------------------------------------------

def _output_layer(rng, N, T, H, V):
    """h (N, T, H) like tanh states, Wy (H, V), by (V,): scores of size about 1."""
    h = rng.uniform(-0.9, 0.9, size=(N, T, H))
    return h, rng.normal(scale=1.0 / np.sqrt(H), size=(H, V)), rng.normal(scale=0.5, size=V)


def _temporal_affine_forward():
    def make(N, T, H, V):
        return lambda rng: _output_layer(rng, N, T, H, V)
    return [("H != V, T >= 3", dict(N=3, T=4, H=5, V=6), make(3, 4, 5, 6)),
            ("T = 1, N = 1", dict(N=1, T=1, H=3, V=4), make(1, 1, 3, 4)),
            ("H == V", dict(N=2, T=3, H=4, V=4), make(2, 3, 4, 4))]


def _temporal_affine_backward():
    def make(N, T, H, V):
        def draw(rng):
            from solutions import temporal_affine_forward
            _, cache = temporal_affine_forward(*_output_layer(rng, N, T, H, V))
            return (rng.normal(size=(N, T, V)), cache)
        return draw
    return [("H != V, T >= 3", dict(N=3, T=4, H=5, V=6), make(3, 4, 5, 6)),
            ("T = 1, N = 1", dict(N=1, T=1, H=3, V=4), make(1, 1, 3, 4)),
            ("H == V", dict(N=2, T=5, H=3, V=3), make(2, 5, 3, 3))]


def _lm_loss_and_grads():
    """(params, x_ids, y_ids, h0): ids repeat (N T > V) so that the embedding gradient must add up;
    one case reads a single id at every step, one leaves ids unread (their rows of dWx stay 0)."""
    def make(N, T, V, H, ids="random"):
        def draw(rng):
            params = {"Wx": rng.normal(scale=0.8, size=(V, H)), "Wh": rng.normal(scale=0.9 / np.sqrt(H), size=(H, H)),
                      "b": rng.normal(scale=0.3, size=H), "Wy": rng.normal(scale=1.0 / np.sqrt(H), size=(H, V)),
                      "by": rng.normal(scale=0.5, size=V)}
            if ids == "one":
                x_ids = np.full((N, T), rng.integers(V))
            elif ids == "some unread":
                x_ids = rng.integers(0, V // 2, size=(N, T))
            else:
                x_ids = rng.integers(0, V, size=(N, T))
            y_ids = rng.integers(0, V, size=(N, T))
            return (params, x_ids, y_ids, rng.uniform(-0.8, 0.8, size=(N, H)))
        return draw
    return [("repeated ids, H != V, T >= 5", dict(N=3, T=6, V=4, H=5), make(3, 6, 4, 5)),
            ("T = 1, N = 1", dict(N=1, T=1, V=3, H=4), make(1, 1, 3, 4)),
            ("one id at every step, H == V", dict(N=2, T=5, V=4, H=4), make(2, 5, 4, 4, ids="one")),
            ("some ids never read, V > H", dict(N=2, T=4, V=6, H=3), make(2, 4, 6, 3, ids="some unread"))]
# --- end language model


_BUILDERS = {
    "rnn_step_forward": _rnn_step_forward,
    "rnn_forward": _rnn_forward,
    "numerical_gradient": _numerical_gradient,
    "rnn_step_backward": _rnn_step_backward,
    "rnn_backward": _backward_cases,
    "gradient_contributions": _backward_cases,
    "rnn_backward_truncated": _truncation_cases,
    "rnn_backward_chunked": _truncation_cases,
    # truncation, completed (notebook 03)
    "rnn_backward_weighted": _weighted_cases,
    "rnn_backward_checkpointed": _checkpointed_cases,
    # end of truncation, completed
    "step_jacobians": _step_jacobians,
    "gradient_norms_through_time": _gradient_norms_through_time,
    "scale_to_spectral_radius": _scale_to_spectral_radius,
    "clip_grad_norm": _clip_grad_norm,
    # --- LSTM (notebook 05)
    "lstm_step_forward": _lstm_step_forward,
    "lstm_forward": _lstm_forward,
    "lstm_step_backward": _lstm_step_backward,
    "lstm_backward": _lstm_backward,
    # ---
    "temporal_softmax_loss": _temporal_softmax_loss,
    # --- language model, assembled (notebook 06)
    "temporal_affine_forward": _temporal_affine_forward,
    "temporal_affine_backward": _temporal_affine_backward,
    "lm_loss_and_grads": _lm_loss_and_grads,
    # --- end language model
}

GRADED = tuple(_BUILDERS)


def cases_for(name, seed):
    """Every Case for graded function `name`, drawn from the run seed `seed` (an int >= 0)."""
    if name not in _BUILDERS:
        raise KeyError(f"no cases for {name!r}; graded functions are {', '.join(GRADED)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0; got {seed!r}")
    cases = []
    for index, (label, sizes, draw, *error) in enumerate(_BUILDERS[name]()):
        rng = np.random.default_rng([int(seed), index])
        cases.append(Case(label, tuple(draw(rng)), int(seed), index, dict(sizes), error[0] if error else None))
    return cases
