"""Spot-the-bug drills of notebook 07: built from the autograder's mistakes library, up to date, really buggy.

The drills travel to students as course/source/07_exam_review/spot_the_bug.json
(released with notebook 07 only). These tests check that the file is what
tools/build_spot_the_bug.py makes from today's library and notebooks, that it
holds every known mistake of every function graded in notebooks 01-06 and
nothing else, that each drill's code really fails the reference check, and
that bpttlab reads it without the autograder or the reference.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import solutions
from autograder.evaluate import in_process
from autograder.grading import grade_function
from autograder.mistakes import by_id, mistakes_for
from bpttlab import spot_the_bug
from course_tools import ROOT, SOURCE, answer_cells, load, source_notebooks

sys.path.insert(0, str(ROOT / "tools"))
import build_spot_the_bug  # noqa: E402

DATA = SOURCE / "07_exam_review" / "spot_the_bug.json"
DRILLS = json.loads(DATA.read_text())["drills"]
GRADE_SEED = 31337          # another seed than the builder's: the bug must show on fresh inputs too


def graded_before_07():
    """{function: assignment} for the answer cells of notebooks 01-06, read here independently of the builder."""
    found = {}
    for path in source_notebooks():
        if path.parent.name < "07":
            for name in answer_cells(load(path)):
                found[name] = path.parent.name
    return found


def test_the_drill_file_is_up_to_date():
    built = build_spot_the_bug.render(build_spot_the_bug.build())
    assert DATA.read_text() == built, ("course/source/07_exam_review/spot_the_bug.json is out of date (a mistake "
                                       "or a graded function was added?): run python tools/build_spot_the_bug.py "
                                       "and commit the file")


def test_every_mistake_of_every_function_graded_in_01_to_06_is_a_drill():
    graded = graded_before_07()
    want = {m.id for name in graded for m in mistakes_for(name)}
    have = [d["id"] for d in DRILLS]
    assert len(have) == len(set(have))
    missing, extra = want - set(have), set(have) - want
    assert not missing, f"mistakes with no spot-the-bug drill (run tools/build_spot_the_bug.py): {sorted(missing)}"
    assert not extra, f"drills of functions not graded in notebooks 01-06: {sorted(extra)}"
    for d in DRILLS:
        assert d["notebook"] == graded[d["function"]] < "07_exam_review"


def test_the_drills_show_no_function_graded_in_07():
    graded_here = set(answer_cells(load(SOURCE / "07_exam_review" / "07_exam_review.ipynb")))
    assert not graded_here & {d["function"] for d in DRILLS}


@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d["id"])
def test_every_drill_really_fails_the_reference_check(drill):
    """Grade the drill's code (among the reference's other functions, as later notebooks provide them) with the
    autograder, on a seed the builder did not use: it must lose marks, in the parts the file says."""
    ns = {"np": np, **{name: getattr(solutions, name) for name in solutions.GRADED_FUNCTIONS}}
    exec(compile(drill["code"], f"<drill {drill['id']}>", "exec"), ns)
    assert ns[drill["function"]] is not getattr(solutions, drill["function"])
    report = grade_function(drill["function"], in_process(ns), GRADE_SEED, diagnose=False)
    assert report.fraction < 1, f"{drill['id']} passes the reference check"
    assert report.error is None or not report.error.startswith("NameError"), report.error
    failed = {p.name for p in report.parts if not p.passed and p.message != "earned together with a right output"}
    assert failed == set(drill["wrong_parts"]), (failed, drill["wrong_parts"])


def apply_fixes(lines, fixes):
    """The code with every fix applied (replaced lines swapped for the correct ones, insertions made)."""
    out, i = [], 0
    for fix in sorted(fixes, key=lambda f: (f["lines"][0] - 1) if f["lines"] else f["after"]):
        start = fix["lines"][0] - 1 if fix["lines"] else fix["after"]
        out += lines[i:start] + fix["correct"]
        i = start + len(fix["lines"])
    return out + lines[i:]


@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d["id"])
def test_every_drill_matches_its_mistake_and_its_fix_gives_the_correct_code(drill):
    m = by_id(drill["id"])
    assert (drill["title"], drill["hint"], drill["function"]) == (m.title, m.hint, m.function)
    assert drill["code"] == textwrap.dedent(m.source).strip("\n")
    lines = drill["code"].split("\n")
    template = textwrap.dedent(build_spot_the_bug.templates()[drill["function"]]).strip("\n").split("\n")
    assert apply_fixes(lines, drill["fixes"]) == template
    changed = {n for f in drill["fixes"] for n in f["lines"]}
    assert changed <= set(drill["faulty_lines"]) or not drill["faulty_lines"]
    assert len(drill["faulty_lines"]) <= build_spot_the_bug.MAX_FAULTY_LINES
    if drill["faulty_lines"]:                                # the other lines are where the template has them
        kept = [line for n, line in enumerate(lines, 1) if n not in drill["faulty_lines"]]
        assert all(line in template for line in kept)


def test_the_widget_reads_the_file_and_explains_with_the_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(DATA.parent)                       # the notebook's folder, as in JupyterLab
    w = spot_the_bug.SpotTheBugWidget(seed=3)
    assert len(w.drills) == len(DRILLS)
    q = w.new_bug("rnn_backward/no-carried-gradient")
    drill = q.drill
    assert drill.asks_line and w.line_box.layout.display is None
    right_line = drill.faulty_lines[0]
    wrong_line = next(n for n in range(1, len(drill.lines) + 1) if n not in drill.faulty_lines)
    fb = w.pick_line(wrong_line)
    assert not fb.correct and drill.hint in fb.message
    fb = w.pick_line(right_line)
    assert fb.correct and f"line {right_line}" in fb.message and "+ dh_carry" not in fb.message
    wrong = next(i for i in range(len(q.options)) if i != q.answer)
    fb = w.pick_title(wrong)
    assert not fb.correct and q.options[wrong][1] in fb.message
    assert len(q.options) == 4 and all(why for i, (_, why) in enumerate(q.options) if i != q.answer)
    fb = w.pick_title(q.answer)
    assert fb.correct and drill.hint in fb.message and "dx, dh0, dWx, dWh, db wrong" in fb.message
    assert "0 of 1" in w.score.value                        # the first pick was wrong
    w.fix_button.click()
    assert "dh_t = dh[:, t] + dh_carry" in w.fix.value
    w.filter.value = "04_vanishing_exploding"
    for _ in range(5):
        assert w.new_bug().drill.notebook == "04_vanishing_exploding"
    no_line = w.new_bug("scale_to_spectral_radius/no-zero-check")
    assert not no_line.drill.asks_line and w.line_box.layout.display == "none"
    with pytest.raises(ValueError, match="does not ask for a line"):
        w.pick_line(1)
    with pytest.raises(FileNotFoundError, match="come with notebook 07"):
        spot_the_bug.load(tmp_path / "missing.json")


def test_bpttlab_reads_the_drills_without_the_autograder_or_the_reference():
    """In a student's environment neither `autograder` nor `solutions` exists: block both and use the widget."""
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("autograder", "solutions"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from bpttlab import review
        w = review.spot_the_bug(seed=1, path={str(DATA)!r})
        w.pick_title(w.current.answer)
        w.show_fix()
        q = review.concept_quiz(); d = review.drill_panel(); a = review.written_answer("x")
        bad = [m for m in sys.modules if m.split(".")[0] in ("autograder", "solutions")]
        assert not bad, bad
        print("ok", len(w.drills))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-3000:]
