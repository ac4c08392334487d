"""The perceptron itself: parameters, initialisation and forward propagation.

Forward propagation is ``z = x·w + b`` followed by ``ŷ = σ(z)``. The math is written
for one example ``x: [d]`` and works unchanged on a batch ``x: [n, d]``; many models
at once come from ``jax.vmap`` over :class:`Params`.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxperc.core.activations import get_activation
from jaxperc.errors import JaxpercError, unknown_choice

INITS = ("normal", "uniform", "zeros")

# Every product in jaxperc is true float32 (or float64) arithmetic. A GPU's
# default for float32 is TF32, 10 mantissa bits, which moves a cost by about 1e-3
# relative and makes a run on a GPU disagree with the same run on a CPU; on a CPU
# this setting changes nothing.
MATMUL_PRECISION = jax.lax.Precision.HIGHEST


def matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b`` at :data:`MATMUL_PRECISION`."""
    return jnp.matmul(a, b, precision=MATMUL_PRECISION)


class Params(NamedTuple):
    """Weights and bias of one perceptron (a pytree; stack them for many)."""

    w: jax.Array  # [d] (or [M, d] for M stacked models)
    b: jax.Array  # [] (or [M])


def init_params(
    key: jax.Array,
    n_features: int,
    *,
    init: str = "normal",
    scale: float = 0.01,
    dtype=jnp.float32,
) -> Params:
    """Draw starting parameters.

    Args:
      key: a PRNG key (``jax.random.key(seed)``).
      n_features: d, the number of inputs.
      init: ``"normal"`` (w ~ N(0, scale²), the default), ``"uniform"``
        (w ~ U(−1/√d, 1/√d)) or ``"zeros"``. The bias always starts at 0.
      scale: standard deviation for ``"normal"``.
      dtype: floating dtype of the parameters (float64 needs ``jax_enable_x64``).

    Returns:
      ``Params(w=[d], b=[])``.
    """
    if not isinstance(n_features, int) or n_features < 1:
        raise JaxpercError(f"n_features={n_features!r} must be a positive integer")
    if init == "normal":
        w = scale * jax.random.normal(key, (n_features,), dtype)
    elif init == "uniform":
        bound = 1.0 / n_features**0.5
        w = jax.random.uniform(key, (n_features,), dtype, -bound, bound)
    elif init == "zeros":
        w = jnp.zeros((n_features,), dtype)
    else:
        raise JaxpercError(unknown_choice("init", init, INITS))
    return Params(w=w, b=jnp.zeros((), dtype))


def pre_activation(params: Params, x: jax.Array) -> jax.Array:
    """z = x·w + b.  x: [d] or [n, d] → z: [] or [n]."""
    return matmul(x, params.w) + params.b


def forward(params: Params, x: jax.Array, *, activation: str = "sigmoid") -> jax.Array:
    """Forward propagation ŷ = σ(x·w + b).  x: [d] or [n, d] → ŷ: [] or [n]."""
    return get_activation(activation).fn(pre_activation(params, x))


def predict(params: Params, x: jax.Array, *, activation: str = "sigmoid") -> jax.Array:
    """Class 1 where ŷ ≥ 0.5.  → int32 [n].

    For the step this is z ≥ 0; for the sigmoid too, except just below 0, where
    σ(z) rounds to 0.5 (for −z below about 2e−7 in float32, 3e−16 in float64).
    """
    return (forward(params, x, activation=activation) >= 0.5).astype(jnp.int32)
