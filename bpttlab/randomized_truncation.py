"""Randomized truncation, and why the 1/p reweighting (not the randomness) removes the bias.

Legend: N batch size, T time steps, D input size, H hidden size, p the
probability that a backward link is kept, M the number of random draws.

Every backward link t -> t-1 is kept with probability p and cut otherwise,
independently. Cut links alone only ever remove signal: on average the
gradient is the one of BPTT with every link scaled by p, still biased. Giving
each kept link the weight 1/p, xi[t] = Bernoulli(p)/p, makes E[xi[t]] = 1;
every path from a loss to an earlier step crosses each link at most once, so
the expectation of the whole gradient is the full BPTT gradient. This is the
unbiased truncation of Tallec & Ollivier (2017, "Unbiasing truncated
backpropagation through time"), whose price is variance: a path through m
links has weight (1/p)^m with probability p^m.

Functions that need an RNN take the student's functions as arguments; this
module has no graded code.
"""
import numpy as np


def link_weights(T, p, rng, reweight=True):
    """Random weights of the T backward links: Bernoulli(p) / p, or Bernoulli(p) without reweighting.

    Inputs: T, the number of steps; p in (0, 1]; rng, a numpy Generator;
    reweight: divide the kept links by p (True) or keep them at 1 (False).
    Returns xi, an array of shape (T,).
    """
    if not 0 < p <= 1:
        raise ValueError(f"p (the probability of keeping a link) must be in (0, 1]; got {p!r}")
    keep = (rng.random(T) < p).astype(np.float64)
    return keep / p if reweight else keep


def monte_carlo(rnn_forward, rnn_backward, rnn_backward_weighted, problem, ps, draws=200, seed=0):
    """Draw random link weights many times and collect the estimates of dWh.

    Inputs:
    - the student's rnn_forward, rnn_backward and rnn_backward_weighted (contract signatures)
    - problem: dict from truncation_lab.random_problem
    - ps: sequence of keep probabilities p; draws: M, the number of draws per p and scheme

    Returns a dict with
    - "full": dWh of full BPTT (H, H);
    - "ps": array (P,);
    - "expected_unweighted": (P, H, H), the exact mean of the unreweighted
      estimator, rnn_backward_weighted with every link equal to p;
    - "reweighted", "unweighted": arrays (P, M, H, H), the M estimates of dWh.
    """
    rng = np.random.default_rng(seed)
    q = problem
    _, cache = rnn_forward(q["x"], q["h0"], q["Wx"], q["Wh"], q["b"])
    T = q["x"].shape[1]
    out = {"full": rnn_backward(q["dh"], cache)[3], "ps": np.asarray(ps, dtype=np.float64),
           "expected_unweighted": np.array([rnn_backward_weighted(q["dh"], cache, np.full(T, p))[3] for p in ps])}
    for name, reweight in (("reweighted", True), ("unweighted", False)):
        out[name] = np.array([[rnn_backward_weighted(q["dh"], cache, link_weights(T, p, rng, reweight))[3]
                               for _ in range(draws)] for p in ps])
    return out


def summarize(mc):
    """The numbers the plots show, from a monte_carlo result.

    With g the full dWh and g_i the draws, for each p and each scheme:
    - "along": mean over draws of <g_i, g> / ||g||^2 (1 = unbiased along g), shape (P,)
    - "along_se": its standard error, std / sqrt(M), shape (P,)
    - "bias": ||mean_i g_i - g|| / ||g||, shape (P,)
    - "spread": sqrt(mean_i ||g_i - mean g_i||^2) / ||g||, the relative standard
      deviation of one draw, shape (P,)
    Returns {"reweighted": {...}, "unweighted": {...}}.
    """
    g = mc["full"]
    gg = float(np.sum(g * g))
    out = {}
    for name in ("reweighted", "unweighted"):
        est = mc[name]                                   # (P, M, H, H)
        M = est.shape[1]
        along = np.einsum("pmij,ij->pm", est, g) / gg
        mean = est.mean(axis=1)
        out[name] = {"along": along.mean(axis=1), "along_se": along.std(axis=1, ddof=1) / np.sqrt(M),
                     "bias": np.linalg.norm((mean - g).reshape(len(mean), -1), axis=1) / np.sqrt(gg),
                     "spread": np.sqrt(np.mean(np.sum((est - mean[:, None]) ** 2, axis=(2, 3)), axis=1) / gg)}
    return out


def running_error(estimates, full):
    """||mean of the first m estimates - full|| / ||full|| for m = 1..M.

    estimates: array (M, H, H); full: array (H, H). Returns an array (M,).
    """
    m = np.arange(1, len(estimates) + 1)[:, None, None]
    running = np.cumsum(estimates, axis=0) / m
    return np.linalg.norm((running - full).reshape(len(running), -1), axis=1) / np.linalg.norm(full)


def summary_table(mc):
    """The Monte Carlo result as a text table, one row per p: a str.

    Columns: the mean projection <g_i, g>/||g||^2 +- 2 standard errors for the
    reweighted and the unreweighted draws, the exact expectation of the
    unreweighted estimator (every link scaled by p), and the spread of one draw.
    """
    s = summarize(mc)
    g = mc["full"]
    exact = np.einsum("pij,ij->p", mc["expected_unweighted"], g) / np.sum(g * g)
    M = mc["reweighted"].shape[1]
    lines = [f"M = {M} draws per p; projection <mean, g> / ||g||^2 (1 = the full gradient) +- 2 standard errors",
             "   p   reweighted (xi = B/p)   not reweighted (xi = B)   exact mean, not reweighted   "
             "spread of one draw (reweighted)"]
    for i, p in enumerate(mc["ps"]):
        r, u = s["reweighted"], s["unweighted"]
        lines.append(f"{p:4.2f}   {r['along'][i]:8.3f} +- {2 * r['along_se'][i]:.3f}   "
                     f"{u['along'][i]:11.3f} +- {2 * u['along_se'][i]:.3f}   {exact[i]:26.3f}   "
                     f"{r['spread'][i]:30.2f}")
    for name, what in (("reweighted", "reweighted"), ("unweighted", "not reweighted")):
        inside = np.abs(s[name]["along"] - 1) <= 2 * s[name]["along_se"]
        lines.append(f"{what}: 1 lies within 2 standard errors of the mean at p = "
                     f"{', '.join(f'{p:g}' for p in mc['ps'][inside]) or 'none'}"
                     f"{'' if inside.all() else ' and outside at p = ' + ', '.join(f'{p:g}' for p in mc['ps'][~inside])}")
    return "\n".join(lines)


# ---------------------------------------------------------------- plots

def plot_monte_carlo(mc, axes=None):
    """Three panels from a monte_carlo result.

    Left: the mean projection <g_i, g>/||g||^2 vs p with error bars (2 standard
    errors), reweighted and not; 1 is the full gradient. Middle: error of the
    running mean vs the number of draws, for every p (reweighted: falls like
    1/sqrt(M); not reweighted: stops at its bias). Right: the spread of one
    draw vs p. Returns the three Axes.
    """
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
    s = summarize(mc)
    ps = mc["ps"]
    colours = {"reweighted": "C0", "unweighted": "C3"}
    labels = {"reweighted": "Bernoulli(p) / p (reweighted)", "unweighted": "Bernoulli(p) (not reweighted)"}
    for name in ("reweighted", "unweighted"):
        axes[0].errorbar(ps, s[name]["along"], yerr=2 * s[name]["along_se"], fmt="o-", ms=4, capsize=3,
                         color=colours[name], label=labels[name])
    axes[0].axhline(1.0, color="k", lw=1, ls="--")
    axes[0].set(xlabel="p (probability of keeping a link)", ylabel="<mean estimate, g> / ||g||^2",
                title="mean of the draws (error bars: 2 s.e.)")
    axes[0].legend(fontsize=8)
    M = mc["reweighted"].shape[1]
    m = np.unique(np.geomspace(1, M, 30).astype(int))         # 30 points a line: enough on a log axis
    for i, p in enumerate(ps):
        axes[1].loglog(m, running_error(mc["reweighted"][i], mc["full"])[m - 1], color=f"C{i % 10}", lw=1.2,
                       label=f"p = {p:g}")
        axes[1].loglog(m, running_error(mc["unweighted"][i], mc["full"])[m - 1], color=f"C{i % 10}", lw=1,
                       ls=":")
    spread = summarize(mc)["reweighted"]["spread"][0]
    axes[1].loglog(m, spread / np.sqrt(m), color="grey", lw=1, ls="--", label="1/sqrt(M) slope")
    axes[1].set(xlabel="number of draws M", ylabel="||mean of M draws - g|| / ||g||",
                title="running mean: reweighted (solid), not (dotted)")
    axes[1].legend(fontsize=8)
    for name in ("reweighted", "unweighted"):
        axes[2].semilogy(ps, s[name]["spread"], "o-", ms=4, color=colours[name], label=labels[name])
    axes[2].set(xlabel="p", ylabel="std of one draw / ||g||", title="the price: variance grows as p falls")
    axes[2].invert_xaxis()
    axes[0].invert_xaxis()
    return axes
