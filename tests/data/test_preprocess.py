"""Standardisation fitted on training rows, saved without pickle; one-vs-rest."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxperc.data as jd
from jaxperc.data import (
    ConstantFeatureWarning,
    Standardizer,
    apply_standardizer,
    bootstrap_weights,
    fit_standardizer,
    kfold_weights,
    one_vs_rest,
)
from jaxperc.errors import DataError


def test_fit_on_train_gives_zero_mean_unit_std_there():
    x = np.random.default_rng(0).normal(3.0, 5.0, size=(100, 4))
    std = fit_standardizer(x)
    z = apply_standardizer(std, x)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(std.mean, x.mean(axis=0))
    np.testing.assert_allclose(std.scale, x.std(axis=0))


def test_test_rows_use_the_training_statistics():
    train = np.array([[0.0], [2.0]])
    test = np.array([[4.0]])
    std = fit_standardizer(train)
    np.testing.assert_allclose(std.apply(test), [[3.0]])  # (4 - 1) / 1
    np.testing.assert_allclose(apply_standardizer(std, np.array([1.0])), [0.0])


def test_constant_feature_is_left_unscaled_with_a_warning_naming_it():
    x = np.array([[1.0, 0.1, 5.0], [2.0, 0.1, 6.0], [3.0, 0.1, 7.0]])
    with pytest.warns(ConstantFeatureWarning, match='"age" .*value 0.1'):
        std = fit_standardizer(x, feature_names=["height", "age", "weight"])
    assert std.scale[1] == 1.0
    z = std.apply(x)
    assert np.all(np.isfinite(z))
    np.testing.assert_array_equal(z[:, 1], 0.0)
    assert issubclass(ConstantFeatureWarning, UserWarning)


def test_single_training_row_is_all_constant_but_finite():
    with pytest.warns(ConstantFeatureWarning, match="column 1"):
        std = fit_standardizer(np.array([[2.0, 3.0]]))
    np.testing.assert_array_equal(std.scale, [1.0, 1.0])


def test_weights_match_fitting_on_the_selected_rows():
    x = np.random.default_rng(1).normal(size=(30, 3))
    y = np.arange(30) % 2
    mask = kfold_weights(y, 3, seed=0)[1]
    weighted = fit_standardizer(x, weights=mask)
    sliced = fit_standardizer(x[mask > 0])
    np.testing.assert_allclose(weighted.mean, sliced.mean)
    np.testing.assert_allclose(weighted.scale, sliced.scale)
    counts = bootstrap_weights(30, 1, seed=2)[0]
    repeated = fit_standardizer(np.repeat(x, counts.astype(int), axis=0))
    np.testing.assert_allclose(
        fit_standardizer(x, weights=counts).scale, repeated.scale
    )


def test_weights_ignore_bad_values_in_unused_rows():
    x = np.array([[1.0], [3.0], [np.inf]])
    std = fit_standardizer(x, weights=np.array([1.0, 1.0, 0.0]))
    np.testing.assert_allclose([std.mean[0], std.scale[0]], [2.0, 1.0])


def test_saves_to_npz_without_pickle_and_loads_back(tmp_path):
    std = fit_standardizer(np.random.default_rng(0).normal(size=(10, 3)))
    np.savez(tmp_path / "std.npz", **std._asdict())
    with np.load(tmp_path / "std.npz", allow_pickle=False) as saved:
        back = Standardizer(**saved)
    np.testing.assert_array_equal(back.mean, std.mean)
    np.testing.assert_array_equal(back.scale, std.scale)


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 20),
    st.integers(1, 5),
    st.floats(-1e6, 1e6),
    st.floats(1e-3, 1e3),
)
def test_standardised_values_are_always_finite(n, d, shift, spread):
    x = shift + spread * np.random.default_rng(n * 7 + d).normal(size=(n, d))
    x[:, 0] = shift  # always one constant column
    with pytest.warns(ConstantFeatureWarning):
        std = fit_standardizer(x)
    assert np.all(std.scale > 0)
    assert np.all(np.isfinite(std.apply(x)))


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: fit_standardizer(np.ones(3)), "shape \\[n, d\\]"),
        (lambda: fit_standardizer(np.ones((0, 2))), "n, d >= 1"),
        (lambda: fit_standardizer(np.array([[np.nan, 1.0]])), "NaN or inf"),
        (lambda: fit_standardizer(np.eye(2), feature_names=["a"]), "1 names"),
        (lambda: fit_standardizer(np.eye(2), weights=[1.0]), "weights must be 2"),
        (lambda: fit_standardizer(np.eye(2), weights=[0.0, 0.0]), "all 0"),
        (lambda: fit_standardizer(np.eye(2), weights=[-1.0, 2.0]), "non-negative"),
        (
            lambda: apply_standardizer(fit_standardizer(np.eye(2)), np.ones((3, 3))),
            "fitted on 2 features",
        ),
        (
            lambda: apply_standardizer(
                Standardizer(np.zeros(2), np.zeros(2)), np.eye(2)
            ),
            "scale must be finite and > 0",
        ),
    ],
)
def test_bad_inputs_are_refused(call, fragment):
    with pytest.raises(DataError, match=fragment):
        call()


def test_one_vs_rest():
    out = one_vs_rest(np.array([2, 0, 1, 2]), 3)
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert out.dtype == np.float64
    assert one_vs_rest(np.array([0, 0]), 4).shape == (2, 4)


@pytest.mark.parametrize(
    ("y", "k", "fragment"),
    [
        (np.array([0, 3]), 3, "class index 3, outside 0..2"),
        (np.array([-1, 0]), 3, "class index -1"),
        (np.array([0.0, 1.0]), 2, "integer array"),
        (np.array([[0, 1]]), 2, "1-D integer array"),
        (np.array([0, 1]), 0, "n_classes must be at least 1"),
    ],
)
def test_one_vs_rest_refuses_bad_labels(y, k, fragment):
    with pytest.raises(DataError, match=fragment):
        one_vs_rest(y, k)


def test_class_weight_columns_follow_sgd_one_vs_rest():
    y = np.array([0, 0, 1, 2, 2, 2])
    sw = np.array([1.0, 2.0, 1.0, 1.0, 0.5, 1.0])
    cols = jd.class_weight_columns(y, 3, {0: 3.0, 2: 0.5}, sample_weight=sw)
    # column k: rows of class k weigh class_weight[k]·s, the rest s
    expected = sw[:, None] * np.where(y[:, None] == np.arange(3), [3.0, 1.0, 0.5], 1)
    np.testing.assert_array_equal(cols, expected)
    two = jd.class_weight_columns(np.array([0, 1, 1, 1]), 2, "balanced")
    np.testing.assert_allclose(two[:, 0], [2.0, 2 / 3, 2 / 3, 2 / 3], rtol=1e-15)
    with pytest.raises(DataError, match="class index"):
        jd.class_weight_columns(y, 3, {5: 1.0})


def test_standardizer_of_features_near_1e300_does_not_overflow():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    x[:, 0] *= 1e300
    with np.errstate(all="raise"):
        std = jd.fit_standardizer(x)
        z = std.apply(x)
    # float64: the scaled column has mean 0 and standard deviation 1 to 1e-12
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-12)


def test_balanced_class_weights_count_rows_by_their_row_weights():
    y = np.array([0, 0, 0, 1, 1, 2])
    # unweighted: n / (K · n_k)
    want = 6 / (3 * np.array([3.0, 2.0, 1.0]))
    np.testing.assert_allclose(jd.class_weights("balanced", y, 3), want, rtol=1e-15)
    # a fold mask and bootstrap counts: only (and as often as) the rows fitted
    rows = np.array([1.0, 0.0, 2.0, 1.0, 0.0, 1.0])
    want = rows.sum() / (3 * np.array([3.0, 1.0, 1.0]))
    np.testing.assert_allclose(
        jd.class_weights("balanced", y, 3, row_weights=rows), want, rtol=1e-12
    )
    no_b = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    with pytest.raises(DataError, match="class 'b' has none"):
        jd.class_weights("balanced", y, 3, row_weights=no_b, class_names="abc")
