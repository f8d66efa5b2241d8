"""The nbgrader preprocessor that grades outside the student's kernel.

`nbgrader autograde <assignment>`, run from course/, uses `GradeOutsideKernel`
in place of nbgrader's `Execute` (course/nbgrader_config.py sets
`c.Autograde.autograde_preprocessors = autograde_preprocessors()`). For each
submitted notebook it

1. starts one kernel (kernels.make_kernel_manager; sandboxed when
   `GradeOutsideKernel.sandbox = True`) and runs every code cell that is not a
   test cell, in order, with nbgrader's per-cell timeout, errors allowed, and
   outputs kept for the feedback. Cell tags (`skip-execution`,
   `raises-exception`, ...) are ignored: test cells are never run in the
   kernel at all, every other code cell is, except (with `skip_unneeded_cells`,
   on in `python -m autograder grade`) the course's own unchanged plain cells
   that no graded function depends on (needed_cells.py);
2. grades every graded function F whose answer cell (grade_id F) is in the
   notebook, in the course's order whatever the cells' (`grading_order`: building
   blocks first), with grading.grade_function(F, RemoteEvaluator, seed), in this
   process: the kernel only computes the student's outputs on inputs chosen
   here (remote.py). A kernel that dies or hangs while F runs costs F only:
   the kernel is restarted and the notebook's cells are run again before the
   next function;
3. shuts the kernel down, then writes each test cell of F (grade_id `F_test`
   or `F_test_<suffix>`): its source becomes the visible part only (the
   `### BEGIN/END HIDDEN TESTS` block is removed, so autograded notebooks and
   feedback never show hidden test code, nbgrader #917), and its outputs
   become a stdout stream with the feedback in plain words plus an
   execute_result whose text is the score in points (fraction x the cell's
   points, 2 decimals), which nbgrader's determine_grade records as partial
   credit. Stderr, warnings, prints and plots of the student's own cells
   cannot reach a test cell, so they never cost marks;
4. saves the per-function results as JSON outside every student folder:
   `<course root>/autograder_results/<assignment>/<student>.json` (see
   `results_path`), for `python -m autograder report`.

A test cell that belongs to no graded function present in the notebook scores
0 with a note (nbgrader would otherwise give an empty test cell full marks).

The results file (one per student and assignment; notebooks merged):

    {"assignment": "01_unrolling", "student": "alice",
     "notebooks": {"01_unrolling": {
         "graded_at": "2026-11-25T20:30:00+00:00", "seed": 123, "sandboxed": false,
         "kernel_restarts": 0, "notes": [],
         "grading_order": ["rnn_step_forward", "rnn_forward"],   # the course's order (grading_order)
         "functions": {"rnn_forward": {"fraction": 0.7, "error": null, "seconds": 0.4,
                                       "parts": [{"name": "h", "weight": 0.6, "passed": true,
                                                  "message": ""}, ...],
                                       "mistakes": ["..."], "message": "<feedback text>",
                                       "cases": ["case 0 ..."],
                                       "symptoms": [{"part": "db", "id": "divided-by-N",
                                                     "what": "the reference divided by N ..."}]}},
         "test_cells": {"rnn_forward_test": {"function": "rnn_forward", "score": 2.1,
                                             "max_score": 3.0}},
         "timing": {"kernel_start": 1.2, "student_cells": 0.8, "graded_calls": 0.5, "shutdown": 0.1},
         "cells_not_run": [5, 10]}}}

`timing` (seconds, or null when the notebook was refused unread) splits this notebook's grading: the
kernel's start (until it answers), the student's cells, the graded calls, the kernel's shutdown.
`cells_not_run`: the cells left out with `skip_unneeded_cells` (needed_cells.py), by index.
"""
import datetime
import json
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.converters import Autograde, NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, DeduplicateIds, Execute
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Bool, Dict, Float, Integer, Unicode, default

from . import kernels
from .outputs import OutputBudget

RESULTS_FOLDER = "autograder_results"
NOT_RUN_NOTE = ("[Not run when grading: this is one of the course's own cells, unchanged, and no graded "
                "function depends on it. Run it in your notebook to see its output.]\n")
MAX_RESTARTS = 3


def autograde_preprocessors():
    """nbgrader's autograde pipeline with its Execute replaced by GradeOutsideKernel, followed by
    SanitizeOutputs (autograded notebooks, shown by formgrader, keep no active content)."""
    from .sanitize import SanitizeOutputs
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    if Execute not in default:
        raise RuntimeError(f"nbgrader's autograde pipeline has no Execute step to replace: {default}")
    out = []
    for p in default:
        out += [GradeOutsideKernel, SanitizeOutputs] if p is Execute else [p]
    return out


class DeduplicateGradedCells(DeduplicateIds):
    """nbgrader's DeduplicateIds, but a repeated grade_id loses its nbgrader metadata entirely.

    A copied or split graded cell (copy-paste in JupyterLab copies the metadata)
    repeats a grade_id. nbgrader keeps the last copy and sets the others'
    metadata to {}, which CheckCellMetadata then rejects, failing the whole
    submission with a misleading "old metadata format" message (nbgrader
    #1083). Here the earlier copies become plain cells: they still run, and
    the last copy is graded.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times: the earlier copy is graded as a plain cell",
                             grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


def sanitize_preprocessors():
    """nbgrader's sanitize pipeline with DeduplicateIds replaced by DeduplicateGradedCells."""
    default = Autograde.class_traits()["sanitize_preprocessors"].default()
    if DeduplicateIds not in default:
        raise RuntimeError(f"nbgrader's sanitize pipeline has no DeduplicateIds step to replace: {default}")
    return [DeduplicateGradedCells if p is DeduplicateIds else p for p in default]


# ----------------------------------------------------------------------------- the autograde command

def _grading_plugin(converter):
    """The GradeOutsideKernel this autograde run will use (configured as nbgrader will), or None."""
    for p in converter.autograde_preprocessors:
        cls = p
        if isinstance(p, str):
            from traitlets.utils.importstring import import_item
            cls = import_item(p)
        if isinstance(cls, type) and issubclass(cls, GradeOutsideKernel):
            return cls(config=converter.config)
    return None


MAX_TIMESTAMP_BYTES = 4096


def special_entries(folder):
    """[(relative path, what it is)] of the entries of a submission folder that are not plain files or
    folders: symbolic links, named pipes, sockets, devices. Never follows a link, never opens a file."""
    import stat
    found = []
    folder = Path(folder)
    for top, dirs, files in os.walk(folder):                # os.walk does not descend into linked folders
        for name in sorted(dirs + files):
            path = Path(top) / name
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            kind = ("a symbolic link" if stat.S_ISLNK(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "a device file" if stat.S_ISCHR(mode)
                    or stat.S_ISBLK(mode) else None)
            if kind:
                found.append((str(path.relative_to(folder)), kind))
    return found


def dropped_note(rel, kind):
    return f"{rel} is {kind} in the submission: it was not copied, read or followed"


class SafeAutograde(Autograde):
    """nbgrader's Autograde converter, made to fail closed before it touches any submission.

    `nbgrader autograde` (and so `python -m autograder grade`, which runs it) uses this class once
    `install_autograde()` ran (course/nbgrader_config.py calls it). Before anything is copied or run it
    - refuses the whole run, with one message, when the grading plugin would run student code without a
      working sandbox and the instructor did not opt in (GradeOutsideKernel.allow_unsandboxed);
    - screens each submission before nbgrader reads or copies it (nbgrader's copy follows links as the
      grader: a link to /dev/zero fills the disk, a link to a file only the grader may read is copied
      out): links, pipes, sockets and devices are never copied (GradeOutsideKernel names them in the
      feedback), and a submission whose notebook or timestamp.txt is one of them is refused, naming it.
    """

    def init_destination(self, assignment_id, student_id):
        source = Path(self._format_source(assignment_id, student_id))
        bad = dict(special_entries(source))
        notebooks = {Path(n).name for n in self.notebooks} | {"timestamp.txt"}
        for rel, kind in bad.items():
            if rel in notebooks:
                raise NbGraderException(f"{source / rel} is {kind}, not a file: submission of {student_id} "
                                        "refused (nothing was read through it). Ask for the file itself.")
        stamp = source / "timestamp.txt"
        if stamp.is_file() and stamp.stat().st_size > MAX_TIMESTAMP_BYTES:
            raise NbGraderException(f"{stamp} is larger than {MAX_TIMESTAMP_BYTES} bytes: submission of "
                                    f"{student_id} refused")
        self._dropped = [str(source / rel) for rel in bad]
        return super().init_destination(assignment_id, student_id)

    def init_assignment(self, assignment_id, student_id):
        import glob
        before = list(self.coursedir.ignore)
        # nbgrader matches ignore globs against full paths too: the screened entries are left out of its copy
        self.coursedir.ignore = before + [glob.escape(p) for p in getattr(self, "_dropped", [])]
        try:
            super().init_assignment(assignment_id, student_id)
        finally:
            self.coursedir.ignore = before

    def start(self):
        plugin = _grading_plugin(self)
        if plugin is not None:
            from .sandbox import SandboxUnavailable
            try:
                plugin.sandbox_decision()
            except SandboxUnavailable as e:
                self.log.error("%s", e)
                raise NbGraderException(str(e)) from None
        super().start()


def install_autograde():
    """Make `nbgrader autograde` in this process use SafeAutograde (call it from nbgrader_config.py).

    nbgrader 0.9.6's AutogradeApp instantiates the name `Autograde` of its module; there is no config
    option for the converter class. `c.Autograde.*` settings apply to the subclass unchanged.
    """
    import nbgrader.apps.autogradeapp as app
    if not (isinstance(app.Autograde, type) and issubclass(app.Autograde, Autograde)):
        raise RuntimeError(f"nbgrader's autograde app changed: its converter is {app.Autograde!r}")
    app.Autograde = SafeAutograde


def results_path(course_root, assignment, student):
    """Where the grader writes one student's results for one assignment."""
    return Path(course_root) / RESULTS_FOLDER / assignment / f"{student}.json"


def graded_functions():
    from .cases import GRADED
    return tuple(GRADED)


def grading_order(names):
    """`names` (graded functions answered in a notebook) in the order they are graded: the course's, never
    the cells'. Every function comes after the building blocks the reference stands in for while it is
    checked (grading.STAND_INS), then in course order (cases.GRADED). So a stand-in's answers, which the
    student's code sees, are only ever answers of functions already graded: none can be collected and
    replayed for a function graded later.
    """
    from .grading import STAND_INS
    course = {f: i for i, f in enumerate(graded_functions())}
    todo = sorted(dict.fromkeys(names), key=lambda f: course.get(f, len(course)))
    done, order = set(), []

    def visit(f, path=()):
        if f in done:
            return
        if f in path:
            raise RuntimeError(f"grading.STAND_INS has a cycle: {' -> '.join(path + (f,))}")
        for block in sorted(STAND_INS.get(f, ()), key=lambda g: course.get(g, len(course))):
            if block in todo:
                visit(block, path + (f,))
        done.add(f)
        order.append(f)

    for f in todo:
        visit(f)
    return order


def grade_id_of(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def function_of_test(grade_id, functions):
    """The graded function a test cell's grade_id belongs to (F_test or F_test_<suffix>), or None."""
    grade_id = grade_id or ""
    owners = [f for f in functions if grade_id == f"{f}_test" or grade_id.startswith(f"{f}_test_")]
    return max(owners, key=len) if owners else None


def score_points(fraction, points):
    """The points a test cell earns: fraction x points, rounded to 2 decimals, within [0, points]."""
    return min(float(points), max(0.0, round(float(fraction) * float(points), 2)))


def report_record(report):
    """A FunctionReport as plain JSON data."""
    return {"fraction": report.fraction, "error": report.error, "seconds": round(report.seconds, 3),
            "parts": [{"name": p.name, "weight": p.weight, "passed": bool(p.passed), "message": p.message}
                      for p in report.parts],
            "mistakes": list(report.mistakes), "message": report.feedback, "cases": list(report.cases),
            "symptoms": [{"part": s.part, "id": s.id, "what": s.what} for s in report.symptoms]}


class KernelLost(RuntimeError):
    """The notebook's kernel kept dying: grading of this notebook cannot go on."""


class GradeOutsideKernel(Execute):
    """Runs the student's cells in a kernel and grades the graded functions in this process (see module doc)."""

    call_timeout = Float(30.0, help="Seconds one call of a student's function may take before it is "
                                    "interrupted (each function is called on several cases).").tag(config=True)
    seed = Integer(None, allow_none=True, help="Seed of the grading cases; default: $AUTOGRADER_SEED, "
                                               "else a fresh random one per notebook.").tag(config=True)
    results_dir = Unicode("", help="Folder for the JSON results; default <course root>/autograder_results."
                          ).tag(config=True)
    sandbox = Bool(True, help="Start every kernel through autograder.sandbox (bubblewrap). Switching it off "
                              "also needs allow_unsandboxed.").tag(config=True)
    allow_unsandboxed = Bool(False, help="Run student code without the sandbox when bubblewrap does not work "
                                         "(or sandbox = False). Off: grading is refused with the reason and the "
                                         "fix. On: every result says UNSANDBOXED.").tag(config=True)
    require_sandbox = Bool(True, help="Deprecated, always the case: grading without a sandbox needs "
                                      "allow_unsandboxed.").tag(config=True)
    separate_user = Bool(False, help="Unsandboxed (allow_unsandboxed) and run as root, e.g. in a Gradescope "
                                     "container: run each kernel as a user id of its own that cannot read "
                                     "what only root may read (autograder.sandbox_launcher).").tag(config=True)
    limits = Dict({}, help="Resource limits of the sandbox (autograder.limits.Limits fields).").tag(config=True)
    skip_unneeded_cells = Bool(False, help="Leave out the course's own plain cells that no graded function "
                                           "depends on (autograder/needed_cells.py); `python -m autograder "
                                           "grade` turns it on. Scores are the same; the feedback shows a "
                                           "note in those cells instead of their output.").tag(config=True)

    @default("shutdown_kernel")
    def _shutdown_kernel_default(self):
        return "immediate"            # the kernel's state is of no use once graded; a polite shutdown costs ~1 s

    @default("raise_on_iopub_timeout")
    def _raise_on_iopub_timeout_default(self):
        # outputs lost on the way (an oversized message dropped by the grader's sockets) are noted in the
        # cell; they are no reason to treat the kernel as hung and restart it
        return False

    @default("store_widget_state")
    def _store_widget_state_default(self):
        return False                  # widget state is the kernel's to write: it never enters the notebook

    # -- untrusted outputs: bounded in bytes as they arrive (outputs.py) ------------

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or not outs or outs[-1] is not out:
            return out
        kept = self._budget.admit(out, cell_index)
        if kept is None:
            outs.pop()
        elif kept is not out:
            outs[-1] = new_output(**kept)
        return outs[-1] if kept is not None else None

    def _update_display_id(self, display_id, msg):
        content = msg.get("content", {})
        if self._budget.admit_update(content.get("data", {}), content.get("metadata", {})):
            super()._update_display_id(display_id, msg)

    def handle_comm_msg(self, outs, msg, cell_index):
        """Widget messages are ignored: no widget state, no output widgets capturing outputs."""
        return None

    def sandbox_decision(self):
        """The sandbox status kernels will run under, or SandboxUnavailable (grading refused) raised."""
        from .sandbox import decide
        return decide(self.sandbox, self.allow_unsandboxed)

    def create_kernel_manager(self):
        """The manager of this notebook's kernel, from kernels.make_kernel_manager (nbclient calls this)."""
        from .limits import Limits
        from .sandbox import sandbox_launcher
        status = getattr(self, "_status", None) or self.sandbox_decision()
        # unsandboxed (by opt-in only): the supervisor's limits still apply
        launcher = sandbox_launcher(Limits.from_dict(self.limits), status=status, separate_user=self.separate_user)
        self.km = kernels.make_kernel_manager(self._workdir, self._runtime_dir, launcher=launcher,
                                              manager_class=self.kernel_manager_class, config=self.config)
        return self.km

    # -- the notebook ------------------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        from .hidden import run_seed

        self._workdir = (resources or {}).get("metadata", {}).get("path") or os.getcwd()
        self._status = self.sandbox_decision()        # refuses (raises) before any student code runs
        self._budget = OutputBudget()
        if not self._status.sandboxed:
            self.log.warning("%s", self._status.detail)
        self._runtime_dir = kernels.make_runtime_dir()
        functions = graded_functions()
        answers = grading_order(grade_id_of(c) for c in nb.cells       # the course's order, not the cells'
                                if c.cell_type == "code" and utils.is_solution(c) and not utils.is_grade(c)
                                and grade_id_of(c) in functions)
        self._grading_order = answers
        tests = {i: function_of_test(grade_id_of(c), functions) for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and utils.is_grade(c) and not utils.is_solution(c)}
        seed = run_seed(self.seed)
        reports, failures, notes = {}, {}, []
        self.restarts = 0
        self._timing = None
        self._not_run = []
        refused = self._drop_symlinked_files(resources, notes)
        if refused:
            return self._refuse(nb, resources, refused, tests, answers, seed, notes)
        start = time.perf_counter()
        try:
            NotebookClient.__init__(self, nb, km)       # as ExecutePreprocessor.preprocess: reset to this notebook
            self.reset_execution_trackers()
            self._check_assign_resources(resources)
            self.skip_cells_with_tag = f"never-skip-{secrets.token_hex(16)}"   # tags cannot skip a cell
            runnable = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and i not in tests]
            self._not_run = self._cells_not_needed(resources, runnable) if self.skip_unneeded_cells else []
            for i in self._not_run:
                self.nb.cells[i].outputs = [new_output("stream", name="stdout", text=NOT_RUN_NOTE)]
            with self.setup_kernel():
                kernels.heal_channels(self.kc)          # arm: an oversized output must not leave us deaf
                info = self.wait_for_reply(self.kc.kernel_info())
                started = time.perf_counter()
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                code_cells = [i for i in runnable if i not in self._not_run]
                self._no_replay = set()            # cells that killed or hung the kernel: never run again
                ran = graded = None
                try:
                    self._run_cells(code_cells, resources, notes)
                    ran = time.perf_counter()
                    self._grade_all(answers, code_cells, seed, reports, failures, notes)
                except KernelLost as e:
                    notes.append(str(e))
                    failures.update({name: str(e) for name in answers if name not in reports})
                ran = ran or time.perf_counter()
                graded = time.perf_counter()
        finally:
            kernels.remove_runtime_dir(self._runtime_dir)
        notes.extend(self._budget.notes())
        # where the time went (benchmarks/bench_class_grading.py tabulates it); a restart counts where it happened
        self._timing = {"kernel_start": round(started - start, 3), "student_cells": round(ran - started, 3),
                        "graded_calls": round(graded - ran, 3), "shutdown": round(time.perf_counter() - graded, 3)}
        self.log.info("Kernel start %.1f s, student cells %.1f s, grading %d function(s) %.1f s, shutdown %.1f s",
                      started - start, ran - started, len(answers), graded - ran, time.perf_counter() - graded)
        test_cells = self._write_test_cells(tests, reports, failures, answers, notes=notes)
        self._save_results(resources, seed, reports, failures, test_cells, notes)
        return self.nb, self.resources

    def _cells_not_needed(self, resources, runnable):
        """The indices among `runnable` (the code cells but tests) of the cells grading leaves out
        (needed_cells.py); none when the course's own version of the notebook
        (source/<assignment>/<notebook>.ipynb) cannot be read."""
        import nbformat
        from . import needed_cells
        info = (resources or {}).get("nbgrader", {})
        if not (info.get("assignment") and info.get("notebook")):
            return []
        coursedir = CourseDirectory(config=self.config)
        path = (Path(coursedir.root) / coursedir.source_directory / info["assignment"]
                / f"{info['notebook']}.ipynb")
        try:
            course = nbformat.read(path, as_version=4)
        except (OSError, ValueError) as e:
            self.log.warning("Every cell runs: the course's notebook %s could not be read (%s)", path, e)
            return []
        return needed_cells.cells_not_needed(self.nb.cells, runnable, needed_cells.course_plain_sources(course),
                                             graded_functions())

    def _submitted_dir(self, resources):
        info = (resources or {}).get("nbgrader", {})
        if not (info.get("student") and info.get("assignment")):
            return None
        coursedir = CourseDirectory(config=self.config)
        return Path(coursedir.root) / coursedir.submitted_directory / info["student"] / info["assignment"]

    def _drop_symlinked_files(self, resources, notes):
        """Links, pipes, sockets and devices in the submission are never followed: SafeAutograde kept them out
        of nbgrader's copy; here they are named in the notes (and any copy that plain nbgrader made is
        deleted before the kernel starts). Returns a refusal message when the notebook itself is a link."""
        submitted = self._submitted_dir(resources)
        if submitted is None or not submitted.exists():
            return None
        notebook = f"{resources['nbgrader'].get('notebook')}.ipynb"
        for rel, kind in special_entries(submitted):
            if rel == notebook:
                return (f"The submitted notebook {notebook} is {kind}, not a notebook: it was not graded. "
                        "Submit the notebook file itself.")
            copy = Path(self._workdir) / rel
            if copy.is_dir() and not copy.is_symlink():
                shutil.rmtree(copy, ignore_errors=True)
            elif copy.exists() or copy.is_symlink():
                copy.unlink()
            notes.append(dropped_note(rel, kind))
        return None

    def _refuse(self, nb, resources, message, tests, answers, seed, notes):
        """Grade nothing: every test cell scores 0 with `message`; answer cells keep no content."""
        self.nb = nb
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_solution(cell) and not utils.is_grade(cell):
                cell.source = f"# Not graded: {message}"     # the link's target is never shown back
                cell.outputs = []
        notes.append(message)
        failures = {name: message for name in answers}
        test_cells = self._write_test_cells(tests, {}, failures, answers, refused=True, notes=notes[:-1])
        self._save_results(resources, seed, {}, failures, test_cells, notes)
        return nb, resources

    def _run_cells(self, indices, resources, notes):
        """Execute the given cells, outputs kept. A cell that kills the kernel gets an error output; the
        kernel is restarted with the cells before it run again, and execution goes on after it."""
        done = []
        for index in indices:
            cell = self.nb.cells[index]
            try:
                self.preprocess_cell(cell, resources, index)
            except (DeadKernelError, CellTimeoutError) as e:
                if isinstance(e, DeadKernelError):
                    ename, reason = "DeadKernelError", self._death_reason()
                    note = f"the kernel died in cell {index}: {reason}"
                else:                       # the interrupt did not stop it: the kernel is replaced
                    ename = "CellTimeoutError"
                    reason = f"the cell ran past its {self.timeout:g} s limit, ignored the interrupt and was stopped"
                    note = f"cell {index} was stopped: it ran past its {self.timeout:g} s limit and ignored the interrupt"
                cell.outputs.append(new_output("error", ename=ename, evalue=reason, traceback=[f"{ename}: {reason}"]))
                notes.append(note)
                self._no_replay.add(index)
                self._fresh_kernel(done, notes)
                continue
            finally:
                if "iopub" in kernels.heal_channels(self.kc):
                    cut = (f"a message larger than the grader accepts ({kernels.MAX_MESSAGE_BYTES // 2 ** 20} MB) "
                           "was dropped, with what the cell showed after it")
                    cell.outputs.append(new_output("stream", name="stdout", text=f"[output cut: {cut}]\n"))
                    notes.append(f"cell {index}: {cut}")
            if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
                self._no_replay.add(index)
            done.append(index)

    def _grade_all(self, answers, code_cells, seed, reports, failures, notes):
        """grade_function for every answered graded function, in this process; a dead kernel is replaced."""
        from .grading import grade_function
        from .remote import KernelSession, RemoteEvaluator
        try:
            session = KernelSession(self.km, startup_timeout=self.startup_timeout)
        except RuntimeError as e:   # still busy with a cell that ignored its interrupt, then stopped, or dead
            notes.append(f"kernel restarted before grading: it did not answer ({e}; {self._death_reason()})")
            self._fresh_kernel(code_cells, notes)
            session = KernelSession(self.km, startup_timeout=self.startup_timeout)
        evaluator = RemoteEvaluator(session, call_timeout=self.call_timeout)
        try:
            for name in answers:
                if evaluator.needs_restart:
                    notes.append(f"kernel restarted: {evaluator.broken_reason} ({self._death_reason()})")
                    session.close()
                    self._fresh_kernel(code_cells, notes)
                    session = KernelSession(self.km, startup_timeout=self.startup_timeout)
                    evaluator.replace_session(session)
                try:
                    reports[name] = grade_function(name, evaluator, seed)
                except Exception as e:          # a fault of the grader, not of the student
                    self.log.exception("Could not grade %s", name)
                    failures[name] = f"{type(e).__name__}: {e}"
            if evaluator.input_prompts:
                notes.append(f"the submission called input() {evaluator.input_prompts} time(s) "
                             "while being graded (answered with an empty string)")
        finally:
            session.close()
            evaluator.close()

    def _death_reason(self):
        """Plain words on why the kernel ended (the sandbox's record when there is one)."""
        if self.sandbox:
            from .limits import explain
            from .sandbox import read_outcome
            outcome = read_outcome(self._runtime_dir, remove=True)
            if outcome:
                return explain(outcome)
        return "the notebook's Python process stopped (a crash, os._exit, or out of memory)"

    def _fresh_kernel(self, cells, notes):
        """Restart the kernel and run `cells` again, outputs discarded (they were recorded the first
        time); a cell that stops the kernel again is left out. Raises KernelLost after MAX_RESTARTS."""
        from .remote import KernelSession, _blocking
        cells = [i for i in cells if i not in self._no_replay]
        while True:
            if self.restarts >= MAX_RESTARTS:
                raise KernelLost(f"the kernel stopped {self.restarts + 1} times; grading of this notebook "
                                 "gave up (the instructor must grade it by hand)")
            self.restarts += 1
            _blocking(self.km.restart_kernel(now=True))
            session = KernelSession(self.km, startup_timeout=self.startup_timeout)
            try:
                bad = next((i for i in cells if not self._replays(session, i)), None)
            finally:
                session.close()
            if bad is None:
                return
            notes.append(f"cell {bad} stopped the kernel when run again after a restart; it was left out")
            self._no_replay.add(bad)
            cells.remove(bad)

    def _replays(self, session, index):
        """Run cell `index` again; False when that killed or hung the kernel."""
        run = session.run(self.nb.cells[index].source, timeout=self.timeout or 30)
        return not (run.died or (run.timed_out and run.status is None))

    # -- the test cells ----------------------------------------------------------

    def _write_test_cells(self, tests, reports, failures, answers, refused=False, notes=()):
        """Replace each test cell's source by its visible part and its outputs by feedback + score; the
        grading notes (files left out, kernel restarts, ...) go before the first test cell's feedback."""
        hidden = ClearHiddenTests(config=self.config)
        written = {}
        preface = "".join(f"  - {n}\n" for n in notes)
        preface = f"Notes on this submission:\n{preface}\n" if preface else ""
        for index, name in tests.items():
            cell = self.nb.cells[index]
            grade_id = grade_id_of(cell)
            hidden._remove_hidden_test_region(cell)
            points = float(cell.metadata["nbgrader"].get("points", 0))
            if name in reports:
                text, fraction = reports[name].feedback, reports[name].fraction
            elif refused:
                text, fraction = next(iter(failures.values()), "This notebook was not graded."), 0.0
            elif name in failures:
                self.log.error("Test cell %s scores 0: the autograder failed on %s", grade_id, name)
                text, fraction = (f"{name}: the autograder could not grade this function ({failures[name]}). "
                                  "Your instructor will grade it by hand."), 0.0
            elif name is not None and name not in answers:
                text, fraction = (f"{name}: its answer cell (grade_id {name!r}) is missing from the notebook, "
                                  "so there is nothing to grade."), 0.0
            else:
                self.log.warning("Test cell %s belongs to no graded function; it scores 0", grade_id)
                text, fraction = (f"This test cell ({grade_id}) belongs to no graded function; it scores 0 "
                                  "until an instructor grades it by hand."), 0.0
            score = score_points(fraction, points)
            text, preface = preface + text, ""
            cell.outputs = [new_output("stream", name="stdout", text=text.rstrip("\n") + "\n"),
                            new_output("execute_result", data={"text/plain": f"{score:g}"},
                                       execution_count=None)]
            cell.execution_count = None
            written[grade_id] = {"function": name, "score": score, "max_score": points}
        return written

    # -- the results file --------------------------------------------------------

    def _sandboxed(self):
        """True when this notebook's kernel really ran in the sandbox (not only when the config asked for it)."""
        status = getattr(self, "_status", None)
        return bool(status is not None and status.sandboxed)

    def _limits_in_force(self):
        """{limit: {"value", "enforced_by"}} as they applied to this notebook's kernels (autograder/usage.py)."""
        from .limits import Limits
        from .usage import limits_in_force
        return limits_in_force(Limits.from_dict(self.limits), self._sandboxed())

    def _save_results(self, resources, seed, reports, failures, test_cells, notes):
        info = (resources or {}).get("nbgrader", {})
        assignment, student, notebook = info.get("assignment"), info.get("student"), info.get("notebook")
        if not (assignment and student and notebook):
            self.log.warning("Not run by nbgrader autograde (no student/assignment given): results not saved")
            return None
        if self.results_dir:
            path = Path(self.results_dir) / assignment / f"{student}.json"
        else:
            path = results_path(CourseDirectory(config=self.config).root, assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(path.read_text())
            if not isinstance(data.get("notebooks"), dict):
                raise ValueError("no notebooks")
        except (OSError, ValueError, AttributeError):
            data = {"assignment": assignment, "student": student, "notebooks": {}}
        functions = {name: report_record(r) for name, r in reports.items()}
        functions.update({name: {"fraction": 0.0, "error": why, "grader_failure": True, "parts": [],
                                 "mistakes": [], "message": why, "cases": []} for name, why in failures.items()})
        data["notebooks"][notebook] = {
            "graded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "seed": seed, "sandboxed": self._sandboxed(), "kernel_restarts": self.restarts,
            "unsandboxed": None if self._sandboxed() else getattr(self, "_status", None) and self._status.detail,
            "notes": notes, "functions": functions, "test_cells": test_cells,
            "grading_order": list(getattr(self, "_grading_order", ())),
            "limits_in_force": self._limits_in_force(), "timing": getattr(self, "_timing", None),
            "cells_not_run": list(getattr(self, "_not_run", ()))}
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{student}.", suffix=".json")
        with os.fdopen(handle, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
        return path
