"""The grading pipeline inside nbgrader: real `nbgrader autograde` runs with the course's config.

One temporary course (tests/pipeline_helpers.py), one `nbgrader
generate_assignment`, one `nbgrader autograde` for every student below (the
course config: GradeOutsideKernel, sandboxed when bubblewrap works), one
`nbgrader generate_feedback` (one student). The expected scores are never typed in: they
come from the test cells' points (full marks, zero) or from a control student
with the same wrong answers and no tricks (forging must not gain anything).

Below them, the remote evaluator and the wire format on their own, with one
unsandboxed kernel.
"""
import base64
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from system_tools import needs_bubblewrap

import pipeline_helpers as ph
from autograder import evaluate, remote
from autograder.kernels import make_kernel_manager, make_runtime_dir, remove_runtime_dir
from autograder.nbgrader_plugin import function_of_test, score_points
from autograder.specs import FunctionSpec, random_spec

SEED = "20261125"     # every student graded on the same cases, so wrong answers score alike

# --- the students ------------------------------------------------------------------

RIGHT = {name: ph.answer_source(name) for name in ph.FUNCTIONS}

# Wrong answers: rnn_forward gets h right and the cache wrong (partial credit),
# numerical_gradient uses a one-sided difference (nothing right).
WRONG = dict(RIGHT)
WRONG["rnn_forward"] = RIGHT["rnn_forward"].replace("cache = (x, h0, Wx, Wh, h)", "cache = (x, h0, Wx, Wh)")
WRONG["numerical_gradient"] = '''def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros(x.shape)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - fx) / h
        x[i] = old
    return grad'''

NOISE = '''
import sys, warnings
import matplotlib.pyplot as plt
print("a print from the answer cell")
sys.stderr.write("a line on stderr from the answer cell\\n")
warnings.warn("a warning from the answer cell")
plt.plot([0, 1], [1, 0]); plt.show()
'''
NOISY = dict(RIGHT)
NOISY["rnn_forward"] = RIGHT["rnn_forward"].replace(
    "    N, T, _ = x.shape",
    "    import os, sys, warnings\n    print('hello from rnn_forward')\n"
    "    sys.stderr.write('stderr from rnn_forward\\n')\n"
    "    os.write(2, b'stderr below Python from rnn_forward\\n')\n"
    "    warnings.warn('a warning from rnn_forward')\n    N, T, _ = x.shape") + NOISE

# Forgeries that beat in-kernel test cells (plain nbgrader): comparisons that always agree, and the
# hidden tests' entry point replaced (importable only without the sandbox).
ALLCLOSE = """
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
try:
    import autograder.hidden
    autograder.hidden.run_hidden_tests = lambda *a, **k: None
except ImportError:
    pass
"""
# Every later cell (the test cells under plain nbgrader) becomes empty, so it "passes".
TRANSFORMER = "\nget_ipython().input_transformers_cleanup.append(lambda lines: [])\n"
FIRST = list(ph.FUNCTIONS)[0]


def _tag_tests(nb):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]


def _stderr_cell(nb):
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nsys.stderr.write('student cell on stderr\\n')"))


STUDENTS = {
    "instructor": dict(answers=RIGHT),
    "untouched": dict(answers={}),
    "wrong": dict(answers=WRONG),
    "noisy": dict(answers=NOISY, edit=_stderr_cell),
    "forge_allclose": dict(answers={**WRONG, FIRST: WRONG[FIRST] + ALLCLOSE}),
    "forge_skip": dict(answers=WRONG, edit=_tag_tests),
    "forge_transformer": dict(answers={**WRONG, FIRST: WRONG[FIRST] + TRANSFORMER}),
    "delegator": dict(answers={**RIGHT, "rnn_forward": "from solutions import rnn_forward"}),
    # kills the kernel in an answer cell (numerical_gradient) and while graded (rnn_forward)
    "crasher": dict(answers={
        **RIGHT,
        "numerical_gradient": RIGHT["numerical_gradient"] + "\nimport os\nos._exit(3)\n",
        "rnn_forward": RIGHT["rnn_forward"].replace("    N, T, _ = x.shape", "    import os\n    os._exit(4)\n"
                                                    "    N, T, _ = x.shape")}),
}
FORGERS = ("forge_allclose", "forge_skip", "forge_transformer")


@pytest.fixture(scope="module")
def course():
    """The course after generate_assignment, one autograde of every student, and generate_feedback."""
    with tempfile.TemporaryDirectory(prefix="bptt-pipeline-") as tmp:
        root = ph.make_course(Path(tmp) / "course")
        done = ph.nbgrader(root, "generate_assignment", ph.ASSIGNMENT)
        assert done.returncode == 0, done.stderr[-3000:]
        for student, how in STUDENTS.items():
            ph.make_submission(root, student, **how)
        os.environ["AUTOGRADER_SEED"] = SEED
        try:
            graded = ph.nbgrader(root, "autograde", ph.ASSIGNMENT)
        finally:
            del os.environ["AUTOGRADER_SEED"]
        assert graded.returncode == 0, graded.stderr[-5000:]
        feedback = ph.nbgrader(root, "generate_feedback", ph.ASSIGNMENT, "--student", "wrong")
        assert feedback.returncode == 0, feedback.stderr[-3000:]
        yield root


def points():
    return {f"{name}_test": float(p) for name, p in ph.FUNCTIONS.items()}


def test_instructor_solution_scores_full_marks(course):
    assert ph.scores(course, "instructor") == points()


def test_untouched_release_scores_zero_everywhere(course):
    assert ph.scores(course, "untouched") == {cell: 0.0 for cell in points()}
    text = ph.cell_by_id(ph.autograded(course, "untouched"), "rnn_forward_test").outputs[0]["text"]
    assert "not implemented" in text


def test_wrong_answer_gets_partial_credit_and_feedback(course):
    got, full = ph.scores(course, "wrong"), points()
    assert got["rnn_step_forward_test"] == full["rnn_step_forward_test"]
    assert 0 < got["rnn_forward_test"] < full["rnn_forward_test"]
    assert got["numerical_gradient_test"] < full["numerical_gradient_test"]
    cell = ph.cell_by_id(ph.autograded(course, "wrong"), "rnn_forward_test")
    kinds = [o["output_type"] for o in cell.outputs]
    assert kinds == ["stream", "execute_result"]
    assert cell.outputs[0]["name"] == "stdout"
    assert "[wrong] cache" in cell.outputs[0]["text"]
    assert float(cell.outputs[1]["data"]["text/plain"]) == got["rnn_forward_test"]


def test_prints_stderr_warnings_and_plots_keep_full_marks(course):
    assert ph.scores(course, "noisy") == points()
    nb = ph.autograded(course, "noisy")
    answer = ph.cell_by_id(nb, "rnn_forward")
    streams = {o.get("name") for o in answer.outputs if o["output_type"] == "stream"}
    assert {"stdout", "stderr"} <= streams                          # the student's outputs are kept
    assert any(o["output_type"] == "display_data" for o in answer.outputs)   # and the plot


@pytest.mark.parametrize("student", FORGERS)
def test_forging_gains_nothing(course, student):
    control = ph.scores(course, "wrong")
    forged = ph.scores(course, student)
    assert sum(control.values()) < sum(points().values())
    assert all(forged[cell] <= control[cell] for cell in control), (forged, control)


def test_a_dead_kernel_costs_only_the_function_that_killed_it(course):
    got, full = ph.scores(course, "crasher"), points()
    killers = {"numerical_gradient_test", "rnn_forward_test"}
    assert {cell: got[cell] for cell in full if cell not in killers} == \
        {cell: p for cell, p in full.items() if cell not in killers}
    assert all(got[cell] == 0 for cell in killers)
    nb = ph.autograded(course, "crasher")
    assert [o["ename"] for o in ph.cell_by_id(nb, "numerical_gradient").outputs
            if o["output_type"] == "error"] == ["DeadKernelError"]
    assert "KernelDied" in ph.cell_by_id(nb, "rnn_forward_test").outputs[0]["text"]
    assert ph.results(course, "crasher")["notebooks"][ph.ASSIGNMENT]["kernel_restarts"] == 2


def test_tagged_test_cells_are_graded_anyway(course):
    nb = ph.autograded(course, "forge_skip")
    for grade_id in points():
        outputs = ph.cell_by_id(nb, grade_id).outputs
        assert [o["output_type"] for o in outputs] == ["stream", "execute_result"]


@needs_bubblewrap()
def test_import_of_the_reference_is_left_to_the_sandbox(course):
    """With the sandbox on (the course config), `solutions` cannot be imported in the kernel."""
    sandboxed = ph.results(course, "delegator")["notebooks"][ph.ASSIGNMENT]["sandboxed"]
    assert sandboxed
    assert ph.scores(course, "delegator")["rnn_forward_test"] == 0.0
    errors = [o for o in ph.cell_by_id(ph.autograded(course, "delegator"), "rnn_forward").outputs
              if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "ModuleNotFoundError"


def test_no_hidden_tests_in_autograded_notebooks_or_feedback(course):
    written = list((course / "autograded").rglob("*.ipynb")) + list((course / "feedback").rglob("*.html"))
    assert len(written) == len(STUDENTS) + 1
    for path in written:
        text = path.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "from autograder.hidden import" not in text, path
    for student in STUDENTS:
        nb = ph.autograded(course, student)
        for grade_id in points():
            assert ph.cell_by_id(nb, grade_id).source == ph.TEST_CELL.split("### BEGIN")[0].rstrip("\n")


def test_results_are_saved_outside_student_folders_and_match_the_gradebook(course):
    for student in STUDENTS:
        path = course / "autograder_results" / ph.ASSIGNMENT / f"{student}.json"
        notebook = json.loads(path.read_text())["notebooks"][ph.ASSIGNMENT]
        assert notebook["seed"] == int(SEED)
        scores = ph.scores(course, student)
        for grade_id, cell in notebook["test_cells"].items():
            record = notebook["functions"][cell["function"]]
            assert scores[grade_id] == pytest.approx(round(record["fraction"] * cell["max_score"], 2))
            assert {"parts", "mistakes", "message"} <= set(record)
    wrong = ph.results(course, "wrong")["notebooks"][ph.ASSIGNMENT]["functions"]["rnn_forward"]
    assert [p["name"] for p in wrong["parts"] if not p["passed"]] == ["cache"]


# --- the remote evaluator on its own -------------------------------------------------

STUDENT_CODE = '''
import numpy as np

def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
    raise RuntimeError("the student's own step must not be called while rnn_forward is graded")

def rnn_forward(x, h0, Wx, Wh, b):
    hs, h = [], h0
    for t in range(x.shape[1]):
        h, _ = rnn_step_forward(x[:, t], h, Wx, Wh, b)      # the stand-in answers
        hs.append(h)
    h = np.stack(hs, axis=1)
    return h, (x, h0, Wx, Wh, h)

def numerical_gradient(f, x, h=1e-5):
    x[...] = 0.0                                            # modifies its argument
    return np.matrix(np.zeros((2, 2)))                      # a subclass: must come back Opaque

def forever(x):
    while True:
        pass

def greedy(x):
    big = np.zeros((1, 600_000))                            # 4.8 MB: more than a stand-in call may carry
    return rnn_step_forward(big, np.zeros((1, 1)), np.zeros((600_000, 1)), np.zeros((1, 1)), np.zeros(1))

def cheater(x):                                             # a forged report on the grader's own channel
    return get_ipython().kernel.raw_input("BPTT-AUTOGRADER-1 guessed-token result xxx")

def asks(x):
    return input("your name? ")
'''


# A launcher as a sandbox would be: a parent process of its own around the kernel (so an interrupt
# must travel as a message), marking the environment so that the tests can see it was used.
WRAPPER = [sys.executable, "-c",
           "import os, subprocess, sys; os.environ['BPTT_LAUNCHED'] = '1'; sys.exit(subprocess.call(sys.argv[1:]))"]


def wrapping_launcher(argv, *, workdir, runtime_dir):
    assert Path(runtime_dir).is_dir() and Path(workdir).is_dir()
    return [*WRAPPER, *argv]


@pytest.fixture(scope="module")
def kernel():
    from jupyter_client.manager import KernelManager
    runtime, workdir = make_runtime_dir(), tempfile.mkdtemp(prefix="bptt-work-")
    km = make_kernel_manager(workdir, runtime, launcher=wrapping_launcher, manager_class=KernelManager)
    km.start_kernel(cwd=workdir)
    session = remote.KernelSession(km)
    try:
        assert session.run(STUDENT_CODE).status == "ok"
        yield session
    finally:
        session.close()
        km.shutdown_kernel(now=True)
        km.cleanup_resources()
        remove_runtime_dir(runtime)


def _args(rng):
    N, T, D, H = 2, 4, 3, 5
    return (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(D, H)),
            rng.normal(size=(H, H)), rng.normal(size=H))


def test_the_kernel_runs_through_the_launcher_over_ipc(kernel):
    run = kernel.run("import os\nprint(os.environ.get('BPTT_LAUNCHED'), os.getppid() != os.getpid())")
    assert run.status == "ok" and run.printed.split() == ["1", "True"]
    assert kernel.km.transport == "ipc" and kernel.km.ip.startswith(tempfile.gettempdir())


def test_a_launcher_must_wrap_the_kernel_command_line():
    runtime = make_runtime_dir()
    try:
        with pytest.raises(ValueError, match="must return a command line that ends with"):
            make_kernel_manager(runtime, runtime, launcher=lambda argv, **where: argv[::-1])
    finally:
        remove_runtime_dir(runtime)


def test_remote_call_uses_stand_ins_and_matches_the_reference(kernel):
    import solutions
    args = _args(np.random.default_rng(0))
    outcome = remote.RemoteEvaluator(kernel, call_timeout=20)("rnn_forward", args, ("rnn_step_forward",))
    assert outcome.error is None, outcome.error
    h, cache = outcome.outputs
    expected, _ = solutions.rnn_forward(*args)
    assert type(h) is np.ndarray and np.allclose(h, expected, rtol=1e-12, atol=0)
    assert all(np.array_equal(a, b) for a, b in zip(outcome.args_after, args))


def test_remote_call_as_cell_code_works_too(kernel):
    """The fallback for an ipykernel that would not forward input() from user expressions."""
    evaluator = remote.RemoteEvaluator(kernel, call_timeout=20)
    evaluator.use_expressions = False
    outcome = evaluator("rnn_forward", _args(np.random.default_rng(7)), ("rnn_step_forward",))
    assert outcome.error is None and type(outcome.outputs[0]) is np.ndarray


def test_remote_without_stand_in_calls_the_students_own_function(kernel):
    args = _args(np.random.default_rng(1))
    outcome = remote.RemoteEvaluator(kernel, call_timeout=20)("rnn_forward", args, ())
    assert outcome.error_type == "RuntimeError" and "must not be called" in outcome.error


def test_remote_reports_modified_arguments_and_opaque_returns(kernel):
    spec = random_spec("tanh_quartic", (2, 2), np.random.default_rng(2))
    x = np.ones((2, 2))
    outcome = remote.RemoteEvaluator(kernel, call_timeout=20)("numerical_gradient", (spec, x), ())
    assert isinstance(outcome.outputs, evaluate.Opaque) and "matrix" in outcome.outputs.type_name
    assert outcome.args_after[0] is spec
    assert np.array_equal(outcome.args_after[1], np.zeros((2, 2))) and np.array_equal(x, np.ones((2, 2)))


def test_remote_timeout_interrupts_and_the_kernel_stays_usable(kernel):
    evaluator = remote.RemoteEvaluator(kernel, call_timeout=1.5)
    outcome = evaluator("forever", (np.zeros(1),), ())
    assert outcome.error_type == "TimeoutError" and not evaluator.needs_restart
    again = evaluator("forever", (np.zeros(1),), ())
    assert again.error_type == "TimeoutError" and "not run again" in again.error and again.seconds == 0
    assert evaluator("rnn_forward", _args(np.random.default_rng(3)), ("rnn_step_forward",)).error is None


def test_the_harness_is_loaded_again_when_the_kernel_lost_it(kernel):
    evaluator = remote.RemoteEvaluator(kernel, call_timeout=20)
    args = _args(np.random.default_rng(5))
    assert evaluator("rnn_forward", args, ("rnn_step_forward",)).error is None
    kernel.run(f"import sys\ndel sys.modules[{evaluator._module!r}]")
    assert evaluator("rnn_forward", args, ("rnn_step_forward",)).error is None


def test_input_transformers_cannot_stop_the_grading_harness(kernel):
    kernel.run("get_ipython().input_transformers_cleanup.append(lambda lines: [])")
    try:
        assert kernel.run("print('shown')").printed == ""           # every cell is now emptied
        evaluator = remote.RemoteEvaluator(kernel, call_timeout=20)
        outcome = evaluator("rnn_forward", _args(np.random.default_rng(6)), ("rnn_step_forward",))
        assert outcome.error is None and evaluator.use_expressions
    finally:
        kernel.run("", expression="get_ipython().input_transformers_cleanup.clear()")
    assert kernel.run("print('shown')").printed == "shown\n"


def test_stand_in_calls_are_limited_in_size(kernel):
    outcome = remote.RemoteEvaluator(kernel, call_timeout=20)("greedy", (np.zeros(1),), ("rnn_step_forward",))
    assert outcome.error_type == "RuntimeError" and "too large" in outcome.error


def test_a_prompt_with_a_guessed_token_is_not_taken_as_the_result(kernel):
    evaluator = remote.RemoteEvaluator(kernel, call_timeout=20)
    outcome = evaluator("cheater", (np.zeros(1),), ())
    assert outcome.outputs == "" and evaluator.input_prompts == 1


def test_input_in_a_graded_function_fails_as_it_would_under_nbgrader(kernel):
    outcome = remote.RemoteEvaluator(kernel, call_timeout=20)("asks", (np.zeros(1),), ())
    assert outcome.error_type in ("EOFError", "StdinNotImplementedError") and outcome.outputs is None


# --- small pieces ---------------------------------------------------------------------

def test_test_cells_belong_to_the_longest_matching_function():
    functions = ("rnn_backward", "rnn_backward_truncated")
    assert function_of_test("rnn_backward_truncated_test", functions) == "rnn_backward_truncated"
    assert function_of_test("rnn_backward_test_hidden", functions) == "rnn_backward"
    assert function_of_test("rnn_backward_tests", functions) is None
    assert function_of_test(None, functions) is None


def test_score_points_rounds_and_stays_within_the_cell_points():
    assert score_points(0.7, 3) == 2.1 and score_points(1.0, 4) == 4.0 and score_points(0.0, 2) == 0.0
    assert score_points(1 / 3, 1) == 0.33 and score_points(1.2, 2) == 2.0


# --- the wire format ----------------------------------------------------------------

def test_pack_unpack_round_trip_is_to_plain():
    value = ({"a": np.arange(6.0).reshape(2, 3), "n": np.float64(2.5)}, [1, True, None, "s", 0.1],
             np.zeros(3, dtype=np.int32), evaluate.Opaque("thing"))
    back = remote.unpack(remote.pack(value))
    expected = evaluate.to_plain(value)
    assert type(back[0]["n"]) is np.float64 and back[0]["n"] == expected[0]["n"]
    assert np.array_equal(back[0]["a"], expected[0]["a"]) and back[1] == expected[1]
    assert back[2].dtype == np.int32 and back[3] == evaluate.Opaque("thing")


def _npz(meta, **arrays):
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("text", [
    "not base64 at all!",
    _npz(["array", 0], a0=np.array([object()], dtype=object)),      # a pickle inside
    _npz(["array", 1], a0=np.zeros(2)),                              # a missing array
    _npz(["bogus"]),                                                 # an unknown tag
    _npz(["int", "9" * 1000]),                                       # an absurd number
])
def test_unpack_rejects_malformed_messages(text):
    with pytest.raises(remote.WireError):
        remote.unpack(text)


def test_unpack_rejects_a_zip_bomb():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.frombuffer(b'["array", 0]', dtype=np.uint8),
                        a0=np.zeros(remote.MAX_UNPACKED_BYTES // 8 + 1))
    text = base64.b64encode(buffer.getvalue()).decode()
    assert len(text) < remote.MAX_UNPACKED_BYTES // 100          # small on the wire, huge unpacked
    with pytest.raises(remote.WireError, match="too large"):
        remote.unpack(text)


def test_spec_survives_the_wire():
    spec = random_spec("log_sum_exp", (3,), np.random.default_rng(4))
    back = remote.unpack(remote.pack((spec,)))[0]
    assert isinstance(back, FunctionSpec) and back.kind == spec.kind and back.shape == spec.shape
    assert np.array_equal(back.params["A"], spec.params["A"])


# --- the assembled language model through the wire (notebook 06): dict arguments, integer ids, seven stand-ins

def test_remote_grades_the_language_model_with_its_stand_ins(kernel):
    """lm_loss_and_grads takes a dict of weights and integer ids and returns a dict of gradients; its building
    blocks (rnn_forward, temporal_affine_*, ...) are answered from the grader's process."""
    from autograder.grading import grade_function
    from autograder.mistakes import by_id
    from autograder.mistakes.language_model import LM
    assert kernel.run(LM).status == "ok"
    evaluator = remote.RemoteEvaluator(kernel, call_timeout=20)
    report = grade_function("lm_loss_and_grads", evaluator, 11)
    assert report.fraction == 1.0, report.feedback
    assert kernel.run(by_id("lm_loss_and_grads/embedding-assigned").source).status == "ok"
    report = grade_function("lm_loss_and_grads", evaluator, 11)
    assert report.mistakes == ["lm_loss_and_grads/embedding-assigned"], report.feedback
    assert [p.name for p in report.parts if not p.passed] == ["grads['Wx']"]
