"""Seeded stratified splits, k-fold masks and bootstrap counts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxperc.data import bootstrap_weights, kfold_weights, train_test_split
from jaxperc.errors import DataError

labels = st.lists(st.integers(0, 3), min_size=2, max_size=80).map(np.array)


def test_split_covers_every_row_once_sorted():
    y = np.array([0] * 30 + [1] * 70)
    train, test = train_test_split(y, test_fraction=0.25, seed=0)
    assert len(test) == 25 and len(train) == 75
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    np.testing.assert_array_equal(
        np.sort(np.concatenate([train, test])), np.arange(100)
    )
    assert train.dtype.kind == "i" and test.dtype.kind == "i"


def test_stratified_split_keeps_class_proportions():
    y = np.array([0] * 212 + [1] * 357)
    _, test = train_test_split(y, test_fraction=0.25, seed=3)
    assert np.bincount(y[test]).tolist() == [53, 90]  # 143 = ceil(0.25 * 569)
    unstratified = [
        np.bincount(y[train_test_split(y, seed=s, stratify=False)[1]], minlength=2)[0]
        for s in range(20)
    ]
    assert len(set(unstratified)) > 1  # plain shuffles vary; stratified ones do not


def test_split_is_deterministic_per_seed():
    y = np.arange(50) % 3
    first = train_test_split(y, seed=7)
    np.testing.assert_array_equal(first[1], train_test_split(y, seed=7)[1])
    assert not np.array_equal(first[1], train_test_split(y, seed=8)[1])


def test_every_class_keeps_a_training_row():
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2])
    for seed in range(10):
        train, _ = train_test_split(y, test_fraction=0.6, seed=seed)
        assert set(y[train]) == {0, 1, 2}


@settings(max_examples=60, deadline=None)
@given(labels, st.floats(0.01, 0.99), st.integers(0, 2**31), st.booleans())
def test_split_properties(y, fraction, seed, stratify):
    train, test = train_test_split(
        y, test_fraction=fraction, seed=seed, stratify=stratify
    )
    assert len(train) >= 1 and len(test) >= 1
    assert len(np.intersect1d(train, test)) == 0
    assert len(train) + len(test) == len(y)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"test_fraction": 0.0}, "strictly between 0 and 1"),
        ({"test_fraction": 1.0}, "strictly between 0 and 1"),
        ({"test_fraction": -0.5}, "strictly between 0 and 1"),
        ({"test_fraction": "0.2"}, "must be a number"),
        ({"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_bad_split_arguments_are_refused(kwargs, fragment):
    with pytest.raises(DataError, match=fragment):
        train_test_split(np.array([0, 1, 0, 1]), **kwargs)


@pytest.mark.parametrize(
    ("y", "fragment"),
    [(np.array([1]), "at least 2 rows"), (np.zeros((2, 2)), "1-D"), ([], "empty")],
)
def test_bad_split_labels_are_refused(y, fragment):
    with pytest.raises(DataError, match=fragment):
        train_test_split(y)


def test_kfold_holds_out_each_row_exactly_once():
    y = np.array([0] * 10 + [1] * 23)
    w = kfold_weights(y, 5, seed=1)
    assert w.shape == (5, 33) and w.dtype == np.float64
    assert set(np.unique(w)) == {0.0, 1.0}
    np.testing.assert_array_equal((1 - w).sum(axis=0), np.ones(33))
    held = (1 - w).sum(axis=1)
    assert held.max() - held.min() <= 1
    for fold in w:  # stratified: each class spread as evenly as its size allows
        counts = np.bincount(y[fold == 0], minlength=2)
        assert counts[0] == 2 and counts[1] in (4, 5)


@settings(max_examples=60, deadline=None)
@given(labels, st.integers(2, 6), st.integers(0, 2**31), st.booleans())
def test_kfold_properties(y, k, seed, stratify):
    if len(y) < k:
        with pytest.raises(DataError, match="fewer rows than folds"):
            kfold_weights(y, k, seed=seed, stratify=stratify)
        return
    w = kfold_weights(y, k, seed=seed, stratify=stratify)
    np.testing.assert_array_equal(w.sum(axis=0), np.full(len(y), k - 1))
    assert np.all((1 - w).sum(axis=1) >= 1)  # every fold holds something out
    assert np.all(w.sum(axis=1) >= 1)  # and trains on something


def test_kfold_is_deterministic_and_refuses_bad_k():
    y = np.arange(20) % 2
    np.testing.assert_array_equal(
        kfold_weights(y, 4, seed=2), kfold_weights(y, 4, seed=2)
    )
    with pytest.raises(DataError, match="k must be at least 2"):
        kfold_weights(y, 1)
    with pytest.raises(DataError, match="cannot make 21 folds from 20 rows"):
        kfold_weights(y, 21)


def test_bootstrap_counts_sum_to_n():
    w = bootstrap_weights(50, 200, seed=0)
    assert w.shape == (200, 50) and w.dtype == np.float64
    np.testing.assert_array_equal(w.sum(axis=1), np.full(200, 50.0))
    np.testing.assert_array_equal(w, np.round(w))
    assert w.min() >= 0
    # About 1 - 1/e of the rows are drawn at least once in each resample.
    assert 0.58 < (w > 0).mean() < 0.68
    np.testing.assert_array_equal(w, bootstrap_weights(50, 200, seed=0))
    assert not np.array_equal(w, bootstrap_weights(50, 200, seed=1))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [((0, 3), "n must be at least 1"), ((5, 0), "n_resamples must be at least 1")],
)
def test_bootstrap_refuses_bad_sizes(args, fragment):
    with pytest.raises(DataError, match=fragment):
        bootstrap_weights(*args)
