"""The instructor's command line.

    python -m autograder grade <assignment> [--workers N] [--student S ...] [--force] [--run-all-cells]
    python -m autograder feedback <assignment>
    python -m autograder report [<assignment> ...] [--csv FILE]
    python -m autograder samples [<assignment> ...]
    python -m autograder demo [--workers N]
    python -m autograder gradescope <assignment> [--out FILE.zip]   (see autograder/gradescope.py)
    python -m autograder publish [<assignment> ...] [--out DIR] [--toolbox-url URL]   (autograder/publish.py)

Every command takes `--course DIR` (default: course/ of this repository) and
runs nbgrader from that folder, so `course/nbgrader_config.py` (and with it
the autograder pipeline) applies exactly as for plain `nbgrader autograde`.

Parallel grading with a single gradebook writer. nbgrader grades one
submission at a time, and SQLite allows one writer: two `nbgrader autograde`
processes on the same gradebook.db abort with "database is locked". So the
students are split into batches (one per worker by default, see
`batches_of`), and each worker runs plain `nbgrader autograde <assignment>
--force --CourseDirectory.student_id_exclude=<everyone outside the batch>`
against a private copy of gradebook.db (same course folder, same config,
writing only `autograded/S/<assignment>/` of its students): one nbgrader start
(~3 s of imports) per batch, not per student. Each worker leaves out the
course's own unchanged cells that no graded function depends on (plots,
widgets, training runs: autograder/needed_cells.py; `--run-all-cells` runs
them). This process, the only writer,
copies what autograding wrote for each student S of the batch (submission
timestamp, late penalties, auto scores, "needs manual grade" flags, auto
comments) into the real gradebook. Manual scores already in the gradebook are
kept.

A student counts as graded when `autograded/S/<assignment>/` exists and the
gradebook holds the submission; a re-run skips them (use --force to grade
again), so nobody is graded twice and an interrupted run loses nothing.
A submission whose grading fails (nbgrader logs an error for it and removes
its autograded folder, or its batch runs past --timeout x batch size) is
reported and does not stop the others; the exit status is 1.
"""
import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

# nbgrader, tqdm and autograder.report/samples are imported where they are used: importing nbgrader costs ~2 s
# of CPU, and `grade` starts its workers first and imports it while they run (see grade_class)

DEFAULT_COURSE = Path(__file__).resolve().parents[1] / "course"
DEMO_SEED = 2013   # demo grading cases are fixed, so its tables are the same on every run


# ----------------------------------------------------------------------------- the course folder

class Course:
    """An nbgrader course folder (the one holding nbgrader_config.py) and how to run nbgrader in it."""

    def __init__(self, root):
        self.root = Path(root).resolve()
        if not (self.root / "nbgrader_config.py").is_file():
            raise SystemExit(f"{self.root} is not an nbgrader course folder (no nbgrader_config.py)")
        self.db_path = self.root / "gradebook.db"

    @property
    def db_url(self):
        return f"sqlite:///{self.db_path}"

    def assignments(self):
        """Assignments with at least one notebook in source/, sorted."""
        return sorted(p.name for p in (self.root / "source").iterdir()
                      if p.is_dir() and any(p.glob("*.ipynb")))

    def submitted_students(self, assignment):
        """Students with a folder submitted/<student>/<assignment>/, sorted."""
        folder = self.root / "submitted"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / assignment).is_dir())

    def submitted_names(self):
        """Every folder name in submitted/ (what nbgrader's student_id '*' may match)."""
        folder = self.root / "submitted"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def autograded(self, student, assignment):
        return self.root / "autograded" / student / assignment

    def nbgrader(self, *args, env=None, timeout=None):
        """Run `nbgrader <args>` (through autograder/run_nbgrader.py) from the course folder; return the
        CompletedProcess (never raises on failure)."""
        bindir = str(Path(sys.executable).parent)
        # nbgrader calls the `alembic` program when it creates a gradebook: it must be on PATH
        full_env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), **(env or {})}
        argv = [sys.executable, "-m", "autograder.run_nbgrader", *args]   # `python -m nbgrader`, started faster
        # its own process group, so that a timeout stops nbgrader and the kernels it started
        with subprocess.Popen(argv, cwd=self.root, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True, preexec_fn=_die_with_parent) as proc:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
                # what nbgrader logged before it was stopped tells which students it had finished
                raise subprocess.TimeoutExpired(argv, timeout, output=out, stderr=err) from None
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _die_with_parent():
    """In a worker's nbgrader process: be killed when the grading command dies (Linux), so that a killed class
    run leaves no worker behind to write a student's folder while a rerun grades the same student."""
    if sys.platform.startswith("linux"):
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def nbgrader_errors(run):
    """The ERROR lines of an nbgrader run (its log goes to stderr), or its last lines."""
    lines = (run.stderr or "").splitlines() + (run.stdout or "").splitlines()
    errors = [l for l in lines if "| ERROR]" in l or "Error:" in l]
    return "\n".join(errors[-6:] or lines[-6:])


def _query(db_path, sql, *params):
    """Rows of a read-only query on an nbgrader gradebook (plain sqlite3: no nbgrader import needed)."""
    db = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def require_assignment_in_gradebook(course, assignment):
    if not course.db_path.exists():
        raise SystemExit(f"no gradebook in {course.root}: run `nbgrader generate_assignment {assignment}` there first")
    if not _query(course.db_path, "SELECT 1 FROM assignment WHERE name = ?", assignment):
        raise SystemExit(f"assignment {assignment!r} is not in the gradebook: "
                         f"run `nbgrader generate_assignment {assignment}` in {course.root} first")


# ----------------------------------------------------------------------------- a batch of students (a worker)

@dataclass
class StudentRun:
    """What grading one student's submission gave: ok, the private gradebook it wrote, or why it failed."""
    student: str
    ok: bool
    private_db: Path
    message: str = ""


def snapshot_gradebook(db_path, dest):
    """A consistent copy of an SQLite gradebook (sqlite3's online backup), at dest."""
    src, dst = sqlite3.connect(db_path), sqlite3.connect(dest)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()
    return Path(dest)


_STARTED = re.compile(r"\| INFO\] Creating/updating student with ID '(.*)':")


_SUMMARY = re.compile(r"\| ERROR\] There was an error processing assignment '.*' for student '(.*)'$")


def _log_sections(log):
    """nbgrader's log of a batch split per student: [(student, lines)] in grading order (it grades one
    submission at a time and logs "Creating/updating student with ID 'S'" when it starts S). The summary
    nbgrader writes at the end (the students it failed to grade) is left out."""
    sections = []
    for line in (log or "").splitlines():
        if _SUMMARY.search(line):
            break
        m = _STARTED.search(line)
        if m:
            sections.append((m.group(1), []))
        elif sections:
            sections[-1][1].append(line)
    return sections


def _started_students(log):
    """Students nbgrader began grading, in its order."""
    return [s for s, _ in _log_sections(log)]


def _error_block(log, student, assignment, failed=False):
    """Why nbgrader failed to grade this student ("" if it did not fail): the end of the error lines (traceback
    included) it logged while grading the student. Only the students named in nbgrader's closing summary
    failed: it logs errors it recovers from too (a cell that timed out and was interrupted)."""
    summary = f"There was an error processing assignment '{assignment}' for student '{student}'"
    if not failed and summary not in (log or ""):   # failed: known otherwise (its autograded folder is gone)
        return ""
    out, in_error = [], False
    for s, lines in _log_sections(log):
        if s != student:
            continue
        for line in lines:
            if line.startswith("["):
                in_error = "| ERROR]" in line
            if in_error and line.strip():
                out.append(line)
    if not out:   # refused before nbgrader started the student (SafeAutograde's screening): its own error block
        opening = re.compile(r"\| ERROR\] There was an error processing assignment: .*/" + re.escape(student) + "/"
                             + re.escape(assignment) + "$")
        in_error = False
        for line in (log or "").splitlines():
            if line.startswith("["):
                in_error = bool(opening.search(line)) or (in_error and "| ERROR]" in line
                                                           and "There was an error" not in line)
            if in_error and line.strip():
                out.append(line)
    return "\n".join(out[-6:] or ["nbgrader: " + summary])


def batches_of(students, workers, names_in_submitted, batch_size=None):
    """Split the students to grade into batches, one nbgrader process each.

    By default one batch per worker, dealt round-robin over the sorted ids: every nbgrader start costs ~2-3 s
    of CPU, and on 8 students x 2 workers one batch per worker (18 s) beat a work queue of batches of 2
    (26 s) and of 1 (30 s). `batch_size` gives a work queue of batches of that size instead (for a class
    where a few submissions are much slower than the rest). A batch is expressed through
    `CourseDirectory.student_id_exclude`, a comma-separated list: if any student folder name holds a comma
    it cannot be excluded, so then every student is graded on its own (`--student S`).
    """
    if not students:
        return []
    if any("," in name for name in names_in_submitted):
        return [[s] for s in students]
    if batch_size is None:
        return [students[i::workers] for i in range(min(workers, len(students)))]
    return [students[i:i + batch_size] for i in range(0, len(students), batch_size)]


def autograde_batch(course, assignment, batch, snapshot, workdir, names_in_submitted, timeout=None, seed=None,
                    allow_unsandboxed=False, run_all_cells=False):
    """Run plain `nbgrader autograde` once for a batch of students against a private copy of the gradebook.

    One nbgrader start (~3 s of imports) per batch instead of per student.
    Students outside the batch are excluded through
    `--CourseDirectory.student_id_exclude`; a batch of one student with a
    comma in some folder name uses `--student S` instead. nbgrader goes on
    after a failed submission (and removes its autograded folder), so a
    student counts as graded when its autograded folder exists and nbgrader
    logged no error for it. `timeout` is per student: the batch may take
    `timeout * len(batch)`; when it runs past that, the students nbgrader had
    not finished are reported failed (their partial autograded folders removed).

    The kernels talk over IPC sockets in this batch's own folder: kernels
    started at the same moment by parallel workers would otherwise race for
    the same TCP port. `seed` (if given) fixes the grading cases through
    $AUTOGRADER_SEED (autograder/nbgrader_plugin.py); otherwise each notebook
    draws fresh ones. Unless `run_all_cells`, the course's own cells that no
    graded function depends on are left out (autograder/needed_cells.py).
    Returns a list of StudentRun in batch order.
    """
    folder = Path(tempfile.mkdtemp(prefix="b", dir=workdir))
    private_db = folder / "gradebook.db"
    shutil.copyfile(snapshot, private_db)
    in_batch = set(batch)
    excluded = sorted(set(names_in_submitted) - in_batch)
    if any("," in name for name in names_in_submitted):
        assert len(batch) == 1
        select = ["--student", batch[0]]
    else:
        # "*" with an empty exclude list would be read as "exclude nobody": fine, the batch is everyone
        select = [f"--CourseDirectory.student_id_exclude={','.join(excluded)}"] if excluded else []
    args = ["autograde", assignment, "--force", *select,
            f"--CourseDirectory.db_url=sqlite:///{private_db}",
            "--KernelManager.transport=ipc", f"--KernelManager.ip={folder / 'kernel'}"]
    if allow_unsandboxed:
        args.append("--GradeOutsideKernel.allow_unsandboxed=True")
    if not run_all_cells:
        args.append("--GradeOutsideKernel.skip_unneeded_cells=True")
    limit = None if timeout is None else timeout * len(batch)
    env = None if seed is None else {"AUTOGRADER_SEED": str(seed)}
    try:
        run = course.nbgrader(*args, timeout=limit, env=env)
    except subprocess.TimeoutExpired as stopped:
        log = (stopped.stderr or "") + (stopped.output or "")
        if isinstance(log, bytes):
            log = log.decode(errors="replace")
        started = [s for s in _started_students(log) if s in in_batch]
        finished = set(started[:-1])   # the last one started was cut off
        runs = []
        for s in batch:
            if s in finished:   # nbgrader was stopped before its summary: a failed student's folder is gone
                if course.autograded(s, assignment).is_dir():
                    runs.append(StudentRun(s, True, private_db))
                else:
                    runs.append(StudentRun(s, False, private_db, _error_block(log, s, assignment, failed=True)))
                continue
            if s in started and s not in finished:
                shutil.rmtree(course.autograded(s, assignment), ignore_errors=True)
            runs.append(StudentRun(s, False, private_db,
                                   f"grading took longer than {timeout} s per student ({limit} s for its batch "
                                   f"of {len(batch)}) and was stopped"))
        return runs
    log = (run.stderr or "") + (run.stdout or "")
    runs = []
    for s in batch:
        error = _error_block(log, s, assignment)
        if not error and course.autograded(s, assignment).is_dir():
            runs.append(StudentRun(s, True, private_db))
        else:
            runs.append(StudentRun(s, False, private_db, error or nbgrader_errors(run)))
    return runs


# ----------------------------------------------------------------------------- the single writer

def _read_submission(db_url, assignment, student):
    """Everything autograding writes for one submission, as plain data."""
    from nbgrader.api import Gradebook
    with Gradebook(db_url) as gb:
        sub = gb.find_submission(assignment, student)
        st = sub.student
        return {
            "student": {k: getattr(st, k) for k in ("first_name", "last_name", "email", "lms_user_id")},
            "timestamp": sub.timestamp,
            "notebooks": {
                nb.name: {
                    "late_submission_penalty": nb.late_submission_penalty,
                    "grades": {g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
                    "comments": {c.name: c.auto_comment for c in nb.comments},
                } for nb in sub.notebooks},
        }


def merge_submission(private_db_url, gradebook, assignment, student):
    """Copy what autograding wrote for (assignment, student) from a private gradebook into `gradebook`.

    Only the autograder's fields are copied; manual scores, extra credit,
    manual comments and extensions already in `gradebook` are left alone.
    Returns False when the private gradebook holds no submission (nbgrader
    failed before creating it).
    """
    from nbgrader.api import MissingEntry
    from sqlalchemy.exc import SAWarning
    try:
        data = _read_submission(private_db_url, assignment, student)
    except MissingEntry:
        return False
    try:
        gradebook.find_student(student)
    except MissingEntry:
        gradebook.add_student(student, **data["student"])
    kwargs = {"timestamp": data["timestamp"]} if data["timestamp"] is not None else {}
    with warnings.catch_warnings():
        # nbgrader's add_submission links rows before adding them to the session; SQLAlchemy
        # warns about it (plain `nbgrader autograde` does the same), the rows are saved all right
        warnings.simplefilter("ignore", SAWarning)
        sub = gradebook.update_or_create_submission(assignment, student, **kwargs)
    for nb in sub.notebooks:
        new = data["notebooks"][nb.name]
        nb.late_submission_penalty = new["late_submission_penalty"]
        for grade in nb.grades:
            grade.auto_score, grade.needs_manual_grade = new["grades"][grade.name]
        for comment in nb.comments:
            comment.auto_comment = new["comments"][comment.name]
    gradebook.db.commit()
    return True


def is_graded(course, assignment, student):
    """Graded before: the autograded folder exists and the gradebook holds the submission's automatic scores.

    The scores, not just the submission row: nbgrader's API commits the row
    before merge_submission fills in the scores, so a run killed in between
    leaves a row without them, and that student must be graded again. (An
    assignment with no automatic score at all, only written answers, is
    therefore graded again on every run; its manual scores are kept.)
    """
    if not course.autograded(student, assignment).is_dir():
        return False
    return bool(_query(course.db_path, "SELECT 1 FROM submitted_assignment "
                       "JOIN assignment ON submitted_assignment.assignment_id = assignment.id "
                       "JOIN submitted_notebook ON submitted_notebook.assignment_id = submitted_assignment.id "
                       "JOIN grade ON grade.notebook_id = submitted_notebook.id "
                       "WHERE assignment.name = ? AND submitted_assignment.student_id = ? "
                       "AND grade.auto_score IS NOT NULL LIMIT 1", assignment, student))


# ----------------------------------------------------------------------------- the class

@dataclass
class GradeResult:
    """One row of the class table: score, max_score (None if not graded), status."""
    student: str
    status: str           # "graded", "graded, needs manual grade", "skipped (graded before)", "FAILED"
    score: float = None
    max_score: float = None
    message: str = ""


def check_sandbox(course, allow_unsandboxed=False):
    """Refuse (SystemExit with the reason and the fix) when the course would grade without a sandbox.

    The cheap probe first (bubblewrap works: nothing else to check); otherwise the course's own config
    decides, as `nbgrader autograde` will (GradeOutsideKernel.allow_unsandboxed), so that a class run
    fails once, with one message, before any worker starts. Returns the SandboxStatus.
    """
    from autograder import sandbox
    status = sandbox.sandbox_status()
    if status.sandboxed:
        return status
    if not allow_unsandboxed:
        from traitlets.config.loader import PyFileConfigLoader
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
        allow_unsandboxed = bool(config.GradeOutsideKernel.get("allow_unsandboxed", False))
    try:
        return sandbox.decide(True, allow_unsandboxed)
    except sandbox.SandboxUnavailable as e:
        raise SystemExit(str(e)) from None


def grade_class(course, assignment, workers=2, students=None, force=False, timeout=None, seed=None,
                progress=True, batch_size=None, allow_unsandboxed=False, scheduler=None, run_all_cells=False):
    """Autograde every submission of `assignment` (or only `students`), `workers` at a time.

    Returns a list of GradeResult in student order. The real gradebook is
    written by this process only. Without a working sandbox it refuses (SystemExit) unless
    `allow_unsandboxed` (or the course config) opts in.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    require_assignment_in_gradebook(course, assignment)
    check_sandbox(course, allow_unsandboxed)
    everyone = course.submitted_students(assignment)
    if students:
        missing = sorted(set(students) - set(everyone))
        if missing:
            raise SystemExit(f"no submission of {assignment!r} in {course.root / 'submitted'} for: {', '.join(missing)}")
        everyone = sorted(set(students))
    if not everyone:
        raise SystemExit(f"no submissions of {assignment!r}: expected folders submitted/<student>/{assignment}/")

    results = {}
    todo = []
    for s in everyone:
        if not force and is_graded(course, assignment, s):
            results[s] = GradeResult(s, "skipped (graded before)")
        else:
            todo.append(s)

    names = course.submitted_names()
    client = None
    if scheduler:                        # a Dask cluster (autograder/cluster.py): one task per batch
        from autograder import cluster
        client = cluster.client_for(scheduler, workers)
        workers = cluster.worker_count(client)
    batches = batches_of(todo, workers, names, batch_size)
    with tempfile.TemporaryDirectory(prefix="ag-") as workdir, \
            ThreadPoolExecutor(max_workers=workers) as pool:   # short path: IPC socket names are limited
        snapshot = snapshot_gradebook(course.db_path, Path(workdir) / "snapshot.db")
        if client is not None:
            finished = cluster.run_batches(client, course, assignment, batches, snapshot, workdir, names, timeout,
                                           seed, allow_unsandboxed, run_all_cells)
        else:
            # the workers start before this process imports nbgrader (and tqdm): those imports run while they do
            futures = [pool.submit(autograde_batch, course, assignment, b, snapshot, workdir, names, timeout, seed,
                                   allow_unsandboxed, run_all_cells) for b in batches]
            finished = (future.result() for future in as_completed(futures))
        try:
            from nbgrader.api import Gradebook
            from tqdm import tqdm
            with Gradebook(course.db_url) as gb, \
                    tqdm(total=len(todo), desc=f"grading {assignment}", unit="student", disable=not progress) as bar:
                for batch_runs in finished:
                    for run in batch_runs:
                        # merge even after a failure: plain nbgrader also keeps the (zero) submission it created
                        merged = merge_submission(f"sqlite:///{run.private_db}", gb, assignment, run.student)
                        if run.ok and merged:
                            results[run.student] = GradeResult(run.student, "graded")
                            bar.write(f"{run.student}: graded ({bar.n + 1}/{len(todo)})", file=sys.stdout)
                            sys.stdout.flush()      # as it happens: each line means "in the gradebook"
                        else:
                            results[run.student] = GradeResult(run.student, "FAILED", message=run.message)
                            bar.write(f"{run.student}: grading failed\n{run.message}")
                        bar.set_postfix_str(run.student)
                        bar.update()
        finally:
            if client is not None:
                local = getattr(client, "cluster", None) if scheduler == "local" else None
                client.close()
                if local is not None:
                    local.close()

    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(course.db_url) as gb:
        for r in results.values():
            try:
                sub = gb.find_submission(assignment, r.student)
            except MissingEntry:
                continue
            r.score, r.max_score = sub.score, sub.max_score
            if r.status == "graded" and sub.needs_manual_grade:
                r.status = "graded, needs manual grade"
    return [results[s] for s in sorted(results)]


def print_grade_table(assignment, results, named=None, file=sys.stdout):
    """The class table: student, score, status, and (if `named` {student: [mistake ids]}) the mistakes named."""
    named = named or {}
    width = max([len("student")] + [len(r.student) for r in results])
    print(f"\n{assignment}", file=file)
    print(f"{'student':<{width}}  {'score':>13}  {'status':<26}  {'known mistakes' if named else ''}".rstrip(), file=file)
    for r in results:
        score = f"{r.score:g} / {r.max_score:g}" if r.score is not None else "-"
        print(f"{r.student:<{width}}  {score:>13}  {r.status:<26}  {', '.join(named.get(r.student, []))}".rstrip(),
              file=file)


# ----------------------------------------------------------------------------- commands

def cmd_grade(args):
    course = Course(args.course)
    results = grade_class(course, args.assignment, workers=args.workers, students=args.student,
                          force=args.force, timeout=args.timeout, seed=args.seed, progress=not args.quiet,
                          batch_size=args.batch_size, allow_unsandboxed=args.allow_unsandboxed,
                          scheduler=args.scheduler, run_all_cells=args.run_all_cells)
    from autograder import report   # after grading: it imports nbgrader (see grade_class)
    print_grade_table(args.assignment, results, report.named_mistakes(course.root, args.assignment))
    banner = report.format_unsandboxed(args.assignment, report.unsandboxed(course.root, args.assignment))
    if banner:
        print("\n" + banner)
    failed = [r for r in results if r.status == "FAILED"]
    if failed:
        print(f"\n{len(failed)} submission(s) could not be graded: {', '.join(r.student for r in failed)}")
    return 1 if failed else 0


def cmd_feedback(args):
    from autograder import report
    course = Course(args.course)
    written, problems = report.generate_feedback(course, args.assignment)
    print(f"{len(written)} feedback file(s) in {course.root / 'feedback'} (hidden tests removed and checked)")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def cmd_report(args):
    from autograder import report
    course = Course(args.course)
    assignments = args.assignment or course.assignments()
    csv_path = Path(args.csv) if args.csv else course.root / "grades.csv"
    rows = report.export_grades(course.db_url, assignments, csv_path)
    print(f"{len(rows)} grade row(s) written to {csv_path}")
    if args.canvas:
        from autograder import canvas
        ids = {}
        for item in args.canvas_id or []:
            name, _, number = item.partition("=")
            if not number.isdigit():
                raise SystemExit(f"--canvas-id takes ASSIGNMENT=NUMBER (the id in the Canvas assignment's URL); "
                                 f"got {item!r}")
            ids[name] = number
        students, problems = canvas.export_canvas(course.db_url, assignments, args.canvas, args.canvas_roster, ids)
        print(f"{len(students)} student row(s) written to {args.canvas} (Canvas: Grades > Import)")
        for problem in problems:
            print(f"  note: {problem}")
    for a in assignments:
        print()
        print(report.format_misconceptions(a, report.misconceptions(course.root, a)))
        banner = report.format_unsandboxed(a, report.unsandboxed(course.root, a))
        if banner:
            print("\n" + banner)
    return 0


def cmd_samples(args):
    from autograder import samples
    course = Course(args.course)
    for a in args.assignment or course.assignments():
        made = samples.place_samples(course.root, a)
        print(f"{a}: sample submissions for {', '.join(made)}")
    return 0


def cmd_demo(args):
    """The whole instructor cycle on sample submissions, headless."""
    from autograder import report, samples
    course = Course(args.course)
    assignments = args.assignment or course.assignments()
    from autograder import sandbox
    # the demo grades only the samples it generates itself (trusted code): without a sandbox it says so and
    # grades them anyway; real submissions never get this (`grade` refuses unless --allow-unsandboxed)
    demo_unsandboxed = not sandbox.sandbox_status().sandboxed
    if demo_unsandboxed:
        print(f"== no sandbox on this machine ({sandbox.sandbox_status().detail}): the demo grades its own "
              "sample submissions UNSANDBOXED; `python -m autograder grade` refuses real submissions here",
              flush=True)
    status = 0
    for a in assignments:
        print(f"== {a}: generate_assignment", flush=True)
        run = course.nbgrader("generate_assignment", a, "--force")
        if run.returncode != 0:
            raise SystemExit(f"generate_assignment {a} failed:\n{nbgrader_errors(run)}")
        made = samples.place_samples(course.root, a)
        print(f"== {a}: samples {', '.join(made)} placed in submitted/; autograding with {args.workers} workers",
              flush=True)
        results = grade_class(course, a, workers=args.workers, force=True, timeout=args.timeout,
                              seed=args.seed, students=made, progress=not args.quiet,
                              allow_unsandboxed=demo_unsandboxed)
        status |= any(r.status == "FAILED" for r in results)
        written, problems = report.generate_feedback(course, a)
        print(f"== {a}: {len(written)} feedback file(s) in feedback/ (no hidden tests)")
        for problem in problems:
            print(problem)
        status |= bool(problems)
        print_grade_table(a, results, report.named_mistakes(course.root, a))
        print()
        print(report.format_misconceptions(a, report.misconceptions(course.root, a)))
    csv_path = course.root / "grades.csv"
    rows = report.export_grades(course.db_url, assignments, csv_path)
    print(f"\n== {len(rows)} grade row(s) for the LMS in {csv_path}")
    return int(status)


def cmd_gradescope(args):
    from autograder import gradescope
    course = Course(args.course)
    path = gradescope.build_zip(course, args.assignment, args.out)
    print(f"{path}: upload it as the autograder of {args.assignment} on Gradescope (Ubuntu image); students "
          "upload the notebook in its student_notebooks/ folder")
    return 0


def cmd_sandbox_check(args):
    from autograder import sandbox_check
    return sandbox_check.main(Course(args.course).root)


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n")[0])
    parser.add_argument("--course", default=str(DEFAULT_COURSE), help="the nbgrader course folder (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_timeout(p):
        p.add_argument("--timeout", type=float, default=1200.0,
                       help="seconds one submission may take before it is stopped and reported, so that a class "
                            "run always ends (default: 1200; an honest submission takes well under a minute)")
        p.add_argument("--seed", type=int, default=None,
                       help="seed of the grading cases, the same for every student (default: fresh per notebook)")

    g = sub.add_parser("grade", help="autograde a whole class in parallel (one gradebook writer)")
    g.add_argument("assignment")
    g.add_argument("--workers", type=int, default=2, help="parallel nbgrader processes (default: %(default)s)")
    g.add_argument("--student", nargs="+", help="grade only these students")
    g.add_argument("--force", action="store_true", help="grade again students graded before")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument("--allow-unsandboxed", action="store_true",
                   help="grade even without a working sandbox (trusted code only: submissions then run with "
                        "your rights); every result is marked UNSANDBOXED")
    g.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="grade on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' (a local "
                        "cluster of --workers processes); needs the `cluster` extra (autograder/cluster.py)")
    g.add_argument("--run-all-cells", action="store_true",
                   help="run every cell of each submission, as plain `nbgrader autograde` does (default: leave out "
                        "the course's own unchanged cells no graded function depends on; same scores, faster)")
    g.add_argument("--batch-size", type=int, default=None,
                   help="students per nbgrader process, as a work queue (default: one batch per worker, round-robin)")
    add_timeout(g)
    g.set_defaults(func=cmd_grade)

    f = sub.add_parser("feedback", help="feedback HTML for every autograded submission, without hidden tests")
    f.add_argument("assignment")
    f.set_defaults(func=cmd_feedback)

    r = sub.add_parser("report", help="grades CSV for the LMS and the class misconception table")
    r.add_argument("assignment", nargs="*", help="default: every assignment")
    r.add_argument("--csv", help="where to write the CSV (default: <course>/grades.csv)")
    r.add_argument("--canvas", help="also write a Canvas gradebook import CSV here (autograder/canvas.py)")
    r.add_argument("--canvas-roster", help="Canvas's gradebook export (CSV): students and assignment ids from it")
    r.add_argument("--canvas-id", action="append", metavar="ASSIGNMENT=ID",
                   help="the Canvas assignment id of an assignment (repeatable; overrides the roster's)")
    r.set_defaults(func=cmd_report)

    s = sub.add_parser("samples", help="place the sample submissions in submitted/ (needs release/)")
    s.add_argument("assignment", nargs="*", help="default: every assignment")
    s.set_defaults(func=cmd_samples)

    gs = sub.add_parser("gradescope", help="write the Gradescope autograder zip of an assignment")
    gs.add_argument("assignment")
    gs.add_argument("--out", help="where to write the zip (default: <course>/gradescope/<assignment>.zip)")
    gs.set_defaults(func=cmd_gradescope)

    c = sub.add_parser("sandbox-check", help="whether grading runs sandboxed here, and the limits a grading "
                                             "kernel really gets (measured inside one)")
    c.set_defaults(func=cmd_sandbox_check)

    d = sub.add_parser("demo", help="generate, sample submissions, grade, feedback, report: the whole cycle")
    d.add_argument("assignment", nargs="*", help="default: every assignment")
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    add_timeout(d)
    d.set_defaults(func=cmd_demo, seed=DEMO_SEED)   # the same grading cases every time

    from autograder import publish                  # the student edition
    publish.add_parser(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)
