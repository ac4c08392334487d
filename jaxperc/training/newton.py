"""Newton's method for one model: the damped step from the gradient and Hessian.

The Hessian comes from the same pass over the rows as the gradient
(:func:`jaxperc.training.objective.standardised_hessian`); the training loop maps
:func:`newton_direction` over the models. See docs/derivation.md §8.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxperc.core.model import Params


class Damping(NamedTuple):
    """Newton's damping λ, relative to the Hessian's mean diagonal."""

    start: float  # λ before the first step
    shrink: float  # × after a step that did not raise the cost
    grow: float  # × after one that did (the step is retaken from the origin)
    low: float  # bounds of λ
    high: float


NEWTON_DAMPING = Damping(start=1e-4, shrink=0.25, grow=8.0, low=1e-10, high=1e10)


class NewtonState(NamedTuple):
    """One model's Newton iteration, safeguarded Levenberg–Marquardt style.

    The state remembers the last point whose cost did not rise (the *origin*):
    its gradient and Hessian, and the damping λ. Each epoch's pass gives the
    cost, gradient and Hessian at the current params; if the cost rose, the
    step is taken again from the origin with λ grown, else from here with λ
    shrunk. So every epoch is still one pass over the rows.
    """

    origin: Params  # params of the last accepted point
    grads: Params  # ∂C/∂θ there
    hessian: jax.Array  # [d + 1, d + 1] ∂²C/∂θ² there, w first then b
    cost: jax.Array  # C there (inf before the first step)
    damping: jax.Array  # λ


def newton_init(params: Params) -> NewtonState:
    """The state before the first step: no accepted point yet (cost inf)."""
    d = params.w.shape[-1]
    dtype = params.w.dtype
    return NewtonState(
        params,
        jax.tree.map(jnp.zeros_like, params),
        jnp.zeros((d + 1, d + 1), dtype),
        jnp.asarray(jnp.inf, dtype),
        jnp.asarray(NEWTON_DAMPING.start, dtype),
    )


def newton_direction(params: Params, grads: Params, hessian, cost, state):
    """One model's damped Newton step from (params, ∂C/∂θ, ∂²C/∂θ², C).

    The step solves (H + λ·h̄·I) Δ = −g, with h̄ the mean of H's diagonal (so λ
    is scale-free) at the current point if its cost did not rise above the
    origin's, else at the origin with λ grown.  → (direction from params,
    new NewtonState).
    """
    k = NEWTON_DAMPING
    accept = cost <= state.cost  # NaN: not accepted
    damping = jnp.clip(
        state.damping * jnp.where(accept, k.shrink, k.grow), k.low, k.high
    )

    def pick(here, there):
        return jax.tree.map(lambda a, b: jnp.where(accept, a, b), here, there)

    origin, g, h, c = pick(
        (params, grads, hessian, cost),
        (state.origin, state.grads, state.hessian, state.cost),
    )
    size = h.shape[-1]
    mean_diag = jnp.trace(h) / size
    gradient = jnp.concatenate([g.w, g.b[None]])
    ridge = damping * mean_diag * jnp.eye(size, dtype=h.dtype)
    step = jnp.linalg.solve(h + ridge, -gradient)
    new = Params(w=origin.w + step[:-1], b=origin.b + step[-1])
    direction = jax.tree.map(jnp.subtract, new, params)
    return direction, NewtonState(origin, g, h, c, damping)
