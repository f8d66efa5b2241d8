"""The delayed-echo task: a stream whose answer lies L steps back, learned with chunked TBPTT.

Legend: N batch size (parallel streams), T time steps, D input size (1 here),
H hidden size, L delay, k truncation (chunk) length.

The input is a stream of random bits shown as x_t = +1 or -1; the target at
step t is the bit seen L steps earlier, y_t = bit_{t-L} (no target for t < L).
A tanh RNN reads the stream and a logistic readout p_t = sigmoid(h_t @ w + c)
predicts y_t. Training is chunked truncated BPTT as frameworks do it: the
stream is cut into chunks of k steps, the hidden state is carried from one
chunk to the next, the gradient is not, and Adam (Kingma & Ba 2015) updates
the weights after every chunk. The gradient of the loss at step t reaches at
most k-1 steps back, so it can credit the input L steps back only when k > L.

Functions that need the RNN take the student's functions as arguments; this
module contains no graded code.
"""
from dataclasses import dataclass, field

import numpy as np


def echo_batch(bits_before, N, T, L, rng):
    """The next T steps of N delayed-echo streams.

    Inputs:
    - bits_before: int array of shape (N, L), the last L bits of each stream
      seen so far (bits, 0 or 1), or None at the start of the streams
    - N, T, L: batch size, number of new steps, delay (L >= 1)
    - rng: a numpy Generator (np.random.default_rng(seed))

    Returns a tuple of:
    - x: array of shape (N, T, 1), the inputs, +1.0 or -1.0
    - y: int array of shape (N, T), the targets, y[:, t] = bit L steps before step t
    - has_target: bool array of shape (N, T), False where the stream is younger than L steps
    - bits_after: int array of shape (N, L), the last L bits, for the next call
    """
    if not (isinstance(L, (int, np.integer)) and L >= 1):
        raise ValueError(f"L (the delay) must be a whole number >= 1; got {L!r}")
    if not (isinstance(T, (int, np.integer)) and T >= 1):
        raise ValueError(f"T must be a whole number >= 1; got {T!r}")
    bits = rng.integers(0, 2, size=(N, T))
    has_target = np.ones((N, T), dtype=bool)
    if bits_before is None:                       # a fresh stream: nothing to echo yet
        bits_before = np.zeros((N, L), dtype=bits.dtype)
        has_target[:, :L] = False
    elif np.shape(bits_before) != (N, L):
        raise ValueError(f"bits_before must have shape (N, L) = ({N}, {L}); got {np.shape(bits_before)}")
    history = np.concatenate([bits_before, bits], axis=1)     # (N, L + T)
    y = history[:, :T]                                         # y_t = bit_{t-L}
    x = (2.0 * bits - 1.0)[..., None]
    return x, y, has_target, history[:, T:]


def readout_loss(h, w, c, y, has_target):
    """Logistic readout and its mean cross-entropy over the steps that have a target.

    Inputs:
    - h: array of shape (N, T, H), hidden states
    - w: array of shape (H,), c: array of shape (1,), the readout p = sigmoid(h @ w + c)
    - y: int array of shape (N, T), targets 0 or 1; has_target: bool array of shape (N, T)

    Returns a tuple of:
    - loss: float, mean binary cross-entropy over the counted steps
    - dh: array of shape (N, T, H), dloss/dh_t from the readout at each step
    - dw: array of shape (H,), dc: array of shape (1,)
    - correct: int array of shape (N, T), 1 where the prediction p > 1/2 equals y (0 without target)
    """
    z = h @ w + c[0]                                  # logits, (N, T)
    count = max(int(has_target.sum()), 1)
    # log(1 + e^z) - y z, written to be stable for any z
    loss = float(np.sum((np.logaddexp(0.0, z) - y * z) * has_target) / count)
    p = 0.5 * (1.0 + np.tanh(0.5 * z))                # sigmoid(z) without overflow
    dz = (p - y) * has_target / count                 # dloss/dz through the mean cross-entropy
    dh = dz[..., None] * w                            # z = h @ w + c  ->  dloss/dh
    dw = np.einsum("nth,nt->h", h, dz)                # dloss/dw, summed over batch and time
    dc = np.array([dz.sum()])
    correct = ((z > 0) == (y == 1)) & has_target
    return loss, dh, dw, dc, correct.astype(int)


@dataclass
class Adam:
    """Adam (Kingma & Ba 2015) for a dict of parameter arrays; `step` returns updated copies."""
    lr: float = 3e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: dict = field(default_factory=dict)
    v: dict = field(default_factory=dict)

    def step(self, params, grads):
        self.t += 1
        new = {}
        for name, p in params.items():
            g = grads[name]
            self.m[name] = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, 0.0) + (1 - self.beta2) * g ** 2
            m_hat = self.m[name] / (1 - self.beta1 ** self.t)
            v_hat = self.v[name] / (1 - self.beta2 ** self.t)
            new[name] = p - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return new


def init_params(H, seed):
    """Weights of a 1-input tanh RNN with a logistic readout.

    Returns a dict: Wx (1, H), Wh (H, H), b (H,), w (H,), c (1,); Wh and w are
    Gaussian with standard deviation 1/sqrt(H), Wx standard normal, biases 0.
    """
    rng = np.random.default_rng(seed)
    return {"Wx": rng.normal(0.0, 1.0, (1, H)), "Wh": rng.normal(0.0, 1.0 / np.sqrt(H), (H, H)),
            "b": np.zeros(H), "w": rng.normal(0.0, 1.0 / np.sqrt(H), H), "c": np.zeros(1)}


def echo_accuracy(rnn_forward, params, L, N=256, T=200, seed=1000):
    """Accuracy of the trained model on N fresh streams of T steps (steps t >= L only).

    rnn_forward: the student's function (x, h0, Wx, Wh, b) -> (h, cache).
    Returns a float in [0, 1]; guessing gives 0.5.
    """
    rng = np.random.default_rng(seed)
    x, y, has_target, _ = echo_batch(None, N, T, L, rng)
    H = params["Wh"].shape[0]
    h, _ = rnn_forward(x, np.zeros((N, H)), params["Wx"], params["Wh"], params["b"])
    *_, correct = readout_loss(h, params["w"], params["c"], y, has_target)
    return float(correct.sum() / has_target.sum())


@dataclass
class EchoRun:
    """What train_echo returns: settings, the loss of every update, and the final test accuracy."""
    L: int
    k: int
    seed: int
    updates: int
    losses: np.ndarray          # (updates,)
    accuracy: float
    params: dict
    steps_per_update: int = None   # S, the time steps of every stream read per update


def train_echo(rnn_forward, rnn_backward_chunked, L, k, *, updates=2000, H=32, N=32,
               chunks_per_update=1, steps_per_update=None, lr=3e-3, clip_grad_norm=None, max_norm=1.0,
               seed=0, progress=None):
    """Train a tanh RNN on the delayed-echo stream with chunked truncated BPTT.

    Every update reads the next S steps of N streams (S = steps_per_update,
    or chunks_per_update * k when it is None), starting from the hidden state
    left by the previous update (carried, not backpropagated into), and
    backpropagates with rnn_backward_chunked(dh, cache, k): chunks of k steps
    counted from the update's first step, the last one shorter when k does not
    divide S. With a fixed S every k reads the same data (the stream depends on
    the seed only) and makes the same number of updates: only the truncation differs.

    Inputs:
    - rnn_forward, rnn_backward_chunked: the student's functions (contract signatures)
    - L: the delay; k: the truncation (chunk) length
    - steps_per_update: S, the steps read per update (None: chunks_per_update * k)
    - updates, H, N, lr, seed: training length, hidden size, batch size, Adam step size, seed
    - clip_grad_norm: None, or the function of notebook 04 ((grads, max_norm) -> (clipped, norm))
    - progress: None, or a function called as progress(update_index) (for a progress bar)

    Returns an EchoRun; accuracy is echo_accuracy on fresh streams (chance 0.5).
    """
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k must be a whole number >= 1; got {k!r}")
    S = k * chunks_per_update if steps_per_update is None else steps_per_update
    if not (isinstance(S, (int, np.integer)) and S >= 1):
        raise ValueError(f"steps_per_update must be a whole number >= 1; got {S!r}")
    rng = np.random.default_rng(seed + 1)            # the data stream; init_params uses seed
    params = init_params(H, seed)
    adam = Adam(lr=lr)
    h_carry = np.zeros((N, H))
    bits = rng.integers(0, 2, size=(N, L))           # streams already running: every step has a target
    losses = np.empty(updates)
    for i in range(updates):
        x, y, has_target, bits = echo_batch(bits, N, S, L, rng)
        h, cache = rnn_forward(x, h_carry, params["Wx"], params["Wh"], params["b"])
        losses[i], dh, dw, dc, _ = readout_loss(h, params["w"], params["c"], y, has_target)
        _, _, dWx, dWh, db = rnn_backward_chunked(dh, cache, k)
        grads = {"Wx": dWx, "Wh": dWh, "b": db, "w": dw, "c": dc}
        if clip_grad_norm is not None:
            grads, _ = clip_grad_norm(grads, max_norm)
        params = adam.step(params, grads)
        h_carry = h[:, -1]                            # carried forward; no gradient flows back into it
        if progress is not None:
            progress(i)
    return EchoRun(L=L, k=k, seed=seed, updates=updates, losses=losses,
                   accuracy=echo_accuracy(rnn_forward, params, L), params=params, steps_per_update=S)


def echo_sweep(rnn_forward, rnn_backward_chunked, L, ks, seeds=(0,), **train_kwargs):
    """train_echo for every k in ks and every seed.

    Returns a dict mapping k to a list of EchoRun (one per seed).
    """
    return {k: [train_echo(rnn_forward, rnn_backward_chunked, L, k, seed=s, **train_kwargs) for s in seeds]
            for k in ks}


def print_echo_runs(runs, learned=0.95):
    """Print the accuracy of every run of an echo_sweep, then what the runs show, in one sentence.

    runs: dict k -> list of EchoRun (from echo_sweep), all with the same delay L.
    learned: the accuracy from which a run counts as having learned the echo.
    The sentence is computed from these runs, so it holds on the machine that
    ran them (training amplifies the rounding differences between BLAS
    kernels: another machine prints other accuracies).
    """
    L = next(iter(runs.values()))[0].L
    for k, rs in sorted(runs.items()):
        print(f"L = {L}, k = {k:2d}: accuracy on fresh streams " + ", ".join(f"{r.accuracy:.3f}" for r in rs))
    print(f"(guessing gives 0.50; a run counts as having learned the echo from {learned:.2f} on)")
    parts = []
    for k, rs in sorted(runs.items()):
        acc = np.mean([r.accuracy for r in rs])
        where = "k > L" if k > L else ("k = L" if k == L else "k < L")
        verdict = "learned" if acc >= learned else "not learned"
        parts.append(f"k = {k} ({where}): {verdict} ({acc:.3f})")
    print("What this run shows: " + "; ".join(parts) + ".")


def smooth(values, width=50):
    """Running mean over `width` entries (shorter at the start): array of the same shape as values (M,)."""
    values = np.asarray(values, dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - width)
    return (csum[idx] - csum[lo]) / (idx - lo)


def plot_echo_runs(runs, ax=None, width=50):
    """Smoothed training loss of every run in a sweep, one colour per k.

    runs: dict k -> list of EchoRun (from echo_sweep). The dashed line is ln 2,
    the loss of guessing. Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.5))
    for i, (k, rs) in enumerate(sorted(runs.items())):
        for j, r in enumerate(rs):
            ax.plot(smooth(r.losses, width), color=f"C{i}", alpha=0.9,
                    label=f"k = {k}: accuracy {np.mean([q.accuracy for q in rs]):.2f}" if j == 0 else None)
    ax.axhline(np.log(2), color="gray", ls="--", lw=1)
    ax.text(0, np.log(2), "  guessing (ln 2)", va="bottom", color="gray", fontsize=8)
    L = next(iter(runs.values()))[0].L
    S = {r.steps_per_update for rs in runs.values() for r in rs}
    per_update = (f"{S.pop()} steps per update for every k" if len(S) == 1 and None not in S
                  else "one chunk of k steps per update")
    ax.set(xlabel=f"update ({per_update})", ylabel="training loss (smoothed)",
           title=f"Delayed echo, L = {L}: chunked TBPTT with several k")
    ax.legend(fontsize=8)
    return ax


def load_precomputed_sweep():
    """The longer sweep shipped in bpttlab/data/delayed_echo_sweep.json (made by
    benchmarks/delayed_echo_sweep.py with the reference functions): a dict with
    "settings", "seeds" and "results", a list of {"L", "k", "accuracy": [one per seed]}.
    """
    import json
    from pathlib import Path
    return json.loads((Path(__file__).parent / "data" / "delayed_echo_sweep.json").read_text())


def sweep_fingerprint(rnn_forward, rnn_backward_chunked, sweep, row=0):
    """The mean training loss of the first sweep["settings"]["fingerprint_updates"] updates of one row
    of the precomputed sweep (its first seed): a float.

    Unlike the final accuracy, which thousands of updates make depend on the
    machine's BLAS kernel, this early part of training is the same on every
    machine to about 1e-12 (benchmarks/numeric_spread.py measures it), so it
    shows that the shipped rows come from this code, data and settings.
    """
    s, r = sweep["settings"], sweep["results"][row]
    run = train_echo(rnn_forward, rnn_backward_chunked, r["L"], r["k"], seed=sweep["seeds"][0],
                     updates=s["fingerprint_updates"], H=s["H"], N=s["N"], lr=s["lr"],
                     steps_per_update=r.get("steps_per_update"))
    return float(np.mean(run.losses))


def sweep_table(sweep):
    """The precomputed sweep as a text table (one line per L and k): a str."""
    lines = [f"PRECOMPUTED by {sweep['generated_by']} ({sweep['settings']['updates']} updates, "
             f"seeds {sweep['seeds']}; chance = 0.50)",
             f"(computed with {sweep['machine']}; rows that have not converged come out differently with "
             "other BLAS kernels)" if "machine" in sweep else "(the BLAS kernel was not recorded)",
             f"{'L':>3} {'k':>3} {'S':>4}   {'accuracy per seed':<24} k vs L   (S: steps per update)"]
    for row in sweep["results"]:
        L, k = row["L"], row["k"]
        S = row.get("steps_per_update", k)            # sweeps made before S existed: one chunk per update
        where = "k > L" if k > L else ("k = L" if k == L else "k < L")
        lines.append(f"{L:>3} {k:>3} {S:>4}   {'  '.join(f'{a:.2f}' for a in row['accuracy']):<24} {where}")
    return "\n".join(lines)


def sweep_summary(sweep, learned=0.9):
    """What the precomputed sweep says, as sentences computed from its numbers: a str.

    Groups the runs by k against L (k > L, k = L, k < L) and gives the range of
    their accuracies and how many reached `learned` (chance is 0.5).
    """
    groups = {"k >= L + 1": lambda k, L: k > L, "k = L": lambda k, L: k == L, "k < L": lambda k, L: k < L}
    lines = []
    for name, belongs in groups.items():
        accs = [a for row in sweep["results"] if belongs(row["k"], row["L"]) for a in row["accuracy"]]
        if accs:
            lines.append(f"{name}: accuracy {min(accs):.2f} to {max(accs):.2f}; "
                         f"{sum(a >= learned for a in accs)} of {len(accs)} runs reach {learned:.2f}")
    return "\n".join(lines)
