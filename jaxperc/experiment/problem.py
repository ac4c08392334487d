"""A config turned into arrays: the data, its rows' roles, the grid, the options.

:func:`prepare` loads and splits the data, builds the weight columns that give each
model its training and validation rows (:mod:`~jaxperc.experiment.roles`), fits the
standardizers on training rows only — one per weight column when there are several —
and builds the sweep grid, without touching the disk, so every mistake surfaces
before a run folder exists. Errors found here name the config file and key
(:func:`blame`).
"""

import contextlib
import dataclasses
from typing import Any, NamedTuple

import numpy as np

import jaxperc.data
from jaxperc import training
from jaxperc.errors import ConfigError, DataError, JaxpercError, unknown_choice
from jaxperc.experiment import roles
from jaxperc.experiment.config import Config
from jaxperc.experiment.nested import NestedColumns, nested_columns


class Problem(NamedTuple):
    """Everything a run needs, as host arrays (rows of ``x`` are all samples)."""

    dataset: Any  # jaxperc.data.Dataset after data.features / data.positive
    x: np.ndarray  # [n, d] float64: globally standardised, or raw (see inputs)
    targets: np.ndarray  # [n, K] 0/1 target columns
    train_idx: np.ndarray  # [n_train] the training part (fit + validation rows)
    test_idx: np.ndarray  # [n_test] held-out test rows (may be empty)
    positive: tuple[str, ...]  # [K] name of class "1" of each target column
    negative: tuple[str, ...]  # [K] name of class "0" of each target column
    roles: roles.RowRoles  # [n_train, F] fit / validation / test rows per column
    inputs: roles.ModelInputs  # the standardizer each model sees
    grid: training.Grid
    per_model: training.PerModel  # what each of the grid's models varies
    options: training.TrainOptions  # what they share
    nested: NestedColumns | None = None  # under sweep.outer_fold

    fit_weights: np.ndarray | None = None  # weights × data.class_weight (or None)

    @property
    def weights(self) -> np.ndarray | None:
        """[n_train, F] fit weights (fold masks, bootstrap counts, validation split)."""
        return self.roles.weights

    @property
    def training_weights(self) -> np.ndarray | None:
        """[n_train, F] the weights training sees: ``weights`` times each row's
        class weight (``data.class_weight``); validation and test rows never
        weigh anything but 1 in a metric."""
        return self.weights if self.fit_weights is None else self.fit_weights

    def standardizer_of(self, model: int) -> jaxperc.data.Standardizer:
        """Maps raw rows to the coordinates of ``model``'s parameters."""
        return self.inputs.of(model, self.dataset.n_features)

    def model_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """[M] target column and [M] weights column of each model."""
        m = self.grid.size
        ti, wi = self.per_model.target_index, self.per_model.weight_index
        ti = np.broadcast_to(np.asarray(0 if ti is None else ti), (m,))
        wi = np.broadcast_to(np.asarray(0 if wi is None else wi), (m,))
        return ti.astype(int), wi.astype(int)


def _load(config: Config):
    d = config.data
    if d.source == "blobs":
        noise = 0.0 if d.noise is None else d.noise
        return jaxperc.data.make_blobs(
            d.n_samples, d.n_features, margin=d.margin, noise=noise, seed=d.seed
        )
    if d.source == "xor":
        noise = 0.1 if d.noise is None else d.noise
        return jaxperc.data.make_xor(d.n_samples, noise=noise, seed=d.seed)
    if jaxperc.data.source_kind(d.source) == "bundled":
        return jaxperc.data.load_dataset(d.source)
    return jaxperc.data.load_csv(
        d.source,
        target=d.target,
        features=d.features,
        header=d.header,
        delimiter=d.delimiter,
    )


def load_data(config: Config):
    """The data set a config names, after ``data.features`` and ``data.positive``."""
    d = config.data
    is_csv = jaxperc.data.source_kind(d.source) == "file"
    with blame(config, "data.source"):
        ds = _load(config)
    if d.features is not None and not is_csv:
        cols = []
        for name in d.features:
            if name not in ds.feature_names:
                message = unknown_choice(
                    "feature",
                    name,
                    ds.feature_names,
                    subject=f"{name!r} is not a feature of {ds.name}",
                    listing="its features are",
                )
                raise ConfigError(f"{config.locate('data.features')}: {message}")
            cols.append(ds.feature_names.index(name))
        ds = dataclasses.replace(ds, x=ds.x[:, cols], feature_names=tuple(d.features))
    if d.positive is not None:
        with blame(config, "data.positive"):
            ds = ds.binary(d.positive)
    return ds


# data-layer arguments → the config keys that set them
_ARGUMENT_KEYS = {
    "n_samples": "data.n_samples",
    "n_features": "data.n_features",
    "margin": "data.margin",
    "noise": "data.noise",
    "target": "data.target",
    "features": "data.features",
    "positive": "data.positive",
    "k": "sweep.fold",
    "n_resamples": "sweep.bootstrap",
}


@contextlib.contextmanager
def blame(config: Config, key: str):
    """Turn an error found while using the config into one naming its file and key.

    The key is the one that caused it: the error's ``argument`` where the raiser
    knows it (``n_samples`` → ``data.n_samples``), else ``key``.
    """
    try:
        yield
    except ConfigError:
        raise
    except JaxpercError as err:
        where = _ARGUMENT_KEYS.get(err.argument or "", key)
        raise ConfigError(f"{config.locate(where)}: {err}") from None


def _target_columns(config: Config, ds) -> tuple[list[int], tuple, tuple]:
    """Which target columns to train (class axis) and their class names."""
    k = ds.n_classes
    if k == 2:
        positive, negative = (ds.classes[1],), (ds.classes[0],)
    else:
        positive = tuple(ds.classes)
        negative = tuple(f"not {c}" for c in ds.classes)
    wanted = config.sweep.classes
    if wanted is None:
        if k > 2:
            raise ConfigError(
                f"{config.locate('sweep.class')}: data set {ds.name} has {k} "
                f'classes; set sweep.class = "all" (one-vs-rest) or '
                f"data.positive = {ds.classes[0]!r}"
            )
        return [], positive, negative
    if wanted == "all":
        return list(range(len(positive))), positive, negative
    columns = []
    for name in wanted:
        if name not in positive:
            message = unknown_choice(
                "class",
                name,
                positive,
                subject=f"{name!r} is not a class of {ds.name}",
                listing='use "all" or some of',
            )
            raise ConfigError(f"{config.locate('sweep.class')}: {message}")
        columns.append(positive.index(name))
    return columns, positive, negative


def prepare(config: Config) -> Problem:
    """Load, split, standardise and build the grid; nothing is written."""
    d, t, s = config.data, config.train, config.sweep
    ds = load_data(config)
    columns, positive, negative = _target_columns(config, ds)
    if d.test_fraction > 0:
        with blame(config, "data.test_fraction"):
            train_idx, test_idx = jaxperc.data.train_test_split(
                ds.y,
                test_fraction=d.test_fraction,
                seed=d.split_seed,
                stratify=d.stratify,
            )
    else:
        train_idx, test_idx = np.arange(ds.n_samples), np.arange(0)
    if t.batch_size is not None and t.batch_size > len(train_idx):
        raise ConfigError(
            f"{config.locate('train.batch_size')}: {t.batch_size} exceeds the "
            f"{len(train_idx)} training samples; use at most {len(train_idx)} or "
            "leave it out for full-batch training"
        )
    axes: dict[str, Any] = {name: list(values) for name, values in s.axes}
    if columns:
        axes["class"] = columns
    with blame(config, "sweep.fold" if s.fold else "data.validation_fraction"):
        rows, plan, column_axis = _row_roles(config, ds.y[train_idx])
    if column_axis is not None:
        axes[column_axis] = list(range(rows.weights.shape[1]))
    if not axes:
        axes["seed"] = [t.seed]
    with blame(config, "sweep"):
        grid = training.make_grid(**axes)
    per_model = grid.per_model(seed=t.seed, learning_rate=t.learning_rate, l2=t.l2)
    x, inputs = ds.x.astype(np.float64), roles.ModelInputs(None, None, None)
    if d.standardize and rows.weights is not None:
        # each column's own standardizer, fitted on its training rows only
        tables = jaxperc.data.fit_standardizers(x[train_idx], rows.weights)
        index = np.broadcast_to(
            np.asarray(0 if per_model.weight_index is None else per_model.weight_index),
            (grid.size,),
        ).astype(np.int64)
        per_model = per_model._replace(standardizer_index=index)
        inputs = roles.ModelInputs(None, tables, index)
    elif d.standardize:
        std = jaxperc.data.fit_standardizer(
            ds.x[train_idx], feature_names=ds.feature_names
        )
        x, inputs = std.apply(ds.x), roles.ModelInputs(std, None, None)
    with blame(config, "data.class_weight"):
        fit = class_weighted(d.class_weight, ds.classes, ds.y[train_idx], rows.weights)
    return Problem(
        ds, x, ds.targets(), train_idx, test_idx, positive, negative,
        rows, inputs, grid, per_model, train_options(config), plan, fit,
    )  # fmt: skip


def class_weighted(class_weight, classes, y_train, weights) -> np.ndarray | None:
    """[n_train, F] fit weights times each row's class weight (None: no change).

    The weights come from :func:`jaxperc.data.class_weights`, per weight column
    on that column's fitted rows: ``"balanced"`` balances each fold or resample
    on its own rows, as ``compute_class_weight`` would on the rows it is given.
    A table names classes (others weigh 1). Every target column (one-vs-rest
    included) sees the same row weights.
    """
    if class_weight is None:
        return None
    if class_weight != "balanced":
        class_weight = {_class_index(name, classes): w for name, w in class_weight}
    base = np.ones((len(y_train), 1)) if weights is None else weights
    table = np.empty((len(classes), base.shape[1]))  # [K, F]
    for f, column in enumerate(base.T):
        try:
            table[:, f] = jaxperc.data.class_weights(
                class_weight, y_train, len(classes), row_weights=column,
                class_names=classes,
            )  # fmt: skip
        except DataError as err:
            raise JaxpercError(f"{err} in weight column {f}") from None
    return base * table[y_train, :]


def _class_index(name: str, classes) -> int:
    if name not in classes:
        raise JaxpercError(
            unknown_choice(
                "class",
                name,
                classes,
                subject=f"{name!r} is not a class of the data",
                listing="classes are",
            )
        )
    return classes.index(name)


def _row_roles(config: Config, y_train):
    """(RowRoles, NestedColumns or None, grid axis of the weight columns or None)."""
    d, s = config.data, config.sweep
    seed, stratify = d.split_seed, d.stratify
    if s.outer_fold is not None:
        plan = nested_columns(
            y_train, s.outer_fold, s.fold, seed=seed, stratify=stratify
        )
        return plan.roles, plan, "fold"
    if s.fold is not None:
        w = jaxperc.data.kfold_weights(y_train, s.fold, seed=seed, stratify=stratify)
        return roles.plain_roles(w.T, "fold"), None, "fold"
    if s.bootstrap is not None:
        w = jaxperc.data.bootstrap_weights(len(y_train), s.bootstrap, seed=seed)
        return roles.plain_roles(w.T, "out-of-bag"), None, "resample"
    if d.validation_fraction > 0:
        w = roles.validation_split(
            y_train, d.validation_fraction, seed=seed, stratify=stratify
        )
        return roles.plain_roles(w, "split"), None, None
    return roles.plain_roles(None, roles.NO_VALIDATION), None, None


def train_options(config: Config) -> training.TrainOptions:
    """The choices of a config that every model of its grid shares."""
    t = config.train
    return training.TrainOptions(
        loss=t.loss,
        activation=config.model.activation,
        grad=t.grad,
        optimizer=t.optimizer,
        optimizer_kwargs=dict(t.optimizer_kwargs),
        schedule=t.schedule,
        schedule_kwargs=dict(t.schedule_kwargs),
        max_epochs=t.max_epochs,
        tol=t.tol,
        patience=t.patience,
        gtol=t.gtol,
        batch_size=t.batch_size,
        data_seed=t.data_seed,
        init=config.model.init,
        init_scale=config.model.init_scale,
        dtype=t.dtype,
        record_accuracy=t.record_accuracy,
    )


__all__ = ["Problem", "blame", "load_data", "prepare", "train_options"]
