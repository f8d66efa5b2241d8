"""Grading a class on a Dask distributed cluster: `python -m autograder grade A --scheduler ADDRESS`.

Needs the optional extra `cluster` (`pip install -e ".[cluster]"`: dask's `distributed`).
ADDRESS is a running scheduler (`tcp://host:8786`), or `local` for a LocalCluster of
`--workers` processes on this machine.

Each batch of students (cli.batches_of, one per cluster worker by default) becomes one task: the
worker runs plain `nbgrader autograde` for its batch (cli.autograde_batch, so every kernel is
sandboxed on the worker exactly as on one machine) against a private copy of the gradebook in its
own temporary folder, and returns what it wrote: per student (ok, message) and the bytes of that
private gradebook. The instructor's process writes them to its own folder and merges them into the
real gradebook: it stays the only gradebook writer, and no database file is shared.

What the workers must share with the instructor's machine: the course folder at the same path
(they read `submitted/` and write `autograded/<student>/`), e.g. the NFS or hub volume that
JupyterHub or Kubernetes deployments mount on every pod, and the same environment (this package,
nbgrader, bubblewrap). See course/DEPLOYING.md.
"""
import tempfile
from pathlib import Path


def grade_batch_on_worker(course_root, assignment, batch, snapshot_bytes, names, timeout, seed, allow_unsandboxed,
                          run_all_cells=False):
    """Run on a Dask worker: grade one batch; ([(student, ok, message)], bytes of the private gradebook)."""
    import os
    import sys
    from .cli import Course, autograde_batch
    print(f"autograder: grading {assignment} for {', '.join(batch)} in worker process {os.getpid()}",
          file=sys.stderr, flush=True)
    course = Course(course_root)
    with tempfile.TemporaryDirectory(prefix="ag-") as workdir:      # short: IPC socket paths are limited
        snapshot = Path(workdir) / "snapshot.db"
        snapshot.write_bytes(snapshot_bytes)
        runs = autograde_batch(course, assignment, batch, snapshot, workdir, names, timeout, seed,
                               allow_unsandboxed, run_all_cells)
        db = runs[0].private_db.read_bytes() if runs and runs[0].private_db.is_file() else b""
        return [(r.student, r.ok, r.message) for r in runs], db


def client_for(scheduler, workers):
    """A distributed.Client for ADDRESS, or for a LocalCluster of `workers` processes when it is 'local'."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SystemExit("--scheduler needs dask's distributed: pip install -e \".[cluster]\"") from None
    if scheduler == "local":
        return Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None))
    return Client(scheduler, timeout="30s")


def worker_count(client):
    return max(1, len(client.scheduler_info().get("workers", {})))


def run_batches(client, course, assignment, batches, snapshot, workdir, names, timeout, seed, allow_unsandboxed,
                run_all_cells=False):
    """Yield, batch by batch as they finish, a list of cli.StudentRun whose private_db is a local copy."""
    from distributed import as_completed
    from .cli import StudentRun
    data = Path(snapshot).read_bytes()
    futures = [client.submit(grade_batch_on_worker, str(course.root), assignment, b, data, names, timeout, seed,
                             allow_unsandboxed, run_all_cells, pure=False, retries=0) for b in batches]
    for future in as_completed(futures):
        runs, db = future.result()
        local = Path(tempfile.mkdtemp(prefix="d", dir=workdir)) / "gradebook.db"
        local.write_bytes(db)
        yield [StudentRun(student, ok, local, message) for student, ok, message in runs]
