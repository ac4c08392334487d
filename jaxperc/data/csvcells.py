"""Cell-level CSV reading: numbers, missing values, class labels, and the slow pass.

The slow pass reads a file row by row with the ``csv`` module. It runs only when
numpy's fast parser fails, and either raises a DataError naming the first bad row
and cell (1-based, as a spreadsheet shows them) or returns the data itself.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
from array import array
from typing import IO, NamedTuple

import numpy as np

from jaxperc.data._validate import quoted, shown_cell
from jaxperc.errors import DataError

# Cell texts read as "no value" (compared in lower case, after stripping spaces).
MISSING = frozenset({"", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "?", "-"})

_LEAVE_OUT = "or leave the column out with features=[...]"


class Layout(NamedTuple):
    """What row 1 of a CSV file told us: its columns and how to split fields."""

    shown: str  # the path as the caller gave it, for messages
    names: tuple[str, ...]  # one name per column
    header: bool  # whether row 1 holds the names
    delimiter: str


def open_text(shown: str) -> IO[str]:
    """Opens a CSV file as UTF-8 text (a byte-order mark is skipped)."""
    try:
        return open(shown, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(
            f"{shown}: file not found; check the path (relative to {os.getcwd()})"
        ) from None
    except IsADirectoryError:
        raise DataError(f"{shown}: is a folder; pass the path of a CSV file") from None
    except OSError as exc:
        raise DataError(
            f"{shown}: cannot be opened ({exc.strerror}); check the path and "
            f"permissions"
        ) from None


def not_text(shown: str, exc: UnicodeDecodeError) -> DataError:
    """The error for a file that is not UTF-8 text."""
    return DataError(
        f"{shown}: is not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} "
        f"cannot be decoded); save it as UTF-8, e.g. 'CSV UTF-8' in a spreadsheet"
    )


Table = tuple[np.ndarray, np.ndarray, list[str] | None]


@contextlib.contextmanager
def read_errors(shown: str, reader):
    """Malformed quoting or bytes that are not text → one DataError line."""
    try:
        yield
    except csv.Error as exc:
        raise DataError(
            f"{shown}: row {reader.line_num}: {exc}; check the quotes in that row"
        ) from None
    except UnicodeDecodeError as exc:
        raise not_text(shown, exc) from None


def read_slow(layout: Layout, feature_cols: list[int], target_col: int) -> Table:
    """Reads cell by cell, raising a DataError at the first bad row or cell."""
    shown, n_cols = layout.shown, len(layout.names)
    values = array("d")
    target = array("d")
    codes: dict[str, int] = {}
    with open_text(shown) as f:
        reader = csv.reader(f, delimiter=layout.delimiter, quotechar='"')
        with read_errors(shown, reader):
            if layout.header:
                next(reader)
            for row in reader:
                if not row:
                    continue  # blank line
                line = reader.line_num
                if len(row) != n_cols:
                    widths = "the header has" if layout.header else "the first row has"
                    raise DataError(
                        f"{shown}: row {line} has {_fields(len(row))} but {widths} "
                        f"{n_cols}; make every row have {n_cols} fields (look for "
                        f"a missing or extra {layout.delimiter!r}, an unquoted "
                        f"{layout.delimiter!r} inside a value or an unclosed quote)"
                    )
                cells = [row[j] for j in feature_cols]
                try:
                    numbers_ = [float(cell) for cell in cells]
                    plain = "".join(cells)
                    ok = plain.isascii() and "_" not in plain
                except ValueError:
                    numbers_, ok = [], False
                if not (ok and math.isfinite(sum(numbers_))):
                    for j in feature_cols:  # find the culprit, the strict way
                        value = number(row[j])
                        if value is None or not math.isfinite(value):
                            raise _cell_error(layout, line, j, row[j])
                values.extend(numbers_)
                label = row[target_col].strip()
                problem = label_problem(label)
                if problem:
                    raise DataError(
                        f"{shown}: row {line}, column {target_col + 1} "
                        f"({quoted(layout.names[target_col])}): {problem}; fill in "
                        f"the class label or remove the row"
                    )
                target.append(codes.setdefault(label, len(codes)))
    x = np.frombuffer(values, dtype=np.float64).reshape(-1, len(feature_cols))
    return x.copy(), np.frombuffer(target, dtype=np.float64).copy(), list(codes)


def _cell_error(layout: Layout, line: int, col: int, cell: str) -> DataError:
    text = cell.strip()
    if not text:
        problem = "the cell is empty (a missing value); fill it in"
    elif text.lower() in MISSING:
        problem = f"{shown_cell(cell)} is a missing value; fill it in"
    elif number(text) is not None:
        problem = f"{shown_cell(cell)} is infinite; replace it with a finite number"
    else:
        problem = f"{shown_cell(cell)} is not a number; fix that cell"
    return DataError(
        f"{layout.shown}: row {line}, column {col + 1} "
        f"({quoted(layout.names[col])}): {problem} or remove the row, {_LEAVE_OUT}"
    )


def _fields(count: int) -> str:
    return "1 field" if count == 1 else f"{count} fields"


def number(cell: str) -> float | None:
    """The cell as a float the way numpy's parser reads it, or None.

    Surrounding spaces are ignored; "nan" and "inf" parse (the callers refuse
    them); underscores and non-ASCII digits, which Python's float() would take
    but numpy's parser does not, are refused.
    """
    text = cell.strip()
    if not text.isascii() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def label_problem(label: str) -> str | None:
    """Why a stripped target cell cannot be a class label, or None if it can."""
    if not label:
        return "the class label is empty"
    if label.lower() in MISSING:
        return f"the class label {shown_cell(label)} is a missing value"
    value = number(label)
    if value is not None and not math.isfinite(value):
        return f"the class label {shown_cell(label)} is not a finite number"
    return None
