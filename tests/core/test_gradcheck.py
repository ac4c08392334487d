"""``jaxperc.gradient_check``: passes on the real gradient, fails on wrong ones."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxperc
from jaxperc.core import grads

COMBOS = [("mse", "sigmoid"), ("mse", "tanh"), ("mse", "identity"), ("bce", "sigmoid")]
DTYPES = [jnp.float32, jnp.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("loss", "activation"), COMBOS)
def test_passes_on_random_problems(loss, activation, dtype):
    with jax.enable_x64(dtype == jnp.float64):
        for seed in range(2):
            params, x, y = jaxperc.random_problem(40, 6, seed=seed, dtype=dtype)
            weights = None if seed == 0 else jnp.linspace(0.1, 2.0, 40, dtype=dtype)
            report = jaxperc.gradient_check(
                params, x, y, loss=loss, activation=activation, weights=weights
            )
            assert report.ok, report
            assert report.dtype == jnp.dtype(dtype).name
            assert report.rtol == {jnp.float32: 1e-5, jnp.float64: 1e-10}[dtype]
            assert np.isfinite(report.max_rel_diff)


def test_random_problem_shapes_and_dtype():
    params, x, y = jaxperc.random_problem(9, 4, seed=3)
    assert params.w.shape == (4,) and params.b.shape == ()
    assert x.shape == (9, 4) and y.shape == (9,)
    assert x.dtype == jnp.float32
    assert bool(jnp.all((y >= 0) & (y <= 1)))
    again = jaxperc.random_problem(9, 4, seed=3)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(again[1]))


@pytest.mark.parametrize(("n", "d"), [(0, 3), (3, 0)])
def test_random_problem_refuses_empty_shapes(n, d):
    with pytest.raises(jaxperc.JaxpercError, match="n_samples ≥ 1"):
        jaxperc.random_problem(n, d)


def test_step_is_refused():
    params, x, y = jaxperc.random_problem(5, 2)
    with pytest.raises(jaxperc.JaxpercError, match="activation='step'"):
        jaxperc.gradient_check(params, x, y, activation="step")


def _sign_flipped(real):
    def wrong(*args, **kwargs):
        return jax.tree.map(jnp.negative, real(*args, **kwargs))

    return wrong


def _published(real):
    def wrong(params, x, y, **kwargs):
        return grads.published_grad(params, x, y)

    return wrong


def _missing_slope(real):
    # the chain rule without ∂ŷ/∂z: (2/n) Σ (ŷ − y) x
    def wrong(params, x, y, *, loss="mse", activation="sigmoid", weights=None):
        y_hat = jaxperc.forward(params, x, activation=activation)
        err = 2.0 * (y_hat - y) / x.shape[0]
        return jaxperc.Params(w=x.T @ err, b=jnp.sum(err))

    return wrong


def _slightly_off(real):
    # a 0.1 % error: ≫ float32 rounding, so the check must notice it
    def wrong(*args, **kwargs):
        return jax.tree.map(lambda g: g * 1.001, real(*args, **kwargs))

    return wrong


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make_wrong", [_sign_flipped, _published, _missing_slope, _slightly_off]
)
def test_fails_when_manual_grad_is_wrong(monkeypatch, make_wrong, dtype):
    with jax.enable_x64(dtype == jnp.float64):
        params, x, y = jaxperc.random_problem(32, 5, seed=1, dtype=dtype)
        assert jaxperc.gradient_check(params, x, y).ok  # before the patch
        monkeypatch.setattr(grads, "manual_grad", make_wrong(grads.manual_grad))
        report = jaxperc.gradient_check(params, x, y)
    assert not report.ok
    assert report.max_rel_diff > report.rtol
    assert report.max_abs_diff > report.atol


def test_explicit_tolerances_are_used(monkeypatch):
    params, x, y = jaxperc.random_problem(16, 3, seed=2)
    monkeypatch.setattr(grads, "manual_grad", _slightly_off(grads.manual_grad))
    # a 0.1 % error passes a 1 % tolerance and fails a 0.01 % one
    assert jaxperc.gradient_check(params, x, y, rtol=1e-2).ok
    assert not jaxperc.gradient_check(params, x, y, rtol=1e-4).ok


def test_non_finite_manual_gradient_fails(monkeypatch):
    params, x, y = jaxperc.random_problem(8, 2)

    def nan_grad(*args, **kwargs):
        return jax.tree.map(lambda g: g * jnp.nan, grads.autodiff_grad(*args, **kwargs))

    monkeypatch.setattr(grads, "manual_grad", nan_grad)
    assert not jaxperc.gradient_check(params, x, y, rtol=1.0).ok


def test_a_saturated_model_whose_gradient_is_rounding_noise_passes():
    """bce at z = 30, y = 1: the gradient is ~1e-13 and both sides round (float64)."""
    with jax.enable_x64(True):
        params = jaxperc.Params(jnp.array([30.0]), jnp.array(0.0))
        x, y = jnp.ones((1, 1)), jnp.ones(1)
        report = jaxperc.gradient_check(params, x, y, loss="bce")
        assert report.ok, report
        assert report.max_abs_diff <= report.atol < 1e-13
