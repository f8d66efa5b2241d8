"""The library of known mistakes: complete wrong implementations, one per classic bug.

Each `Mistake` holds the source text of a full `def F(...)` that makes one
classic error, an id "F/short-name", a title and a hint in plain words that
points at the term to fix without giving the reference code. The same text
is dropped into a student notebook by the tests and the demo, and is exec'd
in the grader's process to compute what that mistake returns on the inputs a
student was graded on: a student whose outputs agree with it is told its hint.

Modules, one per notebook topic: rnn.py (forward and backward passes),
gradcheck.py, contributions.py, truncation.py, truncation_complete.py (weighted
links, checkpointing), vanishing.py, clipping.py, lstm.py (gated cells), losses.py,
language_model.py (the output layer and the assembled language model).
The sources use `np` and may call the other graded functions by name (which
are the reference's while the grader runs them).
"""
import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mistake:
    """id: "F/short-name"; title: what is wrong; hint: where to look (no code); source: `def F(...)` text."""
    id: str
    title: str
    hint: str
    source: str

    @property
    def function(self):
        return self.id.split("/", 1)[0]


def variant(template, old, new, count=1):
    """The template's source with `old` replaced by `new`; `old` must occur exactly `count` times.

    Mistakes are written as one correct template per function plus the lines
    that go wrong, so the library cannot drift from a working baseline.
    """
    found = template.count(old)
    if found != count:
        raise ValueError(f"expected {count} occurrence(s) of {old!r} in the template; found {found}")
    return template.replace(old, new)


def _collect():
    from . import clipping, contributions, gradcheck, losses, lstm, rnn, truncation, vanishing
    found = {}
    modules = [rnn, gradcheck, contributions, truncation, vanishing, clipping, lstm, losses]
    # truncation, completed (notebook 03)
    from . import truncation_complete
    modules.append(truncation_complete)
    # end of truncation, completed
    # language model, assembled (notebook 06)
    from . import language_model
    modules.append(language_model)
    # end of language model, assembled
    for module in modules:
        for m in module.MISTAKES:
            found.setdefault(m.function, []).append(m)
    return {name: tuple(ms) for name, ms in found.items()}


@functools.lru_cache(maxsize=None)
def library():
    """{function name: tuple of its Mistakes}, in the order they are written."""
    return _collect()


def mistakes_for(name):
    """The Mistakes of graded function `name` (an empty tuple if none are known)."""
    return library().get(name, ())


def all_mistakes():
    return tuple(m for ms in library().values() for m in ms)


def by_id(mistake_id):
    for m in all_mistakes():
        if m.id == mistake_id:
            return m
    raise KeyError(f"no mistake with id {mistake_id!r}")


def namespace_with(mistake):
    """A fresh namespace {'np': numpy, F: the mistake's function}, as a notebook would hold it."""
    ns = {"np": np, "__name__": f"mistake:{mistake.id}"}
    exec(compile(mistake.source, f"<mistake {mistake.id}>", "exec"), ns)
    if mistake.function not in ns:
        raise ValueError(f"the source of {mistake.id} does not define {mistake.function}")
    return ns
