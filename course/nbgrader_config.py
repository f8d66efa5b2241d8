"""nbgrader configuration of the BPTT course. Run nbgrader commands from this folder.

`nbgrader autograde` grades outside the student's kernel: nbgrader's Execute
step is replaced by autograder.nbgrader_plugin.GradeOutsideKernel, which runs
the student's cells in a kernel (test cells never run there), grades every
graded function against the reference in the grader's own process, writes the
feedback and the score into each test cell, and saves the results to
autograder_results/<assignment>/<student>.json.
"""
import os

from autograder.nbgrader_plugin import autograde_preprocessors, sanitize_preprocessors
from autograder.report import FEEDBACK_PREPROCESSORS

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "bptt"

c.Autograde.sanitize_preprocessors = sanitize_preprocessors()     # duplicated graded cells: nbgrader #1083
c.Autograde.autograde_preprocessors = autograde_preprocessors()
# Seconds per student cell (nbgrader's own trait) and per call of a graded function.
c.GradeOutsideKernel.timeout = 60
c.GradeOutsideKernel.call_timeout = 30.0
# Every grading kernel runs in autograder.sandbox (bubblewrap; without it: a loud warning, resource limits only).
c.GradeOutsideKernel.sandbox = True

# Plain `nbgrader generate_feedback` also leaves hidden test code out of the feedback (nbgrader #917).
c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)

# --- Self-study edition of notebook 07 (issue 14) ----------------------------------------------
# Off for graded releases: the model answers of the written questions stay out of the release.
# On (here, or `nbgrader generate_assignment 07_exam_review --SelfStudyAnswers.enabled=True`), the
# release's answer boxes carry each model answer and rubric, opened after the learner has written an
# answer (autograder/self_study.py). The manual-grading cells stay in both editions.
from autograder.self_study import generate_assignment_preprocessors  # noqa: E402

c.GenerateAssignment.preprocessors = generate_assignment_preprocessors()
c.SelfStudyAnswers.enabled = False
