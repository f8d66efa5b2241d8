"""Tests of notebook 05's toolbox: bpttlab.selfchecks_lstm and bpttlab.gated_lab.

Legend: N batch, T time steps, D input size, H hidden size, L delay, k truncation length.
Expected values are computed independently (a plain LSTM written here, own
central differences, counts by hand); the reference functions are only used
as the "student's" functions the toolbox is driven with, and the autograder's
library of LSTM mistakes as wrong students.
"""
import io

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import solutions as S  # noqa: E402
from autograder.mistakes import lstm as lstm_mistakes  # noqa: E402
from autograder.mistakes import namespace_with  # noqa: E402
from bpttlab import delayed_echo, gated_lab, selfchecks_lstm  # noqa: E402


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def plain_lstm(x, h0, c0, Wx, Wh, b):
    """The contract's LSTM written out plainly (gates i, f, g, o): h (N, T, H), c (N, T, H)."""
    H = h0.shape[1]
    h, c, hs, cs = h0, c0, [], []
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)


def central_differences(f, x, step=1e-6):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[idx] = step
        grad[idx] = (f(x + e) - f(x - e)) / (2 * step)
    return grad


# ---------------------------------------------------------------- self-checks

CHECKS = {
    "lstm_step_forward": lambda fn: selfchecks_lstm.check_lstm_step_forward(fn),
    "lstm_forward": lambda fn: selfchecks_lstm.check_lstm_forward(fn, S.lstm_step_forward),
    "lstm_step_backward": lambda fn: selfchecks_lstm.check_lstm_step_backward(fn, S.lstm_step_forward,
                                                                             S.numerical_gradient),
    "lstm_backward": lambda fn: selfchecks_lstm.check_lstm_backward(fn, S.lstm_forward, S.numerical_gradient,
                                                                    S.lstm_step_backward),
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_self_check_accepts_the_reference_and_the_autograders_templates(name, capsys):
    CHECKS[name](getattr(S, name))
    template = {"np": np, "lstm_step_forward": S.lstm_step_forward, "lstm_step_backward": S.lstm_step_backward}
    exec(lstm_mistakes.TEMPLATES[name], template)
    CHECKS[name](template[name])
    assert capsys.readouterr().out.count("\N{CHECK MARK}") >= 6


def _mistaken(mistake):
    ns = namespace_with(mistake)
    ns.setdefault("lstm_step_forward", S.lstm_step_forward)      # the sequence mistakes call the (right) step
    ns.setdefault("lstm_step_backward", S.lstm_step_backward)
    return ns[mistake.function]


@pytest.mark.parametrize("mistake", lstm_mistakes.MISTAKES, ids=lambda m: m.id)
def test_self_check_rejects_every_known_lstm_mistake(mistake):
    """What the autograder would name, the visible self-check already refuses."""
    with pytest.raises(AssertionError):
        CHECKS[mistake.function](_mistaken(mistake))


@pytest.mark.parametrize("mistake_id, message", [
    ("lstm_step_forward/gate-order-ifog", "CS231n"),
    ("lstm_step_forward/forget-gate-on-candidate", "f multiplies g"),
    ("lstm_step_forward/no-tanh-on-cell", "o \\* tanh\\(c_next\\)"),
    ("lstm_step_forward/candidate-sigmoid", "candidate g uses tanh"),
    ("lstm_forward/cell-from-zeros", "c0"),
    ("lstm_step_backward/dc-prev-without-forget-gate", "dc_prev = dc \\* f"),
    ("lstm_step_backward/no-tanh-derivative-of-cell", "tanh'\\(c_next\\)"),
    ("lstm_step_backward/sigmoid-derivative-s", "s \\(1 - s\\)"),
    ("lstm_backward/cell-gradient-not-carried", "dc along the cell"),
    ("lstm_backward/no-carried-dh", "carried back from step t\\+1"),
])
def test_self_check_messages_name_the_mistake(mistake_id, message):
    mistake = next(m for m in lstm_mistakes.MISTAKES if m.id == mistake_id)
    with pytest.raises(AssertionError, match=message):
        CHECKS[mistake.function](_mistaken(mistake))


def test_backward_checks_refuse_a_broken_numerical_gradient():
    def halved(f, x, h=1e-5):
        return 0.5 * S.numerical_gradient(f, x, h)
    with pytest.raises(AssertionError, match="your numerical_gradient"):
        selfchecks_lstm.check_lstm_step_backward(S.lstm_step_backward, S.lstm_step_forward, halved)
    with pytest.raises(AssertionError, match="your numerical_gradient"):
        selfchecks_lstm.check_lstm_backward(S.lstm_backward, S.lstm_forward, halved)


def test_hand_worked_cell_is_what_the_comments_say():
    """The numbers of the hand-worked cell, recomputed with the plain LSTM written here."""
    p = selfchecks_lstm.HAND
    h, c = plain_lstm(p["x_t"][:, None], p["h_prev"], p["c_prev"], p["Wx"], p["Wh"], p["b"])
    assert np.allclose(c, selfchecks_lstm.HAND_C, atol=1e-14) and np.allclose(h, selfchecks_lstm.HAND_H, atol=1e-14)
    a = p["x_t"] @ p["Wx"] + p["h_prev"] @ p["Wh"]
    assert np.allclose([sigmoid(a[0, 0]), sigmoid(a[0, 1]), np.tanh(a[0, 2]), sigmoid(a[0, 3])],
                       selfchecks_lstm.HAND_GATES[0], atol=1e-14)
    # CS231n's order reads o from block 3 and g from block 4
    c_ifog = sigmoid(a[0, 1]) * 2 + sigmoid(a[0, 0]) * np.tanh(a[0, 3])
    assert np.isclose(c_ifog, 1.1) and 1.1 in selfchecks_lstm.HAND_WRONG_C


# ---------------------------------------------------------------- gradient norms through time

def test_lstm_state_gradient_norms_match_central_differences():
    rng = np.random.default_rng(3)
    N, T, D, H = 2, 5, 3, 3
    x = rng.standard_normal((N, T, D))
    h0, c0 = 0.5 * rng.standard_normal((N, H)), rng.standard_normal((N, H))
    Wx, Wh = rng.standard_normal((D, 4 * H)) / 2, rng.standard_normal((H, 4 * H)) / 2
    b = 0.3 * rng.standard_normal(4 * H)
    dh_last = rng.standard_normal((N, H))
    _, cache = S.lstm_forward(x, h0, c0, Wx, Wh, b)
    norms = gated_lab.lstm_state_gradient_norms(S.lstm_step_backward, cache, dh_last)
    h, c = plain_lstm(x, h0, c0, Wx, Wh, b)
    for s in range(T - 1):
        def from_h(v, s=s):      # L as a function of h_s, c_s fixed: run steps s+1..T-1
            return np.sum(dh_last * plain_lstm(x[:, s + 1:], v, c[:, s], Wx, Wh, b)[0][:, -1])

        def from_c(v, s=s):
            return np.sum(dh_last * plain_lstm(x[:, s + 1:], h[:, s], v, Wx, Wh, b)[0][:, -1])
        assert norms["h"][s] == pytest.approx(np.linalg.norm(central_differences(from_h, h[:, s])), rel=1e-6)
        assert norms["c"][s] == pytest.approx(np.linalg.norm(central_differences(from_c, c[:, s])), rel=1e-6)
    assert norms["h"][-1] == pytest.approx(np.linalg.norm(dh_last)) and norms["c"][-1] == 0


def test_norm_comparison_rnn_curve_is_notebook_04s_and_the_forget_bias_orders_the_lstm():
    kw = dict(T=60, rho=1.0, H=16, N=4, seed=2)
    low = gated_lab.norm_comparison(S.rnn_forward, S.gradient_norms_through_time, S.scale_to_spectral_radius,
                                    S.lstm_forward, S.lstm_step_backward, forget_bias=0.0, **kw)
    high = gated_lab.norm_comparison(S.rnn_forward, S.gradient_norms_through_time, S.scale_to_spectral_radius,
                                     S.lstm_forward, S.lstm_step_backward, forget_bias=4.0, **kw)
    assert np.array_equal(low["rnn"], high["rnn"]) and low["rnn"][0] == pytest.approx(1.0)
    assert low["lstm"][0] == pytest.approx(1.0) and low["lstm_cell"][0] == 0
    assert 0.45 < low["forget_mean"] < 0.55 and high["forget_mean"] > 0.95       # sigmoid(0) = 0.5, sigmoid(4) = 0.98
    assert high["lstm"][59] > 1e3 * low["lstm"][59] and high["lstm"][59] > 1e3 * high["rnn"][59]
    assert gated_lab.first_below(high["lstm"]) is None and gated_lab.first_below(low["rnn"]) is not None
    assert gated_lab.first_below([1.0, 1e-3, 1e-5, 1.0]) == 2 and gated_lab.first_below([1.0]) is None


def test_lstm_params_block_layout():
    p = gated_lab.lstm_params(3, 4, forget_bias=2.5, seed=0)
    assert p["Wx"].shape == (3, 16) and p["Wh"].shape == (4, 16) and p["b"].shape == (16,)
    assert np.all(p["b"][4:8] == 2.5) and np.all(p["b"][:4] == 0) and np.all(p["b"][8:] == 0)


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_gated_widget_draws_and_changes_with_each_slider():
    box, update = gated_lab.gated_explorer(S.rnn_forward, S.gradient_norms_through_time, S.scale_to_spectral_radius,
                                           S.lstm_forward, S.lstm_step_backward, show=False)
    sliders = {w.description: w for w in box.children[0].children}
    assert set(sliders) == {"T", "forget bias", "rho"}
    assert sliders["T"].max == 200 and (sliders["forget bias"].min, sliders["forget bias"].max) == (0.0, 5.0)
    first = _png(update(60, 1.0, 1.0))
    assert _png(update(65, 1.0, 1.0)) != first
    assert _png(update(60, 1.25, 1.0)) != first
    assert _png(update(60, 1.0, 1.05)) != first
    update(sliders["T"].max, sliders["forget bias"].max, sliders["rho"].max)       # largest values draw
    update(sliders["T"].min, sliders["forget bias"].min, sliders["rho"].min)       # and the smallest


def test_plots_draw():
    cmp = gated_lab.norm_comparison(S.rnn_forward, S.gradient_norms_through_time, S.scale_to_spectral_radius,
                                    S.lstm_forward, S.lstm_step_backward, T=20, H=8, N=2)
    ax = gated_lab.plot_norm_comparison([cmp])
    assert len(ax.lines) == 4                       # RNN, LSTM h, LSTM c, the zero line
    ax = gated_lab.draw_lstm_cell()
    texts = " ".join(t.get_text() for t in ax.texts)
    for piece in ("forget f", "input i", "candidate g", "output o", "dL/dc"):
        assert piece in texts
    assert _png(ax.figure)[:4] == b"\x89PNG"
    plt.close("all")


# ---------------------------------------------------------------- the delayed echo

def test_train_echo_lstm_is_seeded_and_learns_a_short_delay():
    a = gated_lab.train_echo_lstm(S.lstm_forward, S.lstm_backward, L=2, k=4, updates=300, lr=1e-2, seed=0)
    b = gated_lab.train_echo_lstm(S.lstm_forward, S.lstm_backward, L=2, k=4, updates=300, lr=1e-2, seed=0)
    assert isinstance(a, delayed_echo.EchoRun) and a.losses.shape == (300,)
    assert np.array_equal(a.losses, b.losses) and a.accuracy == b.accuracy
    assert a.accuracy > 0.9 and a.losses[-50:].mean() < 0.5 * np.log(2)
    with pytest.raises(ValueError, match="k must"):
        gated_lab.train_echo_lstm(S.lstm_forward, S.lstm_backward, L=2, k=0, updates=1)


def test_lstm_echo_accuracy_of_a_hand_built_delay_line():
    """A hand-built LSTM that echoes L = 1 perfectly: unit 1 writes x_t into its cell (f = 0, i = 1, o = 1),
    unit 2 writes unit 1's previous output; a readout of unit 2 sees x_{t-1}, one of unit 1 sees x_t."""
    big = 30.0
    Wx = np.zeros((1, 8))
    Wx[0, 4] = big                                   # g of unit 1 = tanh(big x_t)
    Wh = np.zeros((2, 8))
    Wh[0, 5] = big                                   # g of unit 2 = tanh(big h1_{t-1})
    b = np.zeros(8)
    b[[0, 1, 6, 7]], b[[2, 3]] = big, -big           # i = o = 1, f = 0 for both units
    params = {"Wx": Wx, "Wh": Wh, "b": b, "c": np.zeros(1)}
    assert gated_lab.lstm_echo_accuracy(S.lstm_forward, {**params, "w": np.array([0.0, 5.0])}, L=1) == 1.0
    assert 0.4 < gated_lab.lstm_echo_accuracy(S.lstm_forward, {**params, "w": np.array([5.0, 0.0])}, L=1) < 0.6
    assert 0.4 < gated_lab.lstm_echo_accuracy(S.lstm_forward, {**params, "w": np.array([0.0, 5.0])}, L=2) < 0.6


def test_echo_race_runs_both_models_on_the_same_settings():
    race = gated_lab.echo_race(S.rnn_forward, S.rnn_backward_chunked, S.lstm_forward, S.lstm_backward, L=3, k=6,
                               updates=20, seeds=[0, 1], clip_grad_norm=S.clip_grad_norm, progress=False)
    assert list(race) == ["tanh RNN", "LSTM"]
    for runs in race.values():
        assert [r.seed for r in runs] == [0, 1] and all(r.L == 3 and r.k == 6 and r.updates == 20 for r in runs)
    ax = gated_lab.plot_echo_race(race)
    assert "accuracy" in ax.get_legend().get_texts()[0].get_text()
    plt.close("all")


def test_precomputed_race_is_shipped_and_tabulated():
    sweep = gated_lab.load_precomputed_race()
    assert sweep["generated_by"] == "benchmarks/gated_echo_sweep.py"
    models = {(r["model"], r["L"]) for r in sweep["results"]}
    assert {m for m, _ in models} == {"tanh RNN", "LSTM"}
    for row in sweep["results"]:
        assert row["k"] == 2 * row["L"] and len(row["accuracy"]) == len(sweep["seeds"])
        assert all(0 <= a <= 1 for a in row["accuracy"])
        assert len(row["loss_per_block"][0]) == sweep["settings"]["updates"] // sweep["settings"]["block"]
    table = gated_lab.race_table(sweep)
    assert "PRECOMPUTED" in table and len(table.splitlines()) == 2 + len(sweep["results"])


def test_precomputed_race_comes_from_this_code_and_settings():
    """Every shipped row reruns its first point: the mean loss of the first block of updates of seed 0, by the
    generating script's own run function (same code, data, seeds and settings; about 10 s). The start of
    training is the same on every BLAS kernel (benchmarks/README.md, section 5); the file stores it rounded to
    4 decimals, and a changed setting (lr, clipping, forget bias, k) moves it by far more."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gated_echo_sweep.py"
    spec = importlib.util.spec_from_file_location("gated_echo_sweep", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    sweep = gated_lab.load_precomputed_race()
    assert {k: v for k, v in sweep["settings"].items() if k not in ("updates", "block")} == gen.SETTINGS
    assert sweep["seeds"] == list(gen.SEEDS) and sweep["settings"]["block"] == gen.BLOCK
    assert [(r["model"], r["L"]) for r in sweep["results"]] == [(m, L) for L in gen.DELAYS for m in gen.MODELS]
    for row in sweep["results"]:
        _, _, _, _, curve, _ = gen.one_run(row["model"], row["L"], sweep["seeds"][0], gen.BLOCK)
        assert curve[0] == pytest.approx(row["loss_per_block"][0][0], abs=1.5e-4), (row["model"], row["L"])


# ---------------------------------------------------------------- cost and shipping

def test_cost_per_step_counts_by_hand():
    cost = gated_lab.cost_per_step(S.rnn_forward, S.rnn_backward, S.lstm_forward, S.lstm_backward,
                                   N=2, T=3, D=5, H=4, repeats=1)
    assert cost["rnn_weights"] == 5 * 4 + 4 * 4 + 4 and cost["lstm_weights"] == 4 * cost["rnn_weights"]
    assert cost["rnn_macs"] == (5 + 4) * 4 and cost["lstm_macs"] == 4 * cost["rnn_macs"]
    assert cost["rnn_seconds"] > 0 and cost["lstm_seconds"] > 0


def test_toolbox_modules_hold_no_lstm_reference_code():
    """bpttlab ships to students: no line of a graded function's reference body may appear in these modules."""
    import inspect
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import sync_notebooks

    texts = {m.__name__: inspect.getsource(m) for m in (gated_lab, selfchecks_lstm)}
    for name in S.GRADED_FUNCTIONS:
        lines = [l.split("#")[0].strip() for l in sync_notebooks.reference_body(name).splitlines()]
        telling = [l for l in lines if len(l) > 25]
        for module, text in texts.items():
            leaked = [l for l in telling if l in text]
            assert not leaked, f"{module} contains reference lines of {name}: {leaked[:2]}"
