#!/usr/bin/env python3
"""Time the reference RNN (numpy) against torch.nn.RNN on the CPU, one thread each.

For each (N, T, D, H) the script times one forward + backward pass of
  - the reference: solutions.rnn_forward then solutions.rnn_backward, and
  - torch: torch.nn.RNN(tanh, batch_first, bias) forward, then autograd of
    sum(dh * h) back to the input, h0 and the weights,
in float64, alternating the two implementations within one run so that
machine noise hits both. It prints the median time of each (ms) and the ratio
numpy / torch (target: <= 0.8 on every row).

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


def check_agreement(ours, theirs, tol=1e-10):
    """The two timed computations must be the same one: dx and dh0 agree to tol."""
    dx, dh0 = ours[0], ours[1]
    tdx, tdh0 = (g.detach().numpy() for g in theirs)
    err = max(np.max(np.abs(dx - tdx)), np.max(np.abs(dh0 - tdh0[0])))
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
    header = f"{'N':>4} {'T':>4} {'D':>4} {'H':>4} | {'numpy ms':>9} {'torch ms':>9} {'ratio':>6} {'runs':>5}  target <= {TARGET}"
    print(header)
    print("-" * len(header))
    for seed, (N, T, D, H) in enumerate(SHAPES):
        problem = make_problem(N, T, D, H, seed)
        torch_step = make_torch_step(torch, *problem)
        check_agreement(numpy_step(*problem), torch_step())
        t_np, t_torch, runs = time_pair(lambda: numpy_step(*problem), torch_step,
                                        args.repeats, args.min_seconds)
        ratio = t_np / t_torch
        verdict = "ok" if ratio <= TARGET else "MISSED"
        print(f"{N:>4} {T:>4} {D:>4} {H:>4} | {t_np * 1e3:>9.3f} {t_torch * 1e3:>9.3f} {ratio:>6.2f} {runs:>5}  {verdict}")


if __name__ == "__main__":
    main()
