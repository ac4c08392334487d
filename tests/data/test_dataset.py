"""The Dataset record: validation, targets, subsets and one-vs-rest views."""

import numpy as np
import pytest

from jaxperc.data import Dataset
from jaxperc.errors import DataError


def small(**changes):
    fields = dict(
        x=np.arange(12, dtype=float).reshape(6, 2),
        y=np.array([0, 1, 2, 1, 0, 2]),
        feature_names=("a", "b"),
        classes=("red", "green", "blue"),
        name="toy",
        target_name="colour",
    )
    fields.update(changes)
    return Dataset(**fields)


def test_sizes_and_counts():
    data = small()
    assert (data.n_samples, data.n_features, data.n_classes) == (6, 2, 3)
    np.testing.assert_array_equal(data.class_counts(), [2, 2, 2])
    assert data.x.dtype == np.float64 and data.y.dtype == np.int64
    assert "n_samples=6" in repr(data) and "toy" in repr(data)


def test_arrays_are_read_only_but_the_callers_arrays_are_not_touched():
    x = np.ones((3, 1))
    data = Dataset(x=x, y=np.array([0, 1, 0]), feature_names=("a",), classes=("n", "p"))
    assert x.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        data.y[0] = 1


def test_binary_targets_are_one_column_for_classes_1():
    data = small(y=np.array([0, 1, 1, 0, 0, 1]), classes=("no", "yes"))
    np.testing.assert_array_equal(data.targets(), [[0], [1], [1], [0], [0], [1]])


def test_multiclass_targets_are_one_vs_rest_columns():
    targets = small().targets()
    assert targets.shape == (6, 3)
    np.testing.assert_array_equal(targets.argmax(axis=1), small().y)
    np.testing.assert_array_equal(targets.sum(axis=1), np.ones(6))


def test_subset_by_index_and_mask_keeps_the_class_mapping():
    data = small()
    part = data.subset(np.array([4, 0]))
    np.testing.assert_array_equal(part.x, [[8, 9], [0, 1]])
    np.testing.assert_array_equal(part.y, [0, 0])
    assert part.classes == data.classes and part.n_classes == 3
    masked = data.subset(data.y == 2)
    np.testing.assert_array_equal(masked.x[:, 0], [4, 10])


@pytest.mark.parametrize(
    ("idx", "fragment"),
    [
        (np.array([6]), "out of range"),
        (np.array([True, False]), "boolean mask must have shape"),
        (np.array([0.5]), "integer index array"),
        (np.array([], dtype=int), "both >= 1"),
    ],
)
def test_bad_subsets_are_refused(idx, fragment):
    with pytest.raises(DataError, match=fragment):
        small().subset(idx)


def test_binary_view_by_name_or_index():
    data = small()
    green = data.binary("green")
    assert green.classes == ("not green", "green")
    assert green.name == "toy_green"
    np.testing.assert_array_equal(green.y, [0, 1, 0, 1, 0, 0])
    np.testing.assert_array_equal(data.binary(1).y, green.y)
    assert np.shares_memory(green.x, data.x)


@pytest.mark.parametrize(
    ("positive", "fragment"),
    [("gren", 'did you mean "green"'), (3, "index in 0..2"), (True, "class name")],
)
def test_binary_refuses_unknown_classes(positive, fragment):
    with pytest.raises(DataError, match=fragment):
        small().binary(positive)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"x": np.ones(6)}, "x must have shape"),
        ({"y": np.zeros(5, dtype=int)}, "6 integer class indices"),
        ({"y": np.zeros(6)}, "integer class indices"),
        ({"y": np.array([0, 1, 2, 3, 0, 0])}, "outside 0..2"),
        ({"feature_names": ("a",)}, "2 distinct feature names"),
        ({"feature_names": ("a", "a")}, "2 distinct feature names"),
        ({"classes": ("one",), "y": np.zeros(6, dtype=int)}, "two distinct class"),
        ({"x": np.array([[0, 1]] * 5 + [[np.nan, 1]])}, r"x\[5, 0\].*nan"),
    ],
)
def test_inconsistent_datasets_are_refused(changes, fragment):
    with pytest.raises(DataError, match=fragment):
        small(**changes)
