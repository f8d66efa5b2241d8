"""The course's one-page cheat sheet: one source (data/cheatsheet.md), shown in notebook 07, printable.

Legend (as in the course): N batch, T time steps, D input size, H hidden size,
V vocabulary size, k truncation length.

- `show()` displays the cheat sheet in the notebook (Markdown with LaTeX);
- `to_html()` makes a standalone one-page HTML file for printing: no network
  needed, every formula drawn as SVG by matplotlib's mathtext;
- `to_pdf()` prints that page to PDF with a headless Chromium when one is
  installed (otherwise print the HTML from any browser: it fits one A4 or
  Letter page).

From a shell: python -m bpttlab.cheatsheet --html cheatsheet.html [--pdf cheatsheet.pdf]
"""
import argparse
import html
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

SOURCE = Path(__file__).parent / "data" / "cheatsheet.md"
MATH = re.compile(r"\$(?P<tex>[^$]+)\$")
CODE = re.compile(r"`(?P<code>[^`]+)`")
BOLD = re.compile(r"\*\*(?P<text>.+?)\*\*")


def text():
    """The cheat sheet's markdown (LaTeX between $ signs)."""
    return SOURCE.read_text()


def show():
    """Display the cheat sheet in the notebook."""
    from IPython.display import Markdown, display
    display(Markdown(text()))


def formulas(markdown=None):
    """Every $...$ formula of the cheat sheet, in order."""
    return [m.group("tex") for m in MATH.finditer(text() if markdown is None else markdown)]


@lru_cache(maxsize=None)
def formula_svg(tex, size=9.0):
    """One formula as an inline SVG string (matplotlib mathtext), aligned on the text's baseline.

    Raises ValueError when mathtext cannot parse it.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser, math_to_image
    prop = FontProperties(size=size)
    depth = MathTextParser("path").parse(f"${tex}$", dpi=72, prop=prop).depth
    buf = io.BytesIO()
    math_to_image(f"${tex}$", buf, prop=prop, dpi=72, format="svg")
    svg = buf.getvalue().decode()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>|<!--.*?-->", "", svg, flags=re.S)
    label = html.escape(tex, quote=True)
    return (f'<span class="m" role="img" aria-label="{label}" style="vertical-align:-{depth:.2f}pt">'
            f"{svg}</span>")


def _inline(line):
    """One line of markdown (no block structure) as HTML: code, formulas, bold."""
    pieces = []

    def keep(html_text):
        pieces.append(html_text)
        return f"\x00{len(pieces) - 1}\x00"
    line = CODE.sub(lambda m: keep(f"<code>{html.escape(m.group('code'))}</code>"), line)
    line = MATH.sub(lambda m: keep(formula_svg(m.group("tex"))), line)
    line = html.escape(line, quote=False)
    line = BOLD.sub(lambda m: f"<b>{m.group('text')}</b>", line)
    return re.sub("\x00(\\d+)\x00", lambda m: pieces[int(m.group(1))], line)


def markdown_to_html(markdown):
    """The cheat sheet's markdown subset as HTML: headings (#, ##), paragraphs, tables, inline code,
    **bold** and $formulas$."""
    out, paragraph, table = [], [], []

    def flush():
        if paragraph:
            out.append("<p>" + " ".join(_inline(l) for l in paragraph) + "</p>")
            paragraph.clear()
        if table:
            rows = [[c.strip() for c in row.strip().strip("|").split("|")] for row in table
                    if not re.fullmatch(r"\|?[\s:|-]+\|?", row.strip())]
            head, body = rows[0], rows[1:]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body)
                       + "</table>")
            table.clear()
    for line in markdown.split("\n"):
        if not line.strip():
            flush()
        elif line.startswith("#"):
            flush()
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.lstrip().startswith("|"):
            if paragraph:
                flush()
            table.append(line)
        else:
            if table:
                flush()
            paragraph.append(line.strip())
    flush()
    return "\n".join(out)


STYLE = """
@page { size: A4; margin: 7mm; }
html { font-family: "DejaVu Sans", "Helvetica", "Arial", sans-serif; font-size: 8.1pt; line-height: 1.22; }
body { margin: 0 auto; max-width: 196mm; color: #111; }
h1 { font-size: 11pt; margin: 0 0 2pt 0; column-span: all; }
main { column-count: 2; column-gap: 5mm; }
h2 { font-size: 9pt; margin: 4pt 0 1pt 0; color: #1f4e79; break-after: avoid; }
p { margin: 0 0 2.5pt 0; }
table { border-collapse: collapse; margin: 1pt 0 3pt 0; font-size: 7.5pt; break-inside: avoid; }
th, td { border: 0.5pt solid #999; padding: 0.8pt 2pt; text-align: left; vertical-align: top; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 7.3pt; background: #f2f2f2; }
.m svg { display: inline; }
.m { margin-right: -1pt; }
footer { column-span: all; font-size: 6.5pt; color: #666; margin-top: 3pt; }
"""


def to_html(path=None):
    """The cheat sheet as one standalone HTML page (string); written to `path` if given."""
    body = markdown_to_html(text())
    title, _, rest = body.partition("\n")
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>BPTT cheat sheet</title>"
            f"<style>{STYLE}</style></head><body>{title}<main>{rest}</main>"
            "<footer>Generated from bpttlab/data/cheatsheet.md, the same source notebook 07 shows.</footer>"
            "</body></html>\n")
    if path is not None:
        Path(path).write_text(page)
    return page


def chromium():
    """The path of a Chromium-like browser that can print headless, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def to_pdf(path, browser=None, timeout=120):
    """Print the cheat sheet to the PDF file `path` with a headless Chromium (RuntimeError if there is none)."""
    browser = browser or chromium()
    if browser is None:
        raise RuntimeError("no Chromium found to print the PDF: open the HTML from to_html() in a browser and "
                           "print it (it fits one page)")
    path = Path(path).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "cheatsheet.html"
        to_html(page)
        cmd = [browser, "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp}/profile",
               "--no-pdf-header-footer", "--print-to-pdf-no-header", f"--print-to-pdf={path}", page.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")                  # Chromium refuses to run as root with its sandbox
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not path.exists():
        raise RuntimeError(f"{browser} could not print the PDF (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return path


def pdf_page_count(path):
    """The number of pages of a PDF file (counted from its page objects)."""
    data = Path(path).read_bytes()
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def save_button(filename="bptt_cheat_sheet.html"):
    """A button that writes the printable HTML next to the notebook and links to it (nothing is written
    until it is clicked)."""
    import ipywidgets as widgets
    button = widgets.Button(description="Save a printable copy (HTML)", layout=widgets.Layout(width="auto"))
    note = widgets.HTML()

    def save(_):
        to_html(filename)
        note.value = (f'Saved <a href="{html.escape(filename)}" target="_blank">{html.escape(filename)}</a>: '
                      "open it and print (one page).")
    button.on_click(save)
    return widgets.HBox([button, note])


def main(argv=None):
    parser = argparse.ArgumentParser(description="Export the BPTT cheat sheet for printing.")
    parser.add_argument("--html", help="write the one-page HTML here")
    parser.add_argument("--pdf", help="print it to this PDF file (needs Chromium)")
    args = parser.parse_args(argv)
    if not args.html and not args.pdf:
        parser.error("give --html and/or --pdf")
    if args.html:
        to_html(args.html)
        print(f"wrote {args.html}")
    if args.pdf:
        to_pdf(args.pdf)
        print(f"wrote {args.pdf} ({pdf_page_count(args.pdf)} page(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
