#!/usr/bin/env python3
"""Time the reference RNN and LSTM (numpy) against torch.nn.RNN and torch.nn.LSTM on the CPU, one thread each.

For each (N, T, D, H) the script times one forward + backward pass of
  - the reference: solutions.rnn_forward then solutions.rnn_backward, and
  - torch: torch.nn.RNN(tanh, batch_first, bias) forward, then autograd of
    sum(dh * h) back to the input, h0 and the weights,
and likewise solutions.lstm_forward / lstm_backward against torch.nn.LSTM
(back to the input, h0, c0 and the weights), in float64, alternating the two
implementations within one run so that machine noise hits both. It prints the
median time of each (ms) and the ratio numpy / torch (targets: <= 0.8 for the
RNN, <= 1.0 for the LSTM, on every row).

Threads: torch.set_num_threads(1); numpy's BLAS is limited to one thread with
threadpoolctl when it is installed, otherwise with OMP/OPENBLAS/MKL_NUM_THREADS=1
set before numpy is imported. The output says which, and which OpenBLAS
kernel runs (OPENBLAS_CORETYPE, when set, forces an older one).

usage: python benchmarks/bench_reference_vs_torch.py [--repeats R] [--min-seconds S]
"""
import argparse
import importlib.util
import os
import platform
import statistics
import time

HAVE_THREADPOOLCTL = importlib.util.find_spec("threadpoolctl") is not None
if not HAVE_THREADPOOLCTL:                  # must happen before numpy is imported
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import numpy as np  # noqa: E402

import solutions  # noqa: E402

SHAPES = ((32, 100, 64, 64), (1, 200, 8, 32), (64, 50, 128, 128))   # (N, T, D, H)
TARGET = 0.8
LSTM_TARGET = 1.0


def make_problem(N, T, D, H, seed):
    """Random float64 inputs: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,), dh (N, T, H)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, H)) * (0.9 / np.sqrt(H))
    b = rng.standard_normal(H) * 0.1
    dh = rng.standard_normal((N, T, H))
    return x, h0, Wx, Wh, b, dh


def numpy_step(x, h0, Wx, Wh, b, dh):
    """One reference forward + backward pass."""
    h, cache = solutions.rnn_forward(x, h0, Wx, Wh, b)
    return solutions.rnn_backward(dh, cache)


def make_torch_step(torch, x, h0, Wx, Wh, b, dh):
    """A closure running torch.nn.RNN forward + backward on the same problem."""
    N, T, D = x.shape
    H = h0.shape[1]
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True, bias=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(Wx.T))    # torch: W_ih (H, D), x @ W_ih.T
        rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    xt = torch.from_numpy(x.copy())
    h0t = torch.from_numpy(h0.copy())[None]               # (layers = 1, N, H)
    dht = torch.from_numpy(dh.copy())

    def step():
        xt.requires_grad_(True)
        h0t.requires_grad_(True)
        rnn.zero_grad(set_to_none=True)
        xt.grad = h0t.grad = None
        h, _ = rnn(xt, h0t)
        h.backward(dht)                                    # gradient of sum(dh * h)
        return xt.grad, h0t.grad

    return step


def make_lstm_problem(N, T, D, H, seed):
    """Random float64 inputs: x (N, T, D), h0, c0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,), dh (N, T, H)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    c0 = rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, 4 * H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, 4 * H)) / np.sqrt(H)
    b = rng.standard_normal(4 * H) * 0.1
    dh = rng.standard_normal((N, T, H))
    return x, h0, c0, Wx, Wh, b, dh


def numpy_lstm_step(x, h0, c0, Wx, Wh, b, dh):
    """One reference LSTM forward + backward pass."""
    h, cache = solutions.lstm_forward(x, h0, c0, Wx, Wh, b)
    return solutions.lstm_backward(dh, cache)


def make_torch_lstm_step(torch, x, h0, c0, Wx, Wh, b, dh):
    """A closure running torch.nn.LSTM (gates i, f, g, o like the contract) forward + backward on the same problem."""
    N, T, D = x.shape
    H = h0.shape[1]
    lstm = torch.nn.LSTM(D, H, batch_first=True, bias=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(Wx.T))   # torch: W_ih (4H, D), x @ W_ih.T
        lstm.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b))
        lstm.bias_hh_l0.zero_()
    xt = torch.from_numpy(x.copy())
    h0t = torch.from_numpy(h0.copy())[None]               # (layers = 1, N, H)
    c0t = torch.from_numpy(c0.copy())[None]
    dht = torch.from_numpy(dh.copy())

    def step():
        for leaf in (xt, h0t, c0t):
            leaf.requires_grad_(True)
            leaf.grad = None
        lstm.zero_grad(set_to_none=True)
        h, _ = lstm(xt, (h0t, c0t))
        h.backward(dht)                                    # gradient of sum(dh * h)
        return xt.grad, h0t.grad, c0t.grad

    return step


def check_agreement(ours, theirs, tol=1e-10):
    """The two timed computations must be the same one: dx, dh0 (and dc0 for the LSTM) agree to tol."""
    tdx, *tstates = (g.detach().numpy() for g in theirs)
    err = max([np.max(np.abs(ours[0] - tdx))] + [np.max(np.abs(ours[1 + j] - t[0])) for j, t in enumerate(tstates)])
    if not err <= tol:
        raise SystemExit(f"numpy and torch disagree (max difference {err:.2e}): the timings would compare different things")


def time_pair(f, g, min_repeats, min_seconds):
    """Median seconds of f and of g, calling them alternately (f, g, f, g, ...)."""
    f(), g()                                               # warm-up
    tf, tg = [], []
    start = time.perf_counter()
    while len(tf) < min_repeats or time.perf_counter() - start < min_seconds:
        for fn, out in ((f, tf), (g, tg)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(tf), statistics.median(tg), len(tf)


def blas_description():
    info = "unknown (install threadpoolctl to see the OpenBLAS kernel)"
    if HAVE_THREADPOOLCTL:
        from threadpoolctl import threadpool_info
        libs = [f"{d.get('internal_api')} {d.get('version')} kernel={d.get('architecture')} "
                f"threads={d.get('num_threads')}" for d in threadpool_info() if d.get("user_api") == "blas"]
        info = "; ".join(libs) or "no BLAS found by threadpoolctl"
    return info


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="at least this many timings of each (default 20)")
    parser.add_argument("--min-seconds", type=float, default=2.0, help="and at least this long per shape (default 2)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        raise SystemExit("torch is missing: install the oracle extra, pip install -e '.[oracle]'") from None
    torch.set_num_threads(1)

    if HAVE_THREADPOOLCTL:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=1)
        how = "threadpoolctl.threadpool_limits(1)"
    else:
        how = "OMP/OPENBLAS/MKL_NUM_THREADS=1 set before importing numpy (threadpoolctl not installed)"

    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical cores")
    print(f"numpy {np.__version__}, one thread via {how}")
    print(f"numpy BLAS: {blas_description()}")
    print("OPENBLAS_CORETYPE=" + os.environ.get("OPENBLAS_CORETYPE", "(unset)")
          + " OPENBLAS_L2_SIZE=" + os.environ.get("OPENBLAS_L2_SIZE", "(unset)"))
    print(f"torch {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}")
    print("float64, forward + backward, medians of alternating runs\n")
    missed = 0
    for title, target, make, ours, theirs in (
            ("reference RNN vs torch.nn.RNN", TARGET, make_problem, numpy_step, make_torch_step),
            ("reference LSTM vs torch.nn.LSTM", LSTM_TARGET, make_lstm_problem, numpy_lstm_step, make_torch_lstm_step)):
        header = (f"{'N':>4} {'T':>4} {'D':>4} {'H':>4} | {'numpy ms':>9} {'torch ms':>9} {'ratio':>6} {'runs':>5}  "
                  f"target <= {target}")
        print(f"{title}:")
        print(header)
        print("-" * len(header))
        for seed, (N, T, D, H) in enumerate(SHAPES):
            problem = make(N, T, D, H, seed)
            torch_step = theirs(torch, *problem)
            check_agreement(ours(*problem), torch_step())
            t_np, t_torch, runs = time_pair(lambda: ours(*problem), torch_step, args.repeats, args.min_seconds)
            ratio = t_np / t_torch
            verdict = "ok" if ratio <= target else "MISSED"
            missed += ratio > target
            print(f"{N:>4} {T:>4} {D:>4} {H:>4} | {t_np * 1e3:>9.3f} {t_torch * 1e3:>9.3f} {ratio:>6.2f} {runs:>5}  "
                  f"{verdict}")
        print()
    print(f"load average (1/5/15 min) while measuring: {' / '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
