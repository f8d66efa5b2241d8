"""Student outputs rendered inert: whoever opens an autograded notebook or a feedback page runs nothing.

A submission's outputs and markdown are HTML the student wrote. Rendered as
they are, a `<script>`, an `onerror=` attribute, an SVG with a script or a
JavaScript output runs in the browser of whoever opens the page: the student
receiving feedback, the instructor in formgrader (with the rights of their
Jupyter server). So, in every autograded notebook (the autograde pipeline) and
again in every feedback page (the feedback pipeline):

- HTML and Markdown outputs, student markdown cells and raw cells are cleaned
  with nh3 (the maintained Rust sanitizer; Python bindings of ammonia): only
  formatting tags and attributes remain, no scripts, event handlers, styles,
  iframes or javascript: links;
- outputs that are code by nature (JavaScript, SVG, widget views, any other
  application/* type) are replaced by a line saying what was removed; PNG,
  JPEG and GIF images stay (they are shown as <img src="data:...">: inert);
- widget state is dropped from the notebook metadata (the page would embed it
  for a widget manager script).

Feedback pages also carry a Content-Security-Policy that forbids every script
(FEEDBACK_CSP, in the template templates/bptt_feedback/bptt_feedback.html.j2), so
even HTML that slipped through could not run anything.
"""
import re

import nh3
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

# What a feedback page may load: its own inline styles, inline images, nothing else (no scripts at all).
FEEDBACK_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
                "base-uri 'none'; form-action 'none'")
KEPT_TYPES = ("text/plain", "image/png", "image/jpeg", "image/gif")
CLEANED_TYPES = ("text/html", "text/markdown")
TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
        "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
        "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
              "td": {"colspan", "rowspan", "align"}, "th": {"colspan", "rowspan", "align", "scope"},
              "*": {"class"}}
_TAG = re.compile(r"<\s*[A-Za-z!/?]")


def clean_html(text):
    """`text` with only formatting HTML left (nh3); script and style elements are dropped with their content."""
    return nh3.clean(text, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto", "data"},
                     clean_content_tags={"script", "style"}, link_rel="noopener noreferrer nofollow")


def clean_markdown(text):
    """Markdown with raw HTML cleaned; text without any tag is left exactly as written."""
    return clean_html(text) if _TAG.search(text) else text


def csp_of(page):
    """The Content-Security-Policy a page's <meta http-equiv> tags set, in order (whatever their attribute order)."""
    from html.parser import HTMLParser
    found = []

    class Metas(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "content-security-policy":
                found.append(attrs.get("content") or "")
    Metas().feed(page)
    return found


def _as_text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def inert_output(output):
    """The output with only inert content left (changed in place); returns what was removed (mime types)."""
    data = output.get("data")
    if output.get("output_type") not in ("display_data", "execute_result") or not isinstance(data, dict):
        return []
    removed = []
    for mime in list(data):
        if mime in KEPT_TYPES:
            continue
        if mime == "text/html":
            data[mime] = clean_html(_as_text(data[mime]))
        elif mime == "text/markdown":
            data[mime] = clean_markdown(_as_text(data[mime]))
        else:
            removed.append(mime)
            del data[mime]
    if removed and not data:
        data["text/plain"] = (f"[removed: a {', '.join(removed)} output; it could run code in the browser of "
                              "whoever opens this notebook]")
    output.get("metadata", {}).pop("isolated", None)
    return removed


class SanitizeOutputs(Preprocessor):
    """nbconvert/nbgrader preprocessor: every output, markdown and raw cell made inert (see module doc).

    Markdown and raw cells are cleaned where students can write them: every one that nbgrader does not
    lock (locked cells are the instructor's, restored from the source notebook when autograding).
    Also puts FEEDBACK_CSP in resources["bptt_csp"] for the feedback template."""

    enabled = Bool(True, help="nbconvert runs a preprocessor only when enabled").tag(config=True)

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        resources["bptt_csp"] = FEEDBACK_CSP
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        from nbgrader.utils import is_locked
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                inert_output(output)
        elif cell.cell_type == "markdown" and not is_locked(cell):
            cell.source = clean_markdown(_as_text(cell.source))
        elif cell.cell_type == "raw" and not is_locked(cell):
            cell.source = clean_html(_as_text(cell.source))
            cell.metadata.pop("format", None)
            cell.metadata.pop("raw_mimetype", None)
        return cell, resources
