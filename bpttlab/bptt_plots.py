"""Pictures for notebook 02: where the gradient dWh comes from, step by step.

Legend: N batch size, T time steps, D input size, H hidden size.

The contribution matrix C (T, T) of gradient_contributions holds the norm of
the term that the loss at step t deposits in dWh at step s <= t. This module
computes it with the student's functions (contribution_view) and draws it
(ContributionPlot): a heatmap on a log colour scale and the average size of
the terms against the distance t - s. No graded code lives here.
"""
import matplotlib.pyplot as plt
import numpy as np
from .unrolling import figure_image, fix_ticks, fix_xlabel

DECADES = 8          # the colour scale spans this many powers of ten below the largest term


def contribution_problem(T, rho, T_max=None, N=4, D=3, H=16, seed=0):
    """A random tanh RNN whose recurrent matrix has spectral radius rho.

    Wh = rho * Q with Q a random orthogonal matrix (every eigenvalue modulus
    and singular value of Wh equals rho), Wx standard normal / sqrt(D),
    b = 0, h0 = 0.5 * standard normal, inputs x and upstream gradients dh
    standard normal. Everything is drawn for T_max steps (default T) and cut
    to the first T, so the first steps are the same for every T.

    Returns a dict with x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,), dh (N, T, H).
    """
    T_max = T if T_max is None else T_max
    for name, v in (("T", T), ("T_max", T_max)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1; got {v!r}")
    if T > T_max:
        raise ValueError(f"T = {T} must not exceed T_max = {T_max}")
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite number >= 0; got {rho!r}")
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((H, H)))
    Q = Q * np.sign(np.diag(R))                      # a uniformly random orthogonal matrix
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    h0 = 0.5 * rng.standard_normal((N, H))
    x = rng.standard_normal((N, T_max, D))
    dh = rng.standard_normal((N, T_max, H))
    return {"x": x[:, :T], "h0": h0, "Wx": Wx, "Wh": rho * Q, "b": np.zeros(H), "dh": dh[:, :T]}


def decay_by_distance(C):
    """Average size of the terms d steps back: out[d] = mean over t >= d of C[t, t - d].

    C: array of shape (T, T). Returns an array of shape (T,).
    """
    C = np.asarray(C, dtype=np.float64)
    T = C.shape[0]
    return np.array([np.mean(np.diagonal(C, offset=-d)) for d in range(T)])


def contribution_view(gradient_contributions, rnn_forward, T, rho, T_max=60, seed=0):
    """The contribution matrix of contribution_problem(T, rho), computed with the student's functions.

    Returns a dict with "T", "rho", "C" (T, T) and "decay" (T,) = decay_by_distance(C).
    """
    p = contribution_problem(T, rho, T_max=max(T, T_max), seed=seed)
    _, cache = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    C = np.asarray(gradient_contributions(p["dh"], cache), dtype=np.float64)
    if C.shape != (T, T):
        raise ValueError(f"gradient_contributions returned shape {C.shape}; expected (T, T) = ({T}, {T})")
    return {"T": T, "rho": float(rho), "C": C, "decay": decay_by_distance(C)}


class ContributionPlot:
    """Heatmap of log10 C (loss step t down, deposit step s across) and the decay curve in log10.

    Built once, updated in place (fast redraws for the widget). Logarithms are
    plotted on linear axes: log-scaled axes cost many times more to draw.
    """

    def __init__(self, T_max=60):
        self.T_max = T_max
        self.fig = fig = plt.figure(figsize=(10, 4.2), dpi=72)
        a = self.heat_ax = fig.add_axes((0.06, 0.13, 0.36, 0.72))
        self.heat = a.imshow(np.zeros((2, 2)), cmap=plt.get_cmap("magma").with_extremes(bad="white"), vmin=-DECADES, vmax=0, interpolation="nearest")
        a.set_xlabel("deposit step s")
        a.set_ylabel("loss step t")
        self.heat_title = a.set_title("", fontsize=10, y=1.0)   # a fixed y: no tight-bbox search per draw
        cax = fig.add_axes((0.43, 0.13, 0.015, 0.72))
        self.cbar = fig.colorbar(self.heat, cax=cax, label="log10 C[t, s] (white: s > t)")

        d = self.decay_ax = fig.add_axes((0.6, 0.13, 0.37, 0.72))
        self.decay_line, = d.plot([], [], "o-", ms=3, color="tab:purple")
        self.rho_line, = d.plot([], [], "--", color="gray")
        d.set_xlabel("distance d = t - s (steps back)")
        d.set_ylabel("log10 mean of C[t, t-d]")
        fix_xlabel(a)
        fix_xlabel(d)     # no legend (slow to draw): the title says what is dashed
        self.decay_title = d.set_title("", fontsize=10, y=1.0)

    def update(self, view):
        """Show a contribution_view dict; returns the figure."""
        T, C, decay, rho = view["T"], view["C"], view["decay"], view["rho"]
        top = max(float(C.max()), 1e-300)
        logC = np.log10(np.maximum(C, top * 10.0 ** -DECADES))
        shown = np.ma.masked_where(np.triu(np.ones((T, T), dtype=bool), k=1), logC)
        self.heat.set_data(shown)
        self.heat.set_extent((-0.5, T - 0.5, T - 0.5, -0.5))
        self.heat.set_clim(np.log10(top) - DECADES, np.log10(top))
        fix_ticks(self.heat_ax, nbins=4, integer=True)       # fixed ticks: few labels, no locator on every draw
        lo = np.log10(top) - DECADES
        self.cbar.set_ticks(np.arange(np.ceil(lo), np.log10(top) + 1e-9, 2 if DECADES > 4 else 1))
        self.heat_title.set_text(f"C[t, s] = ||term of L_t in dWh at step s||, T = {T}, rho = {rho:.2f}")
        d = np.arange(T)
        log_decay = np.log10(np.maximum(decay, 1e-300))
        self.decay_line.set_data(d, log_decay)
        self.rho_line.set_data(d, log_decay[0] + d * np.log10(max(rho, 1e-300)))
        ax = self.decay_ax
        ax.set_xlim(-0.5, max(T - 0.5, 1))
        ax.set_ylim(max(log_decay.min(), np.log10(top) - 16) - 0.5, max(log_decay.max(), np.log10(top)) + 0.5)
        fix_ticks(ax, nbins=4, integer=True)
        far = decay[min(10, T - 1)] / decay[0] if decay[0] > 0 else 0.0
        self.decay_title.set_text((f"10 steps back: {far:.1e} of d = 0" if T > 10 else "terms against distance")
                                  + "\ndashed: d = 0 times rho^d (linear RNN)")
        return self.fig


def show_contributions(gradient_contributions, rnn_forward, T=30, rho=0.9, seed=0):
    """Compute, draw and show the contribution matrix for one (T, rho) (a static figure)."""
    plot = ContributionPlot(T_max=T)
    plot.update(contribution_view(gradient_contributions, rnn_forward, T, rho, seed=seed))
    plt.show()


def contributions_widget(gradient_contributions, rnn_forward, T=30, rho=0.9, T_max=60, seed=0):
    """Sliders for the sequence length T and the spectral radius rho of Wh, redrawing the contributions.

    Uses the student's gradient_contributions and rnn_forward. Returns an
    ipywidgets VBox; the default view is drawn at once (also headless). No
    graded value depends on it.
    """
    import ipywidgets as widgets
    from IPython.display import display

    T_slider = widgets.IntSlider(value=T, min=2, max=T_max, step=1, description="T")
    rho_slider = widgets.FloatSlider(value=rho, min=0.1, max=2.0, step=0.05, description="rho")
    plot = ContributionPlot(T_max=T_max)
    plt.close(plot.fig)                   # shown as a PNG through display() only

    def redraw(T, rho):
        display(figure_image(plot.update(contribution_view(gradient_contributions, rnn_forward, T, rho,
                                                           T_max=T_max, seed=seed))))

    out = widgets.interactive_output(redraw, {"T": T_slider, "rho": rho_slider})
    return widgets.VBox([widgets.HBox([T_slider, rho_slider]), out])


def decay_table(gradient_contributions, rnn_forward, rhos=(0.5, 0.9, 1.0, 1.5), T=30, distances=(1, 5, 10, 20),
                seed=0):
    """Print how fast the terms fade: decay[d] / decay[0] for each rho (contribution_problem, T steps),
    next to rho^d, the rate of a linear RNN (no tanh). Returns a dict rho -> array of the ratios at `distances`."""
    out = {}
    print(f"mean size of the terms d steps back, relative to d = 0 (T = {T})")
    print(f"{'rho':>5} | " + " | ".join(f"{'d = ' + str(d):>17}" for d in distances))
    for rho in rhos:
        decay = contribution_view(gradient_contributions, rnn_forward, T, rho, seed=seed)["decay"]
        ratios = np.array([decay[d] / decay[0] for d in distances])
        out[rho] = ratios
        print(f"{rho:>5.2f} | " + " | ".join(f"{r:>7.1e} ({rho ** d:>5.1e})" for r, d in zip(ratios, distances)))
    print("in parentheses: rho^d, what a linear RNN h_t = x_t Wx + h_{t-1} Wh would give")
    return out


# ---------------------------------------------------------------- the gradient flowing backward (section 3)

def gradient_flow_figure(T=4, t=1):
    """The unrolled RNN with its gradient flowing backward: the two sources of the gradient at h_t.

    Columns are the steps (h_{-1} = h0 on the left), rows the inputs x, states h,
    outputs y and losses L (as in notebook 01's figure). Grey arrows: the forward
    pass. Red arrows: the backward pass, from every loss L_s down to its state
    h_s and from each state back to the one before (through W_h^T), ending in
    dh0. Bold at step t: the two gradients that add up at h_t, dh[:, t] from
    the output at step t and the one carried back from h_{t+1}. Returns the Figure.
    """
    if not 0 <= t < T - 1:
        raise ValueError(f"t must be a step with a step after it: 0 <= t < T - 1 = {T - 1}; got t={t}")
    from matplotlib.patches import FancyArrowPatch
    from .unrolling import _sub

    fig, ax = plt.subplots(figsize=(11, 5.2), dpi=80)
    ax.axis("off")
    ax.set_xlim(-1.5, T - 0.4)
    ax.set_ylim(-0.55, 3.45)
    grey, red, dark = "0.6", "#d62728", "#8b0000"

    def arrow(a, b, color, lw=1.2, style="-|>", ls="-", shrink=13):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=11, color=color, lw=lw,
                                     linestyle=ls, shrinkA=shrink, shrinkB=shrink, zorder=2))

    for s in range(-1, T):                                   # nodes
        ax.scatter([s], [1], s=520, color="#ffe4e1" if s == t else "lightgray", edgecolors="black",
                   lw=2 if s == t else 1, zorder=3)
        ax.text(s, 1, "h" + _sub(s), ha="center", va="center", zorder=4)
        if s >= 0:
            for row, name, face in ((0, "x", "white"), (2, "y", "white"), (3, "L", "mistyrose")):
                ax.scatter([s], [row], s=520, color=face, edgecolors="black", zorder=3)
                ax.text(s, row, name + _sub(s), ha="center", va="center", zorder=4)
    for s in range(T):                                       # forward: grey, slightly left of the backward arrows
        arrow((s - 0.08, 0), (s - 0.08, 1), grey)
        arrow((s - 0.08, 1), (s - 0.08, 2), grey)
        arrow((s - 0.08, 2), (s - 0.08, 3), grey)
        arrow((s - 1, 1.08), (s, 1.08), grey)
    for s in range(T):                                       # backward: red
        bold = s == t
        arrow((s + 0.08, 3), (s + 0.08, 2), red)
        arrow((s + 0.08, 2), (s + 0.08, 1), dark if bold else red, lw=2.6 if bold else 1.2)
        arrow((s, 0.92), (s - 1, 0.92), dark if s == t + 1 else red, lw=2.6 if s == t + 1 else 1.2)
    ax.text(-1, 0.55, "dh0", ha="center", va="top", color=red, fontsize=11)
    ax.text(t - 0.04, 1.55, f"from the output\nat step {t}: dh[:, {t}]", color=dark, fontsize=9, va="center",
            ha="right")
    ax.text(t + 0.5, 0.8, f"carried back from step {t + 1}:\n"
            + r"$(\partial L/\partial h_{%d} \odot (1 - h_{%d}^2))\, W_h^\top$" % (t + 1, t + 1),
            color=dark, fontsize=8.5, ha="center", va="top")
    ax.text(t, -0.45, r"$\partial L / \partial h_{%d}$ = dh[:, %d] + carried" % (t, t), color=dark, fontsize=10.5,
            ha="center", va="bottom", bbox=dict(boxstyle="round", fc="white", ec=dark))
    ax.set_title("Backward through the unrolled RNN (red): the gradient at each state has two sources",
                 fontsize=11)
    ax.text(T - 0.3, 3.35, "grey: forward   red: backward", ha="right", va="top", fontsize=8, color="0.35")
    return fig


def show_gradient_flow(T=4, t=1):
    """Draw and show gradient_flow_figure(T, t) (a static figure)."""
    gradient_flow_figure(T, t)
    plt.show()
