"""Spot the bug: short implementations with one classic mistake, from the autograder's library of known mistakes.

Legend (as in the course): N batch, T time steps, D input size, H hidden size, k truncation length.

The drills are data: spot_the_bug.json, which tools/build_spot_the_bug.py
builds out of autograder/mistakes/ and which is released with notebook 07
(next to the notebook). This module only reads that file: it never imports the autograder
or the reference. Each drill shows one function graded in notebooks 01-06
with one mistake; the student picks the faulty line (when the mistake sits in
one to three lines) and what goes wrong (the mistake's title, among titles of
other mistakes of the same function). The explanation is the mistake's hint,
then the fix and the symptom the autograder sees.
No graded value depends on any of it.
"""
import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .quiz import NOTEBOOKS, Feedback, html_feedback

DATA_FILE = "spot_the_bug.json"


@dataclass(frozen=True)
class BugDrill:
    """One faulty implementation. code: its source; faulty_lines: the 1-based lines where it departs from a
    correct version (empty when there is no single place to point at); fixes: the correct lines;
    wrong_parts / right_parts: the outputs the autograder finds wrong / right; error: the exception it
    raises on some inputs, if any; notes: the autograder's words on arguments and expected errors."""
    id: str
    function: str
    notebook: str
    title: str
    hint: str
    code: str
    faulty_lines: tuple
    fixes: tuple
    wrong_parts: tuple
    right_parts: tuple
    error: str = None
    notes: tuple = ()

    @property
    def lines(self):
        return self.code.split("\n")

    @property
    def asks_line(self):
        return bool(self.faulty_lines)

    def check_line(self, line):
        """Feedback for the line number (1-based) the student points at."""
        if isinstance(line, bool) or not isinstance(line, (int, np.integer)) or not 1 <= line <= len(self.lines):
            raise ValueError(f"{self.id}: line must be a number from 1 to {len(self.lines)}; got {line!r}")
        if line in self.faulty_lines:
            others = [n for n in self.faulty_lines if n != line]
            also = f" (line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))} too)" if others else ""
            return Feedback(True, f"Right: the bug is on line {line}{also}. {self.hint}")
        return Feedback(False, f"Line {line} is as a correct implementation has it. Hint: {self.hint}")

    def symptom(self):
        """What the autograder sees, in words."""
        text = "The autograder finds " + ", ".join(self.wrong_parts) + " wrong"
        if self.right_parts:
            text += " and " + ", ".join(self.right_parts) + " right"
        text += "."
        if self.error:
            text += f" On some inputs it raises {self.error}."
        for note in self.notes:
            text += f" ({note}.)"
        return text

    def fix_html(self):
        """The correct lines, as HTML."""
        out = []
        for fix in self.fixes:
            correct = "<br>".join(f"<code>{html.escape(line.strip())}</code>" for line in fix["correct"])
            if fix["lines"]:
                where = "line" + ("s " if len(fix["lines"]) > 1 else " ") + ", ".join(map(str, fix["lines"]))
                out.append(f"{where} should read: {correct}" if correct else f"{where}: delete")
            else:
                out.append(f"after line {fix['after']}, add: {correct}")
        return "<br>".join(out)


def load(path=None):
    """The drills of spot_the_bug.json (default: the file next to the notebook, in the working folder)."""
    path = Path(DATA_FILE if path is None else path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the spot-the-bug drills come with notebook 07 "
                                f"({DATA_FILE} next to the notebook); instructors rebuild it with "
                                "python tools/build_spot_the_bug.py")
    data = json.loads(path.read_text())
    return [BugDrill(d["id"], d["function"], d["notebook"], d["title"], d["hint"], d["code"],
                     tuple(d["faulty_lines"]), tuple(d["fixes"]), tuple(d["wrong_parts"]), tuple(d["right_parts"]),
                     d.get("error"), tuple(d.get("notes", ())))
            for d in data["drills"]]


@dataclass(frozen=True)
class BugQuestion:
    """A drill as shown once: `options` are (title, explanation) pairs, `answer` the index of the drill's own title."""
    drill: BugDrill
    options: tuple
    answer: int

    def check_title(self, choice):
        """Feedback for the option picked (index or title)."""
        titles = [t for t, _ in self.options]
        if isinstance(choice, str):
            if choice not in titles:
                raise ValueError(f"{choice!r} is not one of the options")
            choice = titles.index(choice)
        if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)) or not 0 <= choice < len(titles):
            raise ValueError(f"choice must be an option index 0..{len(titles) - 1} or a title; got {choice!r}")
        if choice == self.answer:
            return Feedback(True, f"Right: {self.drill.title.lower()}. {self.drill.hint} {self.drill.symptom()}")
        return Feedback(False, f"Not this one. {self.options[choice][1]}")


def question(drill, drills, rng, n_options=4):
    """A BugQuestion for `drill`: its title and up to n_options - 1 titles of other mistakes of the same
    function (of the same notebook if the function has too few), in random order."""
    same = [d for d in drills if d.function == drill.function and d.title != drill.title]
    if len(same) < n_options - 1:
        same += [d for d in drills if d.notebook == drill.notebook and d.function != drill.function]
    picks = [same[i] for i in rng.permutation(len(same))[:n_options - 1]]
    options = [(drill.title, "")] + [
        (d.title, f"'{d.title}' is a different bug: {d.hint}") for d in picks]
    order = rng.permutation(len(options))
    return BugQuestion(drill, tuple(options[i] for i in order), int(np.flatnonzero(order == 0)[0]))


def code_html(drill):
    """The drill's code with line numbers, as HTML."""
    width = len(str(len(drill.lines)))
    rows = "\n".join(f'<span style="color:#888">{n:>{width}}</span>  {html.escape(line)}'
                     for n, line in enumerate(drill.lines, 1))
    return (f'<pre style="font-size:12.5px;line-height:1.35;background:#f6f8fa;padding:8px;'
            f'border-radius:4px">{rows}</pre>')


ALL = "all"


class SpotTheBugWidget:
    """One faulty implementation at a time: pick the faulty line and what goes wrong.

    Controls: a notebook filter, "New bug" (a random drill within the filter), "Show the fix".
    `box` is the widget to display; `pick_line(n)` and `pick_title(i or title)` do what the
    student's clicks do and return the Feedback. Drills come from np.random.default_rng(seed).
    """

    def __init__(self, drills=None, seed=0, path=None):
        import ipywidgets as widgets
        self.drills = load(path) if drills is None else list(drills)
        if not self.drills:
            raise ValueError("no spot-the-bug drills to show")
        self.rng = np.random.default_rng(seed)
        present = [nb for nb in NOTEBOOKS if any(d.notebook == nb for d in self.drills)]
        self.filter = widgets.Dropdown(options=[("all notebooks", ALL)] + [(NOTEBOOKS[n], n) for n in present],
                                       value=ALL, description="from")
        self.new_button = widgets.Button(description="New bug", button_style="info")
        self.fix_button = widgets.Button(description="Show the fix")
        self.header = widgets.HTML()
        self.code = widgets.HTML()
        self.line_prompt = widgets.HTML("<b>Which line holds the bug?</b>")
        self.lines = widgets.ToggleButtons(options=[], value=None, style={"button_width": "34px"})
        self.line_feedback = widgets.HTML()
        self.titles = widgets.RadioButtons(options=[], value=None, layout=widgets.Layout(width="auto"))
        self.title_feedback = widgets.HTML()
        self.fix = widgets.HTML()
        self.score = widgets.HTML()
        self.lines.observe(lambda ch: ch["new"] is not None and self._line(ch["new"]), names="value")
        self.titles.observe(lambda ch: ch["new"] is not None and self._title(ch["new"]), names="value")
        self.new_button.on_click(lambda _: self.new_bug())
        self.fix_button.on_click(lambda _: self.show_fix())
        self.line_box = widgets.VBox([self.line_prompt, self.lines, self.line_feedback])
        self.box = widgets.VBox([widgets.HBox([self.filter, self.new_button, self.fix_button]),
                                 self.header, self.code, self.line_box,
                                 widgets.HTML("<b>What goes wrong?</b>"), self.titles, self.title_feedback,
                                 self.fix, self.score])
        self.tried = self.right_first = 0
        self.new_bug()

    def new_bug(self, drill_id=None):
        """Show a new drill (random within the filter, or the one with id `drill_id`); returns its BugQuestion."""
        if drill_id is not None:
            drill = next(d for d in self.drills if d.id == drill_id)
        else:
            pool = [d for d in self.drills if self.filter.value in (ALL, d.notebook)] or self.drills
            drill = pool[int(self.rng.integers(len(pool)))]
        self.current = question(drill, self.drills, self.rng)
        self.answered = False
        self.header.value = (f"<b>{drill.function}</b> (graded in notebook "
                             f"{NOTEBOOKS.get(drill.notebook, drill.notebook)}) has one bug.")
        self.code.value = code_html(drill)
        self.line_box.layout.display = None if drill.asks_line else "none"
        self.lines.value = None
        self.lines.options = [str(n) for n in range(1, len(drill.lines) + 1)] if drill.asks_line else []
        self.lines.value = None
        self.titles.value = None
        self.titles.options = [t for t, _ in self.current.options]
        self.titles.value = None
        self.line_feedback.value = self.title_feedback.value = self.fix.value = ""
        self._show_score()
        return self.current

    def _line(self, text):
        fb = self.current.drill.check_line(int(text))
        self.line_feedback.value = html_feedback(fb)
        return fb

    def _title(self, title):
        fb = self.current.check_title(title)
        if not self.answered:
            self.answered = True
            self.tried += 1
            self.right_first += fb.correct
        self.title_feedback.value = html_feedback(fb)
        self._show_score()
        return fb

    def pick_line(self, line):
        """Point at line `line` (1-based), as a click does; returns the Feedback."""
        if not self.current.drill.asks_line:
            raise ValueError(f"{self.current.drill.id} does not ask for a line")
        self.current.drill.check_line(line)                  # bad lines raise a clear ValueError
        self.lines.value = None
        self.lines.value = str(line)                         # fires _line, like a click
        return self.current.drill.check_line(line)

    def pick_title(self, choice):
        """Pick an answer to "what goes wrong?" (index or title), as a click does; returns the Feedback."""
        title = self.current.options[choice][0] if not isinstance(choice, str) else choice
        self.current.check_title(title)                     # bad choices raise a clear ValueError
        if self.titles.value == title:
            return self._title(title)
        self.titles.value = title
        return self.current.check_title(title)

    def show_fix(self):
        drill = self.current.drill
        self.fix.value = (f"<b>{html.escape(drill.title)}.</b> {html.escape(drill.hint)}<br>{drill.fix_html()}"
                          f"<br><i>{html.escape(drill.symptom())}</i>")

    def _show_score(self):
        self.score.value = (f"<small>{len(self.drills)} bugs from the autograder's library. This session: "
                            f"{self.right_first} of {self.tried} diagnosed right the first time.</small>")
