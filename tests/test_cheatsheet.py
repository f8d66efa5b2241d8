"""The cheat sheet: one source (bpttlab/data/cheatsheet.md), shown by notebook 07, printable on one page.

Legend: N batch, T time steps, D input size, H hidden size, k truncation length.
"""
import re

import pytest

import solutions
from bpttlab import cheatsheet, quiz
from course_tools import SOURCE, load, source_text
from system_tools import needs_chromium

TEXT = cheatsheet.text()


def test_notebook_07_shows_the_one_source():
    cells = [source_text(c) for c in load(SOURCE / "07_exam_review" / "07_exam_review.ipynb")["cells"]]
    assert any("review.cheat_sheet()" in c for c in cells)
    assert not any("**Forward**" in c or "Classic bugs" in c for c in cells), "a second copy of the cheat sheet"


def test_every_function_it_names_is_a_contract_function():
    named = set(re.findall(r"`([a-z_]+)`", TEXT)) & {n for n in dir(solutions) if not n.startswith("_")}
    contract = set(solutions.GRADED_FUNCTIONS) | set(getattr(solutions, "PENDING_FUNCTIONS", ()))
    assert named <= contract
    for name in ("rnn_backward", "rnn_backward_truncated", "rnn_backward_chunked", "rnn_backward_weighted",
                 "rnn_backward_checkpointed", "step_jacobians", "clip_grad_norm"):
        assert f"`{name}`" in TEXT, name


def test_every_notebook_section_is_there():
    for number in ("01", "02", "03", "04", "05", "06"):
        assert f"notebook {number}" in TEXT or f"notebooks {number}" in TEXT or f", {number})" in TEXT, number
    assert set(re.findall(r"notebooks? (\d\d)", TEXT)) <= {nb[:2] for nb in quiz.NOTEBOOKS}


def test_every_formula_renders_without_mathjax():
    formulas = cheatsheet.formulas()
    assert len(formulas) > 50
    for tex in formulas:
        assert "<svg" in cheatsheet.formula_svg(tex), tex          # ValueError if mathtext cannot read it


def test_the_html_page_is_standalone():
    page = cheatsheet.to_html()
    assert page.startswith("<!DOCTYPE html>") and "$" not in page.split("<main>", 1)[1]
    assert not re.search(r"(src|href)=\"https?://", page), "the page must print without a network"
    for heading in re.findall(r"^## (.+)$", TEXT, re.M):
        assert re.sub(r"`", "", heading.split(" (")[0]) in re.sub(r"<[^>]+>", "", page), heading
    assert page.count("<table>") == 1 and page.count("<tr>") == 6


@needs_chromium()
def test_the_pdf_is_one_page(tmp_path):
    pdf = cheatsheet.to_pdf(tmp_path / "cheatsheet.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and cheatsheet.pdf_page_count(pdf) == 1


def test_to_pdf_without_a_browser_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(cheatsheet, "chromium", lambda: None)
    with pytest.raises(RuntimeError, match="print it"):
        cheatsheet.to_pdf(tmp_path / "x.pdf")
