"""PerceptronClassifier: scikit-learn's estimator checks, and its own contract."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import jaxperc
import jaxperc.data as jd
from jaxperc.sklearn import PerceptronClassifier


# Some checks' data converge slower than max_epochs allows (class weights of 1000
# against 0.0001): the fit warns, as it should, and the check still passes.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([PerceptronClassifier()])
def test_sklearn_estimator_checks(estimator, check):
    # 64-bit JAX: float64 input trains in float64, as scikit-learn's own
    with jax.enable_x64(True):
        check(estimator)


@pytest.fixture(scope="module")
def cancer():
    ds = jd.load_dataset("breast_cancer")
    train, test = jd.train_test_split(ds.y, test_fraction=0.25, seed=0, stratify=True)
    return ds.x[train], ds.y[train], ds.x[test], ds.y[test]


@pytest.fixture(scope="module")
def blobs3():
    ds = jd.make_blobs(90, 4, margin=1.0, noise=1.0, seed=3)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, ds.x.shape[0])
    x = ds.x + 3.0 * np.eye(3, ds.x.shape[1])[y]  # three shifted clouds
    return x, np.array(["red", "green", "blue"])[y]


def test_importing_jaxperc_does_not_import_sklearn():
    code = "import sys, jaxperc, jaxperc.data; print('sklearn' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_accuracy_matches_logistic_regression(seed):
    ds = jd.load_dataset("breast_cancer")
    train, test = jd.train_test_split(
        ds.y, test_fraction=0.25, seed=seed, stratify=True
    )
    ref = make_pipeline(StandardScaler(), LogisticRegression())
    ref.fit(ds.x[train], ds.y[train])
    ours = PerceptronClassifier(random_state=0).fit(ds.x[train], ds.y[train])
    gap = ours.score(ds.x[test], ds.y[test]) - ref.score(ds.x[test], ds.y[test])
    assert abs(gap) <= 0.01, f"accuracy gap {gap:+.4f} vs LogisticRegression"


def test_pipeline_scaler_equals_internal_standardisation(cancer):
    x, y, x_test, _ = cancer
    inside = PerceptronClassifier().fit(x, y)
    pipe = make_pipeline(StandardScaler(), PerceptronClassifier(standardize=False))
    pipe.fit(x, y)
    # same math in float32 on the same standardised inputs: tolerance 1e-3
    np.testing.assert_allclose(
        pipe.decision_function(x_test),
        inside.decision_function(x_test),
        rtol=1e-3,
        atol=1e-3,
    )
    assert np.mean(pipe.predict(x_test) == inside.predict(x_test)) >= 0.99


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_over_learning_rates(cancer):
    x, y, x_test, y_test = cancer
    pipe = make_pipeline(StandardScaler(), PerceptronClassifier(standardize=False))
    grid = {"perceptronclassifier__learning_rate": [0.005, 0.05, 0.5]}
    search = GridSearchCV(pipe, grid, cv=3).fit(x, y)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    assert search.best_score_ == scores.max()
    best = search.best_params_["perceptronclassifier__learning_rate"]
    assert best in grid["perceptronclassifier__learning_rate"]
    ref = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    assert search.score(x_test, y_test) >= ref.score(x_test, y_test) - 0.03


def test_coef_is_in_input_units(cancer):
    x, y, x_test, _ = cancer
    clf = PerceptronClassifier().fit(x, y)
    assert clf.coef_.shape == (1, x.shape[1]) and clf.intercept_.shape == (1,)
    assert clf.coef_.dtype == np.float64
    z = x_test @ clf.coef_[0] + clf.intercept_[0]
    np.testing.assert_allclose(clf.decision_function(x_test), z, rtol=1e-12)
    # the same as the trained float32 perceptron on standardised inputs
    std = jd.fit_standardizer(x)
    w, b = clf._run.params
    params = jaxperc.Params(w[0, : x.shape[1]], b[0])
    z32 = np.asarray(jaxperc.forward(params, std.apply(x_test), activation="identity"))
    np.testing.assert_allclose(z, z32, rtol=1e-4, atol=1e-4)
    assert np.array_equal(
        clf.predict(x_test) == clf.classes_[1],
        np.asarray(jaxperc.predict(params, std.apply(x_test).astype(np.float32))) == 1,
    )


def test_multiclass_is_one_train_many_call(blobs3, monkeypatch):
    x, y = blobs3
    calls = []
    real = jaxperc.train_many

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(jaxperc.training, "train_many", spy)
    clf = PerceptronClassifier(random_state=0).fit(x, y)
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0]["target_index"], np.arange(3))
    assert list(clf.classes_) == ["blue", "green", "red"]
    assert clf.coef_.shape == (3, x.shape[1]) and clf.intercept_.shape == (3,)
    assert clf.loss_curve_.shape[0] == 3 and clf.stop_reason_.shape == (3,)
    proba = clf.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(x))
    np.testing.assert_allclose(
        np.exp(clf.predict_log_proba(x)), proba, rtol=1e-10, atol=1e-300
    )
    chance = max(np.mean(y == c) for c in clf.classes_)
    assert clf.score(x, y) > chance


def test_one_vs_rest_probabilities_are_normalised_sigmoids(blobs3):
    x, y = blobs3
    clf = PerceptronClassifier().fit(x, y)
    sig = 1.0 / (1.0 + np.exp(-clf.decision_function(x)))
    np.testing.assert_allclose(
        clf.predict_proba(x), sig / sig.sum(axis=1, keepdims=True), rtol=1e-10
    )


def test_labels_of_any_type_come_back():
    ds = jd.load_dataset("iris_setosa")
    labels = np.array([-7, 42])[ds.y]
    clf = PerceptronClassifier().fit(ds.x, labels)
    assert set(np.unique(clf.predict(ds.x))) <= {-7, 42}
    assert clf.predict(ds.x).dtype == labels.dtype
    assert clf.score(ds.x, labels) > max(np.mean(ds.y), 1 - np.mean(ds.y))


def test_sample_weights_equal_repeated_rows_in_float32():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=30) > 0).astype(int)
    sw = rng.integers(0, 4, 30)
    # a fixed number of epochs (tol=0), so both runs take the same steps
    clf = PerceptronClassifier(max_epochs=200, tol=0.0)
    weighted = clf.fit(x, y, sample_weight=sw).predict_proba(x)
    repeated = clf.fit(x.repeat(sw, 0), y.repeat(sw)).predict_proba(x)
    # float32 training: the two summation orders agree to rounding, ~1e-6
    np.testing.assert_allclose(weighted, repeated, rtol=1e-5, atol=1e-6)


def test_predict_proba_only_for_sigmoid():
    assert hasattr(PerceptronClassifier(), "predict_proba")
    for activation in ("step", "tanh", "identity"):
        assert not hasattr(PerceptronClassifier(activation=activation), "predict_proba")


@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_decision_boundary_is_y_hat_one_half(activation):
    ds = jd.load_dataset("iris_setosa")
    clf = PerceptronClassifier(loss="mse", activation=activation).fit(ds.x, ds.y)
    std = jd.fit_standardizer(ds.x)
    w, b = clf._run.params
    params = jaxperc.Params(w[0, : ds.x.shape[1]], b[0])
    y_hat = np.asarray(
        jaxperc.forward(
            params, std.apply(ds.x).astype(np.float32), activation=activation
        )
    )
    far = np.abs(y_hat - 0.5) > 1e-4  # away from float32 ties at the boundary
    assert far.mean() > 0.9
    np.testing.assert_array_equal(clf.predict(ds.x)[far], (y_hat >= 0.5)[far])
    assert clf.score(ds.x, ds.y) > 0.9


def test_bad_parameter_fails_at_fit_with_one_line():
    x = np.random.default_rng(0).normal(size=(20, 2))
    y = (x[:, 0] > 0).astype(int)
    clf = PerceptronClassifier(optimizer="adamm")
    with pytest.raises(jaxperc.JaxpercError, match="adamm") as err:
        clf.fit(x, y)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="at least 2 classes"):
        PerceptronClassifier().fit(x, np.zeros(20, int))


def test_partial_fit_continues_and_lowers_the_cost():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 3))
    y = np.where(x[:, 0] - x[:, 1] > 0, "yes", "no")
    clf = PerceptronClassifier(learning_rate=0.1)
    with pytest.raises(ValueError, match="classes="):
        clf.partial_fit(x, y)
    for _ in range(20):
        clf.partial_fit(x, y, classes=["no", "yes"])
    curve = clf.loss_curve_
    assert curve.shape == (20,) and np.all(np.diff(curve) < 0)
    assert clf.score(x, y) > 0.9
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(x[:, :2], y)


def test_warm_start_continues_from_the_fitted_weights():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
    cold = PerceptronClassifier(max_epochs=5, tol=0.0).fit(x, y)
    warm = PerceptronClassifier(max_epochs=5, tol=0.0, warm_start=True)
    warm.fit(x, y)
    np.testing.assert_array_equal(warm.coef_, cold.coef_)
    warm.fit(x, y)
    assert warm.loss_curve_.shape == (5,) and warm.n_iter_ == 5
    assert not np.allclose(warm.coef_, cold.coef_)
    assert warm.loss_curve_.min() < cold.loss_curve_.min()
    # a warm start is a fit from coef_init = coef_ (float32 training: 1e-5)
    given = PerceptronClassifier(max_epochs=5, tol=0.0)
    given.fit(x, y, coef_init=cold.coef_, intercept_init=cold.intercept_)
    np.testing.assert_allclose(given.coef_, warm.coef_, rtol=1e-5, atol=1e-6)


def test_compilation_cache_is_on_by_default(tmp_path):
    code = (
        "import jax, numpy as np\n"
        "from jaxperc.sklearn import PerceptronClassifier\n"
        "x = np.arange(8.0).reshape(4, 2)\n"
        "PerceptronClassifier(max_epochs=2, tol=None).fit(x, [0, 1, 0, 1])\n"
        "print(jax.config.jax_compilation_cache_dir)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "JAXPERC_CACHE_DIR"}
    env["HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip().endswith(os.path.join(".cache", "jaxperc", "xla"))
    assert any((tmp_path / ".cache" / "jaxperc" / "xla").iterdir())


def test_cache_stays_off_when_the_environment_says_so():
    assert os.environ["JAXPERC_CACHE_DIR"] == "off"  # tests/sklearn/conftest.py
    x = np.arange(8.0).reshape(4, 2)
    PerceptronClassifier(max_epochs=2, tol=None).fit(x, [0, 1, 0, 1])
    assert jax.config.jax_compilation_cache_dir is None
