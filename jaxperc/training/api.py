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
import jax.numpy as jnp
import numpy as np

from jaxperc.core.activations import ACTIVATIONS
from jaxperc.core.grads import GRADS
from jaxperc.core.losses import LOSSES, get_loss
from jaxperc.core.model import Params
from jaxperc.errors import JaxpercError
from jaxperc.training.checkpoint import RunState
from jaxperc.training.checks import (
    check_choice,
    check_data,
    check_positive_int,
    model_count,
    per_model,
)
from jaxperc.training.driver import Progress, TrainResult, run_chunks
from jaxperc.training.optim import check_learning_rate, make_optimizer, make_schedule
from jaxperc.training.passes import bytes_for_count, concatenate
from jaxperc.training.sharding import (
    device_memory_bytes,
    model_mesh,
    models_per_pass,
    place_data,
    put_on,
)
from jaxperc.training.sparse import SparseRows
from jaxperc.training.state import (
    Data,
    Models,
    Setup,
    Spec,
    given_params,
    initial_state,
)


def _default_block_rows(n: int, m: int, device) -> int | None:
    """Rows per block of the full-batch pass on a CPU (None: one pass, e.g. GPUs).

    Blocks of about 2^20 values ([M, rows], 4 MiB in float32) measured best on a
    2-core x86 CPU for both a memory-bound grid (64 models, d = 16: 0.69× the
    time of one fused pass) and a compute-bound one (1024 models, d = 64); see
    docs/performance.md. Smaller blocks pay a kernel launch per block, larger
    ones spill out of cache.
    """
    platform = (device or jax.devices()[0]).platform
    if platform != "cpu":
        return None
    rows = min(
        1 << 20, max(256, 1 << max(0, ((1 << 20) // max(m, 1)).bit_length() - 1))
    )
    return rows if n >= 4 * rows else None


def train_many(
    x,
    y,
    *,
    seed=0,
    learning_rate=0.1,
    target_index=None,
    weights=None,
    weight_index=None,
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
      x: inputs [n, d], a numpy array or a SciPy sparse matrix. A sparse x is
        never densified: its non-zeros go to the device (see
        :mod:`jaxperc.training.sparse`), and the pass over the rows is one pass
        (no row blocks). Mini-batches, L-BFGS and ``shard_rows`` are refused for
        a sparse x.
      y: targets in [0, 1]: [n] or a table [n, K].
      seed: int or [M] ints, each model's initialisation seed.
      learning_rate: α > 0, scalar or [M] (ignored by ``"lbfgs"``).
      target_index: [M] column of ``y`` per model (default 0).
      weights: optional non-negative sample weights [n] or a table [n, F].
      weight_index: [M] column of ``weights`` per model (default 0).
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
    dtype = _check_options(
        loss, activation, grad, optimizer, max_epochs, patience, tol, gtol, dtype
    )
    x, targets, weight_table = check_data(x, y, weights, dtype)
    n, d = x.shape
    _check_sparse_and_holdout(
        x, weight_table, holdout_index, batch_size, optimizer, shard_rows
    )
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
        if batch_size > n:
            raise JaxpercError(f"batch_size={batch_size} exceeds the {n} samples")
    opt_kwargs = dict(optimizer_kwargs or {})
    opt = make_optimizer(optimizer, opt_kwargs)
    make_schedule(schedule, schedule_kwargs, max_epochs)  # validate early
    float_hp = {k: opt_kwargs[k] for k in opt.float_hparams}
    models = _models(
        dict(seed=seed, learning_rate=learning_rate, l2=l2, **float_hp),
        target_index,
        weight_index,
        holdout_index,
        targets.shape[1],
        weight_table,
        init,
        opt,
        d,
        dtype,
    )
    m = models.size
    if mesh == "auto":
        mesh = model_mesh() if len(jax.devices()) > 1 else None
    if block_rows == "auto":
        block_rows = (
            None
            if batch_size is not None or shard_rows
            else _default_block_rows(n, m, device)
        )
    spec = Spec(
        loss=loss,
        activation=activation,
        grad=grad,
        optimizer=optimizer,
        optimizer_kwargs=tuple(
            sorted((k, v) for k, v in opt_kwargs.items() if k not in float_hp)
        ),
        schedule=schedule,
        schedule_kwargs=tuple(sorted((schedule_kwargs or {}).items())),
        max_epochs=max_epochs,
        tol=float(tol),
        patience=patience,
        gtol=float(gtol),
        batch_size=batch_size,
        block_rows=None if isinstance(x, SparseRows) else block_rows,
        holdout=holdout_index is not None,
        record_accuracy=record_accuracy,
        history_len=history_len or _default_history_len(max_epochs, batch_size, n, m),
    )
    data = place_data(
        put_on(_device_data(x, targets, weight_table), device),
        mesh,
        shard_rows=shard_rows,
    )
    init_scheme = init if isinstance(init, str) else "given"
    setup = Setup(spec, data, d, init_scheme, init_scale, dtype, device, mesh)
    return _run_passes(
        setup, models, data_seed, compact, callback, resume, memory_budget
    )


def _check_options(
    loss, activation, grad, optimizer, max_epochs, patience, tol, gtol, dtype
):
    """Check the scalar options of ``train_many``.  → the float dtype."""
    check_choice("loss", loss, LOSSES)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("grad", grad, GRADS)
    get_loss(loss, activation)  # the one place that says which pairs go together
    check_positive_int("max_epochs", max_epochs)
    check_positive_int("patience", patience)
    for name, value in (("tol", tol), ("gtol", gtol)):
        if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
            raise JaxpercError(
                f"{name}={value!r} must be a number ≥ 0 (0 turns it off)"
            )
    dtype = jnp.dtype(dtype or jnp.float32)
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise JaxpercError(
            "dtype=float64 needs 64-bit JAX: call "
            "jax.config.update('jax_enable_x64', True) first"
        )
    return dtype


def _check_sparse_and_holdout(
    x, weight_table, holdout_index, batch_size, optimizer, shard_rows
) -> None:
    """Refuse what a sparse x or held-out columns cannot do, in one line each."""
    if isinstance(x, SparseRows):
        for refused, what in (
            (batch_size is not None, "mini-batches (batch_size)"),
            (optimizer == "lbfgs", "optimizer 'lbfgs'"),
            (shard_rows, "shard_rows"),
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
    if batch_size is not None or optimizer == "lbfgs":
        raise JaxpercError(
            "holdout_index (early stopping) works with full-batch first-order "
            "optimizers: drop batch_size, or use another optimizer than 'lbfgs'"
        )


def _models(
    per,
    target_index,
    weight_index,
    holdout_index,
    n_targets,
    weight_table,
    init,
    opt,
    d,
    dtype,
) -> Models:
    """Every model's settings as [M] host arrays, checked.

    ``per`` maps seed, learning_rate, l2 and the optimizer's float options to a
    scalar or an [M] array each.
    """
    check_learning_rate(opt, per["learning_rate"])
    m = model_count(
        {
            **per,
            "target_index": target_index,
            "weight_index": weight_index,
            "holdout_index": holdout_index,
        }
    )
    n_w = 1 if weight_table is None else weight_table.shape[1]
    models = Models(
        seed=per_model("seed", per.pop("seed"), m, np.int64),
        learning_rate=per_model(
            "learning_rate", per.pop("learning_rate"), m, dtype, positive=True
        ),
        l2=per_model("l2", per.pop("l2"), m, dtype, nonnegative=True),
        target_index=per_model(
            "target_index",
            0 if target_index is None else target_index,
            m,
            np.int32,
            below=n_targets,
        ),
        weight_index=per_model(
            "weight_index",
            0 if weight_index is None else weight_index,
            m,
            np.int32,
            below=n_w,
        ),
        hparams={k: per_model(k, v, m, dtype) for k, v in per.items()},
        init=None,
        opt_state=None,
        step=np.zeros(m, np.int32),
        holdout_index=None
        if holdout_index is None
        else per_model("holdout_index", holdout_index, m, np.int32, below=n_w),
    )
    if weight_table is not None:
        sums = weight_table.sum(axis=0)
        used = np.unique(models.weight_index)
        if models.holdout_index is not None:
            used = np.union1d(used, models.holdout_index)
        empty = used[sums[used] <= 0]
        if empty.size:
            raise JaxpercError(
                f"weights column {int(empty[0])} sums to 0: "
                "every model needs samples with positive weight"
            )
    return _with_start(models, init, opt, d, dtype)


def _with_start(models: Models, init, opt, d: int, dtype) -> Models:
    """Add given starting params (and, from a TrainResult, its optimizer state)."""
    if isinstance(init, str):
        return models
    m = models.size
    if isinstance(init, TrainResult):
        params = given_params(init.params, m, d, dtype)
        if init.params.w.ndim != 2 or init.params.w.shape[0] != m:
            raise JaxpercError(
                f"init=TrainResult must hold the same {m} models (w [{m}, {d}]), "
                f"got w {tuple(init.params.w.shape)}"
            )
        expected = jax.eval_shape(jax.vmap(opt.init), params, models.hparams)
        state = jax.tree.map(np.asarray, init.opt_state)
        if jax.tree.structure(state) != jax.tree.structure(expected) or any(
            a.shape != e.shape
            for a, e in zip(
                jax.tree.leaves(state), jax.tree.leaves(expected), strict=True
            )
        ):
            raise JaxpercError(
                "init=TrainResult holds another optimizer's state; continue with the "
                "optimizer it was trained with, or pass init=result.params"
            )
        state = jax.tree.map(lambda a, e: a.astype(e.dtype), state, expected)
        steps = np.asarray(init.steps, np.int64)
        return models._replace(
            init=params, opt_state=state, step=steps.astype(np.int32)
        )
    if isinstance(init, Params):
        return models._replace(init=given_params(init, m, d, dtype))
    raise JaxpercError(
        f"init={init!r} must be a scheme name, a Params or a TrainResult to continue"
    )


def _default_history_len(max_epochs, batch_size, n, m) -> int:
    """Epochs per compiled chunk: up to 1024, fewer for big histories or orders."""
    length = min(max_epochs, 1024, max(16, (1 << 24) // max(m, 1)))
    if batch_size is not None:  # a chunk carries one row order per epoch
        length = min(length, max(1, (1 << 24) // n))
    return length


def _device_data(x, targets, weight_table) -> Data:
    """The shared data on the default device (device_put: no compile for a copy)."""
    weight_sums = None if weight_table is None else weight_table.sum(axis=0)
    return Data(
        jax.device_put(x),
        jax.device_put(targets),
        None if weight_table is None else jax.device_put(weight_table),
        None if weight_sums is None else jax.device_put(weight_sums),
    )


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
    return first._replace(params=jax.tree.map(jax.device_put, first.params))
