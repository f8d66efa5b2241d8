"""Tests of notebook 06's toolbox: the embedded Reber grammar, the language model, the self-check.

Legend: N batch, T time steps, V vocabulary size, H hidden size, k truncation length.
The grammar is checked against an independently written regular expression, the
model's gradients against central differences written here, and the accuracy
measure against hand-made oracle models.
"""
import re

import numpy as np
import pytest

import solutions
from bpttlab import charlm, reber
from bpttlab.selfchecks_lm import check_temporal_softmax_loss

# The Reber graph written as a regular expression (node 4 is reached after X from node 2 or P from 5).
_FROM_4 = r"(?:XT*VP)*(?:S|XT*VV)"
REBER = rf"B(?:(?:TS*X|PT*VP){_FROM_4}|PT*VV)E"
EMBEDDED = re.compile(rf"B([TP]){REBER}\1E")

REFERENCE = charlm.RNNFunctions(solutions.rnn_forward, solutions.rnn_backward, solutions.rnn_backward_chunked,
                                solutions.clip_grad_norm, solutions.temporal_softmax_loss)


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


# ---------------------------------------------------------------- the model

def _central_differences(f, x, step=1e-6):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = step
        grad[i] = (f(x + e) - f(x - e)) / (2 * step)
    return grad


def _tiny_batch(seed=0):
    strings = [s for s in reber.embedded_reber_strings(400, seed) if len(s) == 11][:3]
    return charlm.inputs_and_targets(strings)


@pytest.mark.parametrize("k", [None, 3])
def test_loss_and_gradients_match_central_differences(k):
    """Full BPTT: every gradient is the true one. Chunked (k = 3): dWy, dby still exact (output layer)."""
    x_idx, y = _tiny_batch()
    params = charlm.init_params(len(reber.VOCAB), 5, seed=1)
    loss, grads = charlm.loss_and_gradients(REFERENCE, params, x_idx, y, k=k)
    assert set(grads) == set(params) and all(grads[n].shape == params[n].shape for n in params)
    names = list(params) if k is None else ["Wy", "by"]
    for name in names:
        def f(value, name=name):
            p = dict(params, **{name: value})
            scores, _ = charlm.forward_scores(REFERENCE, p, x_idx)
            return solutions.temporal_softmax_loss(scores, y)[0]
        num = _central_differences(f, params[name])
        assert np.max(np.abs(grads[name] - num)) <= 1e-6 * max(1.0, np.max(np.abs(num))), name


def test_chunks_as_long_as_the_sequence_are_full_bptt():
    x_idx, y = _tiny_batch()
    params = charlm.init_params(len(reber.VOCAB), 5, seed=2)
    _, full = charlm.loss_and_gradients(REFERENCE, params, x_idx, y, k=None)
    _, chunked = charlm.loss_and_gradients(REFERENCE, params, x_idx, y, k=x_idx.shape[1])
    _, short = charlm.loss_and_gradients(REFERENCE, params, x_idx, y, k=2)
    for name in full:
        np.testing.assert_allclose(chunked[name], full[name], rtol=1e-12, atol=1e-14)
    assert not np.allclose(short["Wh"], full["Wh"])


def test_length_batches_are_deterministic_and_of_one_length():
    pool = reber.embedded_reber_strings(500, seed=0)
    a, b = charlm.LengthBatches(pool, 8, seed=4), charlm.LengthBatches(pool, 8, seed=4)
    for _ in range(20):
        (xa, ya), (xb, yb) = a.next(), b.next()
        assert xa.shape == ya.shape == (8, xa.shape[1])
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa[:, 1:], ya[:, :-1])          # targets are the inputs shifted
        assert all(reber.decode(np.r_[xa[n], ya[n, -1]]) in pool for n in range(8))


class _Oracle:
    """Fake RNN functions whose 'hidden state' is the grammar's mask of allowed symbols (H = V).

    With Wy = identity the scores are that mask, so the top symbols are exactly the
    legal ones. forget=True lowers P at the long-range step: the oracle always says T there.
    """

    def __init__(self, forget):
        self.forget = forget

    def rnn_forward(self, x, h0, Wx, Wh, b):
        codes = np.argmax(x, axis=2)                                   # (N, T)
        h = np.zeros(x.shape)
        for n, row in enumerate(codes):
            # the string is in the grammar, so its last symbol is E
            s = reber.decode(row) + "E"
            h[n] = reber.legal_next(s)
            if self.forget:
                t_long = reber.long_range_step(len(s))
                h[n, t_long, [reber.INDEX["T"], reber.INDEX["P"]]] = [1.0, 0.5]
        return h, (x, h0, Wx, Wh, h)


def _oracle_params():
    V = len(reber.VOCAB)
    return {"Wx": np.zeros((V, V)), "Wh": np.zeros((V, V)), "b": np.zeros(V), "Wy": np.eye(V), "by": np.zeros(V)}


def test_evaluate_scores_an_oracle_perfect_and_a_forgetful_one_by_its_guess():
    strings = reber.embedded_reber_strings(300, seed=7)
    perfect = charlm.RNNFunctions(_Oracle(False).rnn_forward, None, None, None, None)
    assert charlm.evaluate(perfect, _oracle_params(), strings) == {"local": 1.0, "long_range": 1.0, "string": 1.0}
    forgetful = charlm.RNNFunctions(_Oracle(True).rnn_forward, None, None, None, None)
    m = charlm.evaluate(forgetful, _oracle_params(), strings)
    share_T = np.mean([s[1] == "T" for s in strings])
    assert m["local"] == 1.0
    assert m["long_range"] == pytest.approx(share_T) and m["string"] == pytest.approx(share_T)
    lengths, acc, counts = charlm.long_range_by_length(forgetful, _oracle_params(), strings)
    assert counts.sum() == len(strings) and list(lengths) == sorted(set(map(len, strings)))
    for n, a in zip(lengths, acc):
        assert a == pytest.approx(np.mean([s[1] == "T" for s in strings if len(s) == n]))


@pytest.mark.parametrize("kwargs, message", [({"k": 0}, "k must be"), ({"k": 2.5}, "k must be"),
                                             ({"updates": 0}, "updates must be"), ({"N": 0}, "N must be")])
def test_train_rejects_bad_settings_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        charlm.train_language_model(REFERENCE, ["BTBTXSETE"], ["BTBTXSETE"], progress=False, **kwargs)


def test_the_notebooks_claims_full_bptt_learns_and_short_chunks_do_not():
    """What notebook 06 states for seed 0 and 1200 updates (about 2 s per run on one core), on any machine.

    Training amplifies the last-bit differences between BLAS kernels, so the accuracies are checked against
    bounds, not exact values. benchmarks/numeric_spread.py measured, with OpenBLAS's Haswell, SandyBridge,
    Nehalem and Prescott kernels: full BPTT local 1.0 everywhere, long-range and string 1.0 / 0.947 / 1.0 /
    1.0, 19 or 20 of the 20 samples in the grammar; k = 6 local 1.0 and long-range 0.481 everywhere. An
    untrained model writes no grammatical string and guesses the long-range symbol (about 0.5).
    """
    train = reber.embedded_reber_strings(4000, seed=0)
    test = reber.embedded_reber_strings(1000, seed=1)
    full = charlm.train_language_model(REFERENCE, train, test, k=None, updates=1200, seed=0, progress=False)
    assert full.metrics["local"] == 1.0
    assert full.metrics["long_range"] >= 0.9 and full.metrics["string"] >= 0.9, full.metrics
    samples = charlm.sample_strings(REFERENCE, full.params, 20, seed=0)
    assert samples == charlm.sample_strings(REFERENCE, full.params, 20, seed=0)
    assert np.mean([reber.is_embedded_reber(s) for s in samples]) >= 0.8
    short = charlm.train_language_model(REFERENCE, train, test, k=6, updates=1200, seed=0, progress=False)
    assert short.metrics["local"] == 1.0 and abs(short.metrics["long_range"] - 0.5) < 0.06


def test_what_the_run_shows_is_computed_from_the_run(capsys):
    run = charlm.LMRun(k=None, seed=0, losses=np.zeros(3), checkpoints=[250, 1200],
                       history=[{"local": 0.99, "long_range": 0.48, "string": 0.4},
                                {"local": 1.0, "long_range": 0.953, "string": 0.95}],
                       params={}, seconds=1.0, metrics={"local": 1.0, "long_range": 0.953, "string": 0.95})
    charlm.print_what_the_run_shows(run, ["BTBTXSETE"] * 1000)
    assert capsys.readouterr().out == (
        "What this run shows: after 250 updates the local accuracy is 0.990 and the long-range accuracy 0.480; "
        "after 1200 updates they are 1.000 and 0.953 (the long-range symbol of 953 of the 1000 test strings).\n")


def test_length_shares_by_hand(capsys):
    charlm.print_length_shares(["BTBTXSETE", "BTBPVVETE", "BPBTSXSEPE", "BPBTSSXSEPE"], ks=(6, 8))
    assert capsys.readouterr().out.splitlines() == [
        "shortest string: 9 symbols", "k =  6: strings of length <= 8: 0%", "k =  8: strings of length <= 10: 75%"]


def _reber_generator():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "reber_lm_sweep.py"
    spec = importlib.util.spec_from_file_location("reber_lm_sweep", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def test_precomputed_reber_sweep_matches_its_generator_and_is_shown_in_full():
    sweep, gen = charlm.load_precomputed_sweep(), _reber_generator()
    assert sweep["settings"] == gen.SETTINGS and sweep["generated_by"] == "benchmarks/reber_lm_sweep.py"
    assert [r["k"] for r in sweep["results"]] == [4, 6, 8, 10, 12, None]
    for row in sweep["results"]:
        for u in sweep["updates"]:
            assert len(row["long_range"][str(u)]) == len(sweep["seeds"]) == len(row["local"][str(u)])
        assert len(row["long_range_fits"]) == len(row["long_range_longer"]) == len(sweep["seeds"])
    table = charlm.sweep_table(sweep)
    assert "PRECOMPUTED" in table and sweep["machine"] in table
    assert len(table.splitlines()) == 3 + len(sweep["results"])


def test_precomputed_reber_sweep_comes_from_this_code_on_any_blas_kernel():
    """Every row reruns its fingerprint: the mean training loss of the first 100 updates of its first seed.

    The final accuracies of runs that have not converged depend on the BLAS kernel (see the claims test
    above); the start of training does not (measured like tests/test_bpttlab_truncation.py's echo sweep).
    """
    sweep = charlm.load_precomputed_sweep()
    s = sweep["settings"]
    train = reber.embedded_reber_strings(s["train_strings"], seed=s["train_seed"])
    test = reber.embedded_reber_strings(20, seed=s["test_seed"])
    for row in sweep["results"]:
        run = charlm.train_language_model(REFERENCE, train, test, k=row["k"], updates=s["fingerprint_updates"],
                                          seed=sweep["seeds"][0], H=s["H"], N=s["N"], lr=s["lr"],
                                          max_norm=s["max_norm"], progress=False)
        assert float(np.mean(run.losses)) == pytest.approx(row["fingerprint"], abs=1e-9), row["k"]


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
