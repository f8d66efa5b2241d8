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
    # ---- 04_vanishing_exploding
    "04_vanishing_exploding": [
        Computed("9.4e-5", "0.9 ** 88", "the linear RNN's rho^t at the first t below 1e-4, rho = 0.9"),
        Cited("0.5", "Pascanu, Mikolov & Bengio 2013", "x_0 of their one-unit cliff model"),
        Cited("50", "Pascanu, Mikolov & Bengio 2013", "the number of steps of their cliff model"),
        Cited("0.7", "Pascanu, Mikolov & Bengio 2013", "the target of their cliff model's loss"),
    ],
}
