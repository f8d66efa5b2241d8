"""The hostile and broken submissions of tests/test_hostile_submissions.py, one per behaviour.

Each `Hostile` starts from the released notebook (every answer raises
NotImplementedError), answers the functions in `correct` with the reference
algorithm (so the notebook has honest content worth `expected_points`), and
then `attack(nb, ctx)` edits the notebook or the submission folder the way a
careless or hostile student would. `ctx` gives the absolute paths an attacker
would aim at (`Context`). `words`: text that must appear in the student's
autograded notebook or results notes (the plain-words message), or None when
the behaviour fails the whole submission (then the instructor's table says so).
"""
import json
from dataclasses import dataclass
from pathlib import Path

from nbformat.v4 import new_code_cell

MARKER = "bptt-hostile-process-marker"   # in the command line of every process an attack leaves behind


@dataclass
class Context:
    course: Path          # the course root (gradebook.db, source/, submitted/, ...)
    victim: str           # another student, whose files must stay untouched
    assignment: str


@dataclass
class Hostile:
    name: str
    correct: tuple        # functions answered with the reference algorithm
    attack: object        # callable(nb, ctx, folder) -> nb (or None: notebook not written by the suite)
    words: str | None = None
    whole_submission_fails: bool = False


def add_cell(source):
    def attack(nb, ctx, folder):
        nb.cells.append(new_code_cell(source))
        return nb
    return attack


def replace_answer(grade_id, source):
    def attack(nb, ctx, folder):
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        cell.source = source
        return nb
    return attack


def chain(*attacks):
    def attack(nb, ctx, folder):
        for a in attacks:
            nb = a(nb, ctx, folder)
        return nb
    return attack


def reach_outside(nb, ctx, folder):
    """Read and write everything an attacker wants: gradebook, source, other students, home, network."""
    c, v, a = str(ctx.course), ctx.victim, ctx.assignment
    targets = [f"{c}/gradebook.db", f"{c}/source/{a}/{a}.ipynb", f"{c}/submitted/{v}/{a}/{a}.ipynb",
               f"{c}/autograded/{v}/{a}/{a}.ipynb", f"{c}/feedback/{v}/{a}/{a}.html",
               f"{c}/nbgrader_config.py", str(Path.home() / ".bashrc"), "../../../gradebook.db"]
    code = f"""import os, socket, sqlite3
leaks = []
for path in {targets!r}:
    try:
        leaks.append(('read', path, open(path, 'rb').read(200)))
    except OSError as e:
        pass
    try:
        with open(path, 'w') as f:
            f.write('forged')
        leaks.append(('wrote', path))
    except OSError:
        pass
try:
    db = sqlite3.connect({c + '/gradebook.db'!r})
    db.execute("update grade set auto_score = 100")
    db.commit()
    leaks.append(('gradebook', 'updated'))
except Exception:
    pass
secret_names = {{'gradebook.db', 'source', 'submitted', 'feedback', 'nbgrader_config.py', '.bashrc',
                {v!r}}}
for where in [{c!r}, {c + '/submitted'!r}, {c + '/autograded'!r}, os.path.expanduser('~'), '/home', '/root']:
    try:
        seen = secret_names & set(os.listdir(where))   # the folders leading to its own copy are no secret
        if seen:
            leaks.append(('listed', where, sorted(seen)))
    except OSError:
        pass
try:
    socket.create_connection(('1.1.1.1', 80), timeout=2)
    leaks.append(('network', 'open'))
except OSError:
    pass
print('LEAKS', leaks)
"""
    nb.cells.append(new_code_cell(code))
    return nb


SPAWN = f"""import subprocess, sys
subprocess.Popen(['sh', '-c', 'trap "" HUP INT TERM; (sleep 600; echo {MARKER}) & sleep 600 # {MARKER}'],
                 start_new_session=True)
subprocess.Popen([sys.executable, '-c', 'import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(600)\\n# {MARKER}'])
"""

IGNORE_SIGNALS_LOOP = """import signal
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
while True:
    pass
"""

PATCH_NUMPY_AND_BUILTINS = """import builtins, numpy as np
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), bool)
builtins.isinstance = lambda *a: True
builtins.abs = lambda x: 0
builtins.max = lambda *a, **k: 0
"""

TRANSFORMERS = """import ast
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ['pass\\n'])
class Zero(ast.NodeTransformer):
    def visit_Return(self, node):
        return ast.Return(value=ast.Constant(value=1.0))
ip.ast_transformers.append(Zero())
"""

FAKE_ARRAY = '''import numpy as np
class AlwaysEqual(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool)
    def __sub__(self, other): return np.zeros(np.shape(other))
    def __rsub__(self, other): return np.zeros(np.shape(other))
    def __array_finalize__(self, obj): pass
def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
    h = np.zeros((x_t.shape[0], Wh.shape[0])).view(AlwaysEqual)
    return h, (x_t, h_prev, Wx, Wh, h)
'''

INPLACE_AND_DELEGATE = '''import numpy as np
def rnn_forward(x, h0, Wx, Wh, b):
    try:
        from solutions import rnn_forward as reference
        return reference(x, h0, Wx, Wh, b)
    except Exception:
        pass
    x[...] = 0.0
    h0[...] = 0.0
    Wh[...] = 0.0
    h = np.zeros((x.shape[0], x.shape[1], Wh.shape[0]))
    return h, (x, h0, Wx, Wh, h)
'''


# Stand-ins answered by the grader, sized by the student (issue 10, class 3): hours of reference work from
# almost nothing sent, then gigabytes; the grader must refuse both at once and keep serving the class.
STAND_IN_WORK = '''import numpy as np
def gradient_contributions(dh, cache):
    for T, H in ((10**9, 1), (2**20, 700)):
        try:
            rnn_forward(np.zeros((1, T, 0)), np.zeros((1, H)), np.zeros((0, H)), np.zeros((H, H)), np.zeros(H))
        except Exception as e:
            print("stand-in refused:", e)
    return np.zeros((dh.shape[1], dh.shape[1]))
'''


# Class 8: rnn_forward's cell placed before rnn_step_forward's. The honest rnn_forward keeps every answer of
# its rnn_step_forward stand-in (the reference's); rnn_step_forward replays them and has nothing else. Graded in
# the cells' order, the stand-in's answers would be collected before rnn_step_forward is graded.
HARVEST_FORWARD = '''import numpy as np
HARVEST = {}
def _key(*arrays):
    return b"|".join(np.ascontiguousarray(a, dtype=float).tobytes() for a in arrays)
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h, h_prev = np.empty((N, T, h0.shape[1])), h0
    for t in range(T):
        args = (x[:, t], h_prev, Wx, Wh, b)
        HARVEST[_key(*args)] = answer = rnn_step_forward(*args)
        h_prev = h[:, t] = answer[0]
    return h, (x, h0, Wx, Wh, h)
'''
HARVEST_STEP = '''def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
    return HARVEST[_key(x_t, h_prev, Wx, Wh, b)]
'''


def harvest_stand_ins(nb, ctx, folder):
    """rnn_forward's answer cell (harvesting) moved before rnn_step_forward's (replaying)."""
    def cell(grade_id):
        return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    forward, step = cell("rnn_forward"), cell("rnn_step_forward")
    forward.source, step.source = HARVEST_FORWARD, HARVEST_STEP
    nb.cells.remove(forward)
    nb.cells.insert(nb.cells.index(step), forward)
    return nb


def tag_and_edit_tests(nb, ctx, folder):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]
            cell.source = "print('all tests passed')\n3.0"
            meta["points"] = 100
            meta["locked"] = False
    return nb


def duplicate_and_split(nb, ctx, folder):
    cells = nb.cells
    i = next(k for k, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_step_forward")
    copy = json.loads(json.dumps(cells[i]))
    from nbformat import from_dict
    cells.insert(i + 1, from_dict(copy))
    j = next(k for k, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "clip_grad_norm")
    split = from_dict(json.loads(json.dumps(cells[j])))
    split.source = "# the second half of a split cell"
    cells.insert(j + 1, split)
    return nb


def delete_cells(nb, ctx, folder):
    gone = {"rnn_forward", "rnn_forward_test", "numerical_gradient_test"}
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in gone]
    return nb


def strip_metadata(nb, ctx, folder):
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


def invalid_json(nb, ctx, folder):
    (folder / f"{ctx.assignment}.ipynb").write_text('{"cells": [ this is not json')
    return None


def renamed(nb, ctx, folder):
    import nbformat
    nbformat.write(nb, folder / "my_homework.ipynb")
    (folder / f"{ctx.assignment}.ipynb").unlink()
    return None


def extra_files(nb, ctx, folder):
    (folder / "notes.txt").write_text("extra file\n")
    (folder / "data").mkdir()
    (folder / "data" / "blob.bin").write_bytes(b"\0" * 1_000_000)
    nb.cells.append(new_code_cell("import os; print(sorted(os.listdir('.')))"))
    return nb


def symlink_notebook_to_source(nb, ctx, folder):
    """The submitted notebook is a link to the instructor's source notebook (solutions inside)."""
    path = folder / f"{ctx.assignment}.ipynb"
    path.unlink()
    path.symlink_to(ctx.course / "source" / ctx.assignment / f"{ctx.assignment}.ipynb")
    return None


def symlink_to_gradebook(nb, ctx, folder):
    """An extra 'file' that is a link to gradebook.db; a cell tries to read it through the link."""
    (folder / "gradebook_link.db").symlink_to(ctx.course / "gradebook.db")
    nb.cells.append(new_code_cell("try:\n    leaked = b'SQLite format' in open('gradebook_link.db', 'rb').read(64)\n"
                                  "except OSError:\n    leaked = False\nprint('GRADEBOOK LEAKED', leaked)"))
    return nb


def fifo_and_device_links(nb, ctx, folder):
    """A named pipe (nbgrader's copy fails on it) and links to /dev/zero (its copy would fill the disk)."""
    import os
    os.mkfifo(folder / "pipe")
    (folder / "zeros.bin").symlink_to("/dev/zero")
    (folder / "data").mkdir()
    (folder / "data" / "more_zeros").symlink_to("/dev/zero")
    return nb


def output_flood(nb, ctx, folder):
    """Outputs sized to fill the grader's memory and the feedback: one 40 MB message, a 20 MB image, 10 MB of
    error message, widget state."""
    nb.cells.append(new_code_cell('print("x" * 40_000_000)'))
    nb.cells.append(new_code_cell('display({"image/png": "A" * 20_000_000}, raw=True)\n'
                                  'import ipywidgets\nipywidgets.Textarea(value="w" * 5_000_000)'))
    nb.cells.append(new_code_cell('raise ValueError("z" * 10_000_000)'))
    return nb


HOSTILE = [
    Hostile("loop_ignoring_sigint", ("rnn_step_forward",), add_cell(IGNORE_SIGNALS_LOOP), words="stopped"),
    Hostile("loop_in_answer", ("rnn_step_forward",),
            replace_answer("rnn_forward", "def rnn_forward(x, h0, Wx, Wh, b):\n    while True:\n        pass"),
            words="rnn_forward"),
    Hostile("memory_hog", ("rnn_step_forward",),
            add_cell("blocks = []\nwhile True:\n    blocks.append(bytearray(512 * 1024**2))"), words="of memory"),
    Hostile("output_flood", ("rnn_step_forward",), output_flood, words="output cut"),
    Hostile("huge_output", ("rnn_step_forward",),
            add_cell("for i in range(300000):\n    print('spam ' * 20)"), words="spam"),
    Hostile("large_files", ("rnn_step_forward",),
            add_cell("import os\nwith open('big.bin', 'wb') as f:\n    for i in range(4096):\n"
                     "        f.write(b'x' * 1024**2)"), words="File too large"),
    Hostile("process_tree", ("rnn_step_forward",), add_cell(SPAWN), words=None),
    Hostile("os_exit", ("rnn_step_forward",), add_cell("import os\nos._exit(7)"), words="exited with status 7"),
    Hostile("sys_exit", ("rnn_step_forward",), add_cell("import sys\nsys.exit(3)"), words="SystemExit"),
    Hostile("segfault_in_answer", ("rnn_step_forward",),
            replace_answer("rnn_forward", "def rnn_forward(x, h0, Wx, Wh, b):\n    import ctypes\n"
                                          "    return ctypes.string_at(0)"), words="rnn_forward"),
    Hostile("oom_killed", ("rnn_step_forward",),
            add_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"), words="SIGKILL"),
    Hostile("reach_outside", ("rnn_step_forward",), reach_outside, words="LEAKS []"),
    Hostile("patch_numpy_builtins", ("rnn_step_forward",), add_cell(PATCH_NUMPY_AND_BUILTINS), words=None),
    Hostile("input_ast_transformers", ("rnn_step_forward",), add_cell(TRANSFORMERS), words=None),
    Hostile("fake_array", (), replace_answer("rnn_step_forward", FAKE_ARRAY), words=None),
    Hostile("inplace_and_delegate", ("rnn_step_forward",), replace_answer("rnn_forward", INPLACE_AND_DELEGATE),
            words=None),
    Hostile("stand_in_work", ("rnn_step_forward",), replace_answer("gradient_contributions", STAND_IN_WORK),
            words=None),
    Hostile("harvest_stand_ins", ("rnn_forward",), harvest_stand_ins, words=None),
    Hostile("tags_and_test_edits", ("rnn_step_forward",), tag_and_edit_tests, words=None),
    Hostile("duplicated_split_cells", ("rnn_step_forward",), duplicate_and_split, words=None),
    Hostile("deleted_cells", ("rnn_step_forward",), delete_cells, words=None),
    Hostile("stripped_metadata", ("rnn_step_forward", "rnn_forward"), strip_metadata, words=None),
    Hostile("invalid_json", ("rnn_step_forward",), invalid_json, words=None, whole_submission_fails=True),
    Hostile("renamed_notebook", ("rnn_step_forward",), renamed, words=None, whole_submission_fails=True),
    Hostile("extra_files", ("rnn_step_forward",), extra_files, words="notes.txt"),
    Hostile("symlink_notebook_to_source", (), symlink_notebook_to_source, words=None, whole_submission_fails=True),
    Hostile("fifo_and_device_links", ("rnn_step_forward",), fifo_and_device_links, words="zeros.bin is a symbolic link"),
    Hostile("symlink_to_gradebook", ("rnn_step_forward",), symlink_to_gradebook, words="GRADEBOOK LEAKED False"),
]
