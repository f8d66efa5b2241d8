"""Diagnosis by symptom: what a wrong output's values show, for the bugs no known mistake matches.

The mistakes library (mistakes/) recognises exact wrong implementations.
Most wrong answers are variations of a few shapes of wrongness, visible in
the values alone: a constant factor (a mean where a sum belongs), a
transpose, the time steps reversed or shifted by one, two outputs swapped,
a part left at zero, an overflow on the large inputs, another graded
function's result (relations.py), a result right only for T = 1. This module
recognises those shapes from the student's outputs and the reference's on
the graded cases, never from the student's source.

    diagnose(name, views, others, runs) -> [Symptom]

runs: one `CaseRun` per graded case (the case, the student's return value,
the reference's, the reference's tolerances); views: one `PartView` per
failing output part to diagnose; others: a PartView for every output part
(for swapped outputs). Each part gets at most one symptom, and only when it
explains the student's values on every case of that part:

1. exact shapes, one hypothesis each, predicting the student's values from
   the reference's (or from another reference, relations.py): named when
   exactly one of them agrees on every case (two that both agree are two
   possible causes: none is named, a wrong name being worse than none);
2. otherwise, in order: inf or nan only on the cases with large inputs
   (overflow); one wrong factor per case (the direction right, the size
   wrong); right on exactly the cases with T = 1 (or N = 1, D == H, or a
   condition of relations.CONDITIONS) and wrong on all the others, when no
   other condition picks out the same cases.

Agreement: every leaf of the same type and shape, inf/nan at the same places,
finite entries within the reference's tolerance (scaled with the hypothesis'
factor) plus AGREE_RTOL of the prediction's largest entry, so a student's
harmless epsilon (a norm + 1e-12) does not hide the symptom.

Legend: N batch, T time steps, D input size, H hidden size, k truncation length.
"""
from dataclasses import dataclass, field

import numpy as np

from . import relations
from .compare import EPS, SAFETY, as_number, leaves
from .evaluate import prepare_args

AGREE_RTOL = 1e-6
LARGE_INPUT = 100.0      # a case whose largest |input| reaches this can overflow exp (the softmax case: ~1e4)
MIN_ENTRIES = 3          # a factor per case is named only for parts with this many non-zero entries per case


@dataclass(frozen=True)
class Symptom:
    """What one wrong output part's values show.

    part: the output part (e.g. "db"); id: the kind, stable across runs (e.g.
    "divided-by-N", "transposed", "equals:rnn_backward_truncated/chunks",
    "right-only-when:T = 1"); what: the kind in words, the same on any cases
    ("the reference divided by N (the batch size)"), for the class report;
    says: what the values show on these cases, completing "your db is ...";
    hint: where to look, in words (no code).
    """
    part: str
    id: str
    what: str
    says: str
    hint: str

    @property
    def title(self):
        """One line, e.g. "db is the reference divided by N (the batch size)"."""
        return f"{self.part} is {self.what}"


@dataclass
class CaseRun:
    """One graded case: case (cases.Case), student and expected return values (plain data; student
    None when it raised), tols {leaf path: tolerance} of the expected value; memo: relations' predictions."""
    case: object
    student: object
    expected: object
    tols: dict
    memo: dict = field(default_factory=dict)


@dataclass
class PartView:
    """One output part: name; index (its position in the returned tuple, None for a single value);
    value(outputs) -> the part of a return value (MISSING when the structure does not have it);
    tols(tols) -> the part's tolerances re-rooted; right: per run, True when the part passed there."""
    name: str
    index: object
    value: object
    tols: object
    right: tuple


MISSING = object()


# --- agreement ------------------------------------------------------------------------

def _array(v):
    """A leaf as a float64 array, or None when it is not a number or numeric array."""
    if type(v) is np.ndarray and v.dtype.kind in "fiub":
        return v.astype(np.float64)
    number = as_number(v)
    return None if number is None else np.float64(number)


def agree(got, want, tols, factor=1.0, path=()):
    """Does the student's value `got` agree with the prediction `want` (see the module docstring)?"""
    if isinstance(want, tuple):
        return (type(got) is tuple and len(got) == len(want)
                and all(agree(g, w, tols, factor, path + (i,)) for i, (g, w) in enumerate(zip(got, want))))
    if isinstance(want, dict):
        return (type(got) is dict and set(got) == set(want)
                and all(agree(got[k], want[k], tols, factor, path + (k,)) for k in want))
    a, b = _array(got), _array(want)
    if a is None or b is None or np.shape(a) != np.shape(b) or (type(want) is np.ndarray) != (type(got) is np.ndarray):
        return False
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(a[~fa], b[~fb], equal_nan=True):
        return False
    scale = float(np.max(np.abs(b[fb]), initial=0.0))
    tol = tols.get(path, 0.0) * max(1.0, abs(factor)) + max(AGREE_RTOL, SAFETY * EPS) * scale
    return bool(np.all(np.abs(a[fa] - b[fb]) <= tol))


def _map_leaves(value, f, path=()):
    """value with every numeric leaf replaced by f(path, leaf as float64) (tuples and dicts kept)."""
    if isinstance(value, tuple):
        return tuple(_map_leaves(v, f, path + (i,)) for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _map_leaves(v, f, path + (k,)) for k, v in value.items()}
    arr = _array(value)
    if arr is None:
        return MISSING
    out = f(path, arr)
    if out is MISSING:
        return MISSING
    return float(out) if type(value) is not np.ndarray else out


def _contains_missing(value):
    if value is MISSING:
        return True
    if isinstance(value, tuple):
        return any(_contains_missing(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_missing(v) for v in value.values())
    return False


def _students(view, runs):
    """The student's values of this part on every run, or None when some run raised or lacks the part."""
    values = []
    for run in runs:
        if run.student is None:
            return None
        v = view.value(run.student)
        if v is MISSING:
            return None
        values.append(v)
    return values


def _fits(view, runs, students, predict, factor=lambda run: 1.0):
    """Does predict(run) (the part's predicted value, MISSING: not applicable) agree with the student on every run?"""
    for run, got in zip(runs, students):
        want = predict(run)
        if want is MISSING or _contains_missing(want):
            return False
        if not agree(got, want, view.tols(run.tols), factor(run)):
            return False
    return True


# --- the exact shapes: hypotheses that predict the student's values ---------------------------

@dataclass(frozen=True)
class Hypothesis:
    """id; predict(view, run) -> the part's predicted value or MISSING; what: completes "your dx is ...";
    hint; factor(run): the factor between the prediction and the reference, for the tolerance."""
    id: str
    predict: object
    what: str
    hint: str
    factor: object = None


def _sizes_factor(symbols, invert):
    def factor(run):
        sizes = run.case.sizes
        if not all(isinstance(sizes.get(s), (int, np.integer)) for s in symbols):
            return None
        value = float(np.prod([sizes[s] for s in symbols]))
        return 1.0 / value if invert else value
    return factor


def _constant(c):
    return lambda run: c


# (id, factor(run) -> float or None, what it is, hint)
FACTORS = (
    ("divided-by-N", _sizes_factor("N", True), "the reference divided by N (the batch size)",
     "a mean over the batch where the sum belongs: a quantity shared by the whole batch (a weight, a bias) "
     "gets every sample's share added up, and the contract divides by N at most once."),
    ("multiplied-by-N", _sizes_factor("N", False), "the reference multiplied by N (the batch size)",
     "a sum over the batch where the mean belongs, or the division by N left out."),
    ("divided-by-T", _sizes_factor("T", True), "the reference divided by T (the number of time steps)",
     "a mean over the time steps where the sum belongs: every time step contributes its full share."),
    ("multiplied-by-T", _sizes_factor("T", False), "the reference multiplied by T (the number of time steps)",
     "a sum over the time steps where one step's value belongs, or a term counted once per step."),
    ("divided-by-NT", _sizes_factor("NT", True), "the reference divided by N*T",
     "a mean over every time step of every sample, where the sum belongs (the contract divides by N at most, "
     "never by T)."),
    ("multiplied-by-NT", _sizes_factor("NT", False), "the reference multiplied by N*T",
     "a sum over the time steps and the batch where a single value (or a mean) belongs."),
    ("doubled", _constant(2.0), "twice the reference",
     "something is counted twice: a term added in two places, or a factor 2 that does not belong."),
    ("halved", _constant(0.5), "half the reference",
     "a factor 1/2 too many, or one of two equal contributions left out."),
    ("sign-flipped", _constant(-1.0), "the reference with the opposite sign",
     "check the sign of the term that gives it: a difference taken the wrong way round, or a minus sign lost."),
)


def _scaled(factor):
    def predict(view, run):
        c = factor(run)
        if c is None:
            return MISSING
        return _map_leaves(view.value(run.expected), lambda path, a: c * a)
    return predict


def _zeros(view, run):
    return _map_leaves(view.value(run.expected), lambda path, a: np.zeros_like(a))


def _transposed(view, run):
    return _map_leaves(view.value(run.expected), lambda path, a: np.swapaxes(a, -1, -2).copy() if a.ndim >= 2 else a)


def _has_matrices(view, runs):
    return any(type(leaf) is np.ndarray and leaf.ndim >= 2 for run in runs for _, leaf in leaves(view.value(run.expected)))


def time_axis(shape, sizes):
    """The time axis of an array of this shape (1 for (N, T, ...), 0 for (T,) or (T, T)), or None."""
    N, T = sizes.get("N"), sizes.get("T")
    if not isinstance(T, (int, np.integer)) or len(shape) == 0:
        return None
    if len(shape) >= 2 and shape[:2] == (N, T):
        return 1
    return 0 if shape[0] == T and (len(shape) == 1 or shape[:2] == (T, T)) else None


def time_axes(view, runs):
    """{leaf path: time axis} of this part, for leaves whose time axis is the same on every case with
    T > 1 (a (N, H) array with N = T = 1 is not taken for a time series)."""
    axes = {}
    for run in runs:
        T = run.case.sizes.get("T")
        if not isinstance(T, (int, np.integer)) or T <= 1:
            continue
        for path, leaf in leaves(view.value(run.expected)):
            axis = time_axis(leaf.shape, run.case.sizes) if type(leaf) is np.ndarray else None
            axes[path] = axis if axes.get(path, axis) == axis else None
    return {path: axis for path, axis in axes.items() if axis is not None}


def _along_time(axes, f):
    """A prediction applying f(array, axis) to the reference's leaves that have a time axis."""
    def predict(view, run):
        def apply(path, a):
            axis = axes.get(path)
            return a if axis is None or a.ndim <= axis else f(a, axis, view, run, path)
        return _map_leaves(view.value(run.expected), apply)
    return predict


def _reverse(a, axis, view, run, path):
    return np.flip(a, axis=axis).copy()


def _argument_leaves(run):
    return [leaf for _, leaf in leaves(run.case.args) if type(leaf) is np.ndarray and leaf.dtype.kind == "f"]


def _shifted(step, fill):
    """f for _along_time: each time step holds the reference's value of step t - step (step = 1: later;
    -1: earlier). fill: what the step shifted in holds: "zeros", "wrap" (the value from the other end)
    or "argument" (an input of that shape, such as h0)."""
    def shift(a, axis, view, run, path):
        out = np.roll(a, step, axis=axis)
        edge = [slice(None)] * a.ndim
        edge[axis] = 0 if step > 0 else -1
        edge = tuple(edge)
        if fill == "zeros":
            out[edge] = 0.0
        elif fill == "argument":
            got = view.value(run.student)
            student_leaf = MISSING if got is MISSING else dict(leaves(got)).get(path)
            if type(student_leaf) is not np.ndarray or student_leaf.shape != a.shape:
                return MISSING
            match = [arg for arg in _argument_leaves(run) if arg.shape == out[edge].shape
                     and np.allclose(arg, student_leaf[edge], rtol=0, atol=1e-12 * max(1.0, np.abs(arg).max()))]
            if not match:
                return MISSING
            out[edge] = match[0]
        return out
    return shift


def _generic_hypotheses(view, others, runs):
    """The exact shapes that apply to this part (factors, zeros, transpose, time reversal and shifts, swaps)."""
    found = []
    for fid, factor, what, hint in FACTORS:
        values = [factor(run) for run in runs]
        if all(v is not None for v in values) and any(abs(v - 1.0) > 1e-12 for v in values):
            found.append(Hypothesis(fid, _scaled(factor), what, hint, factor))
    found.append(Hypothesis("zero", _zeros, "all zeros",
                            "nothing ever reaches it: check that it is computed and stored (an accumulation "
                            "that never runs, a result kept in another variable, an array returned before it "
                            "is filled)."))
    if _has_matrices(view, runs):
        found.append(Hypothesis("transposed", _transposed, "the transpose of the reference",
                                "the right numbers with rows and columns swapped: check the order of the two "
                                "factors of the product that gives it, and which index is the row."))
    axes = time_axes(view, runs)
    if axes:
        found.append(Hypothesis("time-reversed", _along_time(axes, _reverse),
                                "the reference with its time steps in reverse order",
                                "step t holds what belongs at step T-1-t: check the direction of the time loop "
                                "and the index at which each step's result is stored."))
        for step, word, hint in ((1, "later", "each step holds the value of the step before it: check which "
                                  "step's result is stored at t (stored before the update, or at t + 1)."),
                                 (-1, "earlier", "each step holds the value of the step after it: check which "
                                  "step's result is stored at t (an index t + 1 or t - 1 where t belongs).")):
            edge = "the first step" if step > 0 else "the last step"
            for fill, holds in (("zeros", "zeros"), ("wrap", "the value of the other end"),
                                ("argument", "one of the inputs")):
                found.append(Hypothesis(f"shifted-{word}", _along_time(axes, _shifted(step, fill)),
                                        f"the reference shifted one time step {word} (step t holds the "
                                        f"reference's step t {'-' if step > 0 else '+'} 1, {edge} {holds})", hint))
    for other in others:
        if other.name != view.name:
            found.append(Hypothesis(f"holds:{other.name}", lambda v, run, o=other: o.value(run.expected),
                                    f"the reference's {other.name}",
                                    "check the order in which the outputs are returned (and unpacked)."))
    return found


def _relation_hypotheses(name, view):
    """The function-specific relations of relations.py that speak about this part."""
    found = []
    for rel in relations.relations_for(name):
        if rel.outputs is not None and view.index not in rel.outputs:
            continue
        found.append(Hypothesis(f"equals:{rel.id}", lambda v, run, r=rel: _predicted(r, run, v), rel.what, rel.hint))
    return found


def _predicted(rel, run, view):
    if rel.id not in run.memo:
        try:
            run.memo[rel.id] = rel.predict(*prepare_args(run.case.args))
        except Exception:                # a relation that does not apply to these inputs predicts nothing
            run.memo[rel.id] = MISSING
    outputs = run.memo[rel.id]
    return MISSING if outputs is MISSING else view.value(outputs)


# --- the fallbacks: overflow, a factor per case, a regime of cases ----------------------------

def _input_magnitude(run):
    return max((float(np.max(np.abs(a), initial=0.0)) for a in _argument_leaves(run) if np.all(np.isfinite(a))),
               default=0.0)


def _finite(value):
    return all(np.all(np.isfinite(_array(leaf))) for _, leaf in leaves(value) if _array(leaf) is not None)


def _overflow(view, runs, students):
    large = [_input_magnitude(run) >= LARGE_INPUT for run in runs]
    if not any(large) or all(large):
        return None
    for run, got, right, is_large in zip(runs, students, view.right, large):
        if is_large and _finite(got):
            return None
        if not is_large and not right:
            return None
    cases = [run.case for run, is_large in zip(runs, large) if is_large]
    where = ", ".join(f"case {c.index} '{c.label}'" for c in cases)
    biggest = max(_input_magnitude(run) for run, is_large in zip(runs, large) if is_large)
    return Symptom(view.name, "overflow", "inf or nan for large inputs",
                   f"inf or nan in {where} (inputs up to about {biggest:.0e}) and right on every other case",
                   "an intermediate overflows (the exponential of a large number is inf, and inf - inf or "
                   "inf / inf is nan): rewrite the computation so that every intermediate stays finite "
                   "(softmax does not change when the same number is subtracted from every score).")


def _factor_per_case(view, runs, students):
    """One number per case times the reference: (factors, their cases), or None."""
    factors = []
    for run, got in zip(runs, students):
        ref = view.value(run.expected)
        pairs = [(_array(g), _array(r)) for (_, g), (_, r) in zip(leaves(got), leaves(ref))]
        if len(leaves(got)) != len(leaves(ref)) or any(g is None or r is None or np.shape(g) != np.shape(r)
                                                         for g, r in pairs):
            return None
        flat_g = np.concatenate([np.ravel(g) for g, _ in pairs])
        flat_r = np.concatenate([np.ravel(r) for _, r in pairs])
        if not (np.all(np.isfinite(flat_g)) and np.all(np.isfinite(flat_r))):
            return None
        norm = float(flat_r @ flat_r)
        alpha = float(flat_g @ flat_r) / norm if norm > 0 else 1.0
        if abs(alpha - 1.0) > 1e-9 and np.count_nonzero(flat_r) < MIN_ENTRIES or abs(alpha) < 1e-9:
            return None           # too few numbers to speak of a direction, or zeros (not a scale)
        if not agree(got, _map_leaves(ref, lambda p, a: alpha * a), view.tols(run.tols), alpha):
            return None
        factors.append(alpha)
    if all(abs(a - 1.0) <= 1e-6 for a in factors):
        return None
    return factors


def _per_case_factor(view, runs, students):
    factors = _factor_per_case(view, runs, students)
    if factors is None:
        return None
    off = [(a, run.case) for a, run in zip(factors, runs) if abs(a - 1.0) > 1e-6]
    ones = [run.case.index for a, run in zip(factors, runs) if abs(a - 1.0) <= 1e-6]
    shown = "; ".join(f"x {a:.4g} in case {c.index} '{c.label}'" for a, c in off)
    if ones:
        shown += f"; x 1 in case{'s' if len(ones) > 1 else ''} {', '.join(map(str, ones))}"
    return Symptom(view.name, "factor-per-case", "the reference times a wrong factor",
                   f"the reference multiplied by one number per case: {shown}",
                   "the direction is right and the size is not: check the factor it is scaled by "
                   "(a division or a normalisation, and the cases in which it applies).")


# (label, predicate(sizes) -> bool or None (size missing), what such cases hide, hint when the part is
# right only there, hint when it is wrong only there (None: not used))
GENERIC_CONDITIONS = (
    ("T = 1", lambda s: s["T"] == 1, "nothing passes from one time step to another",
     "with one time step nothing passes from one step to another: the bug is in what the steps share "
     "(the carried gradient or state, the direction or bounds of the time loop, which step's state is used).",
     "something breaks when there is a single time step: look at the first and the last step (loop bounds, "
     "an index t - 1 or t + 1, an array that loses its time axis)."),
    ("N = 1", lambda s: s["N"] == 1, "sums, means and per-sample operations over the batch coincide",
     "with one sample, sums, means and per-sample operations over the batch coincide: check how the samples "
     "are combined (the axis summed over, a mean where a sum belongs, a norm per sample).",
     "something breaks for a batch of one: look for an axis that disappears (a squeeze, an index 0) or a "
     "sum over the wrong axis."),
    ("D == H", lambda s: s["D"] == s["H"], "a (D, H) matrix and its transpose have the same shape",
     "a (D, H) matrix used as an (H, D) one, or D taken for H, goes unnoticed when D == H: look for a missing "
     "or extra transpose, or a size taken from the wrong array.", None),
)


def _conditions(name):
    return GENERIC_CONDITIONS + tuple(relations.conditions_for(name))


def _holds(predicate, sizes):
    try:
        return bool(predicate(sizes))
    except KeyError:
        return None


def _regime(name, view, runs):
    """Right on exactly the cases of a condition and wrong on all others (or the reverse). Conditions
    that pick out the same cases are named together: those cases hide either kind of bug."""
    right = tuple(view.right)
    if all(right) or not any(right):
        return None
    wrong = tuple(not r for r in right)
    where_right, where_wrong = [], []
    for label, predicate, hides, hint_right, hint_wrong in _conditions(name):
        holds = tuple(_holds(predicate, run.case.sizes) for run in runs)
        if None in holds:
            continue
        if holds == right:
            where_right.append((label, hides, hint_right))
        elif holds == wrong:
            where_wrong.append((label, hides, hint_wrong))
    if bool(where_right) == bool(where_wrong) or any(hint is None for _, _, hint in where_wrong):
        return None
    kind, found, holds = (("right", where_right, right) if where_right else ("wrong", where_wrong, wrong))
    labels = " and ".join(label for label, _, _ in found)
    if len(found) == 1:
        hint = found[0][2]
    else:
        hint = ("in those cases " + ", and ".join(hides for _, hides, _ in found)
                + f": the bug is of one of these kinds (these cases cannot tell which).")
    cases = ", ".join(str(run.case.index) for run, h in zip(runs, holds) if h)
    other = "wrong" if kind == "right" else "right"
    return Symptom(view.name, f"{kind}-only-when:{labels}", f"{kind} only when {labels}",
                   f"{kind} on the cases with {labels} (case {cases}) and {other} on all the others", hint)


# --- diagnosis --------------------------------------------------------------------------

def _exact(name, view, others, runs, students):
    """The one exact hypothesis that agrees on every case, as a Symptom, or None (none, or several)."""
    fitting = {}
    for hyp in _relation_hypotheses(name, view) + _generic_hypotheses(view, others, runs):
        if hyp.id in fitting:
            continue
        factor = hyp.factor or (lambda run: 1.0)
        if _fits(view, runs, students, lambda run, h=hyp: h.predict(view, run), factor):
            fitting[hyp.id] = hyp
    if len(fitting) != 1:
        return None
    (hyp,) = fitting.values()
    return Symptom(view.name, hyp.id, hyp.what, f"{hyp.what}, on every case", hyp.hint)


def diagnose_part(name, view, others, runs):
    """The Symptom of one failing output part, or None."""
    students = _students(view, runs)
    if students is None:
        return None
    return (_exact(name, view, others, runs, students) or _overflow(view, runs, students)
            or _per_case_factor(view, runs, students) or _regime(name, view, runs))


def diagnose(name, views, others, runs):
    """The symptoms of the failing parts `views` of graded function `name`, in the order of the parts."""
    found = []
    for view in views:
        try:
            found.append(diagnose_part(name, view, others, runs))
        except Exception:         # a value no hypothesis foresaw: no name (the location feedback stays)
            found.append(None)
    return [s for s in found if s is not None]
