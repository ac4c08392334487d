"""Per-column standardisation in the engine: fitted inside each fold, x never copied.

Model m trains on ``(x − mean[s]) / scale[s]`` through an affine change of its params;
the proof is that it equals training on an explicitly standardised copy.
"""

import jax
import numpy as np
import pytest

import jaxperc as jp
from jaxperc.data import fit_standardizers, kfold_weights
from jaxperc.training.state import Data, Spec

from ._records import chunk_temp_bytes, models


def problem(n=240, d=4, seed=0):
    """Features far from standardised (means up to 50, scales up to 20)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 20, d) + rng.uniform(-50, 50, d)
    y = (rng.normal(size=n) + (x[:, 0] - x[:, 0].mean()) / x[:, 0].std() > 0) * 1.0
    return x, y


@pytest.mark.parametrize(
    "options",
    [
        dict(optimizer="gd", learning_rate=0.5),
        dict(optimizer="adam", learning_rate=0.05, loss="bce"),
        dict(optimizer="gd", learning_rate=0.2, batch_size=32),
        dict(optimizer="lbfgs", loss="bce", l2=1e-2),
    ],
    ids=["gd", "adam-bce", "minibatch", "lbfgs"],
)
def test_each_fold_equals_training_on_its_own_standardised_copy(options):
    """float64: per-fold params agree to 1e-10 (relative, or absolute for entries
    near 0, which Adam's normalised steps amplify), cost histories to 1e-10."""
    with jax.enable_x64(True):
        x, y = problem()
        folds = kfold_weights(y, 4, seed=1).T  # [n, 4] 0/1 masks
        tables = fit_standardizers(x, folds)
        kw = dict(max_epochs=60, tol=0, dtype="float64", seed=3, **options)
        many = jp.train_many(
            x,
            y,
            weights=folds,
            weight_index=np.arange(4),
            standardizers=tables,
            standardizer_index=np.arange(4),
            **kw,
        )
        for f in range(4):
            xs = tables.row(f).apply(x)
            one = jp.train(xs, y, weights=folds[:, f], **kw)
            for got, want in zip(many.params, one.params, strict=True):
                np.testing.assert_allclose(got[f], want, rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(
                many.cost_history[f], one.cost_history, rtol=1e-10
            )


def test_the_tables_are_fitted_on_each_columns_rows_only():
    x, y = problem()
    folds = kfold_weights(y, 3, seed=0).T
    tables = fit_standardizers(x, folds)
    for f in range(3):
        used = x[folds[:, f] > 0]
        np.testing.assert_allclose(tables.mean[f], used.mean(0), rtol=1e-12)
        np.testing.assert_allclose(tables.scale[f], used.std(0), rtol=1e-12)
    # the held-out rows move the statistics: a global fit would differ
    assert not np.allclose(tables.mean[0], x.mean(0), rtol=1e-6)


def test_bad_tables_are_refused_with_one_line():
    x, y = problem(n=40)
    bad = (np.zeros((2, 3)), np.ones((2, 3)))  # d = 4
    with pytest.raises(jp.JaxpercError, match=r"shape \[S, 4\]"):
        jp.train_many(x, y, standardizers=bad, max_epochs=2)
    zero_scale = (np.zeros((1, 4)), np.zeros((1, 4)))
    with pytest.raises(jp.JaxpercError, match="scale must be > 0"):
        jp.train_many(x, y, standardizers=zero_scale, max_epochs=2)
    ok = (np.zeros((2, 4)), np.ones((2, 4)))
    with pytest.raises(jp.JaxpercError, match=r"standardizer_index must be in 0\.\.1"):
        jp.train_many(x, y, standardizers=ok, standardizer_index=[0, 2], max_epochs=2)


def temp_bytes(tables: bool, m=64, n=8192, d=16) -> int:
    mean = np.zeros((8, d), np.float32) if tables else None
    data = Data(
        np.zeros((n, d), np.float32),
        np.zeros((n, 1), np.float32),
        None,
        None,
        mean,
        None if mean is None else np.ones_like(mean),
    )
    spec = Spec(block_rows=512, history_len=32, tol=0.0)
    index = np.arange(m, dtype=np.int32) % 8
    return chunk_temp_bytes(spec, data, models(m, standardizer_index=index), d)


def test_standardising_inside_the_engine_keeps_its_working_memory():
    """XLA's own memory analysis, float32: the tables add O(M·d), never O(n·d·M)."""
    plain, with_tables = temp_bytes(False), temp_bytes(True)
    m, d = 64, 16
    assert with_tables <= plain + 8 * m * d * 4, (plain, with_tables)
