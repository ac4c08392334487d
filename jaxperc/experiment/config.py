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
import difflib
import math
import os
import tomllib
from pathlib import Path
from typing import Any

import jaxperc.data
from jaxperc import core, training
from jaxperc.errors import ConfigError, JaxpercError
from jaxperc.experiment import tomlwrite
from jaxperc.experiment.overrides import apply_overrides, parse_value
from jaxperc.experiment.schema import (
    DTYPES,
    FLOAT_HPARAMS,
    GRADS,
    INITS,
    LIST_AXES,
    METRICS,
    SECTIONS,
    SYNTHETIC,
    Config,
    DataConfig,
    ModelConfig,
    OutputConfig,
    SweepConfig,
    TrainConfig,
    type_of,
)

_TYPES = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    str: "a string",
}


class _Where:
    """Names where a key came from: the file, or a --set override."""

    def __init__(self, path: str, overridden: set[str]):
        self.path, self.overridden = path, overridden

    def __call__(self, dotted: str) -> str:
        if dotted in self.overridden:
            return f"--set {dotted}"
        return f"{self.path}: {dotted}"


def _fail(where: _Where, dotted: str, message: str) -> ConfigError:
    return ConfigError(f"{where(dotted)} {message}")


def _unknown(where: _Where, dotted: str, known: list[str]) -> ConfigError:
    hint = difflib.get_close_matches(dotted, known, n=1, cutoff=0.6)
    tip = f" (did you mean {hint[0]}?)" if hint else f"; known keys: {', '.join(known)}"
    return ConfigError(f"{where(dotted)} is not a known key{tip}")


def _choice(where, dotted, value, allowed) -> str:
    if value in allowed:
        return value
    hint = difflib.get_close_matches(str(value), list(allowed), n=1)
    tip = f"did you mean {hint[0]!r}? " if hint else ""
    listed = ", ".join(repr(a) for a in allowed)
    raise _fail(where, dotted, f"= {value!r} is not known; {tip}use one of {listed}")


def _typed(where, dotted, value, base, optional):
    if value is None and optional:
        return None
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, base) and not (base is not bool and isinstance(value, bool))
    if not ok:
        raise _fail(
            where, dotted, f"= {value!r} must be {_TYPES[base]}, not {_kind(value)}"
        )
    if base is float and not math.isfinite(value):
        raise _fail(where, dotted, f"= {value!r} must be a finite number")
    return value


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _scalar_table(where, dotted, table) -> tuple[tuple[str, Any], ...]:
    if not isinstance(table, dict):
        raise _fail(where, dotted, "must be a table like { momentum = 0.9 }")
    for k, v in table.items():
        if not isinstance(v, bool | int | float | str):
            raise _fail(where, f"{dotted}.{k}", "must be a number, boolean or string")
    return tuple(table.items())


def _check_range(where, section: str, values: dict[str, Any]) -> None:
    def need(key, ok, rule):
        if values.get(key) is not None and not ok(values[key]):
            raise _fail(where, f"{section}.{key}", f"= {values[key]!r} {rule}")

    positive_ints = ("n_samples", "n_features", "max_epochs", "patience", "batch_size")
    for key in positive_ints:
        need(key, lambda v: v >= 1, "must be ≥ 1")
    for key in ("seed", "split_seed", "data_seed"):
        need(key, lambda v: v >= 0, "must be ≥ 0")
    for key in ("margin", "noise", "init_scale", "tol", "gtol", "l2"):
        need(key, lambda v: v >= 0, "must be ≥ 0")
    need("learning_rate", lambda v: v > 0, "must be > 0")
    need("checkpoint_every", lambda v: v > 0, "must be > 0 seconds")
    need(
        "test_fraction",
        lambda v: 0 <= v < 1,
        "must be in [0, 1) (0: no held-out test split)",
    )
    need(
        "validation_fraction",
        lambda v: 0 <= v < 1,
        "must be in [0, 1) (0: no validation split)",
    )
    need("delimiter", lambda v: len(v) == 1, "must be one character, e.g. ';'")


def _section(where, raw: dict, section: str) -> dict[str, Any]:
    cls = SECTIONS[section]
    table = raw.get(section, {})
    if not isinstance(table, dict):
        raise _fail(where, section, "must be a table: write it as [" + section + "]")
    known = [f.name for f in dataclasses.fields(cls)]
    out = {}
    for key, value in table.items():
        dotted = f"{section}.{key}"
        if key not in known:
            raise _unknown(where, dotted, [f"{section}.{k}" for k in known])
        base, optional = type_of(section, key)
        if dotted == "output.history":
            out[key] = _history_policy(where, dotted, value)
        elif base is dict:
            out[key] = _scalar_table(where, dotted, value)
        elif base is list:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise _fail(where, dotted, "must be a list of column names")
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
        raise _fail(where, dotted, "must be a non-empty list")
    out = []
    for v in value:
        if integer:
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise _fail(where, dotted, f"holds {v!r}; seeds are integers ≥ 0")
        else:
            out_v = _typed(where, dotted, v, float, False)
            if dotted.endswith("learning_rate") and out_v <= 0:
                raise _fail(where, dotted, f"holds {v!r}; learning rates must be > 0")
            v = out_v
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
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise _fail(where, f"{dotted}.num", f"= {num!r} must be an integer ≥ 1")
    log = table.get("log", False)
    if log and (start <= 0 or stop <= 0):
        raise _fail(where, dotted, "with log = true needs start and stop > 0")
    if num == 1:
        return [start]
    if log:
        a, b = math.log(start), math.log(stop)
        return [math.exp(a + (b - a) * i / (num - 1)) for i in range(num)]
    return [start + (stop - start) * i / (num - 1) for i in range(num)]


def _sweep(where, raw: dict) -> SweepConfig:
    table = raw.get("sweep", {})
    if not isinstance(table, dict):
        raise _fail(where, "sweep", "must be a table: write it as [sweep]")
    known = [*LIST_AXES, "fold", "bootstrap", "outer_fold", "class"]
    axes, fold, boot, classes, outer = [], None, None, None, None
    for key, value in table.items():
        dotted = f"sweep.{key}"
        if key not in known:
            raise _unknown(where, dotted, [f"sweep.{k}" for k in known])
        if key in ("fold", "bootstrap"):
            value = _typed(where, dotted, value, int, False)
            low = 2 if key == "fold" else 1
            if value < low:
                raise _fail(where, dotted, f"= {value} must be ≥ {low}")
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
                    where, dotted, f'= {value!r} must be "all" or a list of class names'
                )
        else:
            axes.append((key, _axis_values(where, dotted, value, key == "seed")))
    if fold is not None and boot is not None:
        raise _fail(
            where, "sweep.bootstrap", "cannot be combined with sweep.fold; pick one"
        )
    if outer is not None and fold is None:
        raise _fail(
            where,
            "sweep.outer_fold",
            "needs sweep.fold (the inner folds that choose the setting), e.g. fold = 5",
        )
    return SweepConfig(tuple(axes), fold, boot, classes, outer)


def _cross_checks(where, config: Config) -> None:
    d, t, s = config.data, config.train, config.sweep
    if d.source not in SYNTHETIC:
        bundled = [i.name for i in jaxperc.data.list_datasets()]
        looks_like_file = d.source.endswith((".csv", ".txt", ".tsv")) or (
            os.sep in d.source
        )
        if d.source not in bundled and not looks_like_file:
            _choice(where, "data.source", d.source, [*bundled, *SYNTHETIC])
    _choice(where, "model.activation", config.model.activation, core.ACTIVATIONS)
    _choice(where, "model.init", config.model.init, INITS)
    _choice(where, "train.loss", t.loss, core.LOSSES)
    _choice(where, "train.grad", t.grad, GRADS)
    _choice(where, "train.optimizer", t.optimizer, training.OPTIMIZERS)
    if t.schedule is not None:
        _choice(where, "train.schedule", t.schedule, training.SCHEDULES)
    _choice(where, "train.dtype", t.dtype, DTYPES)
    _check_rows(where, config)
    if t.loss == "bce" and config.model.activation != "sigmoid":
        raise _fail(
            where,
            "train.loss",
            f"= 'bce' needs model.activation = 'sigmoid' (got "
            f"{config.model.activation!r}); use loss = 'mse'",
        )
    hparams = dict(t.optimizer_kwargs)
    for name, values in s.axes:
        if name in FLOAT_HPARAMS:
            hparams[name] = float(values[0])
    try:
        training.make_optimizer(t.optimizer, hparams)
    except JaxpercError as err:
        raise _fail(where, "train.optimizer_kwargs", f"is rejected: {err}") from None
    if t.optimizer == "lbfgs" and any(n == "learning_rate" for n, _ in s.axes):
        raise _fail(
            where, "sweep.learning_rate", "cannot be swept with optimizer 'lbfgs'"
        )


def _check_rows(where, config: Config) -> None:
    """Selection never sees test rows; validation rows come from one place."""
    d, s, metric = config.data, config.sweep, config.output.metric
    if metric is not None and metric.startswith("test_"):
        raise _fail(
            where,
            "output.metric",
            f"= {metric!r} would choose the best model by the rows that report "
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
            "= 'validation_accuracy' needs validation rows: set "
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
        if section not in (*SECTIONS, "sweep"):
            hint = difflib.get_close_matches(section, [*SECTIONS, "sweep"], n=1)
            tip = f" (did you mean [{hint[0]}]?)" if hint else ""
            raise ConfigError(
                f"{path}: [{section}] is not a known table{tip}; use [data], "
                "[model], [train], [sweep] and [output]"
            )
    parts = {name: cls(**_section(where, raw, name)) for name, cls in SECTIONS.items()}
    data = parts["data"]
    is_file = data.source not in SYNTHETIC and data.source.endswith(
        (".csv", ".txt", ".tsv")
    )
    if is_file and not os.path.isabs(data.source):
        data = dataclasses.replace(data, source=os.path.abspath(data.source))
    config = Config(
        data=data,
        model=parts["model"],
        train=parts["train"],
        sweep=_sweep(where, raw),
        output=parts["output"],
        name=Path(path).stem if path != "<config>" else "experiment",
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
        raise ConfigError(f"{shown}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{shown}: is a folder, not a config file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{shown}: not valid TOML ({err})") from None
    raw, touched = apply_overrides(raw, list(overrides or []))
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
