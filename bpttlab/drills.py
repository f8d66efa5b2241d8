"""Hand-computation drills for exam review: small RNNs to run forwards and backwards by hand.

Legend (as in the course): N batch, T time steps, D input size, H hidden size.
Row vectors, as everywhere in the course: a step is
h_t = tanh(x_t Wx + h_{t-1} Wh + b), with h_{-1} the state before step 0.

Every drill is a function rng -> DrillInstance: a prompt, the steps a
student writes down one after the other (each with its answer, how it is
computed, and the typical wrong results with the step they come from), and a
worked solution. One-unit drills (N = D = H = 1) and two-unit drills
(H = 2, matrices 2 x 2): a forward step, one backward step, a product of
step Jacobians, a clipping computation, an LSTM cell step, full and
truncated BPTT over three steps. `DrillInstance.check` says which step went
wrong; `DrillWidget` wraps a drill with a box per step and Check / Show
solution / New instance buttons; `drill_panel` offers them all.
No graded value depends on any of it.
"""
import math
import re
from dataclasses import dataclass, field

import numpy as np

from .quiz import close, parse_number

REL_TOL, ABS_TOL = 1e-2, 2e-3          # answers worked out by hand, to 3 decimals


@dataclass(frozen=True)
class Step:
    """One quantity a student writes down: key, label (HTML), answer (array), how (HTML), traps.

    traps: ((value, message), ...) wrong values that a typical slip produces; the
    message names the step where the slip happened (it may be an earlier one).
    """
    key: str
    label: str
    answer: np.ndarray
    how: str
    traps: tuple = ()

    @property
    def shape_text(self):
        shape = np.shape(self.answer)
        if not shape or np.size(self.answer) == 1:
            return "one number"
        if len(shape) == 1 or shape[0] == 1:
            return f"{np.size(self.answer)} numbers"
        return f"a {shape[0]} x {shape[1]} matrix: {np.size(self.answer)} numbers, row by row"


@dataclass(frozen=True)
class DrillFeedback:
    """The verdict on a drill: correct (the last step given and right, no wrong step), the message
    (HTML, one line per step answered), per-step results (True, False, or None when left empty),
    and wrong_step: the key of the first step that went wrong (None if none could be named)."""
    correct: bool
    message: str
    results: dict
    wrong_step: str = None


def parse_array(text, size):
    """An array of `size` floats from a text such as '0.1, -0.2' or '[[1, 2], [3, 4]]' or '1 2; 3 4'.

    One number may also be written '0,25' or '1/4'. Returns None when the text
    does not hold exactly `size` numbers.
    """
    if size == 1:
        value = parse_number(text.strip().strip("[]()") if isinstance(text, str) else text)
        return None if value is None else np.array([value])
    if not isinstance(text, str):
        arr = np.asarray(text, dtype=float).ravel()
        return arr if arr.size == size else None
    tokens = [t for t in re.split(r"[\s,;\[\]()]+", text) if t]
    values = [parse_number(t) for t in tokens]
    if len(values) != size or any(v is None for v in values):
        return None
    return np.array(values)


def _agrees(value, target):
    target = np.ravel(np.asarray(target, dtype=float))
    return value.size == target.size and all(close(v, t, REL_TOL, ABS_TOL) for v, t in zip(value, target))


@dataclass(frozen=True)
class DrillInstance:
    """One randomized exercise: prompt (HTML), steps (the last is the asked quantity), a worked
    solution (HTML) and the numbers it was built from."""
    prompt: str
    steps: tuple
    worked: str
    numbers: dict = field(default_factory=dict)

    @property
    def answer(self):
        """The asked quantity: the last step's answer (a float when it is one number)."""
        a = np.asarray(self.steps[-1].answer, dtype=float)
        return float(a.ravel()[0]) if a.size == 1 else a

    def step(self, key):
        return next(s for s in self.steps if s.key == key)

    def check(self, responses):
        """Feedback on the student's work. responses: {step key: text or number} for the boxes filled
        in, or one text/number for the last step alone."""
        if not isinstance(responses, dict):
            responses = {self.steps[-1].key: responses}
        unknown = set(responses) - {s.key for s in self.steps}
        if unknown:
            raise ValueError(f"no step named {sorted(unknown)}; the steps are {[s.key for s in self.steps]}")
        lines, results, wrong_step = [], {}, None
        for number, step in enumerate(self.steps, 1):
            given = responses.get(step.key)
            if given is None or (isinstance(given, str) and not given.strip()):
                results[step.key] = None
                continue
            value = parse_array(given, np.size(step.answer))
            name = f"Step {number} ({step.label})"
            if value is None:
                results[step.key] = False
                wrong_step = wrong_step or step.key
                lines.append(f"\N{BALLOT X} {name}: could not read {given!r} as {step.shape_text} "
                             "(separate numbers with commas; matrices row by row).")
                continue
            ok = _agrees(value, step.answer)
            results[step.key] = ok
            if ok:
                lines.append(f"\N{CHECK MARK} {name}: right.")
                continue
            trap = next((message for trap, message in step.traps if _agrees(value, trap)), None)
            if wrong_step is None:
                wrong_step = self._step_named(trap) or step.key
            lines.append(f"\N{BALLOT X} {name}: not quite. " + (trap or f"Hint: {step.how}"))
        last = results.get(self.steps[-1].key)
        if all(r is None for r in results.values()):
            return DrillFeedback(False, "Type your answer first (at least the last box).", results)
        correct = bool(last) and not any(r is False for r in results.values())
        if not correct and last is None:
            lines.append("Now the last box: " + self.steps[-1].label + ".")
        elif not correct and wrong_step == self.steps[-1].key and len(self.steps) > 1 \
                and all(results[s.key] is None for s in self.steps[:-1]):
            lines.append("Fill in the boxes of the earlier steps to find where it goes wrong.")
        return DrillFeedback(correct, "<br>".join(lines), results, wrong_step)

    def _step_named(self, message):
        """The key of the step a trap message names ('Step 2 ...'), or None."""
        m = re.match(r"Step (\d+)", message or "")
        return self.steps[int(m.group(1)) - 1].key if m else None


# ---------------------------------------------------------------- formatting

def fmt(v, digits=4):
    """A number, vector or matrix as text: 0.25, [0.1, -0.2], [[1, 2], [3, 4]] (minus signs as U+2212)."""
    a = np.asarray(v, dtype=float)
    if a.ndim == 0 or a.size == 1:
        text = f"{float(a.ravel()[0]):.{digits}g}"
    elif a.ndim == 1 or a.shape[0] == 1:
        text = "[" + ", ".join(f"{x:.{digits}g}" for x in a.ravel()) + "]"
    else:
        text = "[" + ", ".join("[" + ", ".join(f"{x:.{digits}g}" for x in row) + "]" for row in a) + "]"
    return text.replace("-", "\u2212")


def _tenths(rng, low, high, exclude_zero=True, size=None):
    """Random multiples of 0.1 in [low, high] (none 0 when exclude_zero): a float, or an array of shape size."""
    n = 1 if size is None else int(np.prod(size))
    out = []
    while len(out) < n:
        v = round(float(rng.integers(round(low * 10), round(high * 10) + 1)) / 10, 1)
        if v != 0 or not exclude_zero:
            out.append(v)
    return out[0] if size is None else np.array(out).reshape(size)


def _asymmetric(rng, low=-1.0, high=1.0):
    """A 2 x 2 matrix of tenths whose transpose differs from it (so a missing transpose shows)."""
    while True:
        W = _tenths(rng, low, high, size=(2, 2))
        if abs(W[0, 1] - W[1, 0]) >= 0.3:
            return W


# ---------------------------------------------------------------- one unit, three steps

_LINEAR_SETUP = ("A one-unit linear RNN: h<sub>t</sub> = w&middot;h<sub>t-1</sub> + u&middot;x<sub>t</sub> for "
                 "t = 0, 1, 2, starting from h<sub>-1</sub> = {h_init}, with w = {w}, u = {u} and inputs "
                 "x<sub>0</sub>, x<sub>1</sub>, x<sub>2</sub> = {x0}, {x1}, {x2}. ")


def _linear_states(w, u, h_init, xs):
    """h_t = w h_{t-1} + u x_t for t = 0, 1, 2 from h_{-1} = h_init: the list [h_{-1}, h_0, h_1, h_2]."""
    hs = [h_init]
    for x in xs:
        hs.append(w * hs[-1] + u * x)
    return hs


def _linear_problem(rng, exclude_zero_start=False):
    w, u = _tenths(rng, -1.5, 1.5), _tenths(rng, -1, 1)
    h_init = _tenths(rng, -1, 1, exclude_zero=exclude_zero_start)
    xs = [int(v) for v in rng.integers(-2, 3, size=3)]
    return w, u, h_init, xs


def linear_rnn_dw(rng):
    """Drill: dL/dw for L = (h_2 - y)^2 / 2 through a one-unit linear RNN of 3 steps (full BPTT)."""
    w, u, h_init, xs = _linear_problem(rng, exclude_zero_start=True)
    y = _tenths(rng, -2, 2, exclude_zero=False)
    hs = _linear_states(w, u, h_init, xs)                            # [h_{-1}, h_0, h_1, h_2]
    e = hs[3] - y                                                   # dL/dh_2
    g = [e * w ** (2 - s) for s in range(3)]                        # dL/dh_s, s = 0, 1, 2
    terms = [g[s] * hs[s] for s in range(3)]                        # step s: dL/dh_s * h_{s-1}
    from_zero = _linear_states(w, u, 0.0, xs)
    steps = (
        Step("h", "forward: h<sub>0</sub>, h<sub>1</sub>, h<sub>2</sub>", np.array(hs[1:]),
             "h<sub>t</sub> = w&middot;h<sub>t-1</sub> + u&middot;x<sub>t</sub>, starting from h<sub>-1</sub>.",
             ((np.array(from_zero[1:]), "Step 1 went wrong: the first step starts from h<sub>-1</sub> = "
                                        f"{h_init}, not from 0."),)),
        Step("g", "backward: dL/dh<sub>0</sub>, dL/dh<sub>1</sub>, dL/dh<sub>2</sub>", np.array(g),
             "dL/dh<sub>2</sub> = h<sub>2</sub> &minus; y; each step back multiplies by w (dh<sub>s</sub>/dh<sub>s-1</sub> = w).",
             ((np.array([e, e, e]), "Step 2 went wrong: going back one step multiplies dL/dh by w."),
              (np.array(g[::-1]), "Step 2: the values are right but in reverse order: list dL/dh<sub>0</sub> first."))),
        Step("dw", "dL/dw", np.array(sum(terms)),
             "w is used at every step: add dL/dh<sub>s</sub> &middot; h<sub>s-1</sub> over s = 0, 1, 2.",
             ((np.array(terms[2]), "Step 3 went wrong: that is the last step's term only; w is shared, so every "
                                   "step adds its own term."),
              (np.array(sum(g[s] * hs[s + 1] for s in range(3))),
               "Step 3 went wrong: step s multiplies by the state it READ, h<sub>s-1</sub>, not h<sub>s</sub>."),
              (np.array(sum(e * hs[s] for s in range(3))),
               "Step 2 went wrong: dL/dh<sub>s</sub> is w<sup>2-s</sup>(h<sub>2</sub> &minus; y), not "
               "h<sub>2</sub> &minus; y at every step."))),
    )
    prompt = (_LINEAR_SETUP.format(h_init=h_init, w=w, u=u, x0=xs[0], x1=xs[1], x2=xs[2])
              + f"The loss is L = (h<sub>2</sub> &minus; y)<sup>2</sup>/2 with y = {y}. "
                "Compute <b>dL/dw</b> (full BPTT).")
    worked = ("Step 1, forward: " + ", ".join(f"h<sub>{t - 1}</sub> = {fmt(hs[t])}" for t in range(1, 4))
              + f".<br>Step 2: dL/dh<sub>2</sub> = h<sub>2</sub> &minus; y = {fmt(e)}; going back one step "
                "multiplies by w: " + ", ".join(f"dL/dh<sub>{s}</sub> = {fmt(g[s])}" for s in (1, 0))
              + ".<br>Step 3: step s adds dL/dh<sub>s</sub> &middot; h<sub>s-1</sub> to dL/dw: "
              + " + ".join(f"({fmt(g[s])})({fmt(hs[s])})" for s in (2, 1, 0))
              + f" = <b>{fmt(sum(terms))}</b>.")
    return DrillInstance(prompt, steps, worked, {"w": w, "u": u, "h_init": h_init, "x": xs, "y": y})


def linear_rnn_dw_truncated(rng):
    """Drill: the sliding-window truncated dL/dw (k = 1 or 2) for L = h_2 through a one-unit linear RNN."""
    w, u, h_init, xs = _linear_problem(rng, exclude_zero_start=True)
    k = int(rng.integers(1, 3))
    hs = _linear_states(w, u, h_init, xs)
    terms = [w ** (2 - s) * hs[s] for s in range(3)]                # dL/dh_s = w^(2-s), times h_{s-1}
    kept = [s for s in range(3) if s >= 3 - k]                     # steps 2, ..., 3 - k
    steps = (
        Step("terms", "full-BPTT terms of dL/dw at steps s = 0, 1, 2", np.array(terms),
             "With L = h<sub>2</sub>: dL/dh<sub>s</sub> = w<sup>2-s</sup>; step s adds dL/dh<sub>s</sub> "
             "&middot; h<sub>s-1</sub>.",
             ((np.array([w ** (2 - s) * hs[s + 1] for s in range(3)]),
               "Step 1 went wrong: step s multiplies by the state it read, h<sub>s-1</sub>."),)),
        Step("dw", f"truncated dL/dw, k = {k}", np.array(sum(terms[s] for s in kept)),
             f"Keep the terms of the last k = {k} step{'s' if k > 1 else ''} before the loss: s = "
             + ", ".join(str(s) for s in reversed(kept)) + ".",
             ((np.array(sum(terms)), "Step 2 went wrong: that is full BPTT; truncation keeps the last k steps only."),
              (np.array(sum(terms[s] for s in range(3) if s >= 2 - k)),
               "Step 2 went wrong: that keeps k + 1 steps; the window of L<sub>2</sub> is steps 2, ..., 3 &minus; k."),
              (np.array(sum(terms[s] for s in range(k))),
               "Step 2 went wrong: that keeps the OLDEST steps; truncation keeps the steps nearest the loss."))),
    )
    prompt = (_LINEAR_SETUP.format(h_init=h_init, w=w, u=u, x0=xs[0], x1=xs[1], x2=xs[2])
              + f"The loss is L = h<sub>2</sub>. Compute dL/dw with <b>truncated BPTT, k = {k}</b>: the signal "
                f"of L goes back through its last {k} step{'s' if k > 1 else ''} only.")
    worked = ("Forward: " + ", ".join(f"h<sub>{t - 1}</sub> = {fmt(hs[t])}" for t in range(1, 4))
              + ".<br>Step 1: full BPTT would add dL/dh<sub>s</sub> &middot; h<sub>s-1</sub> = w<sup>2-s</sup> "
                "h<sub>s-1</sub> for s = 0, 1, 2: " + ", ".join(fmt(t) for t in terms)
              + f" (sum {fmt(sum(terms))}).<br>Step 2: with k = {k} only s = "
              + ", ".join(str(s) for s in reversed(kept)) + f" are kept: <b>{fmt(sum(terms[s] for s in kept))}</b> "
              "(the truncation bias is the rest).")
    return DrillInstance(prompt, steps, worked, {"w": w, "u": u, "h_init": h_init, "x": xs, "k": k})


def tanh_rnn_dw(rng):
    """Drill: dL/dw for L = h_2 through a one-unit tanh RNN of 3 steps (needs a calculator)."""
    w, h_init = _tenths(rng, -1.5, 1.5), _tenths(rng, -1, 1)
    xs = [_tenths(rng, -1, 1, exclude_zero=False) for _ in range(3)]
    hs = [h_init]
    for x in xs:
        hs.append(math.tanh(w * hs[-1] + x))
    d = [1 - hs[s + 1] ** 2 for s in range(3)]                      # tanh'(a_s) = 1 - h_s^2
    g_a = [0.0, 0.0, d[2]]                                          # dL/da_s
    for s in (1, 0):
        g_a[s] = g_a[s + 1] * w * d[s]
    terms = [g_a[s] * hs[s] for s in range(3)]                      # dL/da_s * h_{s-1}
    no_deriv = [w ** (2 - s) for s in range(3)]                     # dL/da_s if tanh' were forgotten
    at_prev = [0.0, 0.0, 1 - hs[2] ** 2]                            # tanh' taken at h_{s-1}
    for s in (1, 0):
        at_prev[s] = at_prev[s + 1] * w * (1 - hs[s] ** 2)
    steps = (
        Step("h", "forward: h<sub>0</sub>, h<sub>1</sub>, h<sub>2</sub>", np.array(hs[1:]),
             "h<sub>t</sub> = tanh(w&middot;h<sub>t-1</sub> + x<sub>t</sub>), starting from h<sub>-1</sub>."),
        Step("da", "backward: dL/da<sub>0</sub>, dL/da<sub>1</sub>, dL/da<sub>2</sub>", np.array(g_a),
             "dL/da<sub>2</sub> = 1 &minus; h<sub>2</sub><sup>2</sup>; dL/da<sub>s</sub> = dL/da<sub>s+1</sub> "
             "&middot; w &middot; (1 &minus; h<sub>s</sub><sup>2</sup>).",
             ((np.array(no_deriv), "Step 2 went wrong: every step back also passes through tanh: multiply by "
                                   "1 &minus; h<sub>s</sub><sup>2</sup>."),
              (np.array(at_prev), "Step 2 went wrong: tanh' of step s is 1 &minus; h<sub>s</sub><sup>2</sup>, at "
                                  "the state step s produced, not at h<sub>s-1</sub>."))),
        Step("dw", "dL/dw", np.array(sum(terms)),
             "dL/dw = &sum;<sub>s</sub> dL/da<sub>s</sub> &middot; h<sub>s-1</sub>.",
             ((np.array(terms[2]), "Step 3 went wrong: w is shared: add the terms of all three steps."),
              (np.array(sum(g_a[s] * hs[s + 1] for s in range(3))),
               "Step 3 went wrong: step s multiplies by the state it read, h<sub>s-1</sub>."),
              (np.array(sum(no_deriv[s] * hs[s] for s in range(3))),
               "Step 2 went wrong: the tanh derivatives are missing."))),
    )
    prompt = ("A one-unit tanh RNN: h<sub>t</sub> = tanh(w&middot;h<sub>t-1</sub> + x<sub>t</sub>) for t = 0, 1, 2, "
              f"from h<sub>-1</sub> = {h_init}, with w = {w} and x<sub>0</sub>, x<sub>1</sub>, x<sub>2</sub> = "
              f"{xs[0]}, {xs[1]}, {xs[2]}. The loss is L = h<sub>2</sub>. Compute <b>dL/dw</b> (full BPTT; "
              "use a calculator, tanh'(a) = 1 &minus; tanh(a)<sup>2</sup>).")
    worked = ("Step 1, forward: " + ", ".join(f"h<sub>{t - 1}</sub> = {fmt(hs[t])}" for t in range(1, 4))
              + ".<br>Step 2, backward (a<sub>s</sub> the pre-activation): dL/da<sub>2</sub> = 1 &minus; "
                f"h<sub>2</sub><sup>2</sup> = {fmt(g_a[2])}, dL/da<sub>1</sub> = dL/da<sub>2</sub> &middot; w "
                f"&middot; (1 &minus; h<sub>1</sub><sup>2</sup>) = {fmt(g_a[1])}, dL/da<sub>0</sub> = {fmt(g_a[0])}."
              + "<br>Step 3: dL/dw = &sum;<sub>s</sub> dL/da<sub>s</sub> &middot; h<sub>s-1</sub> = "
              + " + ".join(f"({fmt(g_a[s])})({fmt(hs[s])})" for s in (2, 1, 0)) + f" = <b>{fmt(sum(terms))}</b>.")
    return DrillInstance(prompt, steps, worked, {"w": w, "h_init": h_init, "x": xs})


def _sq(v):
    """'v<sup>2</sup>', with parentheses around a negative v."""
    return f"({v})<sup>2</sup>" if v < 0 else f"{v}<sup>2</sup>"


def clipped_entry(rng):
    """Drill: one entry of a gradient after global-norm clipping (dWh one number, db two)."""
    a, b = (int(v) for v in rng.integers(-6, 7, size=2))
    while a == 0:
        a = int(rng.integers(-6, 7))
    c = int(rng.integers(1, 5))
    norm = math.sqrt(a * a + b * b + c * c)
    max_norm = float(rng.choice([0.5, 1.0, 2.0, 5.0, 10.0]))
    scale = min(1.0, max_norm / norm)
    steps = (
        Step("norm", "the global norm", np.array(norm),
             "the square root of the sum of the squares of every entry of every array.",
             ((np.array(abs(a) + math.hypot(b, c)), "Step 1 went wrong: that adds the arrays' norms; the global "
                                                    "norm adds the squares first."),)),
        Step("dWh", "the clipped dWh[0, 0]", np.array(a * scale),
             "multiply by min(1, threshold / global norm).",
             ((np.array(a * min(1.0, max_norm / abs(a))),
               "Step 2 went wrong: that clips dWh by its own norm; norm clipping uses one global norm for all arrays."),
              (np.array(float(np.clip(a, -max_norm, max_norm))),
               "Step 2 went wrong: that is clipping by value; norm clipping scales every entry by the same factor."),
              (np.array(a * max_norm / norm),
               "Step 2 went wrong: the factor is min(1, threshold / norm): a gradient under the threshold passes "
               "unchanged."))),
    )
    prompt = (f"The gradients of a small RNN are dWh = [[{a}]] and db = [{b}, {c}]. Global-norm clipping with "
              f"threshold {max_norm:g} is applied. What is the clipped <b>dWh[0, 0]</b>?")
    worked = (f"Step 1: global norm sqrt({_sq(a)} + {_sq(b)} + {_sq(c)}) = {fmt(norm)}.<br>Step 2: "
              + (f"it exceeds {max_norm:g}, so every array is multiplied by {max_norm:g} / {fmt(norm)} = {fmt(scale)}: "
                 if scale < 1 else f"it does not exceed {max_norm:g}: nothing changes, ")
              + f"dWh[0, 0] = <b>{fmt(a * scale)}</b>.")
    return DrillInstance(prompt, steps, worked, {"dWh": a, "db": [b, c], "max_norm": max_norm})


# ---------------------------------------------------------------- two units (matrices)

MATRIX_NOTE = ("Vectors are rows (1 &times; 2) and matrices are written row by row; type numbers separated by "
               "commas, e.g. <code>0.12, -0.5</code> or <code>1, 2; 3, 4</code>.")


def forward_step_2units(rng):
    """Drill: one forward step of a two-unit tanh RNN, a_t = x_t Wx + h_{t-1} Wh + b and h_t = tanh(a_t)."""
    x = rng.integers(-1, 3, size=(1, 2)).astype(float)
    while not x.any():
        x = rng.integers(-1, 3, size=(1, 2)).astype(float)
    h_prev = _tenths(rng, -0.9, 0.9, size=(1, 2))
    Wx, Wh = _asymmetric(rng), _asymmetric(rng)
    b = _tenths(rng, -0.5, 0.5, exclude_zero=False, size=(2,))
    a = x @ Wx + h_prev @ Wh + b
    h = np.tanh(a)
    wrong_a = ((x @ Wx + h_prev @ Wh.T + b, "Step 1 went wrong: the recurrent term is h<sub>t-1</sub> W<sub>h</sub> "
                                            "(a row times W<sub>h</sub>); you used W<sub>h</sub> transposed (the "
                                            "column-vector habit W<sub>h</sub> h)."),
               (x @ Wx.T + h_prev @ Wh + b, "Step 1 went wrong: the input term is x<sub>t</sub> W<sub>x</sub>; you "
                                            "used W<sub>x</sub> transposed."),
               (x @ Wx + h_prev @ Wh, "Step 1 went wrong: the bias b is missing."))
    steps = (
        Step("a", "the pre-activation a<sub>t</sub> (1 &times; 2)", a,
             "a<sub>t</sub> = x<sub>t</sub> W<sub>x</sub> + h<sub>t-1</sub> W<sub>h</sub> + b: entry j is "
             "&sum;<sub>i</sub> x[i] W<sub>x</sub>[i, j] + &sum;<sub>i</sub> h<sub>t-1</sub>[i] W<sub>h</sub>[i, j] + b[j].",
             wrong_a),
        Step("h", "the new state h<sub>t</sub> (1 &times; 2)", h,
             "h<sub>t</sub> = tanh(a<sub>t</sub>), entry by entry.",
             ((a, "Step 2 went wrong: tanh is not applied."),) + tuple((np.tanh(v), m) for v, m in wrong_a)),
    )
    prompt = ("A two-unit tanh RNN (D = H = 2, one sequence) takes one step: a<sub>t</sub> = x<sub>t</sub> "
              "W<sub>x</sub> + h<sub>t-1</sub> W<sub>h</sub> + b, h<sub>t</sub> = tanh(a<sub>t</sub>), with<br>"
              f"x<sub>t</sub> = {fmt(x)}, h<sub>t-1</sub> = {fmt(h_prev)}, W<sub>x</sub> = {fmt(Wx)}, "
              f"W<sub>h</sub> = {fmt(Wh)}, b = {fmt(b)}.<br>Compute <b>h<sub>t</sub></b>. " + MATRIX_NOTE)
    worked = (f"Step 1: x<sub>t</sub> W<sub>x</sub> = {fmt(x @ Wx)}, h<sub>t-1</sub> W<sub>h</sub> = "
              f"{fmt(h_prev @ Wh)}, plus b = {fmt(b)}: a<sub>t</sub> = {fmt(a)}.<br>"
              f"Step 2: h<sub>t</sub> = tanh(a<sub>t</sub>) = <b>{fmt(h)}</b>.")
    return DrillInstance(prompt, steps, worked, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "b": b})


def backward_step_2units(rng):
    """Drill: one backward step of a two-unit tanh RNN: da, dh_{t-1} and dWh from dL/dh_t."""
    h_prev = _tenths(rng, -0.9, 0.9, size=(1, 2))
    h = _tenths(rng, -0.9, 0.9, size=(1, 2))
    Wh = _asymmetric(rng)
    dh = _tenths(rng, -1, 1, size=(1, 2))
    da = dh * (1 - h ** 2)
    wrong_da = ((dh * (1 - h_prev ** 2), "Step 1 went wrong: tanh' is 1 &minus; h<sub>t</sub><sup>2</sup>, at the "
                                         "state this step produced, not at h<sub>t-1</sub>."),
                (dh, "Step 1 went wrong: the gradient must pass through tanh: multiply by 1 &minus; "
                     "h<sub>t</sub><sup>2</sup>."),
                (dh * (1 - h), "Step 1 went wrong: tanh'(a) = 1 &minus; tanh(a)<sup>2</sup> = 1 &minus; "
                               "h<sub>t</sub><sup>2</sup>, not 1 &minus; h<sub>t</sub>."))
    steps = (
        Step("da", "da = dL/da<sub>t</sub> (1 &times; 2)", da,
             "da = dL/dh<sub>t</sub> &odot; (1 &minus; h<sub>t</sub><sup>2</sup>), entry by entry.", wrong_da),
        Step("dh_prev", "dL/dh<sub>t-1</sub> (1 &times; 2)", da @ Wh.T,
             "dL/dh<sub>t-1</sub> = da W<sub>h</sub><sup>T</sup>: entry i is &sum;<sub>j</sub> da[j] W<sub>h</sub>[i, j].",
             ((da @ Wh, "Step 2 went wrong: going back through h<sub>t-1</sub> W<sub>h</sub> multiplies by "
                        "W<sub>h</sub><sup>T</sup>."),) + tuple((v @ Wh.T, m) for v, m in wrong_da)),
        Step("dWh", "this step's dW<sub>h</sub> (2 &times; 2)", h_prev.T @ da,
             "dW<sub>h</sub> = h<sub>t-1</sub><sup>T</sup> da (2 &times; 1 times 1 &times; 2): entry [i, j] is "
             "h<sub>t-1</sub>[i] da[j].",
             ((da.T @ h_prev, "Step 3 went wrong: that is the transpose; row i of dW<sub>h</sub> belongs to unit i of "
                              "h<sub>t-1</sub> (like row i of W<sub>h</sub>)."),
              (h.T @ da, "Step 3 went wrong: the step READ h<sub>t-1</sub>; multiply by it, not by h<sub>t</sub>."))
             + tuple((h_prev.T @ v, m) for v, m in wrong_da)),
    )
    prompt = ("Backward through one step of a two-unit tanh RNN (H = 2, one sequence). The step read "
              f"h<sub>t-1</sub> = {fmt(h_prev)} and produced h<sub>t</sub> = {fmt(h)}, with W<sub>h</sub> = {fmt(Wh)}. "
              f"The total gradient arriving at h<sub>t</sub> is dL/dh<sub>t</sub> = {fmt(dh)}.<br>"
              "Compute <b>da</b>, <b>dL/dh<sub>t-1</sub></b> and this step's <b>dW<sub>h</sub></b>. " + MATRIX_NOTE)
    worked = (f"Step 1: da = dL/dh<sub>t</sub> &odot; (1 &minus; h<sub>t</sub><sup>2</sup>) = {fmt(dh)} &odot; "
              f"{fmt(1 - h ** 2)} = {fmt(da)}.<br>Step 2: dL/dh<sub>t-1</sub> = da W<sub>h</sub><sup>T</sup> = "
              f"{fmt(da)} {fmt(Wh.T)} = {fmt(da @ Wh.T)}.<br>Step 3: dW<sub>h</sub> = h<sub>t-1</sub><sup>T</sup> da "
              f"= <b>{fmt(h_prev.T @ da)}</b>.")
    return DrillInstance(prompt, steps, worked, {"h_prev": h_prev, "h": h, "Wh": Wh, "dh": dh})


def jacobian_product_2units(rng):
    """Drill: two step Jacobians J = diag(1 - h^2) Wh^T of a two-unit RNN, their product, and the gradient
    carried back two steps."""
    Wh = _asymmetric(rng)
    h1, h2 = _tenths(rng, -0.9, 0.9, size=(1, 2)), _tenths(rng, -0.9, 0.9, size=(1, 2))   # h_{t-1}, h_t
    g = _tenths(rng, -1, 1, size=(1, 2))                                                  # dL/dh_t

    def J(h):
        return np.diag(1 - h.ravel() ** 2) @ Wh.T

    J2, J1 = J(h2), J(h1)
    P = J2 @ J1
    wrong_J2 = ((np.diag(1 - h2.ravel() ** 2) @ Wh, "Step 1 went wrong: J[i, j] = dh<sub>t</sub>[i]/dh<sub>t-1</sub>[j] "
                                                    "goes through W<sub>h</sub>[j, i]: use W<sub>h</sub><sup>T</sup>."),
                (Wh.T @ np.diag(1 - h2.ravel() ** 2), "Step 1 went wrong: tanh' belongs to the output unit i, so "
                                                      "diag(1 &minus; h<sub>t</sub><sup>2</sup>) multiplies from the left."),
                (np.diag(1 - h1.ravel() ** 2) @ Wh.T, "Step 1 went wrong: J<sub>t</sub> uses tanh' at h<sub>t</sub>, "
                                                      "the state step t produced."))
    steps = (
        Step("J_t", "J<sub>t</sub> = dh<sub>t</sub>/dh<sub>t-1</sub> (2 &times; 2)", J2,
             "J<sub>t</sub> = diag(1 &minus; h<sub>t</sub><sup>2</sup>) W<sub>h</sub><sup>T</sup>: row i of "
             "W<sub>h</sub><sup>T</sup> times 1 &minus; h<sub>t</sub>[i]<sup>2</sup>.", wrong_J2),
        Step("J_prev", "J<sub>t-1</sub> = dh<sub>t-1</sub>/dh<sub>t-2</sub> (2 &times; 2)", J1,
             "J<sub>t-1</sub> = diag(1 &minus; h<sub>t-1</sub><sup>2</sup>) W<sub>h</sub><sup>T</sup>.",
             ((np.diag(1 - h1.ravel() ** 2) @ Wh, "Step 2 went wrong: use W<sub>h</sub><sup>T</sup>, as in J<sub>t</sub>."),
              (J2, "Step 2 went wrong: J<sub>t-1</sub> uses tanh' at h<sub>t-1</sub>."))),
        Step("P", "dh<sub>t</sub>/dh<sub>t-2</sub> (2 &times; 2)", P,
             "The chain rule: dh<sub>t</sub>/dh<sub>t-2</sub> = J<sub>t</sub> J<sub>t-1</sub> (latest step first).",
             ((J1 @ J2, "Step 3 went wrong: the order is J<sub>t</sub> J<sub>t-1</sub>; matrices do not commute."),)
             + tuple((v @ J1, m) for v, m in wrong_J2)),
        Step("g2", "dL/dh<sub>t-2</sub> (1 &times; 2)", g @ P,
             "A row vector times the Jacobian: dL/dh<sub>t-2</sub> = dL/dh<sub>t</sub> J<sub>t</sub> J<sub>t-1</sub>.",
             (((P @ g.T).T, "Step 4 went wrong: with J[i, j] = d out[i] / d in[j], a row gradient multiplies from "
                            "the left: g P, not P g<sup>T</sup>."),
              (g @ J1 @ J2, "Step 3 went wrong: the order is J<sub>t</sub> J<sub>t-1</sub>."))
             + tuple((g @ v @ J1, m) for v, m in wrong_J2)),
    )
    prompt = ("A two-unit tanh RNN (H = 2) with W<sub>h</sub> = " + fmt(Wh) + " produced the states "
              f"h<sub>t-1</sub> = {fmt(h1)} and h<sub>t</sub> = {fmt(h2)}. The gradient at h<sub>t</sub> is "
              f"dL/dh<sub>t</sub> = {fmt(g)} (and nothing else reaches h<sub>t-1</sub>, h<sub>t-2</sub>).<br>"
              "Compute the step Jacobians (J[i, j] = dh<sub>t</sub>[i] / dh<sub>t-1</sub>[j]), their product and "
              "<b>dL/dh<sub>t-2</sub></b>. " + MATRIX_NOTE)
    worked = (f"Step 1: J<sub>t</sub> = diag({fmt(1 - h2 ** 2)}) W<sub>h</sub><sup>T</sup> = {fmt(J2)}.<br>"
              f"Step 2: J<sub>t-1</sub> = diag({fmt(1 - h1 ** 2)}) W<sub>h</sub><sup>T</sup> = {fmt(J1)}.<br>"
              f"Step 3: J<sub>t</sub> J<sub>t-1</sub> = {fmt(P)}.<br>"
              f"Step 4: dL/dh<sub>t-2</sub> = {fmt(g)} {fmt(P)} = <b>{fmt(g @ P)}</b>.")
    return DrillInstance(prompt, steps, worked, {"Wh": Wh, "h_prev": h1, "h": h2, "g": g})


def clipping_2units(rng):
    """Drill: global-norm clipping of dWh (2 x 2) and db (2,): the norm, the factor, the clipped dWh."""
    dWh = rng.integers(-4, 5, size=(2, 2)).astype(float)
    while np.count_nonzero(dWh) < 3:
        dWh = rng.integers(-4, 5, size=(2, 2)).astype(float)
    db = rng.integers(-4, 5, size=2).astype(float)
    c = float(rng.choice([1.0, 2.0, 5.0, 10.0]))
    norm = math.sqrt(float((dWh ** 2).sum() + (db ** 2).sum()))
    scale = min(1.0, c / norm)
    steps = (
        Step("norm", "the global norm", np.array(norm),
             "sqrt of the sum of the squares of all entries of dW<sub>h</sub> and db together.",
             ((np.array(np.linalg.norm(dWh) + np.linalg.norm(db)),
               "Step 1 went wrong: that adds the two arrays' norms; the global norm adds all the squares first."),
              (np.array(np.linalg.norm(dWh)), "Step 1 went wrong: db belongs to the global norm too."))),
        Step("scale", "the factor applied to every array", np.array(scale),
             "min(1, threshold / global norm).",
             ((np.array(c / norm), "Step 2 went wrong: the factor is min(1, threshold / norm): clipping never "
                                   "enlarges a gradient."),
              (np.array(norm / c), "Step 2 went wrong: the factor is threshold / norm, not norm / threshold."))),
        Step("dWh", "the clipped dW<sub>h</sub> (2 &times; 2)", dWh * scale,
             "every entry of dW<sub>h</sub> times the factor.",
             ((np.clip(dWh, -c, c), "Step 3 went wrong: that is clipping by value (each entry into [&minus;c, c]), "
                                    "which can change the direction; norm clipping scales every entry by one factor."),
              (dWh * min(1.0, c / max(np.linalg.norm(dWh), 1e-300)),
               "Step 1 went wrong: that clips dW<sub>h</sub> by its own norm; norm clipping uses one global norm "
               "for all the arrays."),
              (dWh * (c / norm), "Step 2 went wrong: under the threshold the gradient passes unchanged."))),
    )
    prompt = (f"Gradients after a backward pass: dW<sub>h</sub> = {fmt(dWh)}, db = {fmt(db)}. They are clipped "
              f"by global norm with threshold c = {c:g} (Pascanu et al. 2013). Compute the global norm, the factor "
              "and the <b>clipped dW<sub>h</sub></b>. " + MATRIX_NOTE)
    worked = (f"Step 1: global norm = sqrt({int((dWh ** 2).sum())} + {int((db ** 2).sum())}) = {fmt(norm)}.<br>"
              f"Step 2: factor = min(1, {c:g} / {fmt(norm)}) = {fmt(scale)}"
              + (" (under the threshold: nothing changes)" if scale == 1 else "") + ".<br>"
              f"Step 3: clipped dW<sub>h</sub> = <b>{fmt(dWh * scale)}</b> (db likewise: {fmt(db * scale)}).")
    return DrillInstance(prompt, steps, worked, {"dWh": dWh, "db": db, "max_norm": c})


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def lstm_cell_1unit(rng):
    """Drill: one LSTM step with one unit (gates i, f, g, o in the course's order), then the gradient
    that reaches the previous cell state."""
    a = [_tenths(rng, -2, 2) for _ in range(4)]                      # pre-activations of i, f, g, o
    c_prev = _tenths(rng, -1, 1)
    dh, dc_next = _tenths(rng, -1, 1), _tenths(rng, -1, 1, exclude_zero=False)
    i, f, o = _sigmoid(a[0]), _sigmoid(a[1]), _sigmoid(a[3])
    g = math.tanh(a[2])
    c = f * c_prev + i * g
    tc = math.tanh(c)
    h = o * tc
    dc = dc_next + dh * o * (1 - tc ** 2)
    gates = np.array([i, f, g, o])
    steps = (
        Step("gates", "the gates i, f, g, o", gates,
             "i = &sigma;(a<sub>i</sub>), f = &sigma;(a<sub>f</sub>), g = tanh(a<sub>g</sub>), o = &sigma;(a<sub>o</sub>).",
             ((np.array([_sigmoid(v) for v in a]), "Step 1 went wrong: the candidate g uses tanh, not the sigmoid."),
              (np.array([i, f, _sigmoid(a[2]), math.tanh(a[3])]),
               "Step 1 went wrong: tanh goes to the third block (g) and the sigmoid to the fourth (o): the course "
               "uses PyTorch's order i, f, g, o."))),
        Step("c", "the new cell state c<sub>t</sub>", np.array(c),
             "c<sub>t</sub> = f &middot; c<sub>t-1</sub> + i &middot; g.",
             ((np.array(i * c_prev + f * g), "Step 2 went wrong: f multiplies the old cell state and i the candidate."),
              (np.array(f * c_prev + o * g), "Step 2 went wrong: the input gate i, not the output gate, scales the "
                                             "candidate."))),
        Step("h", "the new state h<sub>t</sub>", np.array(h),
             "h<sub>t</sub> = o &middot; tanh(c<sub>t</sub>).",
             ((np.array(o * c), "Step 3 went wrong: tanh(c<sub>t</sub>), not c<sub>t</sub>."),)),
        Step("dc", "the total gradient at c<sub>t</sub>", np.array(dc),
             "dL/dc<sub>t</sub> = dc<sub>next</sub> + dL/dh<sub>t</sub> &middot; o &middot; (1 &minus; "
             "tanh(c<sub>t</sub>)<sup>2</sup>): two sources, like h<sub>t</sub> in a plain RNN.",
             ((np.array(dc_next), "Step 4 went wrong: c<sub>t</sub> also reaches the loss through h<sub>t</sub>: add "
                                  "dL/dh<sub>t</sub> &middot; o &middot; (1 &minus; tanh(c<sub>t</sub>)<sup>2</sup>)."),
              (np.array(dc_next + dh * o), "Step 4 went wrong: the tanh'(c<sub>t</sub>) factor 1 &minus; "
                                           "tanh(c<sub>t</sub>)<sup>2</sup> is missing."),
              (np.array(dh * o * (1 - tc ** 2)), "Step 4 went wrong: add the gradient dc<sub>next</sub> that arrives "
                                                 "from the next step's cell."))),
        Step("dc_prev", "dL/dc<sub>t-1</sub>", np.array(dc * f),
             "dL/dc<sub>t-1</sub> = dL/dc<sub>t</sub> &middot; f: the cell path multiplies by the forget gate only.",
             ((np.array(dc), "Step 5 went wrong: going back through c<sub>t</sub> = f c<sub>t-1</sub> + ... multiplies by f."),
              (np.array(dc * i), "Step 5 went wrong: the forget gate f, not the input gate, multiplies c<sub>t-1</sub>."),
              (np.array(dc_next * f), "Step 4 went wrong: the gradient at c<sub>t</sub> also comes through h<sub>t</sub>."))),
    )
    prompt = ("One step of a one-unit LSTM. The pre-activations are a<sub>i</sub>, a<sub>f</sub>, a<sub>g</sub>, "
              f"a<sub>o</sub> = {a[0]}, {a[1]}, {a[2]}, {a[3]} (blocks in the course's order i, f, g, o) and the "
              f"previous cell state is c<sub>t-1</sub> = {c_prev}.<br>Backward: the gradients arriving are "
              f"dL/dh<sub>t</sub> = {dh} and, from the next step's cell, dc<sub>next</sub> = {dc_next}.<br>"
              "Compute the gates, c<sub>t</sub>, h<sub>t</sub>, the gradient at c<sub>t</sub> and "
              "<b>dL/dc<sub>t-1</sub></b> (a calculator helps; &sigma;(z) = 1/(1 + e<sup>&minus;z</sup>)). "
              "Type the four gates as four numbers.")
    worked = (f"Step 1: i = &sigma;({a[0]}) = {fmt(i)}, f = &sigma;({a[1]}) = {fmt(f)}, g = tanh({a[2]}) = {fmt(g)}, "
              f"o = &sigma;({a[3]}) = {fmt(o)}.<br>Step 2: c<sub>t</sub> = f c<sub>t-1</sub> + i g = {fmt(c)}.<br>"
              f"Step 3: h<sub>t</sub> = o tanh(c<sub>t</sub>) = {fmt(o)} &middot; {fmt(tc)} = {fmt(h)}.<br>"
              f"Step 4: dL/dc<sub>t</sub> = {dc_next} + {dh} &middot; {fmt(o)} &middot; (1 &minus; {fmt(tc)}<sup>2</sup>) "
              f"= {fmt(dc)}.<br>Step 5: dL/dc<sub>t-1</sub> = dL/dc<sub>t</sub> &middot; f = <b>{fmt(dc * f)}</b>.")
    return DrillInstance(prompt, steps, worked, {"a": a, "c_prev": c_prev, "dh": dh, "dc_next": dc_next})


DRILLS = {
    "One unit: full BPTT by hand (linear RNN, 3 steps)": linear_rnn_dw,
    "One unit: truncated BPTT by hand (linear RNN, 3 steps)": linear_rnn_dw_truncated,
    "One unit: full BPTT by hand (tanh RNN, 3 steps)": tanh_rnn_dw,
    "One unit: gradient clipping": clipped_entry,
    "One unit: an LSTM cell step and its cell path": lstm_cell_1unit,
    "Two units: a forward step": forward_step_2units,
    "Two units: one backward step": backward_step_2units,
    "Two units: a product of step Jacobians": jacobian_product_2units,
    "Two units: gradient clipping by global norm": clipping_2units,
}


# ---------------------------------------------------------------- widgets

class DrillWidget:
    """A randomized drill: one answer box per step, Check, Show solution and New instance buttons.

    drill: a function rng -> DrillInstance (one of DRILLS); instances come from
    np.random.default_rng(seed), so the sequence is reproducible. `answer(responses)`
    fills the boxes ({step key: text}, or one text for the last box) and presses Check;
    `new_instance()` draws the next instance.
    """

    def __init__(self, drill, seed=0, title=None):
        import ipywidgets as widgets
        self.drill = drill
        self.rng = np.random.default_rng(seed)
        self.title = widgets.HTML(f"<h4>{title}</h4>" if title else "")
        self.prompt = widgets.HTMLMath()
        self.boxes = widgets.VBox()
        self.check_button = widgets.Button(description="Check")
        self.solution_button = widgets.Button(description="Show solution")
        self.new_button = widgets.Button(description="New instance", button_style="info")
        self.feedback = widgets.HTML()
        self.solution = widgets.HTML()
        self.check_button.on_click(lambda _: self._check())
        self.solution_button.on_click(lambda _: self._reveal())
        self.new_button.on_click(lambda _: self.new_instance())
        self.box = widgets.VBox([self.title, self.prompt, self.boxes,
                                 widgets.HBox([self.check_button, self.solution_button, self.new_button]),
                                 self.feedback, self.solution])
        self.inputs = {}
        self.last = None
        self.new_instance()

    def new_instance(self):
        """Draw and show the next instance (empty boxes); returns it."""
        import ipywidgets as widgets
        self.instance = self.drill(self.rng)
        self.prompt.value = self.instance.prompt
        rows, self.inputs = [], {}
        for number, step in enumerate(self.instance.steps, 1):
            box = widgets.Text(placeholder=step.shape_text, continuous_update=False,
                               layout=widgets.Layout(width="260px"))
            self.inputs[step.key] = box
            rows.append(widgets.HBox([widgets.HTML(f"Step {number}: {step.label}",
                                                   layout=widgets.Layout(width="420px")), box]))
        self.boxes.children = rows
        self.feedback.value = self.solution.value = ""
        self.last = None
        return self.instance

    def _check(self):
        self.last = self.instance.check({k: box.value for k, box in self.inputs.items()})
        colour = "#1a7f37" if self.last.correct else "#b3261e"
        self.feedback.value = f'<div style="color:{colour}">{self.last.message}</div>'
        return self.last

    def _reveal(self):
        self.solution.value = self.instance.worked

    def answer(self, responses):
        """Fill the boxes as a student would ({step key: text}, or one text for the last step) and press Check."""
        if not isinstance(responses, dict):
            responses = {self.instance.steps[-1].key: responses}
        for key, box in self.inputs.items():
            value = responses.get(key, "")
            box.value = value if isinstance(value, str) else ", ".join(f"{v:.6g}" for v in np.ravel(value))
        self.check_button.click()
        return self.last


class DrillPanel:
    """One drill at a time, chosen from a menu; drill i (in the order of `drills`) draws from seed + i.

    `box` is the widget to display; `widget(title)` is that drill's DrillWidget (built when first
    needed, so the panel shows quickly); `choose(title)` does what picking it in the menu does.
    """

    def __init__(self, seed=0, drills=None):
        import ipywidgets as widgets
        self.drills = dict(DRILLS if drills is None else drills)
        self.titles = list(self.drills)
        self.seed = seed
        self._built = {}
        self.menu = widgets.Dropdown(options=self.titles, value=self.titles[0], description="drill",
                                     layout=widgets.Layout(width="560px"))
        self.holder = widgets.VBox([self.widget(self.titles[0]).box])
        self.menu.observe(lambda change: self._show(change["new"]), names="value")
        self.box = widgets.VBox([self.menu, self.holder])

    def widget(self, title):
        if title not in self.drills:
            raise KeyError(f"no drill {title!r}; the drills are {self.titles}")
        if title not in self._built:
            self._built[title] = DrillWidget(self.drills[title], seed=self.seed + self.titles.index(title),
                                             title=title)
        return self._built[title]

    def _show(self, title):
        self.holder.children = [self.widget(title).box]

    def choose(self, title):
        """Pick `title` in the menu; returns its DrillWidget."""
        self.widget(title)
        self.menu.value = title
        return self.widget(title)


def drill_panel(seed=0, drills=None):
    """A DrillPanel over `drills` (default: all of DRILLS); display its .box."""
    return DrillPanel(seed, drills)
