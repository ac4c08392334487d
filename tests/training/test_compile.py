"""What a call compiles, and that the leaner loop still stops and reports as before."""

import contextlib
import re

import jax
import numpy as np
import pytest

import jaxperc as jp
from jaxperc.training.loop import compiled_chunk
from jaxperc.training.plan import default_block_rows, last_level_cache_bytes
from jaxperc.training.state import Data, Setup, Spec, initial_state

from ._records import models

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def counting_compiles():
    """Counts XLA compilations in the block (a list that grows by one each)."""
    seen = []

    def listener(event, duration, **kwargs):
        if event == COMPILE_EVENT:
            seen.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def data(n=120, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(np.float32)
    return x, y  # not separable: gradient descent converges


def test_given_params_with_gd_compile_one_program_and_a_repeat_none():
    x, y = data(d=5)  # a shape no other test compiles
    init = jp.Params(np.zeros((2, 5), np.float32), np.zeros(2, np.float32))
    kw = dict(learning_rate=np.array([0.1, 0.5]), init=init, max_epochs=40, tol=0)
    with counting_compiles() as first:
        a = jp.train_many(x, y, **kw)
    assert len(first) == 1  # the chunk, with the final evaluation inside it
    with counting_compiles() as again:
        b = jp.train_many(x, y, **kw)
    assert again == []
    assert np.array_equal(a.params.w, b.params.w)


def test_gd_state_carries_no_optimizer_state():
    m, d = 3, 4
    given = jp.Params(np.ones((m, d), np.float32), np.zeros(m, np.float32))
    record = models(m, init=given)
    x = np.zeros((8, d), np.float32)
    data = Data(x, x[:, :1], None, None)
    setup = Setup(Spec(), data, d, "given", 0.01, np.float32, None, None)
    state = initial_state(setup, record)
    assert state.opt_state == ()
    # assembled on the host, nothing compiled: the first chunk takes it as it is
    assert all(isinstance(a, np.ndarray) for a in jax.tree.leaves(state))


@pytest.mark.filterwarnings("ignore::jaxperc.errors.NotConvergedWarning")
def test_final_cost_is_measured_where_each_model_stopped():
    """Models stop in different chunks (and compaction moves them): each final
    cost is still the cost of its returned params."""
    x, y = data(n=200)
    r = jp.train_many(
        x,
        y,
        seed=np.arange(8),
        learning_rate=np.geomspace(0.05, 20, 8),
        tol=1e-4,
        patience=3,
        max_epochs=600,
        history_len=32,
    )
    assert len(set(r.epochs.tolist())) > 2  # stopped at different epochs
    for m in range(8):
        p = jp.Params(r.params.w[m], r.params.b[m])
        np.testing.assert_allclose(r.cost[m], jp.cost(p, x, y), rtol=1e-5)
        acc = np.mean((np.asarray(jp.forward(p, x)) >= 0.5) == (y >= 0.5))
        np.testing.assert_allclose(r.accuracy[m], acc, atol=1e-6)


@pytest.mark.filterwarnings("ignore::jaxperc.errors.NotConvergedWarning")
def test_final_metrics_off_trains_the_same_models_without_the_final_pass():
    x, y = data(n=200)
    kw = dict(seed=np.arange(4), learning_rate=[0.1, 1, 5, 20], tol=1e-4, patience=3)
    kw.update(max_epochs=300, history_len=32)
    on = jp.train_many(x, y, **kw)
    off = jp.train_many(x, y, final_metrics=False, **kw)
    np.testing.assert_array_equal(off.params.w, on.params.w)  # float32, exact
    np.testing.assert_array_equal(off.epochs, on.epochs)
    np.testing.assert_array_equal(off.cost_history, on.cost_history)
    assert np.isnan(off.cost).all() and np.isnan(off.accuracy).all()
    assert np.isfinite(on.cost).all()


def test_resumed_run_reports_the_same_final_cost():
    x, y = data(n=150)
    kw = dict(
        seed=np.arange(4),
        learning_rate=np.geomspace(0.1, 10, 4),
        tol=1e-4,
        max_epochs=400,
        history_len=32,
    )
    full = jp.train_many(x, y, **kw)
    saved = []

    def stop_after_four_chunks(progress):
        saved.append(progress.checkpoint())
        if len(saved) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jp.train_many(x, y, callback=stop_after_four_chunks, **kw)
    resumed = jp.train_many(x, y, resume=saved[-1], **kw)
    assert np.array_equal(resumed.params.w, full.params.w)
    np.testing.assert_allclose(resumed.cost, full.cost, rtol=1e-6)
    np.testing.assert_allclose(resumed.accuracy, full.accuracy, atol=1e-6)


@pytest.mark.parametrize(
    "kw,reason",
    [
        (dict(tol=1e-3, patience=2), "tol"),
        (dict(tol=0, gtol=5e-2), "gtol"),
        (dict(tol=0, learning_rate=1e6, activation="identity"), "diverged"),
        (dict(tol=0, l2=0.1, max_epochs=30), "max_epochs"),
    ],
)
@pytest.mark.filterwarnings("ignore::jaxperc.errors.NotConvergedWarning")
def test_each_stopping_rule_still_fires(kw, reason):
    x, y = data()
    r = jp.train(x, y, **{"learning_rate": 1.0, "max_epochs": 3000, **kw})
    assert r.stop_reason == reason
    assert np.all(np.isfinite(np.asarray(r.params.w)))


def test_block_rows_follow_the_cache_size():
    values = last_level_cache_bytes() // 32  # float32 values per block
    rows = default_block_rows(10**7, 64, jax.devices("cpu")[0])
    assert rows * 64 <= max(values, 256 * 64)
    assert default_block_rows(100, 64, jax.devices("cpu")[0]) is None  # small n


def test_lbfgs_compiles_its_chunk_once_across_chunks():
    x, y = data(d=6)  # a shape no other test compiles
    kw = dict(loss="bce", optimizer="lbfgs", l2=1e-2, max_epochs=80, tol=0)
    with counting_compiles() as seen:
        r = jp.train(x, y, **kw)
    assert int(r.epochs) == 80  # chunks of 32 and 48 epochs: the chunk ran twice
    assert len(seen) == 2  # the set-up and the chunk (its state has no weak types)


def test_lbfgs_models_that_stop_early_keep_their_own_result():
    x, y = data(d=4)
    l2 = np.array([1e-1, 1e-3, 1e-2], np.float32)  # they stop at different epochs
    kw = dict(loss="bce", optimizer="lbfgs", tol=0, gtol=1e-4, max_epochs=200)
    many = jp.train_many(x, y, l2=l2, **kw)
    assert len(set(many.epochs.tolist())) > 1
    for m, value in enumerate(l2):
        alone = jp.train(x, y, l2=float(value), **kw)
        assert int(alone.epochs) == many.epochs[m]
        # float32: the batched program may round differently from the single one
        np.testing.assert_allclose(many.params.w[m], alone.params.w, rtol=1e-5)


@pytest.mark.parametrize(
    "spec",
    [Spec(), Spec(grad="autodiff"), Spec(optimizer="newton", loss="bce")],
    ids=["manual", "autodiff", "newton"],
)
def test_every_product_in_the_chunk_is_full_precision(spec):
    # a GPU's default float32 product is TF32 (~1e-3 relative): every
    # dot_general must ask for HIGHEST, or GPU and CPU runs disagree
    d = 4
    x = np.random.default_rng(0).normal(size=(16, d)).astype(np.float32)
    data = Data(x, (x[:, :1] > 0).astype(np.float32), None, None)
    setup = Setup(spec, data, d, "normal", 0.01, np.float32, None, None)
    state = initial_state(setup, models(3))
    lowered = compiled_chunk(spec).lower(state, data, np.zeros(0, np.int32), 4)
    dots = [s for s in lowered.as_text().splitlines() if "dot_general" in s]
    assert len(dots) >= 3  # forward, gradient, final evaluation
    assert all("precision = [HIGHEST, HIGHEST]" in s for s in dots), dots


@pytest.mark.parametrize("holdout", [False, True])
def test_bce_loss_is_computed_in_an_xla_loop_not_a_library_fusion(holdout):
    # _loss_sums keeps the loss out of a library (kCustom) fusion, which would
    # first write each of its inputs as an [M, B] array; on a compiler without
    # library fusions there is nothing to find and the test holds trivially
    n, d = 512, 4  # large enough for library fusions to be chosen
    x = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    weights = np.ones((n, 2), np.float32) if holdout else None
    sums = None if weights is None else weights.sum(axis=0)
    data = Data(x, (x[:, :1] > 0).astype(np.float32), weights, sums)
    spec = Spec(loss="bce", holdout=holdout)
    setup = Setup(spec, data, d, "normal", 0.01, np.float32, None, None)
    state = initial_state(setup, models(64))
    lowered = compiled_chunk(spec).lower(state, data, np.zeros(0, np.int32), 4)
    text = lowered.compile().as_text()
    logarithm = re.compile(r" log(-plus-one)?\(")
    assert logarithm.search(text)  # the bce loss is in the program
    custom = {
        line.split("calls=")[1].split(",")[0]
        for line in text.splitlines()
        if "kind=kCustom" in line and "calls=" in line
    }
    bodies = text.split("\n\n")
    for name in custom:
        (body,) = [b for b in bodies if b.startswith(name + " ")]
        assert not logarithm.search(body), body
