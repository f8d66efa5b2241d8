#!/usr/bin/env python3
"""RNN vs LSTM language models on the embedded Reber stream: long-range accuracy over seeds, truncations, budgets.

Legend: N batch size (pieces of the stream), k window length (the truncation), H hidden size.

Runs notebook 06's own training loop (the cell that defines
train_language_model, read from the source notebook: one source of truth) with
the reference functions standing in for the student's, for every model, k and
seed, and records the long-range accuracy on the test stream at each budget
(updates). Writes the table notebook 06 prints (bpttlab/data/lm_rnn_vs_lstm_sweep.json)
and prints it. The same settings as the notebook: streams of 4000 (training) and
200 (test) strings, N = 32, Adam 0.01, clipping at 1, RNN H = 32, LSTM H = 16
(about as many weights).

Each (model, k) also keeps a fingerprint: the mean training loss of the first
fingerprint_updates updates of its first seed. Long-range accuracies of runs
that have not converged depend on the machine's BLAS kernel (training
amplifies last-bit differences); the start of training does not, so
tests/test_bpttlab_lm.py checks on any machine, from the fingerprints, that the
shipped rows come from this code, data and settings. "machine" records numpy's
BLAS kernel. --fingerprints-only recomputes just the fingerprints of the
shipped table (seconds, not minutes), e.g. after adding them to an older table.

usage: python benchmarks/lm_rnn_vs_lstm_sweep.py [--seeds 0 1 2 3 4] [--ks 5 10 20]
                                                 [--budgets 400 2000] [--models RNN LSTM] [--out PATH]
       python benchmarks/lm_rnn_vs_lstm_sweep.py --fingerprints-only [--out PATH]
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

# One BLAS thread, set before numpy loads OpenBLAS: the products here are small, and OpenBLAS's threads,
# which it starts for a product of a (640, 32) array at k = 20, make a loaded machine many times slower
# (measured: 340 ms instead of 9 ms per rnn_backward at load 20). One thread also fixes the summation order.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import blas_kernel  # noqa: E402
import sync_notebooks  # noqa: E402

from bpttlab import charlm, streams  # noqa: E402

NOTEBOOK = ROOT / "course" / "source" / "06_language_model" / "06_language_model.ipynb"
FUNCTIONS = ("rnn_forward", "rnn_backward", "clip_grad_norm", "temporal_softmax_loss", "temporal_affine_forward",
             "temporal_affine_backward", "lm_loss_and_grads", "lstm_step_forward", "lstm_step_backward",
             "lstm_forward", "lstm_backward")
SETTINGS = {"N": 32, "H_rnn": 32, "H_lstm": 16, "lr": 0.01, "max_norm": 1.0, "train_strings": 4000,
            "test_strings": 200, "fingerprint_updates": 100}


def notebook_namespace():
    """The reference functions as the notebook's cells hold them (input checks left out, as synced),
    and the notebook's train_language_model, without a progress bar."""
    import nbformat
    ns = {"np": np, "time": time, "charlm": charlm, "streams": streams, "tqdm": lambda it, **kw: it}
    for name in FUNCTIONS:
        exec(sync_notebooks.reference_source(name), ns)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "def train_language_model(" in c.source)
    exec(cell, ns)
    return ns


def make_model(ns, kind, seed):
    if kind == "RNN":
        return charlm.rnn_language_model(ns["lm_loss_and_grads"], ns["rnn_forward"], ns["temporal_affine_forward"],
                                         H=SETTINGS["H_rnn"], seed=seed)
    return charlm.lstm_language_model(ns["lstm_forward"], ns["lstm_backward"], ns["temporal_affine_forward"],
                                      ns["temporal_affine_backward"], ns["temporal_softmax_loss"],
                                      H=SETTINGS["H_lstm"], seed=seed)


def streams_of(settings):
    """(training stream, test stream) of the sweep: seeds 0 and 1."""
    return (streams.reber_stream(settings["train_strings"], seed=0),
            streams.reber_stream(settings["test_strings"], seed=1))


def fingerprint(ns, kind, k, seed, settings=SETTINGS, train=None):
    """Mean training loss of the first settings["fingerprint_updates"] updates of one run (no evaluation)."""
    train = streams_of(settings)[0] if train is None else train
    updates = settings["fingerprint_updates"]
    tiny_test = streams.reber_stream(5, seed=1)          # evaluated once, at the end: does not change training
    history = ns["train_language_model"](make_model(ns, kind, seed), train, tiny_test, k, updates, N=settings["N"],
                                         lr=settings["lr"], max_norm=settings["max_norm"], eval_every=updates)
    return float(np.mean(history.losses))


def add_fingerprints(path):
    """Recompute the fingerprint of every (model, k) of the table at `path` and write it back."""
    sweep = json.loads(path.read_text())
    ns, train = notebook_namespace(), streams_of(sweep["settings"])[0]
    settings = {**SETTINGS, **sweep["settings"], "fingerprint_updates": SETTINGS["fingerprint_updates"]}
    done = {}
    for row in sweep["results"]:
        key = (row["model"], row["k"])
        if key not in done:
            done[key] = fingerprint(ns, row["model"], row["k"], sweep["seeds"][0], settings, train)
            print(f"{key[0]} k={key[1]}: fingerprint {done[key]:.12f}", flush=True)
        row["fingerprint"] = done[key]
    sweep["settings"] = settings
    sweep["fingerprints_by"] = f"--fingerprints-only with {blas_kernel.describe()}"
    path.write_text(json.dumps(sweep, indent=1) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--ks", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--budgets", type=int, nargs="+", default=[400, 2000])
    parser.add_argument("--models", nargs="+", default=["RNN", "LSTM"], choices=["RNN", "LSTM"])
    parser.add_argument("--out", type=Path, default=Path(charlm.__file__).parent / "data" / "lm_rnn_vs_lstm_sweep.json",
                        help="where to write the table (default: the one notebook 06 prints, in bpttlab/data/)")
    parser.add_argument("--fingerprints-only", action="store_true",
                        help="only recompute the fingerprints of the table at --out")
    args = parser.parse_args(argv)
    if args.fingerprints_only:
        add_fingerprints(args.out)
        return 0
    budgets = sorted(args.budgets)
    every = int(np.gcd.reduce(budgets))
    ns = notebook_namespace()
    train, test = streams_of(SETTINGS)
    n_first = SETTINGS["fingerprint_updates"]
    results = []
    for kind in args.models:
        for k in args.ks:
            rows = {b: {"model": kind, "k": k, "updates": b, "long_range": [], "cpu_ms_per_update": 0.0}
                    for b in budgets}
            cpu = []
            for seed in args.seeds:
                history = ns["train_language_model"](make_model(ns, kind, seed), train, test, k, budgets[-1],
                                                     N=SETTINGS["N"], lr=SETTINGS["lr"],
                                                     max_norm=SETTINGS["max_norm"], eval_every=every)
                at = dict(zip(history.checkpoints, history.evals))
                for b in budgets:
                    rows[b]["long_range"].append(round(at[b]["long_range"], 3))
                cpu.append(history.seconds / budgets[-1])
                if seed == args.seeds[0]:
                    for b in budgets:
                        rows[b]["fingerprint"] = float(np.mean(history.losses[:n_first]))
                print(f"{kind} k={k} seed={seed}: " + ", ".join(f"{b}: {at[b]['long_range']:.3f}" for b in budgets)
                      + f" ({history.seconds:.1f} s CPU)", flush=True)
            for b in budgets:
                rows[b]["cpu_ms_per_update"] = round(1e3 * float(np.median(cpu)), 2)
                results.append(rows[b])
    sweep = {"what": "long-range accuracy on the test stream (chance 0.5) of notebook 06's language models, "
                     "stateful truncated BPTT with windows of k steps",
             "generated_by": "benchmarks/lm_rnn_vs_lstm_sweep.py", "machine": blas_kernel.describe(),
             "settings": SETTINGS, "seeds": args.seeds,
             "budgets": budgets, "results": results}
    args.out.write_text(json.dumps(sweep, indent=1) + "\n")
    print(charlm.sweep_table(sweep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
