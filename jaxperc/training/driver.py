"""The host side of training: chunks of compiled epochs, and what happens between.

Between two chunks the host reports progress, hands out checkpoints, and *compacts*
the batch: once half the models have stopped, the rest move to a smaller compiled
batch (sizes are powers of two, so there are few recompiles), because frozen models
still cost compute under ``vmap``. Chunk lengths and compaction depend only on the
epochs run and on which models stopped, so a run resumed from a checkpoint repeats
exactly what the uninterrupted run would have done.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.core.model import Params
from jaxperc.errors import CheckpointError
from jaxperc.training.checkpoint import RunState
from jaxperc.training.loop import compiled_chunk, compiled_evaluate
from jaxperc.training.minibatch_orders import chunk_orders
from jaxperc.training.sharding import (
    fetch,
    mesh_size,
    round_up,
    shard_models,
    to_host,
)
from jaxperc.training.state import (
    DIVERGED,
    GTOL,
    RUNNING,
    STOP_REASONS,
    TOL,
    ZERO_ERRORS,
    Data,
    Spec,
    State,
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
    opt_state: Any = None  # optimizer state at params, leaves [M, ...]
    steps: np.ndarray | None = None  # [M] int optimizer steps taken in all


class Progress(NamedTuple):
    """What the ``callback`` of ``train_many`` sees between two chunks."""

    epoch: int  # epochs run so far by the models still training
    max_epochs: int
    n_running: int
    n_models: int
    best_cost: float  # lowest latest cost over the models
    checkpoint: Callable[[], RunState]  # the run so far, for saving
    # (cost [M, epoch - start], accuracy or None) of the epochs from ``start`` on,
    # a chunk boundary: the new history alone, without the cost of a checkpoint
    history_since: Callable[[int], tuple[np.ndarray, np.ndarray | None]] | None = None


def _chunk_lengths(history_len: int, grow: bool = True):
    """Chunk k runs min(32·2ᵏ, history_len) epochs: early progress, few host syncs.

    Without ``grow`` every chunk runs history_len epochs: when nothing happens
    between chunks (no callback, and no compaction: one model, or no stopping
    rule), each one more is only a host round trip (about 0.1 ms, a fifth of a
    small fit).
    """
    length = min(32, history_len) if grow else history_len
    while True:
        yield length
        length = min(2 * length, history_len)


def _gather(full, ids):
    return jax.tree.map(lambda a: a[ids], full)


def _scatter(full, part, ids, m):
    if part.stop.shape[0] == m and np.array_equal(ids, np.arange(m)):
        return part  # the batch is every model in order: nothing to scatter
    ids = np.where(ids < 0, m, ids)  # padding slots point out of range: dropped
    return _scatter_compiled(full, part, jnp.asarray(ids))


@jax.jit
def _scatter_compiled(full, part, ids):
    return jax.tree.map(lambda f, p: f.at[ids].set(p, mode="drop"), full, part)


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


def run_chunks(
    spec: Spec,
    data: Data,
    full: State,
    m: int,
    data_seed: int,
    *,
    compact=True,
    callback=None,
    resume=None,
    mesh=None,
) -> TrainResult:
    """Train the m models of ``full`` (an engine State) until all have stopped.

    Returns the :class:`TrainResult` of the m models, in their original order.
    """
    run = compiled_chunk(spec)
    n_dev = mesh_size(mesh)
    # compaction pays once models stop at different epochs: only with a rule
    between = callback is not None or (compact and m > n_dev and spec.stops_early)
    chunks = _chunk_lengths(spec.history_len, grow=between)
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
    if len(slot_ids) == m and (slot_ids == np.arange(m)).all():
        bucket = shard_models(full, mesh)
    else:
        filled = _fill_padding(slot_ids, full)
        bucket = shard_models(_gather(full, jnp.asarray(filled)), mesh)

    stop = to_host(bucket.stop)
    counters = None  # (stop, epochs, step) on the host, fetched with each chunk
    final = _Final.empty(m, full.prev_cost.dtype)
    if resume is None:  # stopped from the start: padding, never reported
        final.known[:] = stop != RUNNING
    while True:
        running = (stop == RUNNING) & (slot_ids >= 0)
        if not running.any():
            break
        if callback is not None and n_chunks > 0:
            snap = (full, bucket, slot_ids, epoch, n_chunks, list(parts))
            callback(_progress(spec, m, running, snap))
        if compact and len(slot_ids) > n_dev and running.sum() <= len(slot_ids) // 2:
            full, bucket, slot_ids = _compact(full, bucket, slot_ids, running, m, mesh)
            running = slot_ids >= 0
        length = next(chunks)
        orders = chunk_orders(spec, data.x.shape[0], data_seed, epoch, length)
        bucket, costs, accs, done, (cost, acc) = run(bucket, data, orders, length)
        stop, epochs, step, costs, accs, done, cost, acc = fetch(  # one sync
            bucket.stop, bucket.epochs, bucket.step, costs, accs, done, cost, acc
        )
        counters = (stop, epochs, step)  # the result's, if this chunk is the last
        newly = running & (stop != RUNNING)  # stopped in this chunk
        final.record(slot_ids[newly], cost[newly], acc[newly])
        done = int(done)
        costs, accs = costs[:done], accs[:done]
        parts.append((slot_ids, epoch, costs, accs if spec.record_accuracy else None))
        epoch += done
        n_chunks += 1
    scattered = _scatter(full, bucket, slot_ids, m)
    if counters is None or scattered is not bucket:
        counters = fetch(scattered.stop, scattered.epochs, scattered.step)
    return _result(spec, data, scattered, m, epoch, parts, final, counters)


def _progress(spec: Spec, m: int, running, snap) -> Progress:
    """What the callback sees; ``snap`` = (full, bucket, slot_ids, epoch, chunk,
    parts), frozen now so a later checkpoint() call saves this moment."""
    _, bucket, _, epoch, _, parts = snap
    return Progress(
        epoch=epoch,
        max_epochs=spec.max_epochs,
        n_running=int(running.sum()),
        n_models=m,
        best_cost=float(np.nanmin(to_host(bucket.prev_cost), initial=np.inf)),
        checkpoint=lambda: _checkpoint(m, *snap),
        history_since=lambda start: _histories(
            m, epoch, parts, spec.record_accuracy, start
        ),
    )


def _compact(full, bucket, slot_ids, running, m: int, mesh):
    """Move the running models into a smaller batch (a power of two, padded).

    → (full state with the bucket scattered back, the new bucket, its slot ids).
    """
    n_dev = mesh_size(mesh)
    full = _scatter(full, bucket, slot_ids, m)
    ids = slot_ids[running]
    size = round_up(1 << (len(ids) - 1).bit_length(), n_dev)
    slot_ids = np.concatenate([ids, np.full(size - len(ids), -1)])
    filled = _fill_padding(slot_ids, full)
    return full, shard_models(_gather(full, jnp.asarray(filled)), mesh), slot_ids


class _Final(NamedTuple):
    """Final cost and accuracy [m] per model, filled in as models stop."""

    cost: np.ndarray
    accuracy: np.ndarray
    known: np.ndarray  # bool: measured by the chunk in which the model stopped

    @classmethod
    def empty(cls, m, dtype):
        nan = np.full(m, np.nan, np.dtype(dtype))
        return cls(nan, nan.copy(), np.zeros(m, bool))

    def record(self, ids, cost, accuracy):
        """Models ``ids`` stopped with this final cost and accuracy."""
        self.cost[ids] = cost
        self.accuracy[ids] = accuracy
        self.known[ids] = True


def _fill_padding(slot_ids, full):
    """Padding slots copy a stopped model (inert under masking)."""
    stopped = np.flatnonzero(to_host(full.stop) != RUNNING)
    filler = stopped[0] if stopped.size else 0
    return np.where(slot_ids < 0, filler, slot_ids)


def _histories(m, epoch, parts, record_accuracy, since=0):
    """[M, epoch - since] cost (and accuracy) of the epochs from ``since`` on."""
    cost = np.full((m, epoch - since), np.nan, np.float64)
    acc = np.full((m, epoch - since), np.nan, np.float64) if record_accuracy else None
    for ids, start, costs, accs in parts:
        if start < since:  # parts start at chunk boundaries, as ``since`` does
            continue
        keep = ids >= 0
        lo, hi = start - since, start - since + costs.shape[0]
        cost[ids[keep], lo:hi] = costs[:, keep].T
        if acc is not None and accs is not None and accs.size:
            acc[ids[keep], lo:hi] = accs[:, keep].T
    return cost, acc


def _checkpoint(m, full, bucket, slot_ids, epoch, n_chunks, parts) -> RunState:
    full = _scatter(full, bucket, slot_ids, m)
    record = any(p[3] is not None for p in parts)
    cost, acc = _histories(m, epoch, parts, record)
    dtype = np.dtype(full.prev_cost.dtype)
    return RunState(
        leaves=tuple(to_host(a) for a in jax.tree.leaves(full)),
        slot_ids=np.asarray(slot_ids),
        epoch=epoch,
        chunk=n_chunks,
        cost_history=cost.astype(dtype),
        accuracy_history=(acc if acc is not None else np.zeros((m, 0))).astype(dtype),
    )


def _result(spec, data, full, m, epoch, parts, final, counters) -> TrainResult:
    """``counters``: (stop, epochs, step) of ``full`` on the host."""
    final_cost, final_accuracy = final.cost, final.accuracy
    if spec.final_metrics and not final.known.all():  # stopped before a resume
        cost, acc = fetch(*compiled_evaluate(spec)(full.params, data, full))
        final_cost = np.where(final.known, final_cost, cost)
        final_accuracy = np.where(final.known, final_accuracy, acc)
    stop, epochs, step = counters
    cost, acc = _histories(m, epoch, parts, spec.record_accuracy)
    dtype = np.dtype(full.prev_cost.dtype)
    params, opt_state = full.params, full.opt_state
    if not all(getattr(a, "is_fully_addressable", True) for a in jax.tree.leaves(full)):
        params, opt_state = jax.tree.map(
            lambda a: jnp.asarray(to_host(a)), (params, opt_state)
        )
    steps = step + epochs * spec.steps_per_epoch(data.x.shape[0])
    return TrainResult(
        params=params,
        cost=final_cost,
        accuracy=np.clip(final_accuracy, 0.0, 1.0),
        epochs=epochs,
        converged=np.isin(stop, (TOL, GTOL, ZERO_ERRORS)),
        diverged=stop == DIVERGED,
        stop_reason=np.asarray(STOP_REASONS)[stop],
        cost_history=cost.astype(dtype),
        accuracy_history=None if acc is None else acc.astype(dtype),
        opt_state=opt_state,
        steps=steps,
    )
