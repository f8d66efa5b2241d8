"""The autograder's checks: fair to correct work in any style, hard on wrong work, never crashed.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary, k truncation length.
Every test grades with the in-process evaluator on fixed run seeds; what a
"correct" answer is comes from the contract (CONTRACT.md §2), written here
in styles other than the reference's.
"""
import pickle
import warnings

import numpy as np
import pytest

import solutions
from autograder import compare
from autograder.cases import GRADED, cases_for
from autograder.evaluate import Opaque, in_process, to_plain
from autograder.grading import ARGS, PARTS, grade_function
from autograder.hidden import run_hidden_tests, run_seed
from autograder.specs import FunctionSpec, build_function, random_spec

SEEDS = (3, 20240611)


def reference_namespace():
    return {name: getattr(solutions, name) for name in solutions.GRADED_FUNCTIONS}


def namespace_from(source):
    ns = {"np": np, "warnings": warnings}
    exec(source, ns)
    return ns


def grade(source_or_ns, name, seed=SEEDS[0]):
    ns = namespace_from(source_or_ns) if isinstance(source_or_ns, str) else source_or_ns
    return grade_function(name, in_process(ns), seed)


# --- the reference and the bookkeeping ---------------------------------------------

def test_graded_functions_match_the_contract_module():
    assert tuple(GRADED) == tuple(solutions.GRADED_FUNCTIONS) == tuple(PARTS)


@pytest.mark.parametrize("name", solutions.GRADED_FUNCTIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_reference_scores_full_marks(name, seed):
    report = grade(reference_namespace(), name, seed)
    assert report.fraction == 1.0, report.feedback
    assert report.passed and report.error is None and report.mistakes == []


@pytest.mark.parametrize("name", solutions.GRADED_FUNCTIONS)
def test_weights_sum_to_one_and_arguments_part_everywhere(name):
    parts = PARTS[name]
    assert abs(sum(p.weight for p in parts) - 1.0) < 1e-12
    assert [p.name for p in parts].count(ARGS) == 1
    assert len({p.name for p in parts}) == len(parts)


def test_cases_are_reproducible_from_the_seed_and_fresh_for_another():
    a, b, c = cases_for("rnn_backward", 5), cases_for("rnn_backward", 5), cases_for("rnn_backward", 6)
    for ca, cb, cc in zip(a, b, c):
        assert np.array_equal(ca.args[0], cb.args[0]) and all(
            np.array_equal(x, y) for x, y in zip(ca.args[1], cb.args[1]))
        assert not np.array_equal(ca.args[0], cc.args[0])


def _sizes(name):
    return [c.sizes for c in cases_for(name, 1)]


def test_cases_cover_the_regimes_where_bugs_hide():
    for name in ("rnn_forward", "rnn_backward", "gradient_contributions"):
        cases = cases_for(name, 1)
        sizes = [c.sizes for c in cases]
        assert any(s["D"] != s["H"] for s in sizes) and any(s["D"] == s["H"] for s in sizes)
        assert any(s["T"] == 1 for s in sizes) and any(s["T"] >= 5 for s in sizes)
        assert any(s["N"] == 1 for s in sizes)
        h0s = [c.args[1] if name == "rnn_forward" else c.args[1][1] for c in cases]
        assert any(np.all(h0 != 0) for h0 in h0s), "some case must have a non-zero h0"
    for name in ("rnn_backward_truncated", "rnn_backward_chunked"):
        sizes = _sizes(name)
        assert any(s["T"] % s["k"] != 0 and s["k"] < s["T"] for s in sizes)
        assert any(s["k"] == 1 for s in sizes)
        assert any(s["k"] == s["T"] for s in sizes) and any(s["k"] > s["T"] for s in sizes)
        assert any(s["D"] != s["H"] for s in sizes)
    # truncation, completed: link weights of every kind; checkpoint spacings that divide T or not
    xis = [c.args[2] for c in cases_for("rnn_backward_weighted", 1)]
    assert any(np.all(xi == 1) for xi in xis) and any(np.any(xi < 0) for xi in xis)
    assert any(xi[0] not in (0.0, 1.0) for xi in xis)
    assert any(set(np.unique(xi)) == {0.0, 1 / 0.6} for xi in xis)          # Bernoulli(p)/p, both values
    spacing = [(c.args[1].shape[1], c.args[-1]) for c in cases_for("rnn_backward_checkpointed", 1)]
    assert any(T % every and every < T for T, every in spacing) and any(every == 1 for _, every in spacing)
    assert any(every == T for T, every in spacing) and any(every > T for T, every in spacing)
    # step functions: D != H and D == H
    for name in ("rnn_step_forward", "rnn_step_backward"):
        sizes = _sizes(name)
        assert any(s["D"] != s["H"] for s in sizes) and any(s["D"] == s["H"] for s in sizes)


def test_lstm_cases_cover_the_regimes_where_lstm_bugs_hide():
    """Gate order (every block of the pre-activation differs), c0 != 0, dc_next != 0 and = 0, D vs H, T = 1."""
    for name in ("lstm_step_forward", "lstm_forward", "lstm_step_backward", "lstm_backward"):
        sizes = _sizes(name)
        assert any(s["D"] != s["H"] for s in sizes) and any(s["D"] == s["H"] for s in sizes), name
    for name in ("lstm_forward", "lstm_backward"):
        sizes = _sizes(name)
        assert any(s["T"] == 1 for s in sizes) and any(s["T"] >= 5 for s in sizes), name
    c0s = [c.args[2] for c in cases_for("lstm_forward", 1)] + [c.args[1][2] for c in cases_for("lstm_backward", 1)]
    assert any(np.all(c0 != 0) for c0 in c0s) and any(np.all(c0 == 0) for c0 in c0s)
    assert any(np.all(c.args[2] != 0) for c in cases_for("lstm_step_forward", 1))          # c_prev
    dc_nexts = [c.args[1] for c in cases_for("lstm_step_backward", 1)]
    assert any(np.all(d != 0) for d in dc_nexts) and any(np.all(d == 0) for d in dc_nexts)
    for case in cases_for("lstm_step_forward", 1):                # the four gate blocks are not alike
        x_t, h_prev, c_prev, Wx, Wh, b = case.args
        H = h_prev.shape[1]
        a = x_t @ Wx + h_prev @ Wh + b
        blocks = [a[:, j * H:(j + 1) * H] for j in range(4)]
        assert all(not np.allclose(blocks[j], blocks[k]) for j in range(4) for k in range(j))
        assert 0.2 < np.std(a) < 3                                # neither saturated nor linear


def test_clipping_cases_lie_below_above_and_at_zero():
    totals = []
    for case in cases_for("clip_grad_norm", 1):
        grads, max_norm = case.args
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))     # the global norm, by definition
        totals.append((total, max_norm))
    assert any(t > 1.5 * m for t, m in totals)
    assert any(0 < t < m / 1.5 for t, m in totals)
    assert any(t == 0 for t, _ in totals)


def test_softmax_and_gradient_checker_cases():
    scores = [c.args[0] for c in cases_for("temporal_softmax_loss", 1)]
    assert max(np.abs(s).max() for s in scores) >= 1e3     # exp overflows without the max-subtraction
    xs = [c.args[1] for c in cases_for("numerical_gradient", 1)]
    assert {x.ndim for x in xs} >= {1, 2, 3}
    assert all(isinstance(c.args[0], FunctionSpec) for c in cases_for("numerical_gradient", 1))


def test_function_specs_survive_pickling_and_are_not_quadratic():
    rng = np.random.default_rng(0)
    for kind, shape in (("tanh_quartic", (3, 2)), ("log_sum_exp", (2, 2, 2))):
        spec = random_spec(kind, shape, rng)
        f, g = build_function(spec), build_function(pickle.loads(pickle.dumps(spec)))
        x = rng.normal(size=shape)
        assert f(x) == g(x)
        # a third finite difference vanishes for every quadratic; not here
        e = np.zeros(shape)
        e.flat[0] = 0.1
        third = f(x + 2 * e) - 3 * f(x + e) + 3 * f(x) - f(x - e)
        assert abs(third) > 1e-6
    with pytest.raises(ValueError, match="shape"):
        f(np.zeros((5,)))
    with pytest.raises(TypeError, match="FunctionSpec"):
        build_function({"kind": "tanh_quartic"})
    with pytest.raises(ValueError, match="unknown FunctionSpec kind"):
        random_spec("cubic", (2,), rng)


def test_bad_requests_get_clear_errors():
    with pytest.raises(KeyError, match="not a graded function"):
        grade_function("rnn_sideways", in_process({}), 1)
    with pytest.raises(ValueError, match="seed"):
        cases_for("rnn_backward", -1)
    with pytest.raises(KeyError, match="no cases"):
        cases_for("rnn_sideways", 1)
    with pytest.raises(TypeError, match="globals"):
        run_hidden_tests("rnn_backward", [1, 2])


# --- tolerances ---------------------------------------------------------------------

@pytest.mark.parametrize("name", solutions.GRADED_FUNCTIONS)
def test_tolerances_accept_rounding_and_reject_real_errors(name):
    """Relative noise of 1e-14 (a different summation order) passes; 1e-6 (the smallest mistake) fails."""
    from autograder.grading import _reference_run
    rng = np.random.default_rng(0)
    for case in cases_for(name, 2):
        expected, tols = _reference_run(name, case)
        if expected is None:
            continue
        for path, leaf in compare.leaves(expected):
            ref = np.asarray(leaf, dtype=np.float64)
            scale = float(np.abs(ref).max(initial=0.0))
            if scale == 0:
                continue
            tol = tols[path]
            assert 0 < tol <= 1e-7 * scale, (path, tol, scale)
            small = ref + 1e-14 * scale * rng.uniform(-1, 1, size=ref.shape)
            big = ref.copy()
            big.flat[int(np.abs(ref).argmax())] += 1e-6 * scale
            as_got = (lambda a: float(a)) if isinstance(leaf, float) else (lambda a: a)
            assert compare.compare_leaf("x", as_got(small), leaf, tol) is None
            assert compare.compare_leaf("x", as_got(big), leaf, tol) is not None


# --- correct work in other styles gets full marks ---------------------------------

OTHER_STYLES = {
    "rnn_step_forward": '''
def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
    N, H = h_prev.shape
    h_next = np.empty((N, H))
    for n in range(N):                                   # one sample at a time
        h_next[n] = np.tanh(np.einsum("d,dh->h", x_t[n], Wx) + h_prev[n] @ Wh + b)
    return h_next, (x_t, h_prev, Wx, Wh, h_next)
''',
    "rnn_forward": '''
def rnn_forward(x, h0, Wx, Wh, b):
    states = []
    h_t = h0
    for t in range(x.shape[1]):
        h_t, _ = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)     # reuses the step
        states.append(h_t)
    h = np.stack(states, axis=1)
    return h, (x, h0, Wx, Wh, h)
''',
    "rnn_step_backward": '''
def rnn_step_backward(dh_next, cache):
    x_t, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1.0 - np.square(h_next))
    return (np.einsum("nh,dh->nd", da, Wx), np.einsum("nh,gh->ng", da, Wh),
            np.einsum("nd,nh->dh", x_t, da), np.einsum("ng,nh->gh", h_prev, da), np.einsum("nh->h", da))
''',
    "rnn_backward": '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        h_prev = h[:, t - 1] if t > 0 else h0
        step = (x[:, t], h_prev, Wx, Wh, h[:, t])
        dx[:, t], carry, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + carry, step)
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, carry, dWx, dWh, db
''',
    "rnn_backward_chunked": '''
def rnn_backward_chunked(dh, cache, k):
    x, h0, Wx, Wh, h = cache
    T = h.shape[1]
    pieces = []
    for start in range(0, T, k):
        stop = min(start + k, T)
        h_in = h0 if start == 0 else h[:, start - 1]
        pieces.append(rnn_backward(dh[:, start:stop], (x[:, start:stop], h_in, Wx, Wh, h[:, start:stop])))
    dx = np.concatenate([p[0] for p in pieces], axis=1)
    return (dx, pieces[0][1], sum(p[2] for p in pieces), sum(p[3] for p in pieces), sum(p[4] for p in pieces))
''',
    "temporal_softmax_loss": '''
def temporal_softmax_loss(scores, y):
    N, T, V = scores.shape
    flat, targets = scores.reshape(N * T, V), y.reshape(N * T)
    z = flat - flat.max(axis=1, keepdims=True)
    logsum = np.log(np.exp(z).sum(axis=1))
    loss = np.sum(logsum - z[np.arange(N * T), targets]) / N
    d = np.exp(z - logsum[:, None])
    d[np.arange(N * T), targets] -= 1
    return loss, (d / N).reshape(N, T, V)
''',
    "clip_grad_norm": '''
def clip_grad_norm(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    factor = 1.0 if total <= max_norm else max_norm / total
    return {key: factor * value for key, value in grads.items()}, total
''',
    "numerical_gradient": '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        e = np.zeros_like(x, dtype=float)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad
''',
    "scale_to_spectral_radius": '''
def scale_to_spectral_radius(W, rho):
    vals, _ = np.linalg.eig(W)                           # eigenvectors too: other rounding than eigvals
    r = max(abs(v) for v in vals)
    if r == 0:
        raise ValueError("radius 0")
    return rho * (W / r)
''',
    "gradient_contributions": '''
def gradient_contributions(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    hp = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    C = np.zeros((T, T))
    for t in range(T):
        g = dh[:, t].copy()
        for s in range(t, -1, -1):
            term = hp[:, s].T @ (g * (1 - h[:, s] ** 2))
            C[t, s] = np.sqrt(np.einsum("ij,ij->", term, term))
            g = np.einsum("nj,ij->ni", g * (1 - h[:, s] ** 2), Wh)
    return C
''',
    "step_jacobians": '''
def step_jacobians(cache):
    x, h0, Wx, Wh, h = cache
    return np.einsum("nti,ji->ntij", 1 - h ** 2, Wh)
''',
    "gradient_norms_through_time": '''
def gradient_norms_through_time(dh_last, cache):
    x, h0, Wx, Wh, h = cache
    out, g = [np.linalg.norm(dh_last)], dh_last
    for s in range(h.shape[1] - 1, 0, -1):
        g = np.einsum("ni,ji->nj", g * (1 - h[:, s] ** 2), Wh)
        out.append(np.linalg.norm(g))
    return np.array(out[::-1])
''',
    # --- LSTM (notebook 05)
    "lstm_step_forward": '''
def lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b):
    a = np.einsum("nd,dk->nk", x_t, Wx) + np.einsum("nh,hk->nk", h_prev, Wh) + b
    blocks = np.split(a, 4, axis=1)                              # i, f, g, o
    i, f, o = (0.5 * (1 + np.tanh(0.5 * blocks[j])) for j in (0, 1, 3))
    g = np.tanh(blocks[2])
    c_next = f * c_prev + i * g
    return o * np.tanh(c_next), c_next, (x_t, h_prev, c_prev, Wx, Wh, np.hstack([i, f, g, o]), c_next)
''',
    "lstm_forward": '''
def lstm_forward(x, h0, c0, Wx, Wh, b):
    hs, cs, gs = [], [], []
    h_t, c_t = h0, c0
    for t in range(x.shape[1]):
        h_t, c_t, step = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)     # reuses the step
        hs.append(h_t)
        cs.append(c_t)
        gs.append(step[5])
    h = np.stack(hs, axis=1)
    return h, (x, h0, c0, Wx, Wh, np.stack(gs, axis=1), np.stack(cs, axis=1), h)
''',
    "lstm_backward": '''
def lstm_backward(dh, cache):
    x, h0, c0, Wx, Wh, gates, c, h = cache
    N, T, H = h.shape
    i, f, g, o = np.split(gates, 4, axis=2)
    c_prev = np.concatenate([c0[:, None], c[:, :-1]], axis=1)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    da = np.zeros(gates.shape)
    dh_c, dc_c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dht = dh[:, t] + dh_c
        tc = np.tanh(c[:, t])
        dct = dc_c + dht * o[:, t] * (1 - tc * tc)
        da[:, t] = np.hstack([dct * g[:, t] * i[:, t] * (1 - i[:, t]), dct * c_prev[:, t] * f[:, t] * (1 - f[:, t]),
                              dct * i[:, t] * (1 - g[:, t] ** 2), dht * tc * o[:, t] * (1 - o[:, t])])
        dc_c = dct * f[:, t]
        dh_c = np.einsum("nk,hk->nh", da[:, t], Wh)
    return (np.einsum("ntk,dk->ntd", da, Wx), dh_c, dc_c, np.einsum("ntd,ntk->dk", x, da),
            np.einsum("nth,ntk->hk", h_prev, da), da.sum(axis=(0, 1)))
''',
}


@pytest.mark.parametrize("name", sorted(OTHER_STYLES))
def test_correct_answers_in_other_styles_get_full_marks(name):
    ns = namespace_from(OTHER_STYLES[name])
    # helpers a style calls are the student's too: a broken one must not matter
    for helper in ("rnn_step_forward", "rnn_step_backward", "rnn_backward", "lstm_step_forward", "lstm_step_backward"):
        if helper != name and helper in OTHER_STYLES[name]:
            ns[helper] = lambda *a: (_ for _ in ()).throw(RuntimeError("broken helper"))
    for seed in SEEDS:
        report = grade(ns, name, seed)
        assert report.fraction == 1.0, report.feedback


def test_mistake_templates_are_correct_loop_style_answers():
    from autograder.mistakes import (clipping, contributions, gradcheck, language_model, losses, lstm, rnn,
                                     truncation, truncation_complete, vanishing)
    for module in (rnn, gradcheck, contributions, truncation, truncation_complete, vanishing, clipping, lstm,
                   losses, language_model):
        for name, source in module.TEMPLATES.items():
            report = grade(source, name, SEEDS[1])
            assert report.fraction == 1.0, report.feedback


def test_prints_and_warnings_of_a_correct_answer_cost_nothing(capsys):
    source = OTHER_STYLES["rnn_step_backward"].replace(
        "    da = dh_next", "    print('debugging', dh_next.shape)\n    warnings.warn('just a note')\n"
        "    import sys\n    print('to stderr', file=sys.stderr)\n    np.log(np.zeros(1))\n    da = dh_next")
    report = grade(source, "rnn_step_backward")
    assert report.fraction == 1.0, report.feedback
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""       # nothing leaks into the grader's streams


# --- isolation: one bug costs once --------------------------------------------------

def test_a_buggy_helper_costs_only_its_own_function():
    ns = namespace_from(OTHER_STYLES["rnn_forward"] + OTHER_STYLES["rnn_backward"] + OTHER_STYLES["rnn_backward_chunked"])
    ns.update(namespace_from('''
def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
    h_next = x_t @ Wx + h_prev @ Wh + b                 # no tanh
    return h_next, (x_t, h_prev, Wx, Wh, h_next)
def rnn_step_backward(dh_next, cache):
    x_t, h_prev, Wx, Wh, h_next = cache
    da = dh_next                                        # no tanh derivative
    return da @ Wx.T, da @ Wh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)
'''))
    buggy_step = ns["rnn_step_forward"]
    assert grade(ns, "rnn_step_forward").fraction < 1
    assert grade(ns, "rnn_step_backward").fraction < 1
    assert grade(ns, "rnn_forward").fraction == 1.0
    assert grade(ns, "rnn_backward").fraction == 1.0
    ns["rnn_backward"] = namespace_from(OTHER_STYLES["rnn_backward"].replace("dh[:, t] + carry", "dh[:, t]"))[
        "rnn_backward"]
    assert grade(ns, "rnn_backward").fraction < 1
    assert grade(ns, "rnn_backward_chunked").fraction == 1.0
    assert ns["rnn_step_forward"] is buggy_step            # the stand-ins are removed afterwards
    assert "step_jacobians" not in ns                      # stand-ins that were absent are gone again


@pytest.mark.parametrize("name, delegation", [
    ("rnn_backward", "def rnn_backward(dh, cache):\n    return rnn_backward_truncated(dh, cache, dh.shape[1])\n"),
    ("rnn_step_backward", "def rnn_step_backward(dh_next, cache):\n"
                          "    x_t, h_prev, Wx, Wh, h_next = cache\n"
                          "    dx, dh0, dWx, dWh, db = rnn_backward(dh_next[:, None], (x_t[:, None], h_prev, Wx, Wh, h_next[:, None]))\n"
                          "    return dx[:, 0], dh0, dWx, dWh, db\n"),
    ("rnn_backward_truncated", "def rnn_backward_truncated(dh, cache, k):\n    return rnn_backward_chunked(dh, cache, k)\n"),
    ("rnn_backward_weighted", "def rnn_backward_weighted(dh, cache, xi):\n    return rnn_backward(dh, cache)\n"),
    ("rnn_backward_weighted", "def rnn_backward_weighted(dh, cache, xi):\n"
                              "    return rnn_backward_truncated(dh, cache, 1 + int(np.argmin(xi != 0)))\n"),
    ("lstm_step_backward", "def lstm_step_backward(dh_next, dc_next, cache):\n"
                           "    x_t, h_prev, c_prev, Wx, Wh, gates, c_next = cache\n"
                           "    dx, dh0, dc0, dWx, dWh, db = lstm_backward(dh_next[:, None], (x_t[:, None], h_prev, c_prev, "
                           "Wx, Wh, gates[:, None], c_next[:, None], None))\n"
                           "    return dx[:, 0], dh0, dc0, dWx, dWh, db\n"),
])
def test_a_stand_in_never_computes_the_graded_function_itself(name, delegation):
    """Handing F to another graded function reaches the student's own (here a stub), not the reference."""
    stubs = "".join(f"def {other}(*args):\n    raise NotImplementedError()\n"
                    for other in GRADED if other != name)
    report = grade(namespace_from(stubs + delegation), name)
    assert report.fraction == 0


# --- wrong work, bad outputs and hostile objects -----------------------------------

def test_a_stub_scores_zero_with_a_friendly_message():
    report = grade("def rnn_backward(dh, cache):\n    raise NotImplementedError()\n", "rnn_backward")
    assert report.fraction == 0
    assert "not implemented yet" in report.feedback and "NotImplementedError" in report.error


def test_a_missing_function_scores_zero():
    report = grade({}, "rnn_forward")
    assert report.fraction == 0 and "not defined" in report.feedback


def test_modifying_an_argument_costs_the_arguments_part_only():
    source = OTHER_STYLES["clip_grad_norm"].replace(
        "    return {key", "    for value in grads.values():\n        value += 0.0 * value + 1e-3\n"
        "        value -= 1e-3 + 1e-9\n    return {key")
    report = grade(source, "clip_grad_norm")
    parts = {p.name: p for p in report.parts}
    assert not parts[ARGS].passed and "in place" in parts[ARGS].message


def test_wrong_structure_is_named():
    report = grade('''
def rnn_step_backward(dh_next, cache):
    x_t, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1 - h_next ** 2)
    return [da @ Wx.T, da @ Wh.T, x_t.T @ da, h_prev.T @ da]
''', "rnn_step_backward")
    assert report.fraction == 0
    assert "should return a tuple of 5 items; got a list of 4 items" in report.feedback


def test_float32_and_wrong_shapes_are_named():
    report = grade('''
def step_jacobians(cache):
    x, h0, Wx, Wh, h = cache
    return ((1 - h ** 2)[..., :, None] * Wh.T).astype(np.float32)
''', "step_jacobians")
    assert report.fraction < 1 and "dtype float32; expected float64" in report.feedback
    report = grade('''
def gradient_norms_through_time(dh_last, cache):
    return np.zeros((cache[4].shape[1], 1))
''', "gradient_norms_through_time")
    assert report.fraction == 0 and "has shape" in report.feedback


HOSTILE = '''
class Lazy:
    """Looks like the right answer when numpy asks, and refuses everything else."""
    def __init__(self, value):
        self.value = value
    def __array__(self, dtype=None, copy=None):
        return self.value
    def __eq__(self, other):
        raise RuntimeError("no comparisons")
    def __sub__(self, other):
        raise RuntimeError("no arithmetic")
    __rsub__ = __sub__
    def __float__(self):
        raise RuntimeError("no float")
    def __len__(self):
        raise RuntimeError("no len")
    def __iter__(self):
        raise RuntimeError("no iteration")
class Sub(np.ndarray):
    pass
class Tup(tuple):
    def __len__(self):
        raise RuntimeError("no len")
class BadError(Exception):
    def __str__(self):
        raise RuntimeError("no message")
def rnn_step_forward(x_t, h_prev, Wx, Wh, b):
    h = np.tanh(x_t @ Wx + h_prev @ Wh + b)
    return Lazy(h), (x_t, h_prev, Wx, Wh, h)
def rnn_forward(x, h0, Wx, Wh, b):
    h = np.zeros((x.shape[0], x.shape[1], h0.shape[1])).view(Sub)
    return Tup((h, (x, h0, Wx, Wh, h)))
def clip_grad_norm(grads, max_norm):
    return {1: grads}, Lazy(1.0)
def temporal_softmax_loss(scores, y):
    raise BadError()
def step_jacobians(cache):
    return (row for row in cache)
'''


@pytest.mark.parametrize("name,expected", [
    ("rnn_step_forward", "got an object of type"),
    ("rnn_forward", "should return a tuple"),
    ("clip_grad_norm", "should be a dict"),
    ("temporal_softmax_loss", "could not be read"),
    ("step_jacobians", "got an object of type generator"),
])
def test_hostile_return_values_are_wrong_types_and_never_crash_the_grader(name, expected):
    report = grade(HOSTILE, name)
    assert report.fraction < 1
    assert expected in report.feedback


def test_to_plain_keeps_plain_data_and_hides_everything_else():
    a = np.arange(3.0)
    plain = to_plain((a, {"k": 1.5}, [np.float64(2)], None))
    assert plain[0] is not a and np.array_equal(plain[0], a)
    assert isinstance(to_plain(a.view(np.matrix)), Opaque)
    assert isinstance(to_plain(np.array([object()])), Opaque)
    assert isinstance(to_plain({1: a}), Opaque)
    assert isinstance(to_plain(((((((a,),),),),),)), tuple)            # deep nesting is cut, not followed
    assert "nested too deeply" in repr(to_plain(((((((a,),),),),),))[0][0][0][0])


# --- feedback ------------------------------------------------------------------------

def test_feedback_locates_the_error_without_giving_values_or_code():
    report = grade(OTHER_STYLES["rnn_backward"].replace("h[:, t - 1] if t > 0 else h0", "h[:, t - 1]"),
                   "rnn_backward", seed=77)
    text = report.feedback
    assert report.fraction < 1 and "rnn_backward/h-minus-1-wraps" in report.mistakes
    assert "Hint:" in text and "seed 77" in text and "cases_for('rnn_backward', 77)" in text
    assert "N=" in text and "T=" in text
    assert "def " not in text and "np." not in text


def test_unknown_mistake_reports_where_and_by_how_much():
    report = grade(OTHER_STYLES["rnn_backward"].replace("dh[:, t] + carry", "dh[:, t] + 0.5 * carry"),
                   "rnn_backward")
    assert report.mistakes == []
    assert "time steps t = " in report.feedback and "max abs error" in report.feedback


def test_hidden_tests_pass_quietly_for_the_reference_and_raise_with_feedback(capsys, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SEED", "4242")
    assert run_seed() == 4242
    assert run_hidden_tests("rnn_backward", reference_namespace()) is None
    out = capsys.readouterr()
    assert "100%" in out.out and "run seed 4242" in out.out and out.err == ""
    ns = namespace_from(OTHER_STYLES["rnn_backward"].replace("dh[:, t] + carry", "dh[:, t]"))
    with pytest.raises(AssertionError, match="rnn_backward/no-carried-gradient"):
        run_hidden_tests("rnn_backward", ns)
    monkeypatch.setenv("AUTOGRADER_SEED", "twelve")
    with pytest.raises(ValueError, match="AUTOGRADER_SEED"):
        run_seed()


def test_raising_valueerror_for_everything_earns_nothing():
    report = grade("def scale_to_spectral_radius(W, rho):\n    raise ValueError('no')\n", "scale_to_spectral_radius")
    assert report.fraction == 0
    assert "[-] ValueError for spectral radius 0" in report.feedback


def test_any_evaluator_that_follows_the_protocol_can_be_graded():
    """The grader only sees Outcomes: a hand-made evaluator works, and one that drops args_after is caught."""
    from autograder.evaluate import Outcome, prepare_args

    def honest(name, args, stand_ins=()):
        passed = prepare_args(args)
        value = getattr(solutions, name)(*passed)
        return Outcome(outputs=to_plain(value), args_after=tuple(to_plain(a) for a in passed))

    def forgetful(name, args, stand_ins=()):
        outcome = honest(name, args, stand_ins)
        outcome.args_after = ()
        return outcome

    assert grade_function("rnn_backward", honest, 9).fraction == 1.0
    report = grade_function("rnn_backward", forgetful, 9)
    assert report.fraction == pytest.approx(0.9) and "could not be checked" in report.feedback
