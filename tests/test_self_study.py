"""Model answers after an attempt: the written questions of notebook 07, graded release vs self-study edition.

The graded release (nbgrader's default) must not contain the model answers;
the self-study edition (`--SelfStudyAnswers.enabled=True`) seals them into the
answer boxes, which open them only after the learner has written an answer.
Both keep nbgrader's manual-grading cells.
"""
import nbformat
import pytest
from nbclient import NotebookClient

from autograder import self_study
from bpttlab import written
from course_tools import SOURCE, copy_course, load, nbgrader, nbgrader_meta, source_text

EXAM = SOURCE / "07_exam_review" / "07_exam_review.ipynb"
QUESTIONS = ("review_bptt_vs_backprop", "review_long_term_dependencies", "review_truncation_tradeoffs")


def manual_cells(nb):
    return {nbgrader_meta(c)["grade_id"]: c for c in nb["cells"] if self_study.is_written_question(c)}


def test_every_written_question_has_a_rubric_that_adds_up_and_one_answer_box():
    nb = load(EXAM)
    answers = self_study.model_answers(nb)
    assert set(answers) == set(QUESTIONS) == set(self_study.answer_boxes(nb))
    for gid, a in answers.items():
        cell = manual_cells(nb)[gid]
        assert sum(r["points"] for r in a["rubric"]) == nbgrader_meta(cell)["points"] == a["points"]
        assert len(a["rubric"]) >= 3 and a["model_answer"].startswith("**Model answer.**")
        assert "Rubric" not in a["model_answer"] and all(r["text"] for r in a["rubric"])
        box = self_study.answer_boxes(nb)[gid]
        assert box < nb["cells"].index(cell), f"{gid}: the answer box must come before the graded cell"


def test_the_parser_refuses_a_rubric_that_does_not_add_up():
    text = "**Model answer.** Yes.\n\n**Rubric (2 points).**\n- 1: says yes.\n- No credit for maybe.\n"
    parsed = self_study.parse_model_answer(text, 1, "q")
    assert parsed["rubric"] == [{"points": 1.0, "text": "says yes."}] and parsed["notes"] == ["No credit for maybe."]
    with pytest.raises(ValueError, match="add up to 1, but the cell is worth 2"):
        self_study.parse_model_answer(text, 2, "q")
    with pytest.raises(ValueError, match="no '\\*\\*Rubric"):
        self_study.parse_model_answer("**Model answer.** Yes.", 1, "q")


def test_self_study_notebook_seals_the_answers_into_the_boxes_and_leaves_the_source_alone():
    nb = nbformat.read(EXAM, as_version=4)
    before = nbformat.writes(nb)
    out = self_study.self_study_notebook(nb)
    assert nbformat.writes(nb) == before
    answers = self_study.model_answers(nb)
    for gid, index in self_study.answer_boxes(out).items():
        cell = out.cells[index]
        assert cell.metadata["jupyter"]["source_hidden"] is True
        sealed = cell.source.split('sealed="', 1)[1].split('"', 1)[0]
        assert written.unseal(sealed) == answers[gid]
        assert "Model answer" not in cell.source                     # sealed, not readable at a glance
    broken = nbformat.read(EXAM, as_version=4)
    del broken.cells[self_study.answer_boxes(broken)["review_truncation_tradeoffs"]]
    with pytest.raises(ValueError, match="without an answer box: \\['review_truncation_tradeoffs'\\]"):
        self_study.self_study_notebook(broken)


def test_the_answer_box_opens_only_after_an_attempt_and_scores_the_rubric():
    payload = self_study.model_answers(load(EXAM))["review_bptt_vs_backprop"]
    box = written.written_answer("review_bptt_vs_backprop", written.seal(payload))
    assert box.button.disabled and not box.reveal() and box.score is None
    box.write("BPTT is")                                             # too short to count as an attempt
    assert box.button.disabled and not box.reveal() and "at least 5 words" in box.status.value
    box.write("BPTT is backprop on the unrolled graph with shared weights.")
    assert not box.button.disabled
    box.button.click()
    assert box.revealed and box.button.disabled
    shown = box.answer_area.outputs[0]["data"]["text/markdown"]
    assert shown == payload["model_answer"]
    assert len(box.checks) == len(payload["rubric"]) and box.score == 0
    assert box.assess([0, 1]) == 2 and "2 of 4 points" in box.score_label.value
    assert box.assess(range(len(payload["rubric"]))) == 4
    graded = written.written_answer("review_bptt_vs_backprop")
    assert "your instructor grades it" in graded.box.value and not graded.reveal()
    with pytest.raises(RuntimeError, match="no model answer"):
        graded.write("text")
    with pytest.raises(ValueError, match="belongs to 'review_bptt_vs_backprop'"):
        written.written_answer("review_truncation_tradeoffs", written.seal(payload))


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """07 released twice from a copy of the course: the graded edition, then the self-study one."""
    course = copy_course(tmp_path_factory.mktemp("editions") / "course")
    out = {}
    for edition, flags in (("graded", ()), ("self-study", ("--SelfStudyAnswers.enabled=True",))):
        run = nbgrader(course, "generate_assignment", "07_exam_review", "--force", *flags)
        assert run.returncode == 0, f"{edition}: {run.stdout}\n{run.stderr}"
        assert "Exception while loading config" not in run.stdout + run.stderr, run.stderr
        folder = course / "release" / "07_exam_review"
        out[edition] = (nbformat.read(folder / "07_exam_review.ipynb", as_version=4),
                        sorted(p.name for p in folder.iterdir()), folder)
    return out


def test_the_graded_release_holds_no_model_answer(releases):
    nb, files, _ = releases["graded"]
    text = nbformat.writes(nb)
    assert "sealed=" not in text and "Model answer" not in text and "Rubric (" not in text
    for gid, cell in manual_cells(nb).items():
        assert nbgrader_meta(cell)["grade"] and nbgrader_meta(cell)["solution"]
        assert "YOUR ANSWER HERE" in source_text(cell)
    assert "spot_the_bug.json" in files                                 # the drills travel with 07 only


def test_the_self_study_release_carries_the_sealed_answers_and_keeps_the_graded_cells(releases):
    nb, files, folder = releases["self-study"]
    source_answers = self_study.model_answers(load(EXAM))
    boxes = {gid: nb.cells[i] for gid, i in self_study.answer_boxes(nb).items()}
    assert set(boxes) == set(QUESTIONS)
    for gid, cell in boxes.items():
        sealed = cell.source.split('sealed="', 1)[1].split('"', 1)[0]
        assert written.unseal(sealed) == source_answers[gid]
    for gid, cell in manual_cells(nb).items():                          # still gradable by hand
        assert nbgrader_meta(cell)["points"] == 4 and "YOUR ANSWER HERE" in source_text(cell)
    _run_without_errors(nb, folder)
    views = [o for c in (nb.cells[i] for i in self_study.answer_boxes(nb).values()) for o in c.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == len(QUESTIONS)


def test_the_graded_release_runs_top_to_bottom_as_students_get_it(releases):
    nb, _, folder = releases["graded"]
    nb = nbformat.from_dict(nb)                                          # a copy: the fixture is shared
    _run_without_errors(nb, folder)
    boxes = [o for c in (nb.cells[i] for i in self_study.answer_boxes(nb).values()) for o in c.outputs]
    assert len(boxes) == len(QUESTIONS)                                  # each box says why nothing opens
    assert all("your instructor grades it" in o["data"]["text/plain"] for o in boxes), boxes


def _run_without_errors(nb, folder):
    """Execute a released notebook in its release folder (where spot_the_bug.json sits) and fail on any error."""
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{errors[0]['ename']}: {errors[0]['evalue']}"


def test_other_assignments_are_released_as_before(tmp_path):
    """The preprocessor is off by default and leaves a notebook without written questions unchanged."""
    nb = load(SOURCE / "01_unrolling" / "01_unrolling.ipynb")
    assert self_study.self_study_notebook(nb) == nb
    assert self_study.SelfStudyAnswers().enabled is False
    from nbgrader.converters import GenerateAssignment
    pipeline = self_study.generate_assignment_preprocessors()
    assert pipeline[0] is self_study.SelfStudyAnswers
    assert pipeline[1:] == list(GenerateAssignment.class_traits()["preprocessors"].default())
    names = [p.__name__ for p in pipeline]
    assert names.index("SelfStudyAnswers") < names.index("ClearSolutions")
