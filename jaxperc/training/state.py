"""What the compiled loop carries: static choices, shared data, per-model state.

:class:`Spec` holds the static choices of a run (one compile per value), :class:`Data`
the data set every model shares, :class:`Models` the per-model settings as host
arrays, and :class:`State` every model's training state with a leading model axis.
:func:`initial_state` turns a :class:`Models` record into the first :class:`State` in
one compiled call.
"""

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.core.model import Params, init_params
from jaxperc.errors import JaxpercError
from jaxperc.training.optim import make_optimizer
from jaxperc.training.options import stops_early
from jaxperc.training.sharding import mesh_size, put_on, round_up

STOP_REASONS = ("running", "tol", "gtol", "zero_errors", "max_epochs", "diverged")
RUNNING, TOL, GTOL, ZERO_ERRORS, MAX_EPOCHS, DIVERGED = range(len(STOP_REASONS))

# The set-up program runs once per call on O(M·d) values: compiled with less
# optimisation it compiles in half the time. (Not the final evaluation: a full
# pass over the data, which runs about 4× slower unoptimised on a large grid.)
RUN_ONCE = {"xla_backend_optimization_level": 0}


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
    holdout: bool = False  # stop on each model's held-out weight column's cost
    record_accuracy: bool = False
    final_metrics: bool = True  # measure cost and accuracy at the final params
    history_len: int = 256  # epochs a chunk can hold
    has_l2: bool = True  # False: no model has a penalty, its terms are left out

    @property
    def stops_early(self) -> bool:
        """Whether a model may stop before max_epochs (one rule, in options)."""
        return stops_early(self.tol, self.gtol, self.activation)

    @property
    def optim(self):
        return make_optimizer(self.optimizer, dict(self.optimizer_kwargs))

    def steps_per_epoch(self, n: int) -> int:
        """Optimizer steps in one epoch over n rows."""
        return 1 if self.batch_size is None else -(-n // self.batch_size)


class Data(NamedTuple):
    """The data set shared by all models (never copied per model).

    With standardizer tables, model m trains in the coordinates
    ``(x − mean[s]) / scale[s]`` (s = its ``standardizer_index``) while x stays raw.
    """

    x: jax.Array  # [n, d], or the non-zeros of a sparse x (training.sparse)
    targets: jax.Array  # [n, K] target columns, values in [0, 1]
    weights: jax.Array | None  # [n, F] per-sample weight columns, or None
    weight_sums: jax.Array | None  # [F]
    mean: jax.Array | None = None  # [S, d] standardizer shifts, or None
    scale: jax.Array | None = None  # [S, d] standardizer scales (> 0)


class Models(NamedTuple):
    """Per-model settings of a run, host arrays with a leading model axis [M].

    Passes over the model axis (memory-sized passes, padding) slice the whole
    record with ``jax.tree.map``.
    """

    seed: np.ndarray  # [M] int64 initialisation seeds
    learning_rate: np.ndarray  # [M]
    l2: np.ndarray  # [M]
    target_index: np.ndarray  # [M] int32 column of Data.targets
    weight_index: np.ndarray  # [M] int32 column of Data.weights
    standardizer_index: np.ndarray  # [M] int32 row of Data.mean / Data.scale
    hparams: dict[str, np.ndarray]  # optimizer float hyper-parameters, each [M]
    init: Params | None  # given starting params w [M, d], b [M], or None (random)
    opt_state: Any  # given optimizer state, leaves [M, ...], or None (fresh)
    step: np.ndarray  # [M] int32 optimizer steps taken before this run
    holdout_index: np.ndarray | None = None  # [M] int32 held-out column, or None

    @property
    def size(self) -> int:
        return len(self.seed)

    def take(self, ids) -> "Models":
        """The models at ``ids`` (a slice or an index array), every field at once."""
        return jax.tree.map(lambda a: a[ids], self)


class Setup(NamedTuple):
    """What every pass of one ``train_many`` call shares."""

    spec: Spec
    data: Data
    n_features: int
    init: str  # random scheme when Models.init is None
    init_scale: float
    dtype: Any
    device: Any  # a jax.Device or None
    mesh: Any  # a jax.sharding.Mesh or None


class State(NamedTuple):
    """Per-model training state; every leaf has a leading model axis [M, ...]."""

    params: Params  # w [M, d], b [M]
    opt_state: Any
    learning_rate: jax.Array  # [M]
    l2: jax.Array  # [M]
    hparams: dict[str, jax.Array]  # optimizer float hyper-parameters, each [M]
    target_index: jax.Array  # [M] int32: column of Data.targets
    weight_index: jax.Array  # [M] int32: column of Data.weights
    standardizer_index: jax.Array  # [M] int32: row of Data.mean / Data.scale
    prev_cost: jax.Array  # [M] cost of the previous epoch
    stall: jax.Array  # [M] int32 epochs in a row with relative change < tol
    epochs: jax.Array  # [M] int32 epochs applied in this run
    step: jax.Array  # [M] int32 optimizer steps taken before this run
    stop: jax.Array  # [M] int32 index into STOP_REASONS (0: still running)
    holdout_index: jax.Array  # [M] int32: held-out column of Data.weights


def given_params(init: Params, m: int, d: int, dtype) -> Params:
    """Starting params given by the caller, checked and broadcast to w [M, d], b [M]."""
    w, b = np.asarray(init.w, dtype), np.asarray(init.b, dtype)
    if w.shape not in ((d,), (m, d)) or b.shape not in ((), (m,)):
        raise JaxpercError(
            f"init params must have w [d] or [M, d] and b [] or [M] with d = {d}, "
            f"M = {m}; got w {w.shape}, b {b.shape}"
        )
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise JaxpercError("init params must be finite")
    return Params(np.broadcast_to(w, (m, d)).copy(), np.broadcast_to(b, (m,)).copy())


def pad_models(models: Models, size: int) -> Models:
    """``models`` followed by copies of the last one, up to ``size`` models."""
    extra = size - models.size
    return jax.tree.map(
        lambda a: np.concatenate([a, np.repeat(np.asarray(a)[-1:], extra, axis=0)]),
        models,
    )


def initial_state(setup: Setup, models: Models) -> State:
    """State for the given models, padded to a multiple of the mesh's devices.

    Given params and an optimizer state that needs no set-up (plain gradient
    descent has none) are assembled on the host: nothing to compile. Otherwise
    one compiled program draws the params and sets up the optimizer.
    """
    m = models.size
    padded = pad_models(models, round_up(m, mesh_size(setup.mesh)))
    padding = np.arange(padded.size) >= m
    dtype = jnp.dtype(setup.dtype)
    if padded.init is not None and (
        padded.opt_state is not None or setup.spec.optimizer == "gd"
    ):
        params = jax.tree.map(lambda a: np.asarray(a, dtype), padded.init)
        opt_state = () if padded.opt_state is None else padded.opt_state
        # numpy leaves go to the first compiled chunk as they are, which moves
        # them to the device its data lives on (setup.device): jit's own
        # argument transfer costs less than a device_put of 13 small arrays
        return _state(padded, params, opt_state, padding, np)
    # numpy arrays go straight into the compiled program: no extra compiles
    state = _compiled_init(
        setup.spec, setup.n_features, setup.init, setup.init_scale, dtype
    )(padded, padding)
    return put_on(state, setup.device)


def _state(models: Models, params: Params, opt_state, padding, xp) -> State:
    """The first State; ``xp`` is numpy on the host or jax.numpy inside jit."""
    m = padding.shape[0]
    return State(
        params=params,
        opt_state=opt_state,
        learning_rate=models.learning_rate,
        l2=models.l2,
        hparams=models.hparams,
        target_index=models.target_index,
        weight_index=models.weight_index,
        standardizer_index=models.standardizer_index,
        holdout_index=models.weight_index
        if models.holdout_index is None
        else models.holdout_index,
        prev_cost=xp.full((m,), xp.inf, params.b.dtype),
        stall=xp.zeros((m,), xp.int32),
        epochs=xp.zeros((m,), xp.int32),
        step=models.step,
        # padding models start stopped, so they never run
        stop=xp.where(padding, MAX_EPOCHS, RUNNING).astype(xp.int32),
    )


@functools.lru_cache(maxsize=64)
def _compiled_init(spec: Spec, n_features: int, init: str, scale: float, dtype):
    """One compiled program that sets up every model's state (few dispatches)."""
    opt = spec.optim

    def setup(models: Models, padding):
        if models.init is None:
            keys = jax.vmap(jax.random.key)(models.seed)
            params = jax.vmap(
                lambda k: init_params(
                    k, n_features, init=init, scale=scale, dtype=dtype
                )
            )(keys)
        else:
            params = jax.tree.map(lambda a: jnp.asarray(a, dtype), models.init)
        opt_state = (
            jax.vmap(opt.init)(params, models.hparams)
            if models.opt_state is None
            else models.opt_state
        )
        state = _state(models, params, opt_state, padding, jnp)
        # a weakly typed leaf (optax's line-search info starts as a Python
        # scalar) would make the chunk's second call, fed the state the first
        # one returned, compile the whole chunk again
        return jax.tree.map(lambda a: jax.lax.convert_element_type(a, a.dtype), state)

    return jax.jit(setup, compiler_options=RUN_ONCE)
