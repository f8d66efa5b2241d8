"""nbgrader configuration of the BPTT course. Run nbgrader commands from this folder.

`nbgrader autograde` grades outside the student's kernel: nbgrader's Execute
step is replaced by autograder.nbgrader_plugin.GradeOutsideKernel, which runs
the student's cells in a kernel (test cells never run there), grades every
graded function against the reference in the grader's own process, writes the
feedback and the score into each test cell, and saves the results to
autograder_results/<assignment>/<student>.json.
"""
import os

try:
    from autograder.nbgrader_plugin import autograde_preprocessors, install_autograde, sanitize_preprocessors
    from autograder.report import configure_feedback
except ImportError as missing:
    # nbgrader logs an error in a config file and goes on with its defaults: stock autograde would then run
    # student code in its own kernel, unsandboxed. SystemExit is the one thing it does not swallow.
    raise SystemExit(f"{__file__}: the course's autograder cannot be imported ({missing}). Run nbgrader from "
                     "the environment the course is installed in (`make setup`, then .venv/bin/nbgrader).") from None

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "bptt"

c.Autograde.sanitize_preprocessors = sanitize_preprocessors()     # duplicated graded cells: nbgrader #1083
c.Autograde.autograde_preprocessors = autograde_preprocessors()
# Seconds per student cell (nbgrader's own trait) and per call of a graded function.
c.GradeOutsideKernel.timeout = 60
c.GradeOutsideKernel.call_timeout = 30.0
# Every grading kernel runs in autograder.sandbox (bubblewrap). Without a working sandbox `nbgrader autograde`
# refuses to run student code and says why; `python -m autograder sandbox-check` checks this machine.
# Only for trusted code: c.GradeOutsideKernel.allow_unsandboxed = True (every result is then marked UNSANDBOXED).
c.GradeOutsideKernel.sandbox = True
# nbgrader autograde refuses the run before it copies or runs anything when grading would be unsafe.
install_autograde()

# Plain `nbgrader generate_feedback` also leaves hidden test code out of the feedback (nbgrader #917), renders
# student output inert (nh3) and forbids scripts in the page (Content-Security-Policy).
configure_feedback(c)

# --- Self-study edition of notebook 07 (issue 14) ----------------------------------------------
# Off for graded releases: the model answers of the written questions stay out of the release.
# On (here, or `nbgrader generate_assignment 07_exam_review --SelfStudyAnswers.enabled=True`), the
# release's answer boxes carry each model answer and rubric, opened after the learner has written an
# answer (autograder/self_study.py). The manual-grading cells stay in both editions.
from autograder.self_study import generate_assignment_preprocessors  # noqa: E402

c.GenerateAssignment.preprocessors = generate_assignment_preprocessors()
c.SelfStudyAnswers.enabled = False
