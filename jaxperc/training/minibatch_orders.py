"""Mini-batch orders: which rows each mini-batch of an epoch takes.

Drawn on the host with numpy, one chunk of epochs at a time, and passed into the
compiled chunk: on a CPU, XLA's sort (what ``jax.random.permutation`` uses) costs
more than a small epoch itself (80 µs for 569 rows, 20–40 ms for 100,000). Every
order depends only on the seed and the epoch, so chunks, resumed runs and separate
``train`` calls agree.
"""

import numpy as np


def batch_orders(n: int, batch_size: int, seed: int, first_epoch: int, count: int):
    """Shuffled row orders of ``count`` epochs, drawn on the host.  → [count, N].

    Epoch e's order is ``numpy.random.default_rng([seed, e]).permutation(n)``,
    padded with n to N = ⌈n / batch_size⌉ · batch_size: it depends only on the seed
    and the epoch, so chunks, resumes and separate runs agree. (XLA's sort on a
    CPU would cost more than a small epoch itself.)
    """
    padded = -(-n // batch_size) * batch_size
    out = np.full((count, padded), n, np.int32)
    for k in range(count):
        out[k, :n] = np.random.default_rng([seed, first_epoch + k]).permutation(n)
    return out


def chunk_orders(spec, n: int, seed: int, first_epoch: int, count: int):
    """The ``orders`` argument of a chunk of ``count`` epochs → [history_len, N]."""
    if spec.batch_size is None:
        return np.zeros((0,), np.int32)
    orders = batch_orders(n, spec.batch_size, seed, first_epoch, count)
    return np.pad(orders, ((0, spec.history_len - count), (0, 0)))
