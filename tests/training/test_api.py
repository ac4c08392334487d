"""Training one model and many: stopping rules, divergence, equivalence, errors."""

import gc
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxperc as jp
from jaxperc.data import make_blobs
from jaxperc.errors import NotConvergedWarning

# the test runs a fixed number of epochs with a tol set: the warning is expected
RUNS_OUT_OF_EPOCHS = pytest.mark.filterwarnings(
    "ignore::jaxperc.errors.NotConvergedWarning"
)


def separable(n=200, d=3, seed=0, margin=0.3):
    """Linearly separable points: label by a hyperplane, pushed out by a margin."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    normal = rng.normal(size=d)
    normal /= np.linalg.norm(normal)
    side = np.sign(x @ normal)
    side[side == 0] = 1
    x += margin * side[:, None] * normal
    return x.astype(np.float32), (side > 0).astype(np.float32)


def noisy(n=300, d=4, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (x @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(np.float64)
    return x, y


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def test_train_returns_one_model_and_lowers_the_cost():
    x, y = separable()
    r = jp.train(x, y, learning_rate=1.0, max_epochs=300, tol=0)
    assert r.params.w.shape == (3,) and r.params.b.shape == ()
    assert r.cost_history.shape == (300,) and int(r.epochs) == 300
    assert r.stop_reason == "max_epochs" and not r.converged and not r.diverged
    assert r.cost < 0.5 * r.cost_history[0]
    assert np.all(np.diff(r.cost_history) <= 1e-7)  # full-batch GD, small step
    assert r.accuracy > 0.95


@RUNS_OUT_OF_EPOCHS
def test_final_cost_is_the_cost_of_the_returned_params():
    x, y = noisy()
    r = jp.train(x.astype(np.float32), y, learning_rate=0.5, max_epochs=50)
    expected = jp.cost(r.params, x.astype(np.float32), y.astype(np.float32))
    np.testing.assert_allclose(r.cost, expected, rtol=1e-5)  # float32


def test_tol_stops_when_the_cost_stalls():
    x, y = noisy()
    r = jp.train(x, y, learning_rate=1.0, tol=1e-4, patience=3, max_epochs=5000)
    assert r.stop_reason == "tol" and r.converged
    h = r.cost_history[: int(r.epochs)]
    rel = np.abs(np.diff(h)) / np.abs(h[:-1])
    assert np.all(rel[-2:] <= 1e-4) and int(r.epochs) < 5000


def test_gtol_stops_when_the_gradient_vanishes():
    x, y = noisy()
    r = jp.train(x, y, learning_rate=1.0, tol=0, gtol=1e-3, max_epochs=20000)
    assert r.stop_reason == "gtol" and r.converged
    g = jp.manual_grad(r.params, x.astype(np.float32), y.astype(np.float32))
    assert np.sqrt(np.sum(np.asarray(g.w) ** 2) + float(g.b) ** 2) < 1.2e-3


def test_rosenblatt_rule_reaches_zero_errors_on_separable_data():
    x, y = separable(margin=0.5)
    r = jp.train(x, y, activation="step", learning_rate=0.5, max_epochs=2000)
    assert r.stop_reason == "zero_errors" and r.converged
    assert np.array_equal(np.asarray(jp.predict(r.params, x, activation="step")), y)


@RUNS_OUT_OF_EPOCHS
def test_divergence_is_flagged_and_leaves_the_other_models_alone():
    x, y = noisy()
    kw = dict(activation="identity", max_epochs=200, tol=0)
    many = jp.train_many(x, y, learning_rate=np.array([0.05, 1e4]), **kw)
    assert list(many.stop_reason) == ["max_epochs", "diverged"]
    assert many.diverged.tolist() == [False, True]
    assert int(many.epochs[1]) < 200
    assert np.all(np.isfinite(np.asarray(many.params.w)))  # last finite params kept
    solo = jp.train(x, y, learning_rate=0.05, **kw)
    np.testing.assert_allclose(many.params.w[0], solo.params.w, rtol=1e-5)


@pytest.mark.parametrize("batch_size", [None, 32])
def test_train_many_equals_separate_train_calls_float64(batch_size):
    x, y = noisy()
    yk = np.stack([y, 1 - y, (x[:, 0] > 0)], axis=1)  # three target columns
    folds = np.ones((x.shape[0], 2))
    folds[::3, 1] = 0  # a fold mask as a weight column
    seeds, lrs = np.array([0, 1, 2, 3]), np.array([0.1, 0.5, 1.0, 2.0])
    ti, wi = np.array([0, 1, 2, 0]), np.array([0, 1, 0, 1])
    kw = dict(max_epochs=150, tol=0, batch_size=batch_size, dtype="float64")
    with jax.enable_x64(True):
        many = jp.train_many(
            x,
            yk,
            seed=seeds,
            learning_rate=lrs,
            target_index=ti,
            weights=folds,
            weight_index=wi,
            **kw,
        )
        for m in range(4):
            one = jp.train(
                x,
                yk[:, ti[m]],
                seed=int(seeds[m]),
                learning_rate=float(lrs[m]),
                weights=folds[:, wi[m]],
                **kw,
            )
            assert rel_err(many.params.w[m], one.params.w) <= 1e-10
            assert rel_err(many.params.b[m], one.params.b) <= 1e-10
            assert rel_err(many.cost_history[m], one.cost_history) <= 1e-10


def test_train_many_equals_separate_calls_float32_over_hundreds_of_epochs():
    x, y = noisy()
    lrs = np.array([0.2, 0.7, 1.5])
    many = jp.train_many(
        x, y, seed=np.arange(3), learning_rate=lrs, max_epochs=400, tol=0
    )
    for m in range(3):
        one = jp.train(x, y, seed=m, learning_rate=float(lrs[m]), max_epochs=400, tol=0)
        assert rel_err(many.params.w[m], one.params.w) <= 1e-5  # float32


@RUNS_OUT_OF_EPOCHS
def test_same_seed_is_bitwise_reproducible():
    x, y = noisy()
    kw = dict(seed=np.arange(3), learning_rate=0.3, max_epochs=100, batch_size=50)
    a, b = jp.train_many(x, y, **kw), jp.train_many(x, y, **kw)
    assert np.array_equal(a.params.w, b.params.w)
    assert np.array_equal(a.cost_history, b.cost_history, equal_nan=True)


@RUNS_OUT_OF_EPOCHS
def test_compaction_gives_the_same_answers():
    x, y = noisy()
    lrs = np.geomspace(0.01, 5.0, 8)  # fast learners stop long before slow ones
    kw = dict(seed=np.arange(8), learning_rate=lrs, max_epochs=3000, tol=1e-5)
    a = jp.train_many(x, y, compact=True, **kw)
    b = jp.train_many(x, y, compact=False, **kw)
    assert len(set(a.epochs.tolist())) > 2  # models stopped at different times
    assert np.array_equal(a.epochs, b.epochs)
    np.testing.assert_allclose(a.params.w, b.params.w, rtol=1e-5, atol=1e-7)


def test_autodiff_source_matches_manual():
    x, y = noisy()
    for loss in ("mse", "bce"):
        a = jp.train(x, y, loss=loss, max_epochs=100, tol=0)
        b = jp.train(x, y, loss=loss, grad="autodiff", max_epochs=100, tol=0)
        np.testing.assert_allclose(a.params.w, b.params.w, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "optimizer,kwargs",
    [
        ("sgd", {"momentum": 0.9}),
        ("nesterov", {}),
        ("adam", {}),
        ("adamw", {}),
        ("rmsprop", {}),
        ("adagrad", {}),
        ("nadam", {}),
        ("lbfgs", {}),
    ],
)
def test_optax_optimizers_lower_the_cost(optimizer, kwargs):
    x, y = noisy()
    lr = 1.0 if optimizer == "lbfgs" else 0.05
    r = jp.train(
        x,
        y,
        loss="bce",
        optimizer=optimizer,
        optimizer_kwargs=kwargs,
        learning_rate=lr,
        max_epochs=100,
        tol=0,
    )
    assert not r.diverged
    assert r.cost < 0.8 * r.cost_history[0]


def test_lbfgs_beats_plain_gd_in_far_fewer_epochs():
    x, y = noisy()
    gd = jp.train(x, y, loss="bce", learning_rate=1.0, max_epochs=200, tol=0)
    lb = jp.train(x, y, loss="bce", optimizer="lbfgs", max_epochs=20, tol=0)
    assert lb.cost <= gd.cost + 1e-6


def test_per_model_optimizer_hyperparameters_and_schedules():
    x, y = noisy()
    r = jp.train_many(
        x,
        y,
        optimizer="sgd",
        optimizer_kwargs={"momentum": np.array([0.0, 0.9])},
        learning_rate=0.05,
        max_epochs=50,
        tol=0,
    )
    assert r.cost[1] < r.cost[0]  # momentum helps on this smooth problem
    s = jp.train(x, y, schedule="cosine", learning_rate=1.0, max_epochs=50, tol=0)
    assert s.cost < s.cost_history[0]


def test_record_accuracy_history():
    x, y = separable()
    r = jp.train(x, y, record_accuracy=True, learning_rate=1.0, max_epochs=40, tol=0)
    assert r.accuracy_history.shape == (40,)
    assert np.nanmin(r.accuracy_history) >= 0 and np.nanmax(r.accuracy_history) <= 1
    assert r.accuracy_history[-1] >= r.accuracy_history[0]


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"optimizer": "adamm"}, "optimizer='adamm' is not known"),
        ({"loss": "hinge"}, "loss='hinge' is not known"),
        ({"activation": "relu"}, "activation='relu' is not known"),
        ({"grad": "numeric"}, "grad='numeric' is not known"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"learning_rate": -1.0}, "learning_rate must be > 0"),
        ({"max_epochs": 0}, "max_epochs=0 must be a positive integer"),
        ({"batch_size": 10_000}, "batch_size=10000 exceeds"),
        ({"loss": "bce", "activation": "tanh"}, "needs activation='sigmoid'"),
        ({"tol": -1.0}, "tol=-1.0 must be a number"),
        ({"schedule": "cosin"}, "schedule='cosin' is not known"),
        ({"optimizer_kwargs": {"momentum": 0.9}}, "optimizer 'gd' takes no"),
        ({"seed": [0, 1], "learning_rate": [0.1, 0.2, 0.3]}, "disagree"),
        ({"target_index": [0, 3]}, "target_index must be in 0..0"),
    ],
)
def test_bad_arguments_raise_a_value_error_naming_them(kwargs, fragment):
    x, y = noisy()
    with pytest.raises(
        ValueError, match=fragment.replace("(", r"\(").replace(".", r"\.")
    ):
        jp.train_many(x, y, **kwargs)


@pytest.mark.parametrize(
    "make,fragment",
    [
        (lambda x, y: (x, y[:, None][:-1]), "y must have shape"),
        (lambda x, y: (x, y * 2), "y must hold targets in \\[0, 1\\]"),
        (lambda x, y: (x[:, 0], y), "x must have shape \\[n, d\\]"),
        (lambda x, y: (np.where(x > 2, np.nan, x), y), "x has a non-finite value"),
    ],
)
def test_bad_data_raises(make, fragment):
    x, y = noisy()
    with pytest.raises(ValueError, match=fragment):
        jp.train(*make(x, y))


def test_float64_without_x64_is_refused():
    x, y = noisy()
    with jax.enable_x64(False), pytest.raises(ValueError, match="jax_enable_x64"):
        jp.train(x, y, dtype="float64")


def test_warm_start_from_given_params_continues_training():
    x, y = noisy()
    kw = dict(learning_rate=0.5, tol=0)
    straight = jp.train(x, y, max_epochs=80, **kw)
    first = jp.train(x, y, max_epochs=30, **kw)
    second = jp.train(x, y, max_epochs=50, init=first.params, **kw)
    np.testing.assert_allclose(second.params.w, straight.params.w, rtol=1e-5)  # f32
    many = jp.train_many(x, y, seed=np.arange(2), max_epochs=5, init=first.params, **kw)
    np.testing.assert_allclose(many.params.w[0], many.params.w[1], rtol=0)
    with pytest.raises(ValueError, match="init params must have"):
        jp.train(x, y, init=jp.Params(np.zeros(7), np.zeros(())))


def test_running_out_of_epochs_or_diverging_warns_in_one_line():
    blobs = make_blobs(60, 2, seed=0)
    x, y = blobs.x, blobs.y
    with pytest.warns(NotConvergedWarning) as caught:
        jp.train_many(x, y, seed=np.arange(3), max_epochs=3, tol=1e-12)
    (message,) = [str(w.message) for w in caught]
    assert "3 of 3 models stopped at max_epochs=3" in message
    assert "\n" not in message
    with pytest.warns(NotConvergedWarning, match="1 of 2 models diverged"):
        jp.train_many(
            x,
            y,
            activation="identity",
            learning_rate=[0.01, 1e3],
            max_epochs=200,
            tol=0,
        )


def test_a_fixed_number_of_epochs_is_not_a_failure_to_converge():
    """tol=0 and gtol=0 ask for exactly max_epochs epochs: no warning."""
    blobs = make_blobs(40, 2, seed=1)
    x, y = blobs.x, blobs.y
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = jp.train(x, y, max_epochs=5, tol=0)
    assert result.stop_reason == "max_epochs" and not result.converged


def test_holdout_column_steers_stopping_not_the_gradient():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 3))
    y = (x[:, 0] + rng.normal(size=80) > 0).astype(float)
    held = np.arange(80) >= 60
    weights = np.stack([~held, held], axis=1).astype(float)
    kw = dict(loss="bce", learning_rate=0.5, max_epochs=40, tol=0.0, init="zeros")
    plain = jp.train_many(x, y, weights=weights, weight_index=0, **kw)
    held_out = jp.train_many(
        x, y, weights=weights, weight_index=0, holdout_index=1, **kw
    )
    # the same steps (float32, same arithmetic): only the recorded cost differs
    np.testing.assert_array_equal(held_out.params.w, plain.params.w)
    curve = held_out.cost_history[0]
    assert np.all(np.diff(curve) <= 0)  # the best held-out cost so far
    assert held_out.cost[0] <= curve.min()


def test_a_jax_array_x_trains_the_same_models_as_its_numpy_copy():
    """Bitwise equal in float32, including a float64 jax x cast on its device."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(120, 5)).astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(np.float32)
    kw = dict(seed=np.arange(3), loss="bce", optimizer="adam", max_epochs=40, tol=0)
    want = jp.train_many(x, y, **kw)
    for given in (jnp.asarray(x), jnp.asarray(x.astype(np.float64))):
        got = jp.train_many(given, y, **kw)
        np.testing.assert_array_equal(got.params.w, want.params.w)
        np.testing.assert_array_equal(got.cost_history, want.cost_history)


def test_a_jax_array_x_with_a_non_finite_value_is_one_clear_error():
    x = np.ones((10, 2), np.float32)
    x[3, 1] = np.nan
    with pytest.raises(
        jp.JaxpercError, match=r"non-finite value \(nan\) at index \(3, 1\)"
    ):
        jp.train_many(jnp.asarray(x), np.ones(10))


def test_a_jax_array_x_is_checked_for_finiteness_once(monkeypatch):
    """An array never changes: a second call on the same x skips the device
    round trip; a new array, and an array whose id is reused, are checked."""
    from jaxperc.training import checks

    calls = []
    real = checks._all_finite
    monkeypatch.setattr(checks, "_all_finite", lambda a: calls.append(1) or real(a))
    x = jnp.asarray(np.ones((10, 2), np.float32))
    y = np.ones(10)
    kw = dict(max_epochs=2, tol=0)
    jp.train_many(x, y, **kw)
    jp.train_many(x, y, **kw)
    assert len(calls) == 1
    key = id(x)
    del x
    gc.collect()
    assert key not in checks._FINITE  # forgotten with the array
    bad = np.ones((10, 2), np.float32)
    bad[0, 0] = np.inf
    with pytest.raises(jp.JaxpercError, match="non-finite"):
        jp.train_many(jnp.asarray(bad), y, **kw)
