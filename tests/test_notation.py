"""One notation for the state before step 0, checked everywhere students read maths.

The course's indexing: h_t is the state after reading x_t (t = 0..T-1) and the
argument `h0` is the state *before* step 0, written h_{-1} in the maths (for
the LSTM likewise `c0` is c_{-1}). So "h_0" names two different states
depending on who wrote it: the first state h[:, 0], or the initial state h0.
The markdown never writes it (nor c_0, dh_0, \\partial h_0): write h_{-1} or
`h0` for the state before step 0, and "h_t at t = 0" or `h[:, 0]` for the first
state. Code spans (`h0`, `h[:, 0]`) are code and are not scanned.
"""
import re

import pytest

from bpttlab import question_bank
from bpttlab.cheatsheet import SOURCE as CHEAT_SHEET
from course_tools import load, source_notebooks, source_text

# h_0, h_{0}, c_0, dh_0, \partial h_0, h_0^\top ... but not h_{0:T}, h_01 or a word ending in h.
AMBIGUOUS = re.compile(r"(?<![A-Za-z0-9\\])(?:d|\\partial\s*)?[hc]_(?:\{\s*0\s*\}|0(?![0-9.:]))")
CODE_SPAN = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def ambiguous(text):
    """Every use of the ambiguous form outside code spans, with some context."""
    prose = CODE_SPAN.sub(" ", text)
    return [prose[max(0, m.start() - 40):m.end() + 20].replace("\n", " ") for m in AMBIGUOUS.finditer(prose)]


def test_the_scanner_sees_the_ambiguous_form_and_nothing_else():
    for bad in ("$h_0 = 0$", "$h_{-1} = h_0$", r"$\partial L / \partial h_0$", "$c_{0}$", "dh_0 is", "h_0^\\top"):
        assert ambiguous(bad), bad
    for fine in ("$h_{-1}$", "`h0`", "`h_0`", "$h_{0:T}$", "$x_0$", "$a_0$", "$\\delta_0$", "$h_t$ at $t = 0$",
                 "$W_h$", "$h_{10}$", "```\nh_0 = 1\n```", "dh0"):
        assert not ambiguous(fine), fine


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.parent.name)
def test_notebook_markdown_never_writes_h_0(path):
    found = [(i, hit) for i, cell in enumerate(load(path)["cells"]) if cell["cell_type"] == "markdown"
             for hit in ambiguous(source_text(cell))]
    assert not found, (f"{path.name}: write h_{{-1}} (or `h0`) for the state before step 0 and 'h_t at t = 0' "
                       f"for the first state; ambiguous h_0 in cells {found}")


def test_cheat_sheet_and_question_bank_never_write_h_0():
    texts = {"cheat sheet": CHEAT_SHEET.read_text()}
    for q in question_bank.QUESTIONS:
        parts = [q.prompt] + ([o.text for o in q.options] + [o.why for o in q.options] if hasattr(q, "options")
                              else [q.explanation, q.hint] + [why for _, why in q.traps])
        texts[q.key] = "\n".join(parts)
    found = {name: hits for name, text in texts.items() for hits in [ambiguous(text)] if hits}
    assert not found, found


def test_the_cheat_sheet_writes_the_initial_state_gradient_as_dh_minus_1():
    text = CHEAT_SHEET.read_text()
    assert r"`dh0` $= \partial L/\partial h_{-1} = \delta_0 W_h^\top$" in text
