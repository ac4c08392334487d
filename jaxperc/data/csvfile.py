"""Reading a user's CSV file into a Dataset, refusing bad files with one-line errors.

Rows and columns in messages are 1-based, as a spreadsheet shows them: with a
header the header is row 1, so the first data row is row 2. A file is read by
numpy's C parser; only when that fails does a slower pass with the ``csv`` module
find the first bad cell and name it (or read the file itself, if nothing is wrong).
Neither keeps a Python object per cell, and nothing is ever written.
"""

from __future__ import annotations

import csv
import functools
import numbers
import os
import re
from collections.abc import Iterable

import numpy as np

from jaxperc.data._validate import name_list, quoted
from jaxperc.data.csvcells import (
    Layout,
    Table,
    label_problem,
    number,
    open_text,
    read_errors,
    read_slow,
)
from jaxperc.data.dataset import Dataset
from jaxperc.errors import DataError, unknown_choice


def load_csv(
    path: str | os.PathLike[str],
    *,
    target: str | int | None = None,
    features: Iterable[str | int] | None = None,
    header: bool = True,
    delimiter: str = ",",
) -> Dataset:
    """Loads a CSV file of numeric features and one class-label column.

    Labels may be numbers or text. They are mapped to class indices 0..K-1 by sorted
    unique value (numeric order when every label is a number, so "1" and "1.0" are
    one class; text order otherwise); ``Dataset.classes`` records the mapping. Two
    classes give a binary problem; more give one-vs-rest targets.

    Args:
      path: the CSV file (UTF-8, optional byte-order mark, fields may be quoted).
      target: the label column, by header name or 1-based column number; default
        the last column. Without a header the names are "col1", "col2", ...
      features: the feature columns, by name or 1-based number; default every
        column except the target. Unlisted columns may hold anything.
      header: whether row 1 holds the column names.
      delimiter: the one-character field separator, e.g. ";" or "\\t".

    Returns:
      A Dataset with x [n, d] float64, y [n] int64, named after ``path``.

    Raises:
      DataError: one line naming the file, row and column (1-based) and the fix,
        for a missing, empty or ragged file, a cell that is not a finite number,
        a missing label, an unknown column, or a target with a single class.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DataError(f"path must be a file path, got {path!r}")
    shown = os.fspath(path)
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise DataError(
            f"delimiter must be one character other than a quote or line break, "
            f"got {delimiter!r}; e.g. delimiter=';' or delimiter='\\t'"
        )
    layout = _read_layout(shown, bool(header), delimiter)
    n_cols = len(layout.names)
    target_col = n_cols - 1 if target is None else _column(layout, target, "target")
    feature_cols = _feature_columns(layout, features, target_col)
    table = _read_fast(layout, feature_cols, target_col)
    if table is None:
        table = read_slow(layout, feature_cols, target_col)
    x, target_values, labels = table
    y, classes = _classes(target_values, labels)
    if len(classes) < 2:
        raise DataError(
            f"{shown}: the target column {quoted(layout.names[target_col])} "
            f"(column {target_col + 1}) has a single class {quoted(classes[0])} in "
            f"all {len(y)} rows; a classifier needs two or more, so pick another "
            f"column with target=..."
        )
    return Dataset(
        x=x,
        y=y,
        feature_names=tuple(layout.names[j] for j in feature_cols),
        classes=classes,
        name=shown,
        target_name=layout.names[target_col],
    )


def _read_layout(shown: str, header: bool, delimiter: str) -> Layout:
    """Column names from row 1 (or the first row's width), checking data follows."""
    with open_text(shown) as f:
        reader = csv.reader(f, delimiter=delimiter, quotechar='"')
        with read_errors(shown, reader):
            rows = (row for row in reader if any(cell.strip() for cell in row))
            first = next(rows, None)
            if first is None:
                needs = "a header row and " if header else ""
                raise DataError(
                    f"{shown}: the file is empty; it needs {needs}at least one data row"
                )
            first_line = reader.line_num
            has_data = not header or next(rows, None) is not None
    if not header:
        names = tuple(f"col{j + 1}" for j in range(len(first)))
        return Layout(shown, names, header, delimiter)
    if first_line != 1:
        raise DataError(
            f"{shown}: row 1 is blank or spans lines; put the column names in row 1 "
            f"(or pass header=False for a file without names)"
        )
    names = tuple(cell.strip() for cell in first)
    if all(number(name) is not None for name in names):
        raise DataError(
            f"{shown}: row 1 looks like data, not column names ({name_list(names, 3)}"
            f"); add a header row or pass header=False"
        )
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name and name in seen:
            raise DataError(
                f"{shown}: columns {seen[name] + 1} and {j + 1} are both named "
                f"{quoted(name)}; give each column a distinct name in row 1"
            )
        seen[name] = j
    if not has_data:
        raise DataError(
            f"{shown}: has a header row but no data rows; add at least one row "
            f"below the column names"
        )
    return Layout(shown, names, header, delimiter)


def _column(layout: Layout, key: object, what: str) -> int:
    """The 0-based index of a column given by name or 1-based number."""
    names = layout.names
    if isinstance(key, str):
        if key.strip() in names:
            return names.index(key.strip())
        message = unknown_choice(
            "column",
            key,
            names,
            subject=f"no column named {quoted(key)} for the {what}",
            quote=quoted,
            listing="available columns:",
        )
        argument = "target" if what == "target" else "features"
        raise DataError(f"{layout.shown}: {message}", argument=argument)
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        if 1 <= key <= len(names):
            return int(key) - 1
        raise DataError(
            f"{layout.shown}: {what} column {key} does not exist; the file has "
            f"{len(names)} columns, numbered 1 to {len(names)}"
        )
    raise DataError(
        f"{layout.shown}: the {what} must be a column name or a 1-based column "
        f"number, got {key!r}"
    )


def _feature_columns(
    layout: Layout, features: Iterable[str | int] | None, target_col: int
) -> list[int]:
    shown, names = layout.shown, layout.names
    if features is None:
        cols = [j for j in range(len(names)) if j != target_col]
    elif isinstance(features, (str, bytes)) or not isinstance(features, Iterable):
        raise DataError(
            f"features must be a list of column names or numbers, got {features!r}; "
            f"e.g. features=[{features!r}]"
        )
    else:
        cols = [_column(layout, key, "feature") for key in features]
        for i, j in enumerate(cols):
            if j == target_col:
                raise DataError(
                    f"{shown}: column {j + 1} ({quoted(names[j])}) is both the "
                    f"target and a feature; leave it out of features",
                    argument="features",
                )
            if j in cols[:i]:
                raise DataError(
                    f"{shown}: column {j + 1} ({quoted(names[j])}) is listed twice "
                    f"in features; list each column once",
                    argument="features",
                )
    if not cols:
        hint = ""
        if len(names) == 1:
            seps = [d for d in ";\t|," if d != layout.delimiter and d in names[0]]
            if seps:
                hint = f" (it looks {seps[0]!r}-separated: pass delimiter={seps[0]!r})"
        raise DataError(
            f"{shown}: no feature columns: the file has {len(names)} column(s) and "
            f"the target is column {target_col + 1}{hint}; a data set needs at least "
            f"one feature"
        )
    for j in [*cols, target_col]:
        if not names[j]:
            raise DataError(
                f"{shown}: column {j + 1} has no name in row 1; name it, or choose "
                f"the feature columns with features=[...]"
            )
    return cols


def _read_fast(
    layout: Layout, feature_cols: list[int], target_col: int
) -> Table | None:
    """Reads with numpy's C parser; None when anything is off (the slow pass tells)."""
    options = dict(
        delimiter=layout.delimiter,
        skiprows=1 if layout.header else 0,
        ndmin=2,
        comments=None,
        quotechar='"',
        encoding="utf-8-sig",
        dtype=np.float64,
    )
    n_cols = len(layout.names)
    labels: list[str] | None = None
    try:
        table = np.loadtxt(layout.shown, **options)
    except (ValueError, TypeError, IndexError) as exc:
        bad = re.search(r"column (\d+)\.?$", str(exc))
        if bad and int(bad.group(1)) - 1 in feature_cols:
            return None  # a bad feature cell: converters would not help
        # Text labels or text in columns left out: read those through converters.
        codes: dict[str, int] = {}
        used = {*feature_cols, target_col}
        converters = {j: _zero for j in range(n_cols) if j not in used}
        converters[target_col] = functools.partial(_label_code, codes)
        try:
            table = np.loadtxt(layout.shown, converters=converters, **options)
        except (ValueError, TypeError, IndexError):
            return None
        labels = list(codes)
    if table.shape[1] != n_cols:
        return None
    start, d = feature_cols[0], len(feature_cols)
    if feature_cols == list(range(start, start + d)):
        x = table[:, start : start + d]  # a view: no second copy of a large file
    else:
        x = table[:, feature_cols]
    target = table[:, target_col].copy()
    if not (np.isfinite(x).all() and np.isfinite(target).all()):
        return None
    return x, target, labels


def _label_code(codes: dict[str, int], cell: str) -> float:
    label = cell.strip()
    if label_problem(label):
        raise ValueError(label)
    return float(codes.setdefault(label, len(codes)))


def _zero(cell: str) -> float:
    return 0.0


def _classes(
    target: np.ndarray, labels: list[str] | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices by sorted unique label, and the class names in that order.

    Args:
      target: [n] float64 label values, or codes into ``labels`` when given.
      labels: the distinct label texts in order of first appearance, or None
        when ``target`` already holds numeric labels.
    """
    if labels is not None:
        values = [number(label) for label in labels]
        if all(v is not None for v in values):
            target = np.asarray(values, dtype=np.float64)[target.astype(np.int64)]
            labels = None
    if labels is None:
        values, y = np.unique(target, return_inverse=True)
        return y.astype(np.int64), tuple(_number_name(float(v)) for v in values)
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels))
    return rank[target.astype(np.int64)], tuple(labels[i] for i in order)


def _number_name(value: float) -> str:
    """A numeric label as a class name: "1" for 1.0, "0.5" for 0.5."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)
