"""Seeded train/test splits, k-fold masks and bootstrap counts as index or weights.

Cross-validation and bootstrap are expressed as per-sample weights over one shared
``x``, so K fits can run as one batched program instead of K sliced copies.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from jaxperc.data._validate import check_int, check_labels, check_seed
from jaxperc.errors import DataError


def train_test_split(
    y: np.ndarray,
    *,
    test_fraction: float = 0.25,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Splits row indices into a training part and a held-out test part.

    The test part has ``ceil(test_fraction * n)`` rows (at least 1, at most n - 1).
    With ``stratify`` each class contributes in proportion to its size (largest
    remainders, ties broken by the seed), and a class with two or more rows keeps
    at least one of them for training (unless the test part could not be filled
    otherwise, e.g. when most classes have a single row).

    Args:
      y: [n] class labels (n >= 2), e.g. ``Dataset.y``.
      test_fraction: share of rows held out, strictly between 0 and 1.
      seed: non-negative integer; the same seed gives the same split.
      stratify: keep class proportions in both parts.

    Returns:
      ``(train_idx, test_idx)``: sorted int64 index arrays that together cover
      ``0..n-1`` exactly once.
    """
    labels = check_labels(y)
    fraction = _check_fraction(test_fraction)
    rng = np.random.default_rng(check_seed(seed))
    n = labels.shape[0]
    if n < 2:
        raise DataError(f"train_test_split needs at least 2 rows, got {n}")
    n_test = min(max(math.ceil(fraction * n - 1e-9), 1), n - 1)
    if stratify:
        groups = _class_groups(labels, rng)
        sizes = np.array([len(g) for g in groups])
        quotas = _apportion(sizes, n_test, rng)
        test = np.concatenate([g[:q] for g, q in zip(groups, quotas, strict=True)])
    else:
        test = rng.permutation(n)[:n_test]
    is_test = np.zeros(n, dtype=bool)
    is_test[test] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def kfold_weights(
    y: np.ndarray, k: int, *, seed: int = 0, stratify: bool = True
) -> np.ndarray:
    """k-fold cross-validation as 0/1 training masks over one shared data set.

    Rows are dealt to folds round-robin after a seeded shuffle (class by class when
    ``stratify``), so fold sizes differ by at most one and every class is spread
    over the folds as evenly as its size allows.

    Args:
      y: [n] class labels with n >= k, e.g. ``Dataset.y``.
      k: number of folds, >= 2.
      seed: non-negative integer; the same seed gives the same folds.
      stratify: keep class proportions in each fold.

    Returns:
      [k, n] float64: ``w[f, i]`` is 1.0 when row i trains fold f and 0.0 when it is
      held out; each row is held out in exactly one fold (each column sums to k-1).
    """
    labels = check_labels(y)
    folds = check_int("k", k, minimum=2, why="folds")
    rng = np.random.default_rng(check_seed(seed))
    n = labels.shape[0]
    if n < folds:
        raise DataError(
            f"cannot make {folds} folds from {n} rows (fewer rows than folds); "
            f"use k <= {n} or more data"
        )
    if stratify:
        order = np.concatenate(_class_groups(labels, rng))
    else:
        order = rng.permutation(n)
    fold_of = np.empty(n, dtype=np.int64)
    fold_of[order] = np.arange(n) % folds
    return (fold_of[None, :] != np.arange(folds)[:, None]).astype(np.float64)


def bootstrap_weights(n: int, n_resamples: int, *, seed: int = 0) -> np.ndarray:
    """Bootstrap resamples as per-row counts: how often each row was drawn.

    Args:
      n: number of rows, >= 1.
      n_resamples: B, number of resamples, >= 1.
      seed: non-negative integer; the same seed gives the same resamples.

    Returns:
      [B, n] float64 non-negative whole counts; each row sums to n (n draws with
      replacement), so a weighted loss equals the loss on the resampled copy.
    """
    rows = check_int("n", n, minimum=1)
    count = check_int("n_resamples", n_resamples, minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    draws = rng.integers(0, rows, size=(count, rows))
    flat = (draws + rows * np.arange(count)[:, None]).ravel()
    counts = np.bincount(flat, minlength=count * rows)
    return counts.reshape(count, rows).astype(np.float64)


def _check_fraction(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DataError(f"test_fraction must be a number in (0, 1), got {value!r}")
    fraction = float(value)
    if not 0.0 < fraction < 1.0:
        raise DataError(
            f"test_fraction must be strictly between 0 and 1, got {value!r}; "
            f"e.g. test_fraction=0.25 holds out a quarter of the rows"
        )
    return fraction


def _class_groups(labels: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Row indices of each class (in sorted class order), each shuffled by rng."""
    _, inverse = np.unique(labels, return_inverse=True)
    by_class = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse))[:-1]
    return [rng.permutation(g) for g in np.split(by_class, bounds)]


def _apportion(sizes: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Integer quotas proportional to ``sizes`` summing to ``total``.

    Largest remainders first (random tie-break). A class of two or more rows keeps
    at least one row out of its quota unless the total cannot be reached otherwise.
    """
    ideal = sizes * (total / sizes.sum())
    quotas = np.floor(ideal).astype(np.int64)
    order = np.lexsort((rng.random(len(sizes)), -(ideal - quotas)))
    for limit in (np.where(sizes >= 2, sizes - 1, 0), sizes):
        while quotas.sum() < total:
            open_ = [c for c in order if quotas[c] < limit[c]]
            if not open_:
                break
            for c in open_[: total - quotas.sum()]:
                quotas[c] += 1
    return quotas
