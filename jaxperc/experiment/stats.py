"""Intervals and paired comparisons for means over seeds, folds and resamples.

Seeds give independent repeats, so their mean gets Student's t interval. Scores of
cross-validation folds (and of bootstrap resamples' out-of-bag rows) are not
independent: every two folds share most of their training rows, and the plain t
interval is too narrow. For those, the Nadeau–Bengio corrected resampled t replaces
the variance of the mean ``s²/J`` by ``s² · (1/J + n_test/n_train)`` (Nadeau &
Bengio, 2003, "Inference for the generalization error", Machine Learning
52:239–281), where J is the number of scores and ``n_test/n_train`` the ratio of
evaluated to training rows of one fit. The same correction applies to the paired
test between two settings evaluated on the same folds.
"""

from typing import NamedTuple

import numpy as np
from scipy import stats as scipy_stats

LEVEL = 0.95  # the coverage of every interval
ALPHA = 1 - LEVEL  # the two-sided level of every comparison


class Interval(NamedTuple):
    """A mean and its 95 % interval (low = high = mean when it has one value)."""

    mean: float
    low: float | None  # None when fewer than 2 finite values
    high: float | None
    n: int  # values the mean is over
    method: str  # "t" (independent repeats) or "corrected_t" (Nadeau–Bengio)


class Comparison(NamedTuple):
    """Paired test of two settings over shared seeds/folds: mean(a − b)."""

    difference: float  # mean of a − b
    t: float | None  # None when every difference is 0
    p_value: float  # two-sided
    n: int  # pairs
    method: str  # "paired_t" or "corrected_paired_t"
    distinguishable: bool  # p_value < ALPHA


def variance_factor(n: int, test_train_ratio: float | None) -> float:
    """Multiplier of the sample variance in the variance of a mean of n scores.

    Args:
      n: number of scores J ≥ 1.
      test_train_ratio: ``n_test/n_train`` of one fit for fold/resample scores
        (Nadeau–Bengio), None for independent repeats (plain ``1/J``).
    """
    return 1.0 / n + (0.0 if test_train_ratio is None else test_train_ratio)


def mean_interval(values, test_train_ratio: float | None = None) -> Interval:
    """Mean of the finite ``values`` [J] with its 95 % t interval.

    ``mean ± t_{0.975, J−1} · sqrt(s² · factor)`` with ``s²`` the sample variance
    (ddof 1) and ``factor`` from :func:`variance_factor`.
    """
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    method = "t" if test_train_ratio is None else "corrected_t"
    if v.size == 0:
        return Interval(float("nan"), None, None, 0, method)
    mean = float(v.mean())
    if v.size < 2:
        return Interval(mean, None, None, 1, method)
    half = _quantile(v.size - 1) * np.sqrt(
        v.var(ddof=1) * variance_factor(v.size, test_train_ratio)
    )
    return Interval(mean, mean - float(half), mean + float(half), int(v.size), method)


def paired_test(a, b, test_train_ratio: float | None = None) -> Comparison:
    """Two-sided paired t test of ``mean(a − b) = 0`` over shared seeds/folds.

    Args:
      a, b: [J] scores of two settings; ``a[j]`` and ``b[j]`` share seed/fold j.
        Pairs with a non-finite score are dropped.
      test_train_ratio: as in :func:`mean_interval` (folds: corrected test).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    method = "paired_t" if test_train_ratio is None else "corrected_paired_t"
    n = int(d.size)
    if n < 2:
        return Comparison(float(np.mean(d)) if n else 0.0, None, 1.0, n, method, False)
    mean, var = float(d.mean()), float(d.var(ddof=1))
    if var == 0.0:  # identical differences: certain unless they are all 0
        p = 1.0 if mean == 0.0 else 0.0
        return Comparison(mean, None, p, n, method, p < ALPHA)
    t = mean / np.sqrt(var * variance_factor(n, test_train_ratio))
    p = float(2 * scipy_stats.t.sf(abs(t), df=n - 1))
    return Comparison(mean, float(t), p, n, method, p < ALPHA)


def _quantile(df: int) -> float:
    return float(scipy_stats.t.ppf(1 - ALPHA / 2, df))
