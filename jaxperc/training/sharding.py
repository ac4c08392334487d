"""Spreading one sweep over several devices or processes, and over time when needed.

The model axis is what a sweep scales in, and models never talk to each other, so it
is the axis to shard: every per-model array is split over a 1-D
``jax.sharding.Mesh`` named ``"models"`` while the data set is replicated (or, for
very large n, split by rows over the same devices; XLA then sums the gradient's
row-partial products across devices). The same compiled program runs unchanged on
one device, on several devices of one machine, and across processes started with
``jax.distributed`` (GSPMD does the partitioning).

When a grid would not fit in device memory at once, :func:`models_per_pass` finds
how many models do, from XLA's memory analysis of the compiled chunk, and
``train_many`` runs the grid in passes of that many models.
"""

import logging

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

MODEL_AXIS = "models"
log = logging.getLogger("jaxperc")


def model_mesh(devices=None) -> Mesh:
    """A 1-D mesh over ``devices`` (default: every device of every process)."""
    devices = list(jax.devices() if devices is None else devices)
    return Mesh(np.asarray(devices), (MODEL_AXIS,))


def mesh_size(mesh: Mesh | None) -> int:
    return 1 if mesh is None else int(mesh.devices.size)


def round_up(m: int, multiple: int) -> int:
    return -(-m // multiple) * multiple


def put_on(tree, device):
    """Every leaf on ``device`` (None: leave where JAX put it)."""
    return tree if device is None else jax.device_put(tree, device)


def shard_models(tree, mesh: Mesh | None):
    """Split every leaf's leading (model) axis over the mesh."""
    if mesh is None:
        return tree
    sharding = NamedSharding(mesh, PartitionSpec(MODEL_AXIS))
    return jax.tree.map(lambda a: jax.device_put(a, sharding), tree)


def place_data(tree, mesh: Mesh | None, *, shard_rows: bool = False):
    """Replicate the data on every device, or split its rows over them."""
    if mesh is None:
        return tree
    spec = PartitionSpec(MODEL_AXIS) if shard_rows else PartitionSpec()
    sharding = NamedSharding(mesh, spec)
    return jax.tree.map(lambda a: jax.device_put(a, sharding), tree)


def to_host(a) -> np.ndarray:
    """A global array as one numpy array on every process."""
    if getattr(a, "is_fully_addressable", True):
        return np.asarray(a)
    return np.asarray(multihost_utils.process_allgather(a, tiled=True))


def fetch(*arrays) -> list[np.ndarray]:
    """Several arrays to the host in one transfer (gathered across processes)."""
    if all(getattr(a, "is_fully_addressable", True) for a in arrays):
        return [np.asarray(a) for a in jax.device_get(arrays)]
    return [to_host(a) for a in arrays]


def device_memory_bytes(device=None) -> int | None:
    """Memory the device can allocate, if it says (GPUs do; CPUs usually not)."""
    device = device or jax.devices()[0]
    try:
        stats = device.memory_stats() or {}
    except Exception:  # some backends do not implement memory_stats
        return None
    limit = stats.get("bytes_limit")
    return int(limit) if limit else None


def models_per_pass(bytes_for, m: int, budget: int | None) -> int:
    """How many of the m models fit in ``budget`` bytes at once.

    Args:
      bytes_for: ``bytes_for(k) -> int``, the bytes one compiled chunk of k models
        needs (arguments, outputs and XLA's temporaries).
      m: the number of models of the grid.
      budget: bytes available, or None for no limit.

    Returns:
      m when everything fits, else the largest power of two that does (≥ 1).
    """
    if budget is None or bytes_for(m) <= budget:
        return m
    small, large = bytes_for(1), bytes_for(2)
    per_model = max(large - small, 1)
    fit = max(1, int((budget - (small - per_model)) // per_model))
    k = 1 << (min(fit, m).bit_length() - 1)
    while k > 1 and bytes_for(k) > budget:
        k //= 2
    log.info(
        "grid of %d models needs %d bytes > budget %d: %d passes of %d models",
        m,
        bytes_for(m),
        budget,
        -(-m // k),
        k,
    )
    return k
