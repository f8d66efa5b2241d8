"""Grading one function: run the cases, compare every output, score, diagnose, explain.

`grade_function(name, evaluate, seed) -> FunctionReport`. `evaluate` is any
evaluator (see evaluate.py); the reference and the known mistakes always run
here, in the grader's process. Legend: N batch, T time steps, D input size,
H hidden size, V vocabulary, k truncation length.

Scoring. Each function's result is split into parts; a part scores its weight
when it is right on every case it is checked on; the fraction is the sum of
the weights scored. "arguments unchanged" and the expected-error part score
only when, besides, at least one output part scored (a stub that raises
ValueError or does nothing earns nothing).

| function                     | parts and weights                                                  |
|------------------------------|--------------------------------------------------------------------|
| rnn_step_forward             | h_next 0.6, cache 0.3, arguments unchanged 0.1                     |
| rnn_forward                  | h 0.6, cache 0.3, arguments unchanged 0.1                          |
| numerical_gradient           | grad 0.9, arguments unchanged 0.1                                  |
| rnn_step_backward            | dx_t, dh_prev, dWx, dWh, db 0.18 each, arguments unchanged 0.1     |
| rnn_backward,                | dx 0.2, dh0 0.15, dWx 0.2, dWh 0.2, db 0.15,                       |
|  rnn_backward_truncated,     |  arguments unchanged 0.1                                           |
|  rnn_backward_chunked,       |                                                                    |
|  rnn_backward_weighted,      |                                                                    |
|  rnn_backward_checkpointed   |                                                                    |
| gradient_contributions       | C 0.9, arguments unchanged 0.1                                     |
| step_jacobians               | J 0.9, arguments unchanged 0.1                                     |
| gradient_norms_through_time  | norms 0.9, arguments unchanged 0.1                                 |
| scale_to_spectral_radius     | W_scaled 0.7, ValueError for spectral radius 0 0.2, arguments 0.1  |
| clip_grad_norm               | clipped 0.5, total_norm 0.4, arguments unchanged 0.1               |
| lstm_step_forward            | h_next 0.35, c_next 0.3, cache 0.25, arguments unchanged 0.1       |
| lstm_forward                 | h 0.6, cache 0.3, arguments unchanged 0.1                          |
| lstm_step_backward           | dx_t, dh_prev, dc_prev, dWx, dWh, db 0.15 each, arguments 0.1      |
| lstm_backward                | dx, dh0, dc0, dWx, dWh, db 0.15 each, arguments unchanged 0.1      |
| temporal_softmax_loss        | loss 0.45, dscores 0.45, arguments unchanged 0.1                   |
| temporal_affine_forward      | scores 0.6, cache 0.3, arguments unchanged 0.1                     |
| temporal_affine_backward     | dh 0.3, dWy 0.3, dby 0.3, arguments unchanged 0.1                  |
| lm_loss_and_grads            | loss 0.2, grads['Wx'] 0.15, grads['Wh'] 0.15, grads['b'] 0.1,      |
|                              |  grads['Wy'] 0.1, grads['by'] 0.1, h_last 0.1, arguments 0.1       |

A part may also be one entry of a returned dict (lm_loss_and_grads: each
gradient of grads is its own part).

Isolation: while F runs, the graded functions F may build on (STAND_INS[F])
are the reference's, and backward functions get caches from the reference
forward pass, so one bug costs marks in one function only. Only building
blocks stand in, never a function that can compute F by itself (rnn_backward
is not a stand-in for rnn_step_backward: a one-step cache would hand over the
answer; nor rnn_backward_truncated for rnn_backward: k = T would; nor
rnn_backward or rnn_backward_chunked for rnn_backward_weighted: xi all ones or
zeros at the chunk starts would). rnn_backward_checkpointed is the exception
that proves the rule: its outputs are by definition those of rnn_forward +
rnn_backward, its point is the memory it keeps, which outputs cannot show (the
notebook's self-check measures it with tracemalloc); so the forward and backward
passes stand in as the building blocks they are. A function called beyond these
is the student's own.

Diagnosis: when a part is wrong, every known mistake of F (mistakes/) is run
on the same inputs; a mistake is named when the student's values agree with
it on every case in every part the mistake gets wrong (so two mistakes that
spoil different parts are both named; the most parts explained come first).
Each failing part that no named mistake explains is then diagnosed by
symptom (symptoms.py, relations.py): a shape of wrongness that explains its
values on every case (a factor N, a transpose, time steps reversed, another
graded function's result, right only for T = 1, ...) is named with a hint.
Always, the feedback says which output differs, where (time steps or
entries), by how much, and the sizes and seed that reproduce the case; never
the inputs' or the expected values.
"""
import time
from dataclasses import dataclass, field

import numpy as np

from . import compare
from .cases import GRADED, cases_for
from .evaluate import in_process, prepare_args, to_plain
from .mistakes import mistakes_for, namespace_with
from .symptoms import MISSING, CaseRun, PartView, diagnose as diagnose_parts

ARGS = "arguments unchanged"
ERROR = "error"          # a part checked on the cases that must raise
CONDITIONAL = (ARGS, ERROR)   # parts earned only together with at least one right output


@dataclass(frozen=True)
class Part:
    """One scored piece of a function's result: select is the index in the returned tuple,
    a path of indices and dict keys into it (e.g. (1, "Wx"): item 1 of the tuple, its key "Wx"),
    None for the whole (single) return value, ERROR for expected exceptions, ARGS for arguments."""
    name: str
    weight: float
    select: object


# Names of the items of the caches, for messages such as "cache[4] (h_next) is wrong".
STEP_CACHE = ("x_t", "h_prev", "Wx", "Wh", "h_next")
SEQUENCE_CACHE = ("x", "h0", "Wx", "Wh", "h")
CACHE_ITEMS = {"rnn_step_forward": STEP_CACHE, "rnn_forward": SEQUENCE_CACHE,
               "temporal_affine_forward": ("h", "Wy")}
# --- LSTM (notebook 05)
LSTM_STEP_CACHE = ("x_t", "h_prev", "c_prev", "Wx", "Wh", "gates", "c_next")
LSTM_SEQUENCE_CACHE = ("x", "h0", "c0", "Wx", "Wh", "gates", "c", "h")
CACHE_ITEMS.update({"lstm_step_forward": LSTM_STEP_CACHE, "lstm_forward": LSTM_SEQUENCE_CACHE})


def _argument_name(name, position):
    """The name of the reference's positional parameter number `position` (0-based)."""
    import inspect
    params = list(inspect.signature(_reference(name)).parameters)
    return params[position] if position < len(params) else f"number {position + 1}"


def _name_cache_items(name, message):
    items = CACHE_ITEMS.get(name, ())
    for i, item in enumerate(items):
        message = message.replace(f"cache[{i}] ", f"cache[{i}] ({item}) ", 1)
    return message


# The graded functions that a student's F may call and that the reference replaces while F is checked.
STAND_INS = {
    "rnn_step_forward": (),
    "rnn_forward": ("rnn_step_forward",),
    "numerical_gradient": (),
    "rnn_step_backward": (),
    "rnn_backward": ("rnn_step_backward",),
    "gradient_contributions": ("rnn_step_forward", "rnn_forward", "rnn_step_backward"),
    "rnn_backward_truncated": ("rnn_step_backward", "rnn_backward"),
    "rnn_backward_chunked": ("rnn_step_backward", "rnn_backward"),
    # truncation, completed (notebook 03)
    "rnn_backward_weighted": ("rnn_step_backward",),
    "rnn_backward_checkpointed": ("rnn_step_forward", "rnn_forward", "rnn_backward"),
    # end of truncation, completed
    "step_jacobians": (),
    "gradient_norms_through_time": ("rnn_step_backward", "step_jacobians"),
    "scale_to_spectral_radius": (),
    "clip_grad_norm": (),
    # --- LSTM (notebook 05): the step functions stand in for the sequence functions built on them
    "lstm_step_forward": (),
    "lstm_forward": ("lstm_step_forward",),
    "lstm_step_backward": (),
    "lstm_backward": ("lstm_step_backward",),
    # ---
    "temporal_softmax_loss": (),
    # --- language model, assembled (notebook 06): the model's building blocks stand in for lm_loss_and_grads
    "temporal_affine_forward": (),
    "temporal_affine_backward": (),
    "lm_loss_and_grads": ("rnn_step_forward", "rnn_forward", "rnn_step_backward", "rnn_backward",
                          "temporal_softmax_loss", "temporal_affine_forward", "temporal_affine_backward"),
    # --- end language model
}


def _tuple_parts(names, weights):
    return tuple(Part(n, w, i) for i, (n, w) in enumerate(zip(names, weights))) + (Part(ARGS, 0.1, ARGS),)


_BACKWARD = _tuple_parts(("dx", "dh0", "dWx", "dWh", "db"), (0.2, 0.15, 0.2, 0.2, 0.15))

PARTS = {
    "rnn_step_forward": _tuple_parts(("h_next", "cache"), (0.6, 0.3)),
    "rnn_forward": _tuple_parts(("h", "cache"), (0.6, 0.3)),
    "numerical_gradient": (Part("grad", 0.9, None), Part(ARGS, 0.1, ARGS)),
    "rnn_step_backward": _tuple_parts(("dx_t", "dh_prev", "dWx", "dWh", "db"), (0.18,) * 5),
    "rnn_backward": _BACKWARD,
    "gradient_contributions": (Part("C", 0.9, None), Part(ARGS, 0.1, ARGS)),
    "rnn_backward_truncated": _BACKWARD,
    "rnn_backward_chunked": _BACKWARD,
    # truncation, completed (notebook 03)
    "rnn_backward_weighted": _BACKWARD,
    "rnn_backward_checkpointed": _BACKWARD,
    # end of truncation, completed
    "step_jacobians": (Part("J", 0.9, None), Part(ARGS, 0.1, ARGS)),
    "gradient_norms_through_time": (Part("norms", 0.9, None), Part(ARGS, 0.1, ARGS)),
    "scale_to_spectral_radius": (Part("W_scaled", 0.7, None),
                                 Part("ValueError for spectral radius 0", 0.2, ERROR), Part(ARGS, 0.1, ARGS)),
    "clip_grad_norm": _tuple_parts(("clipped", "total_norm"), (0.5, 0.4)),
    # --- LSTM (notebook 05)
    "lstm_step_forward": _tuple_parts(("h_next", "c_next", "cache"), (0.35, 0.3, 0.25)),
    "lstm_forward": _tuple_parts(("h", "cache"), (0.6, 0.3)),
    "lstm_step_backward": _tuple_parts(("dx_t", "dh_prev", "dc_prev", "dWx", "dWh", "db"), (0.15,) * 6),
    "lstm_backward": _tuple_parts(("dx", "dh0", "dc0", "dWx", "dWh", "db"), (0.15,) * 6),
    # ---
    "temporal_softmax_loss": _tuple_parts(("loss", "dscores"), (0.45, 0.45)),
    # --- language model, assembled (notebook 06): every gradient of the dict is its own part
    "temporal_affine_forward": _tuple_parts(("scores", "cache"), (0.6, 0.3)),
    "temporal_affine_backward": _tuple_parts(("dh", "dWy", "dby"), (0.3, 0.3, 0.3)),
    "lm_loss_and_grads": (Part("loss", 0.2, 0),
                          *(Part(f"grads[{key!r}]", w, (1, key)) for key, w in
                            (("Wx", 0.15), ("Wh", 0.15), ("b", 0.1), ("Wy", 0.1), ("by", 0.1))),
                          Part("h_last", 0.1, 2), Part(ARGS, 0.1, ARGS)),
    # --- end language model
}


@dataclass
class PartResult:
    name: str
    weight: float
    passed: bool
    message: str = ""          # why it failed, for the first failing case


@dataclass
class FunctionReport:
    """The verdict on one graded function.

    fraction: the weighted share of parts right, in [0, 1]; parts: one PartResult each;
    mistakes: ids of the known mistakes the student's outputs match (best first);
    feedback: the text shown to the student; cases: what each case was (sizes, no values);
    error: the first exception the function raised where none was expected, "Type: message", or None;
    symptoms: symptoms.Symptom of the failing parts no named mistake explains (in the order of the parts).
    """
    name: str
    seed: int
    fraction: float
    parts: list = field(default_factory=list)
    mistakes: list = field(default_factory=list)
    feedback: str = ""
    cases: list = field(default_factory=list)
    error: str = None
    seconds: float = 0.0
    symptoms: list = field(default_factory=list)

    @property
    def passed(self):
        return self.fraction >= 1.0


# --- running the reference ---------------------------------------------------------

def _reference(name):
    import solutions
    return getattr(solutions, name)


def _reference_run(name, case):
    """(reference outputs as plain data, {leaf path: tolerance}) for one case (None, {} if it must raise)."""
    if case.expect_error:
        return None, {}
    ref = _reference(name)
    expected = to_plain(ref(*prepare_args(case.args)))
    others = []
    for j in range(2):
        rng = np.random.default_rng([case.seed, case.index, 7919, j])
        others.append(to_plain(ref(*prepare_args(compare.perturbed(case.args, rng)))))
    spread = compare.spreads(expected, others)
    tols = {path: compare.tolerance(leaf, spread[path]) for path, leaf in compare.leaves(expected)}
    return expected, tols


def _root(part):
    """The path of this part inside the returned value: () for the whole value, (i,) or a longer path."""
    if part.select in (None, ARGS, ERROR):
        return ()
    return part.select if isinstance(part.select, tuple) else (part.select,)


def _within(paths, part):
    """The entries of `paths` (a dict keyed by leaf path, or a sequence of paths) under this part, re-rooted."""
    root = _root(part)
    if isinstance(paths, dict):
        return {p[len(root):]: v for p, v in paths.items() if p[:len(root)] == root}
    return tuple(p[len(root):] for p in paths if p[:len(root)] == root)


def _time_axis_paths(expected, case):
    N, T = case.sizes.get("N"), case.sizes.get("T")
    if N is None or T is None:
        return ()
    return tuple(path for path, leaf in compare.leaves(expected)
                 if isinstance(leaf, np.ndarray) and leaf.ndim >= 2 and leaf.shape[:2] == (N, T))


# --- checking one part on one case ------------------------------------------------

def _error_text(outcome):
    return f"{outcome.error_type}: {outcome.error}"


def _select(outputs, expected, part):
    """(value of this part, its reference, None), or (None, None, Mismatch) when the return value has the
    wrong structure on the way to the part (a tuple of the wrong length, a dict without the part's key)."""
    value, ref = outputs, expected
    for step in _root(part):
        if isinstance(step, str):
            if type(value) is not dict or step not in value:
                return None, None, compare.Mismatch(f"should return, as item {_root(part)[0]}, a dict with the "
                                                    f"keys {sorted(ref)}; got {compare.describe_type(value)}")
        elif type(value) is not tuple or len(value) != len(ref):
            n = len(ref)
            return None, None, compare.Mismatch(f"should return a tuple of {n} items; got "
                                                f"{compare.describe_type(value)}")
        value, ref = value[step], ref[step]
    return value, ref, None


def check_part(name, part, case, outcome, expected, tols):
    """None when `part` is right on `case`, else a Mismatch; `expected`, `tols` from _reference_run."""
    if part.select == ERROR:
        if outcome.error_type == case.expect_error:
            return None
        got = f"raised {_error_text(outcome)}" if outcome.error_type else "returned normally"
        return compare.Mismatch(f"{name} should raise {case.expect_error} here ({case.label}); it {got}")
    if part.select == ARGS:
        if len(outcome.args_after) != len(case.args):
            return compare.Mismatch(f"the arguments of {name} after the call were not reported, so they "
                                    f"could not be checked (a grader problem: tell your instructor)")
        changed = compare.unchanged(case.args, outcome.args_after)
        if changed is None:
            return None
        return compare.Mismatch(f"{name} modified its argument {_argument_name(name, changed)} in place; "
                                f"work on new arrays (e.g. a copy) instead")
    if outcome.error_type:
        return compare.Mismatch(f"{name} raised {_error_text(outcome)}")
    value, ref, problem = _select(outcome.outputs, expected, part)
    if problem:
        return compare.Mismatch(f"{name} {problem.message}")
    mismatch = compare.compare_value(part.name, value, ref, _within(tols, part),
                                     _within(_time_axis_paths(expected, case), part))
    if mismatch:
        mismatch.message = _name_cache_items(name, mismatch.message)
    return mismatch


def _relevant(part, case):
    return (part.select == ERROR) == bool(case.expect_error) or part.select == ARGS


# --- matching known mistakes --------------------------------------------------------

def _part_value(outcome, part):
    """What an Outcome shows for one part, tagged: ("value", v), ("error", type), ("args", after), ..."""
    if part.select == ARGS:
        return ("args", outcome.args_after)
    if outcome.error_type:
        return ("error", outcome.error_type)
    if part.select == ERROR:
        return ("returned",)
    value = outcome.outputs
    for step in _root(part):
        fits = (type(value) is dict and step in value) if isinstance(step, str) else \
            (type(value) is tuple and step < len(value))
        if not fits:
            return ("structure", compare.describe_type(value))
        value = value[step]
    return ("value", value)


def _agree(a, b, tols, part):
    """Do two _part_value results agree (same error, same structure, or values within the tolerances)?"""
    (kind_a, *va), (kind_b, *vb) = a, b
    if kind_a != kind_b:
        return False
    if kind_a in ("error", "structure", "returned"):
        return va == vb
    return compare.same_value(va[0], vb[0], {} if part.select == ARGS else _within(tols, part))


def match_mistakes(name, parts, runs, failing, stand_ins):
    """Ids of the known mistakes that explain the failing parts (best first).

    runs: [(case, outcome, expected, tols)] of the student; failing: set of part names.
    """
    return [mid for mid, _ in explaining_mistakes(name, parts, runs, failing, stand_ins)]


def explaining_mistakes(name, parts, runs, failing, stand_ins):
    """[(mistake id, set of the part names it explains)] of the known mistakes that match (best first)."""
    found = []
    for mistake in mistakes_for(name):
        evaluate = in_process(namespace_with(mistake))
        outcomes = [evaluate(name, case.args, stand_ins) for case, _, _, _ in runs]
        explained, wrong = set(), set()
        for part in parts:
            relevant = [(r, o) for r, o in zip(runs, outcomes) if _relevant(part, r[0])]
            if not any(check_part(name, part, case, o, exp, tols) for (case, _, exp, tols), o in relevant):
                continue
            wrong.add(part.name)
            if part.name in failing and all(_agree(_part_value(s, part), _part_value(o, part), tols, part)
                                            for (case, s, exp, tols), o in relevant):
                explained.add(part.name)
        if explained and explained == wrong:
            found.append((mistake.id, explained))
    found.sort(key=lambda item: -len(item[1]))
    return found


# --- diagnosis by symptom ---------------------------------------------------------------

def _part_of(outputs, part):
    """One part of a return value shaped like the reference's, or MISSING when its structure lacks it.

    part.select: None (the whole value), a position in the returned tuple, or a tuple of positions
    and dict keys (a nested part such as (1, "Wx")).
    """
    if part.select is None:
        return outputs
    value = outputs
    for key in (part.select if isinstance(part.select, tuple) else (part.select,)):
        if isinstance(key, int) and type(value) is tuple and 0 <= key < len(value):
            value = value[key]
        elif isinstance(key, str) and type(value) is dict and key in value:
            value = value[key]
        else:
            return MISSING
    return value


def diagnose_symptoms(name, parts, runs, wrong_at, diagnosed):
    """symptoms.Symptom of the parts named in `diagnosed` (see symptoms.py).

    runs: [(case, outcome, expected, tols)]; wrong_at: {part name: indices of the cases where it fails}.
    """
    value_parts = [p for p in parts if p.select not in CONDITIONAL]
    output_runs = [(case, outcome, exp, tols) for case, outcome, exp, tols in runs if not case.expect_error]
    case_runs = [CaseRun(case, None if outcome.error_type else outcome.outputs, exp, tols)
                 for case, outcome, exp, tols in output_runs]
    views = [PartView(p.name, p.select, lambda out, p=p: _part_of(out, p), lambda tols, p=p: _within(tols, p),
                      tuple(case.index not in wrong_at.get(p.name, ()) for case, _, _, _ in output_runs))
             for p in value_parts]
    return diagnose_parts(name, [v for v in views if v.name in diagnosed], views, case_runs)


# --- the whole function ---------------------------------------------------------------

def grade_function(name, evaluate, seed, diagnose=True):
    """Grade graded function `name` with evaluator `evaluate` on the cases drawn from `seed`."""
    if name not in PARTS:
        raise KeyError(f"{name!r} is not a graded function; graded functions are {', '.join(GRADED)}")
    start = time.perf_counter()
    stand_ins = STAND_INS[name]
    cases = cases_for(name, seed)
    runs = []
    for case in cases:
        expected, tols = _reference_run(name, case)
        runs.append((case, evaluate(name, case.args, stand_ins), expected, tols))
    parts = PARTS[name]
    first_problem, failing_cases, wrong_at = {}, {}, {}
    for part in parts:
        problems = [(case, m) for case, outcome, exp, tols in runs if _relevant(part, case)
                    for m in [check_part(name, part, case, outcome, exp, tols)] if m]
        if problems:
            first_problem[part.name] = problems[0]
            failing_cases.update((case.index, case) for case, _ in problems)
            wrong_at[part.name] = {case.index for case, _ in problems}
    any_output = any(p.name not in first_problem for p in parts if p.select not in CONDITIONAL)
    results = []
    for part in parts:
        problem = first_problem.get(part.name)
        earned = problem is None and (any_output or part.select not in CONDITIONAL)
        message = problem[1].message if problem else ("" if earned else "earned together with a right output")
        results.append(PartResult(part.name, part.weight, earned, message))
    fraction = round(sum(r.weight for r in results if r.passed), 10)
    errors = [o for case, o, _, _ in runs if o.error_type and o.error_type != case.expect_error]
    report = FunctionReport(name, seed, min(1.0, fraction), results, [], "",
                            [c.describe() for c in cases], _error_text(errors[0]) if errors else None)
    stub = errors and all(o.error_type == "NotImplementedError" for _, o, _, _ in runs)
    failing = set(first_problem)
    if diagnose and failing and not stub:
        found = explaining_mistakes(name, parts, runs, failing, stand_ins)
        report.mistakes = [mid for mid, _ in found]
        explained = set().union(*(parts_ for _, parts_ in found))
        report.symptoms = diagnose_symptoms(name, parts, runs, wrong_at, failing - explained)
    smallest = min(failing_cases.values(), key=_case_size, default=None)
    report.feedback = feedback_text(report, first_problem, stub, smallest)
    report.seconds = time.perf_counter() - start
    return report


def _case_size(case):
    """How many numbers a case's arrays hold: the smallest failing case is the one to reproduce."""
    return sum(leaf.size for _, leaf in compare.leaves(case.args) if isinstance(leaf, np.ndarray))


def _mark(result, first_problem):
    """ok, wrong, or - for a conditional part not earned only because no output was right."""
    if result.passed:
        return "ok"
    return "wrong" if result.name in first_problem else "-"


def _joined(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def symptom_lines(found):
    """The feedback lines of symptoms: parts with the same symptom together, swapped pairs as one."""
    groups, done = {}, set()
    by_part = {s.part: s for s in found}
    for s in found:
        if s.part in done:
            continue
        other = s.id.split(":", 1)[1] if s.id.startswith("holds:") else None
        mirror = by_part.get(other)
        if mirror is not None and mirror.id == f"holds:{s.part}":
            done |= {s.part, other}
            groups[("swapped", s.part)] = ([s.part, other], "swapped (each holds the other's reference value) "
                                           "on every case", s.hint)
            continue
        done.add(s.part)
        key = (s.id, s.says, s.hint)
        groups.setdefault(key, ([], s.says, s.hint))[0].append(s.part)
    lines = []
    for parts, says, hint in groups.values():
        lines.append(f"  What the values show: your {_joined(parts)} {'is' if len(parts) == 1 else 'are'} {says}.")
        first = hint.split(" ", 1)[0]
        lines.append(f"    Hint: {hint if '_' in first or first[:1].isupper() else hint[0].upper() + hint[1:]}")
    return lines


def feedback_text(report, first_problem, stub=False, reproduce=None):
    """The text for the student: score, parts, named mistakes, symptoms, what differs, how to reproduce.

    first_problem: part name -> (case, Mismatch); reproduce: the Case to point at, or None.
    """
    from .mistakes import by_id
    name = report.name
    lines = [f"{name}: {report.fraction:.0%} of the marks (run seed {report.seed})"]
    if stub:
        lines.append(f"  {name} is not implemented yet: it raises NotImplementedError. Replace the "
                     "`raise NotImplementedError()` line with your code.")
        return "\n".join(lines)
    lines.append("  " + "   ".join(f"[{_mark(r, first_problem)}] {r.name}" for r in report.parts))
    if report.passed:
        lines.append("  Every output matches the reference on every case.")
        return "\n".join(lines)
    for mid in report.mistakes[:3]:
        m = by_id(mid)
        lines.append(f"  Looks like a known mistake: {m.title} [{mid}]")
        lines.append(f"    Hint: {m.hint}")
    lines += symptom_lines(report.symptoms)
    shown = set()
    for r in report.parts:
        if r.passed or r.name not in first_problem:
            continue
        case, mismatch = first_problem[r.name]
        key = mismatch.message
        if key in shown:
            continue
        shown.add(key)
        lines.append(f"  - {mismatch.message}")
        lines.append(f"    in {case.describe()}")
    if reproduce is not None:
        lines.append(f"  To reproduce: random inputs of the sizes of {reproduce.describe()} (the smallest case "
                     f"that fails); the instructor can rebuild the exact inputs with "
                     f"autograder.cases.cases_for({name!r}, {report.seed})[{reproduce.index}].")
    return "\n".join(lines)
