"""Memory-sized passes: how many models one compiled pass can hold, and joining passes.

When a grid would not fit in device memory at once, ``train_many`` runs it in passes
of as many models as fit (:func:`~jaxperc.training.sharding.models_per_pass` decides
from :func:`bytes_for`), then joins their results along the model axis.
"""

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.training.driver import TrainResult
from jaxperc.training.loop import compiled_chunk
from jaxperc.training.minibatch_orders import chunk_orders
from jaxperc.training.state import Models, Setup, initial_state

# what bytes_for measured, by everything that sizes the program: asking XLA means
# placing a state and compiling, about 3 ms of every call on a GPU otherwise
_MEASURED: dict = {}
_MEASURED_MAX = 256


def bytes_for(setup: Setup, models: Models) -> int:
    """Bytes a compiled chunk of these models needs (XLA's memory analysis)."""
    key = _signature(setup, models)
    if key not in _MEASURED:
        if len(_MEASURED) >= _MEASURED_MAX:
            _MEASURED.clear()
        _MEASURED[key] = _measure(setup, models)
    return _MEASURED[key]


def _signature(setup: Setup, models: Models) -> tuple:
    """Setup and models as far as the program's size goes: shapes, not values."""
    leaves, tree = jax.tree.flatten((setup.data, models))
    shapes = tuple((np.shape(a), np.result_type(a).str) for a in leaves)
    return setup._replace(data=None), tree, shapes


def _measure(setup: Setup, models: Models) -> int:
    state = initial_state(setup, models)
    spec, data = setup.spec, setup.data
    orders = chunk_orders(spec, data.x.shape[0], 0, 0, 1)
    lowered = compiled_chunk(spec).lower(state, data, orders, 1)
    mem = lowered.compile().memory_analysis()
    return int(
        mem.argument_size_in_bytes + mem.output_size_in_bytes + mem.temp_size_in_bytes
    )


def bytes_for_count(setup: Setup, models: Models, k: int) -> int:
    """:func:`bytes_for` k copies of the first model (the size is what matters)."""
    return bytes_for(setup, models.take(np.zeros(k, np.int64)))


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
