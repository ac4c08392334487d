"""Newton's method: the hand-derived Hessian, the damped step, and where it is refused.

The Hessian is checked against ``jax.hessian`` of the same cost in float64
(rtol 1e-9), through weights, per-model standardizers, the L2 penalty and row
blocks; training is checked against scikit-learn's LogisticRegression optimum.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

import jaxperc.data as jd
from jaxperc import training
from jaxperc.core.losses import cost as cost_fn
from jaxperc.core.model import Params
from jaxperc.errors import JaxpercError
from jaxperc.training.newton import NEWTON_DAMPING, newton_direction
from jaxperc.training.objective import objective_terms
from jaxperc.training.optim import make_optimizer
from jaxperc.training.state import Data, Spec, State


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _problem(seed=0, n=60, d=4, m=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * [1.0, 3.0, 0.5, 10.0][:d] + [0.0, 5.0, -2.0, 1.0][:d]
    y = (rng.random(n) < 0.5).astype(np.float64)[:, None]
    weights = rng.uniform(0.0, 2.0, size=(n, 2))
    mean = rng.normal(size=(2, d))
    scale = rng.uniform(0.5, 3.0, size=(2, d))
    params = Params(w=rng.normal(size=(m, d)) * 0.3, b=rng.normal(size=m) * 0.3)
    return x, y, weights, (mean, scale), params


def _state(params, m, l2):
    zeros = np.zeros(m, np.int32)
    return State(
        params=params,
        opt_state=(),
        learning_rate=np.ones(m),
        l2=np.asarray(l2, np.float64),
        hparams={},
        target_index=zeros,
        weight_index=np.array([0, 1, 1])[:m].astype(np.int32),
        standardizer_index=np.array([1, 0, 1])[:m].astype(np.int32),
        holdout_index=zeros,
        prev_cost=np.full(m, np.inf),
        stall=zeros,
        epochs=zeros,
        step=zeros,
        stop=zeros,
    )


def _reference_hessian(x, y, weights, tables, params, state, model):
    """jax.hessian of one model's cost in its own (standardised) coordinates."""
    mean, scale = (np.asarray(t)[state.standardizer_index[model]] for t in tables)
    v = weights[:, state.weight_index[model]]
    l2 = state.l2[model]

    def cost(theta):
        w, b = theta[:-1], theta[-1]
        z_params = Params(w=w / scale, b=b - jnp.sum(mean * w / scale))
        c = cost_fn(z_params, x, y[:, 0], loss="bce", activation="sigmoid", weights=v)
        return c + 0.5 * l2 * jnp.sum(w**2)

    theta = jnp.concatenate([params.w[model], params.b[model][None]])
    return np.asarray(jax.hessian(cost)(theta))


@pytest.mark.parametrize("grad", ["manual", "autodiff"])
@pytest.mark.parametrize("block_rows", [None, 16])
def test_hand_hessian_equals_jax_hessian(grad, block_rows):
    x, y, weights, tables, params = _problem()
    state = _state(params, 3, [0.1, 0.0, 2.0])
    data = Data(
        x=jnp.asarray(x),
        targets=jnp.asarray(y),
        weights=jnp.asarray(weights),
        weight_sums=jnp.asarray(weights.sum(0)),
        mean=jnp.asarray(tables[0]),
        scale=jnp.asarray(tables[1]),
    )
    spec = Spec(loss="bce", grad=grad, optimizer="newton", block_rows=block_rows)
    terms = objective_terms(spec, params, data, state)
    for model in range(3):
        want = _reference_hessian(x, y, weights, tables, params, state, model)
        np.testing.assert_allclose(terms.hessian[model], want, rtol=1e-9, atol=1e-12)


def test_no_hessian_for_other_optimizers():
    x, y, _, _, params = _problem()
    data = Data(jnp.asarray(x), jnp.asarray(y), None, None)
    state = _state(params, 3, [0.0, 0.0, 0.0])
    terms = objective_terms(Spec(loss="bce"), params, data, state)
    assert terms.hessian is None and terms.curvature is None


def test_step_is_damped_newton_and_retreats_when_the_cost_rises():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 3))
    h = a @ a.T + np.eye(3)
    g = Params(w=rng.normal(size=2), b=rng.normal())
    p = Params(w=rng.normal(size=2), b=rng.normal())
    state = make_optimizer("newton").init(p, {})
    lam = NEWTON_DAMPING.start * NEWTON_DAMPING.shrink  # the first step is accepted
    ridge = lam * np.trace(h) / 3 * np.eye(3)
    step = np.linalg.solve(h + ridge, -np.concatenate([g.w, [g.b]]))
    direction, state = newton_direction(p, g, h, 1.0, state)
    np.testing.assert_allclose(direction.w, step[:2], rtol=1e-12)
    np.testing.assert_allclose(direction.b, step[2], rtol=1e-12)
    # a higher cost at the new point: the step is taken again from p, damped more
    q = Params(w=p.w + direction.w, b=p.b + direction.b)
    other = Params(w=np.ones(2), b=1.0)
    direction, state2 = newton_direction(q, other, 2 * h, 2.0, state)
    lam2 = lam * NEWTON_DAMPING.grow
    ridge2 = lam2 * np.trace(h) / 3 * np.eye(3)
    retreat = np.linalg.solve(h + ridge2, -np.concatenate([g.w, [g.b]]))
    np.testing.assert_allclose(q.w + direction.w, p.w + retreat[:2], rtol=1e-12)
    assert float(state2.cost) == 1.0 and float(state2.damping) == pytest.approx(lam2)


def test_newton_reaches_logistic_regressions_optimum_in_few_epochs():
    sklearn = pytest.importorskip("sklearn.linear_model")
    ds = jd.load_dataset("breast_cancer")
    x = (ds.x - ds.x.mean(0)) / ds.x.std(0)
    y = ds.y.astype(np.float64)
    c = 1.0
    lr = sklearn.LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(x, y)
    # raw x with per-model standardizers: the change of coordinates of the Hessian
    r = training.train_many(
        ds.x,
        y,
        loss="bce",
        optimizer="newton",
        l2=1.0 / (c * y.size),
        standardizers=(ds.x.mean(0, keepdims=True), ds.x.std(0, keepdims=True)),
        init="zeros",
        tol=0.0,
        gtol=1e-9,
        max_epochs=30,
        dtype="float64",
    )
    assert r.stop_reason[0] == "gtol" and r.epochs[0] <= 12
    np.testing.assert_allclose(r.params.w[0], lr.coef_[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r.params.b[0], lr.intercept_[0], rtol=1e-5)


def test_weak_penalty_on_separable_data_stays_finite_and_descends():
    ds = jd.load_dataset("iris_setosa")  # separable: the optimum runs off as l2 → 0
    x = (ds.x - ds.x.mean(0)) / ds.x.std(0)
    r = training.train_many(
        x,
        ds.y,
        loss="bce",
        optimizer="newton",
        l2=[1e-2, 1e-6, 1e-10],
        init="zeros",
        tol=0.0,
        gtol=1e-6,
        max_epochs=60,
        dtype="float64",
    )
    assert np.all(np.isfinite(r.params.w)) and not r.diverged.any()
    history = np.asarray(r.cost_history)
    best = np.fmin.accumulate(np.where(np.isnan(history), np.inf, history), axis=1)
    assert np.all(best[1:, -1] < 1e-3)  # the weakly penalised fit the data
    assert np.all(np.nanmin(history, axis=1) <= history[:, 0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"loss": "mse"}, "needs loss='bce'"),
        ({"batch_size": 8}, "full batch, without mini-batches"),
        ({"optimizer_kwargs": {"damping": 1.0}}, "takes no arguments"),
    ],
)
def test_refused_with_one_clear_error(kwargs, match):
    ds = jd.load_dataset("iris_setosa")
    options = {"loss": "bce", **kwargs}
    with pytest.raises(JaxpercError, match=match):
        training.train_many(ds.x, ds.y, optimizer="newton", **options)


def test_refused_for_sparse_x_and_held_out_columns():
    ds = jd.load_dataset("iris_setosa")
    with pytest.raises(JaxpercError, match="optimizer 'newton' needs a dense x"):
        training.train_many(sp.csr_matrix(ds.x), ds.y, loss="bce", optimizer="newton")
    table = np.ones((ds.y.size, 2))
    with pytest.raises(JaxpercError, match="than 'newton'"):
        training.train_many(
            ds.x,
            ds.y,
            loss="bce",
            optimizer="newton",
            weights=table,
            weight_index=0,
            holdout_index=1,
        )


def test_interrupted_newton_run_resumes_from_a_saved_checkpoint(tmp_path):
    """The damped-Newton state (last good point, its gradient and Hessian, λ)
    round-trips through a checkpoint file: the resumed run equals an unbroken one."""
    import jaxperc as jp

    ds = jd.load_dataset("breast_cancer")
    kw = dict(
        loss="bce",
        optimizer="newton",
        l2=np.geomspace(1e-1, 1e-6, 4),
        init="zeros",
        tol=0.0,
        gtol=1e-12,
        max_epochs=40,
        history_len=4,
        standardizers=(ds.x.mean(0, keepdims=True), ds.x.std(0, keepdims=True)),
        dtype="float64",
    )
    full = training.train_many(ds.x, ds.y, **kw)
    snaps = []
    training.train_many(
        ds.x, ds.y, callback=lambda p: snaps.append(p.checkpoint()), **kw
    )
    path = tmp_path / "newton.npz"
    jp.save_run_state(path, snaps[1])
    again = training.train_many(ds.x, ds.y, resume=jp.load_run_state(path), **kw)
    np.testing.assert_array_equal(again.params.w, full.params.w)
    np.testing.assert_array_equal(again.epochs, full.epochs)
