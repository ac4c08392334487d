"""data.class_weight: parsed, written back, and applied to each fit column."""

import numpy as np
import pytest

from jaxperc.errors import ConfigError
from jaxperc.experiment.config import config_from_dict, to_toml
from jaxperc.experiment.problem import class_weighted, prepare

BC = {"source": "breast_cancer", "test_fraction": 0.25}


def _problem(class_weight, sweep=None):
    data = dict(BC, class_weight=class_weight)
    return prepare(config_from_dict({"data": data, "sweep": sweep or {}}))


def test_balanced_weights_each_fold_on_its_own_fitted_rows():
    problem = _problem("balanced", {"fold": 4})
    folds, fit = problem.weights, problem.training_weights
    y = problem.dataset.y[problem.train_idx]
    for f in range(folds.shape[1]):
        rows = folds[:, f] > 0
        n, counts = rows.sum(), np.bincount(y[rows], minlength=2)
        want = np.where(rows, n / (2 * counts[y]), 0.0)
        np.testing.assert_allclose(fit[:, f], want, rtol=1e-12)
        # balanced: both classes carry the same total weight in every fold
        totals = [fit[y == k, f].sum() for k in (0, 1)]
        np.testing.assert_allclose(totals[0], totals[1], rtol=1e-12)
    # the roles do not change: validation rows are still the held-out folds
    np.testing.assert_array_equal(problem.roles.validation, folds == 0)


def test_a_table_weighs_the_named_class_and_leaves_the_others_at_one():
    problem = _problem({"malignant": 3.0})
    y = problem.dataset.y[problem.train_idx]
    k = problem.dataset.classes.index("malignant")
    fit = problem.training_weights
    assert fit.shape == (len(y), 1)
    np.testing.assert_array_equal(fit[:, 0], np.where(y == k, 3.0, 1.0))


def test_without_class_weight_training_sees_the_role_weights():
    problem = _problem(None, {"fold": 3})
    assert problem.fit_weights is None
    assert problem.training_weights is problem.weights


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("heavy", 'must be "balanced" or a table'),
        ({}, 'must be "balanced" or a table'),
        ({"malignant": -1}, "must be ≥ 0"),
        ({"malignant": "x"}, "must be a number"),
        ({"bogus": 2.0}, "'bogus' is not a class of the data; classes are"),
    ],
)
def test_bad_class_weights_are_one_line_errors_naming_the_key(value, words):
    with pytest.raises(ConfigError) as err:
        _problem(value)
    message = str(err.value)
    assert "data.class_weight" in message and words in message
    assert "\n" not in message


def test_the_written_config_reads_back_the_same():
    config = config_from_dict({"data": dict(BC, class_weight={"benign": 0.5})})
    assert config.data.class_weight == (("benign", 0.5),)
    assert "[data.class_weight]\nbenign = 0.5" in to_toml(config)


def test_balanced_refuses_a_column_without_one_class():
    y = np.array([0, 0, 1, 1])
    weights = np.array([[1.0, 1.0, 0.0, 0.0]]).T  # column 0 fits class 0 only
    with pytest.raises(Exception, match="class 'b' has none in weight column 0"):
        class_weighted("balanced", ("a", "b"), y, weights)
