"""Argument checks at the edge of the training API, each failing with one clear line.

Traced code never checks anything; everything here runs on the host, before jit.
"""

import warnings
import weakref
from collections.abc import Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.core.activations import ACTIVATIONS
from jaxperc.core.grads import GRADS
from jaxperc.core.losses import LOSSES, get_loss
from jaxperc.errors import JaxpercError, unknown_choice
from jaxperc.training.sparse import SparseRows, from_scipy, is_sparse


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> None:
    """Raise unless ``value`` is one of ``allowed`` (with a did-you-mean hint)."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise JaxpercError(unknown_choice(name, value, allowed))


def check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise JaxpercError(f"{name}={value!r} must be a positive integer")


def _finite(name: str, a: np.ndarray, given=None) -> None:
    """Raise on the first non-finite value of ``a`` (``given``: a before a cast)."""
    bad = ~np.isfinite(a)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        if given is not None and np.isfinite(given[where]):
            raise JaxpercError(
                f"{name} holds {given[where]:g} at index {where}, too large for "
                f"{a.dtype}; scale the data or train in float64"
            )
        raise JaxpercError(
            f"{name} has a non-finite value ({a[where]}) at index {where}; "
            "remove or impute it first"
        )


@jax.jit
def _all_finite(a) -> jax.Array:
    return jnp.isfinite(a).all()


# id → weak reference of each jax.Array x found finite: an array never changes,
# so a repeated call on the same x skips the check and its device round trip
_FINITE: dict[int, weakref.ref] = {}


def _known_finite(a: jax.Array) -> bool:
    ref = _FINITE.get(id(a))
    return ref is not None and ref() is a


def _remember_finite(a: jax.Array) -> None:
    key = id(a)
    _FINITE[key] = weakref.ref(a, lambda _: _FINITE.pop(key, None))


def _check_device_x(x: jax.Array, dtype):
    """A jax.Array x is checked where it lives: no copy to the host and back
    (on a GPU that round trip would cost more than many epochs)."""
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise JaxpercError(f"x must have shape [n, d] with n, d ≥ 1, got {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.number):
        raise JaxpercError(f"x must be numeric, got dtype {x.dtype}")
    cast = x if x.dtype == dtype else x.astype(dtype)
    if _known_finite(cast):
        return cast
    if not bool(_all_finite(cast)):  # only now copy, to name the bad value
        _finite("x", np.asarray(cast), np.asarray(x))
    _remember_finite(cast)
    return cast


def _check_x(x, dtype):
    """x as a float array [n, d] (a jax.Array stays on its device), or the
    non-zeros of a sparse x (SparseRows)."""
    if isinstance(x, jax.Array):
        return _check_device_x(x, dtype)
    sparse = is_sparse(x)
    if not sparse:
        x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise JaxpercError(f"x must have shape [n, d] with n, d ≥ 1, got {x.shape}")
    if not np.issubdtype(x.dtype, np.number):
        raise JaxpercError(f"x must be numeric, got dtype {x.dtype}")
    # a value too large for the dtype becomes inf here and is reported below in
    # one line; numpy's own overflow warning would only come first
    with np.errstate(over="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
        if not sparse:  # no copy when x has the dtype already
            cast = x.astype(dtype, copy=False)
        else:
            rows = from_scipy(x, dtype)
    if not sparse:
        _finite("x", cast, x)
        return cast
    if not np.isfinite(rows.data).all():
        raw = np.asarray(x.tocsr().data)
        if np.isfinite(raw).all():
            big = np.abs(raw).max()
            raise JaxpercError(
                f"x holds {big:g}, too large for {rows.dtype}; scale the data or "
                "train in float64"
            )
        raise JaxpercError(
            f"x has a non-finite value ({raw[~np.isfinite(raw)][0]}) among its "
            "non-zeros; remove or impute it first"
        )
    return rows


def check_data(x, y, weights, dtype):
    """The data, checked.  → x [n, d], targets [n, K], weights [n, F].

    targets and weights come back as host arrays; x as a host array, or as the
    given jax.Array (cast on its device if needed).

    A SciPy sparse x (CSR, CSC, COO …) comes back as :class:`SparseRows`, never
    densified.
    """
    x = _check_x(x, dtype)
    n = x.shape[0]
    y = np.asarray(y)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise JaxpercError(
            f"y must have shape [n] or [n, K] with n = {n} (the rows of x), "
            f"got {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
        raise JaxpercError(
            f"y must hold numbers in [0, 1], got dtype {y.dtype}; map labels to 0/1 "
            "first (jaxperc.data does that for CSV files)"
        )
    y = y.astype(dtype).reshape(n, -1)
    _finite("y", y)
    if y.min() < 0 or y.max() > 1:
        bad = y[(y < 0) | (y > 1)][0]
        raise JaxpercError(
            f"y must hold targets in [0, 1], found {bad}; map class labels to 0/1 "
            "(one column per class for one-vs-rest)"
        )
    if weights is None:
        return x, y, None
    w = np.asarray(weights)
    if w.ndim not in (1, 2) or w.shape[0] != n:
        raise JaxpercError(
            f"weights must have shape [n] or [n, F] with n = {n}, got {w.shape}"
        )
    w = w.astype(dtype).reshape(n, -1)
    _finite("weights", w)
    if w.min() < 0:
        raise JaxpercError(f"weights must be ≥ 0, found {w.min()}")
    return x, y, w


def model_count(per_model_args: dict[str, Any]) -> int:
    """M: the common length of the per-model arguments given as arrays (else 1)."""
    lengths = {
        k: np.shape(v)[0]
        for k, v in per_model_args.items()
        if v is not None and np.ndim(v) > 0
    }
    for k, v in per_model_args.items():
        if v is not None and np.ndim(v) > 1:
            raise JaxpercError(
                f"{k} must be a scalar or a 1-D array [M], got {np.shape(v)}"
            )
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise JaxpercError(
            f"per-model arguments disagree on the number of models ({listed}); "
            "give each as a scalar or an array of the same length M "
            "(jaxperc.grid builds them for a cartesian product)"
        )
    m = next(iter(lengths.values()), 1)
    if m < 1:
        raise JaxpercError("there must be at least one model (got empty arrays)")
    return m


def per_model(
    name, value, m, dtype, *, positive=False, nonnegative=False, below=None
) -> np.ndarray:
    """Broadcast a scalar or [M] argument to an [M] array and check its values."""
    a = np.broadcast_to(np.asarray(value), (m,))
    if np.issubdtype(np.dtype(dtype), np.integer):
        if not (np.issubdtype(a.dtype, np.integer) or a.dtype == bool):
            raise JaxpercError(f"{name} must hold integers, got {a.dtype}")
        if below is not None and (a.min() < 0 or a.max() >= below):
            raise JaxpercError(
                f"{name} must be in 0..{below - 1}, got values {a.min()}..{a.max()}"
            )
        return a.astype(dtype)
    try:
        a = a.astype(dtype)
    except (TypeError, ValueError):
        raise JaxpercError(f"{name}={value!r} must be a number") from None
    if not np.isfinite(a).all():
        raise JaxpercError(f"{name} must be finite, got {value!r}")
    if positive and (a <= 0).any():
        raise JaxpercError(f"{name} must be > 0, got {a[a <= 0][0]}")
    if nonnegative and (a < 0).any():
        raise JaxpercError(f"{name} must be ≥ 0, got {a[a < 0][0]}")
    return a


def check_standardizers(tables, d: int, dtype):
    """Host copies of ``(mean [S, d], scale [S, d])``, checked (None passes through)."""
    if tables is None:
        return None
    try:
        mean, scale = (np.asarray(a, np.float64) for a in tables)
    except (TypeError, ValueError):
        raise JaxpercError(
            "standardizers must be a pair (mean [S, d], scale [S, d]), e.g. "
            "jaxperc.data.fit_standardizers(x, weights)"
        ) from None
    if mean.ndim != 2 or mean.shape[1] != d or scale.shape != mean.shape:
        raise JaxpercError(
            f"standardizers must hold mean and scale of shape [S, {d}] (d = the "
            f"columns of x), got {mean.shape} and {scale.shape}"
        )
    _finite("standardizers.mean", mean)
    _finite("standardizers.scale", scale)
    if (scale <= 0).any():
        raise JaxpercError("standardizers.scale must be > 0 everywhere")
    return mean.astype(dtype), scale.astype(dtype)


def check_sparse_and_holdout(x, weight_table, holdout_index, options) -> None:
    """Refuse what a sparse x or held-out columns cannot do, in one line each."""
    if isinstance(x, SparseRows):
        if options.optimizer == "newton":
            raise JaxpercError(
                "optimizer 'newton' needs a dense x: its Hessian Σ sᵢxᵢxᵢᵀ is a "
                "dense d × d matrix per model; pass x.toarray() for a few hundred "
                "features, or use another optimizer"
            )
        for refused, what in (
            (options.batch_size is not None, "mini-batches (batch_size)"),
            (options.optimizer == "lbfgs", "optimizer 'lbfgs'"),
            (options.shard_rows, "shard_rows"),
        ):
            if refused:
                raise JaxpercError(
                    f"a sparse x trains full-batch only, without {what}: gathering "
                    "rows of its compressed layout would cost more than the pass; "
                    "drop the option or pass x.toarray()"
                )
    if holdout_index is None:
        return
    if weight_table is None:
        raise JaxpercError(
            "holdout_index picks columns of weights: pass a weights table [n, F] "
            "with a training column and a held-out column"
        )
    if options.batch_size is not None or options.optimizer in ("lbfgs", "newton"):
        raise JaxpercError(
            "holdout_index (early stopping) works with full-batch first-order "
            "optimizers: drop batch_size, or use another optimizer than "
            f"{options.optimizer!r}"
        )


def check_newton(o) -> None:
    """Newton's method: a convex loss with its second derivative, full batch."""
    if get_loss(o.loss, o.activation).second_derivative_z is None:
        raise JaxpercError(
            f"optimizer 'newton' needs loss='bce' (got {o.loss!r}): its Hessian "
            "σ'(z)·xxᵀ is positive, while mse's changes sign and has no Newton "
            "step; use loss='bce', or optimizer='lbfgs'"
        )
    for refused, what in (
        (o.batch_size is not None, "mini-batches (batch_size)"),
        (o.shard_rows, "shard_rows"),
    ):
        if refused:
            raise JaxpercError(
                f"optimizer 'newton' works full batch, without {what}: each step "
                "solves with the Hessian of all rows; drop the option"
            )


def check_options(o):
    """Check the shared options (a TrainOptions).  → the float dtype."""
    check_choice("loss", o.loss, LOSSES)
    check_choice("activation", o.activation, ACTIVATIONS)
    check_choice("grad", o.grad, GRADS)
    get_loss(o.loss, o.activation)  # the one place that says which pairs go together
    check_positive_int("max_epochs", o.max_epochs)
    check_positive_int("patience", o.patience)
    for name, value in (("tol", o.tol), ("gtol", o.gtol)):
        if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
            raise JaxpercError(
                f"{name}={value!r} must be a number ≥ 0 (0 turns it off)"
            )
    if o.optimizer == "newton":
        check_newton(o)
    dtype = jnp.dtype(o.dtype or jnp.float32)
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise JaxpercError(
            "dtype=float64 needs 64-bit JAX: call "
            "jax.config.update('jax_enable_x64', True) first"
        )
    return dtype
