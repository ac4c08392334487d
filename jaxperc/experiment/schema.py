"""The experiment schema: one frozen dataclass per config table, with defaults.

``docs/configs.md`` documents every field; :mod:`jaxperc.experiment.config` reads
TOML into these classes and validates it.
"""

from dataclasses import dataclass, field
from typing import Any

from jaxperc import core, data, training
from jaxperc.core.model import INITS as _INITS

# choice lists come from the registries that define them
SYNTHETIC = data.SYNTHETIC
DTYPES = ("float32", "float64")
INITS = tuple(_INITS)
GRADS = tuple(core.GRADS)
ACTIVATIONS = tuple(core.ACTIVATIONS)
LOSSES = tuple(core.LOSSES)
OPTIMIZERS = tuple(training.OPTIMIZERS)
SCHEDULES = tuple(training.SCHEDULES)
# what may choose the best model and setting: never test rows (see roles.py)
METRICS = ("validation_accuracy", "train_accuracy", "cost")
# optimizer options that a sweep may vary per model: every float option of an
# optax optimizer, in the order the optimizers list them
FLOAT_HPARAMS = tuple(
    dict.fromkeys(
        name
        for opt in training.OPTIMIZERS
        for name, kind in training.optimizer_options(opt).items()
        if kind is float
    )
)
LIST_AXES = ("seed", "learning_rate", "l2", *FLOAT_HPARAMS)


@dataclass(frozen=True)
class DataConfig:
    source: str = "breast_cancer"
    n_samples: int = 200
    n_features: int = 2
    margin: float = 0.5
    noise: float | None = None
    seed: int = 0
    target: str | None = None
    features: tuple[str, ...] | None = None
    header: bool = True
    delimiter: str = ","
    test_fraction: float = 0.25
    validation_fraction: float = 0.0
    split_seed: int = 0
    stratify: bool = True
    standardize: bool = True
    positive: str | None = None
    # None, "balanced" or ((class name, weight), ...): multiplies the fit weights
    class_weight: str | tuple[tuple[str, float], ...] | None = None


@dataclass(frozen=True)
class ModelConfig:
    activation: str = "sigmoid"
    init: str = "normal"
    init_scale: float = 0.01


@dataclass(frozen=True)
class TrainConfig:
    loss: str = "mse"
    grad: str = "manual"
    optimizer: str = "gd"
    optimizer_kwargs: tuple[tuple[str, Any], ...] = ()
    learning_rate: float = 0.1
    seed: int = 0
    max_epochs: int = 1000
    tol: float = 1e-7
    patience: int = 5
    gtol: float = 0.0
    batch_size: int | None = None
    data_seed: int = 0
    l2: float = 0.0
    schedule: str | None = None
    schedule_kwargs: tuple[tuple[str, Any], ...] = ()
    dtype: str = "float32"
    record_accuracy: bool = False


@dataclass(frozen=True)
class SweepConfig:
    """Grid axes; ``axes`` keeps (name, values) in the order they were written."""

    axes: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    fold: int | None = None
    bootstrap: int | None = None
    classes: str | tuple[str, ...] | None = None  # the ``class`` key
    outer_fold: int | None = None  # nested CV: outer folds around ``fold``


@dataclass(frozen=True)
class OutputConfig:
    dir: str = "runs"
    metric: str | None = None  # None: validation_accuracy, or cost without one
    plots: bool = True
    checkpoint_every: float = 30.0
    history: str | int = "all"  # "all", "log" or every N-th epoch (int ≥ 1)
    metrics_csv: bool | None = None  # None: only for histories of ≤ 1e6 rows
    mlflow: bool = False
    mlflow_uri: str | None = None  # default: $MLFLOW_TRACKING_URI, else ./mlruns
    mlflow_experiment: str | None = None  # default: the config's name
    mlflow_children: bool = False  # one child run per sweep setting


@dataclass(frozen=True)
class Config:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    sweep: SweepConfig = SweepConfig()
    output: OutputConfig = OutputConfig()
    name: str = "experiment"  # the file stem, used to name run folders
    # where it came from (named in errors), not part of what runs: not compared
    path: str = field(default="<config>", compare=False)
    overridden: frozenset[str] = field(default_factory=frozenset, compare=False)

    def locate(self, key: str) -> str:
        """``<file>: <key>`` or ``<file>: --set <key>``: where an error points."""
        return locate(self.path, self.overridden, key)


def locate(path: str, overridden: frozenset[str] | set[str], key: str) -> str:
    """Where a key came from: the config file, or a ``--set`` override of it."""
    if key in overridden or any(key.startswith(f"{k}.") for k in overridden):
        return f"{path}: --set {key}"
    return f"{path}: {key}"


# section → key → (type tag, default); "sweep" is handled on its own
SECTIONS = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "output": OutputConfig,
}


def type_of(section: str, key: str) -> tuple[type, bool]:
    """(base type, optional) of a key, read from the dataclass annotations."""
    special = {
        ("data", "features"): (list, True),
        ("data", "class_weight"): (dict, True),
        ("train", "optimizer_kwargs"): (dict, False),
        ("train", "schedule_kwargs"): (dict, False),
    }
    if (section, key) in special:
        return special[(section, key)]
    hint = SECTIONS[section].__annotations__[key]
    text = str(hint)
    optional = "None" in text
    for base in (bool, int, float, str):
        if hint is base or text.startswith(base.__name__):
            return base, optional
    raise AssertionError(f"no type for {section}.{key}")  # pragma: no cover
