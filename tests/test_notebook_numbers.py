"""Every number a notebook's text quotes is printed by one of its cells (tools/check_notebook_numbers.py).

The rule (what counts as a quote, what is exempt, how digits must match) is
written once, in the checker's docstring. The first tests pin that rule on
tiny notebooks made here; the last ones run it on every notebook of
course/source (new ones included), on the same headless run that
test_course_notebooks.py makes (course_tools.executed_notebook).
"""
import sys

import nbformat
import pytest

from course_tools import ROOT, assignments, executed_notebook, source_notebooks

sys.path.insert(0, str(ROOT / "tools"))
import check_notebook_numbers as numbers  # noqa: E402

ALLOWED = numbers.load_allowlist()


def _notebook(markdown, printed=(), code=""):
    """A notebook as if executed: one markdown cell, then a code cell (source `code`) that printed `printed`."""
    cell = nbformat.v4.new_code_cell(code)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text) for text in printed]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown), cell])


def _problems(markdown, printed=(), code="", allowed=()):
    return numbers.check_notebook(_notebook(markdown, printed, code), allowed)


# ---------------------------------------------------------------- the checker can fail

def test_a_result_that_no_cell_prints_fails_and_says_which():
    problems = _problems("After training, the model reaches accuracy 0.93 on fresh data.", ["accuracy 0.91\n"])
    assert len(problems) == 1
    assert "'0.93'" in problems[0].message and "0.91" in problems[0].message and problems[0].cell == 0


def test_a_result_that_a_cell_prints_passes():
    assert _problems("After training, the model reaches accuracy 0.91 on fresh data.", ["accuracy 0.912\n"]) == []


@pytest.mark.parametrize("markdown, printed, ok", [
    ("accuracy 0.65", "0.6523", True),                 # the quote rounds the print
    ("accuracy 0.65", "0.650", True),
    ("accuracy 0.65", "0.66", False),
    ("accuracy 0.65", "0.6551", False),                # rounds to 0.66
    ("accuracy 1.00", "1.0", False),                   # more digits than any cell printed
    ("accuracy 0.5", "0.50", True),
    ("$E = 0.09$", "E = 0.0900", True),                # decimals in math are results too
    ("$E = 0.09$", "E = 0.1", False),
    ("43 % of the strings", "share 0.43", True),       # a percentage and a printed fraction
    ("43 % of the strings", "43.2 %", True),
    ("43 % of the strings", "0.45", False),
    ("a share of 0.43", "43 %", True),
    ("about $7.7 \\cdot 10^{-4}$", "7.7e-04", True),
    ("about $7.7 \\cdot 10^{-4}$", "7.8e-04", False),
    ("about $9 \\cdot 10^4$", "89775.7", True),
    ("a step of 3e-3", "lr 0.003", True),
    ("the norm is $10^{-8.5}$ of", "log10: -8.5", True),  # a decimal exponent quotes the printed log10
    ("the norm is $10^{-8.5}$ of", "log10: -8.4", False),
    ("it is 3.5x faster", "ratio 3.52", True),
    ("it is 3.5x faster", "ratio 3.6", False),
    ("below 1e-4 after 21 steps", "21", True),         # 1e-4, a power of ten, is a threshold
    ("below 1e-4 after 21 steps", "22", False),
    ("lands at $(4.33, -2.16)$", "(4.33, -2.16)", True),
])
def test_digits_must_match_as_printed(markdown, printed, ok):
    problems = _problems(markdown, [printed + "\n"])
    assert (problems == []) is ok, problems


@pytest.mark.parametrize("markdown", [
    "Kingma & Ba 2015; (Rumelhart, Hinton & Williams, 1986; Werbos, 1990); Hochreiter (1991); Mikolov et al. 2010",
    "Sutskever 2013, §2.8.6, section 5.1, chapter 10, notebook 04, notebooks 01-04, question 2 (4 points)",
    "## 4. Experiment (b)\n\n1. implement it\n2. measure it",
    "Traps: `np.exp(1000.0)` overflows.\n```\nprint(0.123)\n```",
    "$h_{t-1}$, $T(T+1)/2$, $\\lVert J \\rVert < 10^{-4}$, $H = 32$, $k = 16$",
    "each arrow is taken with probability 1/2; step 0, norm 1, a 3-step RNN",
    "text\n\n**References.** Bengio et al. (1994), IEEE Trans. Neural Networks 5(2), 157-166, 0.25.",
    "## References\n- Nocedal & Wright (2006), 2nd ed., §8.1, p. 195.",
])
def test_exempt_text_quotes_nothing(markdown):
    assert numbers.notebook_quotes(_notebook(markdown)) == []


def test_a_parameter_may_be_shown_by_the_code_that_sets_it():
    assert _problems("With $\\rho = 0.9$ the terms fade.", code="show(rho=0.9)") == []
    assert len(_problems("With $\\rho = 0.9$ the terms fade.", code="show(rho=0.95)")) == 1


def test_the_repr_of_a_figure_or_widget_is_not_a_printed_number():
    nb = _notebook("The plot is 640 pixels wide.")
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={
        "image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"})]
    assert len(numbers.check_notebook(nb)) == 1


def test_allow_list_entries_are_checked_and_must_be_used():
    text = "A linear RNN keeps $0.9^{10} \\approx 0.35$; Hochreiter & Schmidhuber (1997) report 0.1767."
    computed = numbers.Computed("0.35", "0.9 ** 10", "rho^d")
    cited = numbers.Cited("0.1767", "Hochreiter & Schmidhuber 1997", "their adding-problem figure")
    code = "rho = 0.9"
    assert _problems(text, code=code, allowed=[computed, cited]) == []
    assert len(_problems(text, code=code, allowed=[computed])) == 1
    wrong = numbers.Computed("0.35", "0.8 ** 10", "rho^d")
    assert "0.8 ** 10" in _problems(text, code=code, allowed=[wrong, cited])[0].message
    not_cited = numbers.Cited("0.1767", "Gers & Schmidhuber 2000", "not in this notebook")
    assert "does not cite" in _problems(text, code=code, allowed=[computed, not_cited])[0].message
    unused = numbers.Computed("0.12", "0.12", "nothing quotes it")
    assert "no longer quotes it" in _problems(text, code=code, allowed=[computed, cited, unused])[0].message


def test_a_real_run_is_checked_end_to_end(tmp_path):
    """The checker on a notebook executed by a kernel, as the course notebooks are."""
    def write(markdown):
        nb = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell("import numpy as np\nprint(f'mean {np.mean([0.9, 0.932]):.3f}')"),
            nbformat.v4.new_markdown_cell(markdown)],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        path = tmp_path / f"n{len(list(tmp_path.iterdir()))}.ipynb"
        nbformat.write(nb, path)
        run = executed_notebook(path)
        assert run.error is None, run.error
        return numbers.check_notebook(run.nb)
    assert write("The mean is 0.916.") == []
    assert write("The mean is 0.92, as the cell shows.") == []               # 0.916 rounded
    assert len(write("The mean is 0.93, as the cell shows.")) == 1


def test_a_cell_that_runs_out_of_time_is_a_skip_only_on_a_loaded_machine(tmp_path, monkeypatch):
    """The shared run's timeout guards against a cell that never ends; on a machine loaded by other work
    running out of time says nothing about the notebook, and the tests say so instead of failing."""
    import course_tools
    from nbclient.exceptions import CellTimeoutError
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(60)")],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    run = executed_notebook(path, timeout=1)
    assert isinstance(run.error, CellTimeoutError) and "load average" in run.timed_out_at_load
    monkeypatch.setattr(course_tools, "machine_load", lambda: (9.0, 2, True))
    with pytest.raises(pytest.skip.Exception, match="loaded by other work.*cannot be judged here"):
        run.raise_error()
    monkeypatch.setattr(course_tools, "machine_load", lambda: (0.5, 2, False))
    with pytest.raises(CellTimeoutError):
        run.raise_error()


# ---------------------------------------------------------------- the course

def test_the_allow_list_names_course_notebooks_only():
    assert set(ALLOWED) <= set(assignments()), set(ALLOWED) - set(assignments())


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.parent.name)
def test_every_number_the_text_quotes_is_printed(path):
    run = executed_notebook(path)
    if run.error is not None:
        run.skip_if_timed_out_under_load()
        pytest.fail(f"{path.parent.name} did not run to the end (see test_source_notebook_executes_without_errors),"
                    f" so the numbers its text quotes cannot be checked: {run.error}")
    problems = numbers.check_notebook(run.nb, ALLOWED.get(path.parent.name, ()))
    assert not problems, (f"{path.parent.name}: {len(problems)} number(s) in the text that no cell prints "
                          "(rule: tools/check_notebook_numbers.py):\n" + "\n".join(f"  {p}" for p in problems))
