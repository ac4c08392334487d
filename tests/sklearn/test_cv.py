"""PerceptronClassifierCV: the penalty chosen on held-out folds, in one program.

Every fold model must be the model :class:`PerceptronClassifier` fits on that
fold's training rows alone (scaler included: nothing from the held-out rows),
and the fitted classifier the one it fits on all rows with the chosen penalty.
Exact comparisons train in float64 (64-bit JAX on) and hold to rtol 1e-6.
"""

import jax
import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

import jaxperc.data as jd
from jaxperc.sklearn import PerceptronClassifier, PerceptronClassifierCV

# short fits (max_epochs=300) may stop at max_epochs: the warning is tested apart
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
L2S = [1e-1, 1e-2, 1e-3]
OPTIONS = dict(max_epochs=300, learning_rate=0.1)


@pytest.fixture(scope="module")
def cancer():
    ds = jd.load_dataset("breast_cancer")
    rows = np.random.default_rng(0).permutation(ds.y.size)[:200]
    return ds.x[rows], ds.y[rows].astype(int)


@pytest.fixture(scope="module")
def three_classes():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 150)
    x = rng.normal(size=(150, 4)) + 2.0 * np.eye(3, 4)[y] + 50.0  # large means
    return x, np.array(["red", "green", "blue"])[y]


@parametrize_with_checks([PerceptronClassifierCV(l2s=[1e-2, 1e-3], cv=3)])
def test_sklearn_estimator_checks(estimator, check):
    with jax.enable_x64(True):
        check(estimator)


def _fold_fits(x, y, l2s, cv, **kw):
    """What a search refitting PerceptronClassifier per fold would train."""
    out = []
    for train, _ in cv.split(x, y):
        out.append(
            [PerceptronClassifier(l2=l2, **kw).fit(x[train], y[train]) for l2 in l2s]
        )
    return out


@pytest.mark.parametrize("data", ["cancer", "three_classes"])
def test_fold_models_are_fits_on_the_fold_rows_alone(data, request):
    x, y = request.getfixturevalue(data)
    with jax.enable_x64(True):
        cv = PerceptronClassifierCV(l2s=L2S, cv=3, **OPTIONS).fit(x, y)
        fits = _fold_fits(x, y, L2S, StratifiedKFold(3), **OPTIONS)
        refit = PerceptronClassifier(l2=cv.l2_, **OPTIONS).fit(x, y)
    held = [test for _, test in StratifiedKFold(3).split(x, y)]
    for f, row in enumerate(fits):
        for g, est in enumerate(row):
            path = cv.coefs_paths_[f, g]  # [K', d + 1]
            np.testing.assert_allclose(path[:, :-1], est.coef_, rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose(path[:, -1], est.intercept_, rtol=1e-6)
            assert cv.scores_[f, g] == est.score(x[held[f]], y[held[f]])
    np.testing.assert_allclose(cv.coef_, refit.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(cv.intercept_, refit.intercept_, rtol=1e-6)
    assert cv.n_iter_ == refit.n_iter_
    np.testing.assert_allclose(cv.loss_curve_, refit.loss_curve_, rtol=1e-6)
    np.testing.assert_array_equal(cv.predict(x), refit.predict(x))


def test_choice_is_the_best_mean_held_out_score_first_on_ties(cancer):
    x, y = cancer
    cv = PerceptronClassifierCV(l2s=[*L2S, 0.1], cv=4, **OPTIONS).fit(x, y)
    mean = cv.scores_.mean(axis=0)
    assert cv.scores_.shape == (4, 4)
    assert cv.best_score_ == mean.max()
    assert cv.l2_ == L2S[int(np.flatnonzero(mean == mean.max())[0])]
    assert mean[0] == mean[3]  # the same penalty twice: the same models
    low, high = cv.best_score_interval_
    assert low < cv.best_score_ < high  # the folds' scores differ


def test_sparse_input_trains_the_dense_models(cancer):
    x, y = cancer
    x = np.where(np.abs(x - np.median(x, 0)) < np.std(x, 0) / 2, 0.0, x)
    dense = PerceptronClassifierCV(l2s=L2S, cv=3, **OPTIONS).fit(x, y)
    sparse = PerceptronClassifierCV(l2s=L2S, cv=3, **OPTIONS).fit(sp.csr_matrix(x), y)
    dense_noncentred = PerceptronClassifier(l2=sparse.l2_, **OPTIONS)
    # sparse X is scaled, not centred: its refit is PerceptronClassifier's on CSR
    ref = dense_noncentred.fit(sp.csr_matrix(x), y)
    np.testing.assert_allclose(sparse.coef_, ref.coef_, rtol=2e-4, atol=1e-6)
    assert dense.coef_.shape == sparse.coef_.shape == (1, x.shape[1])


def test_balanced_class_weight_is_computed_on_each_fold(three_classes):
    x, y = three_classes
    y = np.where(np.arange(y.size) < 100, y, "red")  # unbalanced
    with jax.enable_x64(True):
        kw = dict(class_weight="balanced", **OPTIONS)
        cv = PerceptronClassifierCV(l2s=L2S, cv=3, **kw).fit(x, y)
        fits = _fold_fits(x, y, L2S, StratifiedKFold(3), **kw)
    for f, row in enumerate(fits):
        np.testing.assert_allclose(
            cv.coefs_paths_[f, 1][:, :-1], row[1].coef_, rtol=1e-6, atol=1e-9
        )


def test_sample_weight_and_group_splitter(cancer):
    x, y = cancer
    sw = np.random.default_rng(2).uniform(0.5, 2.0, y.size)
    groups = np.arange(y.size) % 7
    with jax.enable_x64(True):
        cv = PerceptronClassifierCV(l2s=L2S, cv=GroupKFold(3), **OPTIONS)
        cv.fit(x, y, sample_weight=sw, groups=groups)
        for f, (train, _) in enumerate(GroupKFold(3).split(x, y, groups)):
            est = PerceptronClassifier(l2=L2S[0], **OPTIONS)
            est.fit(x[train], y[train], sample_weight=sw[train])
            np.testing.assert_allclose(
                cv.coefs_paths_[f, 0, :, :-1], est.coef_, rtol=1e-6, atol=1e-9
            )


def test_default_grid_and_dtype(cancer):
    x, y = cancer
    cv = PerceptronClassifierCV(l2s=4, cv=2, **OPTIONS).fit(x.astype(np.float32), y)
    np.testing.assert_allclose(cv.l2s_, [1.0, 1e-2, 1e-4, 1e-6], rtol=1e-12)
    assert cv.coef_.dtype == np.float32 and cv.coefs_paths_.shape == (2, 4, 1, 31)


def test_convergence_warning_names_only_the_returned_model(cancer):
    x, y = cancer
    with pytest.warns(ConvergenceWarning, match=r"\(1 of 1 model"):
        PerceptronClassifierCV(l2s=L2S, cv=3, max_epochs=3).fit(x, y)


@pytest.mark.parametrize(
    "l2s, match",
    [
        (1, "must be ≥ 2"),
        ([], "non-empty list"),
        ([0.1, -1.0], "finite"),
        ([0.1, np.nan], "finite"),
        ("small", "non-empty list"),
    ],
)
def test_bad_grid_is_one_clear_error(cancer, l2s, match):
    x, y = cancer
    with pytest.raises(ValueError, match=match):
        PerceptronClassifierCV(l2s=l2s).fit(x, y)


def test_fold_with_one_class_is_refused(cancer):
    x, y = cancer
    order = np.argsort(y, kind="stable")
    one_class = [(order[:20], order[20:])]  # trains on class 0 only
    with pytest.raises(ValueError, match="trains on one class only"):
        PerceptronClassifierCV(l2s=L2S, cv=one_class).fit(x, y)


def test_held_out_rows_never_reach_their_folds_models(cancer):
    """Changing fold 0's held-out rows changes every model but fold 0's."""
    x, y = cancer
    held = next(StratifiedKFold(3).split(x, y))[1]
    moved = x.copy()
    moved[held] = moved[held] * 3.0 + 100.0  # would shift any scaler fitted on them
    with jax.enable_x64(True):
        a = PerceptronClassifierCV(l2s=L2S, cv=3, **OPTIONS).fit(x, y)
        b = PerceptronClassifierCV(l2s=L2S, cv=3, **OPTIONS).fit(moved, y)
    # equal up to rounding: the conditioning step (centre and scale on all rows)
    # sees the moved rows, but cancels exactly in real arithmetic
    np.testing.assert_allclose(a.coefs_paths_[0], b.coefs_paths_[0], rtol=1e-8)
    assert not np.allclose(a.coefs_paths_[1:], b.coefs_paths_[1:], rtol=1e-3)


def test_unknown_class_weight_label_is_scikit_learns_error(cancer):
    x, y = cancer
    with pytest.raises(ValueError, match="are not in class_weight"):
        PerceptronClassifierCV(l2s=L2S, class_weight={7: 2.0}).fit(x, y)


def test_newton_cv_chooses_among_converged_models(cancer):
    """optimizer='newton': every fold model reaches gtol within a few epochs,
    and the refit is LogisticRegression(C) for l2 = 1/(C·n), float64 rtol 1e-5."""
    from sklearn.linear_model import LogisticRegression

    x, y = cancer
    kw = dict(optimizer="newton", tol=None, gtol=1e-9, max_epochs=40)
    with jax.enable_x64(True):
        cv = PerceptronClassifierCV(l2s=L2S, cv=3, **kw).fit(x, y)
    assert cv.n_iter_ <= 15 and cv.stop_reason_[0] == "gtol"
    xs = (x - x.mean(0)) / x.std(0)
    lr = LogisticRegression(C=1.0 / (cv.l2_ * y.size), tol=1e-12, max_iter=10_000)
    lr.fit(xs, y)
    np.testing.assert_allclose(cv.coef_[0] * x.std(0), lr.coef_[0], rtol=1e-5)


@pytest.mark.parametrize("scoring", ["neg_log_loss", "roc_auc", "accuracy"])
def test_scoring_is_scikit_learns_scorer_on_each_fold_model(cancer, scoring):
    from sklearn.metrics import get_scorer

    x, y = cancer
    with jax.enable_x64(True):
        cv = PerceptronClassifierCV(l2s=L2S, cv=3, scoring=scoring, **OPTIONS)
        cv.fit(x, y)
        fits = _fold_fits(x, y, L2S, StratifiedKFold(3), **OPTIONS)
    held = [test for _, test in StratifiedKFold(3).split(x, y)]
    scorer = get_scorer(scoring)
    for f, row in enumerate(fits):
        want = [scorer(est, x[held[f]], y[held[f]]) for est in row]
        np.testing.assert_allclose(cv.scores_[f], want, rtol=1e-6)
    assert cv.best_score_ == cv.scores_.mean(axis=0).max()


def test_unknown_scoring_is_scikit_learns_error(cancer):
    x, y = cancer
    with pytest.raises(ValueError, match="is not a valid scoring value"):
        PerceptronClassifierCV(l2s=L2S, cv=3, scoring="no_such_score").fit(x, y)
