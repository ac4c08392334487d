"""Row roles: validation rows are never fitted, and a validation split is stratified."""

import numpy as np
import pytest

from jaxperc.experiment import roles
from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.problem import prepare


@pytest.mark.parametrize("fraction", [0.2, 0.3, 0.5])
@pytest.mark.parametrize("seed", [0, 1])
def test_validation_split_is_a_stratified_share_of_rows(fraction, seed):
    y = np.repeat([0, 1, 2], [30, 12, 8])
    w = roles.validation_split(y, fraction, seed=seed, stratify=True)
    assert w.shape == (50, 1) and set(np.unique(w)) == {0.0, 1.0}
    val = w[:, 0] == 0
    assert val.sum() == int(np.ceil(fraction * 50))
    for label, count in zip(*np.unique(y, return_counts=True), strict=True):
        share = val[y == label].sum()
        assert abs(share - fraction * count) < 1 + 1e-9  # proportional, ±1 row


def test_validation_split_depends_on_the_seed():
    y = np.repeat([0, 1], 20)
    a = roles.validation_split(y, 0.25, seed=0, stratify=True)
    b = roles.validation_split(y, 0.25, seed=1, stratify=True)
    np.testing.assert_array_equal(a, roles.validation_split(y, 0.25, seed=0,
                                                            stratify=True))  # fmt: skip
    assert not np.array_equal(a, b)


def test_plain_roles_validate_on_the_rows_a_column_did_not_fit():
    w = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    r = roles.plain_roles(w, "out-of-bag")
    np.testing.assert_array_equal(r.validation, w == 0)
    assert not (r.validation & (w > 0)).any() and r.test is None
    assert r.source == "out-of-bag"
    # ratio: validation over fitted rows per column, averaged: (2/2 + 2/2) / 2
    assert r.ratio() == pytest.approx(1.0, abs=0)
    none = roles.plain_roles(None, "split")
    assert none.source == roles.NO_VALIDATION and none.ratio() is None


@pytest.mark.parametrize(
    "sweep, data, source",
    [
        ({}, {"validation_fraction": 0.25}, "split"),
        ({"fold": 4}, {}, "fold"),
        ({"bootstrap": 3}, {}, "out-of-bag"),
    ],
)
def test_prepared_validation_rows_are_disjoint_from_training_rows(sweep, data, source):
    raw = {
        "data": {"source": "blobs", "n_samples": 60, "test_fraction": 0.2, **data},
        "train": {"max_epochs": 5},
        "sweep": sweep,
    }
    problem = prepare(config_from_dict(raw))
    r = problem.roles
    assert r.source == source
    assert r.weights.shape == r.validation.shape == (len(problem.train_idx),
                                                     r.weights.shape[1])  # fmt: skip
    assert r.validation.any(0).all()  # every column validates on some rows
    assert not (r.validation & (r.weights > 0)).any()
    # the test rows are outside the training part altogether
    assert not np.isin(problem.test_idx, problem.train_idx).any()
    if source == "split":  # stratified within the training part
        y = problem.dataset.y[problem.train_idx]
        val = r.validation[:, 0]
        for label in np.unique(y):
            assert abs(val[y == label].mean() - val.mean()) <= 1 / (y == label).sum()


def test_masked_accuracy_counts_only_masked_rows():
    prob = np.array([[0.9, 0.2, 0.6], [0.1, 0.1, 0.1]])
    truth = np.array([1.0, 1.0, 0.0])
    mask = np.array([[True, False, True], [False, False, False]])
    acc = roles.masked_accuracy(prob, truth, mask)
    assert acc[0] == 0.5 and np.isnan(acc[1])
