"""A small character-level RNN language model, trained with full or truncated BPTT.

Legend: N batch size, T time steps, V vocabulary size (the input is one-hot,
so the input size D equals V), H hidden size, k truncation (chunk) length.

The model reads one symbol per step and predicts the next one:

    h_t      = tanh(x_t @ Wx + h_{t-1} @ Wh + b)      x_t one-hot, shape (N, V); h_{-1} = 0
    scores_t = h_t @ Wy + by                          shape (N, V)
    loss     = temporal_softmax_loss(scores, y)        y[:, t] = the symbol after x_t

Training data are embedded Reber strings (bpttlab.reber). A batch holds N
whole strings of the same length, so every sequence starts at its own B with
h_{-1} = 0 and no padding is needed. The gradient is clipped to a global norm
(Pascanu, Mikolov & Bengio 2013) and Adam (Kingma & Ba 2015) takes the step.

Every function that needs the RNN takes the student's functions as
arguments (rnn_forward, rnn_backward, rnn_backward_chunked, clip_grad_norm,
temporal_softmax_loss); this module contains no graded code.
"""
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from tqdm.auto import tqdm

from . import reber
from .delayed_echo import Adam


@dataclass(frozen=True)
class RNNFunctions:
    """The functions the language model is built from (contract signatures).

    rnn_forward, rnn_backward, rnn_backward_chunked, clip_grad_norm and
    temporal_softmax_loss, as defined in the notebooks.
    """
    rnn_forward: object
    rnn_backward: object
    rnn_backward_chunked: object
    clip_grad_norm: object
    temporal_softmax_loss: object


def one_hot(indices, V):
    """One-hot rows: indices int array of shape (N, T) -> float array of shape (N, T, V)."""
    indices = np.asarray(indices)
    return (indices[..., None] == np.arange(V)).astype(np.float64)


def init_params(V, H, seed):
    """Initial weights of the language model, drawn from np.random.default_rng(seed).

    Returns a dict: Wx (V, H), Wh (H, H), b (H,), Wy (H, V), by (V,). Wx and Wy
    are Gaussian with standard deviation 1/sqrt(fan-in) (1 for Wx, whose input
    is one-hot), Wh is a random orthogonal matrix times 0.9 (spectral radius
    0.9: gradients neither explode nor die at once), biases are 0.
    """
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    return {"Wx": rng.standard_normal((V, H)), "Wh": 0.9 * q * np.sign(np.diag(r)), "b": np.zeros(H),
            "Wy": rng.standard_normal((H, V)) / np.sqrt(H), "by": np.zeros(V)}


def inputs_and_targets(strings):
    """Input and target indices of equally long strings (step t reads symbol t, predicts symbol t+1).

    strings: list of N strings of one length T + 1.
    Returns x_idx, y: int arrays of shape (N, T).
    """
    lengths = {len(s) for s in strings}
    if len(lengths) != 1:
        raise ValueError(f"a batch needs strings of one length; got lengths {sorted(lengths)}")
    codes = np.stack([reber.encode(s) for s in strings])          # (N, T + 1)
    return codes[:, :-1], codes[:, 1:]


def forward_scores(fns, params, x_idx):
    """Run the model over a batch: scores of shape (N, T, V) and the RNN's sequence cache.

    fns: RNNFunctions; params: dict of init_params; x_idx: int array of shape (N, T).
    """
    V, H = params["Wx"].shape
    h, cache = fns.rnn_forward(one_hot(x_idx, V), np.zeros((len(x_idx), H)),
                               params["Wx"], params["Wh"], params["b"])
    return h @ params["Wy"] + params["by"], cache


def loss_and_gradients(fns, params, x_idx, y, k=None):
    """Loss of one batch and the gradient of every weight, by full (k=None) or chunked BPTT.

    Inputs:
    - fns: RNNFunctions; params: dict of init_params
    - x_idx, y: int arrays of shape (N, T), inputs and next-symbol targets
    - k: None for full BPTT (rnn_backward), or the chunk length of rnn_backward_chunked

    Returns (loss, grads): loss a float (summed over steps, averaged over the
    batch), grads a dict with the keys and shapes of params.
    """
    scores, cache = forward_scores(fns, params, x_idx)
    loss, dscores = fns.temporal_softmax_loss(scores, y)
    h = cache[4]                                                   # (N, T, H), from the sequence cache
    H, V = params["Wy"].shape
    dWy = h.reshape(-1, H).T @ dscores.reshape(-1, V)              # scores = h @ Wy + by -> dWy
    dby = dscores.sum(axis=(0, 1))                                 # -> dby
    dh = dscores @ params["Wy"].T                                  # -> dL/dh_t from the output at step t
    if k is None:
        _, _, dWx, dWh, db = fns.rnn_backward(dh, cache)
    else:
        _, _, dWx, dWh, db = fns.rnn_backward_chunked(dh, cache, k)
    return float(loss), {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}


def _by_length(strings):
    """Group strings by length: dict length -> list of strings, in the order of first appearance."""
    groups = {}
    for s in strings:
        groups.setdefault(len(s), []).append(s)
    return groups


class LengthBatches:
    """Batches of N equally long strings drawn from a fixed pool, with a seed.

    A batch is made by drawing one string of the pool uniformly (so lengths
    come with their frequency in the data) and then N strings of that length
    (with replacement).
    """

    def __init__(self, strings, N, seed):
        if not strings:
            raise ValueError("the pool of strings is empty")
        self.N = N
        self.rng = np.random.default_rng(seed)
        self.lengths = np.array([len(s) for s in strings])
        self.codes = {length: np.stack([reber.encode(s) for s in group])      # (n, length), encoded once
                      for length, group in _by_length(strings).items()}

    def next(self):
        """x_idx, y: int arrays of shape (N, T) for a random length T + 1 of the pool."""
        codes = self.codes[self.lengths[self.rng.integers(len(self.lengths))]]
        picks = codes[self.rng.integers(len(codes), size=self.N)]             # (N, T + 1)
        return picks[:, :-1], picks[:, 1:]


@lru_cache(maxsize=None)
def _allowed(string):
    """reber.legal_next(string), computed once per string (read-only array (T, V))."""
    allowed = reber.legal_next(string)
    allowed.flags.writeable = False
    return allowed


def step_correct(fns, params, group):
    """Which steps the model gets right, for equally long embedded Reber strings.

    A step is right when the m symbols with the highest scores are exactly the
    m symbols the grammar allows next (m is 1 or 2), the criterion of
    Hochreiter & Schmidhuber 1997; at the long-range step (m = 1) this means
    the top score goes to the second symbol of the string.

    group: list of n strings of one length T + 1.
    Returns a bool array of shape (n, T).
    """
    x_idx, _ = inputs_and_targets(group)
    scores, _ = forward_scores(fns, params, x_idx)              # (n, T, V)
    allowed = np.stack([_allowed(s) for s in group])          # (n, T, V)
    m = allowed.sum(axis=2, keepdims=True)                      # how many symbols are legal
    rank = np.argsort(np.argsort(-scores, axis=2), axis=2)     # 0 = highest score
    return np.all((rank < m) == allowed, axis=2)


def evaluate(fns, params, strings):
    """Accuracies of the model on embedded Reber strings (criterion of step_correct).

    Returns a dict of floats in [0, 1]:
    - "local": share of right steps among all steps except the long-range one
    - "long_range": share of strings whose second-to-last symbol (it must
      equal the second symbol) gets the top score; chance is 1/2
    - "string": share of strings in which every step is right
    """
    right_local = n_local = right_long = right_string = 0
    for length, group in _by_length(strings).items():
        right = step_correct(fns, params, group)                   # (n, T)
        t_long = reber.long_range_step(length)
        local = np.delete(right, t_long, axis=1)
        right_local += local.sum()
        n_local += local.size
        right_long += right[:, t_long].sum()
        right_string += right.all(axis=1).sum()
    return {"local": float(right_local / n_local), "long_range": float(right_long / len(strings)),
            "string": float(right_string / len(strings))}


def long_range_by_length(fns, params, strings):
    """Long-range accuracy for each string length.

    Returns (lengths, accuracy, counts): int array (M,) of the lengths present,
    sorted; float array (M,), the share of strings of that length whose
    second-to-last symbol gets the top score; int array (M,), how many strings.
    """
    groups = _by_length(strings)
    lengths = np.array(sorted(groups))
    accuracy = np.array([step_correct(fns, params, groups[n])[:, reber.long_range_step(n)].mean()
                         for n in lengths])
    return lengths, accuracy, np.array([len(groups[n]) for n in lengths])


@dataclass
class LMRun:
    """What train_language_model returns."""
    k: object                   # None (full BPTT) or the chunk length
    seed: int
    losses: np.ndarray          # (updates,) training loss per symbol of every update
    checkpoints: list           # update index of every evaluation
    history: list               # evaluate() results at those updates
    params: dict
    seconds: float
    metrics: dict               # the last evaluation


def train_language_model(fns, train_strings, test_strings, *, k=None, H=32, N=32, updates=1500,
                         lr=1e-2, max_norm=1.0, seed=0, eval_every=250, progress=True, desc=None):
    """Train the language model on embedded Reber strings with full (k=None) or chunked BPTT.

    Inputs:
    - fns: RNNFunctions (the notebook's functions)
    - train_strings, test_strings: lists of embedded Reber strings
    - k: None for full BPTT, or the chunk length for rnn_backward_chunked
    - H, N, updates, lr, max_norm: hidden size, batch size, Adam steps, step
      size, clipping threshold of the global gradient norm
    - seed: seeds the weights (seed) and the order of batches (seed + 1)
    - eval_every: evaluate on test_strings every that many updates (and at the end)
    - progress: show a tqdm progress bar; desc: its label

    Returns an LMRun; its losses are per symbol (the batch loss divided by T).
    """
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ValueError(f"k must be None (full BPTT) or a whole number >= 1; got {k!r}")
    for name, value in (("updates", updates), ("eval_every", eval_every), ("H", H), ("N", N)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1; got {value!r}")
    start = time.perf_counter()
    params = init_params(len(reber.VOCAB), H, seed)
    batches = LengthBatches(train_strings, N, seed + 1)
    adam = Adam(lr=lr)
    losses = np.empty(updates)
    checkpoints, history = [], []
    bar = tqdm(range(updates), desc=desc or ("full BPTT" if k is None else f"chunked BPTT, k = {k}"),
               disable=not progress, mininterval=0.5)
    for i in bar:
        x_idx, y = batches.next()
        loss, grads = loss_and_gradients(fns, params, x_idx, y, k)
        grads, _ = fns.clip_grad_norm(grads, max_norm)
        params = adam.step(params, grads)
        losses[i] = loss / x_idx.shape[1]
        if (i + 1) % eval_every == 0 or i + 1 == updates:
            checkpoints.append(i + 1)
            history.append(evaluate(fns, params, test_strings))
            bar.set_postfix(long_range=f"{history[-1]['long_range']:.2f}", refresh=False)
    return LMRun(k=k, seed=seed, losses=losses, checkpoints=checkpoints, history=history, params=params,
                 seconds=time.perf_counter() - start, metrics=history[-1])


def next_symbol_probabilities(scores):
    """Probabilities of the next symbol from scores of shape (..., V): exp(s - max) / sum, same shape."""
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sample_strings(fns, params, n, seed, max_len=60):
    """Let the model write n strings: start from B, draw each next symbol from its probabilities.

    A string ends at its second E (an embedded Reber string has exactly two)
    or after max_len symbols. Draws from np.random.default_rng(seed).
    Returns a list of n strings; check them with reber.is_embedded_reber.
    """
    rng = np.random.default_rng(seed)
    V, H = params["Wx"].shape
    h = np.zeros((n, H))
    current = np.full(n, reber.INDEX["B"])
    written = [["B"] for _ in range(n)]
    ends = np.zeros(n, dtype=int)                                   # E's written so far
    for _ in range(max_len - 1):
        hs, _ = fns.rnn_forward(one_hot(current[:, None], V), h, params["Wx"], params["Wh"], params["b"])
        h = hs[:, 0]                                                # (n, H), the state after `current`
        p = next_symbol_probabilities(h @ params["Wy"] + params["by"])
        u = rng.random((n, 1))
        current = np.minimum((u > np.cumsum(p, axis=1)).sum(axis=1), V - 1)   # inverse-CDF draw
        for i in np.flatnonzero(ends < 2):
            written[i].append(reber.VOCAB[current[i]])
        ends += current == reber.INDEX["E"]
        if np.all(ends >= 2):
            break
    return ["".join(w) for w in written]


def run_label(run):
    """'full BPTT' or 'chunks of k = ...' for an LMRun."""
    return "full BPTT" if run.k is None else f"chunked, k = {run.k}"


def plot_training(runs, axes=None, width=50):
    """Training loss (smoothed) and long-range test accuracy of several runs, side by side.

    runs: list of LMRun. Left: loss per symbol; right: long-range accuracy at
    every evaluation (the local accuracy is in print_comparison). Returns the figure.
    """
    import matplotlib.pyplot as plt

    from .delayed_echo import smooth
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for i, run in enumerate(runs):
        axes[0].plot(smooth(run.losses, width), color=f"C{i}", label=run_label(run))
        axes[1].plot(run.checkpoints, [m["long_range"] for m in run.history], "o-", color=f"C{i}",
                     label=run_label(run))
    top = max(np.max(smooth(run.losses, width)[len(run.losses) // 10:]) for run in runs)
    axes[0].set(xlabel="update", ylabel="loss per symbol (smoothed)", ylim=(0.3, 1.15 * top),
                title="Training loss (the first updates are off the top)")
    axes[1].axhline(0.5, color="gray", lw=1, ls=":")
    axes[1].text(axes[1].get_xlim()[1], 0.5, "chance ", ha="right", va="bottom", color="gray", fontsize=8)
    axes[1].set(xlabel="update", ylabel="long-range accuracy (test)", ylim=(0.3, 1.03),
                title="Predicting the second-to-last symbol")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8, loc="upper left")
    axes[0].figure.tight_layout()
    return axes[0].figure


def plot_long_range_by_length(fns, runs, strings, ax=None, min_count=20):
    """Long-range accuracy against string length for several runs.

    For a chunked run with chunk length k, the dotted line marks length k + 2:
    in longer strings the second symbol (step 1) and the step that needs it
    (length - 3) never share a chunk, so no gradient links them. Lengths with
    fewer than min_count strings are left out (their accuracy is mostly noise). Returns the Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    for i, run in enumerate(runs):
        lengths, acc, counts = long_range_by_length(fns, run.params, strings)
        keep = counts >= min_count                                  # skip lengths with too few strings
        ax.plot(lengths[keep], acc[keep], "o-", color=f"C{i}", label=run_label(run))
        if run.k is not None:
            ax.axvline(run.k + 2 + 0.5, color=f"C{i}", ls=":", lw=1.5)
    ax.axhline(0.5, color="gray", lw=1, ls=":")
    ax.set(xlabel="string length (symbols)", ylabel="long-range accuracy", ylim=(0.3, 1.03),
           title="Which strings' long-range symbol is predicted")
    ax.legend(fontsize=8)
    return ax


def print_samples(fns, params, n=8, seed=0):
    """Let the model write n strings (sample_strings) and print each with a mark: in the grammar or not.

    Returns the share of samples that are embedded Reber strings.
    """
    samples = sample_strings(fns, params, n, seed)
    valid = [reber.is_embedded_reber(s) for s in samples]
    for s, ok in zip(samples, valid):
        print(("\N{CHECK MARK} " if ok else "\N{BALLOT X} ") + s)
    print(f"{sum(valid)} of {n} samples are embedded Reber strings")
    return sum(valid) / n


def print_comparison(runs):
    """One line per LMRun: local, long-range and whole-string accuracy on the test strings, and seconds."""
    print(f"{'training':<18} {'local':>7} {'long-range':>11} {'string':>7} {'seconds':>8}")
    for run in runs:
        m = run.metrics
        print(f"{run_label(run):<18} {m['local']:7.3f} {m['long_range']:11.3f} {m['string']:7.3f} "
              f"{run.seconds:8.1f}")


def plot_length_histogram(strings, ks=(6, 8, 10), ax=None):
    """Histogram of string lengths; a dotted line after length k + 2 for each k in ks.

    Strings left of a line are those whose second symbol and second-to-last
    prediction fall into the first chunk [0, k). Returns the Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3))
    lengths = np.array([len(s) for s in strings])
    values, counts = np.unique(lengths, return_counts=True)
    ax.bar(values, counts / len(strings), color="C7")
    for i, k in enumerate(ks):
        share = np.mean(lengths <= k + 2)
        ax.axvline(k + 2.5, color=f"C{i + 1}", ls=":", lw=1.5,
                   label=f"k = {k}: {share:.0%} of strings have length <= k + 2")
    ax.set(xlabel="string length (symbols)", ylabel="share of strings", xlim=(values.min() - 1, 31),
           title="Lengths of embedded Reber strings")
    ax.legend(fontsize=8)
    return ax


def plot_predictions(fns, runs, string):
    """What each model predicts at every step of one string: next-symbol probabilities as a heatmap.

    runs: list of LMRun; string: an embedded Reber string. Rows are the V
    symbols, columns the steps (labelled by the symbol read); dots mark the
    symbols the grammar allows; the box marks the long-range step. Returns the figure.
    """
    import matplotlib.pyplot as plt
    x_idx, _ = inputs_and_targets([string])
    allowed = reber.legal_next(string)                             # (T, V)
    T, V = allowed.shape
    t_long = reber.long_range_step(len(string))
    fig, axes = plt.subplots(len(runs), 1, figsize=(0.42 * T + 2, 2.2 * len(runs)), squeeze=False,
                             gridspec_kw={"hspace": 0.6})
    for ax, run in zip(axes[:, 0], runs):
        scores, _ = forward_scores(fns, run.params, x_idx)
        p = next_symbol_probabilities(scores[0])                    # (T, V)
        im = ax.imshow(p.T, cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ts, vs = np.nonzero(allowed)
        ax.plot(ts, vs, "o", color="C1", ms=3)
        ax.add_patch(plt.Rectangle((t_long - 0.5, -0.5), 1, V, fill=False, ec="C3", lw=2))
        ax.set_yticks(range(V), reber.VOCAB)
        ax.set_xticks(range(T), list(string[:-1]))
        ax.set_title(f"{run_label(run)}: p(next symbol) after reading each symbol", fontsize=9)
    axes[-1, 0].set_xlabel("symbol read at step t (orange dots: allowed next symbols; red box: long-range step)")
    fig.colorbar(im, ax=axes[:, 0].tolist(), fraction=0.02, label="probability")
    return fig


def print_length_shares(strings, ks=(6, 8, 10)):
    """Print the shortest length, and for each k the share of strings whose long-range dependency fits in
    the first chunk of k steps (length <= k + 2)."""
    lengths = np.array([len(s) for s in strings])
    print(f"shortest string: {lengths.min()} symbols")
    for k in ks:
        print(f"k = {k:2d}: strings of length <= {k + 2}: {np.mean(lengths <= k + 2):.0%}")


def print_what_the_run_shows(run, test_strings):
    """One sentence computed from an LMRun: how soon the local rules and the long-range symbol are learned.

    Training amplifies the rounding differences between BLAS kernels, so another
    machine prints other numbers; the sentence is true for this run.
    """
    first, last = run.history[0], run.metrics
    n = len(test_strings)
    print(f"What this run shows: after {run.checkpoints[0]} updates the local accuracy is {first['local']:.3f} and "
          f"the long-range accuracy {first['long_range']:.3f}; after {run.checkpoints[-1]} updates they are "
          f"{last['local']:.3f} and {last['long_range']:.3f} (the long-range symbol of "
          f"{round(last['long_range'] * n)} of the {n} test strings).")


def load_precomputed_sweep():
    """The longer run shipped in bpttlab/data/reber_lm_sweep.json (made by benchmarks/reber_lm_sweep.py with
    the reference functions): a dict with "seeds", "updates", "settings", "machine" and "results", one per k."""
    import json
    from pathlib import Path
    return json.loads((Path(__file__).parent / "data" / "reber_lm_sweep.json").read_text())


def sweep_table(sweep):
    """The precomputed sweep as a text table, mean [min, max] over the seeds: a str."""
    def cell(values):
        v = np.array([np.nan if x is None else x for x in values], dtype=float)
        if not v.size or not np.all(np.isfinite(v)):
            return "(none)"
        return f"{np.mean(v):.2f} [{np.min(v):.2f}, {np.max(v):.2f}]"
    last = str(sweep["updates"][-1])
    heads = [f"long-range, {u}" for u in sweep["updates"]] + [f"{last}: len <= k+2", f"{last}: longer",
                                                               f"local, {last}"]
    seeds = sweep["seeds"]
    lines = [f"PRECOMPUTED by {sweep['generated_by']} (seeds {seeds[0]}-{seeds[-1]}: mean [min, max] over the "
             f"seeds; chance = 0.50 for long-range)",
             f"(computed with {sweep['machine']}; other BLAS kernels give other numbers for runs that have not "
             "converged)",
             f"{'k':>5} | " + " | ".join(f"{h:>18}" for h in heads)]
    for row in sweep["results"]:
        cells = [cell(row["long_range"][str(u)]) for u in sweep["updates"]]
        cells += [cell(row["long_range_fits"]), cell(row["long_range_longer"]), cell(row["local"][last])]
        lines.append(f"{(row['k'] or 'full')!s:>5} | " + " | ".join(f"{c:>18}" for c in cells))
    return "\n".join(lines)
