"""Mini-batch row orders: one permutation per epoch, padded, fixed by (seed, epoch)."""

import numpy as np
import pytest

from jaxperc.training.minibatch_orders import batch_orders, chunk_orders
from jaxperc.training.state import Spec


@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (7, 7), (5, 1)])
def test_each_epoch_is_a_permutation_padded_with_n(n, batch_size):
    orders = batch_orders(n, batch_size, seed=3, first_epoch=0, count=4)
    padded = -(-n // batch_size) * batch_size
    assert orders.shape == (4, padded) and orders.dtype == np.int32
    assert padded % batch_size == 0 and padded - n < batch_size
    for row in orders:
        np.testing.assert_array_equal(np.sort(row[:n]), np.arange(n))
        assert (row[n:] == n).all()  # the padding index is one past the last row


def test_epochs_are_shuffled_differently_and_seeds_differ():
    a = batch_orders(50, 8, seed=0, first_epoch=0, count=3)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    b = batch_orders(50, 8, seed=1, first_epoch=0, count=3)
    assert not np.array_equal(a, b)


def test_an_order_depends_only_on_seed_and_epoch():
    whole = batch_orders(20, 6, seed=7, first_epoch=0, count=10)
    # the same epochs drawn as chunks of other lengths (3 + 5 + 2)
    parts = [batch_orders(20, 6, 7, start, count) for start, count in
             ((0, 3), (3, 5), (8, 2))]  # fmt: skip
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_array_equal(batch_orders(20, 6, 7, 4, 1)[0], whole[4])


def test_chunk_orders_pads_the_chunk_to_history_len_with_the_same_epochs():
    spec = Spec(batch_size=4, history_len=8)
    got = chunk_orders(spec, 10, seed=2, first_epoch=5, count=3)
    assert got.shape == (8, 12) and got.dtype == np.int32
    np.testing.assert_array_equal(got[:3], batch_orders(10, 4, 2, 5, 3))
    assert (got[3:] == 0).all()  # unused rows of the chunk: never read


def test_full_batch_has_no_orders():
    got = chunk_orders(Spec(batch_size=None, history_len=8), 10, 0, 0, 8)
    assert got.shape == (0,) and got.dtype == np.int32
