"""Activations σ(z) and their hand-written derivatives ∂ŷ/∂z.

Three layers: golden values at 0 and at the extremes, the hand-written derivative
against ``jax.grad`` of the function (float64, tight), and the behaviour that
training relies on (no NaN or inf anywhere, dtype kept, jit/vmap unchanged).
"""

import decimal

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxperc
from jaxperc.core import activations

DIFFERENTIABLE = [n for n, a in activations.ACTIVATIONS.items() if a.differentiable]
# z from deep saturation through 0, float64-exact grid points
Z_GRID = np.concatenate([[-1e4, -1e3, -40.0, -30.0], np.linspace(-12, 12, 49)])
Z_GRID = np.concatenate([Z_GRID, [30.0, 40.0, 1e3, 1e4]])


def test_registry_names_and_flags():
    assert set(activations.ACTIVATIONS) == {"sigmoid", "step", "tanh", "identity"}
    assert DIFFERENTIABLE == ["sigmoid", "tanh", "identity"]
    assert jaxperc.ACTIVATIONS is activations.ACTIVATIONS
    for name, act in activations.ACTIVATIONS.items():
        assert act.name == name
        assert jaxperc.get_activation(name) is act


@pytest.mark.parametrize("name", ["relu", "Sigmoid", "", None, 3])
def test_unknown_activation_names_the_allowed_list(name):
    with pytest.raises(jaxperc.JaxpercError, match="choose from") as err:
        jaxperc.get_activation(name)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"activation={name!r} is not known")
    assert message.endswith("choose from 'sigmoid', 'step', 'tanh', 'identity'")
    if name == "Sigmoid":
        assert "did you mean 'sigmoid'?" in message


def test_sigmoid_golden_values():
    # exact in binary floating point: σ(0) = 1/2, σ'(0) = 1/4
    for dtype in (jnp.float32, jnp.float16):
        zero = jnp.zeros((), dtype)
        assert activations.sigmoid(zero) == 0.5
        assert activations.sigmoid_derivative(zero) == 0.25
        assert activations.sigmoid(zero).dtype == dtype


def test_sigmoid_matches_its_definition_in_float64():
    z = np.linspace(-30, 30, 121)
    expected = 1.0 / (1.0 + np.exp(-z))
    with jax.enable_x64(True):
        got = np.asarray(activations.sigmoid(jnp.asarray(z)))
    # rtol 1e-14: a few ulps of float64 against the textbook formula
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_sigmoid_and_derivative_stay_finite_at_the_extremes(dtype):
    with jax.enable_x64(dtype == jnp.float64):
        z = jnp.asarray([-1e4, -1e3, -100.0, 100.0, 1e3, 1e4], dtype)
        s = activations.sigmoid(z)
        ds = activations.sigmoid_derivative(z)
        assert s.dtype == dtype and ds.dtype == dtype
        assert bool(jnp.all(jnp.isfinite(s))) and bool(jnp.all(jnp.isfinite(ds)))
        assert bool(jnp.all((s >= 0) & (s <= 1))) and bool(jnp.all(ds >= 0))
        # beyond e^−|z| underflow (|z| ≥ 1e3 in both dtypes): exactly 0 or 1, and
        # the slope exactly 0, never NaN
        far = np.abs(np.asarray(z)) >= 1e3
        np.testing.assert_array_equal(np.asarray(s)[far], [0, 0, 1, 1])
        np.testing.assert_array_equal(np.asarray(ds)[far], np.zeros(4))


def test_sigmoid_symmetry():
    z = jnp.asarray(np.random.default_rng(0).normal(scale=5, size=200), jnp.float32)
    # σ(z) + σ(−z) = 1, to float32 rounding of numbers ≤ 1
    np.testing.assert_allclose(
        np.asarray(activations.sigmoid(z) + activations.sigmoid(-z)),
        1.0,
        rtol=0,
        atol=2e-7,
    )


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_hand_written_derivative_equals_jax_grad_in_float64(name):
    act = jaxperc.get_activation(name)
    with jax.enable_x64(True):
        z = jnp.asarray(Z_GRID)
        manual = np.asarray(act.derivative(z))
        auto = np.asarray(jax.vmap(jax.grad(act.fn))(z))
    # per entry: 1e-12 relative, with an absolute floor of 4 ulps of 1, because
    # both evaluate the slope from the rounded σ(z) (|∂ŷ/∂z| ≤ 1 for all three)
    np.testing.assert_allclose(manual, auto, rtol=1e-12, atol=4 * 2.0**-52)
    assert np.all(np.isfinite(manual))


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_hand_written_derivative_equals_central_difference(name):
    # independent of JAX's autodiff: (σ(z + h) − σ(z − h)) / 2h, float64
    act = jaxperc.get_activation(name)
    z = np.linspace(-6, 6, 25)
    h = 1e-6
    with jax.enable_x64(True):
        fd = (np.asarray(act.fn(jnp.asarray(z + h))) - np.asarray(act.fn(z - h))) / (
            2 * h
        )
        manual = np.asarray(act.derivative(jnp.asarray(z)))
    # truncation O(h²) ≈ 1e-12 plus rounding ε/h ≈ 2e-10
    np.testing.assert_allclose(manual, fd, rtol=0, atol=1e-9)


def test_tanh_and_identity_values():
    z = np.linspace(-5, 5, 41)
    with jax.enable_x64(True):
        np.testing.assert_allclose(
            np.asarray(activations.tanh(jnp.asarray(z))), np.tanh(z), rtol=1e-15
        )
        np.testing.assert_array_equal(np.asarray(activations.identity(z)), z)
        np.testing.assert_array_equal(
            np.asarray(activations.identity_derivative(jnp.asarray(z))), np.ones(41)
        )


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_step_values_and_dtype(dtype):
    with jax.enable_x64(dtype == jnp.float64):
        z = jnp.asarray([-1e9, -1.0, -1e-30, 0.0, -0.0, 1e-30, 2.0, 1e9], dtype)
        out = activations.step(z)
        assert out.dtype == dtype
        # 1 where z ≥ 0 (−0 ≥ 0 too), else 0
        np.testing.assert_array_equal(np.asarray(out), [0, 0, 0, 1, 1, 1, 1, 1])


def test_step_surrogate_is_one_and_true_derivative_is_zero():
    z = jnp.asarray([-3.0, -0.5, 0.5, 3.0], jnp.float32)
    np.testing.assert_array_equal(
        np.asarray(activations.step_surrogate_derivative(z)), np.ones(4)
    )
    # JAX differentiates the true step: zero away from 0 (and at 0, by convention)
    np.testing.assert_array_equal(
        np.asarray(jax.vmap(jax.grad(activations.step))(z)), np.zeros(4)
    )
    assert not jaxperc.get_activation("step").differentiable


@pytest.mark.parametrize("name", list(activations.ACTIVATIONS))
def test_elementwise_under_jit_and_vmap(name):
    act = jaxperc.get_activation(name)
    z = jnp.asarray(np.random.default_rng(1).normal(scale=4, size=(5, 7)), jnp.float32)
    # float32; XLA may fuse tanh into a kernel that rounds differently, so values
    # agree to a few ulps of 1 (atol 1e-6) rather than bitwise
    tol = {"rtol": 1e-6, "atol": 1e-6}
    for fn in (act.fn, act.derivative):
        plain = np.asarray(fn(z))
        assert plain.shape == (5, 7)
        np.testing.assert_allclose(np.asarray(jax.jit(fn)(z)), plain, **tol)
        np.testing.assert_allclose(np.asarray(jax.vmap(fn)(z)), plain, **tol)
        # elementwise: each entry depends on its own z only
        np.testing.assert_allclose(np.asarray(fn(z[2, 3])), plain[2, 3], **tol)


def _exact_derivative(name: str, z: float) -> float:
    """∂σ/∂z or ∂tanh/∂z at z to 50 digits (decimal), as a float."""
    ctx = decimal.Context(prec=50)
    d = ctx.create_decimal_from_float(z)
    if name == "sigmoid":
        u = ctx.exp(-abs(d))
        return float(u / (1 + u) ** 2)
    u = ctx.exp(-2 * abs(d))
    return float(4 * u / (1 + u) ** 2)


SATURATED = [
    -700.0,
    -40.0,
    -18.0,
    -10.0,
    -3.0,
    -0.5,
    0.0,
    1e-8,
    0.5,
    3.0,
    10.0,
    18.0,
    40.0,
]


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_derivatives_are_exact_at_saturation_in_float64(name):
    """≤ 1e-12 relative to a 50-digit reference for every z, saturated ones included.

    ``jax.grad`` is not the oracle here: on a CPU its own tanh/sigmoid derivative
    loses digits as |z| grows (3.6e-8 relative at z = 10 for tanh), so the
    reference is exact arithmetic.
    """
    with jax.enable_x64(True):
        act = jaxperc.get_activation(name)
        z = np.array(SATURATED)
        got = np.asarray(jax.jit(act.derivative)(z))
        want = np.array([_exact_derivative(name, v) for v in SATURATED])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_derivatives_match_jax_grad_where_it_is_accurate(name):
    """float64, |z| ≤ 3 (where jax.grad's own value is good): ≤ 1e-13 relative."""
    with jax.enable_x64(True):
        act = jaxperc.get_activation(name)
        z = np.linspace(-3, 3, 61)
        auto = np.asarray(jax.vmap(jax.grad(act.fn))(z))
        np.testing.assert_allclose(act.derivative(z), auto, rtol=1e-13)


def _exact_sigmoid(z: float) -> float:
    """σ(z) to 50 digits (decimal), as a float."""
    ctx = decimal.Context(prec=50)
    return float(1 / (1 + ctx.exp(-ctx.create_decimal_from_float(z))))


def test_sigmoid_with_derivative_is_exact_in_float64():
    """The one-exponential pair: both values ≤ 1e-12 relative to 50 digits."""
    with jax.enable_x64(True):
        value, slope = jax.jit(activations.sigmoid_with_derivative)(np.array(SATURATED))
        want_value = np.array([_exact_sigmoid(v) for v in SATURATED])
        want_slope = np.array([_exact_derivative("sigmoid", v) for v in SATURATED])
        np.testing.assert_allclose(np.asarray(value), want_value, rtol=1e-12, atol=0)
        np.testing.assert_allclose(np.asarray(slope), want_slope, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_with_derivative_equals_the_two_functions_apart(name, dtype):
    """(fn, derivative) together = apart, to 4 ulps, saturated z included."""
    with jax.enable_x64(True):
        act = activations.ACTIVATIONS[name]
        z = jnp.asarray(Z_GRID, dtype)
        value, slope = act.with_derivative(z)
        assert value.dtype == slope.dtype == dtype
        tol = dict(rtol=4 * float(jnp.finfo(dtype).eps), atol=0)
        np.testing.assert_allclose(np.asarray(value), np.asarray(act.fn(z)), **tol)
        np.testing.assert_allclose(
            np.asarray(slope), np.asarray(act.derivative(z)), **tol
        )
