"""New rows to predict on, read from a CSV file by the names of the run's features.

Used by ``jaxperc predict`` and :meth:`jaxperc.experiment.runs.Run.predict` with a
file: the columns are found by header name (others are ignored), every cell must be
a finite number, and each error names the file, the row and the column.
"""

import csv
from pathlib import Path

import numpy as np

from jaxperc.errors import DataError


def read_column(path: str | Path, name: str) -> list[str]:
    """The cells of column ``name`` of a CSV file with a header, as text."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]] if rows else []
    if name not in header:
        raise DataError(
            f"{path}: no column {name!r} (--id-column); columns are {', '.join(header)}"
        )
    c = header.index(name)
    return [row[c] if c < len(row) else "" for row in rows[1:]]


def read_features(path: str | Path, feature_names: list[str]) -> np.ndarray:
    """[n, d] float64 columns named ``feature_names`` from a CSV file with a header."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: unreadable ({err})") from None
    if not rows:
        raise DataError(f"{path}: empty file; it needs a header row of feature names")
    header = [h.strip() for h in rows[0]]
    missing = [n for n in feature_names if n not in header]
    if missing:
        raise DataError(
            f"{path}: no column {missing[0]!r}; the model needs the columns "
            f"{', '.join(feature_names)}"
        )
    cols = [header.index(n) for n in feature_names]
    x = np.empty((len(rows) - 1, len(cols)))
    for i, row in enumerate(rows[1:]):
        for j, c in enumerate(cols):
            cell = row[c].strip() if c < len(row) else ""
            try:
                x[i, j] = float(cell)
            except ValueError:
                raise DataError(
                    f"{path}: row {i + 2}, column {feature_names[j]!r} holds "
                    f"{cell!r}, not a number; fix or remove that row"
                ) from None
    if not np.isfinite(x).all():
        i, j = np.argwhere(~np.isfinite(x))[0]
        raise DataError(
            f"{path}: row {i + 2}, column {feature_names[j]!r} is not finite; "
            "fix or remove that row"
        )
    return x
