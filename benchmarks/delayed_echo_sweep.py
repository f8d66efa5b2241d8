#!/usr/bin/env python3
"""Precompute the longer delayed-echo sweep that notebook 03 shows as a table.

Trains the tanh RNN of bpttlab.delayed_echo (H = 32, batch 32, Adam 3e-3, no
clipping, one update per chunk of k steps) with the reference functions, for
each delay L, truncation k and seed below, and writes the final accuracies
(fresh streams, chance 0.5) to toolbox/bpttlab/data/delayed_echo_sweep.json with the
settings used. The notebook runs a short live version of the same code.

usage: python benchmarks/delayed_echo_sweep.py   (about 2-3 minutes on 2 cores)
"""
import json
import time
from pathlib import Path

from bpttlab import delayed_echo
from solutions import rnn_backward_chunked, rnn_forward

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "toolbox" / "bpttlab" / "data" / "delayed_echo_sweep.json"
SETTINGS = {"H": 32, "N": 32, "lr": 3e-3, "updates": 6000, "chunks_per_update": 1, "clipping": None}
SEEDS = (0, 1, 2)
DELAYS = {8: (4, 6, 7, 8, 9, 16), 12: (6, 9, 11, 12, 13, 24)}


def main():
    rows = []
    print(f"{'L':>3} {'k':>3}  accuracy per seed {SEEDS}   seconds")
    for L, ks in DELAYS.items():
        for k in ks:
            start = time.perf_counter()
            accs = [delayed_echo.train_echo(rnn_forward, rnn_backward_chunked, L, k, seed=s,
                                            updates=SETTINGS["updates"], H=SETTINGS["H"], N=SETTINGS["N"],
                                            lr=SETTINGS["lr"]).accuracy for s in SEEDS]
            secs = time.perf_counter() - start
            rows.append({"L": L, "k": k, "accuracy": [round(a, 4) for a in accs]})
            print(f"{L:>3} {k:>3}  {' '.join(f'{a:.3f}' for a in accs)}   {secs:6.1f}", flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"what": "delayed echo y_t = x_{t-L}; final accuracy on fresh streams "
                               "(chance 0.5), chunked TBPTT with chunk length k",
                               "generated_by": "benchmarks/delayed_echo_sweep.py", "seeds": list(SEEDS),
                               "settings": SETTINGS, "results": rows}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
