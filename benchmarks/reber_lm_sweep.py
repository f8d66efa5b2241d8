#!/usr/bin/env python3
"""Embedded Reber language model: full BPTT vs chunked truncated BPTT for several k.

The longer run behind notebook 06 (which trains only a few models live).
Same model, data and seeds as the notebook: tanh RNN with H = 32, one-hot
input, softmax output, Adam (lr 1e-2), global-norm clipping at 1, batches
of 32 equally long strings, 4000 training strings (seed 0), 1000 test
strings (seed 1). The reference functions (solutions/) play the student's.

Prints one row per k: mean and range over seeds of the long-range accuracy
(second-to-last symbol; chance 0.5) after each number of updates, the
long-range accuracy on strings of at most k + 2 symbols (whose dependency
fits in the first chunk) and on longer ones, and the local accuracy. Each row
also keeps a fingerprint, the mean training loss of the first updates of its
first seed: the same on every BLAS kernel (unlike the final accuracies, which
training makes depend on the kernel; see benchmarks/numeric_spread.py).

usage: python benchmarks/reber_lm_sweep.py [--updates 1200 2400] [--seeds 0 1 2 3 4] [--ks 4 6 8 10 12 0] [--write]
       (k = 0 means full BPTT; --write stores the table that notebook 06 prints in
       bpttlab/data/reber_lm_sweep.json; about 10 minutes of CPU)
"""
import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))   # benchmarks/, also when a test loads this file
import blas_kernel  # noqa: E402

import solutions  # noqa: E402
from bpttlab import charlm, reber  # noqa: E402


ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bpttlab" / "data" / "reber_lm_sweep.json"
SETTINGS = {"H": 32, "N": 32, "lr": 1e-2, "max_norm": 1.0, "train_strings": 4000, "train_seed": 0,
            "test_strings": 1000, "test_seed": 1, "fingerprint_updates": 100}



def run_row(fns, train, test, k, seeds, updates):
    """Every seed for one k (0 = full BPTT): per-seed accuracies at each of `updates` (one run to the last)."""
    row = {"k": k or None, "long_range": {str(u): [] for u in updates}, "local": {str(u): [] for u in updates},
           "long_range_fits": [], "long_range_longer": [], "seconds": []}
    for seed in seeds:
        run = charlm.train_language_model(fns, train, test, k=k or None, updates=max(updates), seed=seed,
                                          progress=False, eval_every=min(updates), H=SETTINGS["H"],
                                          N=SETTINGS["N"], lr=SETTINGS["lr"], max_norm=SETTINGS["max_norm"])
        row["seconds"].append(round(run.seconds, 1))
        for u, metrics in zip(run.checkpoints, run.history):
            if str(u) in row["long_range"]:
                row["long_range"][str(u)].append(metrics["long_range"])
                row["local"][str(u)].append(metrics["local"])
        lengths, acc, counts = charlm.long_range_by_length(fns, run.params, test)
        inside = lengths <= (k + 2 if k else lengths.max())
        for key, sel in (("long_range_fits", inside), ("long_range_longer", ~inside)):
            row[key].append(float(np.sum(acc[sel] * counts[sel]) / counts[sel].sum()) if sel.any() else None)
        if seed == seeds[0]:
            row["fingerprint"] = float(np.mean(run.losses[:SETTINGS["fingerprint_updates"]]))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, nargs="+", default=[1200, 2400],
                        help="report the accuracy after these many updates (multiples of the smallest)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 6, 8, 10, 12, 0])
    parser.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(ROOT)} (notebook 06 prints it)")
    parser.add_argument("--out", type=Path, default=OUT, help="where --write writes (default: %(default)s)")
    args = parser.parse_args()
    if any(u % min(args.updates) for u in args.updates):
        parser.error("every --updates value must be a multiple of the smallest")
    fns = charlm.RNNFunctions(solutions.rnn_forward, solutions.rnn_backward, solutions.rnn_backward_chunked,
                              solutions.clip_grad_norm, solutions.temporal_softmax_loss)
    train = reber.embedded_reber_strings(SETTINGS["train_strings"], seed=SETTINGS["train_seed"])
    test = reber.embedded_reber_strings(SETTINGS["test_strings"], seed=SETTINGS["test_seed"])
    sweep = {"what": "embedded Reber language model: accuracy on the test strings, full BPTT (k = null) or chunked "
                     "BPTT with chunk length k; long_range_fits / long_range_longer: the long-range accuracy on "
                     "strings of at most k + 2 symbols (the dependency fits in the first chunk) and on longer ones, "
                     "after the last number of updates",
             "generated_by": "benchmarks/reber_lm_sweep.py", "machine": blas_kernel.describe(), "seeds": args.seeds,
             "updates": args.updates, "settings": SETTINGS, "results": []}
    for k in args.ks:
        sweep["results"].append(run_row(fns, train, test, k, args.seeds, args.updates))
        print(charlm.sweep_table(sweep).splitlines()[-1], flush=True)
    print(charlm.sweep_table(sweep))
    if args.write:
        args.out.write_text(json.dumps(sweep, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
