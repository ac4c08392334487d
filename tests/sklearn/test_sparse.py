"""Sparse x: trained without densifying, the same models as on the dense copy."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import StandardScaler

import jaxperc.data as jd
from jaxperc import training
from jaxperc.errors import JaxpercError
from jaxperc.sklearn import PerceptronClassifier


@pytest.fixture(scope="module")
def text_like():
    """200 rows × 300 features at 5 % density, three classes."""
    rng = np.random.default_rng(0)
    x = sp.random(200, 300, density=0.05, format="csr", random_state=1)
    y = np.argmax(x @ rng.normal(size=(300, 3)), axis=1)
    return x, y


@pytest.mark.parametrize("grad", ["manual", "autodiff"])
def test_train_many_on_sparse_equals_dense_in_float32(text_like, grad):
    x, y = text_like
    targets = jd.one_vs_rest(y, 3)
    weights = jd.class_weight_columns(y, 3, "balanced")
    kw = dict(
        loss="bce",
        optimizer="adam",
        learning_rate=0.05,
        max_epochs=60,
        tol=0.0,
        init="zeros",
        grad=grad,
        weights=weights,
        weight_index=np.arange(3),
        target_index=np.arange(3),
    )
    sparse = training.train_many(x, targets, **kw)
    dense = training.train_many(x.toarray(), targets, **kw)
    # float32, summed in another order: 1e-5
    np.testing.assert_allclose(sparse.params.w, dense.params.w, atol=1e-5)
    np.testing.assert_allclose(sparse.params.b, dense.params.b, atol=1e-5)
    np.testing.assert_allclose(sparse.cost_history, dense.cost_history, rtol=1e-5)


def test_a_sparse_x_is_never_densified():
    # 1,000 × 2,000,000 with 10 non-zeros a row: 8 GB dense in float32
    rng = np.random.default_rng(0)
    n, d = 1000, 2_000_000
    cols = rng.integers(0, d, size=(n, 10))
    x = sp.csr_matrix(
        (np.ones(n * 10), cols.ravel(), np.arange(0, n * 10 + 1, 10)), shape=(n, d)
    )
    y = (cols[:, 0] % 2).astype(float)
    result = training.train_many(x, y, max_epochs=3, tol=0.0, init="zeros")
    assert result.params.w.shape == (1, d) and np.isfinite(result.cost).all()


def test_mini_batches_on_sparse_x_are_refused(text_like):
    x, y = text_like
    with pytest.raises(JaxpercError, match="full-batch only"):
        training.train_many(x, (y == 0).astype(float), batch_size=10)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_estimator_on_sparse_equals_dense_with_the_same_scaling(text_like, fmt):
    x, y = text_like
    x = x.asformat(fmt)
    kw = dict(max_epochs=40, tol=None, random_state=0)
    ours = PerceptronClassifier(**kw).fit(x, y)
    # sparse input is scaled without centering (StandardScaler(with_mean=False))
    scaler = StandardScaler(with_mean=False).fit(x)
    np.testing.assert_allclose(1.0 / ours._scaler.scale, 1.0 / scaler.scale_)
    dense = PerceptronClassifier(standardize=False, **kw)
    dense.fit(scaler.transform(x).toarray(), y)
    z_dense = dense.decision_function(scaler.transform(x).toarray())
    # float32 training: 1e-5 on the weights, so about 1e-4 on z
    np.testing.assert_allclose(ours.decision_function(x), z_dense, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(x).sum(axis=1), 1.0)
    assert ours.predict(x).shape == (200,) and ours.score(x, y) > 0.8
    ours.partial_fit(x, y)
    assert ours.n_iter_ == 41


def test_estimator_refuses_mini_batches_on_sparse_x(text_like):
    x, y = text_like
    with pytest.raises(ValueError, match="full-batch only"):
        PerceptronClassifier(batch_size=10).fit(x, y)
