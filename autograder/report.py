"""What the instructor hands out and reads after grading.

- Feedback HTML in which student output is inert (autograder/sanitize.py: nh3
  and a Content-Security-Policy that forbids scripts; a page without it is
  deleted and reported).
- Feedback HTML without hidden tests: nbgrader's own feedback shows the
  hidden test code (nbgrader issue #917). `HideHiddenTests` removes the hidden
  regions from test cells and the source lines from their tracebacks while
  `nbgrader generate_feedback` renders, and `generate_feedback` then checks
  every HTML file for the markers and for every hidden line of the source
  notebooks (a file that still shows one is deleted and reported).
- The grades CSV for an LMS (one row per student and assignment, scores as
  `nbgrader export` computes them).
- The class misconception table: per graded function, how many students made
  which known mistake (or, when none matched, showed which symptom), read from
  the autograder's per-student results JSON.
"""
import csv
import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearHiddenTests

import solutions
from autograder import mistakes
from autograder.nbgrader_plugin import results_path

BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


# ----------------------------------------------------------------------------- feedback

class HideHiddenTests(ClearHiddenTests):
    """nbgrader preprocessor for feedback: hidden test regions out of test cells, source lines out of tracebacks.

    Only test cells (nbgrader grade cells, restored from the gradebook when
    the submission was autograded) are changed; a student's own cells are
    shown as written. A failing test cell keeps its error name and message
    (what the student needs) but not the traceback, whose frames quote the
    hidden code.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        self._remove_hidden_test_region(cell)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


FEEDBACK_PREPROCESSORS = ("nbgrader.preprocessors.GetGrades",
                          "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
                          "autograder.report.HideHiddenTests",
                          "autograder.sanitize.SanitizeOutputs")
# The feedback page: nbgrader's, with a Content-Security-Policy forbidding scripts (autograder/sanitize.py).
FEEDBACK_TEMPLATE = "bptt_feedback"
FEEDBACK_TEMPLATE_FILE = "bptt_feedback.html.j2"      # extends nbgrader's feedback index.html.j2


def feedback_template_dirs():
    """Template folders for FEEDBACK_TEMPLATE: ours, and nbgrader's that it extends."""
    import nbgrader
    return [str(Path(__file__).resolve().parent / "templates"),
            str(Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates")]


def configure_feedback(c):
    """Set a traitlets config `c` (nbgrader_config.py's) so that `nbgrader generate_feedback` writes pages
    without hidden tests (HideHiddenTests), with student output inert (SanitizeOutputs) and scripts forbidden."""
    c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)
    c.HTMLExporter.template_name = FEEDBACK_TEMPLATE
    c.HTMLExporter.template_file = FEEDBACK_TEMPLATE_FILE
    c.HTMLExporter.extra_template_basedirs = feedback_template_dirs()


def hidden_lines(source_folder):
    """The code lines inside hidden test regions of the notebooks in source_folder (stripped, non-trivial)."""
    lines = set()
    for path in sorted(Path(source_folder).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            inside = False
            for line in cell.source.split("\n"):
                if BEGIN_HIDDEN in line:
                    inside = True
                elif END_HIDDEN in line:
                    inside = False
                elif inside and line.strip() and not line.strip().startswith("#"):
                    lines.add(line.strip())
    return lines


def html_text(page):
    """What a reader sees of an HTML page: tags removed (code is split into highlighting spans), entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def hidden_test_leaks(page, secret_lines):
    """The hidden-test markers and hidden lines that an HTML page shows (empty list: clean)."""
    text = html_text(page)
    found = [m for m in (BEGIN_HIDDEN, END_HIDDEN) if m in page or m in text]
    return found + sorted(l for l in secret_lines if l in text)


def generate_feedback(course, assignment):
    """Run `nbgrader generate_feedback` with hidden tests removed and check every page.

    `course` is an autograder.cli.Course. Returns (pages, problems): the HTML
    files written, and what went wrong in plain words (nbgrader failing for
    some submissions, pages that still showed hidden test code: those are
    deleted, never left for release_feedback).
    """
    args = ["generate_feedback", assignment, "--force", f"--HTMLExporter.template_name={FEEDBACK_TEMPLATE}",
            f"--HTMLExporter.template_file={FEEDBACK_TEMPLATE_FILE}"]
    args += [f"--GenerateFeedback.preprocessors={p}" for p in FEEDBACK_PREPROCESSORS]
    args += [f"--HTMLExporter.extra_template_basedirs={d}" for d in feedback_template_dirs()]
    run = course.nbgrader(*args)
    problems = []
    if run.returncode != 0:
        errors = [l for l in run.stderr.splitlines() if "| ERROR]" in l]
        problems.append(f"nbgrader generate_feedback {assignment} failed:\n" + "\n".join(errors[-6:] or [run.stderr[-2000:]]))
    secrets = hidden_lines(course.root / "source" / assignment)
    pages = []
    from autograder.sanitize import FEEDBACK_CSP, csp_of
    for page in sorted((course.root / "feedback").glob(f"*/{assignment}/*.html")):
        text = page.read_text(encoding="utf-8")
        leaks = hidden_test_leaks(text, secrets)
        if leaks:
            page.unlink()
            problems.append(f"{page} showed hidden test code ({leaks[0]!r}) and was deleted")
        elif csp_of(text)[:1] != [FEEDBACK_CSP]:
            page.unlink()
            problems.append(f"{page} had no Content-Security-Policy forbidding scripts and was deleted")
        else:
            pages.append(page)
    return pages, problems


# ----------------------------------------------------------------------------- grades for the LMS

CSV_COLUMNS = ("student_id", "lms_user_id", "assignment", "score", "max_score",
               "late_submission_penalty", "needs_manual_grade")


def grade_rows(db_url, assignments):
    """One dict per (student, assignment), students sorted; score as `nbgrader export` computes it.

    score = max(0, raw score - late penalty), 0 for a missing submission.
    """
    rows = []
    with Gradebook(db_url) as gb:
        known = {a.name: a for a in gb.assignments}
        unknown = [a for a in assignments if a not in known]
        if unknown:
            raise ValueError(f"not in the gradebook: {', '.join(unknown)} (run nbgrader generate_assignment)")
        for student in sorted(gb.students, key=lambda s: s.id):
            for name in assignments:
                row = {"student_id": student.id, "lms_user_id": student.lms_user_id or "",
                       "assignment": name, "max_score": known[name].max_score}
                try:
                    sub = gb.find_submission(name, student.id)
                except MissingEntry:
                    row.update(score=0.0, late_submission_penalty=0.0, needs_manual_grade=False)
                else:
                    penalty = sub.late_submission_penalty or 0.0
                    row.update(score=max(0.0, sub.score - penalty), late_submission_penalty=penalty,
                               needs_manual_grade=bool(sub.needs_manual_grade))
                rows.append(row)
    return rows


def export_grades(db_url, assignments, path):
    """Write the grades CSV (columns CSV_COLUMNS) to path; return its rows."""
    rows = grade_rows(db_url, assignments)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


# ----------------------------------------------------------------------------- misconceptions

def load_results(course_root, assignment):
    """{student: results dict} of every results JSON of `assignment` (format: autograder/nbgrader_plugin.py)."""
    folder = results_path(course_root, assignment, "_").parent
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


@dataclass
class FunctionSummary:
    """How a class did on one graded function.

    students: how many were graded on it; full_marks: how many scored it in
    full; mistakes: Counter {mistake id: students whose best match it is};
    symptoms: Counter {symptom label (symptom_label): students with no known
    mistake whose first symptom it is}; errors: Counter {exception type:
    students whose function raised it (NotImplementedError: not answered)};
    unexplained: students who lost marks otherwise, with nothing named.
    """
    students: int = 0
    full_marks: int = 0
    mistakes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    unexplained: int = 0
    symptoms: Counter = field(default_factory=Counter)


def symptom_label(symptoms):
    """The first symptom of a results record's list, with every part that shows the same one:
    "dWx, dWh, db: the reference divided by N (the batch size)" (None for an empty list)."""
    if not symptoms:
        return None
    first = symptoms[0]
    parts = [s["part"] for s in symptoms if s["id"] == first["id"]]
    return f"{', '.join(parts)}: {first['what']}"


def misconceptions(course_root, assignment):
    """{function: FunctionSummary} over every student's results for `assignment`, in course order.

    A student counts once per function, for the known mistake their outputs
    match best (the first one the grader lists).
    """
    table = {}
    for student, results in load_results(course_root, assignment).items():
        for notebook in results.get("notebooks", {}).values():
            for name, record in notebook.get("functions", {}).items():
                summary = table.setdefault(name, FunctionSummary())
                summary.students += 1
                if record["fraction"] >= 1.0:
                    summary.full_marks += 1
                elif record["mistakes"]:
                    summary.mistakes[record["mistakes"][0]] += 1
                elif record.get("symptoms"):
                    summary.symptoms[symptom_label(record["symptoms"])] += 1
                elif record["error"]:
                    summary.errors[record["error"].split(":", 1)[0]] += 1
                else:
                    summary.unexplained += 1
    order = {name: i for i, name in enumerate(solutions.GRADED_FUNCTIONS)}
    return dict(sorted(table.items(), key=lambda item: order.get(item[0], len(order))))


def _named(name, record):
    """What a results record names: its best known mistake, else "F/<symptom id> (<parts>)", else None."""
    if record["mistakes"]:
        return record["mistakes"][0]
    symptoms = record.get("symptoms") or []
    if symptoms:
        parts = [s["part"] for s in symptoms if s["id"] == symptoms[0]["id"]]
        return f"{name}/{symptoms[0]['id']} ({', '.join(parts)})"
    return None


def named_mistakes(course_root, assignment):
    """{student: the known mistake (else the symptom) named for each wrong function, one per function at
    most, in course order}."""
    order = {name: i for i, name in enumerate(solutions.GRADED_FUNCTIONS)}
    named = {}
    for student, results in load_results(course_root, assignment).items():
        functions = {name: record for notebook in results.get("notebooks", {}).values()
                     for name, record in notebook.get("functions", {}).items()}
        named[student] = [found for name in sorted(functions, key=lambda n: order.get(n, len(order)))
                          if functions[name]["fraction"] < 1.0
                          for found in [_named(name, functions[name])] if found]
    return named


def unsandboxed(course_root, assignment):
    """{student: why} of the students whose notebooks of `assignment` ran without the sandbox (opt-in only)."""
    found = {}
    for student, results in load_results(course_root, assignment).items():
        for notebook in results.get("notebooks", {}).values():
            if not notebook.get("sandboxed", False):
                found[student] = notebook.get("unsandboxed") or "graded without the sandbox"
    return found


def format_unsandboxed(assignment, found):
    """A loud banner naming the students graded UNSANDBOXED ("" when there are none)."""
    if not found:
        return ""
    why = sorted(set(found.values()))[0]
    return (f"!! UNSANDBOXED: {len(found)} submission(s) of {assignment} ran with the grader's rights "
            f"({', '.join(sorted(found))}). Their code could read the reference and hidden tests and change "
            f"other grades: trust these grades only if you trust the code. {why}")


def _mistake_title(mistake_id):
    try:
        return mistakes.by_id(mistake_id).title
    except KeyError:
        return "(no longer in the mistakes library)"


def format_misconceptions(assignment, table):
    """The misconception table as text: per function, full marks, then each known mistake and its count."""
    if not table:
        return (f"{assignment}: no graded functions in the autograder's results "
                f"(not graded yet, or only answers graded by hand)")
    width = max(len("function"), *(len(name) for name in table))
    lines = [f"known mistakes in {assignment}",
             f"  {'function':<{width}}  {'full marks':>10}  {'students':>8}  mistake"]
    for name, s in table.items():
        rows = [(n, f"{mid}: {_mistake_title(mid)}") for mid, n in s.mistakes.most_common()]
        rows += [(n, f"(symptom) {label}") for label, n in s.symptoms.most_common()]
        rows += [(n, f"(raised {error})") for error, n in s.errors.most_common()]
        if s.unexplained:
            rows.append((s.unexplained, "(wrong outputs, no known mistake or symptom)"))
        first = f"  {name:<{width}}  {f'{s.full_marks}/{s.students}':>10}"
        if not rows:
            lines.append(first)
        for i, (n, text) in enumerate(rows):
            lines.append(f"{first if i == 0 else ' ' * len(first)}  {n:>8}  {text}")
    return "\n".join(lines)
