"""The layout of a run before anything compiles: its Spec, Models and shared Data.

Host side, pure numpy and Python: the per-model settings become the typed
:class:`~jaxperc.training.state.Models` record (checked, with given starting params
or a previous result's optimizer state), the shared options become the static
:class:`~jaxperc.training.state.Spec` (row blocks sized to this machine's cache,
chunk length), and the data go to the device once.
"""

import functools
import glob
import os

import jax
import jax.numpy as jnp
import numpy as np

from jaxperc.core.model import Params
from jaxperc.errors import JaxpercError
from jaxperc.training.checks import model_count, per_model
from jaxperc.training.driver import TrainResult
from jaxperc.training.optim import check_learning_rate
from jaxperc.training.options import PerModel, TrainOptions
from jaxperc.training.state import Data, Models, Spec, given_params

CACHE_SYSFS = "/sys/devices/system/cpu/cpu0/cache"
FALLBACK_CACHE_BYTES = 32 << 20


@functools.lru_cache(maxsize=1)
def last_level_cache_bytes() -> int:
    """Size of the CPU's largest data cache, read once from sysfs (Linux).

    Falls back to 32 MiB where the kernel does not report it.
    """
    sizes = []
    for index in glob.glob(os.path.join(CACHE_SYSFS, "index*")):
        try:
            with open(os.path.join(index, "type")) as f:
                if f.read().strip() == "Instruction":
                    continue
            with open(os.path.join(index, "size")) as f:
                text = f.read().strip().upper()
        except OSError:
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            sizes.append(int(digits) * scale)
    return max(sizes, default=FALLBACK_CACHE_BYTES)


def default_block_rows(n: int, m: int, device, itemsize: int = 4) -> int | None:
    """Rows per block of the full-batch pass on a CPU (None: one pass, e.g. GPUs).

    A block's [M, rows] intermediates (pre-activations, per-sample terms, δ:
    about four arrays) should sit in the last-level cache with room to spare:
    M·rows values of ``itemsize`` bytes, times 8, fill at most that cache. On a
    2-core x86 CPU with 32 MiB of L3 this gives 2^20 values per block (4 MiB in
    float32: 16384 rows at 64 models, 1024 rows at 1024 models), which measured
    best for both a memory-bound grid (64 models, d = 16) and a compute-bound
    one (1024 models, d = 64); see docs/performance.md. Smaller blocks pay a
    kernel launch per block, larger ones spill out of cache.
    """
    platform = (device or jax.devices()[0]).platform
    if platform != "cpu":
        return None
    values = max(last_level_cache_bytes() // (8 * itemsize), 1)
    rows = min(1 << 20, max(256, 1 << max(0, (values // max(m, 1)).bit_length() - 1)))
    return rows if n >= 4 * rows else None


def _itemsize(dtype) -> int:
    return jnp.dtype(dtype or jnp.float32).itemsize


def make_spec(
    o: TrainOptions,
    opt_kwargs,
    float_hp,
    n: int,
    m: int,
    device,
    *,
    has_l2: bool,
    sparse: bool = False,
    holdout: bool = False,
    d: int = 1,
) -> Spec:
    """The static compile key of a run (a sparse x is one pass: no row blocks).

    Newton's method holds a [M, rows, d] product per block (the Hessian's
    Σ sᵢxᵢxᵢᵀ), so its blocks are sized as if there were M·(d + 1) models.
    """
    block_rows = o.block_rows
    if sparse:
        block_rows = None
    elif block_rows == "auto":
        per_block = m * (d + 1) if o.optimizer == "newton" else m
        block_rows = (
            None
            if o.batch_size is not None or o.shard_rows
            else default_block_rows(n, per_block, device, _itemsize(o.dtype))
        )
    return Spec(
        loss=o.loss,
        activation=o.activation,
        grad=o.grad,
        optimizer=o.optimizer,
        optimizer_kwargs=tuple(
            sorted((k, v) for k, v in opt_kwargs.items() if k not in float_hp)
        ),
        schedule=o.schedule,
        schedule_kwargs=tuple(sorted(o.schedule_kwargs.items())),
        max_epochs=o.max_epochs,
        tol=float(o.tol),
        patience=o.patience,
        gtol=float(o.gtol),
        batch_size=o.batch_size,
        block_rows=block_rows,
        record_accuracy=o.record_accuracy,
        final_metrics=o.final_metrics,
        history_len=o.history_len
        or default_history_len(o.max_epochs, o.batch_size, n, m),
        has_l2=has_l2,
        holdout=holdout,
    )


def make_models(
    per: PerModel, n_columns: tuple[int, int], weight_table, init, opt, d, dtype
) -> Models:
    """Every model's settings as [M] host arrays, checked.

    ``n_columns``: how many target columns and standardizer rows there are.
    """
    n_targets, n_standardizers = n_columns
    check_learning_rate(opt, per.learning_rate)
    target_index, weight_index = per.target_index, per.weight_index
    m = model_count({**per._asdict(), **per.hparams, "hparams": None})
    holdout = per.holdout_index
    n_w = 1 if weight_table is None else weight_table.shape[1]
    models = Models(
        seed=per_model("seed", per.seed, m, np.int64),
        learning_rate=per_model(
            "learning_rate", per.learning_rate, m, dtype, positive=True
        ),
        l2=per_model("l2", per.l2, m, dtype, nonnegative=True),
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
        standardizer_index=per_model(
            "standardizer_index",
            0 if per.standardizer_index is None else per.standardizer_index,
            m,
            np.int32,
            below=n_standardizers,
        ),
        hparams={k: per_model(k, v, m, dtype) for k, v in per.hparams.items()},
        holdout_index=None
        if holdout is None
        else per_model("holdout_index", holdout, m, np.int32, below=n_w),
        init=None,
        opt_state=None,
        step=np.zeros(m, np.int32),
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
    if init is None:
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


def default_history_len(max_epochs, batch_size, n, m) -> int:
    """Epochs per compiled chunk: up to 1024, fewer for big histories or orders."""
    length = min(max_epochs, 1024, max(16, (1 << 24) // max(m, 1)))
    if batch_size is not None:  # a chunk carries one row order per epoch
        length = min(length, max(1, (1 << 24) // n))
    return length


def device_data(x, targets, weight_table, device=None) -> Data:
    """The shared data on ``device`` (None: the default one), in one batched
    transfer (device_put: no compile for a copy)."""
    weight_sums = None if weight_table is None else weight_table.sum(axis=0)
    return jax.device_put(Data(x, targets, weight_table, weight_sums), device)
