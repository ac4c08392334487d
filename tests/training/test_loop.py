"""The compiled engine: batched gradients, row blocks, memory, chunks and resume."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxperc as jp
from jaxperc.training.objective import batched_terms
from jaxperc.training.state import Data, Spec

from ._records import chunk_temp_bytes, models

# the test runs a fixed number of epochs with a tol set: the warning is expected
RUNS_OUT_OF_EPOCHS = pytest.mark.filterwarnings(
    "ignore::jaxperc.errors.NotConvergedWarning"
)


def problem(n=300, d=5, m=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    targets = (rng.uniform(size=(n, 3)) > 0.5).astype(np.float64)
    weights = rng.uniform(size=(n, 2))
    params = jp.Params(w=rng.normal(size=(m, d)), b=rng.normal(size=(m,)))
    return x, targets, weights, params


@pytest.mark.parametrize(
    "loss,activation",
    [("mse", "sigmoid"), ("mse", "tanh"), ("mse", "identity"), ("bce", "sigmoid")],
)
@pytest.mark.parametrize("grad", ["manual", "autodiff"])
def test_batched_terms_equal_vmapped_single_model_gradients(loss, activation, grad):
    """The matrix form of the engine equals manual_grad of each model (float64)."""
    with jax.enable_x64(True):
        x, targets, weights, params = problem()
        ti, wi = jnp.array([0, 1, 2, 0]), jnp.array([1, 0, 1, 1])
        scale = 1.0 / weights.sum(0)[wi]
        spec = Spec(loss=loss, activation=activation, grad=grad)
        t = batched_terms(spec, params, x, targets, weights, scale, ti, wi)
        for m in range(4):
            p = jp.Params(params.w[m], params.b[m])
            kw = dict(loss=loss, activation=activation, weights=weights[:, wi[m]])
            g = jp.manual_grad(p, x, targets[:, ti[m]], **kw)
            c = jp.cost(p, x, targets[:, ti[m]], **kw)
            np.testing.assert_allclose(t.grads.w[m], g.w, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(t.grads.b[m], g.b, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(t.cost[m], c, rtol=1e-12)


def test_row_blocks_give_the_same_training_as_one_pass():
    with jax.enable_x64(True):
        x, targets, weights, _ = problem(n=1000)
        kw = dict(
            seed=np.arange(3),
            learning_rate=0.5,
            max_epochs=50,
            tol=0,
            dtype="float64",
            weights=weights[:, 0],
        )
        one = jp.train_many(x, targets[:, 0], block_rows=None, **kw)
        blocked = jp.train_many(x, targets[:, 0], block_rows=96, **kw)  # with a tail
        np.testing.assert_allclose(blocked.params.w, one.params.w, rtol=1e-12)
        np.testing.assert_allclose(blocked.cost_history, one.cost_history, rtol=1e-12)


def chunk_memory(m, n=8192, d=16, block_rows=None):
    spec = Spec(block_rows=block_rows, history_len=32, tol=0.0)
    data = Data(jnp.zeros((n, d)), jnp.zeros((n, 1)), None, None)
    return chunk_temp_bytes(spec, data, models(m), d)


def test_memory_grows_like_n_times_m_never_n_times_m_times_d():
    """Working memory from XLA's own analysis of the compiled chunk, float32."""
    n, d = 8192, 16
    # one pass: three [M, n] arrays live at once (z, σ(−|z|), δ)
    for block_rows, per_nm in ((None, 3.2), (512, 1.2)):
        small, large = (
            chunk_memory(64, n, d, block_rows),
            chunk_memory(128, n, d, block_rows),
        )
        # O(n·M): doubling M adds at most per_nm · n·ΔM·4 bytes (x is never copied
        # per model, which would add n·d·ΔM·4 = 16× more)
        assert large - small <= per_nm * n * 64 * 4
        assert large <= per_nm * n * 128 * 4 + 4 * 128 * (d + 64) * 4
    # cache-sized row blocks keep the working memory within 1.2 × n·M·4 bytes
    assert chunk_memory(128, n, d, 512) <= 1.2 * n * 128 * 4


@RUNS_OUT_OF_EPOCHS
def test_resume_from_a_checkpoint_is_bitwise_identical():
    x, targets, _, _ = problem(n=400)
    kw = dict(
        seed=np.arange(6),
        learning_rate=np.geomspace(0.05, 3, 6),
        max_epochs=700,
        tol=1e-6,
        history_len=64,
        batch_size=100,
    )
    full = jp.train_many(x, targets[:, 0], **kw)
    saved = []

    def stop_after_three_chunks(progress):
        saved.append(progress.checkpoint())
        if len(saved) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jp.train_many(x, targets[:, 0], callback=stop_after_three_chunks, **kw)
    resumed = jp.train_many(x, targets[:, 0], resume=saved[-1], **kw)
    assert np.array_equal(resumed.params.w, full.params.w)
    assert np.array_equal(resumed.epochs, full.epochs)
    assert np.array_equal(resumed.cost_history, full.cost_history, equal_nan=True)


def test_checkpoint_round_trips_through_a_file_and_mismatch_is_refused(tmp_path):
    x, targets, _, _ = problem(n=200)
    kw = dict(seed=np.arange(3), max_epochs=200, tol=0, history_len=32)
    snaps = []
    jp.train_many(
        x, targets[:, 0], callback=lambda p: snaps.append(p.checkpoint()), **kw
    )
    path = tmp_path / "ck.npz"
    jp.save_run_state(path, snaps[0])
    loaded = jp.load_run_state(path)
    full = jp.train_many(x, targets[:, 0], **kw)
    again = jp.train_many(x, targets[:, 0], resume=loaded, **kw)
    assert np.array_equal(again.params.w, full.params.w)
    with pytest.raises(jp.CheckpointError, match="does not match"):
        jp.train_many(x, targets[:, 0], **{**kw, "seed": np.arange(4)}, resume=loaded)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(jp.CheckpointError, match="corrupt"):
        jp.load_run_state(path)


def test_progress_reports_between_chunks():
    x, targets, _, _ = problem(n=200)
    seen = []
    jp.train_many(
        x,
        targets[:, 0],
        seed=np.arange(2),
        max_epochs=300,
        tol=0,
        history_len=64,
        callback=seen.append,
    )
    epochs = [p.epoch for p in seen]
    assert epochs == sorted(epochs) and epochs[0] > 0 and epochs[-1] < 300
    assert all(p.n_models == 2 and p.max_epochs == 300 for p in seen)
