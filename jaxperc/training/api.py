"""Training until convergence: one perceptron (`train`) or many (`train_many`).

Both run the same compiled engine (:mod:`jaxperc.engine`): epochs run inside
``jax.jit`` in chunks, and the host steps in only between chunks to report progress,
hand out checkpoints, and *compact* the batch: once half the models have stopped,
the rest move to a smaller compiled batch (sizes are powers of two, so there are few
recompiles), because frozen models would still cost compute under ``vmap``.
"""

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from jaxperc.core.model import Params
from jaxperc.errors import JaxpercError
from jaxperc.training.checkpoint import RunState
from jaxperc.training.checks import (
    check_data,
    check_options,
    check_positive_int,
    check_sparse_and_holdout,
    check_standardizers,
)
from jaxperc.training.convergence import warn_unconverged
from jaxperc.training.driver import Progress, TrainResult, run_chunks
from jaxperc.training.optim import make_optimizer, make_schedule
from jaxperc.training.options import PerModel, TrainOptions
from jaxperc.training.passes import bytes_for_count, concatenate
from jaxperc.training.plan import (
    device_data,
    make_models,
    make_spec,
)
from jaxperc.training.sharding import (
    device_memory_bytes,
    model_mesh,
    models_per_pass,
    place_data,
    put_on,
)
from jaxperc.training.sparse import SparseRows
from jaxperc.training.state import (
    Setup,
    initial_state,
)


def train_many(
    x,
    y,
    *,
    seed=0,
    learning_rate=0.1,
    target_index=None,
    weights=None,
    weight_index=None,
    standardizers=None,
    standardizer_index=None,
    holdout_index=None,
    l2=0.0,
    loss: str = "mse",
    activation: str = "sigmoid",
    grad: str = "manual",
    optimizer: str = "gd",
    optimizer_kwargs: dict[str, Any] | None = None,
    schedule: str | None = None,
    schedule_kwargs: dict[str, Any] | None = None,
    max_epochs: int = 1000,
    tol: float = 1e-7,
    patience: int = 5,
    gtol: float = 0.0,
    batch_size: int | None = None,
    data_seed: int = 0,
    init: str | Params | TrainResult = "normal",
    init_scale: float = 0.01,
    dtype=None,
    device=None,
    block_rows: int | str | None = "auto",
    history_len: int | None = None,
    compact: bool = True,
    record_accuracy: bool = False,
    final_metrics: bool = True,
    callback: Callable[[Progress], Any] | None = None,
    resume: RunState | None = None,
    mesh=None,
    shard_rows: bool = False,
    memory_budget: int | str | None = "auto",
) -> TrainResult:
    """Train M perceptrons on one shared data set as one compiled program.

    Per-model arguments (``seed``, ``learning_rate``, ``target_index``,
    ``weight_index``, ``l2`` and float values of ``optimizer_kwargs``) are scalars
    (shared) or arrays of length M; M is their common length. The data set is
    never copied per model: targets and weights are tables whose columns models
    pick by index, so K classes one-vs-rest, k folds or B bootstrap resamples are
    just more columns. Mini-batches follow one shuffled order shared by all models
    (drawn from ``data_seed``), so results equal M separate :func:`train` calls.

    Args:
      x: inputs [n, d], a numpy array, a jax.Array (used where it lives: a
        device-resident x is not copied to the host and back on every call) or
        a SciPy sparse matrix. A sparse x is never densified: its non-zeros go
        to the device (see :mod:`jaxperc.training.sparse`), and the pass over
        the rows is one pass (no row blocks). Mini-batches, L-BFGS, Newton and
        ``shard_rows`` are refused for a sparse x.
      y: targets in [0, 1]: [n] or a table [n, K].
      seed: int or [M] ints, each model's initialisation seed.
      learning_rate: α > 0, scalar or [M] (ignored by ``"lbfgs"`` and
        ``"newton"``).
      target_index: [M] column of ``y`` per model (default 0).
      weights: optional non-negative sample weights [n] or a table [n, F].
      weight_index: [M] column of ``weights`` per model (default 0).
      standardizers: optional tables ``(mean [S, d], scale [S, d])``, e.g.
        :func:`jaxperc.data.fit_standardizers` of the weight columns: model m
        then trains on ``(x − mean[s]) / scale[s]`` with s its
        ``standardizer_index``, and its params are in those coordinates. x is
        passed raw and never copied per model (the change of coordinates is
        applied to the params; see docs/derivation.md).
      standardizer_index: [M] row of the standardizer tables per model (default 0).
      holdout_index: [M] column of ``weights`` per model holding held-out rows
        (early stopping), or None. Then each model's gradient still comes from
        its ``weight_index`` column, but the stopping rules, ``cost_history`` and
        ``cost`` read the best weighted cost (without the L2 penalty) on its
        held-out column so far: ``tol``/``patience`` stop a model once that has
        not improved by more than ``tol`` (relative) for ``patience`` epochs.
        Give held-out rows weight 0 in the training column. Full batch only.
      l2: penalty (l2/2)·‖w‖² added to the cost, scalar or [M].
      loss: ``"mse"`` or ``"bce"``. activation: ``"sigmoid"``, ``"step"``,
        ``"tanh"``, ``"identity"``. grad: ``"manual"`` (the hand-derived
        chain rule) or ``"autodiff"`` (``jax.grad``).
      optimizer, optimizer_kwargs: see :func:`jaxperc.optim.make_optimizer`.
        ``"newton"`` (bce only, full batch, dense x) takes each model's damped
        Newton step with the hand-derived Hessian computed in the same pass
        (about ten epochs to a gradient norm of 1e-4 on breast cancer; each
        costs about d + 1 gradient passes, so it suits d up to a few hundred).
      schedule, schedule_kwargs: see :func:`jaxperc.optim.make_schedule`.
      max_epochs: at most this many epochs per model.
      tol, patience: stop once the relative change of the cost is ≤ tol for
        ``patience`` epochs in a row (tol=0 turns this off).
      gtol: stop once the gradient norm is < gtol (0: off).
      batch_size: None for full batch (the derivation's), else mini-batches.
      data_seed: seed of the mini-batch order.
      init, init_scale: see :func:`jaxperc.init_params`; or ``init`` is a
        :class:`~jaxperc.Params` to start from (w [d] or [M, d], b [] or [M];
        the optimizer state starts afresh), or a previous :class:`TrainResult`
        of the same M models to continue it: its params, optimizer state (Adam's
        moments, say) and step count carry over (a warm start).
      dtype: float32 (default) or float64 (needs ``jax_enable_x64``).
      device: a ``jax.Device`` to run on (default: JAX's default device).
      block_rows: rows per block of the full-batch pass ("auto": cache-sized
        blocks on a CPU, one pass on a GPU; None: one pass).
      history_len: epochs per compiled chunk at most (default min(max_epochs, 1024)).
      compact: move still-running models into smaller batches as others stop.
      record_accuracy: also keep the training accuracy of every epoch.
      final_metrics: measure each model's cost and accuracy at its final params
        (``TrainResult.cost`` and ``.accuracy``). False leaves them NaN and
        compiles that pass out of the program (about 0.05 s less to compile on
        a CPU): for callers that never read them, like the estimator.
      callback: called between chunks with a :class:`Progress`.
      resume: a :class:`~jaxperc.checkpoint.RunState` to continue from.
      mesh: a ``jax.sharding.Mesh`` (see :func:`jaxperc.sharding.model_mesh`) to
        split the models over its devices, ``"auto"`` for every device when
        there are several, or None (one device). M is padded to a multiple of
        the device count with idle models, dropped from the result.
      shard_rows: with a mesh, also split the rows of x over its devices (for
        very large n); the gradient's partial sums are added across devices.
      memory_budget: bytes one pass may use; a grid that needs more runs in
        passes of as many models as fit. "auto": the device's memory where it
        reports it (GPUs), no limit otherwise; None: no limit.

    Returns:
      A :class:`TrainResult` with a leading model axis [M].
    """
    per_model = PerModel(
        seed,
        learning_rate,
        l2,
        target_index,
        weight_index,
        hparams={},
        standardizer_index=standardizer_index,
        holdout_index=holdout_index,
    )
    options = TrainOptions(
        loss=loss,
        activation=activation,
        grad=grad,
        optimizer=optimizer,
        optimizer_kwargs=dict(optimizer_kwargs or {}),
        schedule=schedule,
        schedule_kwargs=dict(schedule_kwargs or {}),
        max_epochs=max_epochs,
        tol=tol,
        patience=patience,
        gtol=gtol,
        batch_size=batch_size,
        data_seed=data_seed,
        init=init if isinstance(init, str) else "normal",
        init_scale=init_scale,
        dtype=dtype,
        record_accuracy=record_accuracy,
        final_metrics=final_metrics,
        block_rows=block_rows,
        history_len=history_len,
        compact=compact,
        shard_rows=shard_rows,
        memory_budget=memory_budget,
    )
    start = None if isinstance(init, str) else init
    return train_models(
        x,
        y,
        per_model,
        options,
        weights=weights,
        standardizers=standardizers,
        start=start,
        device=device,
        mesh=mesh,
        callback=callback,
        resume=resume,
    )


def train_models(
    x,
    y,
    per_model: PerModel,
    options: TrainOptions,
    *,
    weights=None,
    standardizers=None,
    start: Params | TrainResult | None = None,
    device=None,
    mesh=None,
    callback: Callable[[Progress], Any] | None = None,
    resume: RunState | None = None,
) -> TrainResult:
    """:func:`train_many` with its request as typed records.

    Args:
      x, y, weights, standardizers: as in :func:`train_many`.
      per_model: the per-model settings (scalars or [M] arrays); its ``hparams``
        are swept optimizer options, merged over ``options.optimizer_kwargs``.
      options: the shared choices.
      start: params to start from, or a previous result to continue.
      device, mesh, callback, resume: as in :func:`train_many`.
    """
    o = options
    dtype = check_options(o)
    x, targets, weight_table = check_data(x, y, weights, dtype)
    n, d = x.shape
    tables = check_standardizers(standardizers, d, dtype)
    check_sparse_and_holdout(x, weight_table, per_model.holdout_index, o)
    if o.batch_size is not None:
        check_positive_int("batch_size", o.batch_size)
        if o.batch_size > n:
            raise JaxpercError(f"batch_size={o.batch_size} exceeds the {n} samples")
    opt_kwargs = {**o.optimizer_kwargs, **per_model.hparams}
    opt = make_optimizer(o.optimizer, opt_kwargs)
    make_schedule(o.schedule, o.schedule_kwargs, o.max_epochs)  # validate early
    float_hp = {k: opt_kwargs[k] for k in opt.float_hparams}
    models = make_models(
        per_model._replace(hparams=float_hp),
        (targets.shape[1], 1 if tables is None else tables[0].shape[0]),
        weight_table,
        start,
        opt,
        d,
        dtype,
    )
    if mesh == "auto":
        mesh = model_mesh() if len(jax.devices()) > 1 else None
    has_l2 = bool(np.any(models.l2 != 0))
    spec = make_spec(
        o,
        opt_kwargs,
        float_hp,
        n,
        models.size,
        device,
        has_l2=has_l2,
        sparse=isinstance(x, SparseRows),
        holdout=models.holdout_index is not None,
        d=d,
    )
    data = place_data(
        device_data(x, targets, weight_table, device),
        mesh,
        shard_rows=o.shard_rows,
    )
    if tables is not None:  # small [S, d] tables: replicated, never split by rows
        mean, scale = place_data(put_on(tables, device), mesh)
        data = data._replace(mean=mean, scale=scale)
    init_scheme = o.init if start is None else "given"
    setup = Setup(spec, data, d, init_scheme, o.init_scale, dtype, device, mesh)
    result = _run_passes(
        setup, models, o.data_seed, o.compact, callback, resume, o.memory_budget
    )
    warn_unconverged(result, o)
    return result


def _run_passes(
    setup, models, data_seed, compact, callback, resume, memory_budget
) -> TrainResult:
    """Train every model, in as many memory-sized passes as needed."""
    m = models.size
    if memory_budget == "auto":
        memory_budget = device_memory_bytes(setup.device)
    per_pass = models_per_pass(
        lambda k: bytes_for_count(setup, models, k), m, memory_budget
    )
    if per_pass < m and resume is not None:
        raise JaxpercError(
            "resume works on grids that fit in one pass; "
            "raise memory_budget or train fewer models at once"
        )
    results = [
        _train_pass(
            setup,
            models.take(slice(i, i + per_pass)),
            int(data_seed),
            compact,
            callback,
            resume,
        )
        for i in range(0, m, per_pass)
    ]
    return results[0] if len(results) == 1 else concatenate(results)


def _train_pass(setup, models, data_seed, compact, callback, resume) -> TrainResult:
    m = models.size
    full = initial_state(setup, models)
    result = run_chunks(
        setup.spec,
        setup.data,
        full,
        full.stop.shape[0],
        data_seed,
        compact=compact,
        callback=callback,
        resume=resume,
        mesh=setup.mesh,
    )
    return jax.tree.map(lambda a: a[:m], result) if full.stop.shape[0] > m else result


def train(
    x, y, *, seed: int = 0, learning_rate: float = 0.1, weights=None, **kwargs
) -> TrainResult:
    """Train one perceptron until convergence, the whole loop compiled.

    The derivation's recipe by default: sigmoid, mean squared error, the
    hand-derived gradient and plain gradient descent ``w ← w − α ∂C/∂w``,
    repeated until the cost stops changing (``tol``/``patience``), the gradient
    vanishes (``gtol``), there are no training errors (step activation), or
    ``max_epochs`` is reached.

    Args:
      x: [n, d]; y: [n] targets in [0, 1]; weights: optional [n].
      seed: initialisation seed. learning_rate: α > 0.
      **kwargs: any other keyword of :func:`train_many` (loss, activation, grad,
        optimizer, max_epochs, tol, batch_size, …).

    Returns:
      A :class:`TrainResult` for one model: params ``w [d]``, ``b []``, scalars
      for the rest and ``cost_history [E]``.
    """
    for name in ("target_index", "weight_index"):
        if name in kwargs:
            raise JaxpercError(f"train() takes no {name}; use train_many")
    if np.ndim(seed) or np.ndim(learning_rate):
        raise JaxpercError(
            "train() trains one model: seed and learning_rate must be "
            "scalars; use train_many for several"
        )
    if np.ndim(y) != 1:
        raise JaxpercError(f"y must have shape [n], got {np.shape(y)}")
    if weights is not None and np.ndim(weights) != 1:
        raise JaxpercError(f"weights must have shape [n], got {np.shape(weights)}")
    many = train_many(
        x, y, seed=seed, learning_rate=learning_rate, weights=weights, **kwargs
    )
    # the model axis is dropped on the host: slicing device arrays would compile
    first = jax.tree.map(lambda a: np.asarray(a)[0], many)
    return first._replace(params=jax.device_put(first.params))  # one transfer
