"""Per-sample losses, their hand-written derivatives, and the cost over a data set.

The cost is the (optionally weighted) mean of the per-sample loss:
``C = Σᵢ vᵢ lᵢ / Σᵢ vᵢ`` with ``vᵢ = 1`` by default, so ``C = (1/n) Σᵢ lᵢ``.
Sample weights let folds and bootstrap resamples share one ``x``.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxperc.core.activations import get_activation
from jaxperc.core.model import Params, pre_activation
from jaxperc.errors import JaxpercError, unknown_choice


def mse(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """Squared error lᵢ = (ŷᵢ − yᵢ)², elementwise."""
    return (y_hat - y) ** 2


def mse_derivative(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """∂lᵢ/∂ŷᵢ = 2(ŷᵢ − yᵢ): the square is gone after differentiating."""
    return 2.0 * (y_hat - y)


def bce_from_logits(z: jax.Array, y: jax.Array) -> jax.Array:
    """Binary cross-entropy from z: −y log σ(z) − (1 − y) log(1 − σ(z)).

    Written as ``softplus(z) − y·z`` (log-sigmoid form), which is finite for any
    finite z, where ``log σ(z)`` evaluated from a rounded σ would give −inf.
    """
    return jax.nn.softplus(z) - y * z


def bce_derivative_z(z: jax.Array, y: jax.Array) -> jax.Array:
    """∂lᵢ/∂zᵢ = σ(zᵢ) − yᵢ for the cross-entropy with a sigmoid.

    The chain-rule factors ∂l/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ)) and ∂ŷ/∂z = ŷ(1 − ŷ) cancel
    exactly; multiplying them numerically would give 0/0 where σ saturates.
    """
    return jax.nn.sigmoid(z) - y


class Loss(NamedTuple):
    """A per-sample loss l(z, ŷ, y) and its chain-rule factor ∂l/∂z."""

    name: str
    per_sample: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
    # ∂lᵢ/∂zᵢ given (z, ŷ, ∂ŷ/∂z, y): the activation's values are computed once
    derivative_z: Callable[..., jax.Array]
    # lᵢ given (z, ŷ, ∂ŷ/∂z, y), the values the hand-derived gradient has at
    # hand: the compiled loop's form (not differentiated, unlike per_sample)
    from_values: Callable[..., jax.Array]
    # ∂²lᵢ/∂zᵢ² given (z, ŷ, ∂ŷ/∂z, y), or None: Newton's method needs it, and
    # only where it is ≥ 0 for every z (a convex loss in z)
    second_derivative_z: Callable[..., jax.Array] | None = None


def _mse_per_sample(z, y_hat, y):
    return mse(y_hat, y)


def _mse_from_values(z, y_hat, slope, y):
    return mse(y_hat, y)


def _mse_derivative_z(z, y_hat, slope, y):
    # ∂l/∂z = ∂l/∂ŷ · ∂ŷ/∂z
    return mse_derivative(y_hat, y) * slope


def _bce_per_sample(z, y_hat, y):
    return bce_from_logits(z, y)


def _bce_from_values(z, y_hat, slope, y):
    """:func:`bce_from_logits` from σ's value and slope: one log, no exp.

    With a = σ(−|z|) ≤ 1/2, softplus(z) = max(z, 0) − log1p(−a). The larger of ŷ
    and 1 − ŷ is u = 1 − a (rounded), and a = slope / u (the slope is a(1 − a)):
    a quotient of two accurate values. log1p(−a) is then log(u) − ((u − 1) + a)/u,
    whose second term restores what rounding 1 − a lost (it is −a where u
    rounds to 1); XLA's CPU log1p measured twice the cost of log plus a
    division. This stays within a few ulps of :func:`bce_from_logits` at every
    z, saturated ones included.
    """
    u = jnp.maximum(y_hat, 1.0 - y_hat)
    inverse = 1.0 / u
    a = slope * inverse
    log1p_minus_a = jnp.log(u) - ((u - 1.0) + a) * inverse
    return jnp.maximum(z, 0.0) - log1p_minus_a - y * z


def _bce_derivative_z(z, y_hat, slope, y):
    # bce_derivative_z(z, y) with the σ(z) already at hand (bce implies sigmoid)
    return y_hat - y


def _bce_second_derivative_z(z, y_hat, slope, y):
    # ∂/∂z (σ(z) − y) = σ'(z): the slope the activation already gave; > 0, so the
    # cost is convex in (w, b) and Newton's step a descent direction
    return slope


LOSSES: dict[str, Loss] = {
    # mse's ∂²l/∂z² = 2(σ'² + (σ − y)σ'') changes sign: no Newton step for it
    "mse": Loss("mse", _mse_per_sample, _mse_derivative_z, _mse_from_values),
    "bce": Loss(
        "bce",
        _bce_per_sample,
        _bce_derivative_z,
        _bce_from_values,
        _bce_second_derivative_z,
    ),
}


def get_loss(name: str, activation: str = "sigmoid") -> Loss:
    """Look up a loss and check it suits the activation (bce needs sigmoid)."""
    try:
        loss = LOSSES[name]
    except (KeyError, TypeError):
        raise JaxpercError(unknown_choice("loss", name, LOSSES)) from None
    get_activation(activation)
    if name == "bce" and activation != "sigmoid":
        raise JaxpercError(
            f"loss='bce' needs activation='sigmoid' (got {activation!r}): "
            "cross-entropy reads ŷ as a probability; use loss='mse' for other "
            "activations"
        )
    return loss


def check_shapes(
    x: jax.Array,
    y: jax.Array,
    weights: jax.Array | None,
    params: Params | None = None,
) -> None:
    """Refuse mismatched shapes instead of broadcasting [n] against [n, 1]."""
    if x.ndim != 2:
        raise JaxpercError(f"x must have shape [n, d], got {tuple(x.shape)}")
    if params is not None:
        w_shape, b_shape = jnp.shape(params.w), jnp.shape(params.b)
        if w_shape != (x.shape[1],) or b_shape != ():
            raise JaxpercError(
                f"params must be w [d] = ({x.shape[1]},) and b [] to match x "
                f"{tuple(x.shape)}, got w {w_shape} and b {b_shape}; "
                "jax.vmap over stacked models"
            )
    n = x.shape[0]
    if y.shape != (n,):
        raise JaxpercError(
            f"y must have shape [n] = ({n},) to match x {tuple(x.shape)}, "
            f"got {tuple(y.shape)}; flatten a column vector with y.ravel()"
        )
    if weights is not None and weights.shape != (n,):
        raise JaxpercError(
            f"weights must have shape [n] = ({n},), got {tuple(weights.shape)}"
        )


def sample_coefficients(weights: jax.Array | None, n: int, dtype) -> jax.Array:
    """∂C/∂lᵢ: 1/n for the plain mean, vᵢ / Σ v for the weighted mean.  → [n]."""
    if weights is None:
        return jnp.full((n,), 1.0 / n, dtype)
    weights = jnp.asarray(weights, dtype)  # float64 weights keep a float32 cost
    return weights / jnp.sum(weights)


def cost(
    params: Params,
    x: jax.Array,
    y: jax.Array,
    *,
    loss: str = "mse",
    activation: str = "sigmoid",
    weights: jax.Array | None = None,
) -> jax.Array:
    """Cost C = mean of the per-sample loss over the data set.

    Args:
      params: ``Params(w=[d], b=[])``.
      x: inputs, [n, d].
      y: targets in [0, 1], [n].
      loss: ``"mse"`` (default) or ``"bce"`` (needs ``activation="sigmoid"``).
      activation: ``"sigmoid"`` (default), ``"step"``, ``"tanh"`` or ``"identity"``.
      weights: optional non-negative per-sample weights [n]; the cost is then
        the weighted mean Σ vᵢ lᵢ / Σ vᵢ.

    Returns:
      The scalar cost.
    """
    check_shapes(x, y, weights, params)
    act = get_activation(activation)
    per_sample = get_loss(loss, activation).per_sample
    z = pre_activation(params, x)
    losses = per_sample(z, act.fn(z), y)
    return jnp.sum(sample_coefficients(weights, x.shape[0], losses.dtype) * losses)
