"""The self-study edition of notebook 07: model answers that open after an attempt.

The written questions of the exam review are nbgrader manually graded cells
(markdown, `solution` and `grade` set). Their source holds the model answer and
the rubric; nbgrader's release replaces it with "YOUR ANSWER HERE", so graded
students never see them. For self-paced learners the instructor builds the
*self-study edition*: the same release, in which each question's answer box
(a code cell `review.written_answer("<grade_id>")`) also carries that model
answer and rubric, sealed (bpttlab.written), and opens them once the learner
has written an answer. The manual-grading cells stay, so the edition can still
be graded by hand.

Two ways in:
- `self_study_notebook(nb)`: a copy of a *source* notebook with the answer
  boxes filled in (an edition builder can call it on course/source/... and
  then release the result);
- the nbgrader preprocessor `SelfStudyAnswers`, off by default, placed before
  ClearSolutions in `GenerateAssignment.preprocessors` by
  course/nbgrader_config.py: `nbgrader generate_assignment 07_exam_review
  --SelfStudyAnswers.enabled=True` (or `c.SelfStudyAnswers.enabled = True`)
  releases the self-study edition.

The model-answer cell format: "**Model answer.** ..." then a line
"**Rubric (P points).**" and bullet points "- n: text" (n points each; they must
add up to the cell's nbgrader points) or "- text" (a note, no points).
"""
import copy
import re

from nbconvert.preprocessors import Preprocessor

from bpttlab.written import seal

# An answer box: `review.written_answer("<grade_id>")`, possibly already sealed (in a self-study release).
BOX = re.compile(r'^(?P<head>\s*(?:\w+\.)*written_answer)\(\s*"(?P<grade_id>[\w-]+)"\s*'
                 r'(?:,\s*sealed="[A-Za-z0-9+/=]*"\s*)?\)(?P<rest>.*)$', re.S)
RUBRIC = re.compile(r"^\*\*Rubric\b[^\n]*\*\*\s*$", re.M)
POINT = re.compile(r"^(\d+(?:\.\d+)?)\s*:\s*(.*)$", re.S)
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_written_question(cell):
    """A manually graded markdown answer cell (nbgrader `solution` and `grade`)."""
    m = _meta(cell)
    return cell.get("cell_type") == "markdown" and bool(m.get("solution")) and bool(m.get("grade"))


def parse_model_answer(text, points, grade_id="?"):
    """{"grade_id", "points", "model_answer", "rubric": [{"points", "text"}], "notes": [...]} from a model-answer
    cell's markdown; ValueError when there is no rubric or its points do not add up to `points`."""
    if BEGIN in text:
        text = text.split(BEGIN, 1)[1].split(END, 1)[0]
    found = RUBRIC.search(text)
    if not found:
        raise ValueError(f"{grade_id}: no '**Rubric (... points).**' line in the model answer")
    answer, rubric_text = text[:found.start()].strip(), text[found.end():]
    items = []
    for line in rubric_text.strip().split("\n"):
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line.strip() and items:
            items[-1] += " " + line.strip()
        elif line.strip():
            raise ValueError(f"{grade_id}: rubric line outside a bullet point: {line!r}")
    rubric, notes = [], []
    for item in items:
        m = POINT.match(item)
        if m:
            rubric.append({"points": float(m.group(1)), "text": m.group(2)})
        else:
            notes.append(item)
    total = sum(r["points"] for r in rubric)
    if not rubric or abs(total - float(points)) > 1e-9:
        raise ValueError(f"{grade_id}: the rubric's points add up to {total:g}, but the cell is worth {points}")
    return {"grade_id": grade_id, "points": float(points), "model_answer": answer, "rubric": rubric, "notes": notes}


def model_answers(nb):
    """{grade_id: parsed model answer} of every written question of a source notebook (dict or NotebookNode)."""
    return {_meta(c)["grade_id"]: parse_model_answer(_source(c), _meta(c).get("points", 0), _meta(c)["grade_id"])
            for c in nb["cells"] if is_written_question(c)}


def answer_boxes(nb):
    """{grade_id: index of its answer-box code cell}."""
    found = {}
    for i, cell in enumerate(nb["cells"]):
        m = BOX.match(_source(cell)) if cell.get("cell_type") == "code" else None
        if m:
            if m.group("grade_id") in found:
                raise ValueError(f"two answer boxes for {m.group('grade_id')!r}")
            found[m.group("grade_id")] = i
    return found


def self_study_notebook(nb):
    """A copy of source notebook `nb` whose answer boxes carry their sealed model answers (input hidden).

    A notebook without written questions comes back unchanged. Every written
    question must have exactly one answer box and every box a question
    (ValueError otherwise).
    """
    answers, boxes = model_answers(nb), answer_boxes(nb)
    if set(answers) != set(boxes):
        raise ValueError(f"written questions without an answer box: {sorted(set(answers) - set(boxes))}; "
                         f"answer boxes without a question: {sorted(set(boxes) - set(answers))}")
    out = copy.deepcopy(nb)
    for grade_id, index in boxes.items():
        cell = out["cells"][index]
        m = BOX.match(_source(cell))
        cell["source"] = f'{m.group("head")}("{grade_id}", sealed="{seal(answers[grade_id])}"){m.group("rest")}'
        cell.setdefault("metadata", {}).setdefault("jupyter", {})["source_hidden"] = True
    return out


class SelfStudyAnswers(Preprocessor):
    """nbgrader/nbconvert preprocessor: when enabled, seal the model answers into the answer boxes
    (self_study_notebook). Must run before ClearSolutions, which removes them."""

    def preprocess(self, nb, resources):
        return self_study_notebook(nb), resources


def generate_assignment_preprocessors():
    """nbgrader's GenerateAssignment pipeline with SelfStudyAnswers first (it is off unless enabled)."""
    from nbgrader.converters import GenerateAssignment
    return [SelfStudyAnswers] + list(GenerateAssignment.class_traits()["preprocessors"].default())
