"""The cost and hand-derived gradient of M models over shared rows, as matrix products.

This is :func:`jaxperc.grads.manual_grad` for a batch of models: the data set is
shared, each model picks its target and weight column, and the rows go through in
blocks so the [M, rows] intermediates stay in cache. The compiled loop calls
:func:`objective_terms` once per epoch (or per mini-batch): the data terms plus the
L2 penalty.

A sparse x (:class:`~jaxperc.training.sparse.SparseRows`) goes through in one pass,
its two products as sorted segment sums. With held-out rows (``Spec.holdout``) the
cost that the stopping rules read is the held-out rows' best cost so far, while the
gradient stays the training rows'.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxperc.core.activations import get_activation
from jaxperc.core.losses import get_loss
from jaxperc.core.model import MATMUL_PRECISION, Params, matmul
from jaxperc.training.sparse import SparseRows, delta_times, times_w
from jaxperc.training.state import Data, Spec, State


class Curvature(NamedTuple):
    """∂²C/∂θ² of M models in blocks, as sums over rows of sᵢ = cᵢ·∂²lᵢ/∂zᵢ².

    With z = x·w + b: ∂²C/∂w² = Σ sᵢ xᵢxᵢᵀ, ∂²C/∂w∂b = Σ sᵢ xᵢ, ∂²C/∂b² = Σ sᵢ.
    """

    ww: jax.Array  # [M, d, d]
    wb: jax.Array  # [M, d]
    bb: jax.Array  # [M]


class Terms(NamedTuple):
    """Sums over a set of rows, per model (all [M] except grads)."""

    cost: jax.Array
    grads: Params  # w [M, d], b [M]
    errors: jax.Array  # Σ vᵢ [class(ŷᵢ) ≠ class(yᵢ)] (unnormalised)
    accuracy: jax.Array  # Σ cᵢ [class(ŷᵢ) = class(yᵢ)]
    holdout: jax.Array | None = None  # cost on the held-out column (Spec.holdout)
    # Newton's method only: the data terms' curvature in raw coordinates, and
    # (from objective_terms) the whole Hessian [M, d + 1, d + 1], w first then b
    curvature: Curvature | None = None
    hessian: jax.Array | None = None


def _times_w(x, w):
    """Z without the bias: W Xᵀ, [M, rows], for dense or sparse x.

    Dense x is multiplied as (X Wᵀ)ᵀ: XLA's CPU product streams X's rows that way,
    measured 1.5× faster than W Xᵀ for one model on breast cancer and 1.45× for
    256 models (the transpose is a layout change, not a copy).
    """
    return times_w(x, w) if isinstance(x, SparseRows) else matmul(x, w.T).T


def _delta_times(d, x):
    """∂C/∂W = δ X, [M, d], for dense or sparse x."""
    return delta_times(d, x) if isinstance(x, SparseRows) else matmul(d, x)


def _loss_sums(losses, z):
    """Σ over rows of per-sample losses [M, B] → [M], the loss left in XLA's loop.

    ``where(z == z, ·, z)`` changes no value (a NaN z already gives a NaN loss).
    Without a select in the way, XLA's CPU compiler hands the loss and its row
    sum to one YNNPACK fusion, which first writes each of the loss's inputs as
    an [M, B] array: for bce (a logarithm and a division per value) that
    measured 1.8× the plain program at 256 models × 569 rows, against 1.6× with
    the select, and 19 → 16 ms for a 16 × 5-fold grid of 100 epochs.
    """
    return jnp.sum(jnp.where(z == z, losses, z), axis=1)


def _columns(table, index):
    """Per-model columns of a [rows, K] table as [M, rows] ([1, rows] if K = 1)."""
    return table[:, 0][None, :] if table.shape[1] == 1 else table[:, index].T


def batched_terms(
    spec: Spec,
    params: Params,
    x,
    targets,
    weights,
    scale,
    target_index,
    weight_index,
    holdout=None,
) -> Terms:
    """Cost, gradient and counts of M models on one block of rows.

    With ``spec.grad == "manual"`` this is the batched form of
    :func:`jaxperc.grads.manual_grad`, written as matrix products so the
    [M, rows] intermediates stay the only large arrays: Z = W Xᵀ + b,
    δ = c ⊙ ∂l/∂z, ∂C/∂W = δ X, ∂C/∂b = Σ_rows δ. With ``"autodiff"`` the
    gradient is ``jax.grad`` of the same cost instead (models are independent, so
    the gradient of their summed costs is each model's own gradient). Models come
    first in the [M, rows] layout: on a CPU it streams rows contiguously, which
    measured about 1.5× faster than [rows, M].

    Args:
      params: w [M, d], b [M]. x: [B, d], dense or SparseRows. targets: [B, K].
        weights: [B, F] or None (then every row counts 1). scale: [M], 1/Σv over
        the rows of each model's cost. target_index, weight_index: [M] int columns
        of each model. holdout: None, or (index [M], scale [M]): each model's
        held-out weight column and 1/Σ of it, whose weighted cost goes to
        ``Terms.holdout``.
    """
    act = get_activation(spec.activation)
    loss = get_loss(spec.loss, spec.activation)
    y = _columns(targets, target_index)  # [M, B] or [1, B]
    v = None if weights is None else _columns(weights, weight_index)
    scale = scale[:, None]  # ∂C/∂lᵢ = vᵢ · scale per model

    def weighted(a):  # vᵢ · a (1 · a without weights: no [M, B] array of ones)
        return a if v is None else v * a

    manual = spec.grad != "autodiff"

    def block_cost(p):
        z = _times_w(x, p.w) + p.b[:, None]  # zᵢ = xᵢ·w + b, [M, B]
        # the manual gradient takes ∂ŷ/∂z from the same pass (one exp for sigmoid)
        if manual:
            y_hat, slope = act.with_derivative(z)
            per_sample = loss.from_values(z, y_hat, slope, y)
        else:  # differentiated: the loss as jax.grad should see it
            y_hat, slope = act.fn(z), None
            per_sample = loss.per_sample(z, y_hat, y)
        # scale after the sum: a broadcast scale inside it costs an [M, B] array
        losses = weighted(per_sample)
        return _loss_sums(losses, z) * scale[:, 0], (z, y_hat, slope, per_sample)

    if not manual:

        def summed(p):
            cost, aux = block_cost(p)
            return jnp.sum(cost), (cost, aux)

        (_, (cost, (z, y_hat, slope, per_sample))), grads = jax.value_and_grad(
            summed, has_aux=True
        )(params)
    else:
        cost, (z, y_hat, slope, per_sample) = block_cost(params)
        # δᵢ = cᵢ · ∂lᵢ/∂ŷᵢ · ∂ŷᵢ/∂zᵢ
        d = scale * weighted(loss.derivative_z(z, y_hat, slope, y))
        # ∂zᵢ/∂w = xᵢ, ∂zᵢ/∂b = 1
        grads = Params(w=_delta_times(d, x), b=jnp.sum(d, axis=1))
    curvature = None
    if spec.optimizer == "newton":  # dense x, bce (checked before compiling)
        if slope is None:  # autodiff: the slope was not needed for the gradient
            _, slope = act.with_derivative(z)
        s = scale * weighted(loss.second_derivative_z(z, y_hat, slope, y))
        curvature = Curvature(
            ww=jnp.einsum("mb,bi,bj->mij", s, x, x, precision=MATMUL_PRECISION),
            wb=matmul(s, x),
            bb=jnp.sum(s, axis=1),
        )
    held = None
    if holdout is not None:
        index, held_scale = holdout
        held = _loss_sums(_columns(weights, index) * per_sample, z) * held_scale
    if spec.activation == "step" or spec.record_accuracy:
        right = ((y_hat >= 0.5) == (y >= 0.5)).astype(z.dtype)
        errors = jnp.sum(weighted(1.0 - right), axis=1)
        accuracy = jnp.sum(weighted(right), axis=1) * scale[:, 0]
    else:  # not needed: skip two more passes over the [M, rows] block
        errors = accuracy = jnp.zeros_like(cost)
    return Terms(cost, grads, errors, accuracy, held, curvature)


def _inverse_sums(data: Data, index):
    """1/Σv of each model's weight column (0 for an all-zero column, not inf)."""
    sums = data.weight_sums[index]
    return jnp.where(sums > 0, 1.0 / jnp.where(sums > 0, sums, 1.0), 0.0)


def data_terms(
    spec: Spec, params: Params, data: Data, state: State, block_rows: int | None = None
) -> Terms:
    """:func:`batched_terms` over all rows of ``data``, in blocks of ``block_rows``.

    Blocking keeps each [rows, M] intermediate in cache on a CPU, where a single
    [n, M] pass is limited by memory bandwidth. Sums are accumulated block by block.
    """
    n = data.x.shape[0]
    if data.weights is None:
        scale = jnp.full(state.epochs.shape, 1.0 / n, data.x.dtype)
    else:  # a model whose rows all weigh 0 here gets a zero gradient, not NaN
        scale = _inverse_sums(data, state.weight_index)
    holdout = None
    if spec.holdout:
        holdout = (state.holdout_index, _inverse_sums(data, state.holdout_index))

    def terms(start, size):
        def sl(a):
            if size == n:  # all rows: no slice (a sparse x cannot be sliced)
                return a
            return jax.lax.dynamic_slice_in_dim(a, start, size)

        w = None if data.weights is None else sl(data.weights)
        return batched_terms(
            spec,
            params,
            sl(data.x),
            sl(data.targets),
            w,
            scale,
            state.target_index,
            state.weight_index,
            holdout,
        )

    block = min(block_rows or n, n)
    n_blocks, tail = divmod(n, block)
    if n_blocks == 1 and tail == 0:
        return terms(0, n)
    # the loop carries only the sums that are used: every carried leaf costs an
    # extra small kernel per block
    counts = spec.activation == "step" or spec.record_accuracy

    def used(t: Terms):
        return t if counts else (t.cost, t.grads, t.holdout, t.curvature)

    def add(a, b):
        return jax.tree.map(jnp.add, a, b)

    # the sums start at zero, not at a peeled first block: one copy of the
    # block's code less to compile
    shapes = jax.eval_shape(lambda: used(terms(0, block)))
    zero = jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), shapes)
    total = jax.lax.fori_loop(
        0, n_blocks, lambda i, acc: add(acc, used(terms(i * block, block))), zero
    )
    if tail:
        total = add(total, used(terms(n_blocks * block, tail)))
    if counts:
        return total
    zeros = jnp.zeros_like(total[0])
    return Terms(total[0], total[1], zeros, zeros, total[2], total[3])


def raw_params(params: Params, data: Data, state: State) -> Params:
    """Each model's params in the raw coordinates of x (identity without tables).

    A model trained on ``(x − μ)/σ`` computes ``z = ((x − μ)/σ)·w + b``, which is
    ``x·w' + b'`` with ``w' = w/σ`` and ``b' = b − μ·w'``: an affine change of the
    params, so the rows are never standardised (or copied) per model.
    """
    if data.mean is None:
        return params
    mean = data.mean[state.standardizer_index]  # [M, d]
    w = params.w / data.scale[state.standardizer_index]
    return Params(w=w, b=params.b - jnp.sum(mean * w, axis=1))


def standardised_grads(grads: Params, data: Data, state: State) -> Params:
    """The chain rule back through :func:`raw_params`.

    ∂C/∂w_j = (∂C/∂w'_j − μ_j ∂C/∂b') / σ_j and ∂C/∂b = ∂C/∂b'.
    """
    if data.mean is None:
        return grads
    mean = data.mean[state.standardizer_index]
    scale = data.scale[state.standardizer_index]
    return Params(w=(grads.w - mean * grads.b[:, None]) / scale, b=grads.b)


def standardised_hessian(c: Curvature, data: Data, state: State) -> jax.Array:
    """The Hessian in each model's own coordinates: [M, d + 1, d + 1].

    With θ = Aθ' the change of coordinates of :func:`raw_params`
    (w = w'/σ, b = b' − μ·w'/σ), the Hessian is H' = AᵀHA:
    ∂²C/∂w'² = D(Hww − Hwb μᵀ − μ Hwbᵀ + Hbb μμᵀ)D, ∂²C/∂w'∂b' = D(Hwb − Hbb μ)
    and ∂²C/∂b'² = Hbb, with D = diag(1/σ).
    """
    ww, wb, bb = c.ww, c.wb, c.bb
    if data.mean is not None:
        mean = data.mean[state.standardizer_index]  # [M, d]
        inv = 1.0 / data.scale[state.standardizer_index]
        outer = wb[:, :, None] * mean[:, None, :]
        ww = ww - outer - jnp.swapaxes(outer, 1, 2)
        ww = ww + bb[:, None, None] * mean[:, :, None] * mean[:, None, :]
        ww = ww * inv[:, :, None] * inv[:, None, :]
        wb = (wb - bb[:, None] * mean) * inv
    top = jnp.concatenate([ww, wb[:, :, None]], axis=2)
    bottom = jnp.concatenate([wb, bb[:, None]], axis=1)[:, None, :]
    return jnp.concatenate([top, bottom], axis=1)


def objective_terms(spec: Spec, params: Params, data: Data, state: State) -> Terms:
    """Cost and gradient plus the L2 penalty (l2/2)·‖w‖², whose gradient is l2·w.

    The penalty and the returned gradient are in each model's own (standardised)
    coordinates; the data terms are computed on raw rows (:func:`raw_params`).

    With ``spec.holdout`` the returned cost is instead min(held-out cost,
    ``state.prev_cost``): the best held-out cost so far. The stopping rule's
    relative change then measures improvement over the best, so ``tol`` and
    ``patience`` stop a model once its held-out cost has not improved by more than
    ``tol`` (relative) for ``patience`` epochs in a row.
    """
    t = data_terms(spec, raw_params(params, data, state), data, state, spec.block_rows)
    t = t._replace(grads=standardised_grads(t.grads, data, state))
    cost = t.cost
    if spec.has_l2:
        cost = cost + 0.5 * state.l2 * jnp.sum(params.w**2, axis=1)
        t = t._replace(
            grads=t.grads._replace(w=t.grads.w + state.l2[:, None] * params.w)
        )
    if t.curvature is not None:
        hessian = standardised_hessian(t.curvature, data, state)
        if spec.has_l2:  # (l2/2)·‖w‖² adds l2 to the diagonal of the w block
            d = params.w.shape[1]
            ridge = jnp.concatenate([jnp.ones(d), jnp.zeros(1)]).astype(cost.dtype)
            hessian = hessian + state.l2[:, None, None] * jnp.diag(ridge)[None]
        t = t._replace(hessian=hessian)
    if spec.holdout:
        cost = jnp.minimum(t.holdout, state.prev_cost)
    return t._replace(cost=cost)
