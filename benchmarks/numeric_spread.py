#!/usr/bin/env python3
"""How much the results that pass through training move from one BLAS kernel to another.

A trained model's accuracy is not a reproducible number across machines:
OpenBLAS picks a different kernel on each CPU (Haswell, SkylakeX, Zen, ...),
the kernels add in different orders, and thousands of updates amplify the
last-bit differences. This script reruns the course's training-based numbers
once per kernel, forced with OPENBLAS_CORETYPE (one fresh process each, one
BLAS thread), and prints one row per number with its value under each kernel
and the spread (max - min). The tests and the notebooks' text rely only on
what this table shows to be stable; benchmarks/README.md keeps the latest
table.

Probes (each a few numbers):
  echo_tests    the delayed-echo runs of tests/test_bpttlab_truncation.py
  echo_live     notebook 03's live run (L = 10, k = 5, 10, 11, 1500 updates)
  echo_prefix   the fingerprint of the shipped sweep's first row (mean loss of the first updates)
  echo_sweep_some  the sweep's rows (L, k) = (8, 4), (8, 9), (12, 6), every seed (slow)
  echo_sweep    every row and seed of bpttlab/data/delayed_echo_sweep.json (6000 updates each; very slow)
  lm_prefix     the fingerprints of notebook 06's shipped RNN vs LSTM table (first 100 updates of seed 0)
  lm_live       notebook 06's default runs (RNN and LSTM, k = 10, 400 updates, seed 0)
  lm_sweep      every row and seed of bpttlab/data/lm_rnn_vs_lstm_sweep.json (about 10 min of CPU; slow)

usage: python benchmarks/numeric_spread.py [--kernels Haswell SandyBridge Nehalem Prescott]
                                           [--probes echo_tests echo_live ...] [--json out.json]
A kernel the CPU cannot run (e.g. SkylakeX without AVX-512) dies with SIGILL and is reported as such.
OPENBLAS_CORETYPE names that this OpenBLAS does not know fall back to the detected kernel: the
"kernel" line of the table shows what OpenBLAS really used (OPENBLAS_VERBOSE=2).
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBES = ("echo_tests", "echo_live", "echo_prefix", "lm_prefix", "lm_live")
SLOW_PROBES = ("echo_sweep_some", "echo_sweep", "lm_sweep")


# ---------------------------------------------------------------- probes (run in the worker process)

def probe_echo_tests():
    import numpy as np
    import solutions as S
    from bpttlab import delayed_echo
    good = delayed_echo.train_echo(S.rnn_forward, S.rnn_backward_chunked, L=6, k=7, updates=600, H=16, N=16)

    def no_recurrent_gradient(dh, cache, k):
        dx, dh0, dWx, dWh, db = S.rnn_backward_chunked(dh, cache, k)
        return dx, dh0, 0 * dWx, 0 * dWh, 0 * db
    frozen = delayed_echo.train_echo(S.rnn_forward, no_recurrent_gradient, L=6, k=7, updates=600, H=16, N=16)
    return {"test echo L=6 k=7 accuracy": good.accuracy, "test echo frozen accuracy": frozen.accuracy,
            "test echo loss[19]": float(good.losses[19]), "test echo loss[599]": float(np.mean(good.losses[-50:]))}


def probe_echo_live():
    import solutions as S
    from bpttlab import delayed_echo
    runs = delayed_echo.echo_sweep(S.rnn_forward, S.rnn_backward_chunked, L=10, ks=[5, 10, 11], seeds=[0],
                                   updates=1500)
    return {f"nb03 live L=10 k={k} accuracy": rs[0].accuracy for k, rs in runs.items()}


def probe_echo_prefix():
    import solutions as S
    from bpttlab import delayed_echo
    sweep = delayed_echo.load_precomputed_sweep()
    out = {}
    for updates in (200, 1000, 3000):
        settings = {**sweep["settings"], "fingerprint_updates": updates}
        for i in (0, len(sweep["results"]) - 1):
            row = sweep["results"][i]
            fp = delayed_echo.sweep_fingerprint(S.rnn_forward, S.rnn_backward_chunked,
                                                {**sweep, "settings": settings}, i)
            out[f"sweep fingerprint ({updates} updates) L={row['L']} k={row['k']}"] = fp
    return out


def probe_echo_sweep(rows=None):
    import solutions as S
    from bpttlab import delayed_echo
    sweep = delayed_echo.load_precomputed_sweep()
    s = sweep["settings"]
    out = {}
    for row in sweep["results"]:
        if rows is not None and (row["L"], row["k"]) not in rows:
            continue
        for seed in sweep["seeds"]:
            run = delayed_echo.train_echo(S.rnn_forward, S.rnn_backward_chunked, row["L"], row["k"], seed=seed,
                                          updates=s["updates"], H=s["H"], N=s["N"], lr=s["lr"])
            out[f"sweep L={row['L']} k={row['k']} seed={seed}"] = run.accuracy
    return out


def probe_echo_sweep_some():
    """The rows tests/test_bpttlab_truncation.py and notebook 03's text rely on: k << L, and k = L + 1."""
    return probe_echo_sweep(rows={(8, 4), (8, 9), (12, 6)})


def _lm_sweep():
    import importlib.util
    spec = importlib.util.spec_from_file_location("lm_sweep", ROOT / "benchmarks" / "lm_rnn_vs_lstm_sweep.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def probe_lm_prefix():
    """The fingerprints of the shipped RNN vs LSTM table (bpttlab/data/lm_rnn_vs_lstm_sweep.json)."""
    from bpttlab import charlm
    gen = _lm_sweep()
    ns, sweep = gen.notebook_namespace(), charlm.load_precomputed_sweep()
    train = gen.streams_of(sweep["settings"])[0]
    return {f"lm sweep fingerprint {kind} k={k}": gen.fingerprint(ns, kind, k, sweep["seeds"][0], sweep["settings"],
                                                                  train)
            for kind, k in dict.fromkeys((r["model"], r["k"]) for r in sweep["results"])}


def probe_lm_live():
    """Notebook 06's default runs (its own loop, the reference functions): RNN and LSTM, k = 10, 400 updates."""
    gen = _lm_sweep()
    ns = gen.notebook_namespace()
    train, test = gen.streams_of(gen.SETTINGS)
    out = {}
    for kind in ("RNN", "LSTM"):
        run = ns["train_language_model"](gen.make_model(ns, kind, 0), train, test, 10, 400, N=32)
        for name in ("loss", "perplexity", "local", "long_range"):
            out[f"nb06 {kind} k=10 400 updates: {name}"] = run.final[name]
        out[f"nb06 {kind} k=10: mean loss of the first 100 updates"] = float(sum(run.losses[:100]) / 100)
    return out


def probe_lm_sweep():
    """Every row and seed of the shipped RNN vs LSTM table (about 10 min of CPU)."""
    from bpttlab import charlm
    gen = _lm_sweep()
    ns, sweep = gen.notebook_namespace(), charlm.load_precomputed_sweep()
    train, test = gen.streams_of(sweep["settings"])
    s, budgets = sweep["settings"], sweep["budgets"]
    out = {}
    for kind, k in dict.fromkeys((r["model"], r["k"]) for r in sweep["results"]):
        for seed in sweep["seeds"]:
            run = ns["train_language_model"](gen.make_model(ns, kind, seed), train, test, k, budgets[-1], N=s["N"],
                                             lr=s["lr"], max_norm=s["max_norm"], eval_every=budgets[0])
            at = dict(zip(run.checkpoints, run.evals))
            for b in budgets:
                out[f"lm sweep {kind} k={k} seed={seed} long@{b}"] = at[b]["long_range"]
    return out


# ---------------------------------------------------------------- driver

def worker(probe):
    sys.path.insert(0, str(ROOT))
    print(json.dumps(globals()[f"probe_{probe}"]()))


def run_kernel(kernel, probes):
    """Every probe in a fresh process with OPENBLAS_CORETYPE=kernel; returns (kernel used, {label: value})."""
    env = {**os.environ, "OPENBLAS_CORETYPE": kernel, "OPENBLAS_VERBOSE": "2", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    used, values = "?", {}
    for probe in probes:
        done = subprocess.run([sys.executable, __file__, "--worker", probe], env=env, cwd=ROOT,
                              capture_output=True, text=True)
        for line in done.stderr.splitlines():
            if line.startswith("Core:"):
                used = line.split(":", 1)[1].strip()
        if done.returncode != 0:
            reason = "SIGILL (the CPU cannot run this kernel)" if done.returncode == -4 else done.stderr[-500:]
            print(f"  {kernel}/{probe}: failed: {reason}", file=sys.stderr)
            continue
        values.update(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {kernel}/{probe}: done", file=sys.stderr, flush=True)
    return used, values


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernels", nargs="+", default=["Haswell", "SandyBridge", "Nehalem", "Prescott"])
    parser.add_argument("--probes", nargs="+", default=list(PROBES), choices=PROBES + SLOW_PROBES)
    parser.add_argument("--json", help="also write the values to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    results = {k: run_kernel(k, args.probes) for k in args.kernels}
    labels = list(dict.fromkeys(label for _, values in results.values() for label in values))
    print(f"load average before/after: {os.getloadavg()[0]:.1f}")
    print("| number | " + " | ".join(f"{k} ({used})" for k, (used, _) in results.items()) + " | spread |")
    print("|---|" + "---:|" * (len(results) + 1))
    for label in labels:
        vals = [values.get(label) for _, values in results.values()]
        got = [v for v in vals if v is not None]
        spread = max(got) - min(got) if got else float("nan")
        print(f"| {label} | " + " | ".join("-" if v is None else f"{v:.6g}" for v in vals) + f" | {spread:.3g} |")
    if args.json:
        Path(args.json).write_text(json.dumps({k: {"used": u, "values": v} for k, (u, v) in results.items()},
                                              indent=1))


if __name__ == "__main__":
    main()
