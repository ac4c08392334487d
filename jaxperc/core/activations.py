"""Activation functions ŷ = σ(z) and their derivatives ∂ŷ/∂z, each written by hand.

Every function is elementwise, works on any shape, and is safe under ``jax.jit`` and
``jax.vmap``. The derivatives are the chain-rule factor ``∂ŷ/∂z`` used by
:func:`jaxperc.grads.manual_grad`; none of them calls JAX's autodiff.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxperc.errors import JaxpercError, unknown_choice


def sigmoid(z: jax.Array) -> jax.Array:
    """Logistic function σ(z) = 1 / (1 + e^(−z)), stable for any finite z.

    ``jax.nn.sigmoid`` evaluates it as ``lax.logistic``, which never forms
    ``e^(−z)`` for large negative z, so σ(±1e4) is exactly 0 or 1 in float32.
    """
    return jax.nn.sigmoid(z)


def sigmoid_derivative(z: jax.Array) -> jax.Array:
    """∂σ/∂z = σ(z)(1 − σ(z)), computed as u / (1 + u)² with u = e^(−|z|).

    The textbook form σ(1 − σ) subtracts two nearly equal numbers once σ(z) is
    close to 1 (3.6e-8 relative error at z = 20 in float64, 1e-3 at z = 30); the
    form in u has no subtraction, never overflows, and is accurate to a few ulps
    for every z (it underflows to 0 only where the true value does).
    """
    u = jnp.exp(-jnp.abs(z))
    return u / jnp.square(1.0 + u)


def sigmoid_with_derivative(z: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(σ(z), ∂σ/∂z) from one value a = σ(−|z|) ≤ 1/2.

    σ(z) = 1 − a for z ≥ 0 (else a) and ∂σ/∂z = a(1 − a): as a ≤ 1/2, neither
    subtraction cancels, so both are a few ulps from the exact values at every z,
    like :func:`sigmoid` and :func:`sigmoid_derivative`. A compiled pass stores
    the one array a and forms ŷ and ∂ŷ/∂z where they are used (measured faster
    than storing e^(−|z|) and 1/(1 + e^(−|z|)), or recomputing σ(−z)).
    """
    signed = jnp.copysign(sigmoid(-jnp.abs(z)), z)  # ±a: the sign of z rides along
    a = jnp.abs(signed)
    # the sign bit, not signed >= 0: a underflows to ∓0 where z ≪ 0 or z ≫ 0
    return jnp.where(jnp.signbit(signed), a, 1.0 - a), a * (1.0 - a)


def step(z: jax.Array) -> jax.Array:
    """Rosenblatt's binary step: 1 where z ≥ 0, else 0 (in z's dtype)."""
    return jnp.where(z >= 0, 1.0, 0.0).astype(z.dtype)


def step_surrogate_derivative(z: jax.Array) -> jax.Array:
    """Surrogate ∂ŷ/∂z = 1 for the step function.

    The true derivative is 0 almost everywhere, which would never move the weights.
    Taking 1 instead turns gradient descent on the squared error into Rosenblatt's
    perceptron rule ``w ← w + α (y − ŷ) x`` (up to the constant 2/n of the mean).
    """
    return jnp.ones_like(z)


def tanh(z: jax.Array) -> jax.Array:
    """Hyperbolic tangent, range (−1, 1)."""
    return jnp.tanh(z)


def tanh_derivative(z: jax.Array) -> jax.Array:
    """∂tanh/∂z = 1 − tanh(z)² = sech²(z), computed as 4u / (1 + u)², u = e^(−2|z|).

    ``1 − t²`` cancels as |z| grows (2.5e-8 relative error at z = 10 in float64,
    and all digits by z = 18); this form has no subtraction and stays within a
    few ulps of the exact value for every z.
    """
    u = jnp.exp(-2.0 * jnp.abs(z))
    return 4.0 * u / jnp.square(1.0 + u)


def identity(z: jax.Array) -> jax.Array:
    """ŷ = z: with the squared error this is linear regression (ADALINE)."""
    return z


def identity_derivative(z: jax.Array) -> jax.Array:
    """∂z/∂z = 1."""
    return jnp.ones_like(z)


class Activation(NamedTuple):
    """An activation σ with its hand-written derivative ∂ŷ/∂z."""

    name: str
    fn: Callable[[jax.Array], jax.Array]
    derivative: Callable[[jax.Array], jax.Array]
    differentiable: bool  # False: derivative is a surrogate, jax.grad differs
    # z → (ŷ, ∂ŷ/∂z) together, sharing work where the two have some in common
    with_derivative: Callable[[jax.Array], tuple[jax.Array, jax.Array]]


def _apart(fn, derivative):
    """``with_derivative`` for an activation whose two parts share nothing."""
    return lambda z: (fn(z), derivative(z))


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid", sigmoid, sigmoid_derivative, True, sigmoid_with_derivative
    ),
    "step": Activation(
        "step",
        step,
        step_surrogate_derivative,
        False,
        _apart(step, step_surrogate_derivative),
    ),
    "tanh": Activation(
        "tanh", tanh, tanh_derivative, True, _apart(tanh, tanh_derivative)
    ),
    "identity": Activation(
        "identity",
        identity,
        identity_derivative,
        True,
        _apart(identity, identity_derivative),
    ),
}


def get_activation(name: str) -> Activation:
    """Look up an activation by name; a clear ``JaxpercError`` for unknown names."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise JaxpercError(unknown_choice("activation", name, ACTIVATIONS)) from None
