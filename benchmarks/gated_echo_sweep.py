#!/usr/bin/env python3
"""Precompute the longer delayed-echo race, tanh RNN against LSTM, that notebook 05 shows as a table.

Trains both networks with bpttlab.gated_lab.echo_race's settings (H = 32, batch 32,
Adam 0.01, gradient-norm clipping at 1, forget-gate bias 1, chunks of k = 2L
steps with the state carried, one update per chunk) and the reference
functions, for each delay L and seed below, and writes to
toolbox/bpttlab/data/gated_echo_sweep.json the final accuracy on fresh streams (chance
0.5) and the training loss averaged over blocks of 100 updates. The notebook
runs a short live version of the same code with the student's functions.

usage: python benchmarks/gated_echo_sweep.py [--workers W] [--updates U]
  (the shipped file took 50 minutes with 2 workers on the 2-core development machine at load ~19;
  an LSTM run costs about 4 times an RNN run)
"""
import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "toolbox" / "bpttlab" / "data" / "gated_echo_sweep.json"
SETTINGS = {"H": 32, "N": 32, "lr": 1e-2, "max_norm": 1.0, "forget_bias": 1.0, "k": "2 L"}
SEEDS = (0, 1, 2)
DELAYS = (15, 20)
BLOCK = 100                       # updates per point of the stored loss curve
MODELS = ("tanh RNN", "LSTM")


def one_run(model, L, seed, updates):
    """Train one network; returns (model, L, seed, accuracy, loss per block of BLOCK updates, seconds)."""
    from threadpoolctl import threadpool_limits

    import solutions
    from bpttlab import delayed_echo, gated_lab

    common = dict(updates=updates, H=SETTINGS["H"], N=SETTINGS["N"], lr=SETTINGS["lr"],
                  clip_grad_norm=solutions.clip_grad_norm, max_norm=SETTINGS["max_norm"], seed=seed)
    start = time.perf_counter()
    with threadpool_limits(1):        # small matrices: one BLAS thread per worker is fastest
        if model == "tanh RNN":
            run = delayed_echo.train_echo(solutions.rnn_forward, solutions.rnn_backward_chunked, L, 2 * L, **common)
        else:
            run = gated_lab.train_echo_lstm(solutions.lstm_forward, solutions.lstm_backward, L, 2 * L,
                                            forget_bias=SETTINGS["forget_bias"], **common)
    blocks = run.losses[: updates // BLOCK * BLOCK].reshape(-1, BLOCK).mean(axis=1)
    return model, L, seed, run.accuracy, [round(float(v), 4) for v in blocks], time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--updates", type=int, default=3000)
    args = parser.parse_args(argv)
    jobs = [(model, L, seed, args.updates) for L in DELAYS for model in MODELS for seed in SEEDS]
    jobs.sort(key=lambda job: -(4 if job[0] == "LSTM" else 1) * job[1])      # longest first: even load on the workers
    results = {}
    print(f"{'model':>8} {'L':>3} {'k':>3} {'seed':>4}  accuracy  seconds", flush=True)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for model, L, seed, acc, curve, secs in pool.map(one_run, *zip(*jobs)):
            results[(model, L, seed)] = (acc, curve)
            print(f"{model:>8} {L:>3} {2 * L:>3} {seed:>4}  {acc:8.3f}  {secs:7.1f}", flush=True)
    rows = [{"model": model, "L": L, "k": 2 * L,
             "accuracy": [round(results[(model, L, s)][0], 4) for s in SEEDS],
             "loss_per_block": [results[(model, L, s)][1] for s in SEEDS]}
            for L in DELAYS for model in MODELS]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({
        "what": "delayed echo y_t = x_{t-L}: tanh RNN vs LSTM, same streams, sizes, optimizer, clipping and "
                "truncation (chunks of k = 2L steps); final accuracy on fresh streams (chance 0.5) and the "
                f"training loss averaged over blocks of {BLOCK} updates (guessing: ln 2 = 0.693)",
        "generated_by": "benchmarks/gated_echo_sweep.py", "seeds": list(SEEDS),
        "settings": {**SETTINGS, "updates": args.updates, "block": BLOCK}, "results": rows}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
