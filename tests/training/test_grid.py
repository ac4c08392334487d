"""Sweep grids: cartesian products flattened to per-model arrays and back."""

import numpy as np
import pytest

import jaxperc as jp


def test_grid_is_a_cartesian_product_with_the_last_axis_fastest():
    g = jp.make_grid(seed=[0, 1], learning_rate=[0.1, 1.0, 10.0], **{"class": [0, 2]})
    assert g.size == 12 and g.shape == (2, 3, 2)
    assert g.label(0) == {"seed": 0, "learning_rate": 0.1, "class": 0}
    assert g.label(11) == {"seed": 1, "learning_rate": 10.0, "class": 2}
    kw = g.kwargs
    assert set(kw) == {"seed", "learning_rate", "target_index"}
    assert kw["target_index"].tolist() == [0, 2] * 6
    assert g.reshape(np.arange(12))[1, 2, 0] == 10
    assert g.select(seed=1, learning_rate=1.0).tolist() == [8, 9]


def test_grid_feeds_train_many_and_maps_results_back():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    y = np.stack([(x[:, 0] > 0), (x[:, 1] > 0)], axis=1).astype(float)
    folds = np.ones((120, 2))
    folds[:60, 0] = 0
    folds[60:, 1] = 0
    g = jp.make_grid(fold=[0, 1], **{"class": [0, 1]}, momentum=[0.0, 0.5])
    r = jp.train_many(
        x, y, weights=folds, optimizer="sgd", max_epochs=30, tol=0, **g.kwargs
    )
    assert g.reshape(r.cost).shape == (2, 2, 2)
    m = g.select(fold=1, **{"class": 1}, momentum=0.5)[0]
    one = jp.train(
        x,
        y[:, 1],
        weights=folds[:, 1],
        optimizer="sgd",
        optimizer_kwargs={"momentum": 0.5},
        max_epochs=30,
        tol=0,
    )
    np.testing.assert_allclose(r.params.w[m], one.params.w, rtol=1e-5)  # float32


@pytest.mark.parametrize(
    "axes,fragment",
    [
        ({}, "at least one axis"),
        ({"seed": []}, "non-empty"),
        ({"seed": [0.5]}, "integers"),
        ({"fold": [0], "resample": [0]}, "not both"),
        ({"learning_rate": ["fast"]}, "numbers"),
    ],
)
def test_bad_grids_are_refused(axes, fragment):
    with pytest.raises(ValueError, match=fragment):
        jp.make_grid(**axes)
