"""Training until convergence: one perceptron (`train`) or many (`train_many`).

Both run the same compiled engine (:mod:`jaxperc.engine`): epochs run inside
``jax.jit`` in chunks, and the host steps in only between chunks to report progress,
hand out checkpoints, and *compact* the batch: once half the models have stopped,
the rest move to a smaller compiled batch (sizes are powers of two, so there are few
recompiles), because frozen models would still cost compute under ``vmap``.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.checkpoint import RunState
from jaxperc.engine import (
    DIVERGED,
    GTOL,
    RUNNING,
    STOP_REASONS,
    TOL,
    ZERO_ERRORS,
    Data,
    Spec,
    compiled_chunk,
    compiled_evaluate,
    init_state,
)
from jaxperc.errors import CheckpointError, JaxpercError
from jaxperc.model import Params
from jaxperc.optim import make_optimizer, make_schedule
from jaxperc.validate import (
    check_choice,
    check_data,
    check_positive_int,
    model_count,
    per_model,
)


class TrainResult(NamedTuple):
    """What training returns. For ``train_many`` each field has a leading [M] axis.

    ``cost_history[m, e]`` is model m's cost in epoch e (NaN once it stopped);
    the cost includes the L2 penalty when there is one.
    """

    params: Params  # w [M, d], b [M]
    cost: np.ndarray  # [M] final cost at params
    accuracy: np.ndarray  # [M] final (weighted) training accuracy
    epochs: np.ndarray  # [M] int, updates applied
    converged: np.ndarray  # [M] bool
    diverged: np.ndarray  # [M] bool
    stop_reason: np.ndarray  # [M] str: tol, gtol, zero_errors, max_epochs, diverged
    cost_history: np.ndarray  # [M, E]
    accuracy_history: np.ndarray | None  # [M, E] when record_accuracy


class Progress(NamedTuple):
    """What the ``callback`` of ``train_many`` sees between two chunks."""

    epoch: int  # epochs run so far by the models still training
    max_epochs: int
    n_running: int
    n_models: int
    best_cost: float  # lowest latest cost over the models
    checkpoint: Callable[[], RunState]  # the run so far, for saving


def _device_put(tree, device):
    return tree if device is None else jax.device_put(tree, device)


def _default_block_rows(n: int, m: int, device) -> int | None:
    """Row blocks that keep a [rows, M] float32 block near 256 KiB, on a CPU only."""
    platform = (device or jax.devices()[0]).platform
    if platform != "cpu":
        return None
    rows = max(256, 1 << max(0, (65536 // max(m, 1)).bit_length() - 1))
    return rows if n >= 4 * rows else None


def _chunk_lengths(history_len: int):
    """Chunk k runs min(32·2ᵏ, history_len) epochs: early progress, few host syncs."""
    length = min(32, history_len)
    while True:
        yield length
        length = min(2 * length, history_len)


def _gather(full, ids):
    return jax.tree.map(lambda a: a[ids], full)


def _scatter(full, part, ids, m):
    ids = jnp.where(ids < 0, m, ids)  # padding slots point out of range: dropped
    return jax.tree.map(lambda f, p: f.at[ids].set(p, mode="drop"), full, part)


def train_many(
    x,
    y,
    *,
    seed=0,
    learning_rate=0.1,
    target_index=None,
    weights=None,
    weight_index=None,
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
    init: str = "normal",
    init_scale: float = 0.01,
    dtype=None,
    device=None,
    block_rows: int | str | None = "auto",
    history_len: int | None = None,
    compact: bool = True,
    record_accuracy: bool = False,
    callback: Callable[[Progress], Any] | None = None,
    resume: RunState | None = None,
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
      x: inputs [n, d].
      y: targets in [0, 1]: [n] or a table [n, K].
      seed: int or [M] ints, each model's initialisation seed.
      learning_rate: α > 0, scalar or [M] (ignored by ``"lbfgs"``).
      target_index: [M] column of ``y`` per model (default 0).
      weights: optional non-negative sample weights [n] or a table [n, F].
      weight_index: [M] column of ``weights`` per model (default 0).
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
      init, init_scale: see :func:`jaxperc.init_params`.
      dtype: float32 (default) or float64 (needs ``jax_enable_x64``).
      device: a ``jax.Device`` to run on (default: JAX's default device).
      block_rows: rows per block of the full-batch pass ("auto": cache-sized
        blocks on a CPU, one pass on a GPU; None: one pass).
      history_len: epochs per compiled chunk at most (default min(max_epochs, 1024)).
      compact: move still-running models into smaller batches as others stop.
      record_accuracy: also keep the training accuracy of every epoch.
      callback: called between chunks with a :class:`Progress`.
      resume: a :class:`~jaxperc.checkpoint.RunState` to continue from.

    Returns:
      A :class:`TrainResult` with a leading model axis [M].
    """
    check_choice("loss", loss, ("mse", "bce"))
    check_choice("activation", activation, ("sigmoid", "step", "tanh", "identity"))
    check_choice("grad", grad, ("manual", "autodiff"))
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
    x, targets, weight_table = check_data(x, y, weights, dtype)
    n, d = x.shape
    if loss == "bce" and activation != "sigmoid":
        raise JaxpercError(
            f"loss='bce' needs activation='sigmoid' (got {activation!r}); "
            "use loss='mse' for other activations"
        )
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
        if batch_size > n:
            raise JaxpercError(f"batch_size={batch_size} exceeds the {n} samples")
        if optimizer == "lbfgs":
            raise JaxpercError("optimizer 'lbfgs' needs full batches: batch_size=None")
    opt_kwargs = dict(optimizer_kwargs or {})
    opt = make_optimizer(optimizer, opt_kwargs)
    float_hp = {k: opt_kwargs[k] for k in opt.float_hparams}
    static_kwargs = tuple(
        sorted((k, v) for k, v in opt_kwargs.items() if k not in float_hp)
    )
    make_schedule(schedule, schedule_kwargs, max_epochs)  # validate early
    if not opt.uses_learning_rate and np.ndim(learning_rate) > 0:
        raise JaxpercError(
            "optimizer 'lbfgs' chooses its own step; do not sweep learning_rate"
        )

    per = {
        "seed": seed,
        "learning_rate": learning_rate,
        "target_index": target_index,
        "weight_index": weight_index,
        "l2": l2,
        **float_hp,
    }
    m = model_count(per)
    seeds = per_model("seed", seed, m, np.int64)
    lr = per_model("learning_rate", learning_rate, m, dtype, positive=True)
    l2s = per_model("l2", l2, m, dtype, nonnegative=True)
    hp = {k: jnp.asarray(per_model(k, v, m, dtype)) for k, v in float_hp.items()}
    ti = per_model(
        "target_index",
        0 if target_index is None else target_index,
        m,
        np.int32,
        below=targets.shape[1],
    )
    n_w = 1 if weight_table is None else weight_table.shape[1]
    wi = per_model(
        "weight_index",
        0 if weight_index is None else weight_index,
        m,
        np.int32,
        below=n_w,
    )
    if weight_table is not None:
        sums = weight_table.sum(axis=0)
        empty = np.flatnonzero(sums[np.unique(wi)] <= 0)
        if empty.size:
            raise JaxpercError(
                f"weights column {int(np.unique(wi)[empty[0]])} sums to 0: "
                "every model needs samples with positive weight"
            )

    if history_len is None:
        history_len = min(max_epochs, 1024, max(16, (1 << 24) // max(m, 1)))
    if block_rows == "auto":
        block_rows = (
            None if batch_size is not None else _default_block_rows(n, m, device)
        )
    spec = Spec(
        loss=loss,
        activation=activation,
        grad=grad,
        optimizer=optimizer,
        optimizer_kwargs=static_kwargs,
        schedule=schedule,
        schedule_kwargs=tuple(sorted((schedule_kwargs or {}).items())),
        max_epochs=max_epochs,
        tol=float(tol),
        patience=patience,
        gtol=float(gtol),
        batch_size=batch_size,
        block_rows=block_rows,
        record_accuracy=record_accuracy,
        history_len=history_len,
    )
    data = _device_put(
        Data(
            jnp.asarray(x),
            jnp.asarray(targets),
            None if weight_table is None else jnp.asarray(weight_table),
            None if weight_table is None else jnp.asarray(weight_table.sum(axis=0)),
        ),
        device,
    )
    keys = jax.vmap(jax.random.key)(jnp.asarray(seeds))
    full = init_state(
        spec,
        keys,
        d,
        jnp.asarray(lr),
        jnp.asarray(l2s),
        hp,
        jnp.asarray(ti),
        jnp.asarray(wi),
        init=init,
        scale=init_scale,
        dtype=dtype,
    )
    full = _device_put(full, device)
    return _run(
        spec, data, full, m, jax.random.key(data_seed), compact, callback, resume
    )


def _restore(full, resume: RunState, m: int):
    leaves, treedef = jax.tree.flatten(full)
    got = resume.leaves
    if len(got) != len(leaves) or any(
        a.shape != b.shape or a.dtype != b.dtype
        for a, b in zip(got, leaves, strict=False)
    ):
        raise CheckpointError(
            "checkpoint does not match this run (different models, data shape, "
            "optimizer or dtype); start it again without --resume"
        )
    if resume.cost_history.shape[0] != m:
        raise CheckpointError("checkpoint history does not match this run's models")
    return jax.tree.unflatten(treedef, [jnp.asarray(a) for a in got])


def _run(spec, data, full, m, data_key, compact, callback, resume) -> TrainResult:
    """The host loop: chunks of epochs, compaction, history, final evaluation."""
    run = compiled_chunk(spec)
    chunks = _chunk_lengths(spec.history_len)
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    slot_ids = np.arange(m)
    epoch, n_chunks = 0, 0
    if resume is not None:
        full = _restore(full, resume, m)
        slot_ids, epoch, n_chunks = resume.slot_ids, resume.epoch, resume.chunk
        parts.append(
            (np.arange(m), 0, resume.cost_history.T, resume.accuracy_history.T)
        )
        for _ in range(n_chunks):
            next(chunks)
    bucket = (
        full
        if len(slot_ids) == m and (slot_ids == np.arange(m)).all()
        else (_gather(full, jnp.asarray(_fill_padding(slot_ids, full))))
    )

    while True:
        stop = np.asarray(bucket.stop)
        running = (stop == RUNNING) & (slot_ids >= 0)
        if not running.any():
            break
        if callback is not None and n_chunks > 0:
            snap = (full, bucket, slot_ids, epoch, n_chunks, parts)
            callback(
                Progress(
                    epoch=epoch,
                    max_epochs=spec.max_epochs,
                    n_running=int(running.sum()),
                    n_models=m,
                    best_cost=float(
                        np.nanmin(np.asarray(bucket.prev_cost), initial=np.inf)
                    ),
                    checkpoint=lambda s=snap: _checkpoint(m, *s),
                )
            )
        if compact and len(slot_ids) > 1 and running.sum() <= len(slot_ids) // 2:
            full = _scatter(full, bucket, jnp.asarray(slot_ids), m)
            ids = slot_ids[running]
            size = 1 << (len(ids) - 1).bit_length()
            slot_ids = np.concatenate([ids, np.full(size - len(ids), -1)])
            bucket = _gather(full, jnp.asarray(_fill_padding(slot_ids, full)))
        bucket, costs, accs, done = run(bucket, data, data_key, epoch, next(chunks))
        done = int(done)
        parts.append(
            (
                slot_ids,
                epoch,
                np.asarray(costs[:done]),
                np.asarray(accs[:done]) if spec.record_accuracy else None,
            )
        )
        epoch += done
        n_chunks += 1
    full = _scatter(full, bucket, jnp.asarray(slot_ids), m)
    return _result(spec, data, full, m, epoch, parts)


def _fill_padding(slot_ids, full):
    """Padding slots copy a stopped model (inert under masking)."""
    stopped = np.flatnonzero(np.asarray(full.stop) != RUNNING)
    filler = stopped[0] if stopped.size else 0
    return np.where(slot_ids < 0, filler, slot_ids)


def _histories(m, epoch, parts, record_accuracy):
    cost = np.full((m, epoch), np.nan, np.float64)
    acc = np.full((m, epoch), np.nan, np.float64) if record_accuracy else None
    for ids, start, costs, accs in parts:
        keep = ids >= 0
        stop = start + costs.shape[0]
        cost[ids[keep], start:stop] = costs[:, keep].T
        if acc is not None and accs is not None and accs.size:
            acc[ids[keep], start:stop] = accs[:, keep].T
    return cost, acc


def _checkpoint(m, full, bucket, slot_ids, epoch, n_chunks, parts) -> RunState:
    full = _scatter(full, bucket, jnp.asarray(slot_ids), m)
    record = any(p[3] is not None for p in parts)
    cost, acc = _histories(m, epoch, parts, record)
    dtype = np.asarray(full.prev_cost).dtype
    return RunState(
        leaves=tuple(np.asarray(a) for a in jax.tree.leaves(full)),
        slot_ids=np.asarray(slot_ids),
        epoch=epoch,
        chunk=n_chunks,
        cost_history=cost.astype(dtype),
        accuracy_history=(acc if acc is not None else np.zeros((m, 0))).astype(dtype),
    )


def _result(spec, data, full, m, epoch, parts) -> TrainResult:
    final = compiled_evaluate(spec)(full.params, data, full)
    stop = np.asarray(full.stop)
    cost, acc = _histories(m, epoch, parts, spec.record_accuracy)
    dtype = np.asarray(full.prev_cost).dtype
    return TrainResult(
        params=full.params,
        cost=np.asarray(final.cost),
        accuracy=np.clip(np.asarray(final.accuracy), 0.0, 1.0),
        epochs=np.asarray(full.epochs),
        converged=np.isin(stop, (TOL, GTOL, ZERO_ERRORS)),
        diverged=stop == DIVERGED,
        stop_reason=np.asarray(STOP_REASONS)[stop],
        cost_history=cost.astype(dtype),
        accuracy_history=None if acc is None else acc.astype(dtype),
    )


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
    return jax.tree.map(lambda a: a[0], many)
