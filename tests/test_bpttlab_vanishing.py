"""Tests of notebook 04's toolbox: bpttlab.vanishing_lab and bpttlab.selfchecks_vanishing.

Legend: N batch, T time steps, H hidden size, rho spectral radius.
Expected values are analytic (rho^t for rho * orthogonal, 0.9^88 < 1e-4 < 0.9^87)
or computed independently (own finite differences); the reference functions
are only used as the "student's" functions the toolbox is driven with.
"""
import io

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import solutions as S  # noqa: E402
from bpttlab import selfchecks_vanishing, vanishing_lab  # noqa: E402


def test_orthogonal_is_orthogonal_and_seeded():
    Q = vanishing_lab.orthogonal(6, seed=3)
    assert np.allclose(Q.T @ Q, np.eye(6))
    assert np.array_equal(Q, vanishing_lab.orthogonal(6, seed=3))
    assert not np.allclose(Q, vanishing_lab.orthogonal(6, seed=4))


@pytest.mark.parametrize("kind", ["orthogonal", "gaussian"])
def test_recurrent_matrix_has_the_asked_radius(kind):
    W = vanishing_lab.recurrent_matrix(S.scale_to_spectral_radius, 16, 0.7, kind, seed=0)
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(0.7)
    sigma = np.linalg.norm(W, 2)
    if kind == "orthogonal":
        assert sigma == pytest.approx(0.7)
    else:
        assert sigma > 1.3 * 0.7               # non-normal: largest singular value well above rho
    with pytest.raises(ValueError, match="kind"):
        vanishing_lab.recurrent_matrix(S.scale_to_spectral_radius, 4, 0.7, "unitary")


def test_pascanu_bound_by_hand_and_holds():
    h = np.array([[[0.0], [0.5], [0.0]]])      # N = 1, T = 3, H = 1
    Wh = np.array([[2.0]])
    per_step, crude = vanishing_lab.pascanu_bound(h, Wh, norm_last=1.0)
    # s = 2: nothing to cross; s = 1: step 2 (1 - 0^2) * 2; s = 0: also step 1 (1 - 0.25) * 2
    assert np.allclose(per_step, [2 * 0.75 * 2, 2, 1])
    assert np.allclose(crude, [4, 2, 1])
    curves = vanishing_lab.norm_curves(S.rnn_forward, S.gradient_norms_through_time, S.scale_to_spectral_radius,
                                       [0.8, 1.2], T=30, H=8)
    for rho in (0.8, 1.2):
        c = curves[rho]
        assert c["norms"][0] == pytest.approx(1.0) and c["crude"][0] == pytest.approx(1.0)
        assert np.all(c["norms"] <= c["bound"] * (1 + 1e-9)) and np.all(c["bound"] <= c["crude"] * (1 + 1e-9))
        assert c["crude"][-1] == pytest.approx(rho ** 29)


def test_product_norms_of_a_linear_recurrence_are_rho_to_the_t():
    Wh = vanishing_lab.recurrent_matrix(S.scale_to_spectral_radius, 8, 0.9, "orthogonal", seed=1)
    t = np.arange(1, 31)
    assert np.allclose(vanishing_lab.linear_product_norms(Wh, 30), 0.9 ** t)
    # step Jacobians of a cache whose states are 0 are Wh.T: the tanh product is the linear one
    cache = (np.zeros((1, 31, 8)), np.zeros((1, 8)), np.eye(8), Wh, np.zeros((1, 31, 8)))
    assert np.allclose(vanishing_lab.jacobian_product_norms(S.step_jacobians, cache, 30), 0.9 ** t)


def test_first_below_by_hand():
    assert vanishing_lab.first_below([1.0, 1e-3, 1e-5, 1e-6]) == 3
    assert vanishing_lab.first_below([1.0, 0.5], threshold=0.1) is None


def test_vanishing_table_linear_horizon_is_88_and_tanh_is_sooner():
    rows = vanishing_lab.vanishing_table(S.rnn_forward, S.step_jacobians, S.scale_to_spectral_radius,
                                         [0.9, 1.0], H=16, T_max=120)
    assert 0.9 ** 88 < 1e-4 < 0.9 ** 87
    assert rows[0]["linear"] == 88 and rows[0]["rho_power"] == 88
    assert rows[0]["tanh"] is not None and rows[0]["tanh"] < 60
    assert rows[1]["linear"] is None and rows[1]["rho_power"] is None


def test_non_normal_transient_grows_before_it_decays():
    _, curves = vanishing_lab.plot_non_normal(S.rnn_forward, S.step_jacobians, S.scale_to_spectral_radius,
                                              rho=0.9, H=32, T_max=40)
    assert curves["gaussian, linear"].max() > 1.2
    assert curves["orthogonal, linear"].max() == pytest.approx(0.9)
    assert curves["gaussian, linear"][-1] < 1


def test_cliff_gradient_by_own_finite_differences_and_grid_shapes():
    eps = 1e-6
    for w, b in [(1.0, -1.0), (5.0, -2.5), (8.0, -5.0)]:
        E, dw, db = vanishing_lab.cliff_loss_and_grad(w, b)
        E = lambda w, b: vanishing_lab.cliff_loss_and_grad(w, b)[0]  # noqa: E731
        assert dw == pytest.approx((E(w + eps, b) - E(w - eps, b)) / (2 * eps), rel=1e-5, abs=1e-10)
        assert db == pytest.approx((E(w, b + eps) - E(w, b - eps)) / (2 * eps), rel=1e-5, abs=1e-10)
    W, B = np.meshgrid(np.linspace(-2, 12, 5), np.linspace(-6, 2, 3))
    assert all(a.shape == (3, 5) for a in vanishing_lab.cliff_loss_and_grad(W, B))


def test_clipped_descent_steps_are_bounded_and_the_unclipped_one_jumps():
    free = vanishing_lab.cliff_descent(6.0, -4.0, lr=0.3, steps=200)
    clipped = vanishing_lab.cliff_descent(6.0, -4.0, lr=0.3, steps=200, clip_grad_norm=S.clip_grad_norm)
    assert free.shape == (201, 2)
    assert np.hypot(*np.diff(free, axis=0).T).max() > 10
    assert np.hypot(*np.diff(clipped, axis=0).T).max() <= 0.3 + 1e-12
    assert vanishing_lab.cliff_loss_and_grad(*clipped[-1])[0] < vanishing_lab.cliff_loss_and_grad(*free[-1])[0]


def test_exploding_step_grows_with_T_and_clipping_caps_it():
    Wh = vanishing_lab.recurrent_matrix(S.scale_to_spectral_radius, 16, 1.5, "orthogonal", seed=0)
    rows = vanishing_lab.exploding_step(S.rnn_forward, S.rnn_backward, S.clip_grad_norm, Wh, Ts=[5, 40])
    assert rows[1]["norm"] > 10 * rows[0]["norm"] > 10
    assert all(r["clipped"] == pytest.approx(1.0) for r in rows)


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_norm_widget_draws_and_changes_with_each_slider():
    box, update = vanishing_lab.norm_explorer(S.rnn_forward, S.gradient_norms_through_time,
                                              S.scale_to_spectral_radius, show=False)
    sliders = {w.description: w for w in box.children[0].children}
    assert set(sliders) == {"rho", "T", "input std"} and sliders["T"].max == 200
    first = _png(update(0.9, 60, 1.0))
    assert _png(update(1.0, 60, 1.0)) != first
    assert _png(update(0.9, 80, 1.0)) != first
    assert _png(update(0.9, 60, 0.1)) != first
    update(sliders["rho"].max, sliders["T"].max, 10 ** sliders["input std"].max)   # largest values draw


# ---------------------------------------------------------------- self-checks

def test_selfchecks_accept_the_reference(capsys):
    selfchecks_vanishing.check_step_jacobians(S.step_jacobians, S.rnn_forward, S.numerical_gradient)
    selfchecks_vanishing.check_gradient_norms_through_time(S.gradient_norms_through_time, S.rnn_forward,
                                                           S.numerical_gradient)
    selfchecks_vanishing.check_scale_to_spectral_radius(S.scale_to_spectral_radius)
    selfchecks_vanishing.check_clip_grad_norm(S.clip_grad_norm)
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 4


def _jac_no_transpose(cache):
    return (1 - cache[4] ** 2)[..., :, None] * cache[3]


def _jac_previous_state(cache):
    x, h0, Wx, Wh, h = cache
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return (1 - h_prev ** 2)[..., :, None] * Wh.T


def _norms_by_distance(dh_last, cache):
    return S.gradient_norms_through_time(dh_last, cache)[::-1].copy()


def _norms_first_sample(dh_last, cache):
    return S.gradient_norms_through_time(dh_last[:1], tuple(a[:1] if i in (0, 1, 4) else a
                                                           for i, a in enumerate(cache)))


def _scale_by_norm(W, rho):
    return W * rho / np.linalg.norm(W, 2)


def _scale_no_zero_check(W, rho):
    with np.errstate(divide="ignore", invalid="ignore"):
        return W * rho / np.max(np.abs(np.linalg.eigvals(W)))


def _clip_per_array(grads, max_norm):
    return {k: v * min(1.0, max_norm / np.linalg.norm(v)) for k, v in grads.items()}, \
        float(np.sqrt(sum(np.sum(v ** 2) for v in grads.values())))


def _clip_in_place(grads, max_norm):
    clipped, total = S.clip_grad_norm(grads, max_norm)
    for k in grads:
        grads[k][...] = clipped[k]
    return grads, total


def _clip_norm_after(grads, max_norm):
    clipped, _ = S.clip_grad_norm(grads, max_norm)
    return clipped, float(np.sqrt(sum(np.sum(v ** 2) for v in clipped.values())))


WRONG = [
    ("check_step_jacobians", _jac_no_transpose, (S.rnn_forward, S.numerical_gradient)),
    ("check_step_jacobians", _jac_previous_state, (S.rnn_forward, S.numerical_gradient)),
    ("check_gradient_norms_through_time", _norms_by_distance, (S.rnn_forward, S.numerical_gradient)),
    ("check_gradient_norms_through_time", _norms_first_sample, (S.rnn_forward, S.numerical_gradient)),
    ("check_scale_to_spectral_radius", _scale_by_norm, ()),
    ("check_scale_to_spectral_radius", _scale_no_zero_check, ()),
    ("check_clip_grad_norm", _clip_per_array, ()),
    ("check_clip_grad_norm", _clip_in_place, ()),
    ("check_clip_grad_norm", _clip_norm_after, ()),
]


@pytest.mark.parametrize("check, wrong, args", WRONG, ids=[w[1].__name__ for w in WRONG])
def test_selfchecks_reject_wrong_functions(check, wrong, args):
    with pytest.raises(AssertionError):
        getattr(selfchecks_vanishing, check)(wrong, *args)
