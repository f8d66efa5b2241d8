"""Experiments and a widget for truncated BPTT: what truncation throws away, and what it saves.

Legend: N batch size, T time steps, D input size, H hidden size, k truncation length.

Two schemes (CONTRACT.md): the sliding window backpropagates each loss L_t
through its own last k steps; chunks cut the sequence into [0, k), [k, 2k), ...
and backpropagate inside each chunk only. Every function that needs an RNN
takes the student's functions as arguments; this module has no graded code.
"""
import time

import numpy as np

SCHEMES = ("sliding", "chunked")
SCHEME_LABELS = {"sliding": "sliding window (rnn_backward_truncated)",
                 "chunked": "chunks (rnn_backward_chunked)"}


def _check_T_k(T, k):
    for name, v in (("T", T), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1; got {v!r}")


def random_problem(N=4, T=30, D=3, H=16, weight_scale=1.0, seed=0, rho=None):
    """A random tanh RNN, its inputs and an upstream gradient, for experiments.

    Wh is Gaussian with standard deviation weight_scale / sqrt(H) (spectral
    radius close to weight_scale for large H), or, when rho is given, rho times
    a random orthogonal matrix (every eigenvalue has modulus rho: spectral
    radius exactly rho). Wx has standard deviation 1 / sqrt(D), inputs and dh
    are standard normal, h0 = 0.1 * standard normal.

    Returns a dict with x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,),
    dh (N, T, H).
    """
    _check_T_k(T, 1)
    rng = np.random.default_rng(seed)
    p = {"x": rng.standard_normal((N, T, D)), "h0": 0.1 * rng.standard_normal((N, H)),
         "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
         "Wh": weight_scale * rng.standard_normal((H, H)) / np.sqrt(H),
         "b": 0.1 * rng.standard_normal(H), "dh": rng.standard_normal((N, T, H))}
    if rho is not None:
        Q, R = np.linalg.qr(p["Wh"])
        p["Wh"] = rho * Q * np.sign(np.diag(R))       # orthogonal (Haar-distributed) times rho
    return p


def window_starts(T, k, scheme):
    """The earliest step the signal of each loss reaches.

    Returns an int array of shape (T,): entry t is max(0, t-k+1) for the
    sliding window, and the start (t // k) * k of t's chunk for chunks.
    """
    _check_T_k(T, k)
    t = np.arange(T)
    if scheme == "sliding":
        return np.maximum(0, t - k + 1)
    if scheme == "chunked":
        return (t // k) * k
    raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")


def kept_mask(T, k, scheme):
    """Which terms of the contribution matrix a scheme keeps.

    Returns a bool array of shape (T, T): entry [t, s] is True when the signal
    of L_t still deposits its term in dWh at step s (window_starts[t] <= s <= t).
    """
    start = window_starts(T, k, scheme)
    t, s = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    return (s >= start[:, None]) & (s <= t)


def cosine(a, b):
    """Cosine similarity of two arrays of the same shape (flattened): a float in [-1, 1]."""
    a, b = np.ravel(a), np.ravel(b)
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom > 0 else 0.0


def gradient_bias(rnn_forward, rnn_backward, rnn_backward_truncated, rnn_backward_chunked, ks, problem):
    """How far each truncated dWh is from the full BPTT dWh, for every k.

    Inputs:
    - the student's rnn_forward, rnn_backward, rnn_backward_truncated, rnn_backward_chunked
    - ks: sequence of truncation lengths (whole numbers >= 1)
    - problem: dict from random_problem

    Returns a dict with "k" (K,) and, for each scheme in SCHEMES, a dict with
    "cosine" (K,) = cosine(dWh_k, dWh) and "rel_error" (K,) =
    ||dWh_k - dWh|| / ||dWh|| (Frobenius norms).
    """
    ks = np.asarray(list(ks), dtype=int)
    for k in ks:
        _check_T_k(1, int(k))
    p = problem
    _, cache = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    dWh = rnn_backward(p["dh"], cache)[3]
    out = {"k": ks}
    for scheme, fn in (("sliding", rnn_backward_truncated), ("chunked", rnn_backward_chunked)):
        approx = [fn(p["dh"], cache, int(k))[3] for k in ks]
        out[scheme] = {"cosine": np.array([cosine(a, dWh) for a in approx]),
                       "rel_error": np.array([np.linalg.norm(a - dWh) / np.linalg.norm(dWh) for a in approx])}
    return out


def backward_steps(T, k, scheme):
    """Number of one-step backward products (Jacobian-vector products) a scheme does.

    Sliding window: every L_t walks back min(k, t+1) steps, about T*k in all.
    Chunks (and full BPTT, k >= T): one backward walk over the T steps, T products.
    Returns an int.
    """
    start = window_starts(T, k, scheme)
    if scheme == "sliding":
        return int(np.sum(np.arange(T) - start + 1))
    return T


def states_kept(T, k):
    """Hidden states that must be kept for the backward pass, same for both schemes.

    An online learner with window/chunk length k needs the states h_{t-k}, ...,
    h_t of the current window: min(k, T) + 1 (full BPTT: T + 1, h0 included).
    Returns an int.
    """
    _check_T_k(T, k)
    return min(k, T) + 1


def cost_vs_k(rnn_forward, rnn_backward_truncated, rnn_backward_chunked, ks, problem, repeats=5):
    """Measured time of each scheme's backward pass, and its counted cost, for every k.

    Inputs as gradient_bias; repeats: timed calls per k and scheme. Times are
    CPU seconds of this process (time.process_time) with the BLAS pinned to
    one thread (threadpoolctl), the median of the repeats: other programs on
    the machine and the number of BLAS threads then barely change them.

    Returns a dict with "k" (K,), "states" (K,) from states_kept, and for each
    scheme a dict with "seconds" (K,) (median CPU time of one backward call)
    and "steps" (K,) from backward_steps.
    """
    from threadpoolctl import threadpool_limits
    ks = np.asarray(list(ks), dtype=int)
    p = problem
    T = p["x"].shape[1]
    _, cache = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    out = {"k": ks, "T": T, "states": np.array([states_kept(T, int(k)) for k in ks])}
    with threadpool_limits(limits=1):
        for scheme, fn in (("sliding", rnn_backward_truncated), ("chunked", rnn_backward_chunked)):
            secs = []
            for k in ks:
                times = []
                for _ in range(repeats):
                    start = time.process_time()
                    fn(p["dh"], cache, int(k))
                    times.append(time.process_time() - start)
                secs.append(float(np.median(times)))
            out[scheme] = {"seconds": np.array(secs),
                           "steps": np.array([backward_steps(T, int(k), scheme) for k in ks])}
    return out


# ---------------------------------------------------------------- plots

def plot_bias(bias, axes=None, k_mark=None):
    """Two panels: cosine similarity and relative error of the truncated dWh vs k, both schemes.

    bias: dict from gradient_bias. Returns the two Axes.
    """
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    for i, scheme in enumerate(SCHEMES):
        axes[0].plot(bias["k"], bias[scheme]["cosine"], "o-", ms=3, color=f"C{i}", label=SCHEME_LABELS[scheme])
        axes[1].semilogy(bias["k"], np.maximum(bias[scheme]["rel_error"], 1e-16), "o-", ms=3, color=f"C{i}")
    axes[0].set(xlabel="k", ylabel="cosine(dWh_k, dWh)", title="direction of the truncated gradient")
    axes[1].set(xlabel="k", ylabel="||dWh_k - dWh|| / ||dWh||", title="relative error (bias)")
    axes[0].legend(fontsize=8)
    if k_mark is not None:
        for ax in axes:
            ax.axvline(k_mark, color="k", ls=":", lw=1)
    return axes


def plot_cost(cost, axes=None, k_mark=None):
    """Two panels: measured backward time vs k, and counted cost (steps, states) vs k.

    cost: dict from cost_vs_k (or one without "seconds", then the first panel
    shows counted steps only). Returns the two Axes.
    """
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    k = cost["k"]
    for i, scheme in enumerate(SCHEMES):
        if "seconds" in cost[scheme]:
            axes[0].plot(k, 1e3 * cost[scheme]["seconds"], "o-", ms=3, color=f"C{i}", label=SCHEME_LABELS[scheme])
        axes[1].plot(k, cost[scheme]["steps"], "o-", ms=3, color=f"C{i}", label=f"backward steps, {scheme}")
    axes[1].plot(k, cost["states"], "k--", label="hidden states kept (both)")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xscale("log")
    axes[0].set(xlabel="k", ylabel="ms per backward call", title=f"CPU time, 1 BLAS thread, median (T = {cost['T']})")
    axes[1].set(xlabel="k", ylabel="count", title="counted cost")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    if k_mark is not None:
        for ax in axes:
            ax.axvline(k_mark, color="k", ls=":", lw=1)
    return axes


def masked_view(C, k, scheme):
    """What plot_masked_contributions draws, computed: images of the kept and dropped terms.

    C: array of shape (T, T) from gradient_contributions; k: the truncation;
    scheme: "sliding" or "chunked". Returns a dict with
    - "kept": array (T, T), log10 C[t, s] where the scheme keeps the term, nan elsewhere
    - "dropped": array (T, T), 1 where a causal term (s <= t) is dropped, nan elsewhere
    - "vmin", "vmax": colour range, at most 8 decades below the largest term
    - "lost": float, the norm of the dropped terms as a fraction of the norm of all terms
    """
    C = np.asarray(C, dtype=np.float64)
    T = C.shape[0]
    causal = np.tril(np.ones((T, T), dtype=bool))
    keep = kept_mask(T, k, scheme)
    logC = np.log10(np.maximum(C, 1e-300))
    vmax = logC[causal].max()
    return {"kept": np.where(keep, logC, np.nan), "dropped": np.where(causal & ~keep, 1.0, np.nan),
            "vmin": max(logC[causal].min(), vmax - 8), "vmax": vmax,
            "lost": float(np.linalg.norm(np.where(keep, 0.0, C)) / max(np.linalg.norm(C), 1e-300))}


def _masked_title(view, k, scheme, T):
    shown = f"k = {k}" if k <= T else f"k = {k} > T: clamped to T = {T}"
    return f"{scheme}, {shown}; grey = dropped\n({100 * view['lost']:.0f}% of the norm of all terms)"


def plot_masked_contributions(C, k, scheme, ax=None, colorbar=True):
    """The contribution matrix C (T, T) with the terms that a scheme drops greyed out.

    C: array of shape (T, T) from gradient_contributions; k: the truncation;
    scheme: "sliding" or "chunked". Colour is log10 C[t, s] (loss step t down,
    deposit step s across), clipped 8 decades below the largest term; the
    upper triangle (s > t) is empty. Returns the Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    view = masked_view(C, k, scheme)
    ax.imshow(view["dropped"], cmap="Greys", vmin=0, vmax=3, interpolation="nearest")
    im = ax.imshow(view["kept"], cmap="viridis", vmin=view["vmin"], vmax=view["vmax"], interpolation="nearest")
    ax.set(xlabel="deposit step s", ylabel="loss step t", title=_masked_title(view, min(k, len(C)), scheme, len(C)))
    if colorbar:
        plt.colorbar(im, ax=ax, label="log10 C[t, s]", shrink=0.8)
    return ax


# ---------------------------------------------------------------- widget

def truncation_explorer(rnn_forward, rnn_backward, gradient_contributions, rnn_backward_truncated,
                        rnn_backward_chunked, T_max=60, T=30, k=8, rho=1.0, scheme="sliding", seed=0, show=True):
    """Sliders for T, k and rho and a scheme toggle; redraws the masked contribution matrix
    (with its colour bar), the bias of both schemes at every k = 1..T, and the cost curves,
    with the current k marked.

    Inputs: the student's functions (contract signatures); T_max, the largest
    T of the slider; T, k, rho, scheme: the starting view. rho is the spectral
    radius of Wh (rho times a random orthogonal matrix): the smaller it is, the
    faster contributions fade with distance and the less truncation throws away.
    A k larger than T is clamped to T (no truncation), and the title says so.
    The computation for one (T, rho) (the matrix, and the bias at every k) is
    cached, so moving k or switching the scheme only redraws; after each view
    the T one step either side is computed too, so a T step by the arrow keys
    or a slow drag only redraws as well.

    Returns (widget, update) where update(T, k, scheme, rho=rho) computes and
    draws one view and returns the Figure (the function the controls call;
    handy for timing).
    """
    import ipywidgets as widgets
    from IPython.display import display
    from matplotlib.figure import Figure

    from .unrolling import fix_ticks, fix_xlabel

    cache = {}
    rho0 = rho

    def compute(T, rho):
        key = (T, round(float(rho), 6))
        if key not in cache:
            p = random_problem(N=2, T=T, D=3, H=12, seed=seed, rho=rho)
            _, c = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
            cache[key] = (gradient_contributions(p["dh"], c),
                          gradient_bias(rnn_forward, rnn_backward, rnn_backward_truncated, rnn_backward_chunked,
                                        range(1, T + 1), p))      # every k shown: no interpolation
        return cache[key]

    # One figure whose artists are updated in place: re-creating axes and ticks on
    # every move would triple the drawing time.
    fig = Figure(figsize=(12.5, 3.7), dpi=72)        # notebook-sized PNG: fewer pixels to draw and encode
    axes = fig.subplots(1, 3, width_ratios=(1.15, 1, 1))
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.15, top=0.84, wspace=0.42)
    grey = axes[0].imshow(np.ones((1, 1)), cmap="Greys", vmin=0, vmax=3, interpolation="nearest")
    colour = axes[0].imshow(np.ones((1, 1)), cmap="viridis", interpolation="nearest")
    bar = fig.colorbar(colour, ax=axes[0], fraction=0.05, pad=0.02, label="log10 C[t, s]")
    axes[0].set(xlabel="deposit step s", ylabel="loss step t")
    bias_lines = [axes[1].plot([], [], "-", lw=1.5, color=f"C{i}", label=name)[0] for i, name in enumerate(SCHEMES)]
    axes[1].set(xlabel="k", ylabel="log10 ||dWh_k - dWh|| / ||dWh||",
                title="bias at every k: sliding (blue), chunked (orange)")
    cost_lines = [axes[2].plot([], [], color=f"C{i}")[0] for i in range(len(SCHEMES))]
    cost_lines.append(axes[2].plot([], [], "k--")[0])
    axes[2].set(xlabel="k", ylabel="count", title="cost: backward steps (solid),\nstates kept (dashed)")
    marks = [ax.axvline(k, color="k", ls=":", lw=1) for ax in axes[1:]]
    # no legend (slow to draw): the bias title names the two colours, used in all three panels
    for ax in axes:      # titles at a fixed height: matplotlib no longer measures the axes to place them
        ax.set_title(ax.get_title(), y=1.0)
        fix_xlabel(ax)                   # and x labels at a fixed place: no tick-label measuring either

    def update(T, k, scheme, rho=rho0):
        C, bias = compute(T, rho)
        view = masked_view(C, min(k, T), scheme)
        for image, data in ((grey, view["dropped"]), (colour, view["kept"])):
            image.set_data(data)
            image.set_extent((-0.5, T - 0.5, T - 0.5, -0.5))
        colour.set_clim(view["vmin"], view["vmax"])
        fix_ticks(bar.ax, nbins=3, integer=True, which="y")   # 4 labels, not 9: each label costs a redraw ~6 ms
        fix_ticks(axes[0], nbins=3, integer=True)        # fixed ticks: no locator run on every draw
        axes[0].set_title(_masked_title(view, k, scheme, T))
        for line, name in zip(bias_lines, SCHEMES):       # log10 on a linear axis: no slow mathtext labels
            line.set_data(bias["k"], np.log10(np.maximum(bias[name]["rel_error"], 1e-16)))
        axes[1].set_title(f"bias at every k (rho = {rho:.2f}):\nsliding (blue), chunked (orange)")
        ks = np.arange(1, T + 1)
        for line, name in zip(cost_lines, SCHEMES):
            line.set_data(ks, [backward_steps(T, int(q), name) for q in ks])
        cost_lines[2].set_data(ks, [states_kept(T, int(q)) for q in ks])
        for mark in marks:
            mark.set_xdata([min(k, T)] * 2)
        for ax in axes[1:]:
            ax.relim()
            ax.autoscale_view()
            fix_ticks(ax, nbins=3)
        return fig

    def show_view(T, k, scheme, rho):
        from .unrolling import figure_image         # one render (the inline backend's tight bbox draws twice)
        display(figure_image(update(T, k, scheme, rho)))
        for T_next in (T + 1, T - 1):       # while the student looks: the views one slider step away
            if 2 <= T_next <= T_max:
                compute(T_next, rho)

    T_slider = widgets.IntSlider(value=T, min=2, max=T_max, description="T")
    k_slider = widgets.IntSlider(value=k, min=1, max=T_max, description="k")
    rho_slider = widgets.FloatSlider(value=rho, min=0.5, max=1.5, step=0.05, description="rho",
                                     readout_format=".2f")
    toggle = widgets.ToggleButtons(options=list(SCHEMES), value=scheme, description="scheme")
    out = widgets.interactive_output(show_view, {"T": T_slider, "k": k_slider, "scheme": toggle, "rho": rho_slider})
    box = widgets.VBox([widgets.HBox([T_slider, k_slider, rho_slider]), toggle, out])
    if show:
        display(box)
    return box, update
