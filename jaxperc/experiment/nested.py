"""Nested cross-validation as ONE compiled program: select inside, estimate outside.

The inner k-fold picks a setting of the grid (highest mean validation accuracy over
the inner folds); the outer k-fold estimates the accuracy of that whole selection
procedure, because each outer held-out fold plays no part in choosing. Every model
is one column of a weights table over the shared rows, so all outer × (inner + 1)
× grid models train in one ``train_models`` call: per outer fold, its inner
training masks and its whole outer training mask (the refit of every setting, of
which the selected one is scored on the outer held-out fold afterwards).
Standardisation is fitted per column on that column's training rows only.
"""

from typing import Any, NamedTuple

import numpy as np

import jaxperc.data
from jaxperc import training
from jaxperc.experiment import roles, stats

REFIT = -1  # inner_of of a column that fits the whole outer training part


class NestedColumns(NamedTuple):
    """Weight columns of nested CV: per outer fold, ``inner`` columns then a refit."""

    roles: roles.RowRoles  # weights, validation (inner) and test (outer) rows [n, F]
    outer_of: np.ndarray  # [F] outer fold of each column
    inner_of: np.ndarray  # [F] inner fold of each column (REFIT: the refit column)


class NestedSelection(NamedTuple):
    """What the inner folds chose and how it scored on the outer folds."""

    selected: np.ndarray  # [K_out] index of the setting chosen per outer fold
    inner_accuracy: np.ndarray  # [K_out, G] mean inner validation accuracy
    outer_accuracy: np.ndarray  # [K_out] test accuracy of the chosen refit
    estimate: stats.Interval  # mean outer accuracy, corrected t interval
    ratio: float  # outer held-out / outer training rows (Nadeau–Bengio)


class NestedCVResult(NamedTuple):
    """:func:`nested_cv`'s answer."""

    estimate: stats.Interval  # accuracy of the whole procedure (outer folds)
    outer_accuracy: np.ndarray  # [K_out]
    selected: tuple[dict[str, Any], ...]  # [K_out] setting chosen per outer fold
    inner_accuracy: np.ndarray  # [K_out, G]
    settings: tuple[dict[str, Any], ...]  # [G] the grid's settings
    result: training.TrainResult  # every model, [G · F]
    grid: training.Grid  # settings × fold (= weight column)


def nested_columns(y, outer: int, inner: int, *, seed: int = 0, stratify=True):
    """:class:`NestedColumns`: ``outer`` × (``inner`` + refit) over labels y [n]."""
    y = np.asarray(y)
    outer_w = jaxperc.data.kfold_weights(y, outer, seed=seed, stratify=stratify)
    weights, val, test, outer_of, inner_of = [], [], [], [], []
    for o, mask in enumerate(outer_w > 0):
        rows = np.flatnonzero(mask)
        inner_w = jaxperc.data.kfold_weights(
            y[rows], inner, seed=seed, stratify=stratify
        )
        for i, w in enumerate(inner_w):
            col = np.zeros(len(y))
            col[rows] = w
            weights.append(col)
            val.append(mask & (col == 0))
            test.append(np.zeros(len(y), bool))
            outer_of.append(o)
            inner_of.append(i)
        weights.append(mask.astype(np.float64))
        val.append(np.zeros(len(y), bool))
        test.append(~mask)
        outer_of.append(o)
        inner_of.append(REFIT)
    table = roles.RowRoles(
        np.stack(weights, 1), np.stack(val, 1), np.stack(test, 1), "nested"
    )
    return NestedColumns(table, np.asarray(outer_of), np.asarray(inner_of))


def select(columns: NestedColumns, validation, test) -> NestedSelection:
    """Choose a setting per outer fold on inner validation; score it on the outer.

    Args:
      columns: the run's :class:`NestedColumns` (F columns).
      validation: [G, F] validation accuracy of each setting's model per column.
      test: [G, F] test accuracy (finite on the refit columns).
    """
    k_out = int(columns.outer_of.max()) + 1
    inner_acc = np.stack(
        [
            np.nanmean(
                validation[:, (columns.outer_of == o) & (columns.inner_of != REFIT)], 1
            )
            for o in range(k_out)
        ]
    )  # [K_out, G]
    chosen = np.argmax(inner_acc, axis=1)  # ties: the first setting
    refit = np.flatnonzero(columns.inner_of == REFIT)  # [K_out], in outer order
    outer_acc = test[chosen, refit]
    r = columns.roles
    ratio = float(np.mean(r.test[:, refit].sum(0) / r.weights[:, refit].sum(0)))
    estimate = stats.mean_interval(outer_acc, test_train_ratio=ratio)
    return NestedSelection(chosen, inner_acc, outer_acc, estimate, ratio)


def nested_cv(
    x,
    y,
    grid_axes: dict[str, Any],
    options: training.TrainOptions,
    *,
    outer: int = 5,
    inner: int = 5,
    seed: int = 0,
    stratify: bool = True,
    standardize: bool = True,
    defaults: dict[str, Any] | None = None,
) -> NestedCVResult:
    """Nested cross-validation of a grid, every model in one compiled program.

    Args:
      x: [n, d] raw features (standardised per column inside, when asked).
      y: [n] 0/1 labels.
      grid_axes: the settings to choose from, e.g. ``{"learning_rate": [...]}``
        (any axis of :func:`jaxperc.make_grid` except fold/resample/class).
      options: the shared :class:`~jaxperc.training.TrainOptions`.
      outer, inner: numbers of outer and inner folds (≥ 2).
      seed: seed of both fold assignments. stratify: keep class proportions.
      standardize: fit a standardizer on each column's training rows.
      defaults: unswept ``seed``/``learning_rate``/``l2`` (default 0, 0.1, 0).

    Returns:
      A :class:`NestedCVResult`: the outer estimate with its interval, the setting
      each outer fold chose, and every model's result.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y)
    columns = nested_columns(y, outer, inner, seed=seed, stratify=stratify)
    r = columns.roles
    f = r.weights.shape[1]
    grid = training.make_grid(**grid_axes, fold=range(f))
    per_model = grid.per_model(**{"seed": 0, "learning_rate": 0.1, **(defaults or {})})
    tables = jaxperc.data.fit_standardizers(x, r.weights) if standardize else None
    if tables is not None:
        per_model = per_model._replace(standardizer_index=per_model.weight_index)
    targets = y.astype(np.float64)
    result = training.train_models(
        x, targets, per_model, options, weights=r.weights, standardizers=tables
    )
    inputs = roles.ModelInputs(None, tables, np.asarray(per_model.weight_index))
    prob = roles.outputs(x, inputs, result.params, options.activation)
    wi = np.asarray(per_model.weight_index)
    val = roles.masked_accuracy(prob, targets[None, :], r.validation[:, wi].T)
    test = roles.masked_accuracy(prob, targets[None, :], r.test[:, wi].T)
    g = grid.size // f
    chosen = select(columns, val.reshape(g, f), test.reshape(g, f))
    settings = tuple(
        {k: grid.labels[k][s * f].item() for k in grid_axes} for s in range(g)
    )
    return NestedCVResult(
        chosen.estimate,
        chosen.outer_accuracy,
        tuple(settings[s] for s in chosen.selected),
        chosen.inner_accuracy,
        settings,
        result,
        grid,
    )
