"""Written exam questions: write first, then open the model answer and assess yourself against its rubric.

In the graded release of notebook 07 the model answers are not there (the
instructor grades the answers by hand, in nbgrader's manual-grading cells).
In the self-study edition (built with `c.SelfStudyAnswers.enabled = True`,
see autograder/self_study.py), each question's cell carries its model answer
and rubric, sealed (base64 of compressed JSON) so that they are not read by
accident: `written_answer(grade_id, sealed=...)` shows a box to write in, a
"Show the model answer and rubric" button that opens only once the box holds
at least MIN_WORDS words, then the model answer and one checkbox per rubric
point with the points they add up to. Sealing is a nudge to attempt first,
not a protection: the self-study edition is for learners, not for grading.
"""
import base64
import json
import re
import zlib

MIN_WORDS = 5


def seal(payload):
    """A dict as text: base64 of zlib-compressed JSON (what the self-study edition writes into the cell)."""
    return base64.b64encode(zlib.compress(json.dumps(payload, sort_keys=True).encode(), 9)).decode()


def unseal(text):
    """The dict that seal() made."""
    return json.loads(zlib.decompress(base64.b64decode(text.encode())).decode())


def word_count(text):
    return len(re.findall(r"\w+", text or ""))


class WrittenAnswer:
    """The box for one written question; displays itself when it is a cell's last expression.

    grade_id: the question's manually graded cell; sealed: the model answer and
    rubric (seal() of {"grade_id", "points", "model_answer", "rubric": [{"points",
    "text"}], "notes": [...]}), or None in the graded release. `write(text)` types
    into the box, `reveal()` presses the button (refused until MIN_WORDS words are
    written), `assess(indices)` ticks rubric points; `score` is the points ticked.
    """

    def __init__(self, grade_id, sealed=None):
        import ipywidgets as widgets
        self.grade_id = grade_id
        self.payload = None if sealed is None else unseal(sealed)
        if self.payload is not None and self.payload.get("grade_id") != grade_id:
            raise ValueError(f"the model answer sealed here belongs to {self.payload.get('grade_id')!r}, "
                             f"not to {grade_id!r}")
        self.revealed = False
        if self.payload is None:
            self.box = widgets.HTML(
                "<i>Write your answer in the cell below: your instructor grades it. (In the self-study "
                "edition of the course, a model answer and its rubric open here once you have written yours.)</i>")
            return
        self.text = widgets.Textarea(placeholder="Write your answer here first: a few sentences or bullet points.",
                                     continuous_update=True, layout=widgets.Layout(width="95%", height="120px"))
        self.button = widgets.Button(description="Show the model answer and rubric", disabled=True,
                                     layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.answer_area = widgets.Output()
        self.rubric_box = widgets.VBox()
        self.score_label = widgets.HTML()
        self.text.observe(self._typed, names="value")
        self.button.on_click(lambda _: self.reveal())
        self.box = widgets.VBox([self.text, widgets.HBox([self.button, self.status]),
                                 self.answer_area, self.rubric_box, self.score_label])
        self._typed()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.box)

    def _typed(self, change=None):
        n = word_count(self.text.value)
        self.button.disabled = n < MIN_WORDS
        self.status.value = ("" if n >= MIN_WORDS else
                             f"<small>opens once you have written at least {MIN_WORDS} words ({n} so far)</small>")

    def write(self, text):
        """Type `text` into the answer box, as a student would."""
        if self.payload is None:
            raise RuntimeError("this edition has no model answer: write in the cell below")
        self.text.value = text

    def reveal(self):
        """Open the model answer and the rubric; returns True, or False while fewer than MIN_WORDS words are written."""
        import ipywidgets as widgets
        if self.payload is None or word_count(self.text.value) < MIN_WORDS:
            return False
        if self.revealed:
            return True
        self.revealed = True
        p = self.payload
        markdown = p["model_answer"]
        self.answer_area.outputs = ({"output_type": "display_data", "metadata": {},
                                     "data": {"text/markdown": markdown, "text/plain": markdown}},)
        self.checks = []
        rows = [widgets.HTML(f"<b>Assess yourself: tick each point your answer makes ({p['points']:g} points).</b>")]
        for item in p["rubric"]:
            check = widgets.Checkbox(value=False, indent=False, layout=widgets.Layout(width="30px"))
            check.observe(lambda _: self._score(), names="value")
            self.checks.append(check)
            rows.append(widgets.HBox([check, widgets.HTMLMath(f"<b>{item['points']:g}</b>: {item['text']}")]))
        for note in p.get("notes", ()):
            rows.append(widgets.HTMLMath(f"<i>{note}</i>"))
        self.rubric_box.children = rows
        self.button.disabled = True
        self.status.value = ""
        self._score()
        return True

    def assess(self, indices):
        """Tick the rubric points with these indices (and untick the others), as a student would."""
        if not self.revealed:
            raise RuntimeError("open the model answer first")
        for i, check in enumerate(self.checks):
            check.value = i in set(indices)
        return self.score

    @property
    def score(self):
        if not self.revealed:
            return None
        return sum(item["points"] for item, check in zip(self.payload["rubric"], self.checks) if check.value)

    def _score(self):
        total = self.payload["points"]
        self.score_label.value = (f"Your self-assessment: <b>{self.score:g} of {total:g} points</b>. "
                                  "Keep your answer: copy it into the cell below.")


def written_answer(grade_id, sealed=None):
    """The answer box of written question `grade_id` (a WrittenAnswer); see the module docstring."""
    return WrittenAnswer(grade_id, sealed)
