"""Tests of notebook 07's toolbox (bpttlab.review), driven programmatically as a student's clicks would.

Every concept question must accept its right answer and reject the others; every
drill's answer must agree with an independent computation (central differences
of the loss written here, or the reference's clip_grad_norm).
"""
import math

import numpy as np
import pytest

import solutions
from bpttlab import review

CHOICES = [q for q in review.CONCEPT_QUESTIONS if isinstance(q, review.ChoiceQuestion)]
NUMERICS = {q.key: q for q in review.CONCEPT_QUESTIONS if isinstance(q, review.NumericQuestion)}


# ---------------------------------------------------------------- concept questions

@pytest.mark.parametrize("question", CHOICES, ids=lambda q: q.key)
def test_choice_widget_accepts_the_right_option_and_rejects_every_other(question):
    widget = review.QuestionWidget(question)
    for i, option in enumerate(question.options):
        feedback = widget.answer(i)
        assert feedback.correct == (i == question.answer), (question.key, i)
        assert ("\N{CHECK MARK}" in widget.feedback.value) == (i == question.answer)
        assert widget.answer(option) == feedback                   # by text, as the radio button gives it
    assert widget.answer(question.answer).message.startswith("Right.")


def test_right_answers_are_not_all_in_the_same_place():
    assert len({q.answer for q in CHOICES}) >= 3


def test_bad_choices_raise_a_clear_error():
    q = CHOICES[0]
    with pytest.raises(ValueError, match="option index 0..3"):
        q.check(7)
    with pytest.raises(ValueError, match="not one of its options"):
        q.check("none of the above")
    with pytest.raises(ValueError, match="answer index"):
        review.ChoiceQuestion("x", "?", ("a", "b"), 2, "", "")


def _independent_numeric_answers():
    """The numeric questions' answers, computed without review.py."""
    T = 1
    while 0.9 ** T >= 1e-4:                                         # ||dh_T/dh_0|| = 0.9^T (orthogonal Wh)
        T += 1
    loss, _ = solutions.temporal_softmax_loss(np.zeros((1, 5, 8)), np.zeros((1, 5), dtype=int))
    clipped, _ = solutions.clip_grad_norm({"dWh": np.array([[3.0, 0], [0, 0]]), "db": np.array([4.0, 0])}, 1.0)
    k, N, H = 25, 32, 128
    chunk_states = np.zeros((N, k + 1, H))                            # h_{start-1} and the k states of a chunk
    return {"linear_decay": T, "uniform_loss": loss, "clip_value": clipped["dWh"][0, 0],
            "chunk_memory": chunk_states.size}


def test_numeric_answers_agree_with_an_independent_computation():
    want = _independent_numeric_answers()
    assert set(want) == set(NUMERICS)
    for key, value in want.items():
        widget = review.QuestionWidget(NUMERICS[key])
        assert widget.answer(value).correct, key
        assert widget.answer(str(value)).correct, key
        assert "\N{CHECK MARK}" in widget.feedback.value


@pytest.mark.parametrize("key, wrong", [
    ("linear_decay", 87), ("linear_decay", 30),
    ("uniform_loss", math.log(8)),                                  # one step only
    ("uniform_loss", 5 * math.log(8) / 5),
    ("clip_value", 3), ("clip_value", 0.75),
    ("chunk_memory", 25 * 32 * 128),                                # forgot the carried state
])
def test_numeric_questions_reject_typical_wrong_answers(key, wrong):
    feedback = review.QuestionWidget(NUMERICS[key]).answer(wrong)
    assert not feedback.correct and "Hint:" in feedback.message


def test_numbers_are_read_in_the_usual_formats():
    assert review.parse_number("1/4") == 0.25
    assert review.parse_number(" -1.5e-3 ") == -1.5e-3
    assert review.parse_number("0,6") == 0.6
    assert review.parse_number("abc") is None and review.parse_number("1/0") is None
    assert review.parse_number(True) is None
    feedback = NUMERICS["clip_value"].check("three fifths")
    assert not feedback.correct and "Could not read" in feedback.message
    assert NUMERICS["clip_value"].check("3/5").correct


# ---------------------------------------------------------------- drills

def _central(f, w, step=1e-6):
    return (f(w + step) - f(w - step)) / (2 * step)


def _linear_h2(ws, u, h_init, xs):
    """h_2 of h_t = w_t h_{t-1} + u x_t, with a separate copy w_t of w at each step."""
    h = h_init
    for w, x in zip(ws, xs):
        h = w * h + u * x
    return h


def _drill_instances(drill, n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [drill(rng) for _ in range(n)]


def test_linear_drill_matches_the_numerical_derivative():
    for inst in _drill_instances(review.linear_rnn_dw):
        p = inst.numbers

        def loss(w):
            return 0.5 * (_linear_h2([w] * 3, p["u"], p["h_init"], p["x"]) - p["y"]) ** 2
        assert inst.answer == pytest.approx(_central(loss, p["w"]), abs=1e-6)


def test_truncated_drill_keeps_exactly_the_last_k_steps_terms():
    """With one copy of w per step, the truncated gradient is the sum of the last k copies' derivatives."""
    ks = set()
    for inst in _drill_instances(review.linear_rnn_dw_truncated):
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
        full = _central(lambda w: _linear_h2([w] * 3, p["u"], p["h_init"], p["x"]), p["w"])
        assert full == pytest.approx(sum(per_step), abs=1e-6)
    assert ks == {1, 2}


def test_tanh_drill_matches_the_numerical_derivative():
    for inst in _drill_instances(review.tanh_rnn_dw):
        p = inst.numbers

        def loss(w):
            h = p["h_init"]
            for x in p["x"]:
                h = math.tanh(w * h + x)
            return h
        assert inst.answer == pytest.approx(_central(loss, p["w"]), abs=1e-7)


def test_clipping_drill_matches_the_reference_clip_grad_norm():
    for inst in _drill_instances(review.clipped_entry):
        p = inst.numbers
        clipped, _ = solutions.clip_grad_norm({"dWh": np.array([[float(p["dWh"])]]),
                                               "db": np.array(p["db"], dtype=float)}, p["max_norm"])
        assert inst.answer == pytest.approx(clipped["dWh"][0, 0], rel=1e-12)


@pytest.mark.parametrize("title", list(review.DRILLS))
def test_drill_widget_checks_answers_and_draws_reproducible_new_instances(title):
    a = review.DrillWidget(review.DRILLS[title], seed=5)
    b = review.DrillWidget(review.DRILLS[title], seed=5)
    prompts = [a.prompt.value]
    for _ in range(4):
        assert a.answer(a.instance.answer).correct
        assert a.answer(f"{a.instance.answer:.4f}").correct                 # rounded by hand: still right
        assert not a.answer(a.instance.answer + 0.5).correct
        assert "\N{BALLOT X}" in a.feedback.value
        assert not a.answer("dunno").correct
        a.solution_button.click()
        assert "<b>" in a.solution.value
        a.new_button.click()
        assert a.solution.value == "" and a.feedback.value == ""
        prompts.append(a.prompt.value)
    assert [b.prompt.value] + [b.new_instance().prompt for _ in range(4)] == prompts
    assert len(set(prompts)) >= 3
    a.input.value = ""
    a.check_button.click()
    assert "Type a number" in a.feedback.value


def test_panels_build_every_question_and_drill():
    _, questions = review.concept_quiz()
    _, drills = review.drill_panel(seed=1)
    assert list(questions) == [q.key for q in review.CONCEPT_QUESTIONS]
    assert list(drills) == list(review.DRILLS)


def test_gradient_factor_plot_draws_one_curve_per_w():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ax = review.plot_gradient_factor(ws=(0.5, 1.2), k=5, d_max=20)
    ys = [line.get_ydata() for line in ax.get_lines()]
    assert len(ys) == 2
    np.testing.assert_allclose(ys[1], 1.2 ** np.arange(21))
    plt.close("all")
