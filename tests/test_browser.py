"""The course as students meet it: JupyterLab in a real browser (Debian's Chromium, Python Playwright).

For each instructor notebook (reference answers filled in), run from a
temporary copy of course/: open it, Run All from the menu, wait for the
kernel's "| Idle", then check that
- no cell shows an error output and every code cell ran;
- every widget view the kernel sent is rendered (none stuck on "Loading
  widget..." or "Error displaying widget");
- the notebook offers the sliders the course promises (sequence length T,
  truncation k, spectral radius rho), and moving each slider with the
  keyboard changes its readout and the figure it drives (the image data
  differs);
- and, in test_slider_redraw_latency, that every such redraw came within
  REDRAW_LIMIT_S of the key press. That is a speed target: on a machine
  loaded by other work (tests/machine_load.py) a slow redraw says
  nothing about the course, so the test then says it could not judge the
  target (skipped, with the load and the times) instead of failing. Likewise
  a Run All slower than RUN_ALL_TIMEOUT_S on a loaded machine. Other
  timeouts only bound waits for things that never happen, and their
  messages give the machine's load.
Screenshots of every notebook (one per screenful) and of the widget after
every slider move go to artifacts/browser/, with latency.tsv (one row per
slider move) and each notebook's stderr text.

Select with `pytest -m browser`. Needs `apt-get install chromium` and
`pip install playwright` (never `playwright install`).
"""
import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest

from browser_helpers import JupyterServer, NotebookPage, launch_chromium
from machine_load import load_text, machine_load
from system_tools import IN_CI, needs_chromium

HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
# Skipped only outside CI (tests/system_tools.py): in CI a missing browser or Playwright is a failure.
pytestmark = [
    pytest.mark.browser,
    needs_chromium(),
    pytest.mark.skipif(not HAVE_PLAYWRIGHT and not IN_CI,
                       reason="the real-browser test needs `pip install playwright` (the `browser` extra; "
                              "never `playwright install`)"),
]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts" / "browser"
NOTEBOOKS = sorted(p.relative_to(REPO / "course") for p in (REPO / "course" / "source").glob("*/*.ipynb"))
REDRAW_LIMIT_S = 1.0          # the speed target of a slider move (benchmarks/README.md)
CHANGE_TIMEOUT_S = 30.0       # a figure that has not changed after this long never will: a failure
RUN_ALL_TIMEOUT_S = 600       # Run All of one notebook: 5-40 s on 2 cores, quiet to load 13
# The sliders each assignment must offer (the issue and course/AUTHORING.md: T, k, rho); others may be added.
PROMISED_SLIDERS = {
    "01_unrolling": {"T"},
    "02_bptt": {"T", "rho"},
    "03_truncation": {"T", "k", "rho"},
    "04_vanishing_exploding": {"T", "rho"},
    "05_gated_cells": {"T", "rho", "forget bias"},
    "06_language_model": {"temperature"},
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a temporary copy of course/ (source notebooks with solutions); stopped by its pid."""
    root = tmp_path_factory.mktemp("browser")
    course = root / "course"
    shutil.copytree(REPO / "course", course, ignore=shutil.ignore_patterns(
        "release", "submitted", "autograded", "feedback", "gradebook.db", "autograder_results", "*.csv"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = JupyterServer(course, ARTIFACTS / "jupyterlab.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser suite needs Playwright: pip install playwright (never `playwright install`)")
    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


class LatencyLog:
    """artifacts/browser/latency.tsv (one row per slider move) and the moves themselves, for the latency test."""

    def __init__(self, file):
        self.file, self.moves = file, []
        file.write("notebook\tslider\tkey\treadout before\treadout after\timages changed\tseconds\tload\n")

    def record(self, stem, name, key, before, after, changed, seconds):
        load, cores, loaded = machine_load()
        self.moves.append({"move": f"{stem}: {name} {before} -> {after}", "seconds": seconds, "load": load,
                           "cores": cores, "loaded": loaded})
        self.file.write(f"{stem}\t{name}\t{key}\t{before}\t{after}\t{changed}\t{seconds:.3f}\t{load:.1f}\n")
        self.file.flush()


@pytest.fixture(scope="module")
def latency_log():
    """artifacts/browser/latency.tsv, one row per slider move; .moves keeps them for test_slider_redraw_latency."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "latency.tsv", "w") as log:
        yield LatencyLog(log)


def test_detectors_see_errors_and_widgets(lab, browser):
    """The suite's own eyes: on a two-cell notebook (a slider, then 1/0) they find the error and the widget."""
    probe = lab.root_dir / "browser_probe.ipynb"
    nb_json = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('import ipywidgets\nipywidgets.IntSlider(value=3, max=9, description="T")'),
        nbformat.v4.new_code_cell("1 / 0"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nbformat.write(nb_json, probe)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        nb = NotebookPage(page, lab, probe.name, ARTIFACTS)
        nb.open()
        nb.run_all()
        errors = nb.error_outputs()
        assert len(errors) == 1 and "ZeroDivisionError" in errors[0], errors
        assert nb.expected_widget_views() == 1
        assert [ok for ok, _ in nb.widget_views()] == [True]
        assert [name for name, _ in nb.sliders()] == ["T"]
        assert nb.readout(nb.sliders()[0][1]) == "3"
    finally:
        page.close()
        lab.shutdown_kernels()


def test_browser_suite_covers_every_promised_notebook():
    """The course still has the notebooks whose sliders this suite promises to move."""
    stems = {p.parent.name for p in NOTEBOOKS}
    assert set(PROMISED_SLIDERS) <= stems, f"missing notebooks: {set(PROMISED_SLIDERS) - stems}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_notebook_runs_and_widgets_respond(lab, browser, latency_log, notebook):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        nb = NotebookPage(page, lab, notebook, ARTIFACTS)
        nb.open()
        try:
            nb.run_all(timeout_ms=RUN_ALL_TIMEOUT_S * 1000)
        except TimeoutError as exc:
            if machine_load()[2]:
                pytest.skip(f"{notebook}: cannot be judged on this machine: {exc}")
            raise
        shots = nb.screenshot_notebook()
        assert shots, "no screenshot taken"
        (ARTIFACTS / f"{nb.stem}__stderr.txt").write_text("\n---\n".join(nb.stderr_outputs()))

        errors = nb.error_outputs()
        assert not errors, f"{notebook}: {len(errors)} error output(s); first:\n{errors[0][:2000]}"
        assert not nb.unexecuted_code_cells(), f"{notebook}: code cells left unexecuted after Run All"

        expected = nb.expected_widget_views()
        views = nb.widget_views()
        broken = [text for ok, text in views if not ok]
        assert not broken, f"{notebook}: widget(s) not rendered: {broken}"
        assert len(views) == expected, (f"{notebook}: the kernel sent {expected} widget view(s), "
                                        f"the page shows {len(views)}")

        sliders = nb.sliders()
        names = [name for name, _ in sliders]
        promised = PROMISED_SLIDERS.get(notebook.parent.name, set())
        assert promised <= set(names), f"{notebook}: sliders {sorted(promised - set(names))} missing (found {names})"

        for i, (name, slider) in enumerate(sliders):
            before, images_before = nb.readout(slider), nb.image_digests(slider)
            assert images_before, f"{notebook}: slider {name!r} drives no figure"
            key, started = nb.move_slider(slider)
            after, images_after, seconds = nb.wait_for_change(slider, before, images_before, started,
                                                              timeout_s=CHANGE_TIMEOUT_S)
            changed = images_after != images_before
            latency_log.record(nb.stem, name, key, before, after, changed, seconds)
            box = slider.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]")
            nb.screenshot(f"slider{i}_{name.replace(' ', '_')}_{after}", box)
            assert after != before, (f"{notebook}: {key} on slider {name!r} left its readout at {before} "
                                     f"after {seconds:.1f} s ({load_text()})")
            assert changed, (f"{notebook}: slider {name!r} moved {before} -> {after} but its figure did not change "
                             f"within {seconds:.1f} s ({load_text()})")
    finally:
        page.close()
        lab.shutdown_kernels()       # one notebook's kernel at a time: the machine has 2 cores


# --- notebook 07, self-study edition (issue 14): a model answer opens only after the student has typed --------

def test_exam_review_reveals_a_model_answer_after_typing(lab, browser):
    """Release 07 as the self-study edition in the served course copy, run it, type into the first answer box
    and click the reveal control: it is disabled until the student has written, then shows the model answer
    and the rubric's checkboxes."""
    from course_tools import nbgrader
    run = nbgrader(lab.root_dir, "generate_assignment", "07_exam_review", "--force", "--SelfStudyAnswers.enabled=True")
    assert run.returncode == 0, run.stdout + run.stderr
    relative = Path("release") / "07_exam_review" / "07_exam_review.ipynb"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        nb = NotebookPage(page, lab, relative, ARTIFACTS)
        nb.stem = "07_exam_review_self_study"
        nb.open()
        nb.run_all(timeout_ms=240_000)
        errors = nb.error_outputs()
        assert not errors, errors[0]
        broken = [text for ok, text in nb.widget_views() if not ok]
        assert not broken, broken
        before, after, shown = nb.reveal_model_answer("BPTT is backpropagation applied to the unrolled graph, "
                                                      "with the weights shared by every step.")
        assert before and not after, "the reveal control must open only once something is written"
        assert "Model answer" in shown and "Assess yourself" in shown and "of 4 points" in shown
        box = page.locator(".widget-textarea").first.locator(
            "xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]")
        nb.screenshot("model_answer_revealed", box)
        assert box.locator("input[type=checkbox]").count() == 4
    finally:
        page.close()
        lab.shutdown_kernels()

def test_slider_redraw_latency(latency_log):
    """Every slider move of this session redrew its figure within REDRAW_LIMIT_S of the key press.

    Judged only where the machine was not loaded by other work when the move was timed: there a slow
    redraw fails. A slow redraw on a loaded machine cannot be told from the load, so the test says so
    (skipped, with the load and the times; rerun `pytest -m browser` on a quiet machine).
    """
    moves = latency_log.moves
    if not moves:
        pytest.skip("no slider was moved in this session: the latency is judged after "
                    "test_notebook_runs_and_widgets_respond (run the whole file)")
    slow = [m for m in moves if m["seconds"] > REDRAW_LIMIT_S]
    judged = [m for m in slow if not m["loaded"]]
    assert not judged, (f"figure redrawn later than {REDRAW_LIMIT_S} s after the key press on a machine not "
                        "loaded by other work: " + "; ".join(f"{m['move']}: {m['seconds']:.2f} s (load "
                                                             f"{m['load']:.1f} on {m['cores']} cores)" for m in judged))
    if slow:
        worst = max(slow, key=lambda m: m["seconds"])
        pytest.skip(f"the {REDRAW_LIMIT_S} s redraw target cannot be judged here: {len(slow)} of {len(moves)} slider "
                    f"moves were slower while the machine was loaded by other work (up to load "
                    f"{max(m['load'] for m in slow):.1f} on {worst['cores']} cores; slowest "
                    f"{worst['move']}: {worst['seconds']:.2f} s; artifacts/browser/latency.tsv has every move)")
