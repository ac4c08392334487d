"""Experiment configs: a TOML file → validated, frozen dataclasses → TOML again.

A config has five tables, ``[data]``, ``[model]``, ``[train]``, ``[sweep]`` and
``[output]`` (every key is listed in ``docs/configs.md``). :func:`load_config` reads
a file, applies ``--set section.key=value`` overrides, checks every key against the
schema below and returns a :class:`Config`; :func:`to_toml` writes the resolved
config back (flat tables of scalars and lists), which is what a run folder keeps and
what ``--resume`` reads. Every problem is a :class:`~jaxperc.ConfigError` whose one
line names the file, the key and the fix.
"""

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

import jaxperc.data
from jaxperc import core, training
from jaxperc.errors import ConfigError, unknown_choice
from jaxperc.experiment import limits, tomlwrite
from jaxperc.experiment.config_fields import (
    TABLES,
    Where,
    choice,
    fail,
    one_rule,
    read_section,
    read_sweep,
    shown,
)
from jaxperc.experiment.overrides import apply_overrides, parse_value
from jaxperc.experiment.schema import (
    ACTIVATIONS,
    DTYPES,
    FLOAT_HPARAMS,
    GRADS,
    INITS,
    LOSSES,
    METRICS,
    OPTIMIZERS,
    SCHEDULES,
    SECTIONS,
    Config,
    DataConfig,
    ModelConfig,
    OutputConfig,
    SweepConfig,
    TrainConfig,
)


def _check_source(where, d: DataConfig) -> None:
    kind = jaxperc.data.source_kind(d.source)
    if kind == "unknown":
        message = unknown_choice(
            "data.source",
            d.source,
            jaxperc.data.source_names(),
            subject=f"{shown(d.source)} is neither a data set nor a file path",
            listing="give a path to a CSV file or use",
        )
        raise fail(where, "data.source", message)
    if d.target is not None and kind != "file":
        raise fail(
            where,
            "data.target",
            f"only applies to CSV files, not source {d.source!r}; remove it",
        )
    if kind == "synthetic":
        one_rule(where, "data.n_samples", limits.check_synthetic_size, d)


def _check_optimizer(where, config: Config) -> None:
    t, s = config.train, config.sweep
    options = training.optimizer_options(t.optimizer)
    switched = "train.optimizer" in where.overridden
    for key, value in t.optimizer_kwargs:
        dotted = f"train.optimizer_kwargs.{key}"
        if switched and key not in options and dotted not in where.overridden:
            raise fail(
                where,
                dotted,
                f"is an option of another optimizer, not of {t.optimizer!r} set by "
                "--set train.optimizer; remove it from the file or add "
                "--set train.optimizer_kwargs={}",
            )
        one_rule(where, dotted, training.make_optimizer, t.optimizer, {key: value})
    hparams = dict(t.optimizer_kwargs)
    for name, values in s.axes:
        if name in FLOAT_HPARAMS:
            one_rule(
                where, f"sweep.{name}", training.make_optimizer, t.optimizer,
                {**hparams, name: np.asarray(values)},
            )  # fmt: skip
    opt = one_rule(
        where, "train.optimizer_kwargs", training.make_optimizer, t.optimizer, hparams
    )
    for name, values in s.axes:
        if name == "learning_rate":
            check = training.optim.check_learning_rate
            one_rule(where, "sweep.learning_rate", check, opt, np.asarray(values))
    for key, value in t.schedule_kwargs:
        one_rule(
            where, f"train.schedule_kwargs.{key}", training.make_schedule,
            t.schedule, {key: value}, t.max_epochs,
        )  # fmt: skip
    one_rule(
        where, "train.schedule_kwargs", training.make_schedule,
        t.schedule, dict(t.schedule_kwargs), t.max_epochs,
    )  # fmt: skip


def _cross_checks(where, config: Config) -> None:
    d, t, s = config.data, config.train, config.sweep
    _check_source(where, d)
    choice(where, "model.activation", config.model.activation, ACTIVATIONS)
    choice(where, "model.init", config.model.init, INITS)
    choice(where, "train.loss", t.loss, LOSSES)
    choice(where, "train.grad", t.grad, GRADS)
    choice(where, "train.optimizer", t.optimizer, OPTIMIZERS)
    if t.schedule is not None:
        choice(where, "train.schedule", t.schedule, SCHEDULES)
    choice(where, "train.dtype", t.dtype, DTYPES)
    _check_rows(where, config)
    one_rule(where, "train.loss", core.get_loss, t.loss, config.model.activation)
    one_rule(where, "sweep", limits.check_grid_size, s)
    _check_optimizer(where, config)


def _check_rows(where, config: Config) -> None:
    """Selection never sees test rows; validation rows come from one place."""
    d, s, metric = config.data, config.sweep, config.output.metric
    if metric is not None and metric.startswith("test_"):
        raise fail(
            where,
            "output.metric",
            f"{metric!r} would choose the best model by the rows that report "
            "its accuracy; use 'validation_accuracy' (the test set is reported "
            "for the chosen model)",
        )
    if metric is not None:
        choice(where, "output.metric", metric, METRICS)
    if d.validation_fraction > 0 and (s.fold or s.bootstrap):
        raise fail(
            where,
            "data.validation_fraction",
            "cannot be combined with sweep.fold or sweep.bootstrap: their "
            "held-out or out-of-bag rows are the validation rows; set it to 0",
        )
    has_validation = d.validation_fraction > 0 or s.fold or s.bootstrap
    if metric == "validation_accuracy" and not has_validation:
        raise fail(
            where,
            "output.metric",
            "'validation_accuracy' needs validation rows; set "
            "data.validation_fraction > 0, sweep.fold or sweep.bootstrap",
        )
    if s.outer_fold is not None and d.test_fraction > 0:
        raise fail(
            where,
            "sweep.outer_fold",
            "tests on its outer folds: set data.test_fraction = 0",
        )


def config_from_dict(
    raw: dict, *, path: str = "<config>", overridden: set[str] | None = None
) -> Config:
    """Validate a raw (TOML-shaped) table and build the :class:`Config`."""
    where = Where(path, overridden or set())
    for section in raw:
        if section not in TABLES:
            message = unknown_choice(
                "table",
                section,
                TABLES,
                subject="not a known table",
                quote=lambda name: f"[{name}]",
                listing="use",
            )
            raise ConfigError(f"{path}: [{section}]: {message}")
    parts = {
        name: cls(**read_section(where, raw, name)) for name, cls in SECTIONS.items()
    }
    data = parts["data"]
    if jaxperc.data.source_kind(data.source) == "file":
        data = dataclasses.replace(data, source=os.path.abspath(data.source))
    config = Config(
        data=data,
        model=parts["model"],
        train=parts["train"],
        sweep=read_sweep(where, raw),
        output=parts["output"],
        name=Path(path).stem if path != "<config>" else "experiment",
        path=path,
        overridden=where.overridden,
    )
    _cross_checks(where, config)
    return config


def load_config(path: str | os.PathLike, overrides: list[str] | None = None) -> Config:
    """Read a TOML config, apply ``--set`` overrides and validate it."""
    shown = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{shown}: no such config file; check the path") from None
    except IsADirectoryError:
        raise ConfigError(f"{shown}: is a folder; give a .toml config file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{shown}: not valid TOML ({err}); fix that line") from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{shown}: not a text file in UTF-8; give a TOML config file"
        ) from None
    except OSError as err:
        raise ConfigError(
            f"{shown}: cannot be read ({err.strerror}); check its permissions"
        ) from None
    raw, touched = apply_overrides(raw, list(overrides or []), path=shown)
    return config_from_dict(raw, path=shown, overridden=touched)


def config_to_dict(config: Config) -> dict[str, dict[str, Any]]:
    """The resolved config as TOML-shaped tables (None values left out)."""
    out: dict[str, dict[str, Any]] = {}
    for name in SECTIONS:
        table = {}
        for f in dataclasses.fields(SECTIONS[name]):
            value = getattr(getattr(config, name), f.name)
            if value is None:
                continue
            if f.name.endswith("_kwargs") or f.name == "class_weight":
                value = value if isinstance(value, str) else dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            table[f.name] = value
        out[name] = table
    s = config.sweep
    sweep: dict[str, Any] = {k: list(v) for k, v in s.axes}
    if s.fold is not None:
        sweep["fold"] = s.fold
    if s.bootstrap is not None:
        sweep["bootstrap"] = s.bootstrap
    if s.outer_fold is not None:
        sweep["outer_fold"] = s.outer_fold
    if s.classes is not None:
        sweep["class"] = s.classes if s.classes == "all" else list(s.classes)
    out["sweep"] = sweep
    return out


def to_toml(config: Config) -> str:
    """The resolved config as TOML text; loading it gives the same Config."""
    return tomlwrite.dumps(config_to_dict(config))


__all__ = [
    "FLOAT_HPARAMS",
    "Config",
    "DataConfig",
    "ModelConfig",
    "OutputConfig",
    "SweepConfig",
    "TrainConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "parse_value",
    "to_toml",
]
