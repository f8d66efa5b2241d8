#!/usr/bin/env python3
"""Embedded Reber language model: full BPTT vs chunked truncated BPTT for several k.

The longer run behind notebook 06 (which trains only a few models live).
Same model, data and seeds as the notebook: tanh RNN with H = 32, one-hot
input, softmax output, Adam (lr 1e-2), global-norm clipping at 1, batches
of 32 equally long strings, 4000 training strings (seed 0), 1000 test
strings (seed 1). The reference functions (solutions/) play the student's.

Prints one row per k: mean and range over seeds of the local accuracy, the
long-range accuracy (second-to-last symbol; chance 0.5), the long-range
accuracy on strings of at most k + 2 symbols (whose dependency fits in the
first chunk) and on longer ones, and seconds per run.

usage: python benchmarks/reber_lm_sweep.py [--updates 1200] [--seeds 0 1 2 3 4] [--ks 4 6 8 10 12 0]
       (k = 0 means full BPTT)
"""
import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import solutions  # noqa: E402
from bpttlab import charlm, reber  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=1200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 6, 8, 10, 12, 0])
    args = parser.parse_args()
    fns = charlm.RNNFunctions(solutions.rnn_forward, solutions.rnn_backward, solutions.rnn_backward_chunked,
                              solutions.clip_grad_norm, solutions.temporal_softmax_loss)
    train = reber.embedded_reber_strings(4000, seed=0)
    test = reber.embedded_reber_strings(1000, seed=1)
    print(f"{args.updates} updates per run, seeds {args.seeds}; accuracy: mean [min, max] over seeds")
    print(f"{'k':>5} | {'local':>18} | {'long-range':>18} | {'long, len <= k+2':>18} | "
          f"{'long, len > k+2':>18} | {'s/run':>5}")
    for k in args.ks:
        rows = {"local": [], "long": [], "short_in": [], "long_out": []}
        seconds = []
        for seed in args.seeds:
            run = charlm.train_language_model(fns, train, test, k=k or None, updates=args.updates, seed=seed,
                                              progress=False, eval_every=args.updates)
            seconds.append(run.seconds)
            rows["local"].append(run.metrics["local"])
            rows["long"].append(run.metrics["long_range"])
            lengths, acc, counts = charlm.long_range_by_length(fns, run.params, test)
            inside = lengths <= (k + 2 if k else lengths.max())
            for key, sel in (("short_in", inside), ("long_out", ~inside)):
                rows[key].append(np.sum(acc[sel] * counts[sel]) / counts[sel].sum() if sel.any() else np.nan)

        def cell(v):
            v = np.array(v)
            return f"{np.mean(v):.3f} [{np.min(v):.2f}, {np.max(v):.2f}]" if np.all(np.isfinite(v)) else "-"
        print(f"{(k or 'full')!s:>5} | {cell(rows['local']):>18} | {cell(rows['long']):>18} | "
              f"{cell(rows['short_in']):>18} | {cell(rows['long_out']):>18} | {np.mean(seconds):5.1f}", flush=True)


if __name__ == "__main__":
    main()
