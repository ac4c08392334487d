"""One experiment from a :class:`~jaxperc.config.Config`: data, grid, training, summary.

:func:`prepare` turns a config into arrays (loading and splitting the data, the
weight columns that give each model its training and validation rows
(:mod:`~jaxperc.experiment.roles`), the standardizers fitted on training rows only —
one per weight column when there are several — and the sweep grid) without touching
the disk, so every mistake surfaces before a run folder exists. :func:`run_experiment`
then trains the whole grid as ONE ``jaxperc.train_many`` call, checkpointing between
compiled chunks, and writes the run folder (:mod:`jaxperc.rundir`).
"""

import contextlib
import dataclasses
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
from jax.experimental import multihost_utils

import jaxperc.data
from jaxperc import training
from jaxperc.errors import (
    CheckpointError,
    ConfigError,
    JaxpercError,
    NotConvergedWarning,
    unknown_choice,
)
from jaxperc.experiment import history, html_report, roles, rundir, tracking
from jaxperc.experiment.config import Config, to_toml
from jaxperc.experiment.nested import NestedColumns, nested_columns
from jaxperc.experiment.summary import summarize


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

    @property
    def weights(self) -> np.ndarray | None:
        """[n_train, F] fit weights (fold masks, bootstrap counts, validation split)."""
        return self.roles.weights

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


class RunResult(NamedTuple):
    run_dir: Path
    summary: dict[str, Any]
    result: training.TrainResult
    problem: Problem


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
    return Problem(
        ds, x, ds.targets(), train_idx, test_idx, positive, negative,
        rows, inputs, grid, per_model, train_options(config), plan,
    )  # fmt: skip


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


class _Checkpointer:
    """The train_many callback: progress, checkpoints, and a clean stop on request."""

    def __init__(
        self, path: Path, every: float, progress, stop: threading.Event, writer
    ):
        self.path, self.every, self.progress, self.stop = path, every, progress, stop
        self.writer = writer  # a history.HistoryWriter: the new epochs each chunk
        self.last = None  # time of the last save
        self.saved = False

    def __call__(self, p: training.Progress) -> None:
        now = time.monotonic()
        stop = self.stop.is_set()
        save = stop or self.last is None or now - self.last >= self.every
        if jax.process_count() > 1:  # a checkpoint gathers from every process, so
            # process 0 decides for all (its Ctrl-C stops them all)
            flags = multihost_utils.broadcast_one_to_all(np.array([save, stop]))
            save, stop = bool(flags[0]), bool(flags[1])
        if p.history_since is not None:
            self.writer.append(p.epoch, p.history_since)
        if save:
            self.writer.flush()  # the history on disk reaches the checkpoint's epoch
            training.save_run_state(self.path, p.checkpoint())
            self.last, self.saved = now, True
        if self.progress is not None:
            self.progress(p)
        if stop:
            raise KeyboardInterrupt


def run_experiment(
    config: Config,
    out_dir: "str | Path | rundir.NewRunFolder",
    *,
    progress: Callable[[training.Progress], Any] | None = None,
    resume: bool = False,
    command: list[str] | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Train the config's grid and write the run folder ``out_dir``.

    Args:
      config: a validated :class:`~jaxperc.config.Config`.
      out_dir: the run folder: new (or empty) unless ``resume``; or a
        :class:`~jaxperc.experiment.rundir.NewRunFolder` to name a new one.
      progress: called with each :class:`jaxperc.Progress` between chunks.
      resume: continue the run in ``out_dir`` from its ``checkpoint.npz``.
      command: the command line, recorded in ``run.json``.
      stop: when set, the run saves a checkpoint at the next chunk boundary and
        raises :class:`RunInterrupted` (run.json then says "interrupted").

    Returns:
      A :class:`RunResult` (folder, summary, TrainResult, Problem).

    A user error (a :class:`~jaxperc.JaxpercError`) leaves nothing behind: a new
    folder is removed, a resumed one keeps its status.
    """
    problem = prepare(config)
    text = rundir.config_text(config)
    arrays = [problem.x, problem.targets, problem.train_idx, problem.test_idx]
    arrays += [] if problem.weights is None else [problem.weights]
    prints = rundir.fingerprint(to_toml(config), arrays)
    state, made, before = None, [], None
    if resume:
        run_dir = Path(out_dir)
        state, before = _resumable(run_dir, prints)
        rundir.remove_temporaries(run_dir)
        rundir.update_run_json(run_dir, status="running", resumed=rundir.now())
    else:
        run_dir, made = rundir.claim_run_dir(out_dir)
        try:
            rundir.write_text(run_dir / rundir.CONFIG, text)
            info = {**rundir.run_info(command or []), "fingerprint": prints}
            rundir.write_json(run_dir / rundir.RUN, info)
        except BaseException:
            rundir.remove_run_dir(run_dir, made)
            raise
    writer = history.HistoryWriter(
        run_dir, config.output.history, 0 if state is None else state.epoch
    )
    callback = _Checkpointer(
        run_dir / rundir.CHECKPOINT,
        config.output.checkpoint_every,
        progress,
        stop or threading.Event(),
        writer,
    )
    try:
        rows = problem.train_idx
        # the summary counts and names models that ran out of epochs or diverged
        # (its notes, the CLI's table): no separate Python warning for them here
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=NotConvergedWarning)
            result = training.train_models(
                problem.x[rows],
                problem.targets[rows],
                problem.per_model,
                problem.options,
                weights=problem.weights,
                standardizers=problem.inputs.tables,
                callback=callback,
                resume=state,
                mesh="auto",
            )
    except KeyboardInterrupt:
        writer.abandon()
        rundir.remove_temporaries(run_dir)
        rundir.update_run_json(run_dir, status="interrupted", ended=rundir.now())
        raise RunInterrupted(run_dir) from None
    except JaxpercError as err:
        writer.abandon()
        if resume:
            rundir.write_json(run_dir / rundir.RUN, before)  # as it was
        elif not callback.saved:
            rundir.remove_run_dir(run_dir, made)  # nothing ran: leave no folder
        else:
            rundir.update_run_json(run_dir, status="failed", error=str(err))
        raise _located(config, run_dir, err) from None
    except BaseException as err:
        writer.abandon()
        rundir.remove_temporaries(run_dir)
        rundir.update_run_json(
            run_dir, status="failed", ended=rundir.now(), error=repr(err)
        )
        raise
    activation = config.model.activation
    summary = summarize(
        problem, result, activation=activation, metric=config.output.metric
    )
    writer.finish(result.cost_history, result.accuracy_history)
    if history.wants_csv(config.output.metrics_csv, history.count_rows(run_dir)):
        history.write_csv(run_dir, run_dir / rundir.METRICS)
    rundir.write_results(run_dir, problem, result, summary, activation)
    if config.output.plots:
        from jaxperc.experiment import plots

        if plots.available():
            plots.plot_run(run_dir / "plots", problem, result, summary, activation)
    (run_dir / rundir.CHECKPOINT).unlink(missing_ok=True)
    rundir.remove_temporaries(run_dir)
    rundir.update_run_json(run_dir, status="completed", ended=rundir.now())
    html_report.write_report(run_dir)
    if config.output.mlflow:
        tracking.log_run(run_dir, config, summary)
    return RunResult(run_dir, summary, result, problem)


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (or ``stop``) after saving its checkpoint."""

    def __init__(self, run_dir: Path):
        super().__init__(str(run_dir))
        self.run_dir = run_dir


def _resumable(run_dir: Path, prints: dict[str, str]):
    """Check a folder can be resumed; → (its checkpoint or None, its run.json).

    Nothing is written: a refused resume leaves the folder as it was.
    """
    info = rundir.read_run_json(run_dir)
    status = info.get("status")
    if status == "completed":
        raise CheckpointError(
            f"{run_dir}: run already completed; nothing to resume (start a new "
            "run with jaxperc run CONFIG)"
        )
    rundir.check_fingerprint(run_dir, info, prints)
    state = None
    if (run_dir / rundir.CHECKPOINT).exists():
        state = training.load_run_state(run_dir / rundir.CHECKPOINT)
    return state, info


def _located(config: Config, run_dir: Path, err: JaxpercError) -> JaxpercError:
    """An error from training, named by the file it concerns."""
    text = str(err)
    if isinstance(err, CheckpointError) and not text.startswith(str(run_dir)):
        return CheckpointError(
            f"{run_dir / rundir.CHECKPOINT}: {text}; start the run again with "
            f"jaxperc run {run_dir / rundir.CONFIG}"
        )
    if text.startswith(config.path) or text.startswith(str(run_dir)):
        return err
    return ConfigError(f"{config.path}: {text}")


__all__ = [
    "Problem",
    "RunInterrupted",
    "RunResult",
    "blame",
    "load_data",
    "prepare",
    "run_experiment",
]
