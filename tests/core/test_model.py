"""Parameters, initialisation and forward propagation ŷ = σ(x·w + b)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxperc
from jaxperc.core.grads import manual_grad
from jaxperc.core.model import INITS, Params, forward, pre_activation

ACTIVATIONS = list(jaxperc.ACTIVATIONS)


def data(n=8, d=3, seed=0):
    rng = np.random.default_rng(seed)
    params = Params(
        jnp.asarray(rng.normal(size=d), jnp.float32),
        jnp.asarray(rng.normal(), jnp.float32),
    )
    return params, jnp.asarray(rng.normal(size=(n, d)), jnp.float32)


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_init_shapes_dtype_and_zero_bias(init, dtype):
    with jax.enable_x64(dtype == jnp.float64):
        p = jaxperc.init_params(jax.random.key(0), 5, init=init, dtype=dtype)
        assert isinstance(p, Params)
        assert p.w.shape == (5,) and p.b.shape == ()
        assert p.w.dtype == dtype and p.b.dtype == dtype
        assert float(p.b) == 0.0


def test_init_distributions():
    d = 20_000
    normal = np.asarray(
        jaxperc.init_params(jax.random.key(1), d, init="normal", scale=0.3).w
    )
    # sample std of 20k draws: within 3% of 0.3 (its standard error is 0.5%)
    assert abs(normal.std() / 0.3 - 1) < 0.03
    assert abs(normal.mean()) < 0.3 * 0.03
    uniform = np.asarray(jaxperc.init_params(jax.random.key(2), d, init="uniform").w)
    bound = 1 / np.sqrt(d)
    assert np.all(np.abs(uniform) <= bound)
    assert uniform.max() > 0.99 * bound and uniform.min() < -0.99 * bound
    zeros = jaxperc.init_params(jax.random.key(3), 4, init="zeros")
    np.testing.assert_array_equal(np.asarray(zeros.w), np.zeros(4))


def test_init_is_a_pure_function_of_the_key():
    a = jaxperc.init_params(jax.random.key(7), 6)
    b = jaxperc.init_params(jax.random.key(7), 6)
    c = jaxperc.init_params(jax.random.key(8), 6)
    np.testing.assert_array_equal(np.asarray(a.w), np.asarray(b.w))
    assert not np.array_equal(np.asarray(a.w), np.asarray(c.w))


@pytest.mark.parametrize("init", INITS)
def test_init_vmapped_over_keys_equals_a_loop(init):
    keys = jax.random.split(jax.random.key(4), 6)

    def one(k):
        return jaxperc.init_params(k, 3, init=init, scale=0.5)

    stacked = jax.vmap(one)(keys)
    assert stacked.w.shape == (6, 3) and stacked.b.shape == (6,)
    for m in range(6):
        single = one(keys[m])
        np.testing.assert_array_equal(np.asarray(stacked.w[m]), np.asarray(single.w))
        np.testing.assert_array_equal(np.asarray(stacked.b[m]), np.asarray(single.b))
    jitted = jax.jit(one)(keys[2])
    np.testing.assert_array_equal(np.asarray(jitted.w), np.asarray(one(keys[2]).w))


@pytest.mark.parametrize("n_features", [0, -1, 2.0, "3", None])
def test_init_refuses_a_bad_feature_count(n_features):
    with pytest.raises(jaxperc.JaxpercError, match="must be a positive integer"):
        jaxperc.init_params(jax.random.key(0), n_features)


def test_init_unknown_name_lists_the_allowed_ones():
    with pytest.raises(jaxperc.JaxpercError, match="choose from") as err:
        jaxperc.init_params(jax.random.key(0), 3, init="glorot")
    for name in INITS:
        assert repr(name) in str(err.value)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_is_sigma_of_x_dot_w_plus_b(activation):
    with jax.enable_x64(True):
        params, x = data()
        params = Params(params.w.astype(jnp.float64), params.b.astype(jnp.float64))
        x = x.astype(jnp.float64)
        y_hat = np.asarray(jaxperc.forward(params, x, activation=activation))
    z = np.asarray(x) @ np.asarray(params.w) + float(params.b)
    expected = {
        "sigmoid": 1 / (1 + np.exp(-z)),
        "tanh": np.tanh(z),
        "identity": z,
        "step": (z >= 0).astype(float),
    }[activation]
    assert y_hat.shape == (8,)
    np.testing.assert_allclose(y_hat, expected, rtol=1e-14, atol=1e-15)


def test_pre_activation_shapes():
    params, x = data(n=5, d=4)
    assert pre_activation(params, x).shape == (5,)
    assert pre_activation(params, x[0]).shape == ()


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_batch_equals_single_examples_vmap_and_jit(activation):
    params, x = data(n=6, d=3, seed=1)

    def f(p, xs):
        return jaxperc.forward(p, xs, activation=activation)

    batch = np.asarray(f(params, x))
    singles = np.asarray([f(params, x[i]) for i in range(6)])
    # float32; a matrix-vector product vs dot products: a few ulps
    np.testing.assert_allclose(batch, singles, rtol=1e-6, atol=1e-6)
    per_example = jax.vmap(f, in_axes=(None, 0))(params, x)
    np.testing.assert_allclose(np.asarray(per_example), batch, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(jax.jit(f)(params, x)), batch, rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_vmapped_over_stacked_params_equals_a_loop(activation):
    _, x = data(n=7, d=3, seed=2)
    keys = jax.random.split(jax.random.key(5), 4)
    stacked = jax.vmap(lambda k: jaxperc.init_params(k, 3, scale=1.0))(keys)

    def f(p):
        return jaxperc.forward(p, x, activation=activation)

    out = np.asarray(jax.vmap(f)(stacked))
    assert out.shape == (4, 7)
    for m in range(4):
        one = np.asarray(f(Params(stacked.w[m], stacked.b[m])))
        np.testing.assert_allclose(out[m], one, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_predict_thresholds_y_hat_at_one_half(activation):
    params, x = data(n=50, d=3, seed=3)
    labels = np.asarray(jaxperc.predict(params, x, activation=activation))
    y_hat = np.asarray(jaxperc.forward(params, x, activation=activation))
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, (y_hat >= 0.5).astype(np.int32))
    assert set(np.unique(labels)) <= {0, 1}


@pytest.mark.parametrize("activation", ["sigmoid", "step"])
def test_predict_for_sigmoid_and_step_is_the_sign_of_z(activation):
    params, x = data(n=50, d=3, seed=4)
    z = np.asarray(pre_activation(params, x))
    clear = np.abs(z) > 1e-3  # away from the boundary, where float32 rounds σ to 1/2
    assert clear.sum() > 40
    labels = np.asarray(jaxperc.predict(params, x, activation=activation))
    np.testing.assert_array_equal(labels[clear], (z[clear] >= 0).astype(np.int32))


def test_forward_and_manual_grad_ask_for_full_precision_products():
    # TF32 (a GPU's float32 default) would move results by ~1e-3 relative
    p = Params(jnp.ones(3), jnp.zeros(()))
    x, y = jnp.ones((5, 3)), jnp.ones(5)
    for fn in (lambda: forward(p, x), lambda: manual_grad(p, x, y)):
        eqns = [
            e for e in jax.make_jaxpr(fn)().eqns if e.primitive.name == "dot_general"
        ]
        assert eqns
        for e in eqns:
            assert e.params["precision"] == (
                jax.lax.Precision.HIGHEST,
                jax.lax.Precision.HIGHEST,
            )
