"""Numbers a notebook's text may quote without a cell printing them (tools/check_notebook_numbers.py).

Only two kinds, per notebook (the assignment's folder name), each with its reason:
- Computed(quote, expression, why): arithmetic on the course's definitions; the
  checker evaluates the expression (Python, `math` available) and fails when it
  does not round to the quote;
- Cited(quote, citation, why): a constant from a paper the notebook cites (the
  first author and the year must appear in the notebook's text).
A measured result never belongs here: print it from a cell. The checker also
fails on an entry its notebook no longer quotes. Keep one block per notebook.
"""
from check_notebook_numbers import Cited, Computed  # noqa: F401

ALLOWED = {
}
