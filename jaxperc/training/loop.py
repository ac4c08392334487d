"""The compiled side of training: one epoch, the stopping rules, a chunk of epochs.

Everything here runs inside ``jax.jit`` on M models with a leading model axis and
one shared data set. A *chunk* of epochs is one ``while_loop``; the host driver
(:mod:`jaxperc.training.driver`) only steps in between chunks.

Per epoch and model the loop computes the cost and its gradient, checks the stopping
rules, and applies the optimizer's update. Models that stopped are frozen by masking:
their state no longer changes while the others go on.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp

from jaxperc.core.losses import cost as cost_fn
from jaxperc.core.model import Params
from jaxperc.training.newton import newton_direction
from jaxperc.training.objective import objective_terms
from jaxperc.training.optim import make_schedule
from jaxperc.training.state import (
    DIVERGED,
    GTOL,
    MAX_EPOCHS,
    RUNNING,
    TOL,
    ZERO_ERRORS,
    Data,
    Spec,
    State,
)


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


def _update(spec, state, data, terms, step, moving):
    """Each model's optimizer step: params + α·schedule(step)·direction.

    Plain gradient descent is written out (direction −∂C/∂θ, no optimizer state):
    the loop body then holds only the epoch's own arithmetic. ``moving`` [M]: the
    models whose step is kept (the others' is discarded by masking).
    """
    if spec.optimizer == "gd":
        direction, opt_state = jax.tree.map(jnp.negative, terms.grads), ()
    elif spec.optimizer == "newton":  # the Hessian came with the gradient
        direction, opt_state = jax.vmap(newton_direction)(
            state.params, terms.grads, terms.hessian, terms.cost, state.opt_state
        )
    else:
        if spec.optimizer == "lbfgs":
            terms = terms._replace(grads=_where(moving, terms.grads, _zeros(terms)))
        direction, opt_state = _optimizer_direction(spec, state, data, terms)
    factor = jnp.ones_like(state.l2)
    if spec.optim.uses_learning_rate:
        factor = state.learning_rate
        if spec.schedule not in (None, "constant"):
            schedule = make_schedule(
                spec.schedule,
                dict(spec.schedule_kwargs),
                spec.max_epochs * spec.steps_per_epoch(data.x.shape[0]),
            )
            factor = (factor * schedule(step)).astype(state.l2.dtype)
    params = jax.tree.map(
        lambda p, u: p + factor.reshape((-1,) + (1,) * (p.ndim - 1)) * u,
        state.params,
        direction,
    )
    return params, opt_state


def _zeros(terms):
    """Zero gradients: a model at rest, whose L-BFGS line search then ends at once.

    Under ``vmap`` every model's line search runs as long as the slowest one; a
    stopped model sits near its optimum, where a float32 line search tends to use
    all its steps, and would hold the running models back on every epoch.
    """
    return jax.tree.map(jnp.zeros_like, terms.grads)


def _optimizer_direction(spec, state, data, terms):
    """The direction and new state of each model's (optax or L-BFGS) optimizer."""
    opt = spec.optim

    def one(g, s, p, hp, value, ti, wi, si, l2):
        def value_fn(q):  # the objective, for L-BFGS's line search
            y = data.targets[:, ti]
            v = None if data.weights is None else data.weights[:, wi]
            raw = q
            if data.mean is not None:  # q is in standardised coordinates
                w = q.w / data.scale[si]
                raw = Params(w=w, b=q.b - jnp.sum(data.mean[si] * w))
            c = cost_fn(
                raw, data.x, y, loss=spec.loss, activation=spec.activation, weights=v
            )
            return c + 0.5 * l2 * jnp.sum(q.w**2)

        return opt.update(g, s, p, hp, value, value_fn)

    return jax.vmap(one)(
        terms.grads,
        state.opt_state,
        state.params,
        state.hparams,
        terms.cost,
        state.target_index,
        state.weight_index,
        state.standardizer_index,
        state.l2,
    )


def _minibatch_epoch(spec, state, data, order):
    """One pass over mini-batches in ``order`` [n_batches · b] (n marks padding).

    The order is shared by all models; see
    :func:`jaxperc.training.minibatch_orders.batch_orders`.
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
        part = Data(
            take(data.x, idx),
            take(data.targets, idx),
            w,
            jnp.sum(w, 0),
            data.mean,
            data.scale,
        )
        t = objective_terms(spec, st.params, part, st)
        step_count = st.step + st.epochs * n_batches + j
        params, opt_state = _update(spec, st, part, t, step_count, active)
        # only what a step changes is masked: few small ops per step
        moved = _where(active, (params, opt_state), (st.params, st.opt_state))
        st = st._replace(params=moved[0], opt_state=moved[1])
        sums = jax.tree.map(jnp.add, sums, t)
        return (st, sums), None

    shapes = jax.eval_shape(lambda: objective_terms(spec, state.params, data, state))
    zero = jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), shapes)  # no pass
    batches = (jnp.arange(n_batches), order.reshape(n_batches, b))
    (st, sums), _ = jax.lax.scan(step, (state, zero), batches)
    mean = jax.tree.map(lambda a: a / n_batches, sums)
    return st.params, st.opt_state, mean._replace(errors=sums.errors)


def _rules(spec: Spec, state: State, terms):
    """Which stopping rule fires for each model at this epoch's terms.

    Returns ``(reason, stall)``: reason [M] an index into STOP_REASONS (RUNNING
    where none fires), stall [M] the updated count of stalled epochs. Only the
    rules the spec turns on are computed: a rule that is off costs nothing per
    epoch. The first that fires wins: diverged, zero errors, gtol, tol.
    """
    cost = terms.cost
    reason = jnp.full(cost.shape, RUNNING, jnp.int32)
    diverged = ~jnp.isfinite(cost)
    stall = state.stall
    if spec.tol > 0:
        prev = state.prev_cost
        tiny = jnp.finfo(cost.dtype).tiny
        rel = jnp.abs(prev - cost) / jnp.maximum(jnp.abs(prev), tiny)
        stall = jnp.where(jnp.isfinite(prev) & (rel <= spec.tol), stall + 1, 0)
        reason = jnp.where(stall >= spec.patience, TOL, reason)
    if spec.gtol > 0:
        gnorm = jnp.sqrt(jnp.sum(terms.grads.w**2, axis=1) + terms.grads.b**2)
        reason = jnp.where(gnorm < spec.gtol, GTOL, reason)
        diverged = diverged | ~jnp.isfinite(gnorm)
    # without gtol a non-finite gradient shows in the new params, checked below
    if spec.activation == "step":
        reason = jnp.where(terms.errors == 0, ZERO_ERRORS, reason)
    return jnp.where(diverged, DIVERGED, reason), stall


def epoch(spec: Spec, state: State, data: Data, order):
    """One epoch for every model, then the stopping rules.  → (state, terms)."""
    active = state.stop == RUNNING
    if spec.batch_size is None:  # full batch: check at θ, then step
        terms = objective_terms(spec, state.params, data, state)
        reason, stall = _rules(spec, state, terms)
        steps = reason == RUNNING
        step = state.step + state.epochs
        params, opt_state = _update(spec, state, data, terms, step, active & steps)
    else:  # mini-batch: the checks read the epoch's mean cost, after its steps
        params, opt_state, terms = _minibatch_epoch(spec, state, data, order)
        reason, stall = _rules(spec, state, terms)
        steps = reason != DIVERGED
    new_finite = _all_finite(params)
    accept = active & steps & new_finite
    reason = jnp.where(active & steps & ~new_finite, DIVERGED, reason)
    epochs = state.epochs + accept
    reason = jnp.where(
        (reason == RUNNING) & (epochs >= spec.max_epochs), MAX_EPOCHS, reason
    )
    params, opt_state = _where(
        accept, (params, opt_state), (state.params, state.opt_state)
    )
    new = state._replace(
        params=params,
        opt_state=opt_state,
        prev_cost=jnp.where(active, terms.cost, state.prev_cost),
        stall=jnp.where(active, stall, state.stall) if spec.tol > 0 else state.stall,
        epochs=epochs,
        stop=jnp.where(active, reason, state.stop),
    )
    return new, terms


@functools.lru_cache(maxsize=64)
def compiled_chunk(spec: Spec):
    """``run(state, data, orders, n_epochs)``: up to n_epochs epochs.

    ``orders`` [history_len, N] holds each epoch's mini-batch order (see
    :func:`~jaxperc.training.minibatch_orders.batch_orders`; an empty [0] for
    full batches).

    Stops early once every model has stopped. Returns ``(state, cost_history,
    accuracy_history, epochs_iterated, (cost, accuracy))`` with histories
    [history_len, M], NaN where a model was not running, and the final cost and
    accuracy [M] of the models that stopped in this chunk (NaN for the others).
    The final evaluation lives in the same program as the epochs: one compile
    per spec and batch shape, not two; the number of epochs is a traced value.
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

        start = state.stop
        i, state, costs, accs = jax.lax.while_loop(
            cond, body, (jnp.int32(0), state, blank, acc_blank)
        )
        stopped = (start == RUNNING) & (state.stop != RUNNING)
        if spec.final_metrics:
            final = _final_terms(spec, state, data, stopped)
        else:  # not asked for: no second pass in the program
            nan = jnp.full(stopped.shape, jnp.nan, dtype)
            final = nan, nan
        return state, costs, accs, i, final

    return jax.jit(run)


def _evaluate(spec: Spec, params, data: Data, state: State):
    """Cost and accuracy [M] at params (the gradient is not needed: XLA drops it)."""
    spec = dataclasses.replace(spec, record_accuracy=True)
    terms = objective_terms(spec, params, data, state)
    return terms.cost, terms.accuracy


def _final_terms(spec: Spec, state: State, data: Data, stopped):
    """:func:`_evaluate` where some model stopped in this chunk, else NaN.

    A stopped model's params no longer change, so its final cost is known once
    it stops; chunks in which no model stopped skip the pass over the data.
    """

    def skip():
        nan = jnp.full(stopped.shape, jnp.nan, state.prev_cost.dtype)
        return nan, nan

    return jax.lax.cond(
        jnp.any(stopped), lambda: _evaluate(spec, state.params, data, state), skip
    )


@functools.lru_cache(maxsize=64)
def compiled_evaluate(spec: Spec):
    """``evaluate(params, data, state) -> (cost [M], accuracy [M])`` at params.

    A separate program, for the models whose final cost no chunk of this run
    measured (they had stopped before a resumed run's checkpoint).
    """
    return jax.jit(functools.partial(_evaluate, spec))
