"""Exam review for the BPTT course: concept questions and hand-computation drills, with instant feedback.

Legend (as in the course): N batch, T time steps, D input size, H hidden size,
V vocabulary size, k truncation length. The drills use scalar RNNs (N = D = H = 1).

Two layers, so that everything can be checked without a browser:
- questions and drills, plain objects whose `check(response)` returns a
  Feedback (right or wrong, and why);
- widgets (ipywidgets 8) around them: `QuestionWidget` and `DrillWidget`;
  their `answer(response)` method does what a student's click does.
No graded value depends on them (notebook 07 has no autograded function).
"""
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The verdict on one response: correct (bool) and a message for the student."""
    correct: bool
    message: str


# ---------------------------------------------------------------- concept questions

@dataclass(frozen=True)
class ChoiceQuestion:
    """A multiple-choice question: options in a fixed order, `answer` the index of the right one."""
    key: str
    prompt: str
    options: tuple
    answer: int
    explanation: str
    hint: str

    def __post_init__(self):
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"question {self.key!r}: answer index {self.answer} is not one of the "
                             f"{len(self.options)} options")

    def check(self, choice):
        """Feedback for `choice`: an option's index (int) or its text (str)."""
        if isinstance(choice, str):
            if choice not in self.options:
                raise ValueError(f"question {self.key!r}: {choice!r} is not one of its options")
            choice = self.options.index(choice)
        if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)) \
                or not 0 <= choice < len(self.options):
            raise ValueError(f"question {self.key!r}: choice must be an option index 0..{len(self.options) - 1} "
                             f"or an option's text; got {choice!r}")
        if choice == self.answer:
            return Feedback(True, f"Right. {self.explanation}")
        return Feedback(False, f"Not quite. Hint: {self.hint}")


def parse_number(response):
    """A float from a number or a text such as '0.25', '-1e-3' or '1/4'; None if it is not one."""
    if isinstance(response, bool):
        return None
    if isinstance(response, (int, float, np.integer, np.floating)):
        return float(response)
    if not isinstance(response, str):
        return None
    text = response.strip().replace(",", ".")
    try:
        if text.count("/") == 1:
            num, den = text.split("/")
            return float(num) / float(den)
        return float(text)
    except (ValueError, ZeroDivisionError):
        return None


def _close(value, answer, rel_tol, abs_tol):
    return math.isfinite(value) and abs(value - answer) <= max(abs_tol, rel_tol * abs(answer))


@dataclass(frozen=True)
class NumericQuestion:
    """A question whose answer is a number, accepted within max(abs_tol, rel_tol * |answer|)."""
    key: str
    prompt: str
    answer: float
    explanation: str
    hint: str
    rel_tol: float = 1e-2
    abs_tol: float = 1e-3

    def check(self, response):
        """Feedback for a number, or a text holding one ('0.25', '1/4'); unreadable text is wrong, with a hint."""
        value = parse_number(response)
        if value is None:
            return Feedback(False, f"Could not read {response!r} as a number (write e.g. 0.25, -1.5e-3 or 1/4).")
        if _close(value, self.answer, self.rel_tol, self.abs_tol):
            return Feedback(True, f"Right. {self.explanation}")
        return Feedback(False, f"Not quite ({value:g}). Hint: {self.hint}")


CONCEPT_QUESTIONS = (
    ChoiceQuestion(
        "shared_weights",
        "Unrolled over T steps, an RNN is a T-layer feed-forward network. What is different from an "
        "ordinary T-layer network?",
        ("Every layer has its own Wh, so BPTT computes T separate gradients and keeps them apart.",
         "Only the last layer has weights; the other layers are fixed.",
         "The gradient of Wh is the AVERAGE of its per-step terms.",
         "All layers share Wx, Wh and b, so the gradient of each weight is the SUM of its T per-step terms."),
        3,
        "The weights are shared across steps; backpropagation through the unrolled graph adds up the "
        "contribution of every step (dWh = sum over s of h_{s-1}^T da_s).",
        "How many copies of Wh does the unrolled graph hold, and what does the chain rule do with a "
        "variable used several times?"),
    ChoiceQuestion(
        "what_to_store",
        "What must the forward pass keep so that BPTT can run over a sequence of T steps (batch N, hidden H)?",
        ("Only the last hidden state h_{T-1}: N*H numbers.",
         "Every hidden state h_0 .. h_{T-1} (and h_{-1} = h0): N*T*H numbers, growing with T.",
         "The T Jacobians, each H x H, but no hidden states.",
         "Nothing: the backward pass recomputes the states from the end."),
        1,
        "Every step's backward needs h_{s-1} (for dWh) and 1 - h_s^2 (tanh'), so memory grows linearly "
        "with T; truncation, or recomputing states at the price of time, makes long sequences affordable.",
        "Write out the backward of one step: which forward quantities appear in it?"),
    ChoiceQuestion(
        "chunked_boundary",
        "In chunked truncated BPTT with chunk length k (what frameworks do with h = h.detach()), what "
        "happens at a chunk boundary?",
        ("The hidden state is carried into the next chunk, but no gradient flows back across the boundary.",
         "Both the hidden state and the gradient are reset to zero.",
         "The gradient is carried back across the boundary, but the hidden state is reset.",
         "The weights are averaged over the two chunks."),
        0,
        "The forward pass keeps its memory; only the backward pass is cut. That is why a model can "
        "sometimes use information older than k steps (it is in the state) without ever being credited for "
        "keeping it (Sutskever 2013).",
        "detach() cuts the graph, not the value."),
    ChoiceQuestion(
        "sliding_vs_chunked",
        "Which scheme gives EVERY loss L_t exactly k steps of credit (or all its steps, if t < k)?",
        ("Chunks of length k (rnn_backward_chunked).",
         "Both schemes.",
         "A sliding window of length k (rnn_backward_truncated).",
         "Neither scheme."),
        2,
        "In chunks, a loss at the start of a chunk gets 1 step of credit and one at its end gets k; the "
        "sliding window gives each loss its own last k steps, at a cost of O(T k) instead of O(T).",
        "In a chunk [0, k), how far back does the signal of the loss at step 0 go? And of the one at step k-1?"),
    ChoiceQuestion(
        "sufficient_vanishing",
        "For h_t = tanh(x_t Wx + h_{t-1} Wh + b), which condition guarantees that dL/dh_s shrinks "
        "geometrically as s moves away from t (Pascanu, Mikolov & Bengio 2013)?",
        ("The spectral radius of Wh is below 1.",
         "The largest singular value of Wh is below 1.",
         "The largest singular value of Wh is above 1.",
         "Every entry of Wh is below 1 in absolute value."),
        1,
        "||dh_t/dh_{t-1}|| <= ||diag(1 - h_t^2)|| * sigma_max(Wh) <= sigma_max(Wh), so sigma_max(Wh) < 1 is "
        "sufficient. A spectral radius below 1 decides the long run of a LINEAR recurrence, but a non-normal "
        "Wh can still make the norm grow for a while.",
        "You need a bound on the norm of EVERY one-step Jacobian diag(1 - h_t^2) Wh^T, not on its eigenvalues."),
    ChoiceQuestion(
        "clipping_direction",
        "Global-norm clipping with threshold c replaces the gradient g by ...",
        ("sign(g) * c, element by element.",
         "each entry clipped to [-c, c].",
         "g / ||g||, always of length 1.",
         "g * min(1, c / ||g||): the same direction, length at most c."),
        3,
        "Norm clipping (Pascanu et al. 2013) keeps the direction of the whole gradient (over all weights "
        "together) and only bounds the step length; it does nothing against vanishing gradients.",
        "A small gradient should pass unchanged, and a large one should keep its direction."),
    NumericQuestion(
        "linear_decay",
        "A linear recurrence h_t = h_{t-1} Wh with Wh = 0.9 * (an orthogonal matrix): after how many steps T "
        "does ||dh_T/dh_0|| first fall below 1e-4? (a whole number)",
        88.0,
        "0.9^T < 1e-4 when T > ln(1e-4) / ln(0.9) = 87.4, so T = 88. With tanh and unit-scale inputs, "
        "saturation makes it happen far sooner (notebook 04).",
        "An orthogonal matrix keeps norms, so ||dh_T/dh_0|| = 0.9^T; take logarithms.",
        rel_tol=0.0, abs_tol=0.5),
    NumericQuestion(
        "uniform_loss",
        "A language model with V = 8 symbols predicts the uniform distribution at every step. What is "
        "temporal_softmax_loss for one sequence (N = 1) of T = 5 steps? (natural log)",
        5 * math.log(8),
        "Each step costs -ln(1/8) = ln 8 = 2.079; the loss sums over the T = 5 steps: 10.40.",
        "The loss of one step is -ln p(target); the course's loss sums over time and averages over the batch.",
        rel_tol=2e-3, abs_tol=0.0),
    NumericQuestion(
        "clip_value",
        "The gradients are dWh = [[3, 0], [0, 0]] and db = [4, 0]. After clipping the global norm to 1, "
        "what is the entry dWh[0, 0]?",
        0.6,
        "The global norm is sqrt(3^2 + 4^2) = 5 > 1, so every array is multiplied by 1/5: 3/5 = 0.6.",
        "The global norm is taken over ALL entries of ALL arrays together.",
        rel_tol=0.0, abs_tol=1e-3),
    NumericQuestion(
        "chunk_memory",
        "Chunked TBPTT on a long stream, chunk length k = 25, batch N = 32, hidden H = 128: how many "
        "hidden-state numbers must be kept for one backward pass (the chunk's states plus the state carried in)?",
        (25 + 1) * 32 * 128,
        "One chunk of k states plus the state carried in: (k + 1) * N * H = 26 * 32 * 128 = 106 496, "
        "whatever the length of the stream.",
        "Count states per chunk, then numbers per state.",
        rel_tol=0.0, abs_tol=0.5),
)


# ---------------------------------------------------------------- drills

@dataclass(frozen=True)
class DrillInstance:
    """One randomized exercise: prompt (HTML), the answer, a worked solution (HTML), its numbers."""
    prompt: str
    answer: float
    worked: str
    numbers: dict = field(default_factory=dict)

    def check(self, response, rel_tol=1e-2, abs_tol=2e-3):
        """Feedback for a number (or a text holding one); accepted within max(abs_tol, rel_tol * |answer|)."""
        value = parse_number(response)
        if value is None:
            return Feedback(False, f"Could not read {response!r} as a number (write e.g. 0.25, -1.5e-3 or 1/4).")
        if _close(value, self.answer, rel_tol, abs_tol):
            return Feedback(True, f"Right: {self.answer:.4g}.")
        return Feedback(False, f"Not quite: you wrote {value:g}. Try again, or show the worked solution.")


def _tenths(rng, low, high, exclude_zero=True):
    """A random multiple of 0.1 in [low, high] (not 0 when exclude_zero)."""
    while True:
        v = round(float(rng.integers(round(low * 10), round(high * 10) + 1)) / 10, 1)
        if v != 0 or not exclude_zero:
            return v


def _linear_states(w, u, h_init, xs):
    """h_t = w h_{t-1} + u x_t for t = 0, 1, 2 from h_{-1} = h_init: the list [h_{-1}, h_0, h_1, h_2]."""
    hs = [h_init]
    for x in xs:
        hs.append(w * hs[-1] + u * x)
    return hs


_LINEAR_SETUP = ("A scalar linear RNN: h<sub>t</sub> = w&middot;h<sub>t-1</sub> + u&middot;x<sub>t</sub> for "
                 "t = 0, 1, 2, starting from h<sub>-1</sub> = {h_init}, with w = {w}, u = {u} and inputs "
                 "x<sub>0</sub>, x<sub>1</sub>, x<sub>2</sub> = {x0}, {x1}, {x2}. ")


def linear_rnn_dw(rng):
    """Drill: dL/dw for L = (h_2 - y)^2 / 2 through a scalar linear RNN of 3 steps (full BPTT)."""
    w, u, h_init = _tenths(rng, -1.5, 1.5), _tenths(rng, -1, 1), _tenths(rng, -1, 1, exclude_zero=False)
    xs = [int(v) for v in rng.integers(-2, 3, size=3)]
    y = _tenths(rng, -2, 2, exclude_zero=False)
    hs = _linear_states(w, u, h_init, xs)
    e = hs[3] - y                                                   # dL/dh_2
    g = [e * w ** (2 - s) for s in range(3)]                        # dL/dh_s, s = 0, 1, 2
    terms = [g[s] * hs[s] for s in range(3)]                        # step s: dL/dh_s * h_{s-1}
    prompt = (_LINEAR_SETUP.format(h_init=h_init, w=w, u=u, x0=xs[0], x1=xs[1], x2=xs[2])
              + f"The loss is L = (h<sub>2</sub> &minus; y)<sup>2</sup>/2 with y = {y}. "
                "Compute <b>dL/dw</b> (full BPTT).")
    worked = ("Forward: " + ", ".join(f"h<sub>{t - 1}</sub> = {hs[t]:.4g}" for t in range(1, 4))
              + f".<br>dL/dh<sub>2</sub> = h<sub>2</sub> &minus; y = {e:.4g}; going back one step multiplies by w: "
              + ", ".join(f"dL/dh<sub>{s}</sub> = {g[s]:.4g}" for s in (1, 0))
              + ".<br>Step s adds dL/dh<sub>s</sub> &middot; h<sub>s-1</sub> to dL/dw: "
              + " + ".join(f"({g[s]:.4g})({hs[s]:.4g})" for s in (2, 1, 0))
              + f" = <b>{sum(terms):.4g}</b>.")
    return DrillInstance(prompt, float(sum(terms)), worked,
                         {"w": w, "u": u, "h_init": h_init, "x": xs, "y": y})


def linear_rnn_dw_truncated(rng):
    """Drill: the sliding-window truncated dL/dw (k = 1 or 2) for L = h_2 through a scalar linear RNN."""
    w, u, h_init = _tenths(rng, -1.5, 1.5), _tenths(rng, -1, 1), _tenths(rng, -1, 1)
    xs = [int(v) for v in rng.integers(-2, 3, size=3)]
    k = int(rng.integers(1, 3))
    hs = _linear_states(w, u, h_init, xs)
    kept = range(2, 2 - k, -1)                                      # steps 2, ..., 3 - k
    terms = {s: w ** (2 - s) * hs[s] for s in range(3)}             # dL/dh_s = w^(2-s); times h_{s-1}
    prompt = (_LINEAR_SETUP.format(h_init=h_init, w=w, u=u, x0=xs[0], x1=xs[1], x2=xs[2])
              + f"The loss is L = h<sub>2</sub>. Compute dL/dw with <b>truncated BPTT, k = {k}</b>: the signal "
                f"of L goes back through its last {k} step{'s' if k > 1 else ''} only.")
    worked = ("Forward: " + ", ".join(f"h<sub>{t - 1}</sub> = {hs[t]:.4g}" for t in range(1, 4))
              + ".<br>Full BPTT would add dL/dh<sub>s</sub> &middot; h<sub>s-1</sub> = w<sup>2-s</sup> "
                "h<sub>s-1</sub> for s = 2, 1, 0: "
              + " + ".join(f"{terms[s]:.4g}" for s in (2, 1, 0))
              + f" = {sum(terms.values()):.4g}.<br>With k = {k} only s = "
              + ", ".join(str(s) for s in kept) + f" are kept: <b>{sum(terms[s] for s in kept):.4g}</b> "
              "(the truncation bias is the rest).")
    return DrillInstance(prompt, float(sum(terms[s] for s in kept)), worked,
                         {"w": w, "u": u, "h_init": h_init, "x": xs, "k": k})


def tanh_rnn_dw(rng):
    """Drill: dL/dw for L = h_2 through a scalar tanh RNN of 3 steps (needs a calculator)."""
    w, h_init = _tenths(rng, -1.5, 1.5), _tenths(rng, -1, 1, exclude_zero=False)
    xs = [_tenths(rng, -1, 1, exclude_zero=False) for _ in range(3)]
    hs = [h_init]
    for x in xs:
        hs.append(math.tanh(w * hs[-1] + x))
    d = [1 - hs[s + 1] ** 2 for s in range(3)]                      # tanh'(a_s) = 1 - h_s^2
    g_a = [0.0, 0.0, d[2]]                                          # dL/da_s
    for s in (1, 0):
        g_a[s] = g_a[s + 1] * w * d[s]                              # a_{s+1} = w h_s + x: dh_s/da_s = d[s]
    terms = [g_a[s] * hs[s] for s in range(3)]                      # dL/da_s * h_{s-1}
    prompt = ("A scalar tanh RNN: h<sub>t</sub> = tanh(w&middot;h<sub>t-1</sub> + x<sub>t</sub>) for t = 0, 1, 2, "
              f"from h<sub>-1</sub> = {h_init}, with w = {w} and x<sub>0</sub>, x<sub>1</sub>, x<sub>2</sub> = "
              f"{xs[0]}, {xs[1]}, {xs[2]}. The loss is L = h<sub>2</sub>. Compute <b>dL/dw</b> (full BPTT; "
              "use a calculator, tanh'(a) = 1 &minus; tanh(a)<sup>2</sup>).")
    worked = ("Forward: " + ", ".join(f"h<sub>{t - 1}</sub> = {hs[t]:.4f}" for t in range(1, 4))
              + ".<br>Backward, a<sub>s</sub> being the pre-activation: dL/da<sub>2</sub> = 1 &minus; "
                f"h<sub>2</sub><sup>2</sup> = {g_a[2]:.4f}, dL/da<sub>1</sub> = dL/da<sub>2</sub> &middot; w "
                f"&middot; (1 &minus; h<sub>1</sub><sup>2</sup>) = {g_a[1]:.4f}, dL/da<sub>0</sub> = {g_a[0]:.4f}."
              + "<br>dL/dw = &sum;<sub>s</sub> dL/da<sub>s</sub> &middot; h<sub>s-1</sub> = "
              + " + ".join(f"({g_a[s]:.4f})({hs[s]:.4f})" for s in (2, 1, 0)) + f" = <b>{sum(terms):.4f}</b>.")
    return DrillInstance(prompt, float(sum(terms)), worked, {"w": w, "h_init": h_init, "x": xs})


def _sq(v):
    """'v<sup>2</sup>', with parentheses around a negative v."""
    return f"({v})<sup>2</sup>" if v < 0 else f"{v}<sup>2</sup>"


def clipped_entry(rng):
    """Drill: one entry of a gradient after global-norm clipping."""
    a, b = (int(v) for v in rng.integers(-6, 7, size=2))
    while a == 0:
        a = int(rng.integers(-6, 7))
    c = int(rng.integers(1, 5))
    norm = math.sqrt(a * a + b * b + c * c)
    max_norm = float(rng.choice([0.5, 1.0, 2.0, 5.0, 10.0]))
    scale = min(1.0, max_norm / norm)
    prompt = (f"The gradients of a small RNN are dWh = [[{a}]] and db = [{b}, {c}]. Global-norm clipping with "
              f"threshold {max_norm:g} is applied. What is the clipped <b>dWh[0, 0]</b>?")
    worked = (f"Global norm: sqrt({_sq(a)} + {_sq(b)} + {_sq(c)}) = {norm:.4g}. "
              + (f"It exceeds {max_norm:g}, so every array is multiplied by {max_norm:g} / {norm:.4g} = {scale:.4g}: "
                 if scale < 1 else f"It does not exceed {max_norm:g}: nothing changes, ")
              + f"dWh[0, 0] = <b>{a * scale:.4g}</b>.")
    return DrillInstance(prompt, float(a * scale), worked, {"dWh": a, "db": [b, c], "max_norm": max_norm})


DRILLS = {
    "Full BPTT by hand (linear RNN, 3 steps)": linear_rnn_dw,
    "Truncated BPTT by hand (linear RNN, 3 steps)": linear_rnn_dw_truncated,
    "Full BPTT by hand (tanh RNN, 3 steps)": tanh_rnn_dw,
    "Gradient clipping by hand": clipped_entry,
}


# ---------------------------------------------------------------- widgets

def _html_feedback(feedback):
    colour = "#1a7f37" if feedback.correct else "#b3261e"
    mark = "\N{CHECK MARK}" if feedback.correct else "\N{BALLOT X}"
    return f'<span style="color:{colour}">{mark} {feedback.message}</span>'


class QuestionWidget:
    """A concept question with instant feedback.

    Multiple choice: radio buttons, checked as soon as one is picked.
    Numeric: a text box (checked on Enter) and a Check button.
    `box` is the widget to display; `answer(response)` does what the student
    does (pick an option by index or text, or type a number and press Check)
    and returns the Feedback also shown in `feedback`.
    """

    def __init__(self, question):
        import ipywidgets as widgets
        self.question = question
        self.feedback = widgets.HTML("")
        title = widgets.HTML(f"<b>{question.prompt}</b>")
        if isinstance(question, ChoiceQuestion):
            self.input = widgets.RadioButtons(options=list(question.options), value=None,
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
        self.feedback.value = _html_feedback(self.last)
        return self.last

    def _on_change(self, change):
        self._show(change["new"])

    def answer(self, response):
        """Answer as a student would; returns the Feedback (also displayed)."""
        if isinstance(self.question, ChoiceQuestion):
            self.question.check(response)                          # bad choices raise a clear ValueError
            option = self.question.options[response] if not isinstance(response, str) else response
            if self.input.value == option:                          # same pick again: no change event
                return self._show(option)
            self.input.value = option                               # fires _on_change, like a click
            return self.last
        self.input.value = str(response)
        self.button.click()
        return self.last


class DrillWidget:
    """A randomized hand-computation drill with Check, Show solution and New instance buttons.

    drill: a function rng -> DrillInstance (one of DRILLS); instances come
    from np.random.default_rng(seed), so the sequence is reproducible.
    `answer(response)` checks a response; `new_instance()` draws the next one.
    """

    def __init__(self, drill, seed=0, title=None):
        import ipywidgets as widgets
        self.drill = drill
        self.rng = np.random.default_rng(seed)
        self.title = widgets.HTML(f"<h4>{title}</h4>" if title else "")
        self.prompt = widgets.HTML()
        self.input = widgets.Text(placeholder="your answer", continuous_update=False)
        self.check_button = widgets.Button(description="Check")
        self.solution_button = widgets.Button(description="Show solution")
        self.new_button = widgets.Button(description="New instance", button_style="info")
        self.feedback = widgets.HTML()
        self.solution = widgets.HTML()
        self.check_button.on_click(lambda _: self._check())
        self.solution_button.on_click(lambda _: self._reveal())
        self.new_button.on_click(lambda _: self.new_instance())
        self.box = widgets.VBox([self.title, self.prompt,
                                 widgets.HBox([self.input, self.check_button, self.solution_button,
                                               self.new_button]),
                                 self.feedback, self.solution])
        self.last = None
        self.new_instance()

    def new_instance(self):
        """Draw and show the next instance; returns it."""
        self.instance = self.drill(self.rng)
        self.prompt.value = self.instance.prompt
        self.input.value = ""
        self.feedback.value = self.solution.value = ""
        self.last = None
        return self.instance

    def _check(self):
        if not self.input.value.strip():
            self.feedback.value = "Type a number first."
            return None
        self.last = self.instance.check(self.input.value)
        self.feedback.value = _html_feedback(self.last)
        return self.last

    def _reveal(self):
        self.solution.value = self.instance.worked

    def answer(self, response):
        """Type `response` and press Check, as a student would; returns the Feedback."""
        self.input.value = str(response)
        self.check_button.click()
        return self.last


def concept_quiz(questions=CONCEPT_QUESTIONS):
    """One QuestionWidget per question; returns (VBox to display, dict key -> QuestionWidget)."""
    import ipywidgets as widgets
    items = {q.key: QuestionWidget(q) for q in questions}
    for w in items.values():
        w.box.layout.margin = "0 0 14px 0"                         # some air between questions
    return widgets.VBox([w.box for w in items.values()]), items


def drill_panel(seed=0, drills=None):
    """One DrillWidget per drill (default: all of DRILLS), seeds seed, seed + 1, ...

    Returns (VBox to display, dict title -> DrillWidget).
    """
    import ipywidgets as widgets
    drills = DRILLS if drills is None else drills
    items = {title: DrillWidget(fn, seed=seed + i, title=title) for i, (title, fn) in enumerate(drills.items())}
    return widgets.VBox([w.box for w in items.values()]), items


# ---------------------------------------------------------------- the cheat sheet's figure

def plot_gradient_factor(ws=(0.5, 0.9, 1.0, 1.1), k=10, d_max=40, ax=None):
    """How far a gradient travels in a scalar linear RNN h_t = w h_{t-1} + u x_t.

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
    ax.set(xlabel="distance $d = t - s$ (steps)", ylabel=r"$|\partial h_t / \partial h_s| = |w|^d$",
           title="Vanishing, exploding and truncated: one scalar picture")
    ax.legend(fontsize=8, loc="lower left")
    return ax
