"""Tests of the toolbox for notebooks 01-02: gradcheck_tools, selfchecks_rnn, unrolling, bptt_plots.

Legend: N batch, T time steps, D input size, H hidden size.

The self-checks must accept the reference (solutions/) and reject the mistakes
students make most often (NOTES.md). Each mistake below is a small wrapper
around the reference or a short wrong implementation, so that every test can
fail.
"""
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import solutions as S  # noqa: E402
from bpttlab import bptt_plots, gradcheck_tools, selfchecks_rnn, unrolling  # noqa: E402


# ---------------------------------------------------------------- mistakes

def step_forward_transposed_Wh(x_t, h_prev, Wx, Wh, b):
    return S.rnn_step_forward(x_t, h_prev, Wx, Wh.T, b)


def step_forward_no_tanh(x_t, h_prev, Wx, Wh, b):
    h_next = np.arctanh(S.rnn_step_forward(x_t, h_prev, Wx, Wh, b)[0])
    return h_next, (x_t, h_prev, Wx, Wh, h_next)


def step_forward_no_bias(x_t, h_prev, Wx, Wh, b):
    return S.rnn_step_forward(x_t, h_prev, Wx, Wh, np.zeros_like(b))


def step_forward_cache_order(x_t, h_prev, Wx, Wh, b):
    h_next, (x_t, h_prev, Wx, Wh, h_next) = S.rnn_step_forward(x_t, h_prev, Wx, Wh, b)
    return h_next, (h_prev, x_t, Wx, Wh, h_next)


def step_forward_in_place(x_t, h_prev, Wx, Wh, b):
    out = S.rnn_step_forward(x_t, h_prev, Wx, Wh, b)
    h_prev *= 0.5
    return out


def step_forward_returns_view(x_t, h_prev, Wx, Wh, b):
    h_next, _ = S.rnn_step_forward(x_t, h_prev, Wx, Wh, b)
    h_prev_view = h_prev[...]
    return h_prev_view, (x_t, h_prev, Wx, Wh, h_prev_view)


def forward_from_zeros(x, h0, Wx, Wh, b):
    h, (x, _, Wx, Wh, h) = S.rnn_forward(x, np.zeros_like(h0), Wx, Wh, b)
    return h, (x, h0, Wx, Wh, h)


def forward_reads_x_wrong_axis(x, h0, Wx, Wh, b):
    """Uses x[t] instead of x[:, t] (runs only when N == T; raises otherwise)."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[t] @ Wx + prev @ Wh + b)
        h[:, t] = prev
    return h, (x, h0, Wx, Wh, h)


def forward_last_step_only_in_cache(x, h0, Wx, Wh, b):
    h, _ = S.rnn_forward(x, h0, Wx, Wh, b)
    return h, (x, h0, Wx, Wh, h[:, -1])


def forward_anticausal(x, h0, Wx, Wh, b):
    """Runs the recurrence backwards in time."""
    h, _ = S.rnn_forward(x[:, ::-1], h0, Wx, Wh, b)
    h = np.ascontiguousarray(h[:, ::-1])
    return h, (x, h0, Wx, Wh, h)


def numgrad_one_sided(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    g = np.zeros(x.shape)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = h
        g[i] = (f(x + e) - f0) / h
    return g


def numgrad_ignores_h(f, x, h=1e-5):
    return S.numerical_gradient(f, x)


def numgrad_no_restore(f, x, h=1e-5):
    g = np.zeros(np.shape(x))
    for i in np.ndindex(np.shape(x)):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        g[i] = (fp - fm) / (2 * h)          # x[i] is left at old - h
    return g


def numgrad_2d_only(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    g = np.zeros(x.shape)
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            e = np.zeros(x.shape)
            e[r, c] = h
            g[r, c] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def step_backward_tanh_at_prev(dh_next, cache):
    x_t, h_prev, Wx, Wh, h_next = cache
    return S.rnn_step_backward(dh_next, (x_t, h_prev, Wx, Wh, h_prev))


def step_backward_missing_transpose(dh_next, cache):
    dx, dh_prev, dWx, dWh, db = S.rnn_step_backward(dh_next, cache)
    return dx, dh_prev, dWx, dWh.T, db


def step_backward_db_first_row(dh_next, cache):
    dx, dh_prev, dWx, dWh, db = S.rnn_step_backward(dh_next, cache)
    return dx, dh_prev, dWx, dWh, S.rnn_step_backward(dh_next[:1], tuple(c[:1] if i in (0, 1, 4) else c
                                                                         for i, c in enumerate(cache)))[4]


def step_backward_in_place(dh_next, cache):
    out = S.rnn_step_backward(dh_next, cache)
    dh_next *= 2
    return out


def _bptt_variant(dh, cache, carry=True, direct=True, accumulate=True, wrap=False):
    """A hand-written BPTT loop with switchable mistakes."""
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    carried = np.zeros((N, H))
    for t in reversed(range(T)):
        total = (dh[:, t] if direct else 0) + (carried if carry else 0)
        h_prev = h[:, t - 1] if (t > 0 or wrap) else h0
        dx[:, t], carried_new, gWx, gWh, gb = S.rnn_step_backward(np.asarray(total * np.ones((N, H))),
                                                                  (x[:, t], h_prev, Wx, Wh, h[:, t]))
        if accumulate:
            dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
        else:
            dWx, dWh, db = gWx, gWh, gb
        carried = carried_new
    return dx, carried, dWx, dWh, db


def backward_no_carry(dh, cache):
    return _bptt_variant(dh, cache, carry=False)


def backward_only_carry(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    carried = dh[:, -1]
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else h0
        dx[:, t], carried, gWx, gWh, gb = S.rnn_step_backward(carried, (x[:, t], h_prev, Wx, Wh, h[:, t]))
        dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
    return dx, carried, dWx, dWh, db


def backward_overwrites(dh, cache):
    return _bptt_variant(dh, cache, accumulate=False)


def backward_wraps_at_t0(dh, cache):
    return _bptt_variant(dh, cache, wrap=True)


def backward_dh0_zero(dh, cache):
    dx, dh0, dWx, dWh, db = S.rnn_backward(dh, cache)
    return dx, np.zeros_like(dh0), dWx, dWh, db


def backward_in_place(dh, cache):
    out = S.rnn_backward(dh, cache)
    dh[:, 0] = 0.0
    return out


def contributions_transposed(dh, cache):
    return S.gradient_contributions(dh, cache).T.copy()


def contributions_squared(dh, cache):
    return S.gradient_contributions(dh, cache) ** 2


def contributions_without_h0(dh, cache):
    x, h0, Wx, Wh, h = cache
    return S.gradient_contributions(dh, (x, np.zeros_like(h0), Wx, Wh, h))


def contributions_combined_signal(dh, cache):
    """Uses the combined BPTT signal of all losses instead of L_t's alone: row t holds the term of
    the total signal at step s (what rnn_backward adds), for every t >= s."""
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    C = np.zeros((T, T))
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    carried = np.zeros((N, H))
    for s in reversed(range(T)):
        da = (dh[:, s] + carried) * (1 - h[:, s] ** 2)
        C[s:, s] = np.linalg.norm(h_prev[:, s].T @ da)
        carried = da @ Wh.T
    return C


MISTAKES = {
    "check_rnn_step_forward": [step_forward_transposed_Wh, step_forward_no_tanh, step_forward_no_bias,
                               step_forward_cache_order, step_forward_in_place, step_forward_returns_view],
    "check_rnn_forward": [forward_from_zeros, forward_reads_x_wrong_axis, forward_last_step_only_in_cache,
                          forward_anticausal],
    "check_numerical_gradient": [numgrad_one_sided, numgrad_ignores_h, numgrad_no_restore, numgrad_2d_only],
    "check_rnn_step_backward": [step_backward_tanh_at_prev, step_backward_missing_transpose,
                                step_backward_db_first_row, step_backward_in_place],
    "check_rnn_backward": [backward_no_carry, backward_only_carry, backward_overwrites, backward_wraps_at_t0,
                           backward_dh0_zero, backward_in_place],
    "check_gradient_contributions": [contributions_transposed, contributions_squared, contributions_without_h0,
                                     contributions_combined_signal],
}


def run_check(check_name, fn):
    """Call a self-check with `fn` as the student's function and the reference for everything else."""
    check = getattr(selfchecks_rnn, check_name)
    if check_name == "check_rnn_step_forward":
        return check(fn)
    if check_name == "check_rnn_forward":
        return check(fn, S.rnn_step_forward)
    if check_name == "check_numerical_gradient":
        return check(fn)
    if check_name == "check_rnn_step_backward":
        return check(fn, S.rnn_step_forward, S.numerical_gradient)
    if check_name == "check_rnn_backward":
        return check(fn, S.rnn_forward, S.numerical_gradient, S.rnn_step_backward)
    return check(fn, S.rnn_forward, S.rnn_step_forward, S.numerical_gradient, S.rnn_backward)


REFERENCE = {"check_rnn_step_forward": S.rnn_step_forward, "check_rnn_forward": S.rnn_forward,
             "check_numerical_gradient": S.numerical_gradient, "check_rnn_step_backward": S.rnn_step_backward,
             "check_rnn_backward": S.rnn_backward, "check_gradient_contributions": S.gradient_contributions}


@pytest.mark.parametrize("check_name", list(REFERENCE))
def test_self_check_accepts_the_reference(check_name, capsys):
    run_check(check_name, REFERENCE[check_name])
    out = capsys.readouterr().out
    assert out.count("\N{CHECK MARK}") >= 2, out


@pytest.mark.parametrize("check_name,mistake", [(c, m) for c, ms in MISTAKES.items() for m in ms],
                         ids=[m.__name__ for ms in MISTAKES.values() for m in ms])
def test_self_check_rejects_a_common_mistake(check_name, mistake):
    with pytest.raises((AssertionError, ValueError, IndexError)):
        run_check(check_name, mistake)


def test_mistakes_really_differ_from_the_reference():
    """Guard: each backward mistake gives a different dWh/dh0 than the reference on a generic problem."""
    p = selfchecks_rnn.random_rnn(2, 5, 3, 4, seed=0)
    h, cache = S.rnn_forward(*p.values())
    dh = np.random.default_rng(1).standard_normal(h.shape)
    ref = S.rnn_backward(dh, cache)
    for mistake in MISTAKES["check_rnn_backward"][:5]:
        got = mistake(dh.copy(), cache)
        assert any(not np.allclose(a, b) for a, b in zip(got, ref)), mistake.__name__


def test_self_check_messages_name_the_mistake():
    with pytest.raises(AssertionError, match="ignores h0"):
        run_check("check_rnn_forward", forward_from_zeros)
    with pytest.raises(AssertionError, match="one-sided"):
        run_check("check_numerical_gradient", numgrad_one_sided)
    with pytest.raises(AssertionError, match="h_next"):
        run_check("check_rnn_step_backward", step_backward_tanh_at_prev)
    with pytest.raises(AssertionError, match="changed its upstream gradient"):
        run_check("check_rnn_backward", backward_in_place)
    with pytest.raises(AssertionError, match="transposed"):
        run_check("check_rnn_step_forward", step_forward_transposed_Wh)


def test_untied_contribution_matches_the_reference_terms():
    """dL_t/dWh_s measured with untied weights equals h_{s-1}^T da_s^(t), summed over (t, s) = dWh."""
    p = selfchecks_rnn.random_rnn(2, 4, 3, 3, seed=3)
    h, cache = S.rnn_forward(*p.values())
    dh = np.random.default_rng(4).standard_normal(h.shape)
    total = np.zeros((3, 3))
    for t in range(4):
        for s in range(t + 1):
            total += selfchecks_rnn.untied_contribution(S.rnn_forward, S.rnn_step_forward, S.numerical_gradient,
                                                        p, dh, t, s)
    assert gradcheck_tools.gradient_error(total, S.rnn_backward(dh, cache)[3]) < 1e-8
    with pytest.raises(ValueError, match="0 <= s <= t"):
        selfchecks_rnn.untied_contribution(S.rnn_forward, S.rnn_step_forward, S.numerical_gradient, p, dh, 1, 2)


# ---------------------------------------------------------------- gradcheck_tools

def test_gradient_error_is_scale_relative():
    assert gradcheck_tools.gradient_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck_tools.gradient_error([1.0, 1e-12], [1.0, 0.0]) == pytest.approx(1e-12)
    assert gradcheck_tools.gradient_error([2.0], [1.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="shapes"):
        gradcheck_tools.gradient_error(np.zeros(2), np.zeros(3))


def test_check_backward_accepts_reference_and_names_the_wrong_gradient():
    p = selfchecks_rnn.random_rnn(2, 3, 3, 4, seed=5)
    errors = gradcheck_tools.check_backward(S.rnn_backward, S.rnn_forward, p, S.numerical_gradient)
    assert set(errors) == {"dx", "dh0", "dWx", "dWh", "db"} and max(errors.values()) < 1e-8
    with pytest.raises(AssertionError, match="dh0 disagrees"):
        gradcheck_tools.check_backward(backward_dh0_zero, S.rnn_forward, p, S.numerical_gradient)
    with pytest.raises(AssertionError, match="tuple of 5"):
        gradcheck_tools.check_backward(lambda d, c: S.rnn_backward(d, c)[:4], S.rnn_forward, p,
                                       S.numerical_gradient)
    with pytest.raises(ValueError, match="grad_names"):
        gradcheck_tools.check_backward(S.rnn_backward, S.rnn_forward, p, S.numerical_gradient, grad_names=["a"])
    with pytest.raises(TypeError, match="dict"):
        gradcheck_tools.check_backward(S.rnn_backward, S.rnn_forward, list(p.values()), S.numerical_gradient)


def test_check_backward_leaves_inputs_untouched():
    p = selfchecks_rnn.random_rnn(2, 3, 3, 4, seed=6)
    before = {k: v.copy() for k, v in p.items()}
    gradcheck_tools.check_backward(S.rnn_backward, S.rnn_forward, p, S.numerical_gradient)
    assert all(np.array_equal(p[k], before[k]) for k in p)


def test_check_gradient_rejects_wrong_shape_and_bad_numerical_gradient():
    x = np.arange(6.0).reshape(2, 3)
    f = lambda v: float(np.sum(v ** 2))  # noqa: E731
    assert gradcheck_tools.check_gradient("g", f, x, 2 * x, S.numerical_gradient) < 1e-8
    with pytest.raises(AssertionError, match="shape"):
        gradcheck_tools.check_gradient("g", f, x, (2 * x).ravel(), S.numerical_gradient)
    with pytest.raises(AssertionError, match="check numerical_gradient first"):
        gradcheck_tools.check_gradient("g", f, x, 2 * x, lambda f, x: np.zeros(3))
    with pytest.raises(AssertionError, match="inf or nan"):
        gradcheck_tools.check_gradient("g", f, x, np.full((2, 3), np.nan), S.numerical_gradient)


# ---------------------------------------------------------------- unrolling

def test_cache_floats_counts_the_sequence_cache():
    N, T, D, H = 2, 5, 3, 4
    p = selfchecks_rnn.random_rnn(N, T, D, H)
    _, cache = S.rnn_forward(*p.values())
    c = unrolling.cache_floats(N, T, D, H)
    assert c["total"] == sum(a.size for a in cache)
    assert unrolling.cache_floats(N, 2 * T, D, H)["total"] - c["total"] == N * T * (D + H)


def test_demo_problem_is_deterministic_and_orthogonal():
    a, b = unrolling.demo_problem(7, seed=3), unrolling.demo_problem(7, seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["Wh"], unrolling.demo_problem(7, seed=4)["Wh"])
    sv = np.linalg.svd(a["Wh"], compute_uv=False)
    assert np.allclose(sv, 0.95)
    assert a["x"].shape == (1, 7, 1) and np.count_nonzero(a["x"]) == 1
    with pytest.raises(ValueError, match="T must be"):
        unrolling.demo_problem(0)


def test_unrolled_view_uses_the_given_forward_and_plot_changes_with_T():
    calls = []

    def forward(*args):
        calls.append(args[0].shape)
        return S.rnn_forward(*args)

    v = unrolling.unrolled_view(forward, 5, T_max=10, H=8)
    assert calls == [(1, 5, 1)] and v["h"].shape == (5, 8) and v["stored_MB"].shape == (10,)
    assert np.all(np.diff(v["stored_MB"]) > 0)
    with pytest.raises(ValueError, match="rnn_forward returned"):
        unrolling.unrolled_view(lambda *a: (np.zeros((1, 4, 8)), None), 5)
    plot = unrolling.UnrolledPlot(10, 8)
    pngs = []
    for T in (5, 10):
        buf = io.BytesIO()
        plot.update(unrolling.unrolled_view(S.rnn_forward, T, T_max=10)).savefig(buf, format="png")
        pngs.append(buf.getvalue())
    assert pngs[0] != pngs[1]
    with pytest.raises(ValueError, match="T must be between"):
        plot.update(unrolling.unrolled_view(S.rnn_forward, 11, T_max=11))
    plt.close("all")


def test_unrolling_widget_has_a_T_slider():
    box = unrolling.unrolling_widget(S.rnn_forward, T=4, T_max=8)
    slider = box.children[0]
    assert slider.description == "T" and (slider.min, slider.max, slider.value) == (1, 8, 4)
    slider.value = 8                    # redraws without raising
    plt.close("all")


# ---------------------------------------------------------------- bptt_plots

def test_decay_by_distance_on_a_hand_matrix():
    C = np.array([[1.0, 0, 0], [0.5, 3.0, 0], [0.25, 1.0, 5.0]])
    assert np.allclose(bptt_plots.decay_by_distance(C), [3.0, 0.75, 0.25])


def test_contribution_problem_is_deterministic_and_prefix_stable():
    a = bptt_plots.contribution_problem(10, 0.9, T_max=30, seed=1)
    b = bptt_plots.contribution_problem(20, 0.9, T_max=30, seed=1)
    assert np.array_equal(a["x"], b["x"][:, :10]) and np.array_equal(a["dh"], b["dh"][:, :10])
    assert np.allclose(np.abs(np.linalg.eigvals(a["Wh"])), 0.9)
    with pytest.raises(ValueError, match="must not exceed"):
        bptt_plots.contribution_problem(40, 0.9, T_max=30)
    with pytest.raises(ValueError, match="rho"):
        bptt_plots.contribution_problem(10, -1.0)


def test_contributions_fade_faster_for_smaller_rho():
    """What notebook 02 states: terms fade with distance, faster for a smaller spectral radius."""
    ratios = bptt_plots.decay_table(S.gradient_contributions, S.rnn_forward, rhos=(0.5, 0.9, 1.5), T=30,
                                    distances=(1, 10))
    assert ratios[0.5][1] < ratios[0.9][1] < ratios[1.5][1] < 1
    assert ratios[0.9][1] < 0.9 ** 10            # tanh saturation: faster than a linear RNN


def test_contribution_view_rejects_a_wrong_shape_and_plot_redraws():
    with pytest.raises(ValueError, match=r"expected \(T, T\)"):
        bptt_plots.contribution_view(lambda dh, cache: np.zeros((3, 3)), S.rnn_forward, 5, 0.9)
    plot = bptt_plots.ContributionPlot(T_max=20)
    pngs = []
    for rho in (0.5, 1.5):
        buf = io.BytesIO()
        plot.update(bptt_plots.contribution_view(S.gradient_contributions, S.rnn_forward, 20, rho)).savefig(
            buf, format="png")
        pngs.append(buf.getvalue())
    assert pngs[0] != pngs[1]
    plt.close("all")


def test_contributions_widget_has_T_and_rho_sliders():
    box = bptt_plots.contributions_widget(S.gradient_contributions, S.rnn_forward, T=10, rho=0.9, T_max=20)
    T_slider, rho_slider = box.children[0].children
    assert (T_slider.description, rho_slider.description) == ("T", "rho")
    assert T_slider.max == 20 and rho_slider.value == pytest.approx(0.9)
    rho_slider.value = 1.5
    plt.close("all")


# ---------------------------------------------------------------- shipped to students

def test_toolbox_modules_hold_no_reference_code():
    """bpttlab ships to students: no line of a graded function's reference body may appear in any of its modules."""
    import importlib
    import inspect
    import pkgutil
    import sys
    from pathlib import Path

    import bpttlab

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import sync_notebooks

    modules = [importlib.import_module(f"bpttlab.{m.name}") for m in pkgutil.iter_modules(bpttlab.__path__)]
    assert {"charlm", "selfchecks_rnn", "streams"} <= {m.__name__.split(".")[-1] for m in modules}
    texts = {m.__name__: inspect.getsource(m) for m in modules}
    for name in S.GRADED_FUNCTIONS:
        lines = [l.split("#")[0].strip() for l in sync_notebooks.reference_body(name).splitlines()]
        # Code without its comment. Short lines and loop headers over a range (`for start in range(0, T, k):`,
        # in every chunked loop, e.g. checkpoint_lab's, which calls the student's functions) are generic.
        telling = [l for l in lines if len(l) > 25 and not re.fullmatch(r"for \w+ in range\([^()]*\):", l)]
        for module, text in texts.items():
            leaked = [l for l in telling if l in text]
            assert not leaked, f"{module} contains reference lines of {name}: {leaked[:2]}"


def test_backward_checks_refuse_a_broken_numerical_gradient():
    """A wrong checker is reported as such, not as a wrong backward pass."""
    def halved(f, x, h=1e-5):
        return 0.5 * S.numerical_gradient(f, x, h)
    with pytest.raises(AssertionError, match="your numerical_gradient"):
        selfchecks_rnn.check_rnn_step_backward(S.rnn_step_backward, S.rnn_step_forward, halved)
    with pytest.raises(AssertionError, match="your numerical_gradient"):
        selfchecks_rnn.check_rnn_backward(S.rnn_backward, S.rnn_forward, halved)
    with pytest.raises(AssertionError, match="your numerical_gradient"):
        selfchecks_rnn.check_gradient_contributions(S.gradient_contributions, S.rnn_forward, S.rnn_step_forward,
                                                    lambda f, x: np.zeros(3))


def test_figure_image_renders_the_figure_once_as_png():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    img = unrolling.figure_image(fig)
    assert img.format == "png" and img.data[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(fig)
