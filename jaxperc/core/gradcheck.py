"""Compare the hand-derived gradient with ``jax.grad`` on given or random data.

This is the check a user runs (``jaxperc gradcheck``) to see the derivation hold on
their machine: the largest absolute and relative differences between
:func:`~jaxperc.manual_grad` and :func:`~jaxperc.autodiff_grad`, and a verdict.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.core import grads
from jaxperc.core.model import init_params
from jaxperc.errors import JaxpercError

# default relative tolerance per dtype: a few hundred ulps of the cost's scale
DEFAULT_RTOL = {"float32": 1e-5, "float64": 1e-10}


class GradCheckReport(NamedTuple):
    """Largest differences between the manual and the autodiff gradient."""

    max_abs_diff: float
    max_rel_diff: float  # |manual − autodiff| / max(|autodiff|, tiny), max over entries
    rtol: float
    atol: float
    ok: bool  # every entry within atol + rtol·|autodiff|
    dtype: str


def gradient_check(
    params,
    x,
    y,
    *,
    loss: str = "mse",
    activation: str = "sigmoid",
    weights=None,
    rtol: float | None = None,
    atol: float | None = None,
) -> GradCheckReport:
    """Check ``jaxperc.grads.manual_grad`` against ``jax.grad`` of the cost.

    Args:
      params: ``Params(w=[d], b=[])``; x: [n, d]; y: [n]; weights: optional [n].
      loss, activation: as in :func:`jaxperc.cost` (activation must be
        differentiable: the step's surrogate derivative differs by design).
      rtol, atol: tolerances; defaults by dtype (1e-5 for float32, 1e-10 for
        float64). The default atol is the larger of rtol × the largest
        |gradient| entry and 64 ulps of the gradient's natural scale (the mean
        of max_j |x_ij| and 1 over the samples): a gradient that is pure rounding
        noise, as at a saturated sigmoid, is not a disagreement.

    Returns:
      A :class:`GradCheckReport`.
    """
    if activation == "step":
        raise JaxpercError(
            "activation='step' has no derivative to check: manual_grad uses "
            "Rosenblatt's surrogate 1 on purpose; pick sigmoid, tanh or identity"
        )
    dtype = jnp.result_type(params.w)
    kw = {"loss": loss, "activation": activation, "weights": weights}
    # looked up on the module at call time, so a patched manual_grad is what runs
    manual = grads.manual_grad(params, x, y, **kw)
    auto = grads.autodiff_grad(params, x, y, **kw)
    m = np.concatenate([np.ravel(a) for a in jax.tree.leaves(manual)]).astype(float)
    a = np.concatenate([np.ravel(v) for v in jax.tree.leaves(auto)]).astype(float)
    rtol = DEFAULT_RTOL.get(str(dtype), 1e-5) if rtol is None else rtol
    if atol is None:
        scale = float(np.mean(np.maximum(np.max(np.abs(np.asarray(x)), axis=1), 1.0)))
        atol = max(rtol * np.max(np.abs(a)), 64 * np.finfo(np.dtype(dtype)).eps * scale)
    diff = np.abs(m - a)
    tiny = np.finfo(np.dtype(dtype)).tiny
    return GradCheckReport(
        max_abs_diff=float(np.max(diff)),
        max_rel_diff=float(np.max(diff / np.maximum(np.abs(a), tiny))),
        rtol=float(rtol),
        atol=float(atol),
        ok=bool(np.all(np.isfinite(m)) and np.all(diff <= atol + rtol * np.abs(a))),
        dtype=str(dtype),
    )


def random_problem(n_samples=64, n_features=8, *, seed=0, dtype=jnp.float32):
    """Random params, inputs and [0, 1] targets for a gradient check.

    Returns:
      ``(params, x [n, d], y [n])``; params drawn with scale 1 so that the
      sigmoid works away from 0 and its saturation.
    """
    if n_samples < 1 or n_features < 1:
        raise JaxpercError("gradcheck needs n_samples ≥ 1 and n_features ≥ 1")
    kp, kx, ky = jax.random.split(jax.random.key(seed), 3)
    params = init_params(kp, n_features, scale=1.0, dtype=dtype)
    x = jax.random.normal(kx, (n_samples, n_features), dtype)
    y = jax.random.uniform(ky, (n_samples,), dtype)
    return params, x, y
