"""Concept questions for exam review: questions that answer back, a session that remembers, a quiz widget.

Legend (as in the course): N batch, T time steps, D input size, H hidden size,
V vocabulary size, k truncation length.

Three layers, so that everything can be checked without a browser:
- questions (`ChoiceQuestion`, `NumericQuestion`), plain objects whose
  `check(response)` returns a Feedback: right or wrong, and why. Every option
  of a multiple-choice question carries its own explanation, so a wrong pick
  is told what is wrong with *it*; a numeric question knows the typical wrong
  numbers (traps) and what produces them;
- `Session`: the answers given in this kernel session, per question and
  topic, and the weakest topic (the one to practise next);
- widgets (ipywidgets 8): `QuestionWidget` (one question) and `QuizWidget`
  (the whole bank, filtered by notebook or topic, or "quiz me on my weakest
  topic"). Their `answer(response)` does what a student's click does.
The bank itself is in question_bank.py. No graded value depends on any of it.
"""
import math
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

# The course's notebooks that questions can be tagged with (assignment names), in course order.
NOTEBOOKS = OrderedDict([
    ("01_unrolling", "01 unrolling"),
    ("02_bptt", "02 BPTT"),
    ("03_truncation", "03 truncation"),
    ("04_vanishing_exploding", "04 vanishing and exploding"),
    ("05_gated_cells", "05 gated cells (LSTM)"),
    ("06_language_model", "06 language model"),
])


@dataclass(frozen=True)
class Feedback:
    """The verdict on one response: correct (bool) and a message for the student."""
    correct: bool
    message: str


# ---------------------------------------------------------------- questions

@dataclass(frozen=True)
class Option:
    """One option of a multiple-choice question and why it is right or wrong."""
    text: str
    why: str


def _display_order(key, n):
    """A fixed shuffle of range(n) for question `key`: the same on every machine and in every session."""
    return [int(i) for i in np.random.default_rng(zlib.crc32(key.encode())).permutation(n)]


@dataclass(frozen=True)
class ChoiceQuestion:
    """A multiple-choice question: `options` in display order, `answer` the index of the right one.

    Build it with `choice(...)` (right option first, shuffled once by its key)
    or directly. notebook: an assignment name of NOTEBOOKS; topic: a short topic name.
    """
    key: str
    notebook: str
    topic: str
    prompt: str
    options: tuple
    answer: int

    def __post_init__(self):
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"question {self.key!r}: answer index {self.answer} is not one of the "
                             f"{len(self.options)} options")
        if len(self.options) < 2 or not all(isinstance(o, Option) for o in self.options):
            raise ValueError(f"question {self.key!r}: needs at least two Option objects")

    @property
    def texts(self):
        return tuple(o.text for o in self.options)

    @property
    def explanation(self):
        return self.options[self.answer].why

    def check(self, choice):
        """Feedback for `choice`: an option's index (int) or its text (str)."""
        if isinstance(choice, str):
            if choice not in self.texts:
                raise ValueError(f"question {self.key!r}: {choice!r} is not one of its options")
            choice = self.texts.index(choice)
        if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)) \
                or not 0 <= choice < len(self.options):
            raise ValueError(f"question {self.key!r}: choice must be an option index 0..{len(self.options) - 1} "
                             f"or an option's text; got {choice!r}")
        if choice == self.answer:
            return Feedback(True, f"Right. {self.explanation}")
        return Feedback(False, f"Not quite. {self.options[choice].why}")


def choice(key, notebook, topic, prompt, right, wrong):
    """A ChoiceQuestion from the right option and the wrong ones, each a (text, why) pair.

    The options are shown in an order shuffled once from the key, so that the
    right one is not always in the same place.
    """
    options = [Option(*right)] + [Option(*w) for w in wrong]
    order = _display_order(key, len(options))
    return ChoiceQuestion(key, notebook, topic, prompt, tuple(options[i] for i in order), order.index(0))


def parse_number(response):
    """A float from a number or a text such as '0.25', '-1e-3', '0,6' or '1/4'; None if it is not one."""
    if isinstance(response, bool):
        return None
    if isinstance(response, (int, float, np.integer, np.floating)):
        return float(response)
    if not isinstance(response, str):
        return None
    text = response.strip().replace(",", ".").replace("\u2212", "-")     # U+2212: the minus sign of the prompts
    try:
        if text.count("/") == 1:
            num, den = text.split("/")
            return float(num) / float(den)
        return float(text)
    except (ValueError, ZeroDivisionError):
        return None


def close(value, answer, rel_tol, abs_tol):
    """|value - answer| <= max(abs_tol, rel_tol * |answer|), for finite values."""
    return math.isfinite(value) and abs(value - answer) <= max(abs_tol, rel_tol * abs(answer))


@dataclass(frozen=True)
class NumericQuestion:
    """A question whose answer is a number, accepted within max(abs_tol, rel_tol * |answer|).

    traps: ((value, why), ...) the typical wrong numbers and what produces
    them; a response near a trap is told its why, any other wrong one the hint.
    """
    key: str
    notebook: str
    topic: str
    prompt: str
    answer: float
    explanation: str
    hint: str
    traps: tuple = ()
    rel_tol: float = 1e-2
    abs_tol: float = 1e-3

    def check(self, response):
        """Feedback for a number, or a text holding one ('0.25', '1/4'); unreadable text is wrong, with a hint."""
        value = parse_number(response)
        if value is None:
            return Feedback(False, f"Could not read {response!r} as a number (write e.g. 0.25, -1.5e-3 or 1/4).")
        if close(value, self.answer, self.rel_tol, self.abs_tol):
            return Feedback(True, f"Right. {self.explanation}")
        for trap, why in self.traps:
            if close(value, trap, self.rel_tol, self.abs_tol):
                return Feedback(False, f"Not quite ({value:g}). {why}")
        return Feedback(False, f"Not quite ({value:g}). Hint: {self.hint}")


# ---------------------------------------------------------------- the session

class Session:
    """The answers given in this session (the kernel's lifetime), per question and per topic.

    A question counts as mastered when its first answer was right, or its
    latest answer after a wrong one: `topic_scores` tells, per topic, how
    many questions were tried and how many were right the first time;
    `weakest_topic` is the topic to practise next.
    """

    def __init__(self, questions):
        self.questions = OrderedDict((q.key, q) for q in questions)
        self.history = OrderedDict()           # key -> [bool, ...] in the order answered
        self.clock = 0
        self.last_seen = {}                    # key -> clock when last answered

    @property
    def topics(self):
        """Topics in course order (first appearance in the bank)."""
        return list(OrderedDict.fromkeys(q.topic for q in self.questions.values()))

    def record(self, question, feedback):
        """Note that `question` was answered with this Feedback."""
        self.clock += 1
        self.history.setdefault(question.key, []).append(bool(feedback.correct))
        self.last_seen[question.key] = self.clock

    def topic_scores(self):
        """{topic: (questions in topic, questions tried, right the first time, right at the latest try)}."""
        scores = OrderedDict((t, [0, 0, 0, 0]) for t in self.topics)
        for key, q in self.questions.items():
            s = scores[q.topic]
            s[0] += 1
            answers = self.history.get(key)
            if answers:
                s[1] += 1
                s[2] += answers[0]
                s[3] += answers[-1]
        return OrderedDict((t, tuple(v)) for t, v in scores.items())

    def mastery(self, topic):
        """(right first time + 1) / (tried + 2): 0.5 for an untried topic, lower after misses."""
        _, tried, first, _ = self.topic_scores()[topic]
        return (first + 1) / (tried + 2)

    def weakest_topic(self, topics=None):
        """The topic with the lowest mastery (ties: fewer questions tried, then course order)."""
        topics = self.topics if topics is None else list(topics)
        scores = self.topic_scores()
        return min(topics, key=lambda t: (self.mastery(t), scores[t][1], topics.index(t)))

    def next_question(self, topic=None, notebook=None, avoid=None):
        """The next question to ask: in `topic` / `notebook` if given; never tried first, then the
        ones whose latest answer was wrong, then the least recently answered; not `avoid` (a key)
        unless it is the only one."""
        pool = [q for q in self.questions.values()
                if (topic is None or q.topic == topic) and (notebook is None or q.notebook == notebook)]
        if not pool:
            raise ValueError(f"no question for topic={topic!r}, notebook={notebook!r}")
        if len(pool) > 1 and avoid is not None:
            pool = [q for q in pool if q.key != avoid] or pool

        def priority(q):
            answers = self.history.get(q.key)
            if not answers:
                return (0, 0)
            return (1 if not answers[-1] else 2, self.last_seen[q.key])
        return min(pool, key=priority)


# ---------------------------------------------------------------- widgets

def html_feedback(feedback):
    """A Feedback as coloured HTML with a check mark or a cross."""
    colour = "#1a7f37" if feedback.correct else "#b3261e"
    mark = "\N{CHECK MARK}" if feedback.correct else "\N{BALLOT X}"
    return f'<span style="color:{colour}">{mark} {feedback.message}</span>'


class QuestionWidget:
    """A concept question with instant feedback.

    Multiple choice: radio buttons, checked as soon as one is picked.
    Numeric: a text box (checked on Enter) and a Check button.
    `box` is the widget to display; `answer(response)` does what the student
    does (pick an option by index or text, or type a number and press Check)
    and returns the Feedback also shown in `feedback`. on_answer(question,
    feedback), if given, is called after every answer (the quiz's Session).
    """

    def __init__(self, question, on_answer=None):
        import ipywidgets as widgets
        self.question = question
        self.on_answer = on_answer
        self.feedback = widgets.HTML("")
        tag = NOTEBOOKS.get(question.notebook, question.notebook)
        title = widgets.HTMLMath(f"<b>{question.prompt}</b><br><small>notebook {tag} &middot; "
                                 f"{question.topic}</small>")
        if isinstance(question, ChoiceQuestion):
            self.input = widgets.RadioButtons(options=list(question.texts), value=None,
                                              layout=widgets.Layout(width="auto"))
            self.input.observe(self._on_change, names="value")
            self.box = widgets.VBox([title, self.input, self.feedback])
        elif isinstance(question, NumericQuestion):
            self.input = widgets.Text(placeholder="your answer", continuous_update=False)
            self.input.observe(self._on_change, names="value")
            self.button = widgets.Button(description="Check")
            self.button.on_click(lambda _: self._show(self.input.value))
            self.box = widgets.VBox([title, widgets.HBox([self.input, self.button]), self.feedback])
        else:
            raise TypeError(f"expected a ChoiceQuestion or NumericQuestion; got {type(question).__name__}")
        self.last = None

    def _show(self, response):
        if response is None or (isinstance(response, str) and not response.strip()):
            return None
        self.last = self.question.check(response)
        self.feedback.value = html_feedback(self.last)
        if self.on_answer is not None:
            self.on_answer(self.question, self.last)
        return self.last

    def _on_change(self, change):
        self._show(change["new"])

    def answer(self, response):
        """Answer as a student would; returns the Feedback (also displayed)."""
        if isinstance(self.question, ChoiceQuestion):
            self.question.check(response)                          # bad choices raise a clear ValueError
            option = self.question.texts[response] if not isinstance(response, str) else response
            if self.input.value == option:                          # same pick again: no change event
                return self._show(option)
            self.input.value = option                               # fires _on_change, like a click
            return self.last
        self.input.value = str(response)
        self.button.click()
        return self.last


ALL = "all"


class QuizWidget:
    """The question bank, one question at a time, with a session that remembers the answers.

    Controls: a notebook filter, a topic filter, "Next question" (the next one
    in the filters that was not tried, or was answered wrong), "Quiz me on my
    weakest topic", and a table of right answers per topic. `box` is the
    widget to display; `answer(response)` answers the current question,
    `next()` and `weakest()` press the buttons.
    """

    def __init__(self, questions, session=None):
        import ipywidgets as widgets
        self.session = session if session is not None else Session(questions)
        nbs = [nb for nb in NOTEBOOKS if any(q.notebook == nb for q in self.session.questions.values())]
        self.notebook_filter = widgets.Dropdown(options=[("all notebooks", ALL)] + [(NOTEBOOKS[n], n) for n in nbs],
                                                value=ALL, description="notebook")
        self.topic_filter = widgets.Dropdown(options=[("all topics", ALL)] + [(t, t) for t in self.session.topics],
                                             value=ALL, description="topic")
        self.next_button = widgets.Button(description="Next question", button_style="info")
        self.weakest_button = widgets.Button(description="Quiz me on my weakest topic",
                                             layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.progress = widgets.HTML()
        self.holder = widgets.VBox()
        self.next_button.on_click(lambda _: self.next())
        self.weakest_button.on_click(lambda _: self.weakest())
        self.box = widgets.VBox([widgets.HBox([self.notebook_filter, self.topic_filter]),
                                 widgets.HBox([self.next_button, self.weakest_button]),
                                 self.status, self.holder, self.progress])
        self.current = None
        self.next()

    def _filters(self):
        nb, topic = self.notebook_filter.value, self.topic_filter.value
        return (None if topic == ALL else topic), (None if nb == ALL else nb)

    def _ask(self, question):
        self.current = QuestionWidget(question, on_answer=self._answered)
        self.holder.children = [self.current.box]
        self._show_progress()
        return question

    def next(self):
        """Show the next question within the filters (or the whole bank if nothing matches); returns it."""
        topic, nb = self._filters()
        avoid = self.current.question.key if self.current else None
        try:
            q = self.session.next_question(topic, nb, avoid=avoid)
            self.status.value = ""
        except ValueError:
            q = self.session.next_question(avoid=avoid)
            self.status.value = "<i>No question matches both filters; here is one from the whole bank.</i>"
        return self._ask(q)

    def weakest(self):
        """Show a question of the weakest topic so far (within the notebook filter); returns it."""
        _, nb = self._filters()
        topics = [t for t in self.session.topics
                  if nb is None or any(q.topic == t and q.notebook == nb for q in self.session.questions.values())]
        topic = self.session.weakest_topic(topics)
        _, tried, first, _ = self.session.topic_scores()[topic]
        self.status.value = (f"Your weakest topic so far: <b>{topic}</b> "
                             + (f"({first} of {tried} right the first time)." if tried else "(not tried yet)."))
        avoid = self.current.question.key if self.current else None
        return self._ask(self.session.next_question(topic, nb, avoid=avoid))

    def answer(self, response):
        """Answer the current question as a student would; returns the Feedback."""
        return self.current.answer(response)

    def _answered(self, question, feedback):
        self.session.record(question, feedback)
        self._show_progress()

    def _show_progress(self):
        rows = []
        for topic, (n, tried, first, latest) in self.session.topic_scores().items():
            if tried:
                rows.append(f"<tr><td>{topic}</td><td>{tried} of {n}</td><td>{first}</td><td>{latest}</td></tr>")
        if not rows:
            self.progress.value = (f"<small>{len(self.session.questions)} questions in "
                                   f"{len(self.session.topics)} topics. Your answers are remembered until the "
                                   "kernel restarts.</small>")
            return
        self.progress.value = ("<small><table><tr><th>topic</th><th>tried</th><th>right first time</th>"
                               "<th>right now</th></tr>" + "".join(rows) + "</table></small>")
