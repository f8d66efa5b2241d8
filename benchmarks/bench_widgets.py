#!/usr/bin/env python3
"""Widget update latency: what a student waits for after moving a slider, at the sliders' largest values.

For every slider widget of the course, the bpttlab function behind it is
called directly (no browser, no kernel), with the reference solution
standing in for the student's functions, exactly as the widget calls it on
a slider move: recompute the view, update the figure, and render it to PNG
the way the widgets display it (bpttlab.unrolling.figure_image: one render,
fixed layout). Each row is at the sliders' largest values; the median of
--repeats runs is shown, as wall time and as CPU time of this process (the
two differ when other work shares the cores). Target: median wall time
<= 100 ms.

usage: python benchmarks/bench_widgets.py [--repeats R]
"""
import argparse
import contextlib
import io
import statistics
import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("agg")

from bpttlab.unrolling import figure_image  # noqa: E402

import solutions  # noqa: E402
from bpttlab import bptt_plots, truncation_lab, unrolling, vanishing_lab  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_notebooks import machine_summary  # noqa: E402

TARGET_MS = 100.0


def render(fig):
    """PNG bytes of fig, as a widget displays it after a slider move (one render, fixed layout)."""
    return figure_image(fig).data


@contextlib.contextmanager
def quiet():
    """Silence what a widget prints when built outside a kernel (display() falls back to print)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")      # widgets made outside a kernel have no comm: harmless here
        yield


def unrolling_case():
    """Notebook 01, unrolling_widget(rnn_forward, T=6, T_max=24): slider T at 24."""
    T_max, H = 24, 8
    plot = unrolling.UnrolledPlot(T_max, H)

    def move():
        return plot.update(unrolling.unrolled_view(solutions.rnn_forward, T_max, T_max=T_max, H=H))
    return move


def contributions_case():
    """Notebook 02, contributions_widget(..., T=30, rho=0.9, T_max=60): sliders T at 60, rho at 2.0."""
    T_max, rho_max = 60, 2.0
    plot = bptt_plots.ContributionPlot(T_max=T_max)

    def move():
        view = bptt_plots.contribution_view(solutions.gradient_contributions, solutions.rnn_forward,
                                            T_max, rho_max, T_max=T_max)
        return plot.update(view)
    return move


def _truncation_explorer():
    with quiet():
        _, update = truncation_lab.truncation_explorer(
            solutions.rnn_forward, solutions.rnn_backward, solutions.gradient_contributions,
            solutions.rnn_backward_truncated, solutions.rnn_backward_chunked, show=False)
    return update


def truncation_T_case():
    """Notebook 03, truncation_explorer (T_max=60): T moved to 60, a T not seen before (matrix and the bias at
    every k = 1..60 recomputed)."""
    state = {}

    def setup():                 # a fresh explorer each time: its per-T cache starts empty
        state["update"] = _truncation_explorer()

    def move():
        return state["update"](60, 60, "sliding")
    move.setup = setup
    return move


def truncation_k_case():
    """Notebook 03, truncation_explorer (T_max=60): k moved to 60 at T = 60 (cached T: redraw only)."""
    update = _truncation_explorer()
    with quiet():
        update(60, 59, "chunked")    # fills the cache for T = 60

    def move():
        return update(60, 60, "chunked")
    return move


# --- notebook 03, truncation completed: the explorer's rho slider ---
def truncation_rho_case():
    """Notebook 03, truncation_explorer (T_max=60): rho moved to 1.5 at T = 60, k = 60 (new rho: the matrix and
    the bias at every k recomputed)."""
    state = {}

    def setup():                 # a fresh explorer each time: its per-(T, rho) cache starts empty
        state["update"] = _truncation_explorer()

    def move():
        return state["update"](60, 60, "sliding", 1.5)
    move.setup = setup
    return move
# --- end of notebook 03, truncation completed ---


def norm_case():
    """Notebook 04, norm_explorer (T_max=200): rho at 1.5, T at 200, input std at 10**0.5."""
    with quiet():
        _, update = vanishing_lab.norm_explorer(solutions.rnn_forward, solutions.gradient_norms_through_time,
                                                solutions.scale_to_spectral_radius, show=False)

    def move():
        return update(1.5, 200, 10 ** 0.5)
    return move


def gated_case():
    """Notebook 05, gated_explorer (T_max=200): T at 200 and forget bias at 5 (a new LSTM curve), rho at 1.5."""
    from bpttlab import gated_lab
    state = {}

    def setup():                 # a fresh explorer each time: its curve cache starts empty
        with quiet():
            state["update"] = gated_lab.gated_explorer(
                solutions.rnn_forward, solutions.gradient_norms_through_time, solutions.scale_to_spectral_radius,
                solutions.lstm_forward, solutions.lstm_step_backward, show=False)[1]

    def move():
        return state["update"](200, 5.0, 1.5)
    move.setup = setup
    return move


def temperature_case():
    """Notebook 06, temperature_widget: temperature moved to 10 (the slider's maximum), a new sample.

    The model is an untrained RNN language model (the same sizes as the notebook's, H = 32): a move
    costs the same for any weights (a sample of 80 symbols, two bar charts, the marker)."""
    from bpttlab import charlm, lm_widgets, streams
    model = charlm.rnn_language_model(solutions.lm_loss_and_grads, solutions.rnn_forward,
                                      solutions.temporal_affine_forward, H=32, seed=0)
    with quiet():
        _, view = lm_widgets.temperature_widget(model, streams.reber_stream(2, seed=1).strings, show=False)
    seed = [0]

    def move():
        seed[0] += 1
        return view.update(10.0, seed[0])[0]
    return move


CASES = {
    "01 unrolling_widget: T = 24": unrolling_case,
    "02 contributions_widget: T = 60, rho = 2.0": contributions_case,
    "03 truncation_explorer: T -> 60 (new T), k = 60": truncation_T_case,
    "03 truncation_explorer: k -> 60 (T = 60 cached)": truncation_k_case,
    "03 truncation_explorer: rho -> 1.5 (new rho), T = 60, k = 60": truncation_rho_case,
    "04 norm_explorer: rho = 1.5, T = 200, input std = 3.16": norm_case,
    "05 gated_explorer: T = 200, forget bias = 5, rho = 1.5 (both curves new)": gated_case,
    "06 temperature_widget: temperature = 10, new sample": temperature_case,
}


def time_case(make, repeats):
    """Median milliseconds of one slider move (after one warm-up move).

    make() returns move(), which recomputes the view and updates the figure
    (returning it), and may carry move.setup() run untimed before each move.
    Returns a dict: wall and cpu (whole move, medians), render_cpu (the PNG
    part, median CPU time), worst (largest wall time).
    """
    move = make()
    setup = getattr(move, "setup", lambda: None)
    setup()
    render(move())                           # warm-up: fonts and caches of matplotlib
    walls, cpus, render_cpus = [], [], []
    for _ in range(repeats):
        setup()
        w0, c0 = time.perf_counter(), time.process_time()
        fig = move()
        c1 = time.process_time()
        png = render(fig)
        walls.append(1e3 * (time.perf_counter() - w0))
        cpus.append(1e3 * (time.process_time() - c0))
        render_cpus.append(1e3 * (time.process_time() - c1))
        if not png.startswith(b"\x89PNG"):
            raise RuntimeError(f"{make.__name__}: the widget's figure did not render to PNG")
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus),
            "render_cpu": statistics.median(render_cpus), "worst": max(walls)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed moves per widget (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    rows = [(name, time_case(make, args.repeats)) for name, make in CASES.items()]

    print(f"Widget update latency: recompute + redraw + PNG, reference functions, median of {args.repeats}")
    print(f"machine: {machine_summary()}")
    print()
    print("| widget at the sliders' largest values | wall ms | CPU ms | of which PNG, CPU ms | worst wall ms | "
          "target (wall) | met |")
    print("|---|---:|---:|---:|---:|---:|:---:|")
    for name, r in rows:
        print(f"| {name} | {r['wall']:.0f} | {r['cpu']:.0f} | {r['render_cpu']:.0f} | {r['worst']:.0f} | "
              f"<= {TARGET_MS:.0f} | {'yes' if r['wall'] <= TARGET_MS else 'NO'} |")
    return 0 if all(r["wall"] <= TARGET_MS for _, r in rows) else 1

if __name__ == "__main__":
    sys.exit(main())
