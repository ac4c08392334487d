"""The compiled training loop shared by :func:`~jaxperc.train` and ``train_many``.

Everything here works on a batch of M models with a leading model axis and one shared
data set. A *chunk* of epochs runs inside one ``jax.jit``-compiled ``while_loop``; the
host only steps in between chunks (progress, checkpoints, compaction).

Per epoch and model the loop computes the cost and its gradient, checks the stopping
rules, and applies the optimizer's update. Models that stopped are frozen by masking:
their state no longer changes while the others go on.
"""

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.activations import get_activation
from jaxperc.losses import cost as cost_fn
from jaxperc.losses import get_loss
from jaxperc.model import Params
from jaxperc.optim import make_optimizer, make_schedule

# The set-up program runs once per call on O(M·d) values: compiled with less
# optimisation it compiles in half the time. (Not the final evaluation: a full
# pass over the data, which runs about 4× slower unoptimised on a large grid.)
RUN_ONCE = {"xla_backend_optimization_level": 0}

STOP_REASONS = ("running", "tol", "gtol", "zero_errors", "max_epochs", "diverged")
RUNNING, TOL, GTOL, ZERO_ERRORS, MAX_EPOCHS, DIVERGED = range(len(STOP_REASONS))


@dataclasses.dataclass(frozen=True)
class Spec:
    """Static choices of a run: hashable, read outside jit, one compile per value."""

    loss: str = "mse"
    activation: str = "sigmoid"
    grad: str = "manual"  # or "autodiff"
    optimizer: str = "gd"
    optimizer_kwargs: tuple[tuple[str, Any], ...] = ()
    schedule: str | None = None
    schedule_kwargs: tuple[tuple[str, Any], ...] = ()
    max_epochs: int = 1000
    tol: float = 1e-7
    patience: int = 5
    gtol: float = 0.0
    batch_size: int | None = None  # None: full batch
    block_rows: int | None = None  # full batch: rows per block (None: all at once)
    record_accuracy: bool = False
    history_len: int = 256  # epochs a chunk can hold

    @property
    def optim(self):
        return make_optimizer(self.optimizer, dict(self.optimizer_kwargs))


class Data(NamedTuple):
    """The data set shared by all models (never copied per model)."""

    x: jax.Array  # [n, d]
    targets: jax.Array  # [n, K] target columns, values in [0, 1]
    weights: jax.Array | None  # [n, F] per-sample weight columns, or None
    weight_sums: jax.Array | None  # [F]


class State(NamedTuple):
    """Per-model training state; every leaf has a leading model axis [M, ...]."""

    params: Params  # w [M, d], b [M]
    opt_state: Any
    learning_rate: jax.Array  # [M]
    l2: jax.Array  # [M]
    hparams: dict[str, jax.Array]  # optimizer float hyper-parameters, each [M]
    target_index: jax.Array  # [M] int32: column of Data.targets
    weight_index: jax.Array  # [M] int32: column of Data.weights
    prev_cost: jax.Array  # [M] cost of the previous epoch
    stall: jax.Array  # [M] int32 epochs in a row with relative change < tol
    epochs: jax.Array  # [M] int32 updates applied so far
    stop: jax.Array  # [M] int32 index into STOP_REASONS (0: still running)


class Terms(NamedTuple):
    """Sums over a set of rows, per model (all [M] except grads)."""

    cost: jax.Array
    grads: Params  # w [M, d], b [M]
    errors: jax.Array  # Σ vᵢ [class(ŷᵢ) ≠ class(yᵢ)] (unnormalised)
    accuracy: jax.Array  # Σ cᵢ [class(ŷᵢ) = class(yᵢ)]


def _columns(table, index):
    """Per-model columns of a [rows, K] table as [M, rows] ([1, rows] if K = 1)."""
    return table[:, 0][None, :] if table.shape[1] == 1 else table[:, index].T


def batched_terms(
    spec: Spec, params: Params, x, targets, weights, scale, target_index, weight_index
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
      params: w [M, d], b [M]. x: [B, d]. targets: [B, K]. weights: [B, F] or None
        (then every row counts 1). scale: [M], 1/Σv over the rows of each model's
        cost. target_index, weight_index: [M] int columns of each model.
    """
    act = get_activation(spec.activation)
    loss = get_loss(spec.loss, spec.activation)
    y = _columns(targets, target_index)  # [M, B] or [1, B]
    v = None if weights is None else _columns(weights, weight_index)
    scale = scale[:, None]  # ∂C/∂lᵢ = vᵢ · scale per model

    def weighted(a):  # vᵢ · a (1 · a without weights: no [M, B] array of ones)
        return a if v is None else v * a

    def block_cost(p):
        z = p.w @ x.T + p.b[:, None]  # zᵢ = xᵢ·w + b, [M, B]
        y_hat = act.fn(z)
        # scale after the sum: a broadcast scale inside it costs an [M, B] array
        losses = weighted(loss.per_sample(z, y_hat, y))
        return jnp.sum(losses, axis=1) * scale[:, 0], (z, y_hat)

    if spec.grad == "autodiff":

        def summed(p):
            cost, aux = block_cost(p)
            return jnp.sum(cost), (cost, aux)

        (_, (cost, (z, y_hat))), grads = jax.value_and_grad(summed, has_aux=True)(
            params
        )
    else:
        cost, (z, y_hat) = block_cost(params)
        # δᵢ = cᵢ · ∂lᵢ/∂ŷᵢ · ∂ŷᵢ/∂zᵢ
        d = scale * weighted(loss.derivative_z(z, y, act))
        grads = Params(w=d @ x, b=jnp.sum(d, axis=1))  # ∂zᵢ/∂w = xᵢ, ∂zᵢ/∂b = 1
    if spec.activation == "step" or spec.record_accuracy:
        right = ((y_hat >= 0.5) == (y >= 0.5)).astype(z.dtype)
        errors = jnp.sum(weighted(1.0 - right), axis=1)
        accuracy = jnp.sum(weighted(right), axis=1) * scale[:, 0]
    else:  # not needed: skip two more passes over the [M, rows] block
        errors = accuracy = jnp.zeros_like(cost)
    return Terms(cost=cost, grads=grads, errors=errors, accuracy=accuracy)


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
        sums = data.weight_sums[state.weight_index]
        scale = jnp.where(sums > 0, 1.0 / jnp.where(sums > 0, sums, 1.0), 0.0)

    def terms(start, size):
        def sl(a):
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
        )

    block = min(block_rows or n, n)
    n_blocks, tail = divmod(n, block)
    if n_blocks == 1 and tail == 0:
        return terms(0, n)
    # the loop carries only the sums that are used: every carried leaf costs an
    # extra small kernel per block
    counts = spec.activation == "step" or spec.record_accuracy

    def used(t: Terms):
        return t if counts else (t.cost, t.grads)

    def add(a, b):
        return jax.tree.map(jnp.add, a, b)

    total = jax.lax.fori_loop(
        1,
        n_blocks,
        lambda i, acc: add(acc, used(terms(i * block, block))),
        used(terms(0, block)),
    )
    if tail:
        total = add(total, used(terms(n_blocks * block, tail)))
    if counts:
        return total
    zeros = jnp.zeros_like(total[0])
    return Terms(cost=total[0], grads=total[1], errors=zeros, accuracy=zeros)


def _where(mask, new, old):
    """Per-model select over pytrees whose leaves have a leading model axis."""

    def pick(a, b):
        return jnp.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b)

    return jax.tree.map(pick, new, old)


def _all_finite(tree) -> jax.Array:
    """[M] True where every entry of the model's leaves is finite."""
    leaves = [
        jnp.isfinite(a).reshape(a.shape[0], -1).all(axis=1)
        for a in jax.tree.leaves(tree)
    ]
    return functools.reduce(jnp.logical_and, leaves)


def _objective_terms(spec, params, data, state) -> Terms:
    """Cost and gradient plus the L2 penalty (l2/2)·‖w‖², whose gradient is l2·w."""
    t = data_terms(spec, params, data, state, spec.block_rows)
    l2 = state.l2[:, None]
    return t._replace(
        cost=t.cost + 0.5 * state.l2 * jnp.sum(params.w**2, axis=1),
        grads=t.grads._replace(w=t.grads.w + l2 * params.w),
    )


def _update(spec, state, data, terms, step):
    """Each model's optimizer step: params + α·schedule(step)·direction."""
    opt = spec.optim

    def one(g, s, p, hp, value, ti, wi, l2):
        def value_fn(q):  # the objective, for L-BFGS's line search
            y = data.targets[:, ti]
            v = None if data.weights is None else data.weights[:, wi]
            c = cost_fn(
                q, data.x, y, loss=spec.loss, activation=spec.activation, weights=v
            )
            return c + 0.5 * l2 * jnp.sum(q.w**2)

        return opt.update(g, s, p, hp, value, value_fn)

    direction, opt_state = jax.vmap(one)(
        terms.grads,
        state.opt_state,
        state.params,
        state.hparams,
        terms.cost,
        state.target_index,
        state.weight_index,
        state.l2,
    )
    if opt.uses_learning_rate:
        steps_per_epoch = (
            1 if spec.batch_size is None else -(-data.x.shape[0] // spec.batch_size)
        )
        schedule = make_schedule(
            spec.schedule, dict(spec.schedule_kwargs), spec.max_epochs * steps_per_epoch
        )
        factor = (state.learning_rate * schedule(step)).astype(state.l2.dtype)
    else:
        factor = jnp.ones_like(state.l2)
    params = jax.tree.map(
        lambda p, u: p + factor.reshape((-1,) + (1,) * (p.ndim - 1)) * u,
        state.params,
        direction,
    )
    return params, opt_state


def _minibatch_epoch(spec, state, data, order):
    """One pass over mini-batches in ``order`` [n_batches · b] (n marks padding).

    The order is shared by all models; see :func:`batch_orders`.
    """
    n, b = data.x.shape[0], spec.batch_size
    n_batches = -(-n // b)
    active = state.stop == RUNNING

    def take(a, idx):
        return jnp.take(a, idx, axis=0, mode="fill", fill_value=0)

    def step(carry, batch):
        st, sums = carry
        j, idx = batch
        valid = (idx < n).astype(data.x.dtype)[:, None]
        w = valid if data.weights is None else take(data.weights, idx)
        part = Data(take(data.x, idx), take(data.targets, idx), w, jnp.sum(w, 0))
        t = _objective_terms(spec, st.params, part, st)
        params, opt_state = _update(spec, st, part, t, st.epochs * n_batches + j)
        # only what a step changes is masked: few small ops per step
        moved = _where(active, (params, opt_state), (st.params, st.opt_state))
        st = st._replace(params=moved[0], opt_state=moved[1])
        sums = jax.tree.map(jnp.add, sums, t)
        return (st, sums), None

    zero = jax.tree.map(
        jnp.zeros_like,
        _objective_terms(
            spec, state.params, Data(data.x[:1], data.targets[:1], None, None), state
        ),
    )
    batches = (jnp.arange(n_batches), order.reshape(n_batches, b))
    (st, sums), _ = jax.lax.scan(step, (state, zero), batches)
    mean = jax.tree.map(lambda a: a / n_batches, sums)
    return st.params, st.opt_state, mean._replace(errors=sums.errors)


def batch_orders(n: int, batch_size: int, seed: int, first_epoch: int, count: int):
    """Shuffled row orders of ``count`` epochs, drawn on the host.  → [count, N].

    Epoch e's order is ``numpy.random.default_rng([seed, e]).permutation(n)``,
    padded with n to N = ⌈n / batch_size⌉ · batch_size: it depends only on the seed
    and the epoch, so chunks, resumes and separate runs agree. (XLA's sort on a
    CPU would cost more than a small epoch itself.)
    """
    padded = -(-n // batch_size) * batch_size
    out = np.full((count, padded), n, np.int32)
    for k in range(count):
        out[k, :n] = np.random.default_rng([seed, first_epoch + k]).permutation(n)
    return out


def chunk_orders(spec: Spec, n: int, seed: int, first_epoch: int, count: int):
    """The ``orders`` argument of a chunk of ``count`` epochs → [history_len, N]."""
    if spec.batch_size is None:
        return np.zeros((0,), np.int32)
    orders = batch_orders(n, spec.batch_size, seed, first_epoch, count)
    return np.pad(orders, ((0, spec.history_len - count), (0, 0)))


def epoch(spec: Spec, state: State, data: Data, order):
    """One epoch for every model, then the stopping rules.  → (state, terms)."""
    active = state.stop == RUNNING
    if spec.batch_size is None:  # full batch: check at θ, then step
        terms = _objective_terms(spec, state.params, data, state)
        params, opt_state = _update(spec, state, data, terms, state.epochs)
    else:  # mini-batch: the checks read the epoch's mean cost, after its steps
        params, opt_state, terms = _minibatch_epoch(spec, state, data, order)
    cost = terms.cost
    gnorm = jnp.sqrt(jnp.sum(terms.grads.w**2, axis=1) + terms.grads.b**2)
    prev = state.prev_cost
    rel = jnp.abs(prev - cost) / jnp.maximum(jnp.abs(prev), jnp.finfo(cost.dtype).tiny)
    stall = jnp.where(jnp.isfinite(prev) & (rel <= spec.tol), state.stall + 1, 0)
    reason = jnp.select(
        [
            ~jnp.isfinite(cost) | ~jnp.isfinite(gnorm),
            (terms.errors == 0)
            if spec.activation == "step"
            else jnp.zeros_like(stall, bool),
            gnorm < spec.gtol,
            (spec.tol > 0) & (stall >= spec.patience),
        ],
        [DIVERGED, ZERO_ERRORS, GTOL, TOL],
        RUNNING,
    )
    steps = reason == RUNNING if spec.batch_size is None else reason != DIVERGED
    new_finite = _all_finite(params)
    accept = active & steps & new_finite
    reason = jnp.where(active & steps & ~new_finite, DIVERGED, reason)
    epochs = state.epochs + accept
    reason = jnp.where(
        (reason == RUNNING) & (epochs >= spec.max_epochs), MAX_EPOCHS, reason
    )
    new = _where(accept, state._replace(params=params, opt_state=opt_state), state)
    new = new._replace(
        prev_cost=jnp.where(active, cost, prev),
        stall=jnp.where(active, stall, state.stall),
        epochs=epochs,
        stop=jnp.where(active, reason, state.stop),
    )
    return new, terms


@functools.lru_cache(maxsize=64)
def compiled_chunk(spec: Spec):
    """``run(state, data, orders, n_epochs)``: up to n_epochs epochs.

    ``orders`` [history_len, N] holds each epoch's mini-batch order (see
    :func:`batch_orders`; an empty [0] for full batches).

    Stops early once every model has stopped. Returns ``(state, cost_history,
    accuracy_history, epochs_iterated)`` with histories [history_len, M], NaN
    where a model was not running. One compile per spec and batch shape; the
    number of epochs is a traced value.
    """

    def run(state, data, orders, n_epochs):
        m = state.epochs.shape[0]
        dtype = state.prev_cost.dtype
        blank = jnp.full((spec.history_len, m), jnp.nan, dtype)
        acc_blank = blank if spec.record_accuracy else jnp.zeros((0, m), dtype)

        def cond(carry):
            i, st, *_ = carry
            return (i < n_epochs) & jnp.any(st.stop == RUNNING)

        def body(carry):
            i, st, costs, accs = carry
            running = st.stop == RUNNING
            order = orders[i] if spec.batch_size is not None else None
            st, terms = epoch(spec, st, data, order)
            costs = costs.at[i].set(jnp.where(running, terms.cost, jnp.nan))
            if spec.record_accuracy:
                accs = accs.at[i].set(jnp.where(running, terms.accuracy, jnp.nan))
            return i + 1, st, costs, accs

        i, state, costs, accs = jax.lax.while_loop(
            cond, body, (jnp.int32(0), state, blank, acc_blank)
        )
        return state, costs, accs, i

    return jax.jit(run)


@functools.lru_cache(maxsize=64)
def compiled_evaluate(spec: Spec):
    """``evaluate(params, data, state) -> (cost [M], accuracy [M])`` at params."""
    spec = dataclasses.replace(spec, record_accuracy=True)

    def evaluate(params, data, state):
        terms = _objective_terms(spec, params, data, state)
        return terms.cost, terms.accuracy  # the gradient is not needed: XLA drops it

    return jax.jit(evaluate)
