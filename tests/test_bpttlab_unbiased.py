"""Notebook 03, part two: randomized truncation, checkpointing, their self-checks, the explorer's new controls.

Legend: N batch, T time steps, D input size, H hidden size, k truncation length;
p the probability of keeping a backward link, xi (T,) the link weights.
"""
import contextlib
import io
import itertools

import matplotlib
import numpy as np
import pytest

matplotlib.use("agg")

import solutions as S  # noqa: E402
from autograder.mistakes import by_id, namespace_with  # noqa: E402
from bpttlab import (checkpoint_lab, delayed_echo, randomized_truncation, selfchecks_unbiased,  # noqa: E402
                     truncation_lab)

ARGS = ("x", "h0", "Wx", "Wh", "b")


def _cache(p):
    return S.rnn_forward(*(p[a] for a in ARGS))[1]


# --- randomized truncation ----------------------------------------------------------

def test_link_weights_are_bernoulli_over_p_or_plain_bernoulli():
    rng = np.random.default_rng(0)
    xi = randomized_truncation.link_weights(20000, 0.4, rng)
    assert set(np.unique(xi)) == {0.0, 2.5}
    assert abs(xi.mean() - 1) < 4 * np.sqrt(1.5 / 20000)            # E = 1, Var = 1/p - 1
    plain = randomized_truncation.link_weights(20000, 0.4, rng, reweight=False)
    assert set(np.unique(plain)) == {0.0, 1.0} and abs(plain.mean() - 0.4) < 0.02
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="in \\(0, 1\\]"):
            randomized_truncation.link_weights(3, bad, rng)


def test_reweighted_truncation_is_exactly_unbiased_and_plain_cuts_are_not():
    """Average over all 2^T link patterns with their probabilities: no sampling, an exact expectation."""
    p_keep, T = 0.6, 4
    prob = truncation_lab.random_problem(N=2, T=T, D=3, H=4, seed=11)
    cache = _cache(prob)
    full = S.rnn_backward(prob["dh"], cache)
    mean_re = [np.zeros_like(g) for g in full]
    mean_plain = [np.zeros_like(g) for g in full]
    for keep in itertools.product((0.0, 1.0), repeat=T):
        keep = np.array(keep)
        weight = np.prod(np.where(keep == 1, p_keep, 1 - p_keep))
        for acc, xi in ((mean_re, keep / p_keep), (mean_plain, keep)):
            for a, g in zip(acc, S.rnn_backward_weighted(prob["dh"], cache, xi)):
                a += weight * g
    for a, g in zip(mean_re, full):
        assert np.allclose(a, g, rtol=0, atol=1e-12)
    assert np.linalg.norm(mean_plain[3] - full[3]) > 0.05 * np.linalg.norm(full[3])
    # and the plain mean is BPTT with every link scaled by p (its exact expectation)
    for a, g in zip(mean_plain, S.rnn_backward_weighted(prob["dh"], cache, np.full(T, p_keep))):
        assert np.allclose(a, g, rtol=0, atol=1e-12)


def test_monte_carlo_summary_agrees_with_the_exact_expectations():
    prob = truncation_lab.random_problem(N=2, T=12, D=3, H=6, seed=3)
    mc = randomized_truncation.monte_carlo(S.rnn_forward, S.rnn_backward, S.rnn_backward_weighted, prob,
                                           [0.8, 0.5], draws=400, seed=1)
    assert mc["reweighted"].shape == mc["unweighted"].shape == (2, 400, 6, 6)
    s = randomized_truncation.summarize(mc)
    g = mc["full"]
    exact_plain = np.einsum("pij,ij->p", mc["expected_unweighted"], g) / np.sum(g * g)
    assert np.all(np.abs(s["reweighted"]["along"] - 1) < 4 * s["reweighted"]["along_se"])
    assert np.all(np.abs(s["unweighted"]["along"] - exact_plain) < 4 * s["unweighted"]["along_se"] + 1e-9)
    assert np.all(exact_plain < 0.97)                                       # the plain cuts are biased
    assert s["reweighted"]["spread"][1] > s["reweighted"]["spread"][0]      # variance grows as p falls
    run = randomized_truncation.running_error(mc["reweighted"][0], g)
    assert run.shape == (400,) and run[-1] < run[0]
    table = randomized_truncation.summary_table(mc)
    assert "reweighted: 1 lies within 2 standard errors" in table and len(table.splitlines()) == 6
    axes = randomized_truncation.plot_monte_carlo(mc)
    assert len(axes) == 3
    matplotlib.pyplot.close("all")


# --- checkpointing ----------------------------------------------------------------

@pytest.mark.parametrize("T, best", [(256, 16), (100, 10), (1, 1), (10, 3)])
def test_counted_states_and_their_optimum(T, best):
    counts = {e: checkpoint_lab.states_kept_checkpointed(T, e) for e in range(1, T + 1)}
    assert counts[T] == 1 + T and counts[1] == T + 1
    assert checkpoint_lab.sqrt_optimum(T) == best and counts[best] == min(counts.values())


def test_peak_bytes_sees_numpy_arrays_and_not_the_inputs():
    big = np.ones(10 ** 6)

    def make():
        return np.ones(250_000).sum()
    _, peak = checkpoint_lab.peak_bytes(make)
    assert 2_000_000 <= peak < 3_000_000                       # the 2 MB temporary, not the 8 MB input
    _, peak_in = checkpoint_lab.peak_bytes(np.sum, big)
    assert peak_in < 100_000


def test_checkpoint_costs_are_exact_and_smaller_than_full_bptt():
    prob = truncation_lab.random_problem(N=2, T=64, D=2, H=32, seed=4)
    costs = checkpoint_lab.checkpoint_costs(S.rnn_forward, S.rnn_backward, S.rnn_backward_checkpointed, prob,
                                            [1, 8, 64], repeats=1)
    assert np.all(costs["max_error"] < 1e-10) and np.all(costs["rel_error"] < 1e-12)
    assert costs["peak_bytes"][1] < 0.5 * costs["full"]["peak_bytes"]
    assert list(costs["states"]) == [65, 16, 65] and costs["state_bytes"] == 2 * 32 * 8
    assert np.all(costs["seconds"] > 0)
    table = checkpoint_lab.costs_table(costs)
    assert "counted optimum: every = 8" in table
    points = checkpoint_lab.memory_vs_error(S.rnn_forward, S.rnn_backward, S.rnn_backward_chunked, costs, prob,
                                            ks=[4, 64])
    assert points["chunked"]["rel_error"][0] > 0.01 and points["chunked"]["rel_error"][1] < 1e-12
    assert points["chunked"]["peak_bytes"][0] < points["chunked"]["peak_bytes"][1]
    checkpoint_lab.plot_checkpoint_costs(costs)
    checkpoint_lab.plot_memory_vs_error(points)
    matplotlib.pyplot.close("all")


def test_online_chunks_give_the_chunked_gradient():
    prob = truncation_lab.random_problem(N=2, T=11, D=3, H=4, seed=5)
    dWh, peak = checkpoint_lab.online_chunked(S.rnn_forward, S.rnn_backward_chunked, prob, 3)
    assert np.allclose(dWh, S.rnn_backward_chunked(prob["dh"], _cache(prob), 3)[3], rtol=0, atol=1e-12)
    assert peak > 0


# --- self-checks: pass the reference, catch the mistakes ------------------------------

def _weighted_check(fn):
    selfchecks_unbiased.check_rnn_backward_weighted(fn, S.rnn_step_forward, S.rnn_forward, S.rnn_backward,
                                                    S.numerical_gradient)


def _checkpointed_check(fn):
    selfchecks_unbiased.check_rnn_backward_checkpointed(fn, S.rnn_forward, S.rnn_backward)


def test_self_checks_pass_the_reference():
    with contextlib.redirect_stdout(io.StringIO()) as out:
        _weighted_check(S.rnn_backward_weighted)
        _checkpointed_check(S.rnn_backward_checkpointed)
    assert out.getvalue().count("\N{CHECK MARK}") == 2


@pytest.mark.parametrize("mistake_id", [
    "rnn_backward_weighted/not-reweighted", "rnn_backward_weighted/wrong-link-index",
    "rnn_backward_weighted/output-gradient-scaled", "rnn_backward_weighted/dh0-unweighted",
    "rnn_backward_checkpointed/carry-dropped", "rnn_backward_checkpointed/checkpoint-after-step",
    "rnn_backward_checkpointed/short-last-segment-lost", "rnn_backward_checkpointed/dh-modified",
])
def test_self_checks_catch_the_known_mistakes(mistake_id):
    m = by_id(mistake_id)
    ns = namespace_with(m)
    ns.update({n: getattr(S, n) for n in ("rnn_step_forward", "rnn_forward", "rnn_backward")})
    check = _weighted_check if m.function == "rnn_backward_weighted" else _checkpointed_check
    with pytest.raises(AssertionError):
        check(ns[m.function])


def test_checkpointing_that_keeps_every_state_fails_the_memory_check():
    def keeps_everything(dh, x, h0, Wx, Wh, b, every):
        return S.rnn_backward(dh, S.rnn_forward(x, h0, Wx, Wh, b)[1])   # right numbers, all T states
    with pytest.raises(AssertionError, match="hidden states"):
        _checkpointed_check(keeps_everything)


# --- the explorer's new controls, the echo with equal data per update -------------------

def test_explorer_has_a_rho_slider_and_says_when_k_is_clamped():
    import ipywidgets as widgets
    from bpttlab.unrolling import figure_image
    with contextlib.redirect_stdout(io.StringIO()):
        box, update = truncation_lab.truncation_explorer(S.rnn_forward, S.rnn_backward, S.gradient_contributions,
                                                         S.rnn_backward_truncated, S.rnn_backward_chunked,
                                                         T_max=20, T=10, k=3, show=False)
    sliders = [w for w in box.children[0].children if isinstance(w, (widgets.IntSlider, widgets.FloatSlider))]
    assert [s.description for s in sliders] == ["T", "k", "rho"]
    first = figure_image(update(10, 3, "sliding", 1.0)).data
    assert figure_image(update(10, 3, "sliding", 0.6)).data != first
    fig = update(8, 15, "chunked", 1.0)
    assert "clamped to T = 8" in fig.axes[0].get_title()
    bias_line = fig.axes[1].get_lines()[0]
    assert list(bias_line.get_xdata()) == list(range(1, 9))            # the bias at every k, no interpolation
    assert len(fig.axes) == 4                                          # three panels and the colour bar


def test_random_problem_with_rho_has_that_spectral_radius():
    for rho in (0.5, 1.0, 1.3):
        Wh = truncation_lab.random_problem(H=9, rho=rho, seed=2)["Wh"]
        assert np.allclose(np.abs(np.linalg.eigvals(Wh)), rho)


def test_echo_with_fixed_steps_per_update_reads_the_same_data_for_every_k():
    seen = {}

    def recording_forward(x, h0, Wx, Wh, b):
        seen.setdefault(key, []).append(x.copy())
        return S.rnn_forward(x, h0, Wx, Wh, b)
    for key in (2, 5):
        run = delayed_echo.train_echo(recording_forward, S.rnn_backward_chunked, 3, key, updates=3, H=4, N=2,
                                      steps_per_update=8, seed=0)
        assert run.steps_per_update == 8
    training = {k: xs[:3] for k, xs in seen.items()}                 # the 3 updates (then the accuracy check)
    assert all(x.shape == (2, 8, 1) for x in training[2])
    assert all(np.array_equal(a, b) for a, b in zip(training[2], training[5]))
    with pytest.raises(ValueError, match="steps_per_update"):
        delayed_echo.train_echo(S.rnn_forward, S.rnn_backward_chunked, 3, 2, updates=1, steps_per_update=0)


def test_sweep_summary_counts_the_runs():
    sweep = {"results": [{"L": 4, "k": 2, "accuracy": [0.5, 0.6]}, {"L": 4, "k": 4, "accuracy": [0.95, 0.55]},
                         {"L": 4, "k": 5, "accuracy": [1.0, 0.99]}]}
    lines = delayed_echo.sweep_summary(sweep).splitlines()
    assert lines == ["k >= L + 1: accuracy 0.99 to 1.00; 2 of 2 runs reach 0.90",
                     "k = L: accuracy 0.55 to 0.95; 1 of 2 runs reach 0.90",
                     "k < L: accuracy 0.50 to 0.60; 0 of 2 runs reach 0.90"]
