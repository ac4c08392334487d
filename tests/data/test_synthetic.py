"""Synthetic generators: determinism, shapes, separability and argument checks."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Perceptron

from jaxperc.data import make_blobs, make_xor
from jaxperc.errors import DataError

from ._helpers import linearly_separable


@pytest.mark.parametrize(("n", "d"), [(2, 1), (7, 3), (200, 2), (500, 10)])
def test_blobs_shapes_and_balance(n, d):
    data = make_blobs(n, d, seed=1)
    assert data.x.shape == (n, d) and data.y.shape == (n,)
    assert data.feature_names == tuple(f"x{j + 1}" for j in range(d))
    counts = data.class_counts()
    assert abs(int(counts[0]) - int(counts[1])) <= 1
    assert data.name == "blobs" and data.classes == ("0", "1")


def test_blobs_are_deterministic_per_seed():
    a, b = make_blobs(50, 3, seed=4), make_blobs(50, 3, seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, make_blobs(50, 3, seed=5).x)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("n", "d", "margin"), [(200, 2, 0.5), (300, 8, 0.05)])
def test_noiseless_blobs_are_linearly_separable(seed, n, d, margin):
    data = make_blobs(n, d, margin=margin, seed=seed)
    assert linearly_separable(data.x, data.y)


def test_a_perceptron_fits_noiseless_blobs_perfectly():
    data = make_blobs(400, 5, margin=0.3, seed=0)
    model = Perceptron(max_iter=1000, tol=None, random_state=0).fit(data.x, data.y)
    assert model.score(data.x, data.y) == 1.0


def test_margin_keeps_the_classes_apart_and_noise_mixes_them():
    clean = make_blobs(400, 2, margin=1.0, noise=0.0, seed=2)
    noisy = make_blobs(400, 2, margin=1.0, noise=3.0, seed=2)
    np.testing.assert_array_equal(clean.y, noisy.y)  # noise only jitters x
    # Class means sit at least 2 * margin apart along the separating direction.
    gap = np.linalg.norm(clean.x[clean.y == 1].mean(0) - clean.x[clean.y == 0].mean(0))
    assert gap > 2.0
    assert not linearly_separable(noisy.x, noisy.y)


def test_xor_shape_and_corners():
    data = make_xor(200, noise=0.0, seed=0)
    assert data.x.shape == (200, 2)
    np.testing.assert_array_equal(np.abs(data.x), np.ones((200, 2)))
    np.testing.assert_array_equal(data.y, (np.sign(data.x).prod(axis=1) < 0))
    np.testing.assert_array_equal(data.class_counts(), [100, 100])


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.3])
def test_xor_is_not_linearly_separable(noise):
    data = make_xor(400, noise=noise, seed=1)
    assert not linearly_separable(data.x, data.y)
    linear = LogisticRegression().fit(data.x, data.y)
    assert linear.score(data.x, data.y) <= 0.8


@pytest.mark.parametrize(
    ("make", "kwargs", "fragment"),
    [
        (make_blobs, {"n_samples": 1}, "n_samples must be at least 2"),
        (make_blobs, {"n_samples": 0}, "n_samples must be at least 2"),
        (make_blobs, {"n_samples": 10.0}, "n_samples must be an integer"),
        (make_blobs, {"n_features": 0}, "n_features must be at least 1"),
        (make_blobs, {"margin": -0.1}, "margin must be a finite number >= 0"),
        (make_blobs, {"noise": float("nan")}, "noise must be a finite number"),
        (make_blobs, {"seed": -1}, "seed must be at least 0"),
        (make_blobs, {"seed": True}, "seed must be an integer"),
        (make_xor, {"n_samples": 3}, "n_samples must be at least 4"),
        (make_xor, {"noise": "0.1"}, "noise must be a number"),
    ],
)
def test_bad_generator_arguments_are_refused(make, kwargs, fragment):
    with pytest.raises(DataError, match=fragment):
        make(**kwargs)
