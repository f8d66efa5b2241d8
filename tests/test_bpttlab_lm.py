"""Tests of notebook 06's toolbox: the embedded Reber grammar, the stream, the models, sampling, the self-checks.

Legend: N batch, T time steps, V vocabulary size, H hidden size, k truncation length.
The grammar is checked against an independently written regular expression, the
models' gradients against central differences written here, the measures against
hand-made oracle models, and the self-checks against the known-mistakes library.
"""
import re

import numpy as np
import pytest

import solutions
from autograder.mistakes import mistakes_for, namespace_with
from bpttlab import charlm, lm_widgets, reber, selfchecks_lm, streams
from bpttlab.selfchecks_lm import check_temporal_softmax_loss

# The Reber graph written as a regular expression (node 4 is reached after X from node 2 or P from 5).
_FROM_4 = r"(?:XT*VP)*(?:S|XT*VV)"
REBER = rf"B(?:(?:TS*X|PT*VP){_FROM_4}|PT*VV)E"
EMBEDDED = re.compile(rf"B([TP]){REBER}\1E")



# ---------------------------------------------------------------- grammar

def test_vocabulary_has_a_fixed_documented_order():
    assert reber.VOCAB == ("B", "T", "P", "S", "X", "V", "E")
    assert [reber.INDEX[s] for s in reber.VOCAB] == list(range(7))


def test_strings_are_deterministic_with_a_seed():
    assert reber.embedded_reber_strings(50, seed=3) == reber.embedded_reber_strings(50, seed=3)
    assert reber.embedded_reber_strings(50, seed=3) != reber.embedded_reber_strings(50, seed=4)


def test_generated_strings_match_the_grammar_written_as_a_regex():
    strings = reber.embedded_reber_strings(2000, seed=0)
    bad = [s for s in strings if not EMBEDDED.fullmatch(s)]
    assert not bad, bad[:3]
    assert min(map(len, strings)) == 9


def test_both_branches_are_taken_about_half_the_time():
    strings = reber.embedded_reber_strings(4000, seed=1)
    share_T = np.mean([s[1] == "T" for s in strings])
    share_inner_T = np.mean([s[3] == "T" for s in strings])
    assert abs(share_T - 0.5) < 0.03 and abs(share_inner_T - 0.5) < 0.03


def test_legal_next_allows_the_actual_next_symbol_and_pins_the_long_range_one():
    for s in reber.embedded_reber_strings(300, seed=2):
        allowed = reber.legal_next(s)
        assert allowed.shape == (len(s) - 1, len(reber.VOCAB))
        assert all(allowed[t, reber.INDEX[s[t + 1]]] for t in range(len(s) - 1))
        assert set(allowed.sum(axis=1)) <= {1, 2}
        t_long = reber.long_range_step(len(s))
        assert np.flatnonzero(allowed[t_long]).tolist() == [reber.INDEX[s[1]]]


def test_legal_next_agrees_with_the_regex_on_every_one_symbol_change():
    """A symbol is legal after a prefix iff some string of the grammar continues that way (checked by regex)."""
    for s in reber.embedded_reber_strings(200, seed=5):
        allowed = reber.legal_next(s)
        for t in range(len(s) - 1):
            for v, symbol in enumerate(reber.VOCAB):
                changed = s[:t + 1] + symbol + s[t + 2:]
                if EMBEDDED.fullmatch(changed):
                    assert allowed[t, v], (s, t, symbol)


@pytest.mark.parametrize("bad", ["BTBTXSEPE", "BTBTXSETEE", "BTBTXSTE", "BTBXSETE", "TBTXSETE", ""])
def test_strings_outside_the_grammar_are_rejected(bad):
    assert not reber.is_embedded_reber(bad)
    assert not EMBEDDED.fullmatch(bad)


def test_encode_decode_round_trip_and_clear_errors():
    s = "BTBPVVETE"
    assert reber.decode(reber.encode(s)) == s
    with pytest.raises(ValueError, match="'Q'"):
        reber.encode("BTQ")
    with pytest.raises(ValueError, match="0..6"):
        reber.decode([0, 7])
    with pytest.raises(TypeError, match="default_rng"):
        reber.reber_string(0)


# ---------------------------------------------------------------- the stream

def test_stream_is_the_strings_written_one_after_the_other():
    stream = streams.reber_stream(300, seed=3)
    assert reber.decode(stream.ids) == "".join(stream.strings)
    assert stream.strings == tuple(reber.embedded_reber_strings(300, 3))
    assert stream.allowed.shape == (len(stream) - 1, len(reber.VOCAB))
    assert all(stream.allowed[t, stream.ids[t + 1]] for t in range(len(stream) - 1))   # the text itself is allowed


def test_stream_marks_string_boundaries_and_long_range_steps():
    stream = streams.reber_stream(200, seed=4)
    ends = np.cumsum([len(s) for s in stream.strings])[:-1] - 1             # the last E of every string but the last
    for t in ends:
        assert stream.allowed[t].tolist() == [v == reber.INDEX["B"] for v in range(len(reber.VOCAB))]
    assert len(stream.long_range) == len(stream.distance) == 200
    for t, d in zip(stream.long_range, stream.distance):
        assert stream.allowed[t].sum() == 1 and stream.allowed[t, stream.ids[t + 1]]
        assert stream.ids[t + 1] == stream.ids[t - d] and reber.VOCAB[stream.ids[t - d]] in "TP"
        assert reber.VOCAB[stream.ids[t]] == "E"                              # the inner string's E was just read
    with pytest.raises(ValueError, match="n_strings"):
        streams.reber_stream(1, seed=0)


def _oracle(stream, forget=False):
    """A LanguageModel that knows the grammar: on the whole stream its probabilities are 1/m on the m allowed
    symbols. forget=True: at the long-range steps it says T (probability just above 1/2) or P (just below)."""
    p = stream.allowed / stream.allowed.sum(axis=1, keepdims=True)
    if forget:
        p[stream.long_range] = 0.0
        p[stream.long_range, reber.INDEX["T"]] = 0.5 + 1e-12
        p[stream.long_range, reber.INDEX["P"]] = 0.5 - 1e-12

    def run(params, x_ids, state):
        assert x_ids.shape == (1, len(stream) - 1) and np.array_equal(x_ids[0], stream.ids[:-1])
        return np.log(np.maximum(p, 1e-300))[None], state
    return charlm.LanguageModel("oracle", {}, None, run, lambda N: np.zeros((N, 1)))


def test_best_losses_are_the_losses_of_oracle_models():
    stream = streams.reber_stream(300, seed=5)
    best, forgetful = streams.best_losses(stream)
    perfect = charlm.evaluate(_oracle(stream), stream, solutions.temporal_softmax_loss)
    assert perfect["loss"] == pytest.approx(best, abs=1e-9) and perfect["perplexity"] == pytest.approx(np.exp(best))
    assert perfect["local"] == 1.0 and perfect["long_range"] == 1.0
    guess = charlm.evaluate(_oracle(stream, forget=True), stream, solutions.temporal_softmax_loss)
    assert guess["loss"] == pytest.approx(forgetful, abs=1e-9) and guess["local"] == 1.0
    share_T = np.mean([s[1] == "T" for s in stream.strings])
    assert guess["long_range"] == pytest.approx(share_T)
    assert forgetful - best == pytest.approx(len(stream.long_range) * np.log(2) / (len(stream) - 1))


def test_long_range_by_distance_groups_the_verdicts():
    correct = np.array([True, False, True, True, False, True])
    distance = np.array([5, 5, 6, 6, 6, 9])
    d, acc, counts = charlm.long_range_by_distance(correct, distance, min_count=2)
    assert d.tolist() == [5, 6] and acc.tolist() == [0.5, 2 / 3] and counts.tolist() == [2, 3]


def test_windows_read_n_pieces_side_by_side_and_wrap_around():
    ids = np.arange(23)
    w = streams.Windows(ids, N=2, k=4)                    # S = 11 steps per piece: windows of 4, 4, 3
    assert len(w) == 3
    seen = []
    for _ in range(4):
        x, y, restart = w.next()
        seen.append((x.copy(), restart))
        np.testing.assert_array_equal(y, x + 1)            # targets: the next symbol (teacher forcing)
    assert [s[1] for s in seen] == [True, False, False, True]
    np.testing.assert_array_equal(np.concatenate([s[0] for s in seen[:3]], axis=1), np.arange(22).reshape(2, 11))
    assert seen[2][0].shape == (2, 3)                     # the last window of a pass is shorter
    np.testing.assert_array_equal(seen[3][0], seen[0][0])
    for bad in ({"N": 0, "k": 2}, {"N": 2, "k": 0}, {"N": 2.5, "k": 2}):
        with pytest.raises(ValueError, match="must be a whole number"):
            streams.Windows(ids, **bad)
    with pytest.raises(ValueError, match="too short"):
        streams.Windows(np.arange(3), N=4, k=2)


# ---------------------------------------------------------------- the models

def _central_differences(f, x, step=1e-6):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = step
        grad[i] = (f(x + e) - f(x - e)) / (2 * step)
    return grad


def _rnn_model(H=5, seed=1):
    return charlm.rnn_language_model(solutions.lm_loss_and_grads, solutions.rnn_forward,
                                     solutions.temporal_affine_forward, H=H, seed=seed)


def _lstm_model(H=3, seed=2):
    return charlm.lstm_language_model(solutions.lstm_forward, solutions.lstm_backward,
                                      solutions.temporal_affine_forward, solutions.temporal_affine_backward,
                                      solutions.temporal_softmax_loss, H=H, seed=seed)


def _batch(N=2, T=6, seed=0):
    stream = streams.reber_stream(50, seed)
    return streams.Windows(stream.ids, N, T).next()[:2]


def test_lstm_language_model_gradients_match_central_differences():
    model = _lstm_model()
    x_ids, y_ids = _batch()
    rng = np.random.default_rng(3)
    state = (0.5 * rng.standard_normal((2, 3)), 0.5 * rng.standard_normal((2, 3)))
    loss, grads, (h_last, c_last) = model.loss_and_grads(model.params, x_ids, y_ids, state)
    assert set(grads) == set(model.params)
    for name, value in model.params.items():
        def f(v, name=name):
            return model.loss_and_grads(dict(model.params, **{name: v}), x_ids, y_ids, state)[0]
        num = _central_differences(f, value)
        assert np.max(np.abs(grads[name] - num)) <= 1e-6 * max(1.0, np.max(np.abs(num))), name
    h, cache = solutions.lstm_forward(charlm.one_hot(x_ids, 7), *state, *(model.params[n] for n in ("Wx", "Wh", "b")))
    np.testing.assert_allclose(h_last, h[:, -1], rtol=0, atol=1e-14)
    np.testing.assert_allclose(c_last, cache[6][:, -1], rtol=0, atol=1e-14)
    assert model.params["b"][3:6].tolist() == [1.0, 1.0, 1.0]       # forget-gate bias 1 (block f of i, f, g, o)


@pytest.mark.parametrize("make", [_rnn_model, _lstm_model], ids=["RNN", "LSTM"])
def test_run_agrees_with_loss_and_grads_and_carries_the_state(make):
    model = make()
    x_ids, y_ids = _batch(N=3, T=8, seed=1)
    loss, _, state = model.loss_and_grads(model.params, x_ids, y_ids, model.zero_state(3))
    scores, run_state = model.run(model.params, x_ids, model.zero_state(3))
    assert loss == pytest.approx(solutions.temporal_softmax_loss(scores, y_ids)[0], rel=1e-12)
    for a, b in zip(np.atleast_3d(state), np.atleast_3d(run_state)):
        np.testing.assert_allclose(a, b, atol=1e-14)
    # reading the batch in two windows with the state carried gives the same scores
    first, mid = model.run(model.params, x_ids[:, :3], model.zero_state(3))
    second, _ = model.run(model.params, x_ids[:, 3:], mid)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), scores, atol=1e-13)


# ---------------------------------------------------------------- writing

def test_greedy_writing_follows_the_top_score_of_the_model_reading_its_own_text():
    model = _rnn_model(H=8, seed=4)
    text = charlm.generate(model, 30, temperature=0.0)[0]
    scores, _ = model.run(model.params, reber.encode(text[:-1])[None], model.zero_state(1))   # teacher-forced
    assert reber.decode(np.argmax(scores[0], axis=1)) == text[1:]


def test_sampling_draws_from_the_softmax_at_the_temperature():
    model = _rnn_model(H=8, seed=5)
    scores, _ = model.run(model.params, reber.encode("B")[None], model.zero_state(1))
    for temperature in (0.5, 1.0, 3.0):
        texts = charlm.generate(model, 1, temperature, seed=6, n=6000)
        freq = np.bincount([reber.INDEX[t[1]] for t in texts], minlength=7) / 6000
        want = charlm.next_symbol_probabilities(scores[0, -1], temperature)
        assert np.max(np.abs(freq - want)) < 0.025, (temperature, freq, want)
    assert charlm.generate(model, 20, 1.0, seed=7, n=3) == charlm.generate(model, 20, 1.0, seed=7, n=3)
    mixed = charlm.generate(model, 20, np.array([0.0, 1.0]), seed=7, n=2)
    assert mixed[0] == charlm.generate(model, 20, 0.0)[0]
    with pytest.raises(ValueError, match="temperature"):
        charlm.generate(model, 5, -1.0)


def test_split_strings_and_grammatical_share():
    pieces, rest = charlm.split_strings("BTBTXSETEBPBPVVEPEBTB")
    assert pieces == ["BTBTXSETE", "BPBPVVEPE"] and rest == "BTB"
    assert charlm.grammatical_share(["BTBTXSETEBPBPVVETE"]) == 0.5
    assert np.isnan(charlm.grammatical_share(["BTB"]))


def test_temperature_widget_redraws_for_a_new_temperature():
    import matplotlib.pyplot as plt

    from bpttlab.unrolling import figure_image
    model = _rnn_model(H=8, seed=8)
    stream = streams.reber_stream(5, seed=1)
    box, view = lm_widgets.temperature_widget(model, stream.strings, show=False, curve=np.linspace(1, 0, 13))
    slider = box.children[0].children[0]
    assert slider.description == "temperature" and slider.value == 1.0
    before = figure_image(view.update(1.0)[0]).data
    slider.value = 3.0
    fig, sample = view.update(3.0, seed=1)
    assert figure_image(fig).data != before and len(sample) == 81
    assert "greedy" in view.text_html(3.0, sample)
    button, text = box.children[0].children[1], box.children[1]
    assert button.description == "new sample"
    shown = text.value
    button.click()                                            # another seed: another sample, same temperature
    assert text.value != shown and "temperature 3.00" in text.value
    plt.close("all")


# ---------------------------------------------------------------- training, as the notebook does it

def _notebook_training_loop():
    """The notebook's train_language_model, exec'd with the reference functions (no progress bar)."""
    import time

    from course_tools import ROOT, load, source_text
    nb = load(ROOT / "course" / "source" / "06_language_model" / "06_language_model.ipynb")
    cell = next(source_text(c) for c in nb["cells"] if "def train_language_model(" in source_text(c))
    ns = {"np": np, "time": time, "charlm": charlm, "streams": streams, "tqdm": lambda it, **kw: it,
          "clip_grad_norm": solutions.clip_grad_norm, "temporal_softmax_loss": solutions.temporal_softmax_loss}
    exec(cell, ns)
    return ns["train_language_model"]


def test_the_notebooks_training_loop_learns_the_local_rules():
    """300 updates of the notebook's loop: the local rules are learned whatever the BLAS kernel (loss and
    local accuracy have a wide margin); the long-range symbol is not asserted (it depends on the run)."""
    train = _notebook_training_loop()
    model = _rnn_model(H=16, seed=0)
    start = charlm.evaluate(model, streams.reber_stream(100, seed=1), solutions.temporal_softmax_loss)
    history = train(model, streams.reber_stream(1000, seed=0), streams.reber_stream(100, seed=1), k=10,
                    updates=300, eval_every=150)
    assert history.checkpoints == [150, 300] and len(history.losses) == len(history.norms) == 300
    assert start["local"] < 0.5 and history.final["local"] > 0.95
    assert history.final["perplexity"] < 1.8 < 5 < start["perplexity"]

# ---------------------------------------------------------------- the self-check

def _averaged_over_time(scores, y):
    loss, d = solutions.temporal_softmax_loss(scores, y)
    return loss / scores.shape[1], d / scores.shape[1]


def _summed_over_batch(scores, y):
    loss, d = solutions.temporal_softmax_loss(scores, y)
    return loss * scores.shape[0], d * scores.shape[0]


def _unstable(scores, y):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(scores)                                  # overflows for scores above ~709
        p = e / e.sum(axis=2, keepdims=True)
    N = scores.shape[0]
    loss = -np.log(np.take_along_axis(p, y[..., None], axis=2)).sum() / N
    return float(loss), (p - (np.arange(scores.shape[2]) == y[..., None])) / N


def _gradient_without_one_hot(scores, y):
    loss, d = solutions.temporal_softmax_loss(scores, y)
    return loss, d + (np.arange(scores.shape[2]) == y[..., None]) / scores.shape[0]


def _gradient_off_by_a_bit(scores, y):
    loss, d = solutions.temporal_softmax_loss(scores, y)
    return loss, d * (1 + 1e-3 * (scores.shape[0] > 2))


def _changes_scores(scores, y):
    out = solutions.temporal_softmax_loss(scores, y)
    scores -= scores.max(axis=2, keepdims=True)
    return out


def _wrong_shape(scores, y):
    loss, d = solutions.temporal_softmax_loss(scores, y)
    return loss, d.reshape(-1, d.shape[2])


def test_self_check_accepts_the_reference(capsys):
    check_temporal_softmax_loss(solutions.temporal_softmax_loss, solutions.numerical_gradient)
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 5


@pytest.mark.parametrize("wrong, message", [
    (_averaged_over_time, "averaged over time"),
    (_summed_over_batch, "summed over the batch"),
    (_unstable, "stable|inf or nan|finite"),
    (_gradient_without_one_hot, "dscores"),
    (_gradient_off_by_a_bit, "numerical gradient"),
    (_changes_scores, "changed its arguments"),
    (_wrong_shape, "shape"),
])
def test_self_check_rejects_a_wrong_loss(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_temporal_softmax_loss(wrong, solutions.numerical_gradient)


# ---------------------------------------------------------------- the self-checks of the output layer and the model

BUILDING_BLOCKS = {name: getattr(solutions, name) for name in
                   ("rnn_forward", "rnn_backward", "temporal_softmax_loss", "temporal_affine_forward",
                    "temporal_affine_backward")}


def _mistaken(mistake):
    """The function of a known mistake, in a namespace where the other functions are the reference's."""
    ns = namespace_with(mistake)
    ns.update({n: f for n, f in BUILDING_BLOCKS.items() if n != mistake.function})
    return ns[mistake.function]


def _check(name, fn):
    S = solutions
    if name == "temporal_affine_forward":
        selfchecks_lm.check_temporal_affine_forward(fn)
    elif name == "temporal_affine_backward":
        selfchecks_lm.check_temporal_affine_backward(fn, S.temporal_affine_forward, S.numerical_gradient)
    else:
        selfchecks_lm.check_lm_loss_and_grads(fn, S.numerical_gradient, S.rnn_forward, S.temporal_affine_forward,
                                              S.temporal_softmax_loss)


@pytest.mark.parametrize("name", ["temporal_affine_forward", "temporal_affine_backward", "lm_loss_and_grads"])
def test_new_self_checks_accept_the_reference(name, capsys):
    _check(name, getattr(solutions, name))
    assert capsys.readouterr().out.count("\N{CHECK MARK}") >= 2


@pytest.mark.parametrize("mistake", [m for name in ("temporal_affine_forward", "temporal_affine_backward",
                                                    "lm_loss_and_grads") for m in mistakes_for(name)],
                         ids=lambda m: m.id)
def test_new_self_checks_reject_every_known_mistake(mistake):
    with pytest.raises((AssertionError, ValueError)):
        _check(mistake.function, _mistaken(mistake))


def test_lm_self_check_names_the_embedding_assignment():
    from autograder.mistakes import by_id
    with pytest.raises(AssertionError, match="read more than once.*sum of their gradients"):
        _check("lm_loss_and_grads", _mistaken(by_id("lm_loss_and_grads/embedding-assigned")))


# ---------------------------------------------------------------- the notebook's own cells

def _notebook_cells():
    from course_tools import ROOT, load, source_text
    nb = load(ROOT / "course" / "source" / "06_language_model" / "06_language_model.ipynb")
    return [source_text(c) for c in nb["cells"] if c["cell_type"] == "code"]


def test_long_training_is_off_by_default():
    settings = next(c for c in _notebook_cells() if "TRAIN_PROPERLY =" in c)
    assert re.search(r"^TRAIN_PROPERLY = False\b", settings, re.M)


def test_the_pytorch_bridge_is_skipped_with_a_note_without_torch(monkeypatch, capsys):
    import sys
    bridge = next(c for c in _notebook_cells() if "import torch" in c)
    monkeypatch.setitem(sys.modules, "torch", None)              # `import torch` raises ImportError
    exec(bridge, {"np": np})                                     # nothing else is needed on this path
    assert "PyTorch is not installed" in capsys.readouterr().out


def test_the_shipped_sweep_supports_what_the_notebook_says_about_it():
    """Section 6's text reads the precomputed table (bpttlab/data/lm_rnn_vs_lstm_sweep.json) in words; a
    regenerated table that says otherwise must come with new words. Its settings are the notebook's."""
    sweep = charlm.load_precomputed_sweep()
    assert sweep["seeds"] == [0, 1, 2, 3, 4] and sweep["budgets"] == [400, 2000]
    assert {k: sweep["settings"][k] for k in ("N", "H_rnn", "H_lstm", "lr", "max_norm")} == \
        {"N": 32, "H_rnn": 32, "H_lstm": 16, "lr": 0.01, "max_norm": 1.0}
    settings = next(c for c in _notebook_cells() if "TRAIN_PROPERLY =" in c)
    assert re.search(r"^N = 32\b", settings, re.M) and re.search(r"^H = 32\b", settings, re.M)
    assert "400" in settings
    rows = {(r["model"], r["k"], r["updates"]): r for r in sweep["results"]}

    def learned(model, k, updates):
        return sum(a >= 0.9 for a in rows[model, k, updates]["long_range"])
    for model in ("RNN", "LSTM"):
        assert learned(model, 20, 400) >= 3 and learned(model, 20, 2000) == learned(model, 10, 2000) == 5
    assert learned("LSTM", 10, 400) > learned("RNN", 10, 400)                  # "more LSTM seeds have learned"
    assert min(rows["RNN", 10, 400]["long_range"]) < 0.6                       # "some RNN seeds still at chance"
    assert learned("LSTM", 5, 2000) >= 3 and learned("RNN", 5, 2000) <= 1      # "most seeds", "few"
    for k in (5, 10, 20):                                                       # "nearly twice the CPU time"
        ratio = rows["LSTM", k, 400]["cpu_ms_per_update"] / rows["RNN", k, 400]["cpu_ms_per_update"]
        assert 1.4 <= ratio <= 2.2, (k, ratio)


def _sweep_generator():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "lm_rnn_vs_lstm_sweep.py"
    spec = importlib.util.spec_from_file_location("lm_rnn_vs_lstm_sweep", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


# The long-range accuracies of runs that have not converged depend on the machine's BLAS kernel (training
# amplifies last-bit differences), so they cannot be rerun and compared. The start of training can:
# benchmarks/numeric_spread.py (probe lm_prefix; numpy 2.4.6, OpenBLAS 0.3.31, one thread) measured the mean
# loss of the first 100 updates of every (model, k) of the table with the Haswell, Prescott, Nehalem and
# SandyBridge kernels: at most 2.2e-16 apart.
FINGERPRINT_TOLERANCE = 1e-9


def test_the_shipped_sweep_comes_from_this_code_and_the_notebooks_loop_on_any_blas_kernel():
    """Every (model, k) of the shipped table reruns its fingerprint with the notebook's own training loop and
    the generator's settings (about 4 s of CPU): same code, data, seeds and settings as when it was made."""
    sweep, gen = charlm.load_precomputed_sweep(), _sweep_generator()
    assert sweep["settings"] == gen.SETTINGS and sweep["generated_by"] == "benchmarks/lm_rnn_vs_lstm_sweep.py"
    assert "machine" in sweep and sweep["machine"] in charlm.sweep_table(sweep)
    ns = gen.notebook_namespace()
    train = gen.streams_of(sweep["settings"])[0]
    pairs = list(dict.fromkeys((r["model"], r["k"]) for r in sweep["results"]))
    assert len(pairs) * len(sweep["budgets"]) == len(sweep["results"])
    for kind, k in pairs:
        shipped = {r["fingerprint"] for r in sweep["results"] if (r["model"], r["k"]) == (kind, k)}
        assert len(shipped) == 1, (kind, k)
        rerun = gen.fingerprint(ns, kind, k, sweep["seeds"][0], sweep["settings"], train)
        assert rerun == pytest.approx(shipped.pop(), abs=FINGERPRINT_TOLERANCE), (kind, k)
