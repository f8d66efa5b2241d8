#!/usr/bin/env python3
"""Precompute the longer delayed-echo sweep that notebook 03 shows as a table.

Trains the tanh RNN of bpttlab.delayed_echo (H = 32, batch 32, Adam 3e-3, no
clipping, one update per chunk of k steps) with the reference functions, for
each delay L, truncation k and seed below, and writes the final accuracies
(fresh streams, chance 0.5) to bpttlab/data/delayed_echo_sweep.json with the
settings used and the machine's BLAS. The notebook runs a short live version
of the same code.

Each row also keeps a fingerprint: the mean training loss of the first
fingerprint_updates updates of its first seed. Final accuracies of rows that
have not converged differ from one BLAS kernel to another (training amplifies
the last-bit differences; benchmarks/numeric_spread.py measures it), but the
fingerprint is the same on every kernel to about 1e-16, so
tests/test_bpttlab_truncation.py can check on any machine that the shipped
rows come from this code.

usage: python benchmarks/delayed_echo_sweep.py   (about 10 minutes of CPU, one BLAS thread)
"""
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))   # benchmarks/, also when a test loads this file
import blas_kernel  # noqa: E402

from bpttlab import delayed_echo  # noqa: E402
from solutions import rnn_backward_chunked, rnn_forward  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bpttlab" / "data" / "delayed_echo_sweep.json"
SETTINGS = {"H": 32, "N": 32, "lr": 3e-3, "updates": 6000, "chunks_per_update": 1, "clipping": None,
            "fingerprint_updates": 200}
SEEDS = (0, 1, 2)
DELAYS = {8: (4, 6, 7, 8, 9, 16), 12: (6, 9, 11, 12, 13, 24)}



def main():
    rows = []
    print(f"{'L':>3} {'k':>3}  accuracy per seed {SEEDS}   seconds")
    for L, ks in DELAYS.items():
        for k in ks:
            start = time.perf_counter()
            runs = [delayed_echo.train_echo(rnn_forward, rnn_backward_chunked, L, k, seed=s,
                                            updates=SETTINGS["updates"], H=SETTINGS["H"], N=SETTINGS["N"],
                                            lr=SETTINGS["lr"]) for s in SEEDS]
            accs = [r.accuracy for r in runs]
            secs = time.perf_counter() - start
            fingerprint = float(np.mean(runs[0].losses[:SETTINGS["fingerprint_updates"]]))
            rows.append({"L": L, "k": k, "accuracy": [round(a, 4) for a in accs], "fingerprint": fingerprint})
            print(f"{L:>3} {k:>3}  {' '.join(f'{a:.3f}' for a in accs)}   {secs:6.1f}", flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"what": "delayed echo y_t = x_{t-L}; final accuracy on fresh streams "
                               "(chance 0.5), chunked TBPTT with chunk length k",
                               "generated_by": "benchmarks/delayed_echo_sweep.py", "machine": blas_kernel.describe(),
                               "seeds": list(SEEDS),
                               "settings": SETTINGS, "results": rows}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
