"""Per-sample losses, the (weighted) mean cost, and the checks at its edge."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxperc
from jaxperc.core import activations, losses
from jaxperc.core.model import Params

COMBOS = [
    ("mse", "sigmoid"),
    ("mse", "tanh"),
    ("mse", "identity"),
    ("mse", "step"),
    ("bce", "sigmoid"),
]


def problem(n=12, d=3, *, seed=0, dtype=jnp.float32, binary=False):
    """Random params (scale 1), inputs [n, d] and targets [n] in [0, 1]."""
    rng = np.random.default_rng(seed)
    params = Params(
        jnp.asarray(rng.normal(size=d), dtype), jnp.asarray(rng.normal(), dtype)
    )
    x = jnp.asarray(rng.normal(size=(n, d)), dtype)
    y = rng.integers(0, 2, n) if binary else rng.random(n)
    return params, x, jnp.asarray(y, dtype)


def reference_losses(params, x, y, loss, activation):
    """Per-sample losses in float64 numpy, from the textbook formulas."""
    z = np.asarray(x, np.float64) @ np.asarray(params.w, np.float64) + float(params.b)
    y = np.asarray(y, np.float64)
    y_hat = {
        "sigmoid": 1 / (1 + np.exp(-z)),
        "tanh": np.tanh(z),
        "identity": z,
        "step": (z >= 0).astype(float),
    }[activation]
    if loss == "mse":
        return (y_hat - y) ** 2
    return -y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)


def test_registry():
    assert set(losses.LOSSES) == {"mse", "bce"}
    assert jaxperc.LOSSES is losses.LOSSES


@pytest.mark.parametrize(("loss", "activation"), COMBOS)
def test_cost_is_the_mean_of_the_textbook_per_sample_loss(loss, activation):
    with jax.enable_x64(True):
        params, x, y = problem(dtype=jnp.float64, seed=3)
        got = float(jaxperc.cost(params, x, y, loss=loss, activation=activation))
    expected = reference_losses(params, x, y, loss, activation).mean()
    # float64, moderate z (|z| < 10): a few ulps
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_mse_and_its_derivative():
    y_hat = jnp.asarray([0.0, 0.25, 1.0, -2.0], jnp.float32)
    y = jnp.asarray([1.0, 0.25, 0.0, 1.0], jnp.float32)
    np.testing.assert_array_equal(np.asarray(losses.mse(y_hat, y)), [1, 0, 1, 9])
    auto = jax.vmap(jax.grad(losses.mse))(y_hat, y)
    np.testing.assert_array_equal(
        np.asarray(losses.mse_derivative(y_hat, y)), np.asarray(auto)
    )


def test_bce_from_logits_matches_the_definition_in_float64():
    z = np.linspace(-30, 30, 121)
    y = np.random.default_rng(0).random(121)
    # −y log σ(z) − (1 − y) log(1 − σ(z)), with log σ(z) = −log1p(e^−z) and
    # log(1 − σ(z)) = −log1p(e^z): accurate in numpy for |z| ≤ 30
    expected = y * np.log1p(np.exp(-z)) + (1 - y) * np.log1p(np.exp(z))
    with jax.enable_x64(True):
        got = np.asarray(losses.bce_from_logits(jnp.asarray(z), jnp.asarray(y)))
    # softplus(z) − y·z cancels a little where y ≈ 1 and z ≫ 0: 1e-12 relative
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bce_golden_values_at_zero_and_at_the_extremes():
    for dtype in (jnp.float32, jnp.float64):
        with jax.enable_x64(dtype == jnp.float64):
            z = jnp.asarray([1e9, 1e9, -1e9, -1e9, 0.0], dtype)
            y = jnp.asarray([1.0, 0.0, 1.0, 0.0, 1.0], dtype)
            out = np.asarray(losses.bce_from_logits(z, y))
            # confident and right: 0; confident and wrong: |z|; undecided: log 2
            np.testing.assert_array_equal(out[:4], [0.0, 1e9, 1e9, 0.0])
            np.testing.assert_allclose(out[4], np.log(2.0), rtol=1e-7)
            dz = np.asarray(losses.bce_derivative_z(z, y))
            np.testing.assert_array_equal(dz, [0.0, 1.0, -1.0, 0.0, -0.5])


def test_bce_derivative_is_jax_grad_of_the_loss():
    z = np.linspace(-30, 30, 61)
    y = np.random.default_rng(1).random(61)
    with jax.enable_x64(True):
        manual = np.asarray(losses.bce_derivative_z(jnp.asarray(z), jnp.asarray(y)))
        auto = np.asarray(jax.vmap(jax.grad(losses.bce_from_logits))(z, y))
    # σ(z) − y is computed from quantities ≤ 1: compare to 1e-12 absolute
    np.testing.assert_allclose(manual, auto, rtol=0, atol=1e-12)


@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("logit", [1e9, -1e9, 1e4, -1e4])
def test_cost_and_gradients_finite_for_extreme_logits(loss, logit):
    # float32, z = ±|logit| on every sample, targets on both sides
    x = jnp.asarray([[1.0], [-1.0], [1.0], [-1.0]], jnp.float32)
    y = jnp.asarray([1.0, 0.0, 0.0, 1.0], jnp.float32)
    params = Params(jnp.asarray([logit], jnp.float32), jnp.zeros((), jnp.float32))
    c = jaxperc.cost(params, x, y, loss=loss)
    assert np.isfinite(float(c))
    for grad in (jaxperc.manual_grad, jaxperc.autodiff_grad):
        g = grad(params, x, y, loss=loss)
        assert np.all(np.isfinite(np.asarray(g.w))) and np.isfinite(float(g.b))
    # half the samples are confidently wrong: mse 1/2 exactly; bce |z|/2
    expected = 0.5 if loss == "mse" else abs(logit) / 2
    np.testing.assert_allclose(float(c), expected, rtol=1e-6)


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_weights_of_ones_give_the_plain_mean(loss):
    params, x, y = problem(n=17, seed=5)
    plain = jaxperc.cost(params, x, y, loss=loss)
    weighted = jaxperc.cost(params, x, y, loss=loss, weights=jnp.ones(17))
    # float32: the two means differ only in how 1/n is rounded
    np.testing.assert_allclose(float(weighted), float(plain), rtol=1e-6)


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_a_zero_one_mask_gives_the_mean_over_that_subset(loss):
    params, x, y = problem(n=20, seed=6)
    mask = np.random.default_rng(7).random(20) < 0.4
    mask[0] = True
    idx = np.flatnonzero(mask)
    masked = jaxperc.cost(params, x, y, loss=loss, weights=jnp.asarray(mask, float))
    subset = jaxperc.cost(params, x[idx], y[idx], loss=loss)
    np.testing.assert_allclose(float(masked), float(subset), rtol=1e-6)
    # and the mask really selects: the full mean is a different number
    full = jaxperc.cost(params, x, y, loss=loss)
    assert abs(float(full) - float(subset)) > 1e-4


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_weighted_cost_is_the_weighted_mean_and_scale_free(loss):
    with jax.enable_x64(True):
        params, x, y = problem(n=9, seed=8, dtype=jnp.float64)
        v = np.random.default_rng(9).random(9)
        got = float(jaxperc.cost(params, x, y, loss=loss, weights=jnp.asarray(v)))
        scaled = float(
            jaxperc.cost(params, x, y, loss=loss, weights=jnp.asarray(7.5 * v))
        )
    per_sample = reference_losses(params, x, y, loss, "sigmoid")
    np.testing.assert_allclose(got, np.sum(v * per_sample) / np.sum(v), rtol=1e-13)
    np.testing.assert_allclose(scaled, got, rtol=1e-14)


def test_sample_coefficients():
    c = losses.sample_coefficients(None, 4, jnp.float32)
    np.testing.assert_array_equal(np.asarray(c), np.full(4, 0.25))
    assert c.dtype == jnp.float32
    v = jnp.asarray([1.0, 3.0, 0.0, 4.0])
    np.testing.assert_allclose(
        np.asarray(losses.sample_coefficients(v, 4, None)), v / 8
    )


@pytest.mark.parametrize(
    "fn", [jaxperc.cost, jaxperc.manual_grad, jaxperc.autodiff_grad, jaxperc.delta]
)
def test_column_vector_targets_are_refused_not_broadcast(fn):
    params, x, y = problem(n=6)
    with pytest.raises(jaxperc.JaxpercError, match=r"y must have shape \[n\]"):
        fn(params, x, y[:, None])
    with pytest.raises(jaxperc.JaxpercError, match=r"y must have shape \[n\]"):
        fn(params, x, y[:5])


@pytest.mark.parametrize(
    "fn", [jaxperc.cost, jaxperc.manual_grad, jaxperc.autodiff_grad, jaxperc.delta]
)
def test_mismatched_weights_and_inputs_are_refused(fn):
    params, x, y = problem(n=6)
    for bad in (jnp.ones((6, 1)), jnp.ones(5), jnp.ones(())):
        with pytest.raises(jaxperc.JaxpercError, match="weights must have shape"):
            fn(params, x, y, weights=bad)
    with pytest.raises(jaxperc.JaxpercError, match=r"x must have shape \[n, d\]"):
        fn(params, x[0], y)


@pytest.mark.parametrize(
    "fn", [jaxperc.cost, jaxperc.manual_grad, jaxperc.autodiff_grad, jaxperc.delta]
)
def test_params_that_do_not_match_x_are_refused(fn):
    params, x, y = problem(n=6, d=3)
    bad = [
        Params(jnp.ones(2), params.b),  # d = 2 against x [6, 3]
        Params(jnp.ones((1, 3)), params.b),  # stacked without vmap
        Params(params.w, jnp.zeros(1)),  # b [1] would broadcast silently
    ]
    for p in bad:
        with pytest.raises(jaxperc.JaxpercError, match="params must be w") as err:
            fn(p, x, y)
        assert "\n" not in str(err.value)


def test_float64_weights_keep_float32_params_in_float32():
    with jax.enable_x64(True):
        params, x, y = problem(n=6, dtype=jnp.float32)
        v = np.linspace(0.5, 1.5, 6)  # float64
        assert jaxperc.cost(params, x, y, weights=v).dtype == jnp.float32
        for fn in (jaxperc.manual_grad, jaxperc.autodiff_grad):
            g = fn(params, x, y, weights=v)
            assert g.w.dtype == jnp.float32 and g.b.dtype == jnp.float32


@pytest.mark.parametrize("name", ["mae", "BCE", "", None])
def test_unknown_loss_names_the_allowed_list(name):
    params, x, y = problem(n=3)
    with pytest.raises(jaxperc.JaxpercError, match="choose from 'mse', 'bce'") as err:
        jaxperc.cost(params, x, y, loss=name)
    assert "\n" not in str(err.value)


def test_unknown_activation_is_refused_by_cost():
    params, x, y = problem(n=3)
    with pytest.raises(jaxperc.JaxpercError, match="activation='relu' is not known"):
        jaxperc.cost(params, x, y, activation="relu")


@pytest.mark.parametrize("activation", ["tanh", "identity", "step"])
@pytest.mark.parametrize(
    "fn", [jaxperc.cost, jaxperc.manual_grad, jaxperc.autodiff_grad, jaxperc.delta]
)
def test_bce_needs_sigmoid(fn, activation):
    params, x, y = problem(n=3)
    with pytest.raises(jaxperc.JaxpercError, match="needs activation='sigmoid'"):
        fn(params, x, y, loss="bce", activation=activation)


@pytest.mark.parametrize(("loss", "activation"), COMBOS)
def test_cost_under_jit_and_vmap_over_stacked_params(loss, activation):
    _, x, y = problem(n=10, d=4, seed=11)
    rng = np.random.default_rng(12)
    stacked = Params(
        jnp.asarray(rng.normal(size=(5, 4)), jnp.float32),
        jnp.asarray(rng.normal(size=5), jnp.float32),
    )

    def f(p):
        return jaxperc.cost(p, x, y, loss=loss, activation=activation)

    loop = np.asarray([f(Params(stacked.w[m], stacked.b[m])) for m in range(5)])
    # float32: same operations, possibly fused differently by XLA
    np.testing.assert_allclose(np.asarray(jax.vmap(f)(stacked)), loop, rtol=1e-5)
    np.testing.assert_allclose(
        np.asarray([jax.jit(f)(Params(stacked.w[m], stacked.b[m])) for m in range(5)]),
        loop,
        rtol=1e-5,
    )


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_bce_from_the_sigmoids_values_equals_bce_from_logits(dtype):
    """The compiled loop's one-log form = softplus(z) − y·z at every z, saturated
    ones included: ≤ 8 ulps relative, or ≤ 8 ulps of 1 absolute near 0."""
    with jax.enable_x64(True):
        z = jnp.asarray(
            np.concatenate([[-1e4, -90.0, -30.0], np.linspace(-20, 20, 81)]), dtype
        )
        z = jnp.concatenate([z, -z[:3]])
        eps = float(jnp.finfo(dtype).eps)
        for y in (0.0, 1.0, 0.3):
            target = jnp.full_like(z, y)
            y_hat, slope = activations.sigmoid_with_derivative(z)
            got = losses.LOSSES["bce"].from_values(z, y_hat, slope, target)
            want = losses.bce_from_logits(z, target)
            assert got.dtype == dtype
            np.testing.assert_allclose(
                np.asarray(got), np.asarray(want), rtol=8 * eps, atol=8 * eps
            )


def test_bce_second_derivative_is_jax_grad_of_the_first():
    """∂²l/∂z² = σ'(z) for bce, float64: jax.grad's to rtol 1e-12 where it is
    accurate (|z| ≤ 6), and e^{−|z|}/(1 + e^{−|z|})² when saturated (where
    jax.grad's σ(1 − σ) rounds to 0)."""
    loss = losses.get_loss("bce")
    sigmoid = activations.get_activation("sigmoid")
    with jax.enable_x64(True):
        z = jnp.array([-40.0, -6.0, -0.3, 0.0, 0.7, 6.0, 40.0], dtype=jnp.float64)
        y_hat, slope = sigmoid.with_derivative(z)
        for y in (0.0, 1.0, 0.3):
            got = loss.second_derivative_z(z, y_hat, slope, y)
            second = jax.vmap(
                jax.grad(jax.grad(lambda t, y=y: losses.bce_from_logits(t, y)))
            )(z)
            inner = np.abs(np.asarray(z)) <= 6
            np.testing.assert_allclose(got[inner], second[inner], rtol=1e-12)
            u = np.exp(-np.abs(np.asarray(z)))
            np.testing.assert_allclose(got, u / (1 + u) ** 2, rtol=1e-12)
    assert losses.get_loss("mse").second_derivative_z is None  # not convex in z
