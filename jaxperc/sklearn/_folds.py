"""What :class:`jaxperc.sklearn.PerceptronClassifierCV` does around ``train_many``.

Host-side helpers, numpy and scikit-learn only. The k folds and the refit on all
rows are k + 1 weight columns over the shared rows; each (penalty, column, class)
is one model of a single ``train_many`` call, with its own scaler fitted on its
column's training rows. Afterwards each fold's models are scored on that fold's
held-out rows, which took no part in training or scaling them.
"""

from typing import NamedTuple

import numpy as np
from sklearn.model_selection import check_cv

import jaxperc.data as jd
from jaxperc.sklearn import _fit as fit_help

DEFAULT_L2_RANGE = (1.0, 1e-6)  # an int l2s spaces that many values over this


class Folds(NamedTuple):
    """Rows of the k folds, and the refit's."""

    train: np.ndarray  # [n, k + 1] bool: each fold's training rows, then all rows
    held_out: np.ndarray  # [k, n] bool: each fold's held-out rows


class Models(NamedTuple):
    """Per-model arrays for ``train_many``, models ordered (penalty, column, class)."""

    l2: np.ndarray  # [M] penalty
    column: np.ndarray  # [M] fold column (k: the refit), = its standardizer row
    weight_index: np.ndarray  # [M] column of the weight table
    target_index: np.ndarray  # [M] column of the targets table (its class)


def l2_grid(l2s) -> np.ndarray:
    """[G] penalties from ``l2s``: an int ≥ 2 or a sequence of values ≥ 0."""
    if isinstance(l2s, int | np.integer) and not isinstance(l2s, bool):
        if l2s < 2:
            raise ValueError(
                f"l2s={l2s}: an int l2s must be ≥ 2 (that many penalties from "
                f"{DEFAULT_L2_RANGE[0]:g} down to {DEFAULT_L2_RANGE[1]:g}); or pass "
                "a list of penalties"
            )
        return np.geomspace(*DEFAULT_L2_RANGE, int(l2s))
    try:
        grid = np.asarray(l2s, dtype=np.float64)
    except (TypeError, ValueError):
        grid = np.array([np.nan])
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid) & (grid >= 0)):
        raise ValueError(
            f"l2s={l2s!r}: pass an int ≥ 2 or a non-empty list of finite "
            "penalties ≥ 0, e.g. l2s=[1e-4, 1e-3, 1e-2]"
        )
    return grid


def folds(cv, X, y, groups, row_weight) -> Folds:
    """The splits of a scikit-learn ``cv`` (int: ``StratifiedKFold``), checked.

    Every fold's training rows must hold two classes with positive weight, or
    that fold has no classifier to score.
    """
    splits = list(check_cv(cv, y, classifier=True).split(X, y, groups))
    n = y.shape[0]
    train = np.zeros((n, len(splits) + 1), bool)
    held = np.zeros((len(splits), n), bool)
    for f, (fit_rows, test_rows) in enumerate(splits):
        train[fit_rows, f] = True
        held[f, test_rows] = True
        if np.unique(y[fit_rows][row_weight[fit_rows] > 0]).size < 2:
            raise ValueError(
                f"fold {f} of cv={cv!r} trains on one class only; use fewer "
                "folds or a stratified splitter"
            )
        if not held[f].any():
            raise ValueError(f"fold {f} of cv={cv!r} holds out no rows")
    train[:, -1] = True
    return Folds(train, held)


def column_weights(y_index, n_classes, class_weight, cw, sw, train):
    """Weight table of every column, and the row weights its scaler is fitted on.

    ``"balanced"`` is recomputed on each column's training rows, as a search
    that refits the estimator on each fold would.  → (table [n, (k + 1) · F],
    F weight columns per fold column, row weights [n, k + 1]).
    """
    tables, rows = [], []
    for c in range(train.shape[1]):
        mask = train[:, c].astype(np.float64)
        if isinstance(class_weight, str):  # "balanced" (scikit-learn checked it)
            cw = jd.class_weights(class_weight, y_index, n_classes, row_weights=mask)
        table, _, _ = fit_help.weight_table(y_index, n_classes, cw, sw * mask, None)
        tables.append(table)
        rows.append(sw * mask * cw[y_index])
    return np.hstack(tables), tables[0].shape[1], np.stack(rows, axis=1)


def models(n_l2: int, n_columns: int, per_column: int, n_targets: int, l2) -> Models:
    """One model per (penalty, column, class), in that order (class fastest)."""
    g, c, k = np.meshgrid(
        np.arange(n_l2), np.arange(n_columns), np.arange(n_targets), indexing="ij"
    )
    g, c, k = g.ravel(), c.ravel(), k.ravel()
    w_index = c * per_column + (k if per_column > 1 else 0)
    return Models(np.asarray(l2)[g], c, w_index, k)


def scalers(X, rows, standardize: bool):
    """A conditioning scaler on all rows, then one scaler per column on its rows.

    The per-column scalers are what the models train under. Conditioning first
    (centre and scale by all rows) changes no model: standardising x, then
    standardising that per column, is the per-column standardisation of x
    exactly, whatever the first step was. It only keeps float32 arithmetic in
    range (features of 1e300) and away from cancellation (large means).
    → (x in the conditioner's units, tables (mean [C, d], scale [C, d]) or
    None, the same scalers in X's units (mean [C, d], scale [C, d]) or None).
    """
    if not standardize:
        return fit_help.scaled(None, X), None, None
    first = fit_help.fit_scaler(X, np.ones(X.shape[0]), True)
    xs = fit_help.scaled(first, X)
    fitted = [fit_help.fit_scaler(xs, rows[:, c], True) for c in range(rows.shape[1])]
    mean = np.stack([s.mean for s in fitted])
    scale = np.stack([s.scale for s in fitted])
    in_x = (first.mean + first.scale * mean, first.scale * scale)
    return xs, (mean, scale), in_x


def padded_tables(tables, d_pad: int):
    """Standardizer tables with padded features: mean 0, scale 1."""
    if tables is None:
        return None
    mean, scale = tables
    extra = d_pad - mean.shape[1]
    return np.pad(mean, ((0, 0), (0, extra))), np.pad(
        scale, ((0, 0), (0, extra)), constant_values=1.0
    )


def fold_scores(z, y_index, held_out, threshold: float) -> np.ndarray:
    """Accuracy of every fold's models on that fold's held-out rows.

    Args:
      z: [n, G, k + 1, K'] scores of every model on every row (K' = 1: two
        classes, the positive class where z ≥ threshold; else the largest z).
      y_index: [n] class index of each row.
      held_out: [k, n] bool.

    Returns:
      [k, G] accuracy (unweighted, as scikit-learn's default scoring).
    """
    out = np.empty((held_out.shape[0], z.shape[1]))
    for f, rows in enumerate(held_out):
        zf = z[rows, :, f, :]  # [n_f, G, K']
        if zf.shape[-1] == 1:
            pred = (zf[..., 0] >= threshold).astype(int)
        else:
            pred = np.argmax(zf, axis=-1)
        out[f] = np.mean(pred == y_index[rows, None], axis=0)
    return out
