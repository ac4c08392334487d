"""The hand-derived gradient against jax.grad, finite differences and the write-up.

How "relative difference" is measured between ``manual_grad`` (m) and
``autodiff_grad`` (a), entry by entry::

    rel = max_j |m_j − a_j| / S_j,
    S_w_j = Σᵢ cᵢ |x_ij| mᵢ,   S_b = Σᵢ cᵢ mᵢ,   mᵢ = 1 + |b| + Σₖ |x_ik w_k|

with cᵢ = ∂C/∂lᵢ (1/n, or vᵢ/Σv). Why this scale: each per-sample factor
∂lᵢ/∂zᵢ is computed from zᵢ, ŷᵢ and yᵢ, whose rounding errors are a few ulps of mᵢ
(ŷ and y lie in [−1, 1], and Σₖ |x_ik w_k| bounds the rounding of zᵢ); entry j
then adds n of them times cᵢ x_ij. So S_j is the size that rounding is relative
to. Dividing by |a_j| or ‖a‖∞ instead breaks down exactly where these tests have to
look: with saturated samples (|z| ≥ 30) the true gradient can cancel to, or fall
below, the rounding of σ(z) − y. E.g. bce on one confidently right sample at z = 30
in float64: ∂l/∂z = −σ(−30) ≈ −9.4e−14, which jax.grad (through softplus) gets to
about 1 % and the hand formula σ(z) − y to about 0.1 %; at z = 33 jax.grad is off
by 50 %. A wrong formula is off by a multiple of the gradient itself, so the
criterion still rejects it (``test_criterion_rejects_wrong_formulas``).
"""

import decimal
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jax.test_util import check_grads

import jaxperc
from jaxperc.core import grads
from jaxperc.core.losses import LOSSES
from jaxperc.core.model import Params, pre_activation

COMBOS = (("mse", "sigmoid"), ("mse", "tanh"), ("mse", "identity"), ("bce", "sigmoid"))
RTOL = {"float32": 1e-5, "float64": 1e-10}
BATCH = 32  # random problems of one shape per hypothesis example (one compile)


def flat(p: Params) -> np.ndarray:
    """[w, b] as one float64 vector."""
    return np.concatenate([np.ravel(np.asarray(p.w)), np.ravel(np.asarray(p.b))])


def coefficients(weights, n, dtype):
    if weights is None:
        return jnp.full((n,), 1.0 / n, dtype)
    return weights / jnp.sum(weights)


def rounding_scale(params, x, weights):
    """S = [S_w (d), S_b] of the module docstring.  x: [n, d] → [d + 1]."""
    c = coefficients(weights, x.shape[0], x.dtype)
    m = 1.0 + jnp.abs(params.b) + jnp.abs(x) @ jnp.abs(params.w)  # [n]
    return jnp.concatenate([jnp.abs(x).T @ (c * m), jnp.sum(c * m)[None]])


def relative_difference(manual, auto, scale):
    """max_j |m_j − a_j| / S_j (0/0 counts as 0)."""
    diff = np.abs(manual - auto)
    return float(np.max(np.where(diff == 0, 0.0, diff / np.maximum(scale, 1e-300))))


def all_gradients(params, x, y, weights, *, weighted):
    """manual and autodiff gradients of every combo, and S.  → ([4, d+1] ×2, [d+1])"""
    v = weights if weighted else None
    manual, auto = [], []
    for loss, activation in COMBOS:
        kw = {"loss": loss, "activation": activation, "weights": v}
        m, a = (
            grads.manual_grad(params, x, y, **kw),
            grads.autodiff_grad(params, x, y, **kw),
        )
        manual.append(jnp.concatenate([m.w, m.b[None]]))
        auto.append(jnp.concatenate([a.w, a.b[None]]))
    return jnp.stack(manual), jnp.stack(auto), rounding_scale(params, x, v)


# one compiled program per shape: every combo, for BATCH problems at once
batched_gradients = {
    weighted: jax.jit(jax.vmap(functools.partial(all_gradients, weighted=weighted)))
    for weighted in (False, True)
}


def random_problems(rng, n, d, log_scale, targets, weighting, dtype):
    """BATCH problems of shape [n, d]; parameter scales 10^log_scale and random."""
    scales = 10.0 ** np.concatenate([[log_scale], rng.uniform(-2, 2.5, BATCH - 1)])
    w = rng.normal(size=(BATCH, d)) * scales[:, None]
    b = rng.normal(size=BATCH) * scales
    x_scales = 10.0 ** np.concatenate([[0.0], rng.uniform(-1, 1, BATCH - 1)])
    x = rng.normal(size=(BATCH, n, d)) * x_scales[:, None, None]
    if targets == "binary":
        y = rng.integers(0, 2, (BATCH, n)).astype(float)
    else:
        y = rng.random((BATCH, n))
    if weighting == "mask":
        v = (rng.random((BATCH, n)) < 0.5).astype(float)
        v[:, 0] = 1.0  # at least one sample counts
    else:
        v = rng.random((BATCH, n)) + 0.01
    return tuple(
        jnp.asarray(a, dtype) for a in (w, b, x, y, v)
    )  # float64 values, rounded once to dtype


def worst_relative_difference(seed, n, d, log_scale, targets, weighting, dtype):
    """Max rel over the BATCH problems and every combo, and the largest |z| seen."""
    rng = np.random.default_rng(seed)
    w, b, x, y, v = random_problems(rng, n, d, log_scale, targets, weighting, dtype)
    fn = batched_gradients[weighting is not None]
    manual, auto, scale = fn(Params(w, b), x, y, v)
    manual, auto, scale = (np.asarray(a, np.float64) for a in (manual, auto, scale))
    assert np.all(np.isfinite(manual)) and np.all(np.isfinite(auto))
    worst = max(
        relative_difference(manual[k], auto[k], scale[k][None, :]) for k in range(BATCH)
    )
    z = np.asarray(jax.vmap(pre_activation)(Params(w, b), x))
    return worst, float(np.max(np.abs(z)))


shapes_and_values = {
    "seed": st.integers(0, 2**32 - 1),
    "n": st.integers(1, 64),
    "d": st.integers(1, 16),
    "log_scale": st.floats(-2.0, 2.5),
    "targets": st.sampled_from(["binary", "soft"]),
    "weighting": st.sampled_from([None, "random", "mask"]),
}


def saturated_examples(test):
    """Explicit cases with |z| ≥ 30 on every sample, whatever hypothesis draws."""
    test = example(seed=1, n=1, d=1, log_scale=2.5, targets="binary", weighting=None)(
        test
    )
    test = example(
        seed=2, n=64, d=16, log_scale=2.0, targets="binary", weighting="mask"
    )(test)
    return example(seed=3, n=5, d=2, log_scale=2.2, targets="soft", weighting="random")(
        test
    )


@settings(max_examples=5)  # × BATCH problems × 4 combos, plus the 3 examples
@saturated_examples
@given(**shapes_and_values)
def test_manual_equals_autodiff_float64(seed, n, d, log_scale, targets, weighting):
    with jax.enable_x64(True):
        rel, _ = worst_relative_difference(
            seed, n, d, log_scale, targets, weighting, jnp.float64
        )
    assert rel <= RTOL["float64"]


@settings(max_examples=5)
@saturated_examples
@given(**shapes_and_values)
def test_manual_equals_autodiff_float32(seed, n, d, log_scale, targets, weighting):
    rel, _ = worst_relative_difference(
        seed, n, d, log_scale, targets, weighting, jnp.float32
    )
    assert rel <= RTOL["float32"]


def test_the_explicit_examples_saturate():
    # the @example cases above do reach |z| ≥ 30 (saturated sigmoid and tanh)
    for seed, n, d, s in [(1, 1, 1, 2.5), (2, 64, 16, 2.0), (3, 5, 2, 2.2)]:
        rng = np.random.default_rng(seed)
        w, b, x, *_ = random_problems(rng, n, d, s, "soft", None, jnp.float32)
        z = np.abs(np.asarray(x[0] @ w[0] + b[0]))
        assert np.median(z) >= 30


WRONG = {
    "sign flipped": lambda g, p, x, y, kw: jax.tree.map(jnp.negative, g),
    "doubled": lambda g, p, x, y, kw: jax.tree.map(lambda t: 2 * t, g),
    "no dŷ/dz factor": lambda g, p, x, y, kw: grads.manual_grad(
        p, x, y, loss="mse", activation="identity", weights=kw["weights"]
    ),
    "published": lambda g, p, x, y, kw: grads.published_grad(p, x, y),
}


@pytest.mark.parametrize("wrong", list(WRONG))
def test_criterion_rejects_wrong_formulas(wrong):
    # unsaturated problems (parameter scale 1): every wrong formula is far outside
    with jax.enable_x64(True):
        for seed in range(3):
            rng = np.random.default_rng(seed)
            w, b, x, y, _ = random_problems(rng, 16, 3, 0.0, "soft", None, jnp.float64)
            p, x, y = Params(w[0], b[0]), x[0], y[0]
            kw = {"loss": "mse", "activation": "sigmoid", "weights": None}
            right = grads.autodiff_grad(p, x, y, **kw)
            bad = WRONG[wrong](grads.manual_grad(p, x, y, **kw), p, x, y, kw)
            scale = np.asarray(rounding_scale(p, x, None))
            assert relative_difference(flat(bad), flat(right), scale) > 1e-3


# ---------------------------------------------------------------------------
# finite differences (jax.test_util.check_grads), float64


def small_problem(seed=0, n=7, d=3):
    rng = np.random.default_rng(seed)
    return (
        Params(jnp.asarray(rng.normal(size=d)), jnp.asarray(rng.normal())),
        jnp.asarray(rng.normal(size=(n, d))),
        jnp.asarray(rng.random(n)),
        jnp.asarray(rng.random(n) + 0.1),
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("loss", "activation"), COMBOS)
def test_cost_passes_finite_difference_check(loss, activation, weighted):
    with jax.enable_x64(True):
        params, x, y, v = small_problem()
        kw = {
            "loss": loss,
            "activation": activation,
            "weights": v if weighted else None,
        }
        f = jax.jit(lambda p: jaxperc.cost(p, x, y, **kw))
        # central differences with eps = 1e-5 on a smooth cost of O(1) curvature:
        # truncation ~1e-10, rounding ~1e-11; 1e-6 leaves a wide margin
        check_grads(
            f, (params,), order=2, modes=("rev",), eps=1e-5, atol=1e-6, rtol=1e-6
        )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("loss", "activation"), COMBOS)
def test_manual_grad_passes_finite_difference_check(loss, activation, weighted):
    # manual_grad as the VJP of the cost: checked against finite differences of the
    # cost itself, with no jax.grad involved
    with jax.enable_x64(True):
        params, x, y, v = small_problem(seed=1)
        kw = {
            "loss": loss,
            "activation": activation,
            "weights": v if weighted else None,
        }

        @jax.custom_vjp
        def f(p):
            return jaxperc.cost(p, x, y, **kw)

        def f_fwd(p):
            return f(p), p

        def f_bwd(p, ct):
            return (jax.tree.map(lambda t: ct * t, grads.manual_grad(p, x, y, **kw)),)

        f.defvjp(f_fwd, f_bwd)
        check_grads(
            f, (params,), order=1, modes=("rev",), eps=1e-5, atol=1e-6, rtol=1e-6
        )


# ---------------------------------------------------------------------------
# δ = ∂C/∂z and the vectorised form


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("loss", "activation"), COMBOS)
def test_delta_is_dC_dz_and_gives_the_gradient(loss, activation, weighted):
    with jax.enable_x64(True):
        params, x, y, v = small_problem(seed=2)
        v = v if weighted else None
        act = jaxperc.get_activation(activation)
        c = coefficients(v, x.shape[0], x.dtype)

        def cost_of_z(z):
            return jnp.sum(c * LOSSES[loss].per_sample(z, act.fn(z), y))

        z = pre_activation(params, x)
        d = jaxperc.delta(params, x, y, loss=loss, activation=activation, weights=v)
        np.testing.assert_allclose(
            np.asarray(d), np.asarray(jax.grad(cost_of_z)(z)), rtol=1e-12, atol=1e-15
        )
        g = jaxperc.manual_grad(
            params, x, y, loss=loss, activation=activation, weights=v
        )
        # ∂C/∂w = xᵀδ, ∂C/∂b = Σδ
        np.testing.assert_allclose(
            np.asarray(g.w), np.asarray(x).T @ np.asarray(d), rtol=1e-13
        )
        np.testing.assert_allclose(float(g.b), np.sum(np.asarray(d)), rtol=1e-13)


def test_bce_delta_is_error_over_n():
    with jax.enable_x64(True):
        params, x, y, _ = small_problem(seed=3, n=11)
        d = jaxperc.delta(params, x, y, loss="bce")
        y_hat = jaxperc.forward(params, x)
    # σ'(z) cancelled: δᵢ = (ŷᵢ − yᵢ)/n
    np.testing.assert_allclose(np.asarray(d), np.asarray(y_hat - y) / 11, rtol=1e-14)


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_masked_gradient_is_the_gradient_on_the_subset(loss):
    params, x, y, _ = small_problem(seed=4, n=15)
    params = Params(params.w.astype(jnp.float32), params.b.astype(jnp.float32))
    x, y = x.astype(jnp.float32), y.astype(jnp.float32)
    mask = np.zeros(15)
    mask[[0, 3, 4, 9, 14]] = 1.0
    idx = np.flatnonzero(mask)
    masked = grads.manual_grad(params, x, y, loss=loss, weights=jnp.asarray(mask))
    subset = grads.manual_grad(params, x[idx], y[idx], loss=loss)
    ones = grads.manual_grad(params, x, y, loss=loss, weights=jnp.ones(15))
    plain = grads.manual_grad(params, x, y, loss=loss)
    # float32, sums of ≤ 15 terms: 1e-5 relative with an atol of 1e-7
    np.testing.assert_allclose(flat(masked), flat(subset), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(flat(ones), flat(plain), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# jit and vmap


@pytest.mark.parametrize("fn", [grads.manual_grad, grads.autodiff_grad])
@pytest.mark.parametrize(("loss", "activation"), [*COMBOS, ("mse", "step")])
def test_gradients_under_jit_and_vmap_over_stacked_params(fn, loss, activation):
    rng = np.random.default_rng(5)
    x = jnp.asarray(rng.normal(size=(9, 4)), jnp.float32)
    y = jnp.asarray(rng.random(9), jnp.float32)
    stacked = Params(
        jnp.asarray(rng.normal(size=(3, 4)), jnp.float32),
        jnp.asarray(rng.normal(size=3), jnp.float32),
    )

    def g(p):
        return fn(p, x, y, loss=loss, activation=activation)

    batched = jax.vmap(g)(stacked)
    assert batched.w.shape == (3, 4) and batched.b.shape == (3,)
    for m in range(3):
        one = Params(stacked.w[m], stacked.b[m])
        loop, jitted = flat(g(one)), flat(jax.jit(g)(one))
        got = np.concatenate([np.asarray(batched.w[m]), np.asarray(batched.b[m])[None]])
        # float32: the same math, fused differently; 1e-5 of the gradient's size
        atol = 1e-5 * max(np.max(np.abs(loop)), 1e-30)
        np.testing.assert_allclose(got, loop, rtol=1e-5, atol=atol)
        np.testing.assert_allclose(jitted, loop, rtol=1e-5, atol=atol)


# ---------------------------------------------------------------------------
# the step activation and Rosenblatt's rule


@pytest.mark.parametrize("weighted", [False, True])
def test_step_manual_grad_is_rosenblatts_rule(weighted):
    with jax.enable_x64(True):
        params, x, y, v = small_problem(seed=6, n=12)
        y = jnp.round(y)  # 0/1 labels
        v = v if weighted else None
        g = grads.manual_grad(params, x, y, activation="step", weights=v)
        y_hat = np.asarray(jaxperc.forward(params, x, activation="step"))
        after = np.asarray(params.w - 0.3 * g.w)  # a descent step, α = 0.3
    w, xs, ys = np.asarray(params.w), np.asarray(x), np.asarray(y)
    c = np.full(12, 1 / 12) if v is None else np.asarray(v) / np.sum(np.asarray(v))
    # (2/n) Σ (ŷ − y) x, weighted: 2 Σ cᵢ (ŷᵢ − yᵢ) xᵢ
    np.testing.assert_allclose(
        np.asarray(g.w), 2 * xs.T @ (c * (y_hat - ys)), rtol=1e-13
    )
    np.testing.assert_allclose(float(g.b), 2 * np.sum(c * (y_hat - ys)), rtol=1e-13)
    # only the misclassified samples move the weights
    wrong = y_hat != ys
    assert 0 < wrong.sum() < 12
    np.testing.assert_allclose(
        np.asarray(g.w), 2 * xs[wrong].T @ (c * (y_hat - ys))[wrong], rtol=1e-13
    )
    # the descent step is w + α (2/n) Σ (y − ŷ) x: Rosenblatt's update
    np.testing.assert_allclose(
        after, w + 0.3 * 2 * xs.T @ (c * (ys - y_hat)), rtol=1e-13
    )


def test_autodiff_of_the_true_step_is_zero():
    params, x, y, _ = small_problem(seed=7)
    g = grads.autodiff_grad(params, x, y, activation="step")
    np.testing.assert_array_equal(flat(g), np.zeros(4))
    # while the surrogate moves it
    assert np.any(flat(grads.manual_grad(params, x, y, activation="step")) != 0)


# ---------------------------------------------------------------------------
# the published formulas, literally and one error at a time (MSE, sigmoid)


def _parts(params, x, y):
    z = np.asarray(x) @ np.asarray(params.w) + float(params.b)
    y_hat = 1 / (1 + np.exp(-z))
    return np.asarray(x), np.asarray(y), y_hat, y_hat * (1 - y_hat)


def corrected(params, x, y):
    """(2/n) Σᵢ (ŷᵢ − yᵢ) σ'(zᵢ) [xᵢ, 1]: all three errors fixed."""
    x, y, y_hat, slope = _parts(params, x, y)
    per_sample = 2 / len(y) * (y_hat - y) * slope
    return np.concatenate([x.T @ per_sample, [per_sample.sum()]])


def sign_flipped_only(params, x, y):
    """(2/n) Σᵢ (yᵢ − ŷᵢ) σ'(zᵢ) [xᵢ, 1]."""
    x, y, y_hat, slope = _parts(params, x, y)
    per_sample = 2 / len(y) * (y - y_hat) * slope
    return np.concatenate([x.T @ per_sample, [per_sample.sum()]])


def square_kept_only(params, x, y):
    """(2/n) Σᵢ (ŷᵢ − yᵢ)² σ'(zᵢ) [xᵢ, 1]: ∂C/∂ŷ keeps the square."""
    x, y, y_hat, slope = _parts(params, x, y)
    per_sample = 2 / len(y) * (y_hat - y) ** 2 * slope
    return np.concatenate([x.T @ per_sample, [per_sample.sum()]])


def sum_misplaced_only(params, x, y):
    """(2/n) Σᵢ (ŷᵢ − yᵢ) · Σᵢ σ'(zᵢ) [xᵢ, 1]: the errors summed on their own."""
    x, y, y_hat, slope = _parts(params, x, y)
    error_sum = 2 / len(y) * np.sum(y_hat - y)
    return error_sum * np.concatenate([x.T @ slope, [slope.sum()]])


def rel_to_gradient(g, truth):
    return np.max(np.abs(g - truth)) / np.max(np.abs(truth))


def published_problem(seed, n=16, d=4):
    with jax.enable_x64(True):
        params, x, y, _ = small_problem(seed=seed, n=n, d=d)
        truth = flat(grads.autodiff_grad(params, x, y))
        published = flat(grads.published_grad(params, x, y))
    return params, x, y, truth, published


def test_published_bias_gradient_has_the_wrong_sign_on_a_simple_case():
    # two samples of class 1 at w = 0, b = 0: ŷ = 1/2 is too low, so the cost
    # falls as b grows and ∂C/∂b < 0
    with jax.enable_x64(True):
        params = Params(jnp.zeros(1), jnp.zeros(()))
        x, y = jnp.asarray([[1.0], [2.0]]), jnp.asarray([1.0, 1.0])
        truth = grads.autodiff_grad(params, x, y)
        published = grads.published_grad(params, x, y)
        assert float(truth.b) < 0 < float(published.b)
        # gradient descent along the published formula climbs the cost
        c0 = float(jaxperc.cost(params, x, y))
        for g, climbs in ((published, True), (truth, False)):
            step = jax.tree.map(lambda p, t: p - 0.5 * t, params, g)
            assert (float(jaxperc.cost(step, x, y)) > c0) == climbs


@pytest.mark.parametrize("seed", range(4))
def test_published_gradient_disagrees_with_jax_grad_on_random_data(seed):
    params, x, y, truth, published = published_problem(seed)
    # the tolerance manual vs autodiff meets is 1e-10; this is off by order 1
    assert rel_to_gradient(published, truth) > 0.5
    # the corrected formula, written the same way, agrees with jax.grad
    np.testing.assert_allclose(corrected(params, x, y), truth, rtol=1e-12)


def test_published_grad_is_the_sign_flip_plus_the_misplaced_sum():
    for seed in range(3):
        params, x, y, _, published = published_problem(seed)
        np.testing.assert_allclose(
            published, -sum_misplaced_only(params, x, y), rtol=1e-12
        )


@pytest.mark.parametrize("seed", range(3))
def test_each_published_error_alone_disagrees(seed):
    params, x, y, truth, _ = published_problem(seed)
    # 1. sign flipped: exactly −∇C, the direction that climbs fastest
    np.testing.assert_allclose(sign_flipped_only(params, x, y), -truth, rtol=1e-12)
    # 2. square kept: the error's sign is lost; the bias component is never
    #    negative, whatever the data
    kept = square_kept_only(params, x, y)
    assert rel_to_gradient(kept, truth) > 0.1
    assert kept[-1] >= 0
    # 3. sum misplaced: Σ errors × Σ slopes·x instead of Σ (error·slope·x)
    assert rel_to_gradient(sum_misplaced_only(params, x, y), truth) > 0.1


def test_misplaced_sum_only_matters_with_more_than_one_sample():
    params, x, y, truth, published = published_problem(0, n=1)
    # one sample: the two ways of summing coincide, only the sign remains wrong
    np.testing.assert_allclose(sum_misplaced_only(params, x, y), truth, rtol=1e-12)
    np.testing.assert_allclose(published, -truth, rtol=1e-12)


def test_square_kept_points_the_wrong_way_when_predictions_are_too_low():
    # all predictions below their targets: the true ∂C/∂b < 0 (raise b) but the
    # kept square gives > 0 (lower b)
    with jax.enable_x64(True):
        params = Params(jnp.asarray([0.1, -0.2]), jnp.asarray(-1.0))
        x = jnp.asarray([[0.5, 1.0], [1.0, 0.0], [-1.0, 0.5]])
        y = jnp.ones(3)
        truth = flat(grads.autodiff_grad(params, x, y))
    assert truth[-1] < 0 < square_kept_only(params, x, y)[-1]


def test_saturated_tanh_gradient_is_exact_in_float64():
    """manual_grad with tanh + MSE at |z| up to 30 against 50-digit arithmetic.

    ≤ 1e-12 relative per entry (float64). The reference is formed and summed
    in decimal arithmetic and rounded once; jax.grad is not used because its tanh
    derivative loses digits at saturation on a CPU.
    """
    ctx = decimal.Context(prec=50)
    rng = np.random.default_rng(7)
    n, d = 12, 3
    x = rng.normal(size=(n, d))
    w, b = np.array([6.0, -5.0, 4.0]), 1.5
    y = rng.uniform(-1, 1, size=n)
    with jax.enable_x64(True):
        params = jaxperc.Params(jnp.asarray(w), jnp.asarray(b))
        got = jaxperc.manual_grad(params, x, y, activation="tanh")
    z = [ctx.create_decimal_from_float(float(v)) for v in x @ w + b]
    assert max(abs(float(v)) for v in z) > 10  # some rows are saturated
    exact = ctx.create_decimal_from_float
    deltas = []  # δᵢ = (2/n)(ŷᵢ − yᵢ) sech²(zᵢ), exactly
    for zi, yi in zip(z, y, strict=True):
        u = ctx.exp(-2 * abs(zi))
        t = (1 - u) / (1 + u) * (1 if zi >= 0 else -1)
        deltas.append(2 * (t - exact(float(yi))) * 4 * u / (1 + u) ** 2 / n)
    gw = [
        float(sum(dl * exact(float(x[i, j])) for i, dl in enumerate(deltas)))
        for j in range(d)
    ]
    gb = float(sum(deltas))
    np.testing.assert_allclose(np.asarray(got.w), gw, rtol=1e-12)
    np.testing.assert_allclose(float(got.b), gb, rtol=1e-12)
