#!/usr/bin/env python3
"""Precompute the longer delayed-echo sweep that notebook 03 shows as a table.

Trains the tanh RNN of bpttlab.delayed_echo (H = 32, batch 32, Adam 3e-3, no
clipping) with the reference functions, for each delay L, truncation k and
seed below, and writes the final accuracies (fresh streams, chance 0.5) to
bpttlab/data/delayed_echo_sweep.json with the settings used. Every update
reads the same S = 2 (L + 1) steps of each stream whatever k (chunks of k
inside, the last one shorter when k does not divide S), so all k of one L see
the same data and make the same number of updates: only the truncation
differs. The notebook runs a short live version of the same code.

Each row also keeps a fingerprint: the mean training loss of the first
fingerprint_updates updates of its first seed. Final accuracies of rows that
have not converged differ from one BLAS kernel to another (training amplifies
the last-bit differences; benchmarks/numeric_spread.py measures it), but the
fingerprint is the same on every kernel to about 1e-16, so
tests/test_bpttlab_truncation.py checks on any machine that the shipped rows
come from this code. "machine" records numpy's BLAS kernel.

usage: python benchmarks/delayed_echo_sweep.py [--jobs J]   (about 10 minutes of CPU; J runs at once)
"""
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))   # benchmarks/, also when a test loads this file
import blas_kernel  # noqa: E402

from bpttlab import delayed_echo  # noqa: E402
from solutions import rnn_backward_chunked, rnn_forward  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bpttlab" / "data" / "delayed_echo_sweep.json"
SETTINGS = {"H": 32, "N": 32, "lr": 3e-3, "updates": 3000, "steps_per_update": "2 (L + 1)", "clipping": None,
            "fingerprint_updates": 200}
SEEDS = (0, 1, 2)
DELAYS = {8: (4, 6, 7, 8, 9, 16), 12: (6, 9, 11, 12, 13, 24)}


def steps_per_update(L):
    """S = 2 (L + 1): the time steps of every stream read per update, the same for every k of one L."""
    return 2 * (L + 1)


def one_run(task):
    """The final accuracy of one (L, k, seed) of the sweep: a float."""
    L, k, seed = task
    return delayed_echo.train_echo(rnn_forward, rnn_backward_chunked, L, k, seed=seed,
                                   updates=SETTINGS["updates"], H=SETTINGS["H"], N=SETTINGS["N"],
                                   lr=SETTINGS["lr"], steps_per_update=steps_per_update(L)).accuracy


def main(argv=None):
    import argparse
    from multiprocessing import Pool
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once (default: %(default)s)")
    args = parser.parse_args(argv)
    tasks = [(L, k, s) for L, ks in DELAYS.items() for k in ks for s in SEEDS]
    start = time.perf_counter()
    if args.jobs > 1:                     # every run is seeded on its own: the same numbers in any order
        with Pool(args.jobs) as pool:
            accuracies = pool.map(one_run, tasks, chunksize=1)
    else:
        accuracies = [one_run(t) for t in tasks]
    by_task = dict(zip(tasks, accuracies))
    rows = []
    print(f"{'L':>3} {'k':>3}  accuracy per seed {SEEDS}   ({time.perf_counter() - start:.0f} s in all)")
    for L, ks in DELAYS.items():
        for k in ks:
            accs = [by_task[(L, k, s)] for s in SEEDS]
            rows.append({"L": L, "k": k, "steps_per_update": steps_per_update(L),
                         "accuracy": [round(a, 4) for a in accs]})
            rows[-1]["fingerprint"] = delayed_echo.sweep_fingerprint(
                rnn_forward, rnn_backward_chunked, {"settings": SETTINGS, "seeds": list(SEEDS), "results": rows},
                len(rows) - 1)
            print(f"{L:>3} {k:>3}  {' '.join(f'{a:.3f}' for a in accs)}", flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"what": "delayed echo y_t = x_{t-L}; final accuracy on fresh streams "
                               "(chance 0.5), chunked TBPTT with chunk length k",
                               "generated_by": "benchmarks/delayed_echo_sweep.py", "machine": blas_kernel.describe(),
                               "seeds": list(SEEDS),
                               "settings": SETTINGS, "results": rows}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
