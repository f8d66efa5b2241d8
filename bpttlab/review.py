"""Exam review for the BPTT course (notebook 07): what its cells call.

Legend (as in the course): N batch, T time steps, D input size, H hidden size,
V vocabulary size, k truncation length.

The pieces live in their own modules; this one gathers them for the notebook:
- `concept_quiz()`: the question bank (question_bank.py, quiz.py), one
  question at a time, with "quiz me on my weakest topic";
- `drill_panel()`: hand-computation drills with one and two units, one at a time (drills.py);
- `spot_the_bug()`: faulty implementations from the autograder's library of
  known mistakes, read from the notebook's spot_the_bug.json (spot_the_bug.py);
- `written_answer()`: write first, then open the model answer and rubric
  (written.py; the model answers come with the self-study edition only);
- `cheat_sheet()`: the one-page cheat sheet (cheatsheet.py, one source for
  the notebook and the printable page), and `plot_gradient_factor()`.
No graded value depends on any of it (notebook 07 has no autograded function).
"""
import numpy as np

from .drills import DRILLS, DrillInstance, DrillWidget, Step, drill_panel  # noqa: F401 (the notebook's API)
from .question_bank import QUESTIONS
from .quiz import ChoiceQuestion, Feedback, NumericQuestion, QuestionWidget, QuizWidget, Session, parse_number  # noqa: F401
from .written import written_answer  # noqa: F401

CONCEPT_QUESTIONS = QUESTIONS


def concept_quiz(questions=QUESTIONS, session=None):
    """The question bank as a QuizWidget (display its .box); answers are remembered in its Session."""
    return QuizWidget(questions, session)


def spot_the_bug(seed=0, path=None):
    """A SpotTheBugWidget over the drills of spot_the_bug.json (display its .box)."""
    from .spot_the_bug import SpotTheBugWidget
    return SpotTheBugWidget(seed=seed, path=path)


def cheat_sheet():
    """Show the cheat sheet and a button that saves the printable one-page HTML next to the notebook."""
    from IPython.display import display

    from . import cheatsheet
    cheatsheet.show()
    display(cheatsheet.save_button())


def plot_gradient_factor(ws=(0.5, 0.9, 1.0, 1.1), k=10, d_max=40, ax=None):
    """How far a gradient travels in a one-unit linear RNN h_t = w h_{t-1} + u x_t.

    dh_t/dh_{t-d} = w^d: the curve |w|^d against the distance d (log scale),
    one per w in ws; the shaded region d >= k is what truncated BPTT with
    window k drops. Returns the Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.4))
    d = np.arange(d_max + 1)
    for i, w in enumerate(ws):
        ax.semilogy(d, np.abs(w) ** d, color=f"C{i}", label=f"|w| = {abs(w):g}")
    ax.axvspan(k, d_max, color="gray", alpha=0.15)
    ax.text(k + 0.5, ax.get_ylim()[1] * 0.5, f"dropped by truncation (k = {k})", va="top", fontsize=8)
    ax.set(xlabel="distance $d$ (steps)", ylabel=r"$|\partial h_t / \partial h_{t-d}| = |w|^d$",
           title="Vanishing, exploding and truncated: one scalar picture")
    ax.legend(fontsize=8, loc="lower left")
    return ax
