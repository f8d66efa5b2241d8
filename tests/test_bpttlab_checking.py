"""The self-checks of every notebook, run before the student has written anything.

A released notebook hands out stubs that raise NotImplementedError. A self-check
run on such a stub (or on a function that calls one) must say, in one line,
which function is not implemented yet, and not end in a traceback; every other
error must still reach the student.
"""
import importlib
import inspect
import pkgutil

import pytest

import bpttlab
import solutions as S
from bpttlab import checking, selfchecks_rnn

SELFCHECK_MODULES = sorted(m.name for m in pkgutil.iter_modules(bpttlab.__path__) if m.name.startswith("selfchecks"))


def _checks():
    """(module name, check name, function) of every public check_* in the bpttlab.selfchecks_* modules."""
    out = []
    for name in SELFCHECK_MODULES:
        module = importlib.import_module(f"bpttlab.{name}")
        out += [(name, attr, fn) for attr, fn in vars(module).items()
                if attr.startswith("check_") and inspect.isfunction(fn) and fn.__module__ == module.__name__]
    return out


CHECKS = _checks()


def stub(name):
    """A function called `name` whose body is what nbgrader hands out: raise NotImplementedError()."""
    namespace = {}
    exec(f"def {name}(*args, **kwargs):\n    raise NotImplementedError()\n", namespace)
    return namespace[name]


def test_every_notebook_self_check_module_is_found():
    assert {"selfchecks_rnn", "selfchecks_truncation", "selfchecks_vanishing", "selfchecks_lm"} <= set(SELFCHECK_MODULES)
    assert len(CHECKS) >= 13


@pytest.mark.parametrize("module, name, check", CHECKS, ids=[f"{m}.{n}" for m, n, _ in CHECKS])
def test_every_self_check_is_decorated(module, name, check):
    assert getattr(check, "is_self_check", False), \
        f"bpttlab.{module}.{name}: decorate it with @checking.self_check (course/AUTHORING.md)"


@pytest.mark.parametrize("module, name, check", CHECKS, ids=[f"{m}.{n}" for m, n, _ in CHECKS])
def test_a_self_check_on_stubs_says_not_implemented_yet(module, name, check, capsys):
    """Every function argument a stub, as in a released notebook run top to bottom."""
    params = [p for p in inspect.signature(check).parameters.values() if p.default is inspect.Parameter.empty]
    stubs = {p.name: stub(p.name) for p in params}
    assert check(**stubs) is None
    out = capsys.readouterr().out
    assert "is not implemented yet" in out, out
    first_line = next(l for l in out.splitlines() if "is not implemented yet" in l)
    assert first_line.split()[0] in stubs, f"the message should name the stub that raised: {first_line}"


def test_the_message_names_the_missing_helper_not_the_checked_function(capsys):
    """rnn_backward works, but the student's numerical_gradient (which checks it) is still a stub."""
    selfchecks_rnn.check_rnn_backward(S.rnn_backward, S.rnn_forward, stub("numerical_gradient"))
    out = capsys.readouterr().out
    assert out.startswith("numerical_gradient is not implemented yet"), out


def test_a_stub_called_from_the_students_own_function_is_named(capsys):
    """rnn_forward written, calling a rnn_step_forward that is still a stub."""
    step = stub("rnn_step_forward")

    def rnn_forward(x, h0, Wx, Wh, b):
        return step(x[:, 0], h0, Wx, Wh, b)

    selfchecks_rnn.check_rnn_forward(rnn_forward, step)
    assert "rnn_step_forward is not implemented yet" in capsys.readouterr().out


def test_other_errors_still_reach_the_student():
    def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
        raise ValueError("a bug of the student's")

    with pytest.raises(ValueError, match="a bug of the student's"):
        selfchecks_rnn.check_rnn_step_forward(rnn_step_forward)

    def wrong(x_t, h_prev, Wx, Wh, b):
        h_next, cache = S.rnn_step_forward(x_t, h_prev, Wx, Wh, b)
        return h_next + 1.0, cache

    with pytest.raises(AssertionError):
        selfchecks_rnn.check_rnn_step_forward(wrong)


def test_a_not_implemented_error_of_the_toolbox_itself_is_not_blamed_on_the_student(capsys):
    @checking.self_check
    def check_something(fn):
        raise NotImplementedError()

    check_something(stub("rnn_forward"))
    assert capsys.readouterr().out.startswith("a function this check calls is not implemented yet")


def test_a_passing_self_check_is_unchanged(capsys):
    selfchecks_rnn.check_rnn_step_forward(S.rnn_step_forward)
    out = capsys.readouterr().out
    assert "not implemented" not in out and "\N{CHECK MARK}" in out
