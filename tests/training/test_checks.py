"""The argument checks at the edge of training: what passes, what is refused, and how.

Every refusal is a one-line JaxpercError that names the offending value.
"""

import numpy as np
import pytest
import scipy.sparse

from jaxperc.errors import JaxpercError
from jaxperc.training.checks import (
    check_choice,
    check_data,
    check_positive_int,
    check_sparse_and_holdout,
    check_standardizers,
    model_count,
    per_model,
)
from jaxperc.training.options import TrainOptions
from jaxperc.training.sparse import SparseRows

X = np.arange(12.0).reshape(4, 3)
Y = np.array([0, 1, 1, 0])


# The cast that overflows warns before the check reports it in one line.


def refused(match: str, fn, *args, **kwargs) -> str:
    """The one-line message of the JaxpercError ``fn`` raises (matching ``match``)."""
    with pytest.raises(JaxpercError, match=match) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# check_data: shapes, dtypes, values ------------------------------------------------


def test_check_data_returns_2d_tables_in_the_requested_dtype():
    x, y, w = check_data(X.astype(np.int64), Y.astype(bool), None, np.float32)
    assert x.dtype == y.dtype == np.float32
    assert x.shape == (4, 3) and y.shape == (4, 1) and w is None
    np.testing.assert_array_equal(y[:, 0], [0.0, 1.0, 1.0, 0.0])
    _, y2, w2 = check_data(X, np.stack([Y, 1 - Y], 1), [1, 2, 0, 3], np.float64)
    assert y2.shape == (4, 2) and w2.shape == (4, 1) and w2.dtype == np.float64
    np.testing.assert_array_equal(y2[:, 1], 1 - Y)


@pytest.mark.parametrize(
    "x",
    [np.zeros(4), np.zeros((0, 3)), np.zeros((4, 0)), np.zeros((2, 2, 2))],
    ids=["1d", "no-rows", "no-columns", "3d"],
)
def test_check_data_refuses_x_that_is_not_a_table(x):
    message = refused(r"x must have shape \[n, d\]", check_data, x, Y, None, "f4")
    assert str(np.shape(x)) in message


def test_check_data_refuses_text_x():
    refused("x must be numeric", check_data, X.astype(str), Y, None, np.float32)


def test_check_data_names_the_first_non_finite_value_and_its_index():
    x = X.copy()
    x[2, 1] = np.nan
    x[3, 0] = np.inf
    message = refused("non-finite", check_data, x, Y, None, np.float32)
    assert "(2, 1)" in message and "nan" in message


def test_check_data_tells_overflow_on_the_cast_from_a_real_non_finite_value():
    x = X.copy()
    x[1, 2] = 1e300  # finite in float64, inf in float32
    message = refused("too large for float32", check_data, x, Y, None, np.float32)
    assert "(1, 2)" in message and "float64" in message
    check_data(x, Y, None, np.float64)  # fits there


def test_check_data_refuses_non_finite_sparse_values_and_overflow():
    bad = scipy.sparse.csr_matrix(np.array([[0.0, np.nan], [1.0, 0.0]]))
    refused("non-finite value.*non-zeros", check_data, bad, [0, 1], None, "f4")
    big = scipy.sparse.csr_matrix(np.array([[0.0, 1e300], [1.0, 0.0]]))
    refused("too large for float32", check_data, big, [0, 1], None, np.float32)


def test_check_data_keeps_a_sparse_x_sparse():
    x = scipy.sparse.random(5, 7, density=0.3, random_state=0, format="coo")
    rows, _, _ = check_data(x, np.zeros(5), None, np.float32)
    assert isinstance(rows, SparseRows)
    assert rows.shape == (5, 7) and rows.dtype == np.float32


@pytest.mark.parametrize("y", [np.zeros(3), np.zeros((4, 1, 1))], ids=["rows", "3d"])
def test_check_data_refuses_y_of_the_wrong_shape(y):
    message = refused("y must have shape", check_data, X, y, None, np.float32)
    assert "n = 4" in message and str(y.shape) in message


def test_check_data_refuses_label_strings_and_points_at_mapping():
    refused("map labels to 0/1", check_data, X, ["a", "b", "a", "b"], None, "f4")


@pytest.mark.parametrize("bad", [-0.5, 1.5, 2.0])
def test_check_data_refuses_targets_outside_0_1_naming_the_value(bad):
    y = np.array([0.0, 1.0, bad, 0.5])
    message = refused(r"targets in \[0, 1\]", check_data, X, y, None, np.float64)
    assert str(bad) in message


def test_check_data_refuses_nan_targets():
    refused("y has a non-finite", check_data, X, [0, np.nan, 1, 0], None, "f4")


def test_check_data_checks_weights():
    refused("weights must have shape", check_data, X, Y, np.ones(3), np.float32)
    message = refused("weights must be ≥ 0", check_data, X, Y, [1, -2, 1, 1], "f4")
    assert "-2" in message
    refused("weights has a non-finite", check_data, X, Y, [1, np.inf, 1, 1], "f4")


# choices and counts -----------------------------------------------------------------


def test_check_choice_suggests_the_close_name():
    check_choice("loss", "mse", ("mse", "bce"))
    message = refused("did you mean 'mse'", check_choice, "loss", "mes", ["mse", "bce"])
    assert message.startswith("loss='mes'")


@pytest.mark.parametrize("value", [0, -1, 1.0, True, "3", None])
def test_check_positive_int_refuses_what_is_not_a_count(value):
    refused("must be a positive integer", check_positive_int, "batch_size", value)


def test_check_positive_int_takes_numpy_integers():
    check_positive_int("batch_size", np.int64(3))


# per-model arguments ----------------------------------------------------------------


def test_model_count_is_the_common_length_of_array_arguments():
    assert model_count({"seed": 0, "learning_rate": 0.1, "l2": None}) == 1
    assert model_count({"seed": np.arange(5), "learning_rate": 0.1}) == 5
    assert model_count({"seed": [1, 2, 3], "learning_rate": [0.1, 0.2, 0.3]}) == 3


def test_model_count_names_each_length_when_they_disagree():
    message = refused(
        "disagree on the number of models",
        model_count,
        {"seed": np.arange(3), "learning_rate": [0.1, 0.2]},
    )
    assert "seed: 3" in message and "learning_rate: 2" in message


def test_model_count_refuses_2d_and_empty_arrays():
    refused(r"must be a scalar or a 1-D array", model_count, {"l2": np.zeros((2, 2))})
    refused("at least one model", model_count, {"seed": np.arange(0)})


def test_per_model_broadcasts_a_scalar_and_keeps_an_array():
    a = per_model("learning_rate", 0.5, 3, np.float32, positive=True)
    assert a.shape == (3,) and a.dtype == np.float32
    np.testing.assert_array_equal(a, np.full(3, 0.5, np.float32))
    b = per_model("seed", [4, 5, 6], 3, np.int64)
    assert b.dtype == np.int64
    np.testing.assert_array_equal(b, [4, 5, 6])


def test_per_model_refuses_an_array_of_another_length():
    with pytest.raises(ValueError):
        per_model("l2", [0.1, 0.2], 3, np.float32)


@pytest.mark.parametrize(
    "kwargs, value, match",
    [
        ({"positive": True}, [0.1, 0.0], "must be > 0, got 0.0"),
        ({"nonnegative": True}, [0.0, -1.0], "must be ≥ 0, got -1.0"),
        ({}, [1.0, np.inf], "must be finite"),
        ({}, "fast", "must be a number"),
    ],
)
def test_per_model_checks_float_ranges(kwargs, value, match):
    refused(match, per_model, "rate", value, 2, np.float32, **kwargs)


def test_per_model_zero_passes_where_only_negative_values_are_refused():
    np.testing.assert_array_equal(
        per_model("l2", 0.0, 2, np.float64, nonnegative=True), [0.0, 0.0]
    )


def test_per_model_integer_indices_must_be_integers_below_the_bound():
    refused("must hold integers", per_model, "target_index", 1.0, 2, np.int32)
    message = refused(
        r"must be in 0\.\.2", per_model, "target_index", [0, 3], 2, np.int32, below=3
    )
    assert "0..3" in message
    refused(r"must be in 0\.\.2", per_model, "target_index", -1, 2, np.int32, below=3)
    ok = per_model("target_index", [0, 2], 2, np.int32, below=3)
    assert ok.dtype == np.int32


# standardizer tables ---------------------------------------------------------------


def test_check_standardizers_casts_and_passes_none_through():
    assert check_standardizers(None, 3, np.float32) is None
    mean, scale = check_standardizers((np.zeros((2, 3)), np.ones((2, 3))), 3, "f4")
    assert mean.dtype == scale.dtype == np.float32 and mean.shape == (2, 3)


@pytest.mark.parametrize(
    "tables, match",
    [
        ((np.zeros((2, 4)), np.ones((2, 4))), r"shape \[S, 3\]"),
        ((np.zeros(3), np.ones(3)), r"shape \[S, 3\]"),
        ((np.zeros((2, 3)), np.ones((1, 3))), r"shape \[S, 3\]"),
        ((np.zeros((2, 3)), np.zeros((2, 3))), "scale must be > 0"),
        ((np.full((1, 3), np.nan), np.ones((1, 3))), "mean has a non-finite"),
        (3.0, "must be a pair"),
    ],
    ids=["columns", "1d", "rows", "zero-scale", "nan", "not-a-pair"],
)
def test_check_standardizers_refuses_bad_tables(tables, match):
    refused(match, check_standardizers, tables, 3, np.float32)


# sparse x and held-out columns ------------------------------------------------------


def _sparse_rows():
    x = scipy.sparse.csr_matrix(np.eye(3))
    return check_data(x, np.zeros(3), None, np.float32)[0]


@pytest.mark.parametrize(
    "options, what",
    [
        (TrainOptions(batch_size=2), "batch_size"),
        (TrainOptions(optimizer="lbfgs"), "'lbfgs'"),
        (TrainOptions(shard_rows=True), "shard_rows"),
    ],
)
def test_sparse_x_refuses_what_needs_rows_gathered(options, what):
    message = refused("sparse x trains full-batch", check_sparse_and_holdout,
                      _sparse_rows(), None, None, options)  # fmt: skip
    assert what in message and "x.toarray()" in message


def test_sparse_x_full_batch_passes():
    check_sparse_and_holdout(_sparse_rows(), None, None, TrainOptions())


def test_holdout_index_needs_a_weights_table_and_full_batch():
    table = np.ones((4, 2))
    plain = TrainOptions()
    refused("pass a weights table", check_sparse_and_holdout, X, None, 1, plain)
    for options in (TrainOptions(batch_size=2), TrainOptions(optimizer="lbfgs")):
        refused("holdout_index", check_sparse_and_holdout, X, table, 1, options)
    check_sparse_and_holdout(X, table, 1, TrainOptions(optimizer="adam"))
