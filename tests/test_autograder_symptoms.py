"""Diagnosis by symptom (issue 17): the measurement, and what a symptom must never do.

The measurement grades, for every graded function, generic perturbations of
the reference, the mistakes library (with and without it) and realistic
student answers (tests/symptom_measure.py, tests/symptom_answers.py), and
prints the per-function table (pytest -s) that the README quotes. Targets:
>= 80 % of the wrong answers named correctly, 0 wrongly named.

Legend: N batch, T time steps, D input size, H hidden size, k truncation length.
"""
import json

import numpy as np
import pytest

import solutions
import symptom_measure as sm
from autograder import relations, report
from autograder.cases import GRADED, Case
from autograder.evaluate import in_process
from autograder.grading import grade_function
from autograder.mistakes import clipping, contributions, gradcheck, losses, rnn, truncation, vanishing
from autograder.nbgrader_plugin import report_record, results_path
from autograder.symptoms import CaseRun, PartView, diagnose
from symptom_answers import LIBRARY_ALSO, LIBRARY_SYMPTOMS, REALISTIC

CLASSICS = [label for _, label, _, _ in REALISTIC[:10]]


@pytest.fixture(scope="module")
def verdicts():
    """Every wrong answer of the measurement, graded (about 2 minutes on 2 busy cores)."""
    found = []
    for name in GRADED:
        answers = (sm.perturbations(name) + sm.library_answers(name, LIBRARY_SYMPTOMS, LIBRARY_ALSO)
                   + sm.realistic_answers(name) + sm.controls(name))
        found += [sm.grade(a) for a in answers]
    return found


def test_most_wrong_answers_are_named_and_none_wrongly(verdicts):
    graded = sm.table(verdicts, {"perturbation", "library", "realistic"})
    print("\n" + sm.format_table("The grader (known mistakes, then symptoms): perturbations, library, "
                                 "realistic answers", graded))
    alone = sm.table(verdicts, {"library off"})
    print("\n" + sm.format_table("Symptoms alone on the known mistakes (library switched off)", alone))
    for family in ("perturbation", "library", "library off", "realistic", "control"):
        ratio, total = sm.share(sm.table(verdicts, {family}))
        what = "named correctly" if family != "control" else "named (only true, general descriptions allowed)"
        print(f"{family:>12}: {total} wrong answers, {ratio:.0%} {what}")
    wrongly = [(v.answer.function, v.answer.family, v.answer.label, v.bad) for v in verdicts
               if v.outcome == "wrongly named"]
    # A new graded function's known mistake may name a perturbation exactly, or be named together with
    # another of its mistakes: judge it, then list it in symptom_measure.LIBRARY_EQUIVALENTS or
    # symptom_answers.LIBRARY_ALSO. A symptom named wrongly is a bug of autograder/symptoms.py.
    assert not wrongly, wrongly
    ratio, total = sm.share(graded)
    assert total >= 300 and ratio >= 0.8, (total, ratio)
    assert set(graded) == set(GRADED)                     # every graded function is measured


def test_the_classics_of_the_issue_are_named(verdicts):
    named = {v.answer.label: v for v in verdicts if v.answer.family == "realistic"}
    for label in CLASSICS:
        assert named[label].outcome == "named", (label, named[label].names)


def test_every_wrong_answer_is_caught(verdicts):
    missed = [(v.answer.function, v.answer.label) for v in verdicts
              if not v.wrong and v.answer.family in ("library", "realistic")]
    assert not missed, missed


@pytest.mark.parametrize("name", GRADED)
def test_a_right_answer_gets_no_name(name):
    ns = {"np": np}
    for module in (rnn, gradcheck, contributions, truncation, vanishing, clipping, losses):
        for source in module.TEMPLATES.values():
            exec(source, ns)
    for candidate in ({name: getattr(solutions, name)}, ns):
        if name in candidate:
            report = grade_function(name, in_process(candidate), sm.SEED)
            assert report.passed and not report.symptoms and not report.mistakes, report.feedback


def test_the_feedback_says_what_the_values_show_and_hints_at_the_cause():
    source = [s for _, label, s, _ in REALISTIC if label == "db a mean over the batch"][0]
    ns = {"np": np}
    exec(source, ns)
    text = grade_function("rnn_step_backward", in_process(ns), sm.SEED).feedback
    assert "your db is the reference divided by N (the batch size), on every case." in text
    assert "a mean over the batch where the sum belongs" in text.lower()
    assert "db is wrong at" in text                       # the location stays
    lines = text.splitlines()
    assert [i for i, l in enumerate(lines) if "What the values show" in l][0] < \
        [i for i, l in enumerate(lines) if "db is wrong at" in l][0]


def test_parts_with_one_symptom_are_told_together_and_a_swap_as_a_swap():
    by_label = {label: (function, source) for function, label, source, _ in REALISTIC}
    for label, expected in (("weight gradients averaged over the batch",
                             "your dWx, dWh and db are the reference divided by N"),
                            ("dWx and dWh returned in each other's place", "your dWx and dWh are swapped")):
        function, source = by_label[label]
        ns = {"np": np}
        exec(source, ns)
        assert expected in grade_function(function, in_process(ns), sm.SEED).feedback


# --- what a symptom must never do ----------------------------------------------------------

def _runs(sizes_list, reference, student):
    """CaseRuns and a PartView for a single-output function: reference(sizes), student(sizes, ref)."""
    runs, right = [], []
    for i, sizes in enumerate(sizes_list):
        ref = reference(i, sizes)
        got = student(sizes, ref)
        runs.append(CaseRun(Case("c", (), 0, i, sizes), got, ref, {(): 1e-12}))
        right.append(bool(np.allclose(got, ref, rtol=0, atol=1e-12)))
    view = PartView("out", None, lambda out: out, lambda tols: tols, tuple(right))
    return runs, view


def _reference(i, sizes):
    return np.random.default_rng(i).normal(size=(sizes["N"], sizes["T"], 3))


def test_two_causes_that_fit_equally_get_no_exact_name():
    # every case has N = 2: "multiplied by N" and "doubled" both explain the values
    runs, view = _runs([dict(N=2, T=3), dict(N=2, T=5)], _reference, lambda sizes, ref: 2 * ref)
    ids = [s.id for s in diagnose("no_such_function", [view], [view], runs)]
    assert "doubled" not in ids and "multiplied-by-N" not in ids
    runs, view = _runs([dict(N=2, T=3), dict(N=3, T=5)], _reference, lambda sizes, ref: 2 * ref)
    assert [s.id for s in diagnose("no_such_function", [view], [view], runs)] == ["doubled"]


def test_a_symptom_must_explain_every_case():
    # divided by N on one case, something else on the other: no factor, no regime
    def student(sizes, ref):
        return ref / sizes["N"] if sizes["T"] == 3 else ref + 0.5
    runs, view = _runs([dict(N=2, T=3), dict(N=3, T=5), dict(N=4, T=2)], _reference, student)
    assert diagnose("no_such_function", [view], [view], runs) == []


def test_regimes_that_pick_the_same_cases_are_named_together():
    runs, view = _runs([dict(N=1, T=1), dict(N=3, T=5), dict(N=2, T=4)], _reference,
                       lambda sizes, ref: ref if sizes["T"] == 1 else ref + 0.1)
    (found,) = diagnose("no_such_function", [view], [view], runs)
    assert found.id == "right-only-when:T = 1 and N = 1"
    assert "T = 1" in found.hint or "time step" in found.hint


def test_a_scale_on_a_time_free_array_is_never_a_time_shift():
    # dh0 (N, H) is not a time series, even where N = T = 1
    def reference(i, sizes):
        return np.random.default_rng(i).normal(size=(sizes["N"], 3))
    runs, view = _runs([dict(N=1, T=1), dict(N=3, T=5)], reference,
                       lambda sizes, ref: np.zeros_like(ref) if sizes["T"] == 1 else ref)
    assert all(not s.id.startswith("shifted") for s in diagnose("no_such_function", [view], [view], runs))


# --- the relations table ----------------------------------------------------------------------

def test_relations_apply_only_to_graded_functions():
    for rel in relations.RELATIONS:
        assert hasattr(solutions, rel.function), rel.id
        assert rel.id.startswith(f"{rel.function}/")
        assert bool(relations.relations_for(rel.function)) == (rel.function in GRADED)
        assert "np." not in rel.hint and "def " not in rel.hint
    ids = [rel.id for rel in relations.RELATIONS]
    assert len(ids) == len(set(ids))


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _student_lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b):
    """An LSTM step with the gate blocks in CS231n's order i, f, o, g (written independently)."""
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b
    i, f, o, g = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    return o * np.tanh(c_next), c_next


def _student_lstm_step_backward(dh_next, dc_next, cache):
    """The backward pass of the same student: it reads the gate blocks as i, f, o, g."""
    x_t, h_prev, c_prev, Wx, Wh, gates, c_next = cache
    H = h_prev.shape[1]
    i, f, o, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1 - tc ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dh_next * tc * o * (1 - o),
                         dc * i * (1 - g ** 2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


def _lstm_inputs(rng, N=2, T=3, D=3, H=2):
    x = rng.normal(size=(N, T, D))
    h0, c0 = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    Wx, Wh, b = rng.normal(size=(D, 4 * H)) / 2, rng.normal(size=(H, 4 * H)) / 2, rng.normal(size=4 * H) / 2
    return x, h0, c0, Wx, Wh, b


def _relation(rel_id):
    return {r.id: r for r in relations.RELATIONS}[rel_id]


def test_the_lstm_gate_order_relations_reproduce_a_student_with_that_order():
    rng = np.random.default_rng(0)
    x, h0, c0, Wx, Wh, b = _lstm_inputs(rng)
    h_next, c_next, _ = _relation("lstm_step_forward/gates-ifog").predict(x[:, 0], h0, c0, Wx, Wh, b)
    np.testing.assert_allclose((h_next, c_next), _student_lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b), atol=1e-12)
    # the student's sequence forward: the step in a loop
    h, c, hs = h0, c0, []
    for t in range(x.shape[1]):
        h, c = _student_lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
    predicted, _ = _relation("lstm_forward/gates-ifog").predict(x, h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(predicted, np.stack(hs, axis=1), atol=1e-12)
    # backward, on the reference's cache (contract order), as the grader runs it
    _, _, cache = solutions.lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    dh, dc = rng.normal(size=h0.shape), rng.normal(size=h0.shape)
    got = _relation("lstm_step_backward/gates-ifog").predict(dh, dc, cache)
    for g, w in zip(got, _student_lstm_step_backward(dh, dc, cache)):
        np.testing.assert_allclose(g, w, atol=1e-12)
    _, seq_cache = solutions.lstm_forward(x, h0, c0, Wx, Wh, b)
    dh_seq = rng.normal(size=(x.shape[0], x.shape[1], h0.shape[1]))
    xs, h0_, c0_, Wx_, Wh_, gates, cs, hs_ = seq_cache
    dx, total, carry_h, carry_c = [], None, np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        step = (xs[:, t], h0_ if t == 0 else hs_[:, t - 1], c0_ if t == 0 else cs[:, t - 1], Wx_, Wh_,
                gates[:, t], cs[:, t])
        dx_t, carry_h, carry_c, *weights = _student_lstm_step_backward(dh_seq[:, t] + carry_h, carry_c, step)
        dx.insert(0, dx_t)
        total = weights if total is None else [a + w for a, w in zip(total, weights)]
    want = (np.stack(dx, axis=1), carry_h, carry_c, *total)
    for g, w in zip(_relation("lstm_backward/gates-ifog").predict(dh_seq, seq_cache), want):
        np.testing.assert_allclose(g, w, atol=1e-12)


def test_the_contract_order_is_not_taken_for_another_order():
    rng = np.random.default_rng(1)
    x, h0, c0, Wx, Wh, b = _lstm_inputs(rng)
    right = solutions.lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)[0]
    for order, _ in relations.GATE_ORDERS:
        other = _relation(f"lstm_step_forward/gates-{order}").predict(x[:, 0], h0, c0, Wx, Wh, b)[0]
        assert np.abs(other - right).max() > 1e-3


def test_the_weighted_link_relation_reproduces_xi_read_one_step_early():
    rng = np.random.default_rng(2)
    x, h0, Wx, Wh, b = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4)) / 2, \
        rng.normal(size=(4, 4)) / 2, rng.normal(size=4)
    _, cache = solutions.rnn_forward(x, h0, Wx, Wh, b)
    dh, xi = rng.normal(size=(2, 5, 4)), rng.uniform(0, 2, size=5)
    N, T, H = dh.shape
    carry, dWh = np.zeros((N, H)), np.zeros((H, H))
    for t in reversed(range(T)):            # the student: xi[t - 1] on the link from step t
        da = (dh[:, t] + carry) * (1 - cache[4][:, t] ** 2)
        dWh += (h0 if t == 0 else cache[4][:, t - 1]).T @ da
        carry = xi[t - 1] * (da @ Wh.T)
    got = _relation("rnn_backward_weighted/xi-one-step-early").predict(dh, cache, xi)
    np.testing.assert_allclose(got[1], carry, atol=1e-12)
    np.testing.assert_allclose(got[3], dWh, atol=1e-12)


def test_the_checkpoint_and_language_model_relations_compute_what_they_say():
    rng = np.random.default_rng(3)
    x, h0, Wx, Wh, b = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4)) / 2, \
        rng.normal(size=(4, 4)) / 2, rng.normal(size=4)
    dh = rng.normal(size=(2, 6, 4))
    _, cache = solutions.rnn_forward(x, h0, Wx, Wh, b)
    cut = _relation("rnn_backward_checkpointed/cut-at-checkpoints").predict(dh, x, h0, Wx, Wh, b, 4)
    np.testing.assert_allclose(cut[3], solutions.rnn_backward_chunked(dh, cache, 4)[3], atol=1e-12)
    whole = _relation("rnn_backward_checkpointed/segments-from-h0").predict(dh, x, h0, Wx, Wh, b, 6)
    np.testing.assert_allclose(whole[3], solutions.rnn_backward(dh, cache)[3], atol=1e-12)  # one segment: exact
    V = 5
    params = {"Wx": rng.normal(size=(V, 4)), "Wh": Wh, "b": b, "Wy": rng.normal(size=(4, V)), "by": rng.normal(size=V)}
    ids = rng.integers(0, V, size=(2, 6))
    first = _relation("lm_loss_and_grads/h-last-after-first-step").predict(params, ids, ids, h0)[2]
    np.testing.assert_allclose(first, np.tanh(params["Wx"][ids[:, 0]] + h0 @ Wh + b), atol=1e-12)


# --- the class report counts symptoms ------------------------------------------------------------

def test_the_class_report_counts_symptoms(tmp_path):
    by_label = {label: (function, source) for function, label, source, _ in REALISTIC
                if function == "rnn_step_backward"}
    records = {}
    for student, label in (("ann", "db a mean over the batch"), ("bob", "db a mean over the batch"),
                           ("cat", "tanh derivative forgotten in the weight gradients")):
        function, source = by_label[label]
        ns = {"np": np}
        exec(source, ns)
        records[student] = report_record(grade_function("rnn_step_backward", in_process(ns), sm.SEED))
    records["dan"] = report_record(grade_function("rnn_step_backward", in_process(
        {"rnn_step_backward": solutions.rnn_step_backward}), sm.SEED))
    for student, record in records.items():
        path = results_path(tmp_path, "02_bptt", student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"assignment": "02_bptt", "student": student,
                                    "notebooks": {"02_bptt": {"functions": {"rnn_step_backward": record}}}}))
    assert records["ann"]["symptoms"] == [{"part": "db", "id": "divided-by-N",
                                          "what": "the reference divided by N (the batch size)"}]
    summary = report.misconceptions(tmp_path, "02_bptt")["rnn_step_backward"]
    assert summary.symptoms == {"db: the reference divided by N (the batch size)": 2,
                                "dWx, dWh, db: what the step gives without the tanh derivative": 1}
    assert summary.full_marks == 1 and summary.unexplained == 0
    text = report.format_misconceptions("02_bptt", report.misconceptions(tmp_path, "02_bptt"))
    assert "(symptom) db: the reference divided by N (the batch size)" in text
    named = report.named_mistakes(tmp_path, "02_bptt")
    assert named["ann"] == ["rnn_step_backward/divided-by-N (db)"] and named["dan"] == []


# --- strange return values ----------------------------------------------------------------------

class _Subclass(np.ndarray):
    pass


STRANGE = {
    "a list instead of a tuple": lambda out: list(out),
    "an object inside": lambda out: (object(),) + tuple(out[1:]),
    "booleans": lambda out: tuple(np.ones(o.shape, dtype=bool) for o in out),
    "nan everywhere": lambda out: tuple(np.full(o.shape, np.nan) for o in out),
    "rounded to integers": lambda out: tuple(np.round(o * 10).astype(np.int64) for o in out),
    "an ndarray subclass": lambda out: tuple(o.view(_Subclass) for o in out),
    "arrays of another shape": lambda out: tuple(np.ones((2, 2)) for o in out),
}


@pytest.mark.parametrize("kind", STRANGE)
def test_strange_return_values_are_graded_without_a_name(kind):
    def student(dh, cache):
        return STRANGE[kind](solutions.rnn_backward(dh, cache))
    report = grade_function("rnn_backward", in_process({"rnn_backward": student}), sm.SEED)
    assert report.fraction < 1 and report.symptoms == [], report.feedback


def test_a_function_graded_later_gets_the_symptoms_and_its_relations(monkeypatch):
    """lstm_step_forward is not graded yet: graded as it will be, a wrong gate order is named, and
    a scaled output gets the generic symptom, with no change to the diagnosis."""
    from autograder import cases, grading

    def draw(N, D, H):
        def make(rng):
            return (rng.normal(size=(N, D)), rng.uniform(-0.8, 0.8, (N, H)), rng.normal(size=(N, H)),
                    rng.normal(scale=0.6, size=(D, 4 * H)), rng.normal(scale=0.4, size=(H, 4 * H)),
                    rng.normal(scale=0.3, size=4 * H))
        return make
    name = "lstm_step_forward"
    builders = dict(cases._BUILDERS)
    builders[name] = lambda: [("D != H", dict(N=3, D=4, H=5), draw(3, 4, 5)),
                              ("N = 1, D == H", dict(N=1, D=3, H=3), draw(1, 3, 3))]
    monkeypatch.setattr(cases, "_BUILDERS", builders)
    monkeypatch.setattr(cases, "GRADED", tuple(builders))
    monkeypatch.setitem(grading.PARTS, name, grading._tuple_parts(("h_next", "c_next", "cache"), (0.3, 0.3, 0.3)))
    monkeypatch.setitem(grading.STAND_INS, name, ())

    def gates_ifog(x_t, h_prev, c_prev, Wx, Wh, b):
        h_next, c_next = _student_lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b)
        return h_next, c_next, solutions.lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b)[2]

    def c_halved(*args):
        h_next, c_next, cache = solutions.lstm_step_forward(*args)
        return h_next, c_next / 2, cache
    for student, expected in ((gates_ifog, {("h_next", "equals:lstm_step_forward/gates-ifog"),
                                            ("c_next", "equals:lstm_step_forward/gates-ifog")}),
                              (c_halved, {("c_next", "halved")})):
        report = grade_function(name, in_process({name: student}), sm.SEED)
        assert {(s.part, s.id) for s in report.symptoms} == expected, report.feedback
