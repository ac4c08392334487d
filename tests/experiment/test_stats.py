"""Intervals and paired tests against values computed by hand (scipy for quantiles)."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from jaxperc.experiment import stats

SCORES = np.array([0.90, 0.95, 0.93, 0.97, 0.92])  # mean 0.934, s² = 0.00073


def test_t_interval_over_seeds_by_hand():
    got = stats.mean_interval(SCORES)
    half = scipy_stats.t.ppf(0.975, 4) * np.sqrt(0.00073 / 5)
    assert got.method == "t" and got.n == 5
    assert got.mean == pytest.approx(0.934, abs=1e-15)
    assert got.low == pytest.approx(0.934 - half, rel=1e-12)
    assert got.high == pytest.approx(0.934 + half, rel=1e-12)


def test_nadeau_bengio_widens_by_the_test_train_ratio():
    # 5 folds of 100 rows: 20 held out, 80 trained; variance × (1/5 + 20/80)
    got = stats.mean_interval(SCORES, test_train_ratio=20 / 80)
    half = scipy_stats.t.ppf(0.975, 4) * np.sqrt(0.00073 * (1 / 5 + 0.25))
    assert got.method == "corrected_t"
    assert got.high - got.mean == pytest.approx(half, rel=1e-12)
    assert got.high - got.low > np.ptp(stats.mean_interval(SCORES)[1:3])


def test_paired_test_by_hand():
    a = np.array([0.95, 0.96, 0.94, 0.97, 0.95])
    b = np.array([0.93, 0.95, 0.94, 0.94, 0.92])
    d = a - b  # 0.02 0.01 0 0.03 0.03: mean 0.018, s² = 0.00017
    t = 0.018 / np.sqrt(0.00017 / 5)
    got = stats.paired_test(a, b)
    assert got.t == pytest.approx(t, rel=1e-9)
    assert got.p_value == pytest.approx(2 * scipy_stats.t.sf(t, 4), rel=1e-9)
    assert got.difference == pytest.approx(d.mean(), rel=1e-12)
    assert got.distinguishable == (got.p_value < 0.05)
    corrected = stats.paired_test(a, b, test_train_ratio=0.25)
    t_c = 0.018 / np.sqrt(0.00017 * (1 / 5 + 0.25))
    assert corrected.t == pytest.approx(t_c, rel=1e-9)
    assert corrected.p_value > got.p_value  # folds are not independent: less sure


def test_degenerate_cases():
    one = stats.mean_interval([0.9])
    assert one.mean == 0.9 and one.low is None and one.n == 1
    assert stats.mean_interval([np.nan, 0.5, 0.7]).n == 2  # NaN left out
    same = stats.paired_test([0.9, 0.9], [0.9, 0.9])
    assert same.p_value == 1.0 and not same.distinguishable
    shifted = stats.paired_test([0.75, 0.5], [0.5, 0.25])  # always 0.25 better
    assert shifted.p_value == 0.0 and shifted.distinguishable
