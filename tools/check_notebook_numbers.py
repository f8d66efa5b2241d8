#!/usr/bin/env python3
"""Every number a notebook's text quotes must be printed by one of its cells.

The course's rule (GUIDE.md): text and output cannot drift apart, and a
number quoted from a run must be true on any student's machine. This module
finds the numbers that the markdown cells of an *executed* notebook quote and
reports each one that no cell printed. `tests/test_notebook_numbers.py` runs
it on every notebook of course/source; authors can run it directly:

    python tools/check_notebook_numbers.py [course/source/03_truncation/03_truncation.ipynb ...]

(executes each notebook headless, prints the problems, exits 1 if any).

The rule, precisely
-------------------
Checked: every markdown cell, except
  - code: fenced blocks and `inline code` (code is not a quoted result);
  - references: from a line that starts a "References" heading or a
    "**References" paragraph to the end of that cell;
  - citations and cross-references: a year (1800-2099) right after an
    author's name ("Kingma & Ba 2015", "(Hochreiter, 1991)", "et al. 2010"),
    "§2.8.6", "section 5.1", "chapter 10", "notebook 04", "notebooks 01-04",
    "question 2", "(4 points)", heading numbers ("## 4. ...") and the numbers
    of ordered lists ("1. implement ...");
  - exact fractions written a/b ("probability 1/2": definitions, not results);
  - inside LaTeX math ($...$, $$...$$): whole numbers (indices, exponents,
    sizes and other parameters of a definition);
  - powers of ten with a whole exponent ($10^{-4}$, 1e-4: thresholds and
    scales).
Quoted numbers, each of which must be matched:
  - decimals (0.65, 1.00), in prose or in math ($E = 0.09$);
  - percentages (43 %, 8\\%);
  - ratios (3.5x, 10×, 4 times);
  - scientific forms ($7.7 \\cdot 10^{-4}$, 9e4, 3e-3); a power of ten with a
    decimal exponent, $10^{-8.5}$, quotes its exponent (-8.5), as printed by a
    cell that shows log10 values;
  - whole numbers from 10 up in prose ("after 21 steps", "in all 12 runs");
    0-9 are counting words far more often than results ("step 0", "norm 1",
    "a 3-step RNN") and are not checked.
A quoted number is matched when
  - a cell printed it (stdout, or the text/plain, text/markdown or text/latex
    of a result or display; not the repr of a figure or widget), with the same
    digits: the quote is the printed number rounded to the quote's last digit
    (|printed - quoted| <= half a unit of the quote's last digit) and the
    print is at least as precise as the quote ("0.65" matches a printed
    0.6523 or 0.650; "1.00" does not match a printed "1.0"). Signs are
    ignored. A percentage also matches a printed fraction (43 % ~ 0.43), and
    a printed percentage matches a quoted fraction;
  - or a code cell of the notebook sets exactly that value (a parameter the
    text describes, visible in the code: "rho = 0.9" and `rho=0.9`);
  - or the notebook's entry in tools/notebook_numbers_allowlist.py lists it:
    Computed (arithmetic from the course's definitions, evaluated and checked
    here to the quote's digits, e.g. "0.35" = 0.9 ** 10) or Cited (a
    constant from a paper the notebook cites; the author and year must appear
    in the notebook). An entry whose number the notebook no longer quotes is
    reported, so the list does not rot.
Numbers from training runs vary with the machine's BLAS kernel: quote them
only when a cell prints them (a sentence computed in the cell, e.g. "What
this run shows: ..."), or state ranges that a cell prints too.
"""
import argparse
import ast
import importlib.util
import io
import math
import re
import sys
import tokenize
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------ what a quote is


@dataclass(frozen=True)
class Number:
    """A number as written: its value, the unit of its last digit, and its kind.

    kind: "decimal", "percent", "ratio", "scientific", "integer" or "log10" (the
    exponent of a power of ten with a decimal exponent).
    """
    text: str
    value: Decimal
    unit: Decimal
    kind: str

    @property
    def key(self):
        """The form the allow-list uses: '0.35', '9.5e-5', '43%', '3.5x', '21', '10^-8.5'."""
        return self.text


@dataclass(frozen=True)
class Quote:
    """A number quoted in a markdown cell: which cell, the number, and the words around it."""
    cell: int
    number: Number
    context: str


@dataclass(frozen=True)
class Problem:
    """Something the checker found: cell index (or None for the allow-list) and a message."""
    cell: object
    message: str

    def __str__(self):
        where = "allow-list" if self.cell is None else f"markdown cell {self.cell}"
        return f"{where}: {self.message}"


def _unit(digits_after_point):
    return Decimal(1).scaleb(-digits_after_point)


def _decimal_number(text, kind):
    """Number from a plain decimal/integer string such as '0.650' or '21'."""
    value = Decimal(text)
    after = len(text.split(".")[1]) if "." in text else 0
    return Number(text, value, _unit(after), kind)


def _scientific(mantissa, exponent, text):
    """Number a * 10^e, e.g. ('7.7', '-4') -> 0.00077 with unit 1e-5."""
    after = len(mantissa.split(".")[1]) if "." in mantissa else 0
    e = int(exponent)
    return Number(text, Decimal(mantissa).scaleb(e), _unit(after - e), "scientific")


# ------------------------------------------------------------------ finding the quotes

_FENCE = re.compile(r"```.*?```", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_REFERENCES = re.compile(r"^\s*(?:#+\s*References\b|\*\*References\b)", re.M | re.I)
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)
_HEADING_NUMBER = re.compile(r"^(\s*#+\s*)[A-Z]?\d+(?:\.\d+)*\.?(?=\s)", re.M)
_LIST_NUMBER = re.compile(r"^(\s*)\d+[.)](?=\s)", re.M)
_CROSS_REF = re.compile(
    r"(?i)(?:§\s*|\b(?:notebooks?|sections?|chapters?|questions?|parts?|figures?|tables?)\s+)"
    r"\d+(?:\.\d+)*(?:\s*(?:-|–|,|and|to|or)\s*\d+(?:\.\d+)*)*")
_POINTS = re.compile(r"\b\d+\s+points?\b", re.I)
_FRACTION = re.compile(r"(?<![\w.])\d+/\d+(?![\w.])")
_YEAR = re.compile(r"(?<![\w.])(1[89]\d\d|20\d\d)[a-z]?(?![\w.]|\.\d)")
_AUTHOR_BEFORE = re.compile(r"(?:[A-Z][\w'\-]+|et al\.)[,;]?\s*\(?\s*$")

# prose: scientific forms first, then plain numbers with their suffixes
_PROSE_NUMBER = re.compile(
    r"(?<![\w.^])(?P<mant>\d+(?:\.\d+)?)"
    r"(?:(?P<e>[eE][-+]?\d+)(?![\w.])"
    r"|\s*(?:·|×|\\cdot|\\times)\s*10\^\{?(?P<exp>[-+−]?\d+)\}?"
    r"|(?P<pct>\s?\\?%)"
    r"|(?P<ratio>\s?(?:x|×)(?![\w])|\s+times\b)"
    r"|(?![\w]|\.\d))")
# math: only what is not a whole number of a definition
_MATH_SCI = re.compile(r"(?<![\w.^])(?P<mant>\d+(?:\.\d+)?)\s*(?:\\cdot|\\times|·|×)\s*10\^\{?(?P<exp>[-+−]?\d+)\}?")
_MATH_LOG = re.compile(r"(?<![\w.])10\^\{\s*(?P<exp>[-+−]?\d+\.\d+)\s*\}")
_MATH_PCT = re.compile(r"(?<![\w.^])(?P<num>\d+(?:\.\d+)?)\s*\\?%")
_MATH_DEC = re.compile(r"(?<![\w.^{])(?P<num>\d+\.\d+)(?![\w.])")


def _blank(text, span):
    """text with the characters of span replaced by spaces (keeps positions for context)."""
    a, b = span
    return text[:a] + " " * (b - a) + text[b:]


def _strip_exempt(text):
    """Markdown with every exempt region blanked out (see the module docstring)."""
    for pattern in (_FENCE, _INLINE_CODE):
        for m in list(pattern.finditer(text)):
            text = _blank(text, m.span())
    cut = _REFERENCES.search(text)
    if cut:
        text = text[:cut.start()]
    for m in list(_HEADING_NUMBER.finditer(text)) + list(_LIST_NUMBER.finditer(text)):
        text = _blank(text, (m.start() + len(m.group(1)), m.end()))
    for pattern in (_CROSS_REF, _POINTS, _FRACTION):
        for m in list(pattern.finditer(text)):
            text = _blank(text, m.span())
    for m in list(_YEAR.finditer(text)):
        if _AUTHOR_BEFORE.search(text[max(0, m.start() - 60):m.start()]):
            text = _blank(text, m.span())
    return text


def _context(text, start, end, width=40):
    return " ".join(text[max(0, start - width):end + width].split())


def _prose_numbers(text, offset):
    found = []
    for m in _PROSE_NUMBER.finditer(text):
        mant = m.group("mant")
        if m.group("e"):
            exp = m.group("e")[1:]
            if mant == "1":
                continue                               # a power of ten (1e-4): a threshold or a scale
            number = _scientific(mant, exp, f"{mant}e{int(exp)}")
        elif m.group("exp"):
            exp = m.group("exp").replace("−", "-")
            number = _scientific(mant, exp, f"{mant}e{int(exp)}")
        elif m.group("pct"):
            number = _decimal_number(mant, "percent")
            number = Number(f"{mant}%", number.value, number.unit, "percent")
        elif m.group("ratio"):
            number = _decimal_number(mant, "ratio")
            number = Number(f"{mant}x", number.value, number.unit, "ratio")
        elif "." in mant:
            number = _decimal_number(mant, "decimal")
        elif int(mant) < 10:
            continue                                   # counting words: "step 0", "norm 1", "a 3-step RNN"
        else:
            number = _decimal_number(mant, "integer")
        found.append((offset + m.start(), offset + m.end(), number))
    return found


def _math_numbers(content, offset):
    found, taken = [], []
    for m in _MATH_SCI.finditer(content):
        exp = m.group("exp").replace("−", "-")
        found.append((offset + m.start(), offset + m.end(), _scientific(m.group("mant"), exp,
                                                                        f"{m.group('mant')}e{int(exp)}")))
        taken.append(m.span())
    for m in _MATH_LOG.finditer(content):
        exp = m.group("exp").replace("−", "-")
        n = _decimal_number(exp.lstrip("+-"), "log10")
        found.append((offset + m.start(), offset + m.end(), Number(f"10^{exp}", n.value, n.unit, "log10")))
        taken.append(m.span())
    for m in _MATH_PCT.finditer(content):
        if not any(a <= m.start() < b for a, b in taken):
            n = _decimal_number(m.group("num"), "percent")
            found.append((offset + m.start(), offset + m.end(), Number(f"{m.group('num')}%", n.value, n.unit,
                                                                       "percent")))
            taken.append(m.span())
    for m in _MATH_DEC.finditer(content):
        if not any(a <= m.start() < b for a, b in taken):
            found.append((offset + m.start(), offset + m.end(), _decimal_number(m.group("num"), "decimal")))
    return found


def quoted_numbers(markdown):
    """The numbers a markdown text quotes, as (start, end, Number), in order of appearance."""
    text = _strip_exempt(markdown)
    found, last = [], 0
    for m in _MATH.finditer(text):
        prose = text[last:m.start()]
        found += _prose_numbers(prose, last)
        content = m.group(1) if m.group(1) is not None else m.group(2)
        start = m.start(1) if m.group(1) is not None else m.start(2)
        found += _math_numbers(content, start)
        last = m.end()
    found += _prose_numbers(text[last:], last)
    return sorted(found, key=lambda f: f[0])


def notebook_quotes(nb):
    """Every Quote in the markdown cells of a notebook (an nbformat node or a dict)."""
    quotes = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for start, end, number in quoted_numbers(source):
            quotes.append(Quote(i, number, _context(source, start, end)))
    return quotes


# ------------------------------------------------------------------ what the cells show

_OUTPUT_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:([eE][-+]?\d+))?(\s?%)?")
_SHOWN_MIMES = ("text/plain", "text/markdown", "text/latex")
_NOT_TEXT_MIMES = ("image/png", "image/svg+xml", "image/jpeg", "application/vnd.jupyter.widget-view+json")


def printed_text(nb):
    """All text the code cells of an executed notebook printed (see the module docstring)."""
    parts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                parts.append(out["text"] if isinstance(out["text"], str) else "".join(out["text"]))
            elif out.get("output_type") in ("execute_result", "display_data"):
                data = out.get("data", {})
                if any(m in data for m in _NOT_TEXT_MIMES):
                    continue                        # a figure's or widget's repr is not a printed result
                for mime in _SHOWN_MIMES:
                    if mime in data:
                        value = data[mime]
                        parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def printed_numbers(text):
    """Numbers in printed text, as Number (kind 'percent' when followed by %)."""
    found = []
    for m in _OUTPUT_NUMBER.finditer(text):
        mant, exp, pct = m.groups()
        if exp:
            found.append(_scientific(mant, exp[1:], m.group(0)))
        elif pct:
            n = _decimal_number(mant, "percent")
            found.append(Number(m.group(0), n.value, n.unit, "percent"))
        else:
            found.append(_decimal_number(mant, "decimal" if "." in mant else "integer"))
    return found


def code_values(nb):
    """The values of the number literals in the notebook's code cells (a set of Decimal)."""
    values = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        try:
            tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
                      if t.type == tokenize.NUMBER]
        except (tokenize.TokenError, IndentationError, SyntaxError):
            tokens = re.findall(r"(?<![\w.])\d+(?:\.\d*)?(?:[eE][-+]?\d+)?", source)
        for t in tokens:
            try:
                values.add(Decimal(str(ast.literal_eval(t.replace("_", "")))))
            except (ValueError, SyntaxError, ArithmeticError):
                pass
    return values


def _candidates(number):
    """(value, unit) pairs a number stands for: a percentage is also the fraction."""
    pairs = [(abs(number.value), number.unit)]
    if number.kind == "percent":
        pairs.append((abs(number.value) / 100, number.unit / 100))
    return pairs


def matches(quoted, printed):
    """True if `printed` shows `quoted` with the same digits (see the module docstring)."""
    for qv, qu in _candidates(quoted):
        for pv, pu in _candidates(printed):
            if pu <= qu and abs(pv - qv) <= qu / 2:
                return True
    return False


# ------------------------------------------------------------------ the allow-list


@dataclass(frozen=True)
class Computed:
    """A quoted number that is arithmetic on the course's definitions: `expression` (Python, `math`
    available) must round to the quote, e.g. Computed("0.35", "0.9 ** 10", "rho^d for rho = 0.9, d = 10")."""
    quote: str
    expression: str
    why: str


@dataclass(frozen=True)
class Cited:
    """A constant quoted from a paper the notebook cites: Cited("0.1767", "Hochreiter & Schmidhuber 1997", why)."""
    quote: str
    citation: str
    why: str


def load_allowlist(path=None):
    """ALLOWED from tools/notebook_numbers_allowlist.py: {assignment: [Computed | Cited, ...]}."""
    path = Path(path or Path(__file__).with_name("notebook_numbers_allowlist.py"))
    spec = importlib.util.spec_from_file_location("notebook_numbers_allowlist", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_notebook_numbers", sys.modules.get(__name__))
    spec.loader.exec_module(module)
    return module.ALLOWED


def _markdown_text(nb):
    return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in nb["cells"] if c["cell_type"] == "markdown")


def _check_entry(entry, quote_number, nb):
    """None if the allow-list entry is sound, else why not."""
    if isinstance(entry, Computed):
        try:
            value = eval(entry.expression, {"__builtins__": {}, "math": math})   # noqa: S307 (our own file)
        except Exception as exc:                                                  # noqa: BLE001
            return f"{entry.quote!r}: cannot evaluate {entry.expression!r}: {exc}"
        got = Number(repr(value), Decimal(repr(float(value))), Decimal(0), "decimal")
        if not matches(quote_number, got):
            return f"{entry.quote!r} is not {entry.expression} = {float(value):.6g} to the quoted digits"
        return None
    if isinstance(entry, Cited):
        years = re.findall(r"(?:1[89]|20)\d\d", entry.citation)
        first_author = re.findall(r"[A-Z][\w'\-]+", entry.citation)[:1]
        text = _markdown_text(nb)
        missing = [w for w in first_author + years if w not in text]
        if missing or not years or not first_author:
            return (f"{entry.quote!r} is cited from {entry.citation!r}, but the notebook does not cite it "
                    f"(missing: {missing or 'author and year'})")
        return None
    return f"{entry!r} is neither Computed nor Cited"


# ------------------------------------------------------------------ the check


def check_notebook(nb, allowed=()):
    """Problems of an executed notebook: quotes no cell prints, and unsound or unused allow-list entries.

    nb: the executed notebook (nbformat node or dict); allowed: its allow-list entries.
    Returns a list of Problem (empty when the notebook passes).
    """
    printed = printed_numbers(printed_text(nb))
    in_code = code_values(nb)
    quotes = notebook_quotes(nb)
    allowed_by_key = {e.quote: e for e in allowed}
    problems = []
    for key, entry in allowed_by_key.items():
        quoted = [q.number for q in quotes if q.number.key == key]
        if not quoted:
            problems.append(Problem(None, f"{key!r} is allow-listed but the notebook no longer quotes it: "
                                          "remove the entry"))
            continue
        why_not = _check_entry(entry, quoted[0], nb)
        if why_not:
            problems.append(Problem(None, why_not))
    for quote in quotes:
        n = quote.number
        if any(matches(n, p) for p in printed):
            continue
        if n.kind != "log10" and abs(n.value) in in_code:
            continue
        if n.key in allowed_by_key:
            continue
        near = sorted(printed, key=lambda p: abs(abs(p.value) - abs(n.value)))[:3]
        problems.append(Problem(quote.cell, f"{n.key!r} ({n.kind}) is not printed by any cell: "
                                            f"\"...{quote.context}...\" (nearest printed: "
                                            f"{', '.join(p.text.strip() for p in near) or 'nothing'})"))
    return problems


def execute(path, timeout=300):
    """Run a notebook headless (nbclient, a fresh python3 kernel, in its own folder); returns the notebook."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run and check (default: every course/source notebook)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "course" / "source").glob("*/*.ipynb"))
    allowed = load_allowlist()
    failed = 0
    for path in paths:
        problems = check_notebook(execute(path), allowed.get(path.parent.name, ()))
        print(f"{path.parent.name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for p in problems:
            print(f"  {p}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
