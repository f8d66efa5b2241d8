"""Tests of notebook 07's toolbox (bpttlab.review and its modules), driven as a student's clicks would.

Every concept question must accept its right answer and reject the others with
that option's own explanation; the numeric answers are computed here
independently (with the reference where it has the function); every drill's
steps agree with an independent computation (central differences, numpy
written here, or the reference), its traps are recognised and name the step
that went wrong; the weakest-topic quiz remembers answers.
"""
import math
import re
from collections import Counter

import numpy as np
import pytest

import solutions
from bpttlab import drills, question_bank, quiz, review

QUESTIONS = question_bank.QUESTIONS
CHOICES = [q for q in QUESTIONS if isinstance(q, quiz.ChoiceQuestion)]
NUMERICS = {q.key: q for q in QUESTIONS if isinstance(q, quiz.NumericQuestion)}
NOTEBOOK_TOPICS = {          # the topics, each with questions of its notebook
    "shapes and transposes", "Jacobian layout", "what each truncation scheme drops",
    "k vs the dependency length", "clipping by value vs by norm", "the LSTM cell path", "checkpointing",
    "randomized truncation", "language model", "vanishing and exploding",
}


# ---------------------------------------------------------------- the bank

def test_the_bank_is_large_tagged_and_covers_the_course():
    assert len(QUESTIONS) >= 40
    keys = [q.key for q in QUESTIONS]
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1]
    assert {q.notebook for q in QUESTIONS} == set(quiz.NOTEBOOKS)           # every notebook 01-06 has questions
    topics = Counter(q.topic for q in QUESTIONS)
    assert NOTEBOOK_TOPICS <= set(topics)
    assert min(topics.values()) >= 3, topics                                   # enough to quiz a weak topic


def test_the_notebook_tags_are_the_course_assignments():
    from course_tools import assignments
    course = set(assignments()) - {"07_exam_review"}
    pending = {"05_gated_cells"}             # issue 11 adds it; its questions follow the contract
    assert course <= set(quiz.NOTEBOOKS) <= course | pending


@pytest.mark.parametrize("question", CHOICES, ids=lambda q: q.key)
def test_every_option_has_its_own_explanation_and_exactly_one_is_right(question):
    texts = question.texts
    assert len(texts) >= 3 and len(set(texts)) == len(texts)
    whys = [o.why for o in question.options]
    assert all(len(w) > 20 for w in whys) and len(set(whys)) == len(whys)
    widget = quiz.QuestionWidget(question)
    for i, option in enumerate(texts):
        feedback = widget.answer(i)
        assert feedback.correct == (i == question.answer), (question.key, i)
        assert question.options[i].why in feedback.message                    # this option's explanation
        assert ("\N{CHECK MARK}" in widget.feedback.value) == (i == question.answer)
        assert widget.answer(option) == feedback                               # by text, as the radio gives it


def test_right_answers_are_spread_over_the_positions():
    positions = Counter(q.answer for q in CHOICES)
    assert len(positions) >= 3 and max(positions.values()) <= 0.5 * len(CHOICES)


def test_bad_choices_raise_a_clear_error():
    q = CHOICES[0]
    with pytest.raises(ValueError, match=r"option index 0\.\.3"):
        q.check(7)
    with pytest.raises(ValueError, match="not one of its options"):
        q.check("none of the above")
    with pytest.raises(ValueError, match="answer index"):
        quiz.ChoiceQuestion("x", "01_unrolling", "t", "?", (quiz.Option("a", "b"), quiz.Option("c", "d")), 2)


def _spectral_radius(W):
    return max(abs(np.linalg.eigvals(W)))


def _independent_numeric_answers():
    """Every numeric question's answer, computed without the bank (reference functions where they exist)."""
    d = 1
    while 0.9 ** d >= 1e-4:                                          # norm of (0.9 Q)^d, Q orthogonal
        d += 1
    loss, _ = solutions.temporal_softmax_loss(np.zeros((1, 5, 8)), np.zeros((1, 5), dtype=int))
    clipped, _ = solutions.clip_grad_norm({"dWh": np.array([[3.0, 0], [0, 0]]), "db": np.array([4.0, 0])}, 1.0)
    g = {"g": np.array([6.0, 8.0])}                                  # global norm 10
    factor = solutions.clip_grad_norm(g, 5.0)[0]["g"][0] / 6.0
    N, T, D, H = 2, 10, 3, 4
    x, h0 = np.zeros((N, T, D)), np.zeros((N, H))
    _, cache = solutions.rnn_forward(x, h0, np.zeros((D, H)), np.zeros((H, H)), np.zeros(H))
    cache_numbers = sum(a.size for a in cache)
    h = np.array([[0.6]])                                            # one unit: J = (1 - h^2) Wh
    _, step_cache = solutions.rnn_forward(np.zeros((1, 1, 1)), np.zeros((1, 1)), np.zeros((1, 1)),
                                          np.array([[0.5]]), np.array([np.arctanh(0.6)]))
    J = solutions.step_jacobians(step_cache)[0, 0, 0, 0]
    assert np.allclose(step_cache[4], h)
    k, Tw = 5, 20
    kept = sum(min(t + 1, k) for t in range(Tw))
    chunk = [s for s in range(8, 12) if s <= 9]                        # chunks [0,4), [4,8), [8,12): L_9's steps
    return {"linear_decay": d, "uniform_loss": loss, "clip_value": clipped["dWh"][0, 0],
            "clip_factor": factor, "chunk_memory": (25 + 1) * 32 * 128, "cache_numbers": cache_numbers,
            "scalar_jacobian": J, "kept_pairs": kept, "chunk_credit": len(chunk),
            "random_factor": (1 / 0.5) ** 3, "spectral_radius": _spectral_radius(np.array([[0, 2], [0.5, 0]])),
            "cell_path_factor": np.prod(np.full(20, 0.9)), "perplexity": math.exp(math.log(4))}


def test_numeric_answers_agree_with_an_independent_computation():
    want = _independent_numeric_answers()
    assert set(want) == set(NUMERICS)
    for key, value in want.items():
        widget = quiz.QuestionWidget(NUMERICS[key])
        assert widget.answer(value).correct, key
        assert widget.answer(f"{value:.6g}").correct, key
        assert "\N{CHECK MARK}" in widget.feedback.value


@pytest.mark.parametrize("key", sorted(NUMERICS))
def test_numeric_traps_are_wrong_and_explained(key):
    q = NUMERICS[key]
    assert q.traps or key in ("linear_decay",), f"{key}: no typical wrong answer named"
    for value, why in q.traps:
        assert not quiz.close(value, q.answer, q.rel_tol, q.abs_tol)
        feedback = q.check(value)
        assert not feedback.correct and why in feedback.message
    far = q.answer * 3 + 17
    assert "Hint:" in q.check(far).message


def test_numbers_are_read_in_the_usual_formats():
    assert quiz.parse_number("1/4") == 0.25
    assert quiz.parse_number(" -1.5e-3 ") == -1.5e-3
    assert quiz.parse_number("0,6") == 0.6
    assert quiz.parse_number("\u22120.5") == -0.5                       # the minus sign the prompts print
    assert quiz.parse_number("abc") is None and quiz.parse_number("1/0") is None
    assert quiz.parse_number(True) is None
    feedback = NUMERICS["clip_value"].check("three fifths")
    assert not feedback.correct and "Could not read" in feedback.message
    assert NUMERICS["clip_value"].check("3/5").correct


# ---------------------------------------------------------------- the session and the quiz widget

def test_the_session_finds_the_weakest_topic_and_remembers():
    session = quiz.Session(QUESTIONS)
    first = session.topics[0]
    assert session.weakest_topic() == first                              # nothing tried: course order
    wrong = [q for q in QUESTIONS if q.topic == "Jacobian layout"][:2]
    for q in wrong:
        session.record(q, quiz.Feedback(False, ""))
    right = [q for q in QUESTIONS if q.topic == first][:2]
    for q in right:
        session.record(q, quiz.Feedback(True, ""))
    assert session.weakest_topic() == "Jacobian layout"
    scores = session.topic_scores()
    assert scores["Jacobian layout"][1:] == (2, 0, 0) and scores[first][1:] == (2, 2, 2)
    nxt = session.next_question(topic="Jacobian layout")
    assert nxt.key not in {q.key for q in wrong}                         # untried questions first
    for q in QUESTIONS:
        if q.topic == "Jacobian layout" and q not in wrong:
            session.record(q, quiz.Feedback(True, ""))
    assert session.next_question(topic="Jacobian layout").key in {q.key for q in wrong}   # then the missed ones


def test_the_quiz_widget_records_answers_and_quizzes_the_weakest_topic():
    w = review.concept_quiz()
    asked = w.current.question
    bad = next(i for i in range(3) if isinstance(asked, quiz.ChoiceQuestion) and i != asked.answer)
    assert not w.answer(bad).correct
    assert w.session.history[asked.key] == [False]
    assert asked.topic in w.progress.value
    q = w.weakest()
    assert q.topic == asked.topic and q.key != asked.key                 # the topic just missed, another question
    assert "weakest topic" in w.status.value
    w.notebook_filter.value = "03_truncation"
    for _ in range(5):
        assert w.next().notebook == "03_truncation"
    w.topic_filter.value = "the LSTM cell path"
    assert "No question matches" in (w.next() and w.status.value)        # no LSTM question in 03: said so
    w.notebook_filter.value = quiz.ALL
    assert w.next().topic == "the LSTM cell path"


# ---------------------------------------------------------------- drills

def _instances(drill, n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [drill(rng) for _ in range(n)]


def _central(f, w, step=1e-6):
    return (f(w + step) - f(w - step)) / (2 * step)


def _linear_h2(ws, u, h_init, xs):
    """h_2 of h_t = w_t h_{t-1} + u x_t, with a separate copy w_t of w at each step."""
    h = h_init
    for w, x in zip(ws, xs):
        h = w * h + u * x
    return h


def test_linear_drill_matches_the_numerical_derivative():
    for inst in _instances(drills.linear_rnn_dw):
        p = inst.numbers

        def loss(w):
            return 0.5 * (_linear_h2([w] * 3, p["u"], p["h_init"], p["x"]) - p["y"]) ** 2
        assert inst.answer == pytest.approx(_central(loss, p["w"]), abs=1e-6)


def test_truncated_drill_keeps_exactly_the_last_k_steps_terms():
    """With one copy of w per step, the truncated gradient is the sum of the last k copies' derivatives."""
    ks = set()
    for inst in _instances(drills.linear_rnn_dw_truncated):
        p = inst.numbers
        ks.add(p["k"])
        per_step = []
        for s in range(3):
            def loss(v, s=s):
                ws = [p["w"]] * 3
                ws[s] = v
                return _linear_h2(ws, p["u"], p["h_init"], p["x"])
            per_step.append(_central(loss, p["w"]))
        assert inst.answer == pytest.approx(sum(per_step[3 - p["k"]:]), abs=1e-6)
        np.testing.assert_allclose(inst.step("terms").answer, per_step, atol=1e-6)
    assert ks == {1, 2}


def test_tanh_drill_matches_the_numerical_derivative():
    for inst in _instances(drills.tanh_rnn_dw):
        p = inst.numbers

        def loss(w):
            h = p["h_init"]
            for x in p["x"]:
                h = math.tanh(w * h + x)
            return h
        assert inst.answer == pytest.approx(_central(loss, p["w"]), abs=1e-7)


def test_clipping_drills_match_the_reference_clip_grad_norm():
    for inst in _instances(drills.clipped_entry):
        p = inst.numbers
        clipped, _ = solutions.clip_grad_norm({"dWh": np.array([[float(p["dWh"])]]),
                                               "db": np.array(p["db"], dtype=float)}, p["max_norm"])
        assert inst.answer == pytest.approx(clipped["dWh"][0, 0], rel=1e-12)
    for inst in _instances(drills.clipping_2units):
        p = inst.numbers
        clipped, norm = solutions.clip_grad_norm({"dWh": p["dWh"], "db": p["db"]}, p["max_norm"])
        np.testing.assert_allclose(inst.answer, clipped["dWh"], rtol=1e-12)
        assert float(inst.step("norm").answer) == pytest.approx(norm)


def test_two_unit_forward_and_backward_steps_match_the_reference():
    for inst in _instances(drills.forward_step_2units):
        p = inst.numbers
        h, _ = solutions.rnn_step_forward(p["x"], p["h_prev"], p["Wx"], p["Wh"], p["b"])
        np.testing.assert_allclose(inst.answer, h, rtol=1e-12)
    for inst in _instances(drills.backward_step_2units):
        p = inst.numbers
        cache = (np.zeros((1, 2)), p["h_prev"], np.zeros((2, 2)), p["Wh"], p["h"])
        _, dh_prev, _, dWh, _ = solutions.rnn_step_backward(p["dh"], cache)
        np.testing.assert_allclose(inst.step("dh_prev").answer, dh_prev, rtol=1e-12)
        np.testing.assert_allclose(inst.answer, dWh, rtol=1e-12)


def test_jacobian_drill_matches_step_jacobians_and_central_differences():
    for inst in _instances(drills.jacobian_product_2units):
        p = inst.numbers
        h = np.stack([p["h_prev"], p["h"]], axis=1)                     # (1, 2, 2): states t-1, t
        cache = (np.zeros((1, 2, 1)), np.zeros((1, 2)), np.zeros((1, 2)), p["Wh"], h)
        J = solutions.step_jacobians(cache)[0]
        np.testing.assert_allclose(inst.step("J_t").answer, J[1], rtol=1e-12)
        np.testing.assert_allclose(inst.step("J_prev").answer, J[0], rtol=1e-12)
        # d h_t / d h_{t-2} through two tanh steps whose pre-activations give exactly these states
        Wh = p["Wh"]
        h_before = np.array([[0.3, -0.2]])                                # any h_{t-2}: the inputs absorb it
        c1 = np.arctanh(p["h_prev"]) - h_before @ Wh
        c2 = np.arctanh(p["h"]) - p["h_prev"] @ Wh

        def loss(v):
            return float((p["g"] * np.tanh(np.tanh(v @ Wh + c1) @ Wh + c2)).sum())
        num = np.array([[_central(lambda s, i=i: loss(h_before + s * np.eye(2)[i]), 0.0) for i in range(2)]])
        np.testing.assert_allclose(inst.answer, num, atol=1e-7)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_lstm_drill_matches_an_independent_cell_and_central_differences():
    for inst in _instances(drills.lstm_cell_1unit):
        p = inst.numbers
        a = np.array(p["a"])

        def cell(c_prev):
            i, f, g, o = _sigmoid(a[0]), _sigmoid(a[1]), np.tanh(a[2]), _sigmoid(a[3])
            c = f * c_prev + i * g
            return c, o * np.tanh(c)

        def loss(c_prev):                                                 # L = dh * h_t + dc_next * c_t
            c, h = cell(c_prev)
            return p["dh"] * h + p["dc_next"] * c
        c, h = cell(p["c_prev"])
        assert float(inst.step("c").answer) == pytest.approx(c, rel=1e-12)
        assert float(inst.step("h").answer) == pytest.approx(h, rel=1e-12)
        assert inst.answer == pytest.approx(_central(loss, p["c_prev"]), abs=1e-8)


@pytest.mark.parametrize("title", list(drills.DRILLS))
def test_every_trap_is_wrong_and_names_a_step(title):
    """A typical slip is recognised: the feedback names a step (the trap's), never 'right'."""
    named = 0
    for inst in _instances(drills.DRILLS[title], n=25, seed=3):
        numbers = [s.key for s in inst.steps]
        for step in inst.steps:
            for j, (value, message) in enumerate(step.traps):
                named_step = re.match(r"Step (\d+)", message)
                assert named_step, message
                if drills._agrees(np.ravel(value), step.answer) or any(
                        drills._agrees(np.ravel(value), other) for other, _ in step.traps[:j]):
                    continue                                   # this instance: the slip changes nothing, or looks
                fb = inst.check({step.key: ", ".join(f"{v:.6g}" for v in np.ravel(value))})   # like an earlier one
                assert not fb.correct and message in fb.message
                assert fb.wrong_step == numbers[int(named_step.group(1)) - 1]
                named += 1
    assert named > 0


@pytest.mark.parametrize("title", list(drills.DRILLS))
def test_drill_widget_checks_steps_and_draws_reproducible_new_instances(title):
    panel = review.drill_panel(seed=5)
    a = panel.choose(title)
    b = review.DrillWidget(drills.DRILLS[title], seed=5 + list(drills.DRILLS).index(title))
    prompts = [a.prompt.value]
    for _ in range(3):
        inst = a.instance
        every = {s.key: s.answer for s in inst.steps}
        assert a.answer(every).correct
        assert "\N{CHECK MARK}" in a.feedback.value and "\N{BALLOT X}" not in a.feedback.value
        assert a.answer(inst.answer).correct                                # the last box alone
        rounded = {s.key: ", ".join(f"{v:.3f}" for v in np.ravel(s.answer)) for s in inst.steps}
        assert a.answer(rounded).correct                                    # worked by hand to 3 decimals
        if len(inst.steps) > 1:                                             # first step wrong, the rest right
            first = inst.steps[0]
            wrong = dict(every, **{first.key: np.ravel(first.answer) + 0.5})
            fb = a.answer(wrong)
            assert not fb.correct and fb.wrong_step == first.key and "Step 1" in fb.message
        assert not a.answer(np.ravel(inst.steps[-1].answer) + 0.5).correct
        assert "\N{BALLOT X}" in a.feedback.value
        fb = a.answer("dunno")
        assert not fb.correct and "could not read" in fb.message
        a.solution_button.click()
        assert "<b>" in a.solution.value
        a.new_button.click()
        assert a.solution.value == "" and a.feedback.value == ""
        assert all(box.value == "" for box in a.inputs.values())
        prompts.append(a.prompt.value)
    assert [b.prompt.value] + [b.new_instance().prompt for _ in range(3)] == prompts
    assert len(set(prompts)) >= 3
    a.check_button.click()
    assert "Type your answer" in a.feedback.value
    assert panel.holder.children[0] is a.box


def test_parse_array_reads_vectors_and_matrices():
    assert drills.parse_array("0.1, -0.2", 2).tolist() == [0.1, -0.2]
    assert drills.parse_array("[[1, 2], [3, 4]]", 4).tolist() == [1, 2, 3, 4]
    assert drills.parse_array("1 2; 3 4", 4).tolist() == [1, 2, 3, 4]
    assert drills.parse_array("0,25", 1).tolist() == [0.25]
    assert drills.parse_array("1, 2, 3", 4) is None and drills.parse_array("a, b", 2) is None
    with pytest.raises(ValueError, match="no step named"):
        drills.forward_step_2units(np.random.default_rng(0)).check({"nope": "1"})


def test_gradient_factor_plot_draws_one_curve_per_w():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ax = review.plot_gradient_factor(ws=(0.5, 1.2), k=5, d_max=20)
    ys = [line.get_ydata() for line in ax.get_lines()]
    assert len(ys) == 2
    np.testing.assert_allclose(ys[1], 1.2 ** np.arange(21))
    plt.close("all")


def test_the_exam_modules_hold_no_reference_code():
    """bpttlab ships to students from notebook 01 on: no telling line of a graded function's reference body
    may appear in notebook 07's modules or the cheat sheet (the spot-the-bug drills live in 07's folder)."""
    import inspect
    import sys
    from pathlib import Path

    from bpttlab import cheatsheet, spot_the_bug, written
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import sync_notebooks

    texts = {m.__name__: inspect.getsource(m)
             for m in (drills, quiz, question_bank, written, spot_the_bug, cheatsheet, review)}
    texts["cheatsheet.md"] = cheatsheet.text()
    for name in tuple(solutions.GRADED_FUNCTIONS) + tuple(getattr(solutions, "PENDING_FUNCTIONS", ())):
        lines = [line.split("#")[0].strip() for line in sync_notebooks.reference_body(name).splitlines()]
        telling = [line for line in lines if len(line) > 25]
        for module, text in texts.items():
            leaked = [line for line in telling if line in text]
            assert not leaked, f"{module} contains reference lines of {name}: {leaked[:2]}"
    data = Path(spot_the_bug.__file__).parent / "data"
    assert not list(data.glob("spot_the_bug*")), "the spot-the-bug drills must not ship in bpttlab"
