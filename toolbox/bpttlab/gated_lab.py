"""Experiments, a figure and a widget for gated cells (notebook 05), reusable by later notebooks.

Legend: N batch size, T time steps, D input size, H hidden size, L delay, k truncation
(chunk) length, rho spectral radius. LSTM gates in the contract's order i, f, g, o.

Going back one step, the tanh RNN multiplies dL/dh_t by diag(1 - h_t^2) Wh^T
(notebook 04); the LSTM's cell state is multiplied by the forget gate only,
dL/dc_{t-1} = dL/dc_t * f_t (plus what arrives through h), an elementwise
product with no weight matrix and no squashing derivative: with f near 1 the
gradient survives many steps (Hochreiter & Schmidhuber 1997; the forget gate
of Gers, Schmidhuber & Cummins 2000).

Every function that needs a network takes the student's functions as
arguments (rnn_forward, gradient_norms_through_time, lstm_forward,
lstm_step_backward, lstm_backward, ...); this module holds no graded code.
"""
import numpy as np

from . import delayed_echo, vanishing_lab


def one_blas_thread():
    """A context in which numpy's BLAS uses one thread, when threadpoolctl is installed (else no change).

    The matrices of these experiments are small: a second BLAS thread saves nothing, and on a
    machine whose cores are busy it makes every product wait for it (10 times slower measured
    at load 15 on 2 cores).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        from contextlib import nullcontext
        return nullcontext()
    return threadpool_limits(limits=1)


# ---------------------------------------------------------------- weights and inputs

def lstm_params(D, H, forget_bias=1.0, seed=0, input_scale=1.0):
    """LSTM weights: Wx (D, 4H), Wh (H, 4H), b (4H,), blocks i, f, g, o.

    Wx is Gaussian with standard deviation input_scale / sqrt(D), Wh with
    1 / sqrt(H); b is 0 except the forget gate's block, forget_bias
    (Jozefowicz, Zaremba & Sutskever 2015 recommend 1: start by remembering).
    Returns a dict with keys Wx, Wh, b.
    """
    rng = np.random.default_rng(seed)
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias
    return {"Wx": rng.normal(0.0, input_scale / np.sqrt(D), (D, 4 * H)),
            "Wh": rng.normal(0.0, 1.0 / np.sqrt(H), (H, 4 * H)), "b": b}


def echo_inputs(N, T, seed=0):
    """N streams of T random bits as inputs x (N, T, 1), +1.0 or -1.0: the delayed-echo task's inputs."""
    x, _, _, _ = delayed_echo.echo_batch(None, N, T, 1, np.random.default_rng(seed))
    return x


# ---------------------------------------------------------------- gradient norms through time

def lstm_state_gradient_norms(lstm_step_backward, cache, dh_last):
    """How the gradient of a loss on the last hidden state changes going back in time through an LSTM.

    Inputs:
    - lstm_step_backward: the student's function (dh_next, dc_next, step cache) -> (dx_t, dh_prev, dc_prev, ...)
    - cache: the sequence cache (x, h0, c0, Wx, Wh, gates, c, h) of lstm_forward, h of shape (N, T, H)
    - dh_last: array of shape (N, H), dL/dh_{T-1}; the loss depends on h_{T-1} only

    Returns a dict of arrays of shape (T,): "h"[s] = ||dL/dh_s|| and "c"[s] = ||dL/dc_s||
    (Frobenius norms over the batch; dL/dh_s holds c_s fixed, dL/dc_s holds h_s fixed),
    so "h"[T-1] = ||dh_last|| and "c"[T-1] = 0 (the loss does not see c_{T-1} directly).
    """
    x, Wx, Wh, gates, c, h = (cache[j] for j in (0, 3, 4, 5, 6, 7))     # (x, h0, c0, Wx, Wh, gates, c, h)
    T = h.shape[1]
    norms = {"h": np.empty(T), "c": np.empty(T)}
    dh_s, dc_s = dh_last, np.zeros(dh_last.shape)
    for s in range(T - 1, -1, -1):                # s = T-1 down to 0
        norms["h"][s], norms["c"][s] = np.linalg.norm(dh_s), np.linalg.norm(dc_s)
        if s > 0:                               # one step back through step s, from (h_s, c_s) to (h_{s-1}, c_{s-1})
            step = (x[:, s], h[:, s - 1], c[:, s - 1], Wx, Wh, gates[:, s], c[:, s])
            _, dh_s, dc_s, _, _, _ = lstm_step_backward(dh_s, dc_s, step)
    return norms


def rnn_norms(rnn_forward, gradient_norms_through_time, scale_to_spectral_radius, T=60, rho=1.0, H=32, N=8,
              seed=0):
    """||dL/dh_s|| / ||dL/dh_{T-1}|| of a tanh RNN on the delayed-echo inputs, indexed by distance T-1-s.

    The RNN (notebook 04): Wx standard normal (1, H), Wh = rho * orthogonal, b = 0,
    h0 = 0; inputs echo_inputs(N, T, seed); dh_last standard normal (N, H), drawn
    from seed + 1 (the same as lstm_norms uses). Returns an array of shape (T,).
    """
    x = echo_inputs(N, T, seed)
    rng = np.random.default_rng(seed + 1)
    dh_last = rng.standard_normal((N, H))
    Wx = rng.standard_normal((1, H))
    Wh = vanishing_lab.recurrent_matrix(scale_to_spectral_radius, H, rho, "orthogonal", seed)
    _, cache = rnn_forward(x, np.zeros((N, H)), Wx, Wh, np.zeros(H))
    return gradient_norms_through_time(dh_last, cache)[::-1] / np.linalg.norm(dh_last)


def lstm_norms(lstm_forward, lstm_step_backward, T=60, forget_bias=1.0, H=32, N=8, seed=0):
    """Gradient norms of an LSTM on the delayed-echo inputs, indexed by distance T-1-s.

    The LSTM: lstm_params(1, H, forget_bias, seed), h0 = c0 = 0; the same inputs
    and dh_last as rnn_norms. Returns a dict with "h" (T,) = ||dL/dh_s|| and
    "c" (T,) = ||dL/dc_s||, divided by ||dL/dh_{T-1}||, and "forget_mean", the
    average forget gate over the run (a float).
    """
    x = echo_inputs(N, T, seed)
    dh_last = np.random.default_rng(seed + 1).standard_normal((N, H))
    p = lstm_params(1, H, forget_bias, seed)
    _, cache = lstm_forward(x, np.zeros((N, H)), np.zeros((N, H)), p["Wx"], p["Wh"], p["b"])
    norms = lstm_state_gradient_norms(lstm_step_backward, cache, dh_last)
    scale = np.linalg.norm(dh_last)
    return {"h": norms["h"][::-1] / scale, "c": norms["c"][::-1] / scale,
            "forget_mean": float(np.asarray(cache[5])[..., H:2 * H].mean())}


def norm_comparison(rnn_forward, gradient_norms_through_time, scale_to_spectral_radius, lstm_forward,
                    lstm_step_backward, T=60, forget_bias=1.0, rho=1.0, H=32, N=8, seed=0):
    """Gradient norms through time for a tanh RNN and an LSTM of the same size on the same inputs.

    Both read the same N streams of random bits (the delayed-echo inputs, D = 1)
    from zero states and have a loss on their last hidden state with the same
    gradient dh_last (rnn_norms and lstm_norms).

    Returns a dict with "distance" (T,) = 0..T-1 (that is T-1-s) and arrays of
    shape (T,) indexed by distance, each divided by ||dh_last||:
    "rnn" (||dL/dh_s||), "lstm" (||dL/dh_s||), "lstm_cell" (||dL/dc_s||);
    "forget_mean", the LSTM's average forget gate; and the settings T, forget_bias, rho.
    """
    rnn = rnn_norms(rnn_forward, gradient_norms_through_time, scale_to_spectral_radius, T, rho, H, N, seed)
    lstm = lstm_norms(lstm_forward, lstm_step_backward, T, forget_bias, H, N, seed)
    return {"distance": np.arange(T), "rnn": rnn, "lstm": lstm["h"], "lstm_cell": lstm["c"],
            "forget_mean": lstm["forget_mean"], "T": T, "forget_bias": forget_bias, "rho": rho}


def first_below(values, threshold=1e-4):
    """The first distance d with values[d] < threshold (values indexed by distance, as norm_comparison
    returns them), or None."""
    below = np.flatnonzero(np.asarray(values) < threshold)
    return int(below[0]) if below.size else None


LOG_FLOOR = -20.0      # log10 of a norm that is exactly 0 (drawn at the bottom of the plot)


def _log10(values):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log10(values), LOG_FLOOR)


def plot_norm_comparison(comparisons, ax=None):
    """log10 ||dL/dh_s|| / ||dL/dh_{T-1}|| against the distance T-1-s: the RNN (black) and, per
    comparison, the LSTM's hidden state (solid) and cell state (dashed).

    comparisons: a list of dicts from norm_comparison (same T and rho; one per forget bias).
    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4), layout="constrained")
    first = comparisons[0]
    d = first["distance"]
    ax.plot(d, _log10(first["rnn"]), color="k", lw=2, label=f"tanh RNN (rho = {first['rho']})")
    for j, cmp in enumerate(comparisons):
        color = f"C{j + 1}"
        ax.plot(d, _log10(cmp["lstm"]), color=color, lw=2,
                label=f"LSTM, forget bias {cmp['forget_bias']:g} (mean f = {cmp['forget_mean']:.2f})")
        ax.plot(d[1:], _log10(cmp["lstm_cell"][1:]), "--", color=color, lw=1)
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_ylim(max(LOG_FLOOR, ax.get_ylim()[0]), 1)
    ax.set(xlabel="distance back in time, T-1-s", ylabel="log10 ||dL/dh_s|| / ||dL/dh_{T-1}||",
           title="same inputs, same loss: hidden state (solid), LSTM cell state (dashed)")
    ax.legend(fontsize=8)
    return ax


# ---------------------------------------------------------------- widget

def gated_explorer(rnn_forward, gradient_norms_through_time, scale_to_spectral_radius, lstm_forward,
                   lstm_step_backward, T=60, forget_bias=1.0, rho=1.0, T_max=200, H=32, N=8, seed=0, show=True):
    """Sliders for the sequence length T, the LSTM's forget-gate bias and the RNN's spectral radius rho;
    redraws both gradient-norm curves (RNN and LSTM, log10 of the norm) against the distance back in time.

    Inputs: the student's functions; T, forget_bias, rho: the starting view;
    T_max: the largest T of the slider; H, N, seed: the networks and inputs (norm_comparison).
    Returns (widget, update) where update(T, forget_bias, rho) computes and draws
    one view and returns the Figure (the function the sliders call).
    """
    import ipywidgets as widgets
    from IPython.display import display
    from matplotlib.figure import Figure

    from .unrolling import figure_image, fix_ticks, fix_xlabel

    # One figure whose lines are updated in place; each curve is recomputed only when its own settings change.
    fig = Figure(figsize=(7.5, 3.8), dpi=80)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.14, top=0.88)
    rnn_line, = ax.plot([], [], color="k", lw=2, label="tanh RNN")
    lstm_line, = ax.plot([], [], color="C1", lw=2, label="LSTM, hidden state")
    cell_line, = ax.plot([], [], "--", color="C1", lw=1, label="LSTM, cell state")
    ax.axhline(0, color="gray", lw=0.8)
    ax.axhline(-4, color="gray", lw=0.8, ls=":")
    ax.set(xlabel="distance back in time, T-1-s", ylabel="log10 ||dL/dh_s|| / ||dL/dh_{T-1}||")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("", fontsize=9, y=1.0)      # a fixed y: matplotlib no longer measures the axes to place the title
    fix_xlabel(ax)
    memo = {}

    def cached(key, compute):
        if key not in memo:
            if len(memo) > 64:
                memo.clear()
            memo[key] = compute()
        return memo[key]

    def update(T, forget_bias, rho):
        rnn = cached(("rnn", T, rho), lambda: rnn_norms(rnn_forward, gradient_norms_through_time,
                                                        scale_to_spectral_radius, T, rho, H, N, seed))
        lstm = cached(("lstm", T, forget_bias), lambda: lstm_norms(lstm_forward, lstm_step_backward, T,
                                                                   forget_bias, H, N, seed))
        d = np.arange(T)
        rnn_line.set_data(d, _log10(rnn))
        lstm_line.set_data(d, _log10(lstm["h"]))
        cell_line.set_data(d[1:], _log10(lstm["c"][1:]))
        low = min(_log10(rnn).min(), _log10(lstm["h"]).min())
        ax.set_xlim(0, T - 1)
        ax.set_ylim(max(LOG_FLOOR, low - 1), 1.5)
        fix_ticks(ax, nbins=5)                          # fixed ticks: no locator run on every draw

        def reach(values):
            d_below = first_below(values)
            return f"{d_below} steps" if d_below is not None else f"not within {T - 1}"
        ax.set_title(f"T = {T}, LSTM forget bias {forget_bias:g} (mean f = {lstm['forget_mean']:.2f}), RNN rho = "
                     f"{rho:.2f}\nbelow 1e-4 (dotted) after: RNN {reach(rnn)}, LSTM {reach(lstm['h'])}", fontsize=9)
        return fig

    T_slider = widgets.IntSlider(value=T, min=5, max=T_max, step=5, description="T")
    bias_slider = widgets.FloatSlider(value=forget_bias, min=0.0, max=5.0, step=0.25, description="forget bias")
    rho_slider = widgets.FloatSlider(value=rho, min=0.5, max=1.5, step=0.05, description="rho")
    out = widgets.interactive_output(lambda T, forget_bias, rho: display(figure_image(update(T, forget_bias, rho))),
                                     {"T": T_slider, "forget_bias": bias_slider, "rho": rho_slider})
    box = widgets.VBox([widgets.HBox([T_slider, bias_slider, rho_slider]), out])
    if show:
        display(box)
    return box, update


# ---------------------------------------------------------------- the cell, gate by gate

def draw_lstm_cell(ax=None):
    """The LSTM cell of the contract drawn gate by gate, with the backward pass along the cell state.

    Forward (black): x_t and h_{t-1} feed four blocks of pre-activations
    a = x_t Wx + h_{t-1} Wh + b, in the order i, f, g, o; the cell state runs
    along the top, c_t = f * c_{t-1} + i * g, and h_t = o * tanh(c_t).
    Backward (orange, along the top): dL/dc_{t-1} = dL/dc_t * f_t, the additive
    path. Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.2), layout="constrained")
    ax.set_xlim(-0.2, 11.8)
    ax.set_ylim(-0.8, 6.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ink, back, cell = "black", "tab:orange", "tab:blue"
    ax.add_patch(FancyBboxPatch((1.0, 0.6), 8.6, 5.1, boxstyle="round,pad=0.1", fc="#f5f5f5", ec="gray", lw=1))

    def arrow(points, color=ink, lw=1.4, head=True, ls="-"):
        xs, ys = zip(*points)
        ax.plot(xs[:-1] + (xs[-1],), ys, color=color, lw=lw, ls=ls, solid_capstyle="butt",
                zorder=1) if not head else None
        if head:
            ax.plot(xs[:-1], ys[:-1], color=color, lw=lw, ls=ls, zorder=1) if len(points) > 2 else None
            ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=12, color=color,
                                         lw=lw, ls=ls, shrinkA=0, shrinkB=13 if head == "node" else 0, zorder=1))

    def op(xy, text, r=0.28, fc="white"):
        ax.add_patch(Circle(xy, r, fc=fc, ec=ink, lw=1.3, zorder=3))
        ax.text(*xy, text, ha="center", va="center", fontsize=13, zorder=4)

    def gate(x, y, name, act, fc):
        ax.add_patch(FancyBboxPatch((x - 0.42, y - 0.32), 0.84, 0.64, boxstyle="round,pad=0.04", fc=fc, ec=ink,
                                    lw=1.2, zorder=3))
        ax.text(x, y + 0.07, act, ha="center", va="center", fontsize=11, zorder=4)
        ax.text(x, y - 0.4, name, ha="center", va="top", fontsize=8.5, zorder=4,
                bbox=dict(fc="#f5f5f5", ec="none", pad=0.3))       # the input arrow passes behind the label

    top, mid, gy, bus = 5.0, 3.8, 2.55, 0.95
    fx, ix, gx, ox, tx = 2.6, 4.0, 5.2, 7.4, 8.5        # columns: f, i, g, o and the tanh of the cell
    # the cell state: c_{t-1} -> (x f) -> (+ i g) -> c_t, along the top
    ax.text(0.0, top, "c$_{t-1}$", ha="left", va="center", fontsize=12, color=cell)
    arrow([(0.55, top), (fx, top)], color=cell, lw=2.5, head="node")
    arrow([(fx, top), (gx, top)], color=cell, lw=2.5, head="node")
    arrow([(gx, top), (10.5, top)], color=cell, lw=2.5)
    ax.text(10.6, top, "c$_t$", ha="left", va="center", fontsize=12, color=cell)
    op((fx, top), "×")
    op((gx, top), "+")
    # inputs: h_{t-1} from the left, x_t from below, joined into one bus that feeds every gate
    ax.text(0.0, bus, "h$_{t-1}$", ha="left", va="center", fontsize=12)
    ax.plot([0.6, ox], [bus, bus], color=ink, lw=1.4, zorder=1)
    ax.text(1.6, -0.55, "x$_t$", ha="center", va="center", fontsize=12)
    ax.plot([1.6, 1.6], [-0.3, bus], color=ink, lw=1.4, zorder=1)
    ax.text(1.75, bus - 0.1, "a = x$_t$W$_x$ + h$_{t-1}$W$_h$ + b", ha="left", va="top", fontsize=9, color="dimgray")
    for x in (fx, ix, gx, ox):
        arrow([(x, bus), (x, gy - 0.32)])
    gate(fx, gy, "forget f\nblock 2", "σ", "#fde0c5")
    gate(ix, gy, "input i\nblock 1", "σ", "#e5e5e5")
    gate(gx, gy, "candidate g\nblock 3", "tanh", "#e5e5e5")
    gate(ox, gy, "output o\nblock 4", "σ", "#e5e5e5")
    # f multiplies the old cell; i * g is written into it
    arrow([(fx, gy + 0.32), (fx, top)], head="node")
    op((gx, mid), "×")
    arrow([(gx, gy + 0.32), (gx, mid)], head="node")
    arrow([(ix, gy + 0.32), (ix, mid), (gx, mid)], head="node")
    arrow([(gx, mid), (gx, top)], head="node")
    # h_t = o * tanh(c_t)
    ax.add_patch(FancyBboxPatch((tx - 0.42, mid + 0.45 - 0.25), 0.84, 0.5, boxstyle="round,pad=0.04", fc="white",
                                ec=ink, lw=1.2, zorder=3))
    ax.text(tx, mid + 0.45, "tanh", ha="center", va="center", fontsize=10, zorder=4)
    arrow([(tx, top), (tx, mid + 0.7)])
    op((tx, gy), "×")
    arrow([(tx, mid + 0.2), (tx, gy)], head="node")
    arrow([(ox + 0.42, gy), (tx, gy)], head="node")
    arrow([(tx, gy - 0.28), (tx, 0.3), (10.5, 0.3)])
    ax.text(10.6, 0.3, "h$_t$", ha="left", va="center", fontsize=12)
    ax.text(10.6, -0.05, "(output, and\nh$_{t-1}$ of the\nnext step)", ha="left", va="top", fontsize=8, color="dimgray")
    # the backward pass along the cell: the additive path
    ax.add_patch(FancyArrowPatch((10.3, top + 0.45), (0.6, top + 0.45), arrowstyle="-|>", mutation_scale=14,
                                 color=back, lw=2.2, zorder=2))
    ax.text(5.6, top + 0.62, "backward: dL/dc$_{t-1}$ = dL/dc$_t$ · f$_t$   (no weight matrix, no tanh')",
            ha="center", va="bottom", fontsize=10, color=back)
    ax.text(5.6, -0.6, "c$_t$ = f · c$_{t-1}$ + i · g,     h$_t$ = o · tanh(c$_t$)", ha="center", va="center",
            fontsize=11)
    return ax


# ---------------------------------------------------------------- the delayed echo, RNN against LSTM

def echo_lstm_params(H, seed, forget_bias=1.0):
    """Weights of a 1-input LSTM with the logistic readout of bpttlab.delayed_echo.

    Returns a dict: Wx (1, 4H), Wh (H, 4H), b (4H,) from lstm_params(1, H, forget_bias, seed),
    and the readout w (H,) (Gaussian, standard deviation 1/sqrt(H)) and c (1,) = 0, as
    delayed_echo.init_params draws them for the RNN.
    """
    p = lstm_params(1, H, forget_bias, seed)
    p["w"] = np.random.default_rng([seed, 1]).normal(0.0, 1.0 / np.sqrt(H), H)
    p["c"] = np.zeros(1)
    return p


def lstm_echo_accuracy(lstm_forward, params, L, N=256, T=200, seed=1000):
    """delayed_echo.echo_accuracy for an LSTM (from h0 = c0 = 0): a float in [0, 1], chance 0.5."""
    def as_rnn_forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, np.zeros(h0.shape), Wx, Wh, b)
    return delayed_echo.echo_accuracy(as_rnn_forward, params, L, N=N, T=T, seed=seed)


def train_echo_lstm(lstm_forward, lstm_backward, L, k, *, updates=2000, H=32, N=32, lr=3e-3, forget_bias=1.0,
                    clip_grad_norm=None, max_norm=1.0, seed=0, progress=None):
    """Train an LSTM on the delayed-echo stream exactly as delayed_echo.train_echo trains the tanh RNN.

    Every update reads the next k steps of N streams (the same stream as
    train_echo for the same seed), starting from the hidden and cell states
    left by the previous update (carried, not backpropagated into: chunked
    truncated BPTT with chunks of k steps), runs full BPTT through the chunk with
    lstm_backward, and takes one Adam step.

    Inputs:
    - lstm_forward, lstm_backward: the student's functions (contract signatures)
    - L: the delay; k: the truncation (chunk) length
    - updates, H, N, lr, seed: training length, hidden size, batch size, Adam step size, seed
    - forget_bias: the initial bias of the forget gate (echo_lstm_params)
    - clip_grad_norm: None, or the function of notebook 04 ((grads, max_norm) -> (clipped, norm))
    - progress: None, or a function called as progress(update_index)

    Returns a delayed_echo.EchoRun; accuracy is lstm_echo_accuracy on fresh streams (chance 0.5).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a whole number >= 1; got {k!r}")
    rng = np.random.default_rng(seed + 1)            # the data stream, as in delayed_echo.train_echo
    params = echo_lstm_params(H, seed, forget_bias)
    adam = delayed_echo.Adam(lr=lr)
    h_carry, c_carry = np.zeros((N, H)), np.zeros((N, H))
    bits = rng.integers(0, 2, size=(N, L))
    losses = np.empty(updates)
    for i in range(updates):
        x, y, has_target, bits = delayed_echo.echo_batch(bits, N, k, L, rng)
        h, cache = lstm_forward(x, h_carry, c_carry, params["Wx"], params["Wh"], params["b"])
        losses[i], dh, dw, dc, _ = delayed_echo.readout_loss(h, params["w"], params["c"], y, has_target)
        _, _, _, dWx, dWh, db = lstm_backward(dh, cache)
        grads = {"Wx": dWx, "Wh": dWh, "b": db, "w": dw, "c": dc}
        if clip_grad_norm is not None:
            grads, _ = clip_grad_norm(grads, max_norm)
        params = adam.step(params, grads)
        h_carry, c_carry = h[:, -1], cache[6][:, -1]  # carried forward; no gradient flows back into them
        if progress is not None:
            progress(i)
    return delayed_echo.EchoRun(L=L, k=k, seed=seed, updates=updates, losses=losses,
                                accuracy=lstm_echo_accuracy(lstm_forward, params, L), params=params)


def echo_race(rnn_forward, rnn_backward_chunked, lstm_forward, lstm_backward, L, k, *, updates, seeds=(0,),
              H=32, N=32, lr=1e-2, forget_bias=1.0, clip_grad_norm=None, max_norm=1.0, progress=True):
    """The tanh RNN and the LSTM on the same delayed echo: same streams, delay L, truncation k, updates,
    hidden size, batch, Adam step size and clipping (the LSTM has 4 times the weights).

    progress: show a tqdm progress bar over all runs. Returns a dict
    {"tanh RNN": [EchoRun per seed], "LSTM": [EchoRun per seed]}.
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=2 * len(seeds) * updates, disable=not progress, mininterval=0.5, desc="delayed echo")
    tick = (lambda i: bar.update(1)) if progress else None
    runs = {"tanh RNN": [], "LSTM": []}
    common = dict(updates=updates, H=H, N=N, lr=lr, clip_grad_norm=clip_grad_norm, max_norm=max_norm)
    with one_blas_thread():
        for seed in seeds:
            bar.set_postfix_str(f"tanh RNN, seed {seed}", refresh=False)
            runs["tanh RNN"].append(delayed_echo.train_echo(rnn_forward, rnn_backward_chunked, L, k, seed=seed,
                                                            progress=tick, **common))
            bar.set_postfix_str(f"LSTM, seed {seed}", refresh=False)
            runs["LSTM"].append(train_echo_lstm(lstm_forward, lstm_backward, L, k, seed=seed,
                                                forget_bias=forget_bias, progress=tick, **common))
    bar.close()
    return runs


def plot_echo_race(runs, ax=None, width=50):
    """Smoothed training loss of every run of echo_race, one colour per model; the dashed line is
    ln 2, the loss of guessing. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    for color, (model, rs) in zip(("k", "C1"), runs.items()):
        for j, r in enumerate(rs):
            ax.plot(delayed_echo.smooth(r.losses, width), color=color, alpha=0.9,
                    label=f"{model}: accuracy {np.mean([q.accuracy for q in rs]):.2f}" if j == 0 else None)
    ax.axhline(np.log(2), color="gray", ls="--", lw=1)
    ax.text(0, np.log(2), "  guessing (ln 2)", va="bottom", color="gray", fontsize=8)
    first = next(iter(runs.values()))[0]
    ax.set(xlabel=f"update (one chunk of k = {first.k} steps each)", ylabel="training loss (smoothed)",
           title=f"Delayed echo, L = {first.L}, chunks of k = {first.k}")
    ax.legend(fontsize=8)
    return ax


# ---------------------------------------------------------------- cost

def cost_per_step(rnn_forward, rnn_backward, lstm_forward, lstm_backward, N=32, T=100, D=64, H=64, repeats=5, seed=0):
    """What an LSTM step costs next to a tanh RNN step of the same size.

    Counts the weights (Wx, Wh, b) and the multiply-adds of the matrix products
    of one forward step for one sample ((D + H) H for the RNN, 4 (D + H) H for the
    LSTM; the backward pass does about twice as many), and times forward +
    backward of the student's functions on random inputs x (N, T, D) (the
    smallest of `repeats` runs each, with one BLAS thread: one_blas_thread).

    Returns a dict with rnn_weights, lstm_weights, rnn_macs, lstm_macs (ints)
    and rnn_seconds, lstm_seconds (floats).
    """
    import time

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    zeros = np.zeros((N, H))
    dh = rng.standard_normal((N, T, H))
    rnn_w = (rng.standard_normal((D, H)) / np.sqrt(D), rng.standard_normal((H, H)) / np.sqrt(H), np.zeros(H))
    p = lstm_params(D, H, 1.0, seed)

    def best(run):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)
    with one_blas_thread():
        rnn_seconds = best(lambda: rnn_backward(dh, rnn_forward(x, zeros, *rnn_w)[1]))
        lstm_seconds = best(lambda: lstm_backward(dh, lstm_forward(x, zeros, zeros, p["Wx"], p["Wh"], p["b"])[1]))
    return {"rnn_weights": D * H + H * H + H, "lstm_weights": 4 * (D * H + H * H + H),
            "rnn_macs": (D + H) * H, "lstm_macs": 4 * (D + H) * H,
            "rnn_seconds": rnn_seconds, "lstm_seconds": lstm_seconds}


def load_precomputed_race():
    """The longer race shipped in bpttlab/data/gated_echo_sweep.json (made by
    benchmarks/gated_echo_sweep.py with the reference functions): a dict with "settings",
    "seeds" and "results", a list of {"model", "L", "k", "accuracy": [one per seed],
    "loss_per_block": [one list per seed]}.
    """
    import json
    from pathlib import Path
    return json.loads((Path(__file__).parent / "data" / "gated_echo_sweep.json").read_text())


def race_table(sweep):
    """The precomputed race as a text table, one line per delay and model: a str."""
    s = sweep["settings"]
    lines = [f"PRECOMPUTED by {sweep['generated_by']} ({s['updates']} updates of k = 2L steps, H = {s['H']}, "
             f"Adam {s['lr']:g}, clipping at {s['max_norm']:g}, seeds {sweep['seeds']}; chance = 0.50)",
             f"{'L':>3} {'k':>3}  {'model':<9} {'accuracy per seed':<20}  loss at 1/3, 2/3, end of training"]
    for row in sweep["results"]:
        thirds = [np.mean([curve[j] for curve in row["loss_per_block"]])
                  for j in (len(row["loss_per_block"][0]) // 3 - 1, 2 * len(row["loss_per_block"][0]) // 3 - 1, -1)]
        lines.append(f"{row['L']:>3} {row['k']:>3}  {row['model']:<9} "
                     f"{'  '.join(f'{a:.2f}' for a in row['accuracy']):<20}  {', '.join(f'{v:.3f}' for v in thirds)}")
    return "\n".join(lines)


def plot_precomputed_race(sweep, ax=None):
    """Training loss of the precomputed race against the update, averaged over the seeds: one colour
    per model, one line style per delay L. The dashed grey line is ln 2, guessing. Returns the Axes."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    block = sweep["settings"]["block"]
    delays = sorted({row["L"] for row in sweep["results"]})
    styles = dict(zip(reversed(delays), ("-", "--", ":", "-.")))
    for row in sweep["results"]:
        curve = np.mean(row["loss_per_block"], axis=0)
        updates = block * (np.arange(len(curve)) + 1)
        ax.plot(updates, curve, styles[row["L"]], color="k" if row["model"] == "tanh RNN" else "C1", lw=1.8,
                label=f"{row['model']}, L = {row['L']}: accuracy {np.mean(row['accuracy']):.2f}")
    ax.axhline(np.log(2), color="gray", ls="--", lw=1)
    ax.set(xlabel=f"update (one chunk of k = 2L steps each)",
           ylabel=f"training loss (mean of {len(sweep['seeds'])} seeds)",
           title=f"precomputed: {sweep['settings']['updates']} updates per run")
    ax.legend(fontsize=8)
    return ax
