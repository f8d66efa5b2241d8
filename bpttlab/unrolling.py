"""Pictures for notebook 01: the unrolled RNN, its hidden states, and what backward must store.

Legend: N batch size, T time steps, D input size, H hidden size.

The view is split in two, so that a widget (or a benchmark) can time them:
unrolled_view() computes (it runs the student's rnn_forward), and
draw_unrolled_view() draws. No graded code lives here.
"""
import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

# Sizes used for the "what backward must store" panel: a realistic batch.
STORE_SIZES = {"N": 32, "D": 64, "H": 128}
WX_COLOR, WH_COLOR, B_COLOR, WY_COLOR, LOSS_COLOR = "tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red"


def demo_problem(T, H=8, rho=0.95, impulse=2.0, seed=0):
    """An RNN that receives one input pulse at t = 0 and silence afterwards.

    Wh = rho * Q with Q a random orthogonal matrix (so every singular value
    and eigenvalue modulus of Wh is rho), Wx standard normal, b = 0, h0 = 0.
    The hidden states then show how the memory of the pulse rotates and fades.

    Returns a dict with x (1, T, 1), h0 (1, H), Wx (1, H), Wh (H, H), b (H,).
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a whole number >= 1; got {T!r}")
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((H, H)))
    Q = Q * np.sign(np.diag(R))                     # a uniformly random orthogonal matrix
    x = np.zeros((1, T, 1))
    x[0, 0, 0] = impulse
    return {"x": x, "h0": np.zeros((1, H)), "Wx": rng.standard_normal((1, H)),
            "Wh": rho * Q, "b": np.zeros(H)}


def cache_floats(N, T, D, H):
    """Numbers (float64 each) held by the sequence cache (x, h0, Wx, Wh, h) of rnn_forward.

    Returns a dict: "x" = N*T*D and "h" = N*T*H grow with T; "h0" = N*H,
    "Wx" = D*H and "Wh" = H*H do not; "total" is their sum.
    """
    parts = {"x": N * T * D, "h": N * T * H, "h0": N * H, "Wx": D * H, "Wh": H * H}
    parts["total"] = sum(parts.values())
    return parts


def unrolled_view(rnn_forward, T, T_max=24, H=8, seed=0, rho=0.95):
    """Everything the unrolled-RNN figure shows, computed with the student's rnn_forward.

    Returns a dict with
    - "T": the sequence length; "T_max": the largest T on the memory axis
    - "h": array of shape (T, H), the hidden states of demo_problem(T, H, rho)
    - "T_range": array (T_max,) of 1..T_max; "stored_MB": array (T_max,), the
      cache size in megabytes for the sizes STORE_SIZES at every T in T_range
    """
    p = demo_problem(T, H=H, rho=rho, seed=seed)
    h, _ = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    h = np.asarray(h)
    if h.shape != (1, T, H):
        raise ValueError(f"rnn_forward returned h of shape {h.shape}; expected (N, T, H) = (1, {T}, {H})")
    T_range = np.arange(1, max(T_max, T) + 1)
    stored = np.array([cache_floats(T=int(t), **STORE_SIZES)["total"] for t in T_range]) * 8 / 1e6
    return {"T": T, "T_max": int(T_range[-1]), "h": h[0], "T_range": T_range, "stored_MB": stored}


SUBSCRIPT = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")
LABELED_STEPS = 10     # weight labels are written on the first steps only


def figure_image(fig):
    """The figure rendered once to PNG, as an IPython Image ready for display().

    The inline backend would render it twice (bbox_inches="tight" needs an extra
    draw); the widgets' figures have fixed layouts, so one render is enough and
    a redraw takes half the time. Text is drawn without hinting: glyph hinting
    is most of the cost of a widget's text (37 labels in notebook 03's explorer)
    and a fifth of its redraw, for a difference hardly visible at 72 dpi.
    """
    import matplotlib
    from IPython.display import Image

    buf = io.BytesIO()
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        fig.savefig(buf, format="png")
    return Image(data=buf.getvalue(), format="png")


def fix_ticks(ax, nbins=4, integer=False, which="xy"):
    """Freeze the ticks of ax for its current limits: at most nbins + 1 nice values, fixed labels.

    A default axis re-runs its locator and formatter a dozen times per render
    (draw, tight bbox, label placement); fixed ticks make that free. Call it
    again after the limits change.
    """
    for name in which:
        axis = ax.xaxis if name == "x" else ax.yaxis
        lo, hi = sorted(axis.get_view_interval())
        span = hi - lo if hi > lo else 1.0
        locs = [v for v in MaxNLocator(nbins, integer=integer).tick_values(lo, hi)
                if lo - 1e-9 * span <= v <= hi + 1e-9 * span]
        axis.set_ticks(locs, labels=[f"{v:g}".replace("-", "\u2212") for v in locs])


def fix_xlabel(ax):
    """Place the x label of ax at a fixed distance below the axes (where matplotlib would put it
    for one line of tick labels), so that a render no longer measures the tick labels to place it."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties
    from matplotlib.transforms import offset_copy

    rc = mpl.rcParams
    below = (rc["xtick.major.size"] + rc["xtick.major.pad"] + ax.xaxis.labelpad
             + FontProperties(size=rc["xtick.labelsize"]).get_size_in_points())
    ax.xaxis.set_label_coords(0.5, 0, transform=offset_copy(ax.transAxes, fig=ax.get_figure(), y=-below,
                                                             units="points"))


def _sub(t):
    """t as Unicode subscript digits (plain text renders much faster than LaTeX)."""
    return str(t).translate(SUBSCRIPT)


class UnrolledPlot:
    """The figure of notebook 01, built once for T up to T_max and updated in place.

    Top: the RNN unrolled over T steps (inputs x_t at the bottom, states h_t
    above them, h_{-1} = h0 on the left, then the outputs y_t = h_t Wy + by and
    the losses L_t, whose sum is the loss L; every blue arrow is the same Wx,
    every orange arrow the same Wh, every purple arrow the same Wy, the same b
    enters every state). Bottom left: heatmap of
    the hidden states h (T, H). Bottom right: megabytes the cache for backward
    holds against T (sizes STORE_SIZES), the current T marked.
    Updating artists instead of rebuilding axes keeps a redraw fast.
    """

    def __init__(self, T_max, H):
        self.T_max, self.H = T_max, H
        self.fig = fig = plt.figure(figsize=(10, 6.4), dpi=72)
        g = self.graph_ax = fig.add_axes((0.01, 0.43, 0.98, 0.52))
        g.axis("off")
        g.set_ylim(-0.35, 3.3)
        self.x_nodes = g.scatter([], [], s=420, color="white", edgecolors="black", zorder=3)
        self.h_nodes = g.scatter([], [], s=420, color="lightgray", edgecolors="black", zorder=3)
        self.y_nodes = g.scatter([], [], s=420, color="white", edgecolors=WY_COLOR, zorder=3)
        self.loss_nodes = g.scatter([], [], s=420, color="mistyrose", edgecolors=LOSS_COLOR, zorder=3)
        self.wx_arrows = g.quiver(np.zeros(T_max), np.zeros(T_max), np.zeros(T_max), np.zeros(T_max),
                                  angles="xy", scale_units="xy", scale=1, color=WX_COLOR, width=0.003)
        self.wh_arrows = g.quiver(np.zeros(T_max), np.zeros(T_max), np.zeros(T_max), np.zeros(T_max),
                                  angles="xy", scale_units="xy", scale=1, color=WH_COLOR, width=0.003)
        self.wy_arrows = g.quiver(np.zeros(T_max), np.zeros(T_max), np.zeros(T_max), np.zeros(T_max),
                                  angles="xy", scale_units="xy", scale=1, color=WY_COLOR, width=0.003)
        self.loss_arrows = g.quiver(np.zeros(T_max), np.zeros(T_max), np.zeros(T_max), np.zeros(T_max),
                                    angles="xy", scale_units="xy", scale=1, color=LOSS_COLOR, width=0.003)
        text = dict(ha="center", va="center", zorder=4)
        self.x_labels = [g.text(t, 0, "x" + _sub(t), **text) for t in range(T_max)]
        self.h_labels = [g.text(t, 1, "h" + _sub(t), **text) for t in range(T_max)]
        self.y_labels = [g.text(t, 2, "y" + _sub(t), **text) for t in range(T_max)]
        self.loss_labels = [g.text(t, 3, "L" + _sub(t), **text) for t in range(T_max)]
        self.h0_label = g.text(-1, 1, "h" + _sub(-1), **text)
        g.text(-1, 0.7, "(h0)", ha="center", va="center")
        n = min(LABELED_STEPS, T_max)
        self.wx_labels = [g.text(t + 0.1, 0.5, "Wx", color=WX_COLOR, va="center") for t in range(n)]
        self.wh_labels = [g.text(t - 0.5, 1.13, "Wh", color=WH_COLOR, ha="center") for t in range(n)]
        self.b_labels = [g.text(t - 0.12, 1.28, "+b", color=B_COLOR, ha="right") for t in range(n)]
        self.wy_labels = [g.text(t + 0.1, 1.5, "Wy", color=WY_COLOR, va="center") for t in range(n)]
        self.title = g.set_title("", fontsize=10, y=1.0)   # a fixed y: no tight-bbox search per draw

        a = self.heat_ax = fig.add_axes((0.06, 0.07, 0.52, 0.25))
        self.heat = a.imshow(np.zeros((H, T_max)), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto",
                             interpolation="nearest")
        a.set_xlabel("time step t")
        a.set_ylabel("hidden unit")
        a.set_title("h_t after a pulse at t = 0 (red +1, blue -1)", fontsize=10, y=1.0)

        m = self.mem_ax = fig.add_axes((0.68, 0.07, 0.3, 0.25))
        self.mem_line, = m.plot([], [], color="black")
        self.mem_mark, = m.plot([], [], "o", color="tab:red")
        m.set_xlabel("sequence length T")
        n = STORE_SIZES
        m.set_ylabel(f"MB, N={n['N']} D={n['D']} H={n['H']}")
        self.mem_title = m.set_title("", fontsize=10, y=1.0)
        a.set_yticks([0, H - 1])
        fix_xlabel(a)
        fix_xlabel(m)
        self._mem_limits = None

    def update(self, view):
        """Show an unrolled_view dict (its T must be <= T_max); returns the figure."""
        T, H = view["T"], self.H
        if not 1 <= T <= self.T_max:
            raise ValueError(f"T must be between 1 and T_max = {self.T_max}; got {T}")
        t = np.arange(T)
        self.x_nodes.set_offsets(np.column_stack([t, np.zeros(T)]))
        self.h_nodes.set_offsets(np.column_stack([np.arange(-1, T), np.ones(T + 1)]))
        self.y_nodes.set_offsets(np.column_stack([t, np.full(T, 2.0)]))
        self.loss_nodes.set_offsets(np.column_stack([t, np.full(T, 3.0)]))
        ts = np.where(np.arange(self.T_max) < T, np.arange(self.T_max), -100.0)   # unused arrows off-screen
        for arrows, y0 in ((self.wx_arrows, 0.16), (self.wy_arrows, 1.16), (self.loss_arrows, 2.16)):
            arrows.set_offsets(np.column_stack([ts, np.full(self.T_max, y0)]))
            arrows.set_UVC(np.zeros(self.T_max), np.full(self.T_max, 0.68))
        self.wh_arrows.set_offsets(np.column_stack([ts - 0.82, np.ones(self.T_max)]))
        self.wh_arrows.set_UVC(np.full(self.T_max, 0.64), np.zeros(self.T_max))
        size = 420 if T <= 12 else 160
        for nodes in (self.x_nodes, self.h_nodes, self.y_nodes, self.loss_nodes):
            nodes.set_sizes([size])
        for i, labels in enumerate(zip(self.x_labels, self.h_labels, self.y_labels, self.loss_labels)):
            for row, lab in enumerate(labels):  # small nodes: first and last labelled only (text is slow to draw)
                lab.set_visible(i < T and (T <= 12 or i in (0, T - 1)))
                lab.set_fontsize(10 if T <= 12 else 8)
                if T <= 12:
                    lab.set_position((i, row))
                    lab.set_ha("center")
                elif row in (1, 2):           # small nodes: h and y labels up and right, clear of the arrows
                    lab.set_position((i + 0.15, row + 0.25))
                    lab.set_ha("left")
                else:                         # x below its node, L above
                    lab.set_position((i, row + (-0.22 if row == 0 else 0.22)))
                    lab.set_ha("center")
        self.h0_label.set_y(1 if T <= 12 else 1.22)
        self.wh_labels[0].set_y(1.13 if T <= 12 else 0.8)   # below the arrow when h labels sit above the nodes
        weights_shown = T <= LABELED_STEPS
        for i in range(len(self.wx_labels)):
            for lab in (self.wx_labels[i], self.wh_labels[i], self.b_labels[i], self.wy_labels[i]):
                lab.set_visible(i < T and (weights_shown or i == 0))
        self.graph_ax.set_xlim(-1.6, max(T, 4) - 0.4)
        total = "L" + _sub(0) + ("" if T == 1 else " + L" + _sub(1) if T == 2 else " + \u2026 + L" + _sub(T - 1))
        self.title.set_text(f"RNN unrolled over T = {T} steps: every step shares Wx, Wh, b and the output "
                            f"weights Wy; the loss is L = {total}")

        self.heat.set_data(view["h"].T)
        self.heat.set_extent((-0.5, T - 0.5, H - 0.5, -0.5))
        fix_ticks(self.heat_ax, nbins=3, integer=True, which="x")

        self.mem_line.set_data(view["T_range"], view["stored_MB"])
        mb = view["stored_MB"][T - 1]
        self.mem_mark.set_data([T], [mb])
        limits = (view["T_max"] + 1, view["stored_MB"][-1] * 1.05)
        if limits != self._mem_limits:             # ticks set once (they depend on T_max only)
            self.mem_ax.set_xlim(0, limits[0])
            self.mem_ax.set_ylim(0, limits[1])
            fix_ticks(self.mem_ax, nbins=3, integer=True, which="x")
            fix_ticks(self.mem_ax, nbins=3, which="y")
            self._mem_limits = limits
        self.mem_title.set_text(f"cache for backward: {mb:.2f} MB at T = {T}")
        return self.fig


def show_unrolled(rnn_forward, T=6, T_max=24, H=8, seed=0, rho=0.95):
    """Compute, draw and show the unrolled view for one T (a static figure); Wh = rho * Q (demo_problem)."""
    plot = UnrolledPlot(max(T_max, T), H)
    plot.update(unrolled_view(rnn_forward, T, T_max=T_max, H=H, seed=seed, rho=rho))
    plt.show()


def unrolling_widget(rnn_forward, T=6, T_max=24, H=8, seed=0):
    """A slider for the sequence length T that redraws the unrolled view with the student's rnn_forward.

    Returns an ipywidgets VBox (slider + output). The figure is built once and
    updated on every move; the default view is drawn at once, so the notebook
    also shows it when run headless. No graded value depends on it.
    """
    import ipywidgets as widgets
    from IPython.display import display

    slider = widgets.IntSlider(value=T, min=1, max=T_max, step=1, description="T")
    plot = UnrolledPlot(T_max, H)
    plt.close(plot.fig)                 # shown as a PNG through display() only, never by the inline backend

    def redraw(T):
        display(figure_image(plot.update(unrolled_view(rnn_forward, T, T_max=T_max, H=H, seed=seed))))

    out = widgets.interactive_output(redraw, {"T": slider})
    return widgets.VBox([slider, out])


def print_cache_table(Ts=(10, 100, 1000, 10000), N=32, D=64, H=128):
    """Print, for each T, the megabytes of float64 numbers the sequence cache holds (see cache_floats)."""
    print(f"sequence cache of rnn_forward for N = {N}, D = {D}, H = {H} (float64, 8 bytes each)")
    print(f"{'T':>7} | {'x (MB)':>9} | {'h (MB)':>9} | {'h0, Wx, Wh (MB)':>16} | {'total (MB)':>10}")
    for T in Ts:
        c = cache_floats(N, T, D, H)
        fixed = c["h0"] + c["Wx"] + c["Wh"]
        print(f"{T:>7} | {c['x'] * 8e-6:>9.2f} | {c['h'] * 8e-6:>9.2f} | {fixed * 8e-6:>16.2f} | "
              f"{c['total'] * 8e-6:>10.2f}")
