"""Argument checks shared by the data modules; each failure is a one-line DataError."""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable

import numpy as np

from jaxperc.errors import DataError


def check_int(name: str, value: object, *, minimum: int, why: str = "") -> int:
    """Returns ``value`` as an int, refusing bools, non-integers and values < minimum.

    Args:
      name: the argument's name, used in the message.
      value: what the caller passed.
      minimum: the smallest allowed value.
      why: an optional reason appended to the message, e.g. "so both classes appear".
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DataError(
            f"{name} must be an integer, got {value!r}; pass a whole number "
            f">= {minimum}",
            argument=name,
        )
    if value < minimum:
        reason = f" {why}" if why else ""
        raise DataError(
            f"{name} must be at least {minimum}{reason}, got {value}; "
            f"pass {name}={minimum} or more",
            argument=name,
        )
    return int(value)


def check_seed(value: object) -> int:
    """Returns a seed for ``np.random.default_rng``: a non-negative integer."""
    return check_int("seed", value, minimum=0)


def check_nonnegative(name: str, value: object) -> float:
    """Returns ``value`` as a float, refusing non-numbers, NaN, inf and negatives."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DataError(f"{name} must be a number >= 0, got {value!r}", argument=name)
    result = float(value)
    if not math.isfinite(result) or result < 0:
        raise DataError(
            f"{name} must be a finite number >= 0, got {value!r}", argument=name
        )
    return result


def check_labels(y: object, *, what: str = "y") -> np.ndarray:
    """Returns labels as a 1-D array, refusing other shapes and empty input.

    Args:
      y: [n] class labels of any comparable type (usually int class indices).
      what: the argument's name, used in the message.
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise DataError(
            f"{what} must be a 1-D array of class labels [n], got shape "
            f"{labels.shape}; pass Dataset.y"
        )
    if labels.size == 0:
        raise DataError(f"{what} is empty; pass at least one label")
    return labels


def quoted(text: str) -> str:
    """Text in double quotes, with line breaks and quotes escaped (stays one line)."""
    return json.dumps(text, ensure_ascii=False)


def shown_cell(text: str, limit: int = 40) -> str:
    """A cell's text for a message: repr-quoted, one line, cut to ``limit`` chars."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def name_list(names: Iterable[str], limit: int = 30) -> str:
    """Names joined as ``"a", "b", "c"`` for a one-line message, at most ``limit``."""
    items = list(names)
    text = ", ".join(quoted(n) for n in items[:limit])
    if len(items) > limit:
        text += f", ... ({len(items) - limit} more)"
    return text
