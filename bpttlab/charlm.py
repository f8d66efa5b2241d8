"""Character-level language models built from the notebook's functions: a tanh RNN and an LSTM.

Legend: N batch size, T time steps, V vocabulary size, H hidden size.

    x_ids (N, T) --(rows of Wx: the one-hot x_t @ Wx)--> recurrent cell --> h (N, T, H)
    scores = h @ Wy + by (temporal_affine_forward)                          (N, T, V)
    loss = temporal_softmax_loss(scores, y_ids)

A `LanguageModel` bundles the weights with three functions of the same shape
for both cells, so that one training loop (written in notebook 06) serves both:

    loss_and_grads(params, x_ids, y_ids, state) -> (loss, grads, state)
    run(params, x_ids, state) -> (scores (N, T, V), state)       forward only
    zero_state(N) -> the state before the first symbol

where `state` is h (N, H) for the RNN and the pair (h, c) for the LSTM. Every
function here takes the student's (or the provided) functions as arguments:
this module holds no reference code of a graded function. Inputs are given to
the recurrent functions as one-hot vectors (D = V), which is exactly what
picking rows of Wx computes.
"""
from dataclasses import dataclass

import numpy as np

from . import reber
from .delayed_echo import Adam  # noqa: F401  (re-exported: the notebook's optimiser)


def one_hot(ids, V):
    """One-hot rows: int array of shape (N, T) -> float array of shape (N, T, V)."""
    ids = np.asarray(ids)
    return (ids[..., None] == np.arange(V)).astype(np.float64)


def init_rnn_params(V, H, seed):
    """Initial weights of the tanh-RNN language model, from np.random.default_rng(seed).

    Returns a dict: Wx (V, H) standard normal (one row per symbol: pre-activations
    of size about 1), Wh (H, H) a random orthogonal matrix times 0.9 (spectral
    radius 0.9), b (H,) zeros, Wy (H, V) normal with standard deviation 1/sqrt(H), by (V,) zeros.
    """
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    return {"Wx": rng.standard_normal((V, H)), "Wh": 0.9 * q * np.sign(np.diag(r)), "b": np.zeros(H),
            "Wy": rng.standard_normal((H, V)) / np.sqrt(H), "by": np.zeros(V)}


def init_lstm_params(V, H, seed):
    """Initial weights of the LSTM language model (gate blocks i, f, g, o), from np.random.default_rng(seed).

    Returns a dict: Wx (V, 4H) standard normal, Wh (H, 4H) four random
    orthogonal blocks times 0.9, b (4H,) zeros except the forget block, 1 (the
    cell keeps most of its content at first: Gers, Schmidhuber & Cummins 2000;
    Jozefowicz, Zaremba & Sutskever 2015), Wy (H, V) normal with standard deviation 1/sqrt(H), by (V,) zeros.
    """
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(4):
        q, r = np.linalg.qr(rng.standard_normal((H, H)))
        blocks.append(0.9 * q * np.sign(np.diag(r)))
    b = np.zeros(4 * H)
    b[H:2 * H] = 1.0
    return {"Wx": rng.standard_normal((V, 4 * H)), "Wh": np.concatenate(blocks, axis=1), "b": b,
            "Wy": rng.standard_normal((H, V)) / np.sqrt(H), "by": np.zeros(V)}


@dataclass
class LanguageModel:
    """A recurrent language model: its weights and the functions that run it (see the module docstring).

    name: "RNN" or "LSTM"; params: dict of weights (replaced by the training loop at every update).
    """
    name: str
    params: dict
    loss_and_grads: object
    run: object
    zero_state: object

    def n_weights(self):
        """How many numbers the weights hold."""
        return int(sum(p.size for p in self.params.values()))


def rnn_language_model(lm_loss_and_grads, rnn_forward, temporal_affine_forward, H=32, seed=0, V=len(reber.VOCAB)):
    """The tanh-RNN language model: the student's lm_loss_and_grads for training, their forward pieces for running.

    Inputs: the notebook's functions; H hidden units; seed for init_rnn_params; V vocabulary size.
    Returns a LanguageModel whose state is h (N, H).
    """
    def run(params, x_ids, h0):
        h, _ = rnn_forward(one_hot(x_ids, V), h0, params["Wx"], params["Wh"], params["b"])
        scores, _ = temporal_affine_forward(h, params["Wy"], params["by"])
        return scores, h[:, -1]

    return LanguageModel("RNN", init_rnn_params(V, H, seed), lm_loss_and_grads, run,
                         lambda N: np.zeros((N, H)))


def lstm_language_model(lstm_forward, lstm_backward, temporal_affine_forward, temporal_affine_backward,
                        temporal_softmax_loss, H=32, seed=0, V=len(reber.VOCAB)):
    """The same language model with an LSTM cell, assembled from the notebook's functions.

    Inputs: lstm_forward/lstm_backward (notebook 05, provided), the student's
    temporal_affine_forward/backward and temporal_softmax_loss; H hidden units;
    seed for init_lstm_params; V vocabulary size. Returns a LanguageModel whose
    state is the pair (h, c) of arrays of shape (N, H).
    """
    def run(params, x_ids, state):
        h0, c0 = state
        h, cache = lstm_forward(one_hot(x_ids, V), h0, c0, params["Wx"], params["Wh"], params["b"])
        scores, _ = temporal_affine_forward(h, params["Wy"], params["by"])
        return scores, (h[:, -1], cache[6][:, -1])                 # cache[6]: the cell states c (N, T, H)

    def loss_and_grads(params, x_ids, y_ids, state):
        h0, c0 = state
        h, lstm_cache = lstm_forward(one_hot(x_ids, V), h0, c0, params["Wx"], params["Wh"], params["b"])
        out, out_cache = temporal_affine_forward(h, params["Wy"], params["by"])
        loss, dout = temporal_softmax_loss(out, y_ids)
        dh_out, dWy, dby = temporal_affine_backward(dout, out_cache)
        _, _, _, dWx, dWh, db = lstm_backward(dh_out, lstm_cache)    # one-hot inputs: dWx needs no scatter
        grads = dict(Wx=dWx, Wh=dWh, b=db, Wy=dWy, by=dby)            # the keys of params
        return loss, grads, (h[:, -1].copy(), lstm_cache[6][:, -1].copy())

    return LanguageModel("LSTM", init_lstm_params(V, H, seed), loss_and_grads, run,
                         lambda N: (np.zeros((N, H)), np.zeros((N, H))))


# ------------------------------------------------------------------ measuring a model

def evaluate(model, stream, temporal_softmax_loss):
    """How well the model predicts a ReberStream (bpttlab.streams), read from the zero state in one pass.

    Returns a dict:
    - "loss": nats per symbol (temporal_softmax_loss of the whole stream divided by its length);
      "perplexity": exp(loss), the number of equally likely symbols the model hesitates between;
    - "local": share of steps (all but the long-range ones) where the symbols with the
      highest scores are exactly the m allowed ones (m = 1 or 2; Hochreiter & Schmidhuber 1997);
    - "long_range": share of long-range steps where the top score goes to the right
      symbol (the string's second one); a model that forgot it gets about 1/2;
    - "correct_long": bool array of shape (M,), that verdict for each long-range step.
    """
    x_ids, y_ids = stream.ids[None, :-1], stream.ids[None, 1:]           # one piece, N = 1
    scores, _ = model.run(model.params, x_ids, model.zero_state(1))      # (1, L - 1, V)
    loss, _ = temporal_softmax_loss(scores, y_ids)
    scores = scores[0]
    m = stream.allowed.sum(axis=1, keepdims=True)                        # (L - 1, 1) symbols allowed next
    rank = np.argsort(np.argsort(-scores, axis=1), axis=1)               # 0 = highest score
    right = np.all((rank < m) == stream.allowed, axis=1)                 # (L - 1,)
    local = np.ones(len(right), dtype=bool)
    local[stream.long_range] = False
    per_symbol = float(loss) / x_ids.shape[1]
    return {"loss": per_symbol, "perplexity": float(np.exp(per_symbol)), "local": float(right[local].mean()),
            "long_range": float(right[stream.long_range].mean()), "correct_long": right[stream.long_range]}


def long_range_by_distance(correct_long, distance, min_count=20):
    """Long-range accuracy for each distance: (distances (K,), accuracy (K,), counts (K,)).

    correct_long: bool array (M,) from evaluate; distance: int array (M,) (ReberStream.distance).
    Distances with fewer than min_count long-range steps are left out.
    """
    values, counts = np.unique(distance, return_counts=True)
    keep = counts >= min_count
    acc = np.array([correct_long[distance == d].mean() for d in values[keep]])
    return values[keep], acc, counts[keep]


@dataclass
class History:
    """What a training run recorded: per update, and at every evaluation on the test stream."""
    name: str
    k: int
    losses: list          # training loss per symbol of every update
    norms: list           # global gradient norm of every update, before clipping
    checkpoints: list     # update counts at which the model was evaluated
    evals: list           # evaluate() results at those updates
    seconds: float = 0.0  # CPU seconds of the whole run (time.process_time)

    @property
    def final(self):
        return self.evals[-1]

    def clipped_share(self, max_norm):
        """Share of updates whose gradient was clipped (norm above max_norm)."""
        return float(np.mean(np.asarray(self.norms) > max_norm))


def new_history(model, k):
    """An empty History for a run of `model` with windows of k steps."""
    return History(model.name, k, [], [], [], [])


def print_results(histories, best=None):
    """One line per run: test loss, perplexity, local and long-range accuracy, CPU seconds.

    best: (perfect, forgetful) losses from streams.best_losses, printed as two reference lines.
    """
    print(f"{'model':<16} {'loss/symbol':>11} {'perplexity':>10} {'local':>7} {'long-range':>10} {'CPU s':>6}")
    for hist in histories:
        m = hist.final
        print(f"{hist.name + f', k = {hist.k}':<16} {m['loss']:11.3f} {m['perplexity']:10.3f} {m['local']:7.3f} "
              f"{m['long_range']:10.3f} {hist.seconds:6.1f}")
    if best is not None:
        for label, loss in zip(("best possible", "forgets symbol 2"), best):
            print(f"{label:<16} {loss:11.3f} {np.exp(loss):10.3f}")


def plot_training(histories, best=None, width=50):
    """Three panels: training loss (smoothed), test perplexity, long-range accuracy, against updates.

    histories: list of History; best: (perfect, forgetful) losses (streams.best_losses),
    drawn as dotted lines. Returns the figure.
    """
    import matplotlib.pyplot as plt

    from .delayed_echo import smooth
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), layout="constrained")
    for i, hist in enumerate(histories):
        label = f"{hist.name}, k = {hist.k}"
        axes[0].plot(np.arange(1, len(hist.losses) + 1), smooth(hist.losses, width), color=f"C{i}", label=label)
        axes[1].plot(hist.checkpoints, [m["perplexity"] for m in hist.evals], "o-", color=f"C{i}", label=label)
        axes[2].plot(hist.checkpoints, [m["long_range"] for m in hist.evals], "o-", color=f"C{i}", label=label)
    if best is not None:
        for ax, transform in ((axes[0], float), (axes[1], np.exp)):
            ax.axhline(transform(best[0]), color="k", ls=":", lw=1, label="best possible")
            ax.axhline(transform(best[1]), color="gray", ls="--", lw=1, label="best if the second symbol is forgotten")
    top = max(np.max(smooth(h.losses, width)[len(h.losses) // 10:]) for h in histories)
    axes[0].set(xlabel="update", ylabel="nats per symbol", title="Training loss (smoothed)",
                ylim=(0.9 * best[0] if best else 0, 1.1 * top))
    axes[1].set(xlabel="update", ylabel="perplexity = exp(loss)", title="Test perplexity")
    axes[2].axhline(0.5, color="gray", ls=":", lw=1)
    axes[2].set(xlabel="update", ylabel="accuracy", ylim=(0.3, 1.03), title="Long-range symbol (test; chance 0.5)")
    for ax in axes:
        ax.legend(fontsize=7)
    return fig


def plot_long_range_by_distance(histories, stream, ax=None):
    """Long-range accuracy against the distance back to the symbol to repeat, one line per run.

    A dotted line at distance k - 1 for each window length k: only a dependency
    shorter than k can ever lie inside one window. Returns the Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
    for i, hist in enumerate(histories):
        d, acc, _ = long_range_by_distance(hist.final["correct_long"], stream.distance)
        ax.plot(d, acc, "o-", color=f"C{i}", label=f"{hist.name}, k = {hist.k}")
    for k in sorted({h.k for h in histories}):
        ax.axvline(k - 1 + 0.5, color="gray", ls=":", lw=1)
    ax.axhline(0.5, color="gray", lw=1, ls=":")
    ax.set(xlabel="distance (steps) back to the symbol to repeat", ylabel="long-range accuracy", ylim=(0.3, 1.03),
           title="Which dependencies the model learned (test stream)")
    ax.legend(fontsize=8)
    return ax


# ------------------------------------------------------------------ letting a model write

def next_symbol_probabilities(scores, temperature=1.0):
    """softmax(scores / temperature) over the last axis: same shape as scores (..., V).

    temperature < 1 sharpens the distribution (towards the top symbol), > 1 flattens it (towards uniform).
    """
    z = np.asarray(scores, dtype=np.float64) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))             # the largest becomes exp(0): no overflow
    return e / e.sum(axis=-1, keepdims=True)


def generate(model, n_symbols, temperature=1.0, seed=0, n=1, start="B"):
    """Let the model write: feed it `start`, then each symbol it picks, n_symbols times.

    temperature: a float > 0 (draw from softmax(scores / temperature)), 0 for
    greedy decoding (always the symbol with the highest score), or an array of
    shape (n,) with one temperature per writer. n parallel writers, drawing
    from np.random.default_rng(seed). Returns a list of n strings of
    len(start) + n_symbols symbols.
    """
    temps = np.broadcast_to(np.asarray(temperature, dtype=np.float64), (n,))
    if not np.all(temps >= 0):
        raise ValueError(f"temperature must be >= 0 (0 is greedy); got {temperature!r}")
    greedy = temps == 0
    rng = np.random.default_rng(seed)
    V = len(reber.VOCAB)
    prompt = np.tile(reber.encode(start), (n, 1))                 # (n, len(start))
    scores, state = model.run(model.params, prompt, model.zero_state(n))
    written = [prompt]
    for _ in range(n_symbols):
        last = scores[:, -1]                                      # (n, V) scores for the next symbol
        cdf = np.cumsum(next_symbol_probabilities(last, np.where(greedy, 1.0, temps)[:, None]), axis=1)
        pick = np.minimum((rng.random((n, 1)) > cdf).sum(axis=1), V - 1)    # inverse-CDF draw
        pick[greedy] = np.argmax(last[greedy], axis=1)
        written.append(pick[:, None])
        scores, state = model.run(model.params, pick[:, None], state)
    codes = np.concatenate(written, axis=1)
    return [reber.decode(row) for row in codes]


def split_strings(text):
    """Cut a written stream after every second E (an embedded Reber string has exactly two).

    Returns (pieces, rest): the complete pieces, and what follows the last one.
    """
    pieces, current, ends = [], [], 0
    for symbol in text:
        current.append(symbol)
        ends += symbol == "E"
        if ends == 2:
            pieces.append("".join(current))
            current, ends = [], 0
    return pieces, "".join(current)


def grammatical_share(texts):
    """Share of the complete pieces (split_strings) of the texts that are embedded Reber strings (nan if none)."""
    pieces = [p for t in texts for p in split_strings(t)[0]]
    return float(np.mean([reber.is_embedded_reber(p) for p in pieces])) if pieces else float("nan")


# ------------------------------------------------------------------ sentences computed from a run

def _first_reaching(history, level=0.9):
    """The first evaluation's update count at which long-range accuracy reached `level`, or None."""
    return next((c for c, m in zip(history.checkpoints, history.evals) if m["long_range"] >= level), None)


def _memory_verdict(accuracy):
    if accuracy >= 0.95:
        return "it has learned to carry the second symbol to the end of the string"
    if accuracy <= 0.65:
        return "hardly better than a guess: it has not (yet) learned to carry the second symbol"
    return "better than a guess, but it does not carry the second symbol reliably (yet)"


def describe_run(history, best):
    """Print what a training run shows, in sentences computed from its numbers (true for any run).

    history: a History; best: (perfect, forgetful) losses from streams.best_losses.
    """
    m = history.final
    print(f"After {history.checkpoints[-1]} updates with windows of k = {history.k}, the {history.name}:")
    print(f"- predicts exactly the allowed symbols at {m['local']:.1%} of the local steps;")
    print(f"- gives the top score to the right long-range symbol for {m['long_range']:.0%} of the test strings "
          f"(chance: 50%): {_memory_verdict(m['long_range'])};")
    print(f"- has a test perplexity of {m['perplexity']:.3f}, against {np.exp(best[0]):.3f} for a perfect model "
          f"and {np.exp(best[1]):.3f} for one that forgets the second symbol.")


def describe_comparison(rnn_history, lstm_history):
    """Print how two runs of the same budget compare, in sentences computed from their numbers."""
    runs = (rnn_history, lstm_history)
    for h in runs:
        first = _first_reaching(h)
        when = f"first at update {first}" if first else "at no evaluation of this run"
        print(f"{h.name}: long-range accuracy {h.final['long_range']:.0%} after {h.checkpoints[-1]} updates; "
              f"90% or more {when}.")
    per_update = [h.seconds / len(h.losses) for h in runs]
    print(f"CPU time per update (training and evaluation): {lstm_history.name} {1e3 * per_update[1]:.1f} ms, "
          f"{rnn_history.name} {1e3 * per_update[0]:.1f} ms, a ratio of {per_update[1] / per_update[0]:.1f}.")


# ------------------------------------------------------------------ the precomputed RNN vs LSTM sweep

def load_precomputed_sweep():
    """The sweep shipped in bpttlab/data/lm_rnn_vs_lstm_sweep.json (made by
    benchmarks/lm_rnn_vs_lstm_sweep.py with the reference functions): a dict with
    "generated_by", "settings", "seeds", "budgets", "results" (one entry per model, k and budget, with the
    fingerprint of its model and k: the mean training loss of the first updates of the first seed) and,
    when recorded, "machine" (numpy's BLAS kernel)."""
    import json
    from pathlib import Path
    return json.loads((Path(__file__).parent / "data" / "lm_rnn_vs_lstm_sweep.json").read_text())


def sweep_table(sweep):
    """The precomputed sweep as a text table: long-range accuracy per seed, and how many seeds reached 0.9."""
    s = sweep["settings"]
    lines = [f"PRECOMPUTED by {sweep['generated_by']}: N = {s['N']}, RNN H = {s['H_rnn']}, "
             f"LSTM H = {s['H_lstm']}, seeds {sweep['seeds']}",
             f"(computed with {sweep['machine']}; runs that have not converged come out differently with other "
             "BLAS kernels)" if "machine" in sweep else "(the BLAS kernel was not recorded)",
             f"{'model':<6} {'k':>3} {'updates':>8}   {'long-range accuracy per seed':<34} "
             f"{'seeds >= 0.9':>12} {'CPU ms/update':>14}"]
    for row in sweep["results"]:
        accs = " ".join(f"{a:.2f}" for a in row["long_range"])
        hits = sum(a >= 0.9 for a in row["long_range"])
        lines.append(f"{row['model']:<6} {row['k']:>3} {row['updates']:>8}   {accs:<34} "
                     f"{hits:>7} of {len(row['long_range'])} {row['cpu_ms_per_update']:>14.1f}")
    return "\n".join(lines)
