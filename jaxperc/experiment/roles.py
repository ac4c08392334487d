"""Three roles for rows: each model's training, validation and test rows, never mixed.

Training rows are what a model fits (weight > 0 in its column of the weights
table). Validation rows are training-split rows a model did not fit: a
``data.validation_fraction`` split, the held-out fold under ``sweep.fold``, the
out-of-bag rows under ``sweep.bootstrap``, the inner held-out fold of nested
cross-validation; models and settings are chosen on them (or on training rows).
Test rows are never used to choose: the ``data.test_fraction`` split, or under
nested cross-validation the outer held-out fold of each refitted model.

Every split is a column of weights over the one training part of ``x``, so no row is
copied; preprocessing is fitted per column on its training rows only.
"""

from typing import NamedTuple

import jax
import numpy as np

import jaxperc.data
from jaxperc import core

NO_VALIDATION = "none"  # RowRoles.source of a run without validation rows


class RowRoles(NamedTuple):
    """Which rows of the training part each weight column fits, validates, tests.

    F is the number of weight columns (1 without folds/resamples/validation split).
    """

    weights: np.ndarray | None  # [n_train, F] fit weights (0: not fitted); None: all 1
    validation: np.ndarray | None  # [n_train, F] bool: validation rows per column
    test: np.ndarray | None  # [n_train, F] bool: test rows inside the training part
    source: str  # "none", "split", "fold", "out-of-bag" or "nested"

    def ratio(self) -> float | None:
        """Mean validation-to-fitted rows ratio of the columns that validate.

        The ``n_test/n_train`` of the Nadeau–Bengio correction (None: no columns).
        """
        if self.weights is None or self.validation is None:
            return None
        used = self.validation.any(0)
        fitted = (self.weights[:, used] > 0).sum(0)
        return float(np.mean(self.validation[:, used].sum(0) / np.maximum(fitted, 1)))


def validation_split(y_train, fraction: float, *, seed: int, stratify: bool):
    """[n_train, 1] weights: 0 for a seeded (stratified) validation share, else 1."""
    _, val = jaxperc.data.train_test_split(
        y_train, test_fraction=fraction, seed=seed, stratify=stratify
    )
    w = np.ones((len(y_train), 1))
    w[val, 0] = 0.0
    return w


def plain_roles(weights: np.ndarray | None, source: str) -> RowRoles:
    """Roles of a split, folds or resamples: rows a column did not fit validate it."""
    if weights is None:
        return RowRoles(None, None, None, NO_VALIDATION)
    return RowRoles(weights, weights == 0, None, source)


class ModelInputs(NamedTuple):
    """How models see x: one global standardizer, or one row of tables per model."""

    standardizer: jaxperc.data.Standardizer | None  # global (x already applied)
    tables: object | None  # jaxperc.data.Standardizers [F, d] (x raw), or None
    index: np.ndarray | None  # [M] row of the tables of each model

    def of(self, model: int, n_features: int) -> jaxperc.data.Standardizer:
        """The standardizer that maps raw rows to model ``model``'s coordinates."""
        if self.tables is not None:
            s = int(self.index[model])
            return jaxperc.data.Standardizer(self.tables.mean[s], self.tables.scale[s])
        if self.standardizer is not None:
            return self.standardizer
        return jaxperc.data.Standardizer.identity(n_features)


def outputs(x, inputs: ModelInputs, params: core.Params, activation: str):
    """[M, n] forward outputs of every model on rows ``x`` [n, d] of the Problem.

    ``x`` is as the Problem holds it: standardised with the global standardizer, or
    raw when every model has its own row of standardizer tables.
    """
    dtype = np.asarray(params.w).dtype

    def run(p, rows):
        rows = np.asarray(rows, dtype)
        out = jax.vmap(lambda q: core.forward(q, rows, activation=activation))(p)
        return np.asarray(out, np.float64)

    if inputs.tables is None:
        return run(params, x)
    w, b = np.asarray(params.w), np.asarray(params.b)
    out = np.empty((w.shape[0], len(x)))
    for s in np.unique(inputs.index):
        ms = np.flatnonzero(inputs.index == s)
        z = (np.asarray(x, np.float64) - inputs.tables.mean[s]) / inputs.tables.scale[s]
        out[ms] = run(core.Params(w[ms], b[ms]), z)
    return out


def masked_accuracy(prob, truth, mask) -> np.ndarray:
    """[M] accuracy of outputs ``prob`` [M, n] on rows ``mask`` [M, n] (NaN: none)."""
    hits = ((prob >= 0.5) == (truth >= 0.5)) & mask
    count = mask.sum(1)
    return np.where(count > 0, hits.sum(1) / np.maximum(count, 1), np.nan)
