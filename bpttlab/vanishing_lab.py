"""Experiments and a widget for vanishing and exploding gradients.

Legend: N batch size, T time steps, D input size, H hidden size, rho spectral radius.

Going back one step multiplies dL/dh_t by the step Jacobian
J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) @ Wh.T. Pascanu, Mikolov & Bengio (2013)
bound its norm: ||J_t|| <= ||diag(1 - h_t^2)|| * ||Wh|| <= gamma * sigma_max(Wh),
with gamma = 1 for tanh. Every function that needs an RNN takes the
student's functions as arguments; this module has no graded code.
"""
import numpy as np


def orthogonal(H, seed):
    """A random orthogonal matrix of shape (H, H) (QR of a Gaussian matrix, signs fixed)."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    return q * np.sign(np.diag(r))


def recurrent_matrix(scale_to_spectral_radius, H, rho, kind="orthogonal", seed=0):
    """A recurrent weight matrix Wh of shape (H, H) with spectral radius rho.

    kind "orthogonal": rho times an orthogonal matrix (normal: all singular
    values equal rho); kind "gaussian": a Gaussian matrix rescaled, which is
    non-normal (its largest singular value is well above rho).
    scale_to_spectral_radius: the student's function (W, rho) -> W_scaled.
    """
    if kind == "orthogonal":
        W = orthogonal(H, seed)
    elif kind == "gaussian":
        W = np.random.default_rng(seed).standard_normal((H, H)) / np.sqrt(H)
    else:
        raise ValueError(f"kind must be 'orthogonal' or 'gaussian'; got {kind!r}")
    return scale_to_spectral_radius(W, rho)


def driven_rnn(rnn_forward, Wh, T, N=8, input_std=1.0, seed=0):
    """Run a tanh RNN with recurrent matrix Wh (H, H) on Gaussian inputs.

    Wx is the identity (D = H), so each unit gets an input drive of standard
    deviation input_std; b = 0, h0 = 0. Returns (h (N, T, H), cache).
    """
    H = Wh.shape[0]
    rng = np.random.default_rng(seed)
    x = input_std * rng.standard_normal((N, T, H))
    return rnn_forward(x, np.zeros((N, H)), np.eye(H), Wh, np.zeros(H))


def pascanu_bound(h, Wh, norm_last):
    """Upper bounds on ||dL/dh_s|| when the loss depends on h_{T-1} only.

    Inputs:
    - h: array of shape (N, T, H), hidden states; Wh: array of shape (H, H)
    - norm_last: float, ||dL/dh_{T-1}||

    Returns a tuple of two arrays of shape (T,):
    - per_step: norm_last * prod over t = s+1..T-1 of sigma_max(Wh) * max_{n,i} (1 - h[n, t, i]^2)
    - crude: norm_last * sigma_max(Wh) ** (T-1-s)   (gamma = 1 for tanh)
    """
    T = h.shape[1]
    sigma = np.linalg.norm(Wh, 2)
    factors = sigma * (1 - h ** 2).max(axis=(0, 2))          # bound on ||J_t|| for every t, (T,)
    per_step = norm_last * np.append(np.cumprod(factors[:0:-1])[::-1], 1.0)
    crude = norm_last * sigma ** (T - 1 - np.arange(T))
    return per_step, crude


def norm_curves(rnn_forward, gradient_norms_through_time, scale_to_spectral_radius, rhos, T=60, H=32,
                N=8, input_std=1.0, kind="orthogonal", seed=0):
    """Gradient norm vs distance back in time, for several spectral radii.

    Returns a dict with "distance" (T,) = T-1-s for s = T-1..0 (0, 1, ..., T-1)
    and, for every rho in rhos, a dict with "norms", "bound", "crude" (each
    (T,), indexed by distance and divided by ||dL/dh_{T-1}||) and "sigma_max".
    """
    rng = np.random.default_rng(seed + 1)
    out = {"distance": np.arange(T)}
    for rho in rhos:
        Wh = recurrent_matrix(scale_to_spectral_radius, H, rho, kind, seed)
        h, cache = driven_rnn(rnn_forward, Wh, T, N, input_std, seed)
        dh_last = rng.standard_normal((N, H))
        norms = gradient_norms_through_time(dh_last, cache)
        per_step, crude = pascanu_bound(h, Wh, norms[-1])
        out[rho] = {"norms": norms[::-1] / norms[-1], "bound": per_step[::-1] / norms[-1],
                    "crude": crude[::-1] / norms[-1], "sigma_max": float(np.linalg.norm(Wh, 2))}
    return out


def plot_norm_curves(curves, ax=None, show_bounds=True):
    """log10 of the gradient norm vs distance, one colour per rho, with the bound
    sigma_max^distance (Pascanu et al. 2013, gamma = 1) dashed.

    curves: dict from norm_curves. Returns the Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    d = curves["distance"]
    for i, rho in enumerate(r for r in curves if r != "distance"):
        c = curves[rho]
        ax.plot(d, np.log10(c["norms"]), color=f"C{i}", lw=2, label=f"rho = {rho}  (sigma_max = {c['sigma_max']:.2f})")
        if show_bounds:
            ax.plot(d, np.log10(c["crude"]), "--", color=f"C{i}", lw=1)
    ax.set(xlabel="distance back in time, T-1-s", ylabel="log10 ||dL/dh_s|| / ||dL/dh_{T-1}||",
           title="measured (solid) and the bound sigma_max^distance (dashed)")
    ax.legend(fontsize=8)
    return ax


def jacobian_product_norms(step_jacobians, cache, T_max):
    """||dh_t/dh_0||_2 for t = 1..T_max, from the student's step Jacobians (sample 0).

    cache: a sequence cache with at least T_max + 1 steps.
    Returns an array of shape (T_max,); entry t-1 is the spectral norm of
    J[0, t] @ J[0, t-1] @ ... @ J[0, 1].
    """
    J = step_jacobians(cache)[0]
    P = np.eye(J.shape[-1])
    out = np.empty(T_max)
    for t in range(1, T_max + 1):
        P = J[t] @ P                         # dh_t/dh_0 = J_t @ dh_{t-1}/dh_0
        out[t - 1] = np.linalg.norm(P, 2)
    return out


def linear_product_norms(Wh, T_max):
    """||dh_t/dh_0||_2 = ||(Wh.T)^t||_2 for a linear RNN (no tanh), t = 1..T_max: array (T_max,)."""
    P = np.eye(Wh.shape[0])
    out = np.empty(T_max)
    for t in range(T_max):
        P = Wh.T @ P
        out[t] = np.linalg.norm(P, 2)
    return out


def first_below(values, threshold=1e-4):
    """The first t (1-based) with values[t-1] < threshold, or None: for arrays from *_product_norms."""
    below = np.flatnonzero(np.asarray(values) < threshold)
    return int(below[0]) + 1 if below.size else None


def vanishing_table(rnn_forward, step_jacobians, scale_to_spectral_radius, rhos, H=64, input_std=1.0,
                    T_max=200, threshold=1e-4, seed=0):
    """First t with ||dh_t/dh_0||_2 < threshold: tanh RNN (measured) vs linear RNN, W = rho * orthogonal.

    Returns a list of dicts with keys rho, linear, tanh (ints, or None when not
    reached within T_max) and rho_power (the t at which rho^t < threshold, for rho < 1).
    """
    rows = []
    for rho in rhos:
        Wh = recurrent_matrix(scale_to_spectral_radius, H, rho, "orthogonal", seed)
        _, cache = driven_rnn(rnn_forward, Wh, T_max + 1, N=1, input_std=input_std, seed=seed)
        rows.append({"rho": rho, "linear": first_below(linear_product_norms(Wh, T_max), threshold),
                     "tanh": first_below(jacobian_product_norms(step_jacobians, cache, T_max), threshold),
                     "rho_power": int(np.floor(np.log(threshold) / np.log(rho))) + 1 if rho < 1 else None})
    return rows


# ---------------------------------------------------------------- the cliff (Pascanu et al. 2013, Fig. 6)

def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def cliff_loss_and_grad(w, b, T=50, x0=0.5, target=0.7):
    """The one-unit model x_t = w * sigmoid(x_{t-1}) + b, x_0 = x0, and E = (sigmoid(x_T) - target)^2.

    w, b: arrays of the same shape (any, e.g. a grid (B, W)) or floats.
    Returns (E, dE/dw, dE/db), each shaped like w: scalar BPTT over the T steps.
    """
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    xs = [np.full(w.shape, float(x0))]
    for _ in range(T):
        xs.append(w * _sigmoid(xs[-1]) + b)
    s = _sigmoid(xs[-1])
    E = (s - target) ** 2
    dx = 2 * (s - target) * s * (1 - s)              # dE/dx_T through the squared error and sigmoid
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    for t in range(T, 0, -1):
        s_prev = _sigmoid(xs[t - 1])
        dw += dx * s_prev                             # x_t = w * sigmoid(x_{t-1}) + b: dx_t/dw
        db += dx                                      # dx_t/db = 1
        dx = dx * w * s_prev * (1 - s_prev)           # into x_{t-1}: dx_t/dx_{t-1} = w sigmoid'(x_{t-1})
    return E, dw, db


def cliff_descent(w0, b0, lr, steps, clip_grad_norm=None, max_norm=1.0):
    """Gradient descent on the cliff model, optionally with the student's clip_grad_norm.

    Returns an array of shape (steps + 1, 2): the (w, b) visited.
    """
    path = [(float(w0), float(b0))]
    w, b = float(w0), float(b0)
    for _ in range(steps):
        _, dw, db = cliff_loss_and_grad(w, b)
        grads = {"w": np.array([float(dw)]), "b": np.array([float(db)])}
        if clip_grad_norm is not None:
            grads, _ = clip_grad_norm(grads, max_norm)
        w, b = w - lr * float(grads["w"][0]), b - lr * float(grads["b"][0])
        path.append((w, b))
    return np.array(path)


def plot_cliff(paths, w_range=(-2, 12), b_range=(-6, 2), resolution=200, max_norm=None, axes=None):
    """Left: the loss surface of the cliff model with descent paths; right: the gradient norm
    at every step of each path (log scale), where a cliff shows up as a spike.

    paths: dict label -> array (S, 2) from cliff_descent. A path that leaves the
    window is drawn up to its edge; its end point is written in the legend.
    max_norm: if given, drawn as a horizontal line on the right. Returns the two Axes.
    """
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    W, B = np.meshgrid(np.linspace(*w_range, resolution), np.linspace(*b_range, resolution))
    E, _, _ = cliff_loss_and_grad(W, B)
    im = axes[0].imshow(E, origin="lower", extent=[*w_range, *b_range], aspect="auto", cmap="viridis")
    plt.colorbar(im, ax=axes[0], label="E")
    for i, ((label, path), color) in enumerate(zip(paths.items(), ["r", "w", "c", "y"])):
        end = path[-1]
        axes[0].plot(path[:, 0], path[:, 1], ".-", color=color, ms=3, lw=1,
                     label=f"{label}: ends at w = {end[0]:.1f}, b = {end[1]:.1f}")
        _, dw, db = cliff_loss_and_grad(path[:-1, 0], path[:-1, 1])
        axes[1].semilogy(np.hypot(dw, db), color=color if color != "w" else "C0", label=label,
                         lw=3 - 1.5 * min(i, 1), zorder=2 + i)     # the first path drawn wider, underneath
    axes[0].set(xlim=w_range, ylim=b_range, xlabel="w", ylabel="b",
                title="E over (w, b): the cliff is the sharp edge")
    axes[0].legend(fontsize=8, loc="lower left")
    if max_norm is not None:
        axes[1].axhline(max_norm, color="k", ls=":", lw=1, label=f"max_norm = {max_norm}")
    axes[1].set(xlabel="descent step", ylabel="||(dE/dw, dE/db)||", title="gradient norm along each path")
    axes[1].legend(fontsize=8)
    return axes


# ---------------------------------------------------------------- widget

def norm_explorer(rnn_forward, gradient_norms_through_time, scale_to_spectral_radius, rho=0.9, T=60,
                  input_std=1.0, T_max=200, H=32, seed=0, show=True):
    """Sliders for the spectral radius rho, the length T and the input size; redraws the
    gradient-norm curve and the Pascanu bound sigma_max^distance.

    Inputs: the student's functions; rho, T, input_std: the starting view
    (input_std is the standard deviation of each unit's input drive); T_max:
    the largest T of the slider; H, seed: the network (Wh = rho * orthogonal).
    Returns (widget, update) where update(rho, T, input_std) computes and draws
    one view and returns the Figure (the function the sliders call).
    """
    import ipywidgets as widgets
    from IPython.display import display
    from matplotlib.figure import Figure

    from .unrolling import fix_ticks, fix_xlabel

    # One figure whose lines are updated in place (re-creating axes on every move is slow).
    fig = Figure(figsize=(7.5, 3.8), dpi=80)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.14, top=0.9)
    measured_line, = ax.plot([], [], color="C0", lw=2)
    bound_line, = ax.plot([], [], "--", color="C0", lw=1)
    ax.set(xlabel="distance back in time, T-1-s", ylabel="log10 ||dL/dh_s|| / ||dL/dh_{T-1}||")
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_title("", fontsize=9, y=1.0)      # a fixed y: matplotlib no longer measures the axes to place the title
    fix_xlabel(ax)                           # the same for the x label

    def update(rho, T, input_std):
        curves = norm_curves(rnn_forward, gradient_norms_through_time, scale_to_spectral_radius, [rho],
                             T=T, H=H, N=4, input_std=input_std, seed=seed)
        c = curves[rho]
        measured = np.log10(c["norms"])
        measured_line.set_data(curves["distance"], measured)
        bound_line.set_data(curves["distance"], np.log10(c["crude"]))
        ax.set_xlim(0, T - 1)
        ax.set_ylim(max(-16.0, measured.min() - 1), max(1.0, min(8.0, measured.max() + 2)))
        fix_ticks(ax, nbins=5)                          # fixed ticks: no locator run on every draw
        ax.set_title(f"rho = {rho:.2f} (sigma_max = {c['sigma_max']:.2f}), T = {T}, input std {input_std:.2g}\n"
                     f"measured (solid), bound sigma_max^distance (dashed)", fontsize=9)
        return fig

    rho_slider = widgets.FloatSlider(value=rho, min=0.5, max=1.5, step=0.05, description="rho")
    T_slider = widgets.IntSlider(value=T, min=5, max=T_max, step=5, description="T")
    std_slider = widgets.FloatLogSlider(value=input_std, base=10, min=-2, max=0.5, step=0.25,
                                        description="input std")
    from .unrolling import figure_image             # one render (the inline backend's tight bbox draws twice)
    out = widgets.interactive_output(lambda rho, T, input_std: display(figure_image(update(rho, T, input_std))),
                                     {"rho": rho_slider, "T": T_slider, "input_std": std_slider})
    box = widgets.VBox([widgets.HBox([rho_slider, T_slider, std_slider]), out])
    if show:
        display(box)
    return box, update


def plot_non_normal(rnn_forward, step_jacobians, scale_to_spectral_radius, rho=0.9, H=64, T_max=60,
                    input_std=0.1, seed=0, ax=None):
    """||dh_t/dh_0||_2 vs t for a normal (rho * orthogonal) and a non-normal (Gaussian) Wh of the
    same spectral radius rho, for a linear RNN and a tanh RNN.

    Returns (ax, curves) with curves a dict label -> array of shape (T_max,).
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
    curves = {}
    for kind, color in (("orthogonal", "C0"), ("gaussian", "C3")):
        Wh = recurrent_matrix(scale_to_spectral_radius, H, rho, kind, seed)
        sigma = np.linalg.norm(Wh, 2)
        _, cache = driven_rnn(rnn_forward, Wh, T_max + 1, N=1, input_std=input_std, seed=seed)
        curves[f"{kind}, linear"] = linear_product_norms(Wh, T_max)
        curves[f"{kind}, tanh"] = jacobian_product_norms(step_jacobians, cache, T_max)
        t = np.arange(1, T_max + 1)
        ax.plot(t, np.log10(curves[f"{kind}, linear"]), color=color, lw=2,
                label=f"{kind} Wh (sigma_max = {sigma:.2f}), linear RNN")
        ax.plot(t, np.log10(curves[f"{kind}, tanh"]), "--", color=color, lw=1.5,
                label=f"{kind} Wh, tanh RNN (input std {input_std})")
    ax.axhline(0, color="gray", lw=0.8)
    ax.plot(t, t * np.log10(rho), ":", color="k", lw=1, label=f"rho^t, rho = {rho}")
    ax.set(xlabel="t", ylabel="log10 ||J_t ... J_1||_2", title=f"same spectral radius {rho}, different transients")
    ax.legend(fontsize=8)
    return ax, curves


def exploding_step(rnn_forward, rnn_backward, clip_grad_norm, Wh, Ts, input_std=0.01, max_norm=1.0, N=8, seed=0):
    """Size of one training step's gradient as T grows, before and after norm clipping.

    The loss is sum(g * h_{T-1}) for a fixed random g (N, H): only the last state
    matters, and BPTT carries its gradient back through all T steps. Uses the
    student's rnn_forward, rnn_backward and clip_grad_norm; Wh (H, H).

    Returns a list of dicts with T, "norm" (the total_norm clip_grad_norm reports)
    and "clipped" (the global norm of the clipped gradients).
    """
    rows = []
    for T in Ts:
        h, cache = driven_rnn(rnn_forward, Wh, T, N=N, input_std=input_std, seed=seed)
        dh = np.zeros(h.shape)
        dh[:, -1] = np.random.default_rng(seed + 1).standard_normal(h[:, -1].shape)
        _, _, dWx, dWh, db = rnn_backward(dh, cache)
        clipped, total = clip_grad_norm({"Wx": dWx, "Wh": dWh, "b": db}, max_norm)
        after = float(np.linalg.norm(np.concatenate([g.ravel() for g in clipped.values()])))
        rows.append({"T": T, "norm": float(total), "clipped": after})
    return rows
