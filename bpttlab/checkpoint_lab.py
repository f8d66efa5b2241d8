"""Memory and time of exact and truncated BPTT: checkpointing against truncation.

Legend: N batch size, T time steps, D input size, H hidden size, k truncation
length, every the spacing of the checkpoints.

Memory is measured with tracemalloc (numpy reports its arrays to it): the
peak of the bytes allocated during one call, above what existed before it
(the inputs). Times are CPU times of this process, medians of repeated calls
with the BLAS pinned to one thread (threadpoolctl), so that they do not swing
with the machine's load and thread count; counted quantities (states kept, forward steps) are given
next to them because they do not vary at all.

Functions that need an RNN take the student's functions as arguments; this
module has no graded code.
"""
import time
import tracemalloc
from contextlib import contextmanager

import numpy as np


@contextmanager
def one_blas_thread():
    """Pin numpy's BLAS to one thread inside the block (threadpoolctl), so that timings compare."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        yield


def peak_bytes(fn, *args):
    """(result, peak) of fn(*args): peak is the largest number of bytes allocated during the call
    above what was allocated before it (tracemalloc)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        result = fn(*args)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, peak


def median_seconds(fn, *args, repeats=5):
    """Median CPU time (time.process_time) of `repeats` calls of fn(*args), with the BLAS on one
    thread: a float in seconds. CPU time of this process barely changes with other programs' load."""
    times = []
    with one_blas_thread():
        for _ in range(repeats):
            start = time.process_time()
            fn(*args)
            times.append(time.process_time() - start)
    return float(np.median(times))


def states_kept_checkpointed(T, every):
    """Hidden states alive at once with checkpoints every `every` steps: the ceil(T / every)
    checkpoints plus the at most `every` states of the segment being recomputed. An int."""
    return -(-T // every) + min(every, T)


def sqrt_optimum(T):
    """The spacing that minimises states_kept_checkpointed(T, every): an int near sqrt(T)."""
    return min(range(1, T + 1), key=lambda e: (states_kept_checkpointed(T, e), abs(e - np.sqrt(T))))


def checkpoint_costs(rnn_forward, rnn_backward, rnn_backward_checkpointed, problem, everys, repeats=5):
    """Peak memory, time and counted cost of checkpointed BPTT for each spacing, and of full BPTT.

    Inputs:
    - the student's rnn_forward, rnn_backward and rnn_backward_checkpointed (contract signatures)
    - problem: dict from truncation_lab.random_problem; everys: the spacings to try
    - repeats: calls per timing (the median is kept)

    Returns a dict with "T", "state_bytes" (the bytes of one state, N x H x 8),
    "every" (E,), "peak_bytes" (E,), "seconds" (E,),
    "states" (E,) from states_kept_checkpointed, "max_error" (E,) = the largest
    |difference| from full BPTT over all five gradients, "rel_error" (E,) =
    ||dWh - dWh_full|| / ||dWh_full|| (rounding only), and "full", a dict with
    the "peak_bytes", "seconds" and "states" (T + 1) of rnn_forward + rnn_backward.
    """
    q = problem
    args = (q["x"], q["h0"], q["Wx"], q["Wh"], q["b"])
    T = q["x"].shape[1]

    def full_bptt():
        _, cache = rnn_forward(*args)
        return rnn_backward(q["dh"], cache)

    exact, full_peak = peak_bytes(full_bptt)
    out = {"T": T, "every": np.asarray(list(everys), dtype=int), "state_bytes": q["h0"].nbytes,
           "full": {"peak_bytes": full_peak, "seconds": median_seconds(full_bptt, repeats=repeats), "states": T + 1}}
    peaks, secs, errors, rel = [], [], [], []
    for every in out["every"]:
        got, peak = peak_bytes(rnn_backward_checkpointed, q["dh"], *args, int(every))
        peaks.append(peak)
        secs.append(median_seconds(rnn_backward_checkpointed, q["dh"], *args, int(every), repeats=repeats))
        errors.append(max(float(np.max(np.abs(g - e))) for g, e in zip(got, exact)))
        rel.append(float(np.linalg.norm(got[3] - exact[3]) / np.linalg.norm(exact[3])))
    out.update(peak_bytes=np.array(peaks), seconds=np.array(secs), max_error=np.array(errors),
               rel_error=np.array(rel),
               states=np.array([states_kept_checkpointed(T, int(e)) for e in out["every"]]))
    return out


def online_chunked(rnn_forward, rnn_backward_chunked, problem, k):
    """Chunked truncated BPTT as an online learner runs it: forward one chunk from the carried
    state, backpropagate it, keep only the weight gradients, move on.

    Returns (dWh (H, H), peak bytes during the whole pass). dWh equals
    rnn_backward_chunked on the whole sequence; the memory is that of one chunk.
    """
    q = problem
    T = q["x"].shape[1]

    def run():
        h_carry, dWh = q["h0"], np.zeros(q["Wh"].shape)
        for start in range(0, T, k):
            stop = min(start + k, T)
            h, cache = rnn_forward(q["x"][:, start:stop], h_carry, q["Wx"], q["Wh"], q["b"])
            dWh += rnn_backward_chunked(q["dh"][:, start:stop], cache, k)[3]
            h_carry = h[:, -1]
        return dWh
    return peak_bytes(run)


def memory_vs_error(rnn_forward, rnn_backward, rnn_backward_chunked, costs, problem, ks):
    """Points for the chart of memory against gradient error.

    Inputs: the student's functions; costs from checkpoint_costs (same problem);
    ks: chunk lengths for online truncated BPTT.
    Returns a dict of schemes, each {"peak_bytes": (P,), "rel_error": (P,), "label": (P,)}:
    "full" (one point), "checkpointed" (one per spacing, error 0 up to rounding)
    and "chunked" (one per k; relative error ||dWh_k - dWh|| / ||dWh||).
    """
    q = problem
    _, cache = rnn_forward(q["x"], q["h0"], q["Wx"], q["Wh"], q["b"])
    dWh = rnn_backward(q["dh"], cache)[3]
    norm = np.linalg.norm(dWh)
    chunk = [online_chunked(rnn_forward, rnn_backward_chunked, q, int(k)) for k in ks]
    return {"full": {"peak_bytes": np.array([costs["full"]["peak_bytes"]]), "rel_error": np.zeros(1),
                     "label": ["full BPTT"]},
            "checkpointed": {"peak_bytes": costs["peak_bytes"], "rel_error": costs["rel_error"],
                             "label": [f"every = {e}" for e in costs["every"]]},
            "chunked": {"peak_bytes": np.array([p for _, p in chunk]),
                        "rel_error": np.array([np.linalg.norm(g - dWh) / norm for g, _ in chunk]),
                        "label": [f"k = {k}" for k in ks]}}


def costs_table(costs):
    """checkpoint_costs as a text table, one row per spacing, then full BPTT, then the optimum: a str."""
    full = costs["full"]
    lines = [f"T = {costs['T']}; memory = peak bytes during the call (tracemalloc); time = median CPU time, "
             f"1 BLAS thread",
             " every   states kept   peak MB   x full   CPU ms   x full   max |error|"]
    for e, st, pk, s, err in zip(costs["every"], costs["states"], costs["peak_bytes"], costs["seconds"],
                                 costs["max_error"]):
        lines.append(f"{e:6d}   {st:11d}   {pk / 1e6:7.3f}   {pk / full['peak_bytes']:6.2f}   {1e3 * s:6.1f}   "
                     f"{s / full['seconds']:6.2f}   {err:11.1e}")
    lines.append(f"  full   {full['states']:11d}   {full['peak_bytes'] / 1e6:7.3f}     1.00   "
                 f"{1e3 * full['seconds']:6.1f}     1.00")
    ratio = costs["seconds"] / full["seconds"]
    lines.append(f"time: {ratio.min():.2f} to {ratio.max():.2f} times full BPTT's CPU time (measured); "
                 f"{2 * costs['T']} forward steps instead of {costs['T']} (counted)")
    best = int(costs["every"][np.argmin(costs["peak_bytes"])])
    lines.append(f"counted optimum: every = {sqrt_optimum(costs['T'])} "
                 f"({states_kept_checkpointed(costs['T'], sqrt_optimum(costs['T']))} states, sqrt(T) = "
                 f"{np.sqrt(costs['T']):.1f}); measured optimum: every = {best} "
                 f"({np.min(costs['peak_bytes']) / full['peak_bytes']:.0%} of full BPTT's peak)")
    return "\n".join(lines)


# ---------------------------------------------------------------- plots

EXACT_FLOOR = 1e-17          # where exact schemes are drawn on the log error axis


def plot_checkpoint_costs(costs, axes=None):
    """Two panels: peak memory and median time of checkpointed BPTT vs every, full BPTT as a line,
    the counted states (as bytes: states x N x H x 8) dotted, and sqrt(T) marked. Returns the two Axes."""
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    e, T = costs["every"], costs["T"]
    best = sqrt_optimum(T)
    ax = axes[0]
    ax.loglog(e, costs["peak_bytes"] / 1e6, "o-", ms=4, color="C0", label="checkpointed: measured peak")
    ax.axhline(costs["full"]["peak_bytes"] / 1e6, color="C3", ls="--", label="full BPTT: measured peak")
    ax.set(xlabel="every (steps between checkpoints)", ylabel="peak memory (MB, tracemalloc)",
           title=f"memory (T = {T})")
    ax.loglog(e, costs["states"] * costs["state_bytes"] / 1e6, "k:", lw=1, label="states kept, counted (x N H 8 bytes)")
    ax.legend(fontsize=7, loc="upper center")
    axes[1].semilogx(e, 1e3 * costs["seconds"], "o-", ms=4, color="C0", label="checkpointed")
    axes[1].axhline(1e3 * costs["full"]["seconds"], color="C3", ls="--", label="full BPTT")
    axes[1].set(xlabel="every", ylabel="CPU ms per call (median, 1 BLAS thread)", title="time")
    axes[1].set_ylim(bottom=0)
    axes[1].legend(fontsize=8)
    for a in axes:
        a.axvline(best, color="k", lw=1, ls="-.")
        a.text(best, 0.03, f" sqrt(T) ~ {best}", transform=a.get_xaxis_transform(), va="bottom", fontsize=8)
    return axes


def plot_memory_vs_error(points, ax=None):
    """Peak memory (x) against the relative error of dWh (y) for full BPTT, checkpointing and
    chunked truncation; exact schemes (error below 1e-12: rounding) sit on the bottom row. Returns the Axes."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    style = {"full": ("C3", "s", "full BPTT"), "checkpointed": ("C0", "o", "checkpointing (exact)"),
             "chunked": ("C1", "^", "chunked truncation (biased)")}
    def shown(err):                  # rounding-level errors (exact schemes) go on the "exact" row
        return np.where(err < 1e-12, EXACT_FLOOR, err)
    for name, (colour, marker, label) in style.items():
        pts = points[name]
        ax.loglog(pts["peak_bytes"] / 1e6, shown(pts["rel_error"]), marker, ls="-" if
                  name == "chunked" else "none", ms=6, color=colour, label=label, alpha=0.8)
    for i, (x, y, text) in enumerate(zip(points["chunked"]["peak_bytes"] / 1e6, shown(points["chunked"]["rel_error"]),
                                         points["chunked"]["label"])):
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(3, 5 if i % 2 else -11), fontsize=7)
    from matplotlib.ticker import NullFormatter
    ax.xaxis.set_minor_formatter(NullFormatter())
    lo, hi = ax.get_xlim()
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_yticks([EXACT_FLOOR, 1e-12, 1e-8, 1e-4, 1], ["exact", "1e-12", "1e-8", "1e-4", "1"])
    ax.set(xlabel="peak memory (MB, tracemalloc)", ylabel="||dWh - dWh_full|| / ||dWh_full||",
           title="memory against gradient error")
    ax.legend(fontsize=8)
    return ax
