"""Sweep grids: the cartesian product of seeds × learning rates × folds × classes …

A :class:`Grid` turns named axes into the flat per-model arrays that
:func:`~jaxperc.train_many` takes, and maps results back to their labels.

Example::

    grid = make_grid(seed=range(4), learning_rate=[0.01, 0.1, 1.0], fold=range(5))
    result = train_many(x, y, weights=fold_masks, **grid.kwargs)
    cost = grid.reshape(result.cost)        # [4, 3, 5], axes in grid.axes order
"""

import itertools
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from jaxperc.errors import JaxpercError
from jaxperc.training.options import PerModel

# grid axis name → train_many keyword it feeds
AXIS_TO_ARGUMENT = {
    "seed": "seed",
    "learning_rate": "learning_rate",
    "fold": "weight_index",
    "resample": "weight_index",
    "class": "target_index",
    "l2": "l2",
}


class Grid(NamedTuple):
    """A cartesian product of named axes, flattened to M models (last axis fastest)."""

    axes: dict[str, np.ndarray]  # axis name → its values, in order
    labels: dict[str, np.ndarray]  # axis name → [M] value of each model

    @property
    def size(self) -> int:
        return int(np.prod([len(v) for v in self.axes.values()], dtype=np.int64))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    @property
    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``train_many`` (other axes: optimizer hparams)."""
        out: dict[str, Any] = {}
        hparams = {}
        for name, values in self.labels.items():
            if name in AXIS_TO_ARGUMENT:
                out[AXIS_TO_ARGUMENT[name]] = values
            else:
                hparams[name] = values
        if hparams:
            out["optimizer_kwargs"] = hparams
        return out

    def per_model(self, **defaults: Any) -> PerModel:
        """The grid as a :class:`PerModel` record; ``defaults`` fill unswept fields.

        ``defaults`` may name ``seed``, ``learning_rate`` and ``l2``.
        """
        kw = self.kwargs
        hparams = kw.pop("optimizer_kwargs", {})
        return PerModel(**{**defaults, **kw}, hparams=hparams)

    def reshape(self, per_model: np.ndarray) -> np.ndarray:
        """[M, ...] results → [len(axis 1), len(axis 2), …, ...]."""
        per_model = np.asarray(per_model)
        return per_model.reshape(self.shape + per_model.shape[1:])

    def label(self, model: int) -> dict[str, Any]:
        """The axis values of one model, e.g. {"seed": 3, "learning_rate": 0.1}."""
        return {k: v[model].item() for k, v in self.labels.items()}

    def select(self, **where) -> np.ndarray:
        """Model indices whose labels equal the given values."""
        mask = np.ones(self.size, bool)
        for name, value in where.items():
            if name not in self.labels:
                raise JaxpercError(
                    f"grid has no axis {name!r}; axes: {list(self.axes)}"
                )
            mask &= (
                np.isclose(self.labels[name], value)
                if np.issubdtype(self.labels[name].dtype, np.floating)
                else self.labels[name] == value
            )
        return np.flatnonzero(mask)


def make_grid(**axes: Iterable[Any]) -> Grid:
    """Build the cartesian product of the given axes, in the order given.

    Known axes: ``seed`` (ints), ``learning_rate`` (> 0), ``fold`` / ``resample``
    (column of the weights table), ``class`` (column of the targets table; pass
    it as ``**{"class": range(K)}``), ``l2``; any other name is a float
    hyper-parameter of the optimizer (``momentum``, ``b1`` …).

    Returns:
      A :class:`Grid` whose ``kwargs`` go straight into ``train_many``.
    """
    if not axes:
        raise JaxpercError("make_grid needs at least one axis, e.g. seed=range(4)")
    if "fold" in axes and "resample" in axes:
        raise JaxpercError(
            "a grid can sweep fold or resample, not both (one weights table)"
        )
    values = {}
    for name, vals in axes.items():
        arr = np.asarray(list(vals))
        if arr.ndim != 1 or arr.size == 0:
            raise JaxpercError(
                f"grid axis {name!r} must be a non-empty list of scalars"
            )
        if name in ("seed", "fold", "resample", "class"):
            if not np.issubdtype(arr.dtype, np.integer):
                raise JaxpercError(f"grid axis {name!r} must hold integers, got {arr}")
        elif not np.issubdtype(arr.dtype, np.number):
            raise JaxpercError(f"grid axis {name!r} must hold numbers, got {arr}")
        else:
            arr = arr.astype(np.float64)
        values[name] = arr
    combos = list(itertools.product(*(range(len(v)) for v in values.values())))
    idx = np.asarray(combos, dtype=np.int64).reshape(len(combos), len(values))
    labels = {name: vals[idx[:, i]] for i, (name, vals) in enumerate(values.items())}
    return Grid(axes=values, labels=labels)
