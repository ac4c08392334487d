"""The host side of training: chunk lengths, and compaction that changes nothing.

Compaction moves the still-running models into a smaller compiled batch; the oracle
is the same run with ``compact=False``, which must agree bit for bit.
"""

import itertools

import numpy as np
import pytest

from jaxperc import training
from jaxperc.errors import NotConvergedWarning
from jaxperc.training import driver


def _first(history_len: int, count: int) -> list[int]:
    return list(itertools.islice(driver._chunk_lengths(history_len), count))


def test_chunk_lengths_double_from_32_up_to_history_len():
    assert _first(1024, 7) == [32, 64, 128, 256, 512, 1024, 1024]
    assert _first(100, 4) == [32, 64, 100, 100]
    assert _first(10, 3) == [10, 10, 10]


def test_chunk_lengths_without_growth_are_all_history_len():
    chunks = driver._chunk_lengths(100, grow=False)
    assert list(itertools.islice(chunks, 3)) == [100, 100, 100]


@pytest.mark.filterwarnings("ignore::jaxperc.errors.NotConvergedWarning")
@pytest.mark.parametrize(
    ("m", "compact", "tol", "grows"),
    [
        (1, True, 1e-9, False),  # one model: nothing to compact
        (4, False, 1e-9, False),  # compaction off
        (4, True, 0.0, False),  # no stopping rule: every model runs to the end
        (4, True, 1e-9, True),
    ],
)
def test_chunks_grow_only_if_something_happens_between(
    monkeypatch, m, compact, tol, grows
):
    """No callback and nothing to compact: full chunks, one host round trip each."""
    x, y = _data()
    lengths = []
    real = driver.compiled_chunk

    def counting(spec):
        run = real(spec)

        def wrapped(state, data, orders, n_epochs):
            lengths.append(n_epochs)
            return run(state, data, orders, n_epochs)

        return wrapped

    monkeypatch.setattr(driver, "compiled_chunk", counting)
    kw = dict(max_epochs=300, tol=tol, history_len=128, compact=compact)
    training.train_many(x, y, seed=np.arange(m), **kw)
    assert lengths == ([32, 64, 128, 128] if grows else [128, 128, 128])


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    y = (x @ np.array([1.0, -1.0]) + 0.5 * rng.normal(size=n) > 0).astype(np.float32)
    return x, y


def test_the_callback_sees_the_chunk_boundaries():
    x, y = _data()
    seen = []
    training.train_many(x, y, max_epochs=300, tol=0, history_len=128,
                        callback=lambda p: seen.append(p.epoch))  # fmt: skip
    assert seen == [32, 32 + 64, 32 + 64 + 128]  # the last chunk ends the run


# compaction --------------------------------------------------------------------

M = 16


@pytest.fixture(scope="module")
def early_stopping_grid():
    """16 models, 12 of which stop after a few epochs (a tiny learning rate makes
    the cost change fall below tol at once); the other 4 run to max_epochs."""
    x, y = _data()
    lrs = np.where(np.arange(M) % 4 == 0, 2.0, 1e-7).astype(np.float32)
    kw = dict(seed=np.arange(M), learning_rate=lrs, max_epochs=50, tol=1e-5)
    return x, y, dict(kw, patience=2, history_len=8, record_accuracy=True)


def _train(x, y, kw, **more):
    with pytest.warns(NotConvergedWarning, match=r"4 of 16 models stopped"):
        return training.train_many(x, y, **kw, **more)


def test_compaction_moves_the_running_models_to_a_smaller_batch(
    early_stopping_grid, monkeypatch
):
    x, y, kw = early_stopping_grid
    sizes = []
    real = driver.shard_models

    def spy(state, mesh):
        sizes.append(int(state.stop.shape[0]))
        return real(state, mesh)

    monkeypatch.setattr(driver, "shard_models", spy)
    result = _train(x, y, kw)
    assert (result.stop_reason == "max_epochs").sum() == 4
    assert sizes[0] == M and min(sizes) == 4  # 4 running models, a power of two


def test_compaction_gives_bitwise_the_same_result(early_stopping_grid):
    x, y, kw = early_stopping_grid
    a = _train(x, y, kw, compact=True)
    b = _train(x, y, kw, compact=False)
    assert len(set(a.epochs.tolist())) >= 2  # models stopped at different epochs
    for field in ("cost", "accuracy", "epochs", "converged", "diverged",
                  "stop_reason", "steps"):  # fmt: skip
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(a.cost_history, b.cost_history)  # NaNs equal
    np.testing.assert_array_equal(a.accuracy_history, b.accuracy_history)
    for got, want in ((a.params.w, b.params.w), (a.params.b, b.params.b)):
        assert got.dtype == want.dtype == np.float32
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
