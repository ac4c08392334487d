"""A run laid out before it compiles: chunk and block sizes, the Models record."""

import jax
import numpy as np
import pytest

from jaxperc import training
from jaxperc.core.model import Params
from jaxperc.errors import JaxpercError
from jaxperc.training import plan
from jaxperc.training.optim import make_optimizer
from jaxperc.training.options import PerModel

CPU = jax.devices("cpu")[0]
GD = make_optimizer("gd")


# chunk length -------------------------------------------------------------------


@pytest.mark.parametrize("max_epochs", [1, 7, 50, 1024, 10**6])
@pytest.mark.parametrize("m", [1, 64, 2**16, 2**22])
def test_history_len_bounds_full_batch(max_epochs, m):
    length = plan.default_history_len(max_epochs, None, 100, m)
    assert 1 <= length <= min(max_epochs, 1024)
    # the [M, history_len] histories stay within 2^24 values, or the chunk is the
    # floor of 16 epochs (or max_epochs when fewer)
    assert length * m <= 2**24 or length == min(16, max_epochs)
    if m <= 2**14:  # small grids are not held back
        assert length == min(max_epochs, 1024)


@pytest.mark.parametrize("n", [10, 2**16, 2**24, 2**26])
def test_history_len_bounds_with_minibatches(n):
    length = plan.default_history_len(1000, 32, n, 8)
    assert 1 <= length <= 1000
    assert length * n <= 2**24 or length == 1  # one row order per epoch
    assert length <= plan.default_history_len(1000, None, n, 8)


# row blocks ------------------------------------------------------------------------


@pytest.fixture
def cache_32mib(monkeypatch):
    monkeypatch.setattr(plan, "last_level_cache_bytes", lambda: 32 << 20)


def test_block_rows_is_none_on_small_data(cache_32mib):
    assert plan.default_block_rows(1000, 64, CPU) is None
    assert plan.default_block_rows(4 * 16384 - 1, 64, CPU) is None


@pytest.mark.parametrize("m, rows", [(64, 16384), (1024, 1024)])
def test_block_rows_matches_the_documented_sizes(cache_32mib, m, rows):
    assert plan.default_block_rows(10**7, m, CPU) == rows


@pytest.mark.parametrize("m", [1, 3, 100, 5000, 10**6])
@pytest.mark.parametrize("itemsize", [4, 8])
def test_block_rows_on_big_data_is_a_power_of_two_that_fits(cache_32mib, m, itemsize):
    n = 10**8
    rows = plan.default_block_rows(n, m, CPU, itemsize)
    assert rows is not None and rows & (rows - 1) == 0
    assert 256 <= rows <= 2**20 and n >= 4 * rows
    if rows > 256:  # above the floor, a block fills at most an eighth of the cache
        assert m * rows * itemsize * 8 <= 32 << 20


def test_block_rows_is_none_off_the_cpu():
    class Gpu:
        platform = "gpu"

    assert plan.default_block_rows(10**8, 64, Gpu()) is None


# the Models record ---------------------------------------------------------------


def _models(per, *, weights=None, init=None, opt=GD, columns=(2, 1), d=3):
    return plan.make_models(per, columns, weights, init, opt, d, np.float32)


def test_make_models_broadcasts_scalars_to_the_array_length():
    models = _models(PerModel(seed=[4, 5, 6], learning_rate=0.5, target_index=1))
    assert models.size == 3
    np.testing.assert_array_equal(models.seed, [4, 5, 6])
    assert models.seed.dtype == np.int64
    assert models.learning_rate.dtype == np.float32
    np.testing.assert_array_equal(models.learning_rate, np.full(3, 0.5, np.float32))
    np.testing.assert_array_equal(models.target_index, [1, 1, 1])
    np.testing.assert_array_equal(models.weight_index, [0, 0, 0])
    np.testing.assert_array_equal(models.step, [0, 0, 0])
    assert models.init is None and models.opt_state is None


def test_make_models_all_scalars_is_one_model():
    models = _models(PerModel())
    assert models.size == 1 and models.l2.shape == (1,)


def test_make_models_refuses_arrays_of_different_lengths():
    with pytest.raises(JaxpercError, match="seed: 2, learning_rate: 3"):
        _models(PerModel(seed=[0, 1], learning_rate=[0.1, 0.2, 0.3]))


def test_make_models_refuses_a_target_column_that_is_not_there():
    with pytest.raises(JaxpercError, match=r"target_index must be in 0\.\.1"):
        _models(PerModel(target_index=[0, 2]))


def test_a_weights_column_summing_to_zero_is_refused_only_when_used():
    table = np.ones((5, 3), np.float32)
    table[:, 1] = 0.0
    _models(PerModel(weight_index=[0, 2]), weights=table)  # column 1 unused
    with pytest.raises(JaxpercError, match="weights column 1 sums to 0"):
        _models(PerModel(weight_index=[0, 1, 2]), weights=table)
    with pytest.raises(JaxpercError, match="weights column 1 sums to 0"):
        _models(PerModel(weight_index=0, holdout_index=1), weights=table)


def test_given_params_are_broadcast_to_every_model():
    start = Params(np.array([1.0, 2.0, 3.0]), np.array(-1.0))
    models = _models(PerModel(seed=[0, 1]), init=start)
    assert models.init.w.shape == (2, 3) and models.init.w.dtype == np.float32
    np.testing.assert_array_equal(models.init.w[1], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(models.init.b, [-1.0, -1.0])
    with pytest.raises(JaxpercError, match="must be a scheme name"):
        _models(PerModel(), init="zeros")


@pytest.fixture(scope="module")
def adam_result():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    return training.train_many(
        x, y, seed=[0, 1], optimizer="adam", max_epochs=7, tol=0, batch_size=8
    )


def test_init_from_a_result_carries_its_optimizer_state_and_steps(adam_result):
    adam = make_optimizer("adam")
    models = _models(PerModel(seed=[0, 1]), init=adam_result, opt=adam)
    np.testing.assert_array_equal(models.step, [21, 21])  # 7 epochs × ⌈20 / 8⌉
    assert models.step.dtype == np.int32
    np.testing.assert_array_equal(models.init.w, np.asarray(adam_result.params.w))
    got, want = (
        jax.tree.leaves(models.opt_state),
        jax.tree.leaves(adam_result.opt_state),
    )
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))


def test_init_from_a_result_refuses_another_optimizers_state(adam_result):
    momentum = make_optimizer("momentum")
    with pytest.raises(JaxpercError, match="another optimizer's state"):
        _models(PerModel(seed=[0, 1]), init=adam_result, opt=momentum)


def test_init_from_a_result_refuses_another_number_of_models(adam_result):
    adam = make_optimizer("adam")
    with pytest.raises(JaxpercError, match=r"M = 3; got w \(2, 3\)"):
        _models(PerModel(seed=[0, 1, 2]), init=adam_result, opt=adam)
