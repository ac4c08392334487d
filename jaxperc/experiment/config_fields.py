"""Reading one config table: each key's type, range and allowed choices.

:func:`read_section` and :func:`read_sweep` turn a raw TOML table into the values of
its dataclass (:mod:`~jaxperc.experiment.schema`), failing with the one-line
contract ``<file>: <key>: <what is wrong>; <how to fix>`` (:func:`fail`). The checks
across tables live in :mod:`~jaxperc.experiment.config`.
"""

import dataclasses
import json
import math
from typing import Any

import numpy as np

from jaxperc import training
from jaxperc.errors import ConfigError, JaxpercError, unknown_choice
from jaxperc.experiment import limits
from jaxperc.experiment.schema import (
    LIST_AXES,
    SECTIONS,
    SweepConfig,
    locate,
    type_of,
)

_TYPES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
TABLES = (*SECTIONS, "sweep")


class Where:
    """Names where a key came from: the file, or a --set override."""

    def __init__(self, path: str, overridden: set[str]):
        self.path, self.overridden = path, frozenset(overridden)

    def __call__(self, dotted: str) -> str:
        return locate(self.path, self.overridden, dotted)


def fail(where: Where, dotted: str, message: str) -> ConfigError:
    """``<file>: <key>: <message>``, the contract's one line."""
    return ConfigError(f"{where(dotted)}: {message}")


def shown(value: Any) -> str:
    """A value for a message: repr, one line, at most 40 characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _unknown_key(where: Where, dotted: str, known: list[str]) -> ConfigError:
    table, _, key = dotted.partition(".")
    message = unknown_choice(
        "key",
        key,
        known,
        subject="not a known key",
        quote=str,
        listing=f"[{table}] has",
    )
    return fail(where, dotted, message)


def choice(where, dotted, value, allowed) -> str:
    if value in allowed:
        return value
    message = unknown_choice(
        dotted, value, allowed, subject=f"{shown(value)} is not known", listing="use"
    )
    raise fail(where, dotted, message)


def _typed(where, dotted, value, base, optional):
    if value is None and optional:
        return None
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, base) and not (base is not bool and isinstance(value, bool))
    if not ok:
        raise fail(
            where,
            dotted,
            f"{shown(value)} must be {_TYPES[base]}, not {_kind(value)}; "
            f"write e.g. {dotted.split('.')[-1]} = {_example(dotted, base)}",
        )
    if base is float and not math.isfinite(value):
        raise fail(where, dotted, f"{value!r} must be a finite number")
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
        raise fail(
            where, dotted, f"{shown(table)} must be a table like {{ momentum = 0.9 }}"
        )
    for k, v in table.items():
        if not isinstance(v, bool | int | float | str):
            raise fail(
                where, f"{dotted}.{k}", f"{shown(v)} must be a number or true/false"
            )
    return tuple(table.items())


def _check_range(where, section: str, values: dict[str, Any]) -> None:
    for key, value in values.items():
        rule = limits.RANGES.get((section, key))
        if rule is not None and value is not None and not rule.holds(value):
            raise fail(
                where,
                f"{section}.{key}",
                f"{shown(value)} is out of range; {rule.text}",
            )


def read_section(where, raw: dict, section: str) -> dict[str, Any]:
    cls = SECTIONS[section]
    table = raw.get(section, {})
    if not isinstance(table, dict):
        raise fail(where, section, f"must be a table: write it as [{section}]")
    known = [f.name for f in dataclasses.fields(cls)]
    out = {}
    for key, value in table.items():
        dotted = f"{section}.{key}"
        if key not in known:
            raise _unknown_key(where, dotted, known)
        base, optional = type_of(section, key)
        if dotted == "output.history":
            out[key] = _history_policy(where, dotted, value)
        elif dotted == "data.class_weight":
            out[key] = _class_weight(where, dotted, value)
        elif base is dict:
            out[key] = _scalar_table(where, dotted, value)
        elif base is list:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise fail(
                    where,
                    dotted,
                    f"{shown(value)} must be a list of column names, "
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
    raise fail(
        where,
        dotted,
        f'= {value!r} must be "all", "log" or an integer N ≥ 1 (every N-th epoch)',
    )


def _class_weight(where, dotted, value) -> str | tuple[tuple[str, float], ...] | None:
    """``data.class_weight``: "balanced" or a table {class name = weight ≥ 0}."""
    if value is None or value == "balanced":
        return value
    if not isinstance(value, dict) or not value:
        raise fail(
            where,
            dotted,
            f'{shown(value)} must be "balanced" or a table of class weights, '
            "e.g. { malignant = 2.0 }",
        )
    pairs = []
    for name, weight in value.items():
        weight = _typed(where, f"{dotted}.{name}", weight, float, False)
        if weight < 0:
            raise fail(where, f"{dotted}.{name}", f"{weight!r} must be ≥ 0")
        pairs.append((name, weight))
    return tuple(pairs)


def _axis_values(where, dotted, value, integer: bool) -> tuple:
    if isinstance(value, dict):
        value = _spaced(where, dotted, value)
    if not isinstance(value, list):
        value = [value]
    if not value:
        raise fail(where, dotted, "[] is empty; give at least one value")
    rule = limits.AXIS_RANGES.get(dotted.split(".")[-1], limits.ANY_FINITE)
    out = []
    for v in value:
        if integer:
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int) or not rule.holds(v):
                raise fail(
                    where, dotted, f"holds {shown(v)}; seeds are integers; {rule.text}"
                )
        else:
            v = _typed(where, dotted, v, float, False)
            if not rule.holds(v):
                raise fail(where, dotted, f"holds {shown(v)}; {rule.text}")
        out.append(v)
    return tuple(out)


def _spaced(where, dotted, table) -> list:
    """``{ start = a, stop = b, num = n, log = false }`` → n evenly spaced values."""
    allowed = {"start", "stop", "num", "log"}
    if not {"start", "stop", "num"} <= set(table) <= allowed:
        raise fail(
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
        raise fail(
            where, f"{dotted}.num", f"{shown(num)} must be an integer in "
            f"1..{limits.MAX_AXIS}",
        )  # fmt: skip
    log = table.get("log", False)
    if not isinstance(log, bool):
        raise fail(where, f"{dotted}.log", f"{shown(log)} must be true or false")
    if log and (start <= 0 or stop <= 0):
        raise fail(where, dotted, "with log = true needs start and stop > 0")
    grid = (np.geomspace if log else np.linspace)(start, stop, num)
    return [float(v) for v in grid]


def read_sweep(where, raw: dict) -> SweepConfig:
    table = raw.get("sweep", {})
    if not isinstance(table, dict):
        raise fail(where, "sweep", "must be a table: write it as [sweep]")
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
                raise fail(where, dotted, f"{value} is out of range; {rule.text}")
            fold, boot = (value, boot) if key == "fold" else (fold, value)
        elif key == "outer_fold":
            outer = _typed(where, dotted, value, int, False)
            if outer < 2:
                raise fail(where, dotted, f"= {outer} must be ≥ 2")
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
                raise fail(
                    where,
                    dotted,
                    f'{shown(value)} must be "all" or a list of class names',
                )
        else:
            axes.append((key, _axis_values(where, dotted, value, key == "seed")))
    if fold is not None and boot is not None:
        one_rule(where, "sweep.bootstrap", training.make_grid, fold=[0], resample=[0])
    if outer is not None and fold is None:
        raise fail(
            where,
            "sweep.outer_fold",
            "needs sweep.fold (the inner folds that choose the setting), e.g. fold = 5",
        )
    return SweepConfig(tuple(axes), fold, boot, classes, outer)


def one_rule(where, dotted: str, check, *args, **kwargs):
    """Run the rule's one home, naming ``dotted`` in its error."""
    try:
        return check(*args, **kwargs)
    except ConfigError:
        raise
    except JaxpercError as err:
        raise fail(where, dotted, str(err)) from None
