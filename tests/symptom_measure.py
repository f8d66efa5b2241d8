"""The measurement of diagnosis by symptom (issue 17): wrong answers with known causes, graded and scored.

Three families of wrong answers, for every graded function (cases.GRADED, so
functions added later are measured too):

- perturbations: the reference with one output part changed in one generic
  way (scaled by N, T, N*T, 2, 1/2, -1 and their inverses; zeroed;
  transposed; time steps reversed or shifted by one; two parts swapped; nan on
  the large-input cases; perturbed except where T = 1, N = 1 or D == H),
  each labelled with the symptom that names it;
- the mistakes library, graded by the real grader (named by the library) and
  again with the library switched off (named by symptoms alone or not at all);
- realistic implementations written as students write them (tests/symptom_answers.py);
- controls that no symptom describes exactly (noise, a factor that is no size,
  noise on one case): they count for wrong names, not for the share named.

A wrong answer is *named correctly* when the feedback names something and
every name is acceptable for it (its label); *wrongly named* when any name
is not. Written independently of autograder/symptoms.py: sizes come from the
cases, factors and transforms are re-derived here.

Legend: N batch, T time steps, D input size, H hidden size, k truncation length.
"""
import hashlib
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

import solutions
from autograder import grading
from autograder.cases import GRADED, cases_for
from autograder.compare import leaves
from autograder.evaluate import in_process
from autograder.mistakes import mistakes_for, namespace_with

SEED = 20240611


@dataclass
class WrongAnswer:
    """function; family ("perturbation", "library", "library off", "realistic"); label: a short name;
    namespace: where the function is defined; accept: the names acceptable on it (symptom ids as
    "part:id", mistake ids); catalogue: grade with the mistakes library (False: symptoms alone)."""
    function: str
    family: str
    label: str
    namespace: dict
    accept: set
    catalogue: bool = True


@dataclass
class Verdict:
    answer: WrongAnswer
    wrong: bool              # the grader found it wrong (fraction < 1)
    names: list              # what the feedback named: mistake ids and "part:symptom id"
    bad: list                # names not acceptable
    seconds: float           # grading time
    diagnosis_seconds: float # of which: diagnosis by symptom

    @property
    def outcome(self):
        if not self.wrong:
            return "not wrong"
        if self.bad:
            return "wrongly named"
        return "named" if self.names else "unnamed"


# --- the cases, found again from the arguments a student's function receives ------------------

def fingerprint(args):
    digest = hashlib.sha1()
    for _, leaf in leaves(tuple(args)):
        if isinstance(leaf, np.ndarray):
            digest.update(leaf.tobytes())
        elif isinstance(leaf, (int, float, np.integer, np.floating)):
            digest.update(repr(float(leaf)).encode())
    return digest.hexdigest()


def case_index(name, seed=SEED):
    return {fingerprint(case.args): case for case in cases_for(name, seed)}


# --- generic perturbations of one output part -------------------------------------------------

def _map(value, f):
    if isinstance(value, tuple):
        return tuple(_map(v, f) for v in value)
    if isinstance(value, dict):
        return {k: _map(v, f) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return np.asarray(f(value.astype(np.float64)), dtype=np.float64).copy()
    return float(f(np.float64(value)))


def _time_axis(a, sizes):
    """1 for an (N, T, ...) array, 0 for a (T, ...) one, else None."""
    N, T = sizes.get("N"), sizes.get("T")
    if T is None or a.ndim == 0:
        return None
    if a.ndim >= 2 and a.shape[:2] == (N, T):
        return 1
    return 0 if a.shape[0] == T and (a.ndim == 1 or a.shape[:2] == (T, T)) else None


def _along_time(f):
    def apply(a, case):
        axis = _time_axis(a, case.sizes)
        return a if axis is None else f(a, axis)
    return apply


def _shift(step):
    def f(a, axis):
        out = np.roll(a, step, axis=axis)
        edge = [slice(None)] * a.ndim
        edge[axis] = 0 if step > 0 else -1
        out[tuple(edge)] = 0.0
        return out
    return f


SCALES = {                       # symptom id: factor from the case's sizes
    "divided-by-N": lambda z: 1 / z["N"], "multiplied-by-N": lambda z: z["N"],
    "divided-by-T": lambda z: 1 / z["T"], "multiplied-by-T": lambda z: z["T"],
    "divided-by-NT": lambda z: 1 / (z["N"] * z["T"]), "multiplied-by-NT": lambda z: z["N"] * z["T"],
    "doubled": lambda z: 2.0, "halved": lambda z: 0.5, "sign-flipped": lambda z: -1.0,
}


def _largest_input(case):
    return max((float(np.max(np.abs(l))) for _, l in leaves(case.args)
                if isinstance(l, np.ndarray) and l.dtype.kind == "f" and l.size), default=0.0)


def _noisy_unless(condition):
    def apply(a, case):
        if condition(case.sizes):
            return a
        rng = np.random.default_rng(case.index + 1)
        return a + 1e-2 * (1 + np.abs(a).max()) * rng.standard_normal(a.shape)
    return apply


REGIMES = {
    "right-only-when:T = 1": lambda z: z.get("T") == 1,
    "right-only-when:N = 1": lambda z: z.get("N") == 1,
    "right-only-when:D == H": lambda z: "D" in z and z.get("D") == z.get("H"),
}


def part_transforms():
    """{label: (accepted symptom id, f(leaf array, case) -> new leaf)} of the generic perturbations."""
    found = {}
    for sid, factor in SCALES.items():
        found[f"scaled: {sid}"] = (sid, lambda a, case, f=factor: f(case.sizes) * a)
    found["zeroed"] = ("zero", lambda a, case: np.zeros_like(a))
    found["transposed"] = ("transposed", lambda a, case: np.swapaxes(a, -1, -2) if a.ndim >= 2 else a)
    found["time reversed"] = ("time-reversed", _along_time(lambda a, axis: np.flip(a, axis=axis)))
    found["shifted a step later"] = ("shifted-later", _along_time(_shift(1)))
    found["shifted a step earlier"] = ("shifted-earlier", _along_time(_shift(-1)))
    found["nan on large inputs"] = ("overflow", lambda a, case: np.full_like(a, np.nan)
                                    if _largest_input(case) >= 100 else a)
    for sid, condition in REGIMES.items():
        found[f"perturbed unless {sid.split(':')[1]}"] = (sid, _noisy_unless(condition))
    return found


ACCEPTED_ALSO = {                # a true, less specific description is acceptable too
    "scaled": {"factor-per-case"},
}

# Perturbations that are exactly a known mistake of the library (the same values on every case): its
# name is the right one. Judged by hand, one by one.
LIBRARY_EQUIVALENTS = {
    ("numerical_gradient", "grad scaled: doubled"): {"numerical_gradient/denominator-h"},
    ("gradient_contributions", "C transposed"): {"gradient_contributions/transposed"},
    ("step_jacobians", "J transposed"): {"step_jacobians/transposed"},
    ("gradient_norms_through_time", "norms time reversed"): {"gradient_norms_through_time/reversed"},
    ("temporal_softmax_loss", "dscores scaled: multiplied-by-N"): {"temporal_softmax_loss/gradient-not-averaged"},
    ("temporal_softmax_loss", "dscores scaled: sign-flipped"): {"temporal_softmax_loss/gradient-sign"},
    # --- the LSTM (issue 11) and the language model (issue 13), judged on a trial merge of their branches
    ("lstm_backward", "dh0 and dc0 swapped"): {"lstm_backward/dh0-dc0-swapped"},
    ("temporal_affine_backward", "dWy transposed"): {"temporal_affine_backward/dWy-transposed"},
    ("temporal_affine_backward", "dby scaled: divided-by-NT"): {"temporal_affine_backward/dby-averaged"},
    ("lm_loss_and_grads", "grads['Wy'] transposed"): {"lm_loss_and_grads/dWy-transposed"},
    # --- end of the LSTM and the language model
}


def acceptable(name, accept):
    """Is the feedback's name `name` one of `accept`? A regime named together with others
    ("right-only-when:N = 1 and T = 1") is acceptable where one of its conditions is."""
    if name in accept:
        return True
    for item in accept:
        part, _, rest = item.partition(":")
        kind, _, condition = rest.partition(":")
        if kind.endswith("-only-when") and name.startswith(f"{part}:{kind}:"):
            if condition in name.split(":", 2)[2].split(" and "):
                return True
    return False


def value_parts(name):
    return [p for p in grading.PARTS[name] if p.select not in grading.CONDITIONAL]


def _path(part):
    """The part's place in the return value: () for all of it, else positions and dict keys."""
    if part.select is None:
        return ()
    return part.select if isinstance(part.select, tuple) else (part.select,)


def _replace_at(value, path, new):
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: _replace_at(v, rest, new) if k == key else v for k, v in value.items()}
    return tuple(_replace_at(v, rest, new) if i == key else v for i, v in enumerate(value))


def _replace(outputs, part, new):
    return _replace_at(outputs, _path(part), new)


def _part(outputs, part):
    for key in _path(part):
        outputs = outputs[key]
    return outputs


def _student(name, change):
    """A namespace whose `name` is the reference with its outputs changed by change(outputs, case)."""
    reference, index = getattr(solutions, name), case_index(name)

    def wrong(*args):
        outputs = reference(*args)
        return change(outputs, index[fingerprint(args)])
    return {"np": np, name: wrong}


def _applies(label, cases):
    """Can this perturbation be built from the cases' sizes, and (for a regime) does it split them?"""
    sizes = [c.sizes for c in cases if not c.expect_error]
    if label.startswith("scaled: "):
        try:
            return all(SCALES[label[len("scaled: "):]](z) for z in sizes)
        except KeyError:
            return False
    if label.startswith("perturbed unless "):
        holds = {bool(REGIMES[f"right-only-when:{label[len('perturbed unless '):]}"](z)) for z in sizes}
        return holds == {True, False}
    return True


def perturbations(name):
    """The generic perturbations of every output part of graded function `name`, as WrongAnswers."""
    answers = []
    parts = value_parts(name)
    cases = cases_for(name, SEED)
    for part in parts:
        for label, (sid, f) in part_transforms().items():
            if not _applies(label, cases):
                continue
            def change(outputs, case, part=part, f=f):
                return _replace(outputs, part, _map(_part(outputs, part), lambda a: f(a, case)))
            accept = {f"{part.name}:{sid}"} | {f"{part.name}:{a}" for a in ACCEPTED_ALSO.get(label.split(":")[0], ())}
            accept |= LIBRARY_EQUIVALENTS.get((name, f"{part.name} {label}"), set())
            answers.append(WrongAnswer(name, "perturbation", f"{part.name} {label}", _student(name, change), accept))
    for i, p in enumerate(parts):
        for q in parts[i + 1:]:
            def swap(outputs, case, p=p, q=q):
                return _replace(_replace(outputs, p, _part(outputs, q)), q, _part(outputs, p))
            label = f"{p.name} and {q.name} swapped"
            answers.append(WrongAnswer(name, "perturbation", label, _student(name, swap),
                                       {f"{p.name}:holds:{q.name}", f"{q.name}:holds:{p.name}"}
                                       | LIBRARY_EQUIVALENTS.get((name, label), set())))
    return answers


def _noise(a, case):
    rng = np.random.default_rng(case.index + 100)
    return a + 1e-2 * (1 + np.abs(a).max()) * rng.standard_normal(a.shape)


def controls(name):
    """Wrong answers no symptom describes exactly: noise on every case (nothing may be named), one
    factor that is no size of the case (only "a wrong factor per case" may be), noise on the largest
    case only (only a regime of cases may be). Counted for wrong names, not in the share named."""
    answers = []
    cases = [c for c in cases_for(name, SEED) if not c.expect_error]
    largest = max(cases, key=lambda c: sum(l.size for _, l in leaves(c.args) if isinstance(l, np.ndarray))).index
    for part in value_parts(name):
        for label, f, accept in (("noise", _noise, set()),
                                 ("scaled by 3.7", lambda a, case: 3.7 * a, {f"{part.name}:factor-per-case"}),
                                 ("noise on the largest case", lambda a, case: _noise(a, case)
                                  if case.index == largest else a,
                                  {f"{part.name}:{kind}-only-when:{label}" for kind in ("right", "wrong")
                                   for label in ("T = 1", "N = 1", "D == H", "k >= T")})):
            def change(outputs, case, part=part, f=f):
                return _replace(outputs, part, _map(_part(outputs, part), lambda a: f(a, case)))
            answers.append(WrongAnswer(name, "control", f"{part.name} {label}", _student(name, change), accept))
    return answers


# --- the mistakes library and realistic answers ------------------------------------------------

def library_answers(name, labels, also=None):
    """Each known mistake of `name`, graded with the library (accept: its id, the symptoms in labels[id]
    and the mistakes in also[id]) and without it (accept: labels[id] only)."""
    answers = []
    for m in mistakes_for(name):
        accept = set(labels.get(m.id, ()))
        answers.append(WrongAnswer(name, "library", m.id, namespace_with(m),
                                   accept | {m.id} | set((also or {}).get(m.id, ()))))
        answers.append(WrongAnswer(name, "library off", m.id, namespace_with(m), accept, catalogue=False))
    return answers


def realistic_answers(name):
    """The student-written wrong answers of tests/symptom_answers.py for `name`."""
    from symptom_answers import REALISTIC
    answers = []
    for function, label, source, accept in REALISTIC:
        if function == name:
            namespace = {"np": np}
            exec(compile(source, f"<realistic {label}>", "exec"), namespace)
            answers.append(WrongAnswer(name, "realistic", label, namespace, set(accept)))
    return answers


# --- grading and scoring -------------------------------------------------------------------

def grade(answer, seed=SEED):
    """Grade one wrong answer with the in-process evaluator and judge what its feedback names."""
    spent = []
    diagnose = grading.diagnose_symptoms
    explain = grading.explaining_mistakes

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return diagnose(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    grading.diagnose_symptoms = timed
    if not answer.catalogue:
        grading.explaining_mistakes = lambda *args: []
    try:
        report = grading.grade_function(answer.function, in_process(answer.namespace), seed)
    finally:
        grading.diagnose_symptoms, grading.explaining_mistakes = diagnose, explain
    names = list(report.mistakes) + [f"{s.part}:{s.id}" for s in report.symptoms]
    bad = [n for n in names if not acceptable(n, answer.accept)]
    return Verdict(answer, report.fraction < 1, names, bad, report.seconds, sum(spent))


@dataclass
class Row:
    function: str
    counts: dict = field(default_factory=dict)
    seconds: list = field(default_factory=list)
    diagnosis: list = field(default_factory=list)
    added: list = field(default_factory=list)     # diagnosis time / the rest of the grading time


OUTCOMES = ("named", "unnamed", "wrongly named")


def table(verdicts, families):
    """Rows {function: Row} counting outcomes of the given families of wrong answers."""
    rows = {}
    for v in verdicts:
        if v.answer.family not in families or not v.wrong:
            continue
        row = rows.setdefault(v.answer.function, Row(v.answer.function))
        row.counts[v.outcome] = row.counts.get(v.outcome, 0) + 1
        row.seconds.append(v.seconds)
        if v.diagnosis_seconds:
            row.diagnosis.append(v.diagnosis_seconds)
            row.added.append(v.diagnosis_seconds / max(v.seconds - v.diagnosis_seconds, 1e-9))
    order = {n: i for i, n in enumerate(GRADED)}
    return dict(sorted(rows.items(), key=lambda item: order.get(item[0], len(order))))


def share(rows):
    total = sum(sum(r.counts.values()) for r in rows.values())
    return sum(r.counts.get("named", 0) for r in rows.values()) / max(total, 1), total


def format_table(title, rows):
    """The per-function table: wrong answers, named correctly, unnamed, wrongly named, and medians of the
    grading time per answer, of the diagnosis by symptom (where it ran) and of its share added to the rest."""
    width = max([len("function")] + [len(n) for n in rows])
    lines = [title, f"{'function':<{width}}  {'wrong':>5}  {'named':>5}  {'share':>6}  {'unnamed':>7}  "
                    f"{'wrongly named':>13}  {'grade ms':>8}  {'symptoms ms':>11}  {'added':>5}"]
    for name, r in rows.items():
        n = sum(r.counts.values())
        diag = f"{1000 * statistics.median(r.diagnosis):.1f}" if r.diagnosis else "-"
        added = f"{statistics.median(r.added):.0%}" if r.added else "-"
        lines.append(f"{name:<{width}}  {n:>5}  {r.counts.get('named', 0):>5}  "
                     f"{r.counts.get('named', 0) / n:>6.0%}  {r.counts.get('unnamed', 0):>7}  "
                     f"{r.counts.get('wrongly named', 0):>13}  {1000 * statistics.median(r.seconds):>8.1f}  "
                     f"{diag:>11}  {added:>5}")
    ratio, total = share(rows)
    wrong = sum(r.counts.get("wrongly named", 0) for r in rows.values())
    lines.append(f"{'all':<{width}}  {total:>5}  {round(ratio * total):>5}  {ratio:>6.0%}  "
                 f"{sum(r.counts.get('unnamed', 0) for r in rows.values()):>7}  {wrong:>13}")
    return "\n".join(lines)
