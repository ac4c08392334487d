"""The batch of models a run trains, and how it is set up.

Per-model arrays (seeds, learning rates, target and weight columns …) are padded
to a multiple of the mesh's devices, turned into every model's initial
:class:`~jaxperc.engine.State` in one compiled call, and sized: how many bytes a
compiled chunk of them needs decides how many models one pass can hold. When a
grid runs in several passes, their results are joined here too.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.engine import MAX_EPOCHS, Spec, State, compiled_chunk
from jaxperc.errors import JaxpercError
from jaxperc.model import Params, init_params
from jaxperc.runner import TrainResult
from jaxperc.sharding import mesh_size, put_on, round_up
from jaxperc.shuffle import chunk_orders

# The set-up program runs once per call on O(M·d) values: compiled with less
# optimisation it compiles in half the time. (Not the final evaluation: a full
# pass over the data, which runs about 4× slower unoptimised on a large grid.)
RUN_ONCE = {"xla_backend_optimization_level": 0}


def init_state(
    spec: Spec,
    keys,
    n_features,
    learning_rate,
    l2,
    hparams,
    target_index,
    weight_index,
    *,
    init="normal",
    scale=0.01,
    dtype=jnp.float32,
) -> State:
    """Each model's starting parameters and fresh optimizer state.

    ``init`` names a random scheme (drawn from each model's key) or is a
    :class:`Params` with w [M, d] and b [M] to start from (a warm start).
    """
    opt = spec.optim
    if isinstance(init, Params):
        params = Params(jnp.asarray(init.w, dtype), jnp.asarray(init.b, dtype))
    else:
        params = jax.vmap(
            lambda k: init_params(k, n_features, init=init, scale=scale, dtype=dtype)
        )(keys)
    opt_state = jax.vmap(opt.init)(params, hparams)
    m = keys.shape[0]
    return State(
        params=params,
        opt_state=opt_state,
        learning_rate=learning_rate,
        l2=l2,
        hparams=hparams,
        target_index=target_index,
        weight_index=weight_index,
        prev_cost=jnp.full((m,), jnp.inf, dtype),
        stall=jnp.zeros((m,), jnp.int32),
        epochs=jnp.zeros((m,), jnp.int32),
        stop=jnp.zeros((m,), jnp.int32),
    )


def initial_params(init: Params, m: int, d: int, dtype):
    """Starting params given by the caller, checked and broadcast to w [M, d], b [M]."""
    w, b = np.asarray(init.w, dtype), np.asarray(init.b, dtype)
    if w.shape not in ((d,), (m, d)) or b.shape not in ((), (m,)):
        raise JaxpercError(
            f"init params must have w [d] or [M, d] and b [] or [M] with d = {d}, "
            f"M = {m}; got w {w.shape}, b {b.shape}"
        )
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise JaxpercError("init params must be finite")
    return np.broadcast_to(w, (m, d)).copy(), np.broadcast_to(b, (m,)).copy()


def initial_state(setup, models):
    """State for the given models, padded to a multiple of the mesh's devices."""
    m = len(models["seed"])
    padded = round_up(m, mesh_size(setup["mesh"]))
    pad = {
        k: np.concatenate([v, np.repeat(v[-1:], padded - m, axis=0)])
        for k, v in models.items()
    }
    # numpy arrays go straight into the compiled program: no extra compiles
    hp = {k[3:]: v for k, v in pad.items() if k.startswith("hp.")}
    init = setup["init"]
    start = Params(pad["init.w"], pad["init.b"]) if "init.w" in pad else None
    state = _compiled_init(
        setup["spec"],
        setup["n_features"],
        init if start is None else "given",
        setup["scale"],
        jnp.dtype(setup["dtype"]),
    )(
        pad["seed"],
        pad["learning_rate"],
        pad["l2"],
        hp,
        pad["target_index"],
        pad["weight_index"],
        np.arange(padded) >= m,
        start,
    )
    return put_on(state, setup["device"])


@functools.lru_cache(maxsize=64)
def _compiled_init(spec, n_features, init, scale, dtype):
    """One compiled program that sets up every model's state (few dispatches)."""

    def setup(seeds, lr, l2, hp, target_index, weight_index, padding, start):
        keys = jax.vmap(jax.random.key)(seeds)
        state = init_state(
            spec,
            keys,
            n_features,
            lr,
            l2,
            hp,
            target_index,
            weight_index,
            init=start if init == "given" else init,
            scale=scale,
            dtype=dtype,
        )
        # padding models start stopped, so they never run
        return state._replace(stop=jnp.where(padding, MAX_EPOCHS, state.stop))

    return jax.jit(setup, compiler_options=RUN_ONCE)


def bytes_for(setup, models) -> int:
    """Bytes a compiled chunk of these models needs (XLA's memory analysis)."""
    state = initial_state(setup, models)
    spec, data = setup["spec"], setup["data"]
    orders = chunk_orders(spec, data.x.shape[0], 0, 0, 1)
    lowered = compiled_chunk(spec).lower(state, data, orders, 1)
    mem = lowered.compile().memory_analysis()
    return int(
        mem.argument_size_in_bytes + mem.output_size_in_bytes + mem.temp_size_in_bytes
    )


def concatenate(results: list[TrainResult]) -> TrainResult:
    """Join the results of several passes along the model axis."""
    epochs = max(r.cost_history.shape[1] for r in results)

    def pad(h):
        return np.pad(h, ((0, 0), (0, epochs - h.shape[1])), constant_values=np.nan)

    joined = [
        r._replace(
            cost_history=pad(r.cost_history),
            accuracy_history=None
            if r.accuracy_history is None
            else pad(r.accuracy_history),
        )
        for r in results
    ]
    return jax.tree.map(
        lambda *a: (
            jnp.concatenate(a) if isinstance(a[0], jax.Array) else np.concatenate(a)
        ),
        *joined,
    )
