"""The JAX programs jaxperc has to beat, written as simply and as fast as we can.

- :class:`PlainJax` (``block_values=None``): one ``jax.jit`` of a ``lax.scan``
  over epochs of a ``jax.vmap`` over models of the hand-derived gradient,
  x shared by every model, no per-epoch history. For sigmoid + MSE:
  z = x·w + b, ŷ = σ(z), δ = (2/n)(ŷ − y)·ŷ(1 − ŷ), ∂C/∂w = xᵀδ, ∂C/∂b = Σδ.
- The hand-blocked variant (``block_values=2**21``): the same program, the rows
  taken in blocks of about ``block_values`` [M, rows] values by a ``lax.scan``
  that adds up each block's gradient, so the [M, rows] intermediates stay in
  cache; the rows left over after the last whole block form one more block.

- ``record_costs=True``: either program also records every epoch's cost (the
  mean loss before that epoch's update), computed in the same pass as the
  gradient, as jaxperc's ``cost_history`` is. Not a target baseline: it shows
  what jaxperc's per-epoch cost costs, like for like.

Weights are per-model vectors (``layout="rows"``, w [M, d]). Columns
(``layout="cols"``, w [d, M]) are kept only so that the benchmark can show they
are slower (see ``extras.block_sweep``). Every program returns the models' final
costs, computed at the final parameters inside the same ``jit``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .workloads import Problem, batch_order

BLOCK_VALUES = 2**21  # [M, rows] values per block: 2^20 and 2^21 measured best


def _terms(loss: str, z, y):
    """Per-row loss and ∂loss/∂z."""
    s = jax.nn.sigmoid(z)
    if loss == "mse":
        e = s - y
        return e * e, 2.0 * e * s * (1.0 - s)
    return jax.nn.softplus(z) - y * z, s - y


def one_model_grad(loss: str, grad: str = "manual", with_cost: bool = False):
    """(w [d], b [], x [r, d], y [r], c) → (∂C/∂w [d], ∂C/∂b []) with row weights c.

    c is 1/n (a scalar) for a full batch, or per-row weights for a mini-batch.
    ``with_cost``: the manual gradient returns Σ c·loss as a third value.
    """
    if with_cost and grad != "manual":
        raise ValueError("with_cost needs grad='manual'")
    if grad == "autodiff":

        def cost(w, b, x, y, c):
            return jnp.sum(c * _terms(loss, x @ w + b, y)[0])

        return jax.grad(cost, argnums=(0, 1))

    def manual(w, b, x, y, c):
        per_row, slope = _terms(loss, x @ w + b, y)
        delta = c * slope
        grads = (x.T @ delta, jnp.sum(delta))
        # with_cost is for full batches, where c is a scalar: scaling the sum,
        # not each row, saves XLA a broadcast [M, rows] array of c per block
        return (*grads, c * jnp.sum(per_row)) if with_cost else grads

    return manual


class PlainJax:
    """The plain program (or, with ``block_values``, the hand-blocked one).

    ``run(epochs)`` → final costs [M] float64; ``temp_bytes(epochs)``: XLA's own
    account of the program's working memory.
    """

    def __init__(
        self,
        problem: Problem,
        *,
        block_values: int | None = None,
        layout: str = "rows",
        grad: str = "manual",
        record_costs: bool = False,
        device=None,
    ):
        if layout not in ("rows", "cols"):
            raise ValueError(f"layout={layout!r}; use 'rows' or 'cols'")
        self.problem, self.layout, self.device = problem, layout, device
        if record_costs and problem.batch_size is not None:
            raise ValueError("record_costs is for full-batch problems")
        self.record_costs = record_costs
        self.grad = one_model_grad(problem.loss, grad, with_cost=record_costs)
        n, m = problem.x.shape[0], problem.n_models
        rows = None if block_values is None else max(1, block_values // m)
        self.rows = None if rows is None or rows >= n else rows
        self.axis = 0 if layout == "rows" else 1
        self._compiled: dict[int, tuple] = {}

    def _put(self, a):
        a = jnp.asarray(a)
        return a if self.device is None else jax.device_put(a, self.device)

    def _data(self, epochs: int) -> tuple:
        """x, y as the program takes them: whole, in blocks or with batch order."""
        p = self.problem
        if p.batch_size is not None:
            return (p.x, p.y, batch_order(p, epochs))
        if self.rows is None:
            return (p.x, p.y)
        whole = p.x.shape[0] // self.rows * self.rows
        xs = p.x[:whole].reshape(-1, self.rows, p.x.shape[1])
        return (xs, p.y[:whole].reshape(-1, self.rows), p.x[whole:], p.y[whole:])

    def _gradients(self, w, b, data):
        """Gradient of all models over the whole data set, for one epoch (and,
        with ``record_costs``, their costs [M] as a third value)."""
        ax, n = self.axis, self.problem.x.shape[0]
        out_axes = (ax, 0, 0) if self.record_costs else (ax, 0)
        g = jax.vmap(self.grad, in_axes=(ax, 0, None, None, None), out_axes=out_axes)
        if self.rows is None:
            return g(w, b, data[0], data[1], 1.0 / n)

        def block(acc, xy):
            sums = g(w, b, xy[0], xy[1], 1.0 / n)
            return tuple(a + s for a, s in zip(acc, sums, strict=True)), None

        xs, ys, x_tail, y_tail = data
        zero = (jnp.zeros_like(w), jnp.zeros_like(b))
        zero += (jnp.zeros_like(b),) if self.record_costs else ()
        acc, _ = jax.lax.scan(block, zero, (xs, ys))
        if x_tail.shape[0]:
            acc, _ = block(acc, (x_tail, y_tail))
        return acc

    def _minibatch_epoch(self, w, b, lr, x, y, batches):
        n = x.shape[0]
        g = jax.vmap(self.grad, in_axes=(0, 0, None, None, None))

        def step(wb, idx):
            valid = (idx < n).astype(x.dtype)
            xb = jnp.take(x, idx, axis=0, mode="fill", fill_value=0)
            yb = jnp.take(y, idx, mode="fill", fill_value=0)
            gw, gb = g(*wb, xb, yb, valid / jnp.sum(valid))
            return (wb[0] - lr[:, None] * gw, wb[1] - lr * gb), None

        return jax.lax.scan(step, (w, b), batches)[0]

    def _costs(self, w, b, data):
        """Final cost of every model on all rows (block by block when blocked)."""
        ax, n, loss = self.axis, self.problem.x.shape[0], self.problem.loss

        def total(x, y):
            one = lambda w, b: jnp.sum(_terms(loss, x @ w + b, y)[0])  # noqa: E731
            return jax.vmap(one, in_axes=(ax, 0))(w, b)

        if self.rows is None:
            return total(*data[:2]) / n
        xs, ys, x_tail, y_tail = data
        sums = jax.lax.map(lambda xy: total(*xy), (xs, ys)).sum(axis=0)
        return (sums + total(x_tail, y_tail)) / n

    def _program(self, epochs: int):
        ax, batched = self.axis, self.problem.batch_size is not None

        def train(w, b, lr, *data):
            lr_w = lr[:, None] if ax == 0 else lr[None, :]

            def epoch(wb, batches):
                if batched:
                    return self._minibatch_epoch(*wb, lr, *data[:2], batches), None
                gw, gb, *cost = self._gradients(*wb, data)
                return (wb[0] - lr_w * gw, wb[1] - lr * gb), (cost or None)

            order = data[2] if batched else None
            (w, b), history = jax.lax.scan(epoch, (w, b), order, length=epochs)
            final = self._costs(w, b, data[:2] if batched else data)
            # the history is returned, so XLA cannot drop the costs it records
            return (final, history[0]) if self.record_costs else final

        return jax.jit(train)

    def compiled(self, epochs: int):
        """The program for ``epochs`` and its arguments, compiled once."""
        if epochs not in self._compiled:
            w0, b0 = self.problem.init
            w0 = w0 if self.axis == 0 else np.ascontiguousarray(w0.T)
            args = (w0, b0, self.problem.learning_rate, *self._data(epochs))
            args = tuple(self._put(a) for a in args)
            program = self._program(epochs).lower(*args).compile()
            self._compiled[epochs] = (program, args)
        return self._compiled[epochs]

    def run(self, epochs: int) -> np.ndarray:
        program, args = self.compiled(epochs)
        out = program(*args)
        return np.asarray(out[0] if self.record_costs else out, np.float64)

    def history(self, epochs: int) -> np.ndarray:
        """Each epoch's costs [epochs, M] (``record_costs`` only)."""
        program, args = self.compiled(epochs)
        return np.asarray(program(*args)[1], np.float64)

    def temp_bytes(self, epochs: int) -> int | None:
        stats = self.compiled(epochs)[0].memory_analysis()
        return None if stats is None else int(stats.temp_size_in_bytes)
