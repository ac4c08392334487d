"""The typed hand-off into training: what each model varies, and what they share.

``train_many`` takes keywords for users; code that builds a run from a config (the
experiment layer) hands the same request over as two records instead:
:class:`PerModel` (the settings that may differ per model, each a scalar or an [M]
array) and :class:`TrainOptions` (the static choices every model shares), and calls
:func:`jaxperc.training.api.train_models`.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np


def stops_early(tol: float, gtol: float, activation: str) -> bool:
    """Whether a model may stop before max_epochs (tol, gtol, or the step
    activation's zero errors). Without a rule, max_epochs is the plan, not a
    failure to converge."""
    return tol > 0 or gtol > 0 or activation == "step"


class PerModel(NamedTuple):
    """Settings that may differ per model: each a scalar (shared) or an [M] array."""

    seed: Any = 0  # initialisation seeds (ints)
    learning_rate: Any = 0.1  # α > 0
    l2: Any = 0.0  # penalty (l2/2)·‖w‖² ≥ 0
    target_index: Any = None  # column of the targets table (default 0)
    weight_index: Any = None  # column of the weights table (default 0)
    hparams: Mapping[str, Any] = {}  # optimizer float options (momentum, b1 …)
    standardizer_index: Any = None  # row of the standardizer tables (default 0)
    holdout_index: Any = None  # held-out weight column (early stopping), or None

    @property
    def size(self) -> int:
        """M: the common length of the array-valued fields (1 when all are scalars)."""
        fields = [*self[:5], *self[6:], *self.hparams.values()]
        return max((np.shape(v)[0] for v in fields if np.ndim(v) > 0), default=1)


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """Choices every model of a run shares (see ``train_many`` for each one)."""

    loss: str = "mse"
    activation: str = "sigmoid"
    grad: str = "manual"
    optimizer: str = "gd"
    optimizer_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    schedule: str | None = None
    schedule_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    max_epochs: int = 1000
    tol: float = 1e-7
    patience: int = 5
    gtol: float = 0.0
    batch_size: int | None = None
    data_seed: int = 0
    init: str = "normal"
    init_scale: float = 0.01
    dtype: Any = None
    record_accuracy: bool = False
    final_metrics: bool = True  # False: TrainResult.cost/.accuracy are NaN
    block_rows: int | str | None = "auto"
    history_len: int | None = None
    compact: bool = True
    shard_rows: bool = False
    memory_budget: int | str | None = "auto"

    @property
    def has_stopping_rule(self) -> bool:
        """Whether a model may stop before max_epochs: see :func:`stops_early`."""
        return stops_early(self.tol, self.gtol, self.activation)
