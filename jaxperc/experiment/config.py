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
import json
import math
import os
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

import jaxperc.data
from jaxperc import core, training
from jaxperc.errors import ConfigError, JaxpercError, unknown_choice
from jaxperc.experiment import limits, tomlwrite
from jaxperc.experiment.overrides import apply_overrides, parse_value
from jaxperc.experiment.schema import (
    ACTIVATIONS,
    DTYPES,
    FLOAT_HPARAMS,
    GRADS,
    INITS,
    LIST_AXES,
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
    locate,
    type_of,
)

_TYPES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
_TABLES = (*SECTIONS, "sweep")


class _Where:
    """Names where a key came from: the file, or a --set override."""

    def __init__(self, path: str, overridden: set[str]):
        self.path, self.overridden = path, frozenset(overridden)

    def __call__(self, dotted: str) -> str:
        return locate(self.path, self.overridden, dotted)


def _fail(where: _Where, dotted: str, message: str) -> ConfigError:
    """``<file>: <key>: <message>``, the contract's one line."""
    return ConfigError(f"{where(dotted)}: {message}")


def _shown(value: Any) -> str:
    """A value for a message: repr, one line, at most 40 characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _unknown_key(where: _Where, dotted: str, known: list[str]) -> ConfigError:
    table, _, key = dotted.partition(".")
    message = unknown_choice(
        "key",
        key,
        known,
        subject="not a known key",
        quote=str,
        listing=f"[{table}] has",
    )
    return _fail(where, dotted, message)


def _choice(where, dotted, value, allowed) -> str:
    if value in allowed:
        return value
    message = unknown_choice(
        dotted, value, allowed, subject=f"{_shown(value)} is not known", listing="use"
    )
    raise _fail(where, dotted, message)


def _typed(where, dotted, value, base, optional):
    if value is None and optional:
        return None
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, base) and not (base is not bool and isinstance(value, bool))
    if not ok:
        raise _fail(
            where,
            dotted,
            f"{_shown(value)} must be {_TYPES[base]}, not {_kind(value)}; "
            f"write e.g. {dotted.split('.')[-1]} = {_example(dotted, base)}",
        )
    if base is float and not math.isfinite(value):
        raise _fail(where, dotted, f"{value!r} must be a finite number")
    return value


def _example(dotted: str, base: type) -> str:
    section, _, key = dotted.partition(".")
    default = getattr(SECTIONS.get(section, object), key, None)
    if not isinstance(default, base) or isinstance(default, bool) != (base is bool):
        default = {int: 1, float: 0.5, bool: True, str: "name"}[base]
    if isinstance(default, bool):
        return str(default).lower()
    return json.dumps(default) if isinstance(default, str) else repr(default)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    names = {int: "an integer", float: "a number", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _scalar_table(where, dotted, table) -> tuple[tuple[str, Any], ...]:
    if not isinstance(table, dict):
        raise _fail(
            where, dotted, f"{_shown(table)} must be a table like {{ momentum = 0.9 }}"
        )
    for k, v in table.items():
        if not isinstance(v, bool | int | float | str):
            raise _fail(
                where, f"{dotted}.{k}", f"{_shown(v)} must be a number or true/false"
            )
    return tuple(table.items())


def _check_range(where, section: str, values: dict[str, Any]) -> None:
    for key, value in values.items():
        rule = limits.RANGES.get((section, key))
        if rule is not None and value is not None and not rule.holds(value):
            raise _fail(
                where,
                f"{section}.{key}",
                f"{_shown(value)} is out of range; {rule.text}",
            )


def _section(where, raw: dict, section: str) -> dict[str, Any]:
    cls = SECTIONS[section]
    table = raw.get(section, {})
    if not isinstance(table, dict):
        raise _fail(where, section, f"must be a table: write it as [{section}]")
    known = [f.name for f in dataclasses.fields(cls)]
    out = {}
    for key, value in table.items():
        dotted = f"{section}.{key}"
        if key not in known:
            raise _unknown_key(where, dotted, known)
        base, optional = type_of(section, key)
        if dotted == "output.history":
            out[key] = _history_policy(where, dotted, value)
        elif base is dict:
            out[key] = _scalar_table(where, dotted, value)
        elif base is list:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise _fail(
                    where,
                    dotted,
                    f"{_shown(value)} must be a list of column names, "
                    'e.g. ["petal length", "petal width"]',
                )
            out[key] = tuple(value)
        else:
            out[key] = _typed(where, dotted, value, base, optional)
    _check_range(where, section, out)
    return out


def _history_policy(where, dotted, value) -> str | int:
    """``output.history``: "all", "log" or an integer N ≥ 1 (every N-th epoch)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # --set output.history=10 arrives as text
    if value in ("all", "log") or (
        isinstance(value, int) and not isinstance(value, bool) and value >= 1
    ):
        return value
    raise _fail(
        where,
        dotted,
        f'= {value!r} must be "all", "log" or an integer N ≥ 1 (every N-th epoch)',
    )


def _axis_values(where, dotted, value, integer: bool) -> tuple:
    if isinstance(value, dict):
        value = _spaced(where, dotted, value)
    if not isinstance(value, list):
        value = [value]
    if not value:
        raise _fail(where, dotted, "[] is empty; give at least one value")
    rule = limits.AXIS_RANGES.get(dotted.split(".")[-1], limits.ANY_FINITE)
    out = []
    for v in value:
        if integer:
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int) or not rule.holds(v):
                raise _fail(
                    where, dotted, f"holds {_shown(v)}; seeds are integers; {rule.text}"
                )
        else:
            v = _typed(where, dotted, v, float, False)
            if not rule.holds(v):
                raise _fail(where, dotted, f"holds {_shown(v)}; {rule.text}")
        out.append(v)
    return tuple(out)


def _spaced(where, dotted, table) -> list:
    """``{ start = a, stop = b, num = n, log = false }`` → n evenly spaced values."""
    allowed = {"start", "stop", "num", "log"}
    if not {"start", "stop", "num"} <= set(table) <= allowed:
        raise _fail(
            where,
            dotted,
            "as a table needs start, stop, num (and optional log = true), "
            "e.g. { start = 0.01, stop = 1.0, num = 8, log = true }",
        )
    start = _typed(where, f"{dotted}.start", table["start"], float, False)
    stop = _typed(where, f"{dotted}.stop", table["stop"], float, False)
    num = table["num"]
    if (
        isinstance(num, bool)
        or not isinstance(num, int)
        or not 1 <= num <= limits.MAX_AXIS
    ):
        raise _fail(
            where, f"{dotted}.num", f"{_shown(num)} must be an integer in "
            f"1..{limits.MAX_AXIS}",
        )  # fmt: skip
    log = table.get("log", False)
    if not isinstance(log, bool):
        raise _fail(where, f"{dotted}.log", f"{_shown(log)} must be true or false")
    if log and (start <= 0 or stop <= 0):
        raise _fail(where, dotted, "with log = true needs start and stop > 0")
    grid = (np.geomspace if log else np.linspace)(start, stop, num)
    return [float(v) for v in grid]


def _sweep(where, raw: dict) -> SweepConfig:
    table = raw.get("sweep", {})
    if not isinstance(table, dict):
        raise _fail(where, "sweep", "must be a table: write it as [sweep]")
    known = [*LIST_AXES, "fold", "bootstrap", "outer_fold", "class"]
    axes, fold, boot, classes, outer = [], None, None, None, None
    for key, value in table.items():
        dotted = f"sweep.{key}"
        if key not in known:
            raise _unknown_key(where, dotted, known)
        if key in ("fold", "bootstrap"):
            value = _typed(where, dotted, value, int, False)
            rule = limits.RANGES[("sweep", key)]
            if not rule.holds(value):
                raise _fail(where, dotted, f"{value} is out of range; {rule.text}")
            fold, boot = (value, boot) if key == "fold" else (fold, value)
        elif key == "outer_fold":
            outer = _typed(where, dotted, value, int, False)
            if outer < 2:
                raise _fail(where, dotted, f"= {outer} must be ≥ 2")
        elif key == "class":
            if value == "all":
                classes = "all"
            elif (
                isinstance(value, list)
                and value
                and all(isinstance(v, str) for v in value)
            ):
                classes = tuple(value)
            else:
                raise _fail(
                    where,
                    dotted,
                    f'{_shown(value)} must be "all" or a list of class names',
                )
        else:
            axes.append((key, _axis_values(where, dotted, value, key == "seed")))
    if fold is not None and boot is not None:
        _one_rule(where, "sweep.bootstrap", training.make_grid, fold=[0], resample=[0])
    if outer is not None and fold is None:
        raise _fail(
            where,
            "sweep.outer_fold",
            "needs sweep.fold (the inner folds that choose the setting), e.g. fold = 5",
        )
    return SweepConfig(tuple(axes), fold, boot, classes, outer)


def _one_rule(where, dotted: str, check, *args, **kwargs):
    """Run the rule's one home, naming ``dotted`` in its error."""
    try:
        return check(*args, **kwargs)
    except ConfigError:
        raise
    except JaxpercError as err:
        raise _fail(where, dotted, str(err)) from None


def _check_source(where, d: DataConfig) -> None:
    kind = jaxperc.data.source_kind(d.source)
    if kind == "unknown":
        message = unknown_choice(
            "data.source",
            d.source,
            jaxperc.data.source_names(),
            subject=f"{_shown(d.source)} is neither a data set nor a file path",
            listing="give a path to a CSV file or use",
        )
        raise _fail(where, "data.source", message)
    if d.target is not None and kind != "file":
        raise _fail(
            where,
            "data.target",
            f"only applies to CSV files, not source {d.source!r}; remove it",
        )
    if kind == "synthetic":
        _one_rule(where, "data.n_samples", limits.check_synthetic_size, d)


def _check_optimizer(where, config: Config) -> None:
    t, s = config.train, config.sweep
    options = training.optimizer_options(t.optimizer)
    switched = "train.optimizer" in where.overridden
    for key, value in t.optimizer_kwargs:
        dotted = f"train.optimizer_kwargs.{key}"
        if switched and key not in options and dotted not in where.overridden:
            raise _fail(
                where,
                dotted,
                f"is an option of another optimizer, not of {t.optimizer!r} set by "
                "--set train.optimizer; remove it from the file or add "
                "--set train.optimizer_kwargs={}",
            )
        _one_rule(where, dotted, training.make_optimizer, t.optimizer, {key: value})
    hparams = dict(t.optimizer_kwargs)
    for name, values in s.axes:
        if name in FLOAT_HPARAMS:
            _one_rule(
                where, f"sweep.{name}", training.make_optimizer, t.optimizer,
                {**hparams, name: np.asarray(values)},
            )  # fmt: skip
    opt = _one_rule(
        where, "train.optimizer_kwargs", training.make_optimizer, t.optimizer, hparams
    )
    for name, values in s.axes:
        if name == "learning_rate":
            check = training.optim.check_learning_rate
            _one_rule(where, "sweep.learning_rate", check, opt, np.asarray(values))
    for key, value in t.schedule_kwargs:
        _one_rule(
            where, f"train.schedule_kwargs.{key}", training.make_schedule,
            t.schedule, {key: value}, t.max_epochs,
        )  # fmt: skip
    _one_rule(
        where, "train.schedule_kwargs", training.make_schedule,
        t.schedule, dict(t.schedule_kwargs), t.max_epochs,
    )  # fmt: skip


def _cross_checks(where, config: Config) -> None:
    d, t, s = config.data, config.train, config.sweep
    _check_source(where, d)
    _choice(where, "model.activation", config.model.activation, ACTIVATIONS)
    _choice(where, "model.init", config.model.init, INITS)
    _choice(where, "train.loss", t.loss, LOSSES)
    _choice(where, "train.grad", t.grad, GRADS)
    _choice(where, "train.optimizer", t.optimizer, OPTIMIZERS)
    if t.schedule is not None:
        _choice(where, "train.schedule", t.schedule, SCHEDULES)
    _choice(where, "train.dtype", t.dtype, DTYPES)
    _check_rows(where, config)
    _one_rule(where, "train.loss", core.get_loss, t.loss, config.model.activation)
    _one_rule(where, "sweep", limits.check_grid_size, s)
    _check_optimizer(where, config)


def _check_rows(where, config: Config) -> None:
    """Selection never sees test rows; validation rows come from one place."""
    d, s, metric = config.data, config.sweep, config.output.metric
    if metric is not None and metric.startswith("test_"):
        raise _fail(
            where,
            "output.metric",
            f"{metric!r} would choose the best model by the rows that report "
            "its accuracy; use 'validation_accuracy' (the test set is reported "
            "for the chosen model)",
        )
    if metric is not None:
        _choice(where, "output.metric", metric, METRICS)
    if d.validation_fraction > 0 and (s.fold or s.bootstrap):
        raise _fail(
            where,
            "data.validation_fraction",
            "cannot be combined with sweep.fold or sweep.bootstrap: their "
            "held-out or out-of-bag rows are the validation rows; set it to 0",
        )
    has_validation = d.validation_fraction > 0 or s.fold or s.bootstrap
    if metric == "validation_accuracy" and not has_validation:
        raise _fail(
            where,
            "output.metric",
            "'validation_accuracy' needs validation rows; set "
            "data.validation_fraction > 0, sweep.fold or sweep.bootstrap",
        )
    if s.outer_fold is not None and d.test_fraction > 0:
        raise _fail(
            where,
            "sweep.outer_fold",
            "tests on its outer folds: set data.test_fraction = 0",
        )


def config_from_dict(
    raw: dict, *, path: str = "<config>", overridden: set[str] | None = None
) -> Config:
    """Validate a raw (TOML-shaped) table and build the :class:`Config`."""
    where = _Where(path, overridden or set())
    for section in raw:
        if section not in _TABLES:
            message = unknown_choice(
                "table",
                section,
                _TABLES,
                subject="not a known table",
                quote=lambda name: f"[{name}]",
                listing="use",
            )
            raise ConfigError(f"{path}: [{section}]: {message}")
    parts = {name: cls(**_section(where, raw, name)) for name, cls in SECTIONS.items()}
    data = parts["data"]
    if jaxperc.data.source_kind(data.source) == "file":
        data = dataclasses.replace(data, source=os.path.abspath(data.source))
    config = Config(
        data=data,
        model=parts["model"],
        train=parts["train"],
        sweep=_sweep(where, raw),
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
            if f.name.endswith("_kwargs"):
                value = dict(value)
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
