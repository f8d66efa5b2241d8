"""What a source notebook's hidden test cell runs: grade F in this process and report.

    from autograder.hidden import run_hidden_tests
    run_hidden_tests("rnn_backward", globals())

Grades namespace["rnn_backward"] against the reference on fresh random inputs
(grading.grade_function with the in-process evaluator), prints the report on
stdout (never stderr: nbgrader would count stderr as a failure), and raises
AssertionError carrying the feedback unless every part is right. Returns None.

The run seed is `seed` if given, else the environment variable
AUTOGRADER_SEED, else a fresh random one; it is printed so that a failure can
be reproduced.
"""
import os
import secrets
import warnings

from .evaluate import in_process
from .grading import grade_function


def run_seed(seed=None):
    """The seed for this run: `seed`, else $AUTOGRADER_SEED, else a fresh 32-bit random number."""
    if seed is not None:
        return int(seed)
    text = os.environ.get("AUTOGRADER_SEED", "").strip()
    if text:
        if not text.isdigit():
            raise ValueError(f"AUTOGRADER_SEED must be a whole number >= 0; got {text!r}")
        return int(text)
    return secrets.randbits(32)


def run_hidden_tests(name, namespace, seed=None):
    """Grade the function `name` defined in `namespace` (e.g. globals()); raise AssertionError unless all is right."""
    if not isinstance(namespace, dict):
        raise TypeError(f"pass the notebook's namespace, globals(); got {type(namespace).__name__}")
    seed = run_seed(seed)
    with warnings.catch_warnings():          # nothing may reach stderr: nbgrader scores stderr as a failure
        warnings.simplefilter("ignore")
        report = grade_function(name, in_process(namespace), seed)
    print(report.feedback)
    if not report.passed:
        raise AssertionError(report.feedback)
    return None
