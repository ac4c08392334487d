"""Gradients of the cost: the chain rule written out by hand, and jax.grad beside it.

For the cost ``C = Σᵢ cᵢ l(ŷᵢ, yᵢ)`` with ``cᵢ = 1/n`` (or ``vᵢ / Σ v``),
``zᵢ = xᵢ·w + b`` and ``ŷᵢ = σ(zᵢ)``, the chain rule gives, sample by sample::

    ∂C/∂w_j = Σᵢ cᵢ · ∂lᵢ/∂ŷᵢ · ∂ŷᵢ/∂zᵢ · ∂zᵢ/∂w_j      with ∂zᵢ/∂w_j = x_ij
    ∂C/∂b   = Σᵢ cᵢ · ∂lᵢ/∂ŷᵢ · ∂ŷᵢ/∂zᵢ · ∂zᵢ/∂b        with ∂zᵢ/∂b   = 1

so with δᵢ = ∂C/∂zᵢ the gradient is ``∂C/∂w = xᵀδ`` and ``∂C/∂b = Σᵢ δᵢ``.
For MSE and a sigmoid: ``∂C/∂w_j = (2/n) Σᵢ (ŷᵢ − yᵢ) σ(zᵢ)(1 − σ(zᵢ)) x_ij``.
``docs/derivation.md`` walks through every step.
"""

import jax
import jax.numpy as jnp

from jaxperc.core.activations import get_activation
from jaxperc.core.losses import check_shapes, cost, get_loss, sample_coefficients
from jaxperc.core.model import Params, matmul, pre_activation


def delta(
    params: Params,
    x: jax.Array,
    y: jax.Array,
    *,
    loss: str = "mse",
    activation: str = "sigmoid",
    weights: jax.Array | None = None,
) -> jax.Array:
    """δᵢ = ∂C/∂zᵢ = cᵢ · ∂lᵢ/∂ŷᵢ · ∂ŷᵢ/∂zᵢ for every sample.  → [n]."""
    check_shapes(x, y, weights, params)
    act = get_activation(activation)
    loss_fn = get_loss(loss, activation)
    z = pre_activation(params, x)  # zᵢ = xᵢ·w + b
    y_hat, slope = act.with_derivative(z)  # ŷᵢ and ∂ŷᵢ/∂zᵢ
    dl_dz = loss_fn.derivative_z(z, y_hat, slope, y)  # ∂lᵢ/∂ŷᵢ · ∂ŷᵢ/∂zᵢ
    return sample_coefficients(weights, x.shape[0], z.dtype) * dl_dz  # · ∂C/∂lᵢ


def manual_grad(
    params: Params,
    x: jax.Array,
    y: jax.Array,
    *,
    loss: str = "mse",
    activation: str = "sigmoid",
    weights: jax.Array | None = None,
) -> Params:
    """∂C/∂w and ∂C/∂b by the chain rule, term by term, with no autodiff.

    With δ = ∂C/∂z (see :func:`delta`): ``∂C/∂w = xᵀδ`` (as ∂zᵢ/∂w_j = x_ij) and
    ``∂C/∂b = Σᵢ δᵢ`` (as ∂zᵢ/∂b = 1). With ``activation="step"`` the surrogate
    ∂ŷ/∂z = 1 makes this Rosenblatt's perceptron rule.

    Args:
      params: ``Params(w=[d], b=[])``.
      x: [n, d]; y: [n] targets in [0, 1]; weights: optional [n], non-negative.
      loss, activation: as in :func:`jaxperc.cost`.

    Returns:
      ``Params(w=[d], b=[])`` holding ∂C/∂w and ∂C/∂b.
    """
    d = delta(params, x, y, loss=loss, activation=activation, weights=weights)
    return Params(w=matmul(x.T, d), b=jnp.sum(d))


def autodiff_grad(
    params: Params,
    x: jax.Array,
    y: jax.Array,
    *,
    loss: str = "mse",
    activation: str = "sigmoid",
    weights: jax.Array | None = None,
) -> Params:
    """``jax.grad`` of :func:`jaxperc.cost`: the independent check of manual_grad.

    Same arguments and result as :func:`manual_grad`. With ``activation="step"``
    this is 0 almost everywhere (JAX differentiates the true step).
    """
    return jax.grad(cost)(
        params, x, y, loss=loss, activation=activation, weights=weights
    )


def published_grad(params: Params, x: jax.Array, y: jax.Array) -> Params:
    """The MSE/sigmoid gradient exactly as the popular write-up prints it (wrong).

    ``∂C/∂w_j = (2/n) · sum(y − ŷ) · σ(z)(1 − σ(z)) · x_j`` and the same without
    ``x_j`` for b. Read literally over a data set, the per-sample factors are
    summed over the samples after the error sum, so: ``(2/n) Σᵢ (yᵢ − ŷᵢ) ·
    Σᵢ σ'(zᵢ) x_ij``. The sign is flipped and the sum sits in the wrong place
    (the kept square of its first line is already dropped in this "simplified"
    form). Kept only to show, in tests and docs, that it disagrees with jax.grad.
    """
    n = x.shape[0]
    z = pre_activation(params, x)
    s = jax.nn.sigmoid(z)
    error_sum = (2.0 / n) * jnp.sum(y - s)
    slope = s * (1.0 - s)
    return Params(w=error_sum * matmul(x.T, slope), b=error_sum * jnp.sum(slope))


# gradient name → function: the choices ``grad=`` takes everywhere
GRADS = {"manual": manual_grad, "autodiff": autodiff_grad}
