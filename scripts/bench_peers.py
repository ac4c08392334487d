"""The contenders ``scripts/bench.py`` sets beside jaxperc, and the machine's limits.

Every contender trains the same M perceptrons on the same data from the same
starting parameters (drawn with ``jaxperc.init_params``), full-batch gradient
descent on a sigmoid unit, and returns each model's final cost so that the results
can be checked against jaxperc's before anything is timed:

- :class:`MinimalJax`: the smallest honest JAX program for the job: one ``jit``,
  ``lax.scan`` over epochs, ``vmap`` over models, the hand-derived gradient (or
  ``jax.grad``). It is the yardstick for the library's own overhead.
- :class:`NumpyBatched`: the same algebra as [n, M] NumPy matrix products.
- :class:`TorchBatched`: PyTorch eager, ``torch.compile`` and ``torch.func.vmap``
  (only when PyTorch is installed; it is never a dependency of jaxperc).
- :func:`sklearn_fits`: scikit-learn's ``SGDClassifier`` and
  ``LogisticRegression`` fitted model by model (a different algorithm: they are
  compared by accuracy and time per model-epoch, not by cost).

Shapes: x [n, d] float32, y [n] in {0, 1}, parameters w [M, d], b [M].
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

import jaxperc

LOSSES = ("mse", "bce")


@dataclass(frozen=True, eq=False)
class Problem:
    """M models on one data set: what every contender trains."""

    x: np.ndarray  # [n, d] float32
    y: np.ndarray  # [n] float32 targets in {0, 1}
    seeds: np.ndarray  # [M] int, each model's initialisation seed
    learning_rate: np.ndarray  # [M] float32
    loss: str = "mse"  # or "bce"
    batch_size: int | None = None  # None: full batch
    data_seed: int = 0  # seed of the mini-batch order

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    def subset(self, ids) -> Problem:
        """The same job for the models ``ids`` only."""
        ids = np.asarray(ids)
        return Problem(
            self.x,
            self.y,
            self.seeds[ids],
            self.learning_rate[ids],
            self.loss,
            self.batch_size,
            self.data_seed,
        )


def initial_params(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """jaxperc's starting point for every model.  → w0 [M, d], b0 [M] float32."""
    d = problem.x.shape[1]
    keys = jax.vmap(jax.random.key)(jnp.asarray(problem.seeds))
    p = jax.vmap(lambda k: jaxperc.init_params(k, d))(keys)
    return np.asarray(p.w), np.asarray(p.b)


@functools.lru_cache(maxsize=16)
def batch_order(problem: Problem, epochs: int) -> np.ndarray:
    """Mini-batch row indices per epoch, n marking padding.  → [E, batches, b].

    One shuffled order shared by all models, as ``train_many`` draws it: epoch e
    is ``numpy.random.default_rng([data_seed, e]).permutation(n)``, the last batch
    padded with n.
    """
    n, b = problem.x.shape[0], problem.batch_size
    n_batches = -(-n // b)
    order = np.full((epochs, n_batches * b), n, np.int32)
    for e in range(epochs):
        order[e, :n] = np.random.default_rng([problem.data_seed, e]).permutation(n)
    return order.reshape(epochs, n_batches, b)


# --------------------------------------------------------------------------- JAX


def _value_and_grad(loss: str, grad: str):
    """One model's cost and its gradient.  (w [d], b [], x [r, d], y [r], c [r])."""

    def value(w, b, x, y, c):
        z = x @ w + b
        if loss == "mse":
            return jnp.sum(c * (jax.nn.sigmoid(z) - y) ** 2)
        return jnp.sum(c * (jax.nn.softplus(z) - y * z))

    if grad == "autodiff":
        return jax.value_and_grad(value, argnums=(0, 1))

    def manual(w, b, x, y, c):  # δ = ∂C/∂z, then ∂C/∂w = xᵀδ and ∂C/∂b = Σδ
        z = x @ w + b
        s = jax.nn.sigmoid(z)
        if loss == "mse":
            e = s - y
            cost, dz = jnp.sum(c * e * e), c * 2.0 * e * s * (1.0 - s)
        else:
            cost, dz = jnp.sum(c * (jax.nn.softplus(z) - y * z)), c * (s - y)
        return cost, (x.T @ dz, jnp.sum(dz))

    return manual


class MinimalJax:
    """One ``jit``: ``vmap`` over models of a ``lax.scan`` over epochs.

    ``run(epochs)`` returns the final costs [M] (and keeps the cost history
    [M, E], as the library does); ``temp_bytes(epochs)`` is XLA's own account of
    the program's working memory.
    """

    def __init__(self, problem: Problem, *, grad: str = "manual", device=None):
        self.problem = problem
        self.device = device
        put = (lambda a: a) if device is None else (lambda a: jax.device_put(a, device))
        self.put = put
        self.vg = _value_and_grad(problem.loss, grad)
        self.cost = _value_and_grad(problem.loss, "manual")
        self._compiled: dict[int, tuple] = {}

    def _program(self, epochs: int):
        p, vg = self.problem, self.vg
        n, d = p.x.shape

        def train_one(seed, lr, x, y, order):
            init = tuple(jaxperc.init_params(jax.random.key(seed), d))
            full_c = jnp.full((n,), 1.0 / n, x.dtype)

            def full_step(wb, _):
                cost, (gw, gb) = vg(*wb, x, y, full_c)
                return (wb[0] - lr * gw, wb[1] - lr * gb), cost

            def batch_step(wb, idx):
                valid = (idx < n).astype(x.dtype)
                xb = jnp.take(x, idx, axis=0, mode="fill", fill_value=0)
                yb = jnp.take(y, idx, mode="fill", fill_value=0)
                cost, (gw, gb) = vg(*wb, xb, yb, valid / jnp.sum(valid))
                return (wb[0] - lr * gw, wb[1] - lr * gb), cost

            def epoch_step(wb, batches):
                wb, costs = jax.lax.scan(batch_step, wb, batches)
                return wb, jnp.mean(costs)

            if order is None:
                wb, history = jax.lax.scan(full_step, init, None, length=epochs)
            else:
                wb, history = jax.lax.scan(epoch_step, init, order)
            final, _ = self.cost(*wb, x, y, full_c)
            return final, history

        return jax.jit(jax.vmap(train_one, in_axes=(0, 0, None, None, None)))

    def compiled(self, epochs: int):
        """The program for ``epochs`` and its arguments, compiled once."""
        if epochs not in self._compiled:
            p = self.problem
            order = None if p.batch_size is None else batch_order(p, epochs)
            args = tuple(
                None if a is None else self.put(jnp.asarray(a))
                for a in (p.seeds, p.learning_rate, p.x, p.y, order)
            )
            program = self._program(epochs).lower(*args).compile()
            self._compiled[epochs] = (program, args)
        return self._compiled[epochs]

    def run(self, epochs: int) -> np.ndarray:
        program, args = self.compiled(epochs)
        final, history = program(*args)
        history.block_until_ready()
        return np.asarray(final, np.float64)

    def temp_bytes(self, epochs: int) -> int | None:
        stats = self.compiled(epochs)[0].memory_analysis()
        return None if stats is None else int(stats.temp_size_in_bytes)


# ------------------------------------------------------------------------- NumPy


class NumpyBatched:
    """All M models as [n, M] NumPy matrix products, in place where possible."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.w0, self.b0 = initial_params(problem)
        self.x = np.ascontiguousarray(problem.x, np.float32)
        self.y = problem.y.astype(np.float32)[:, None]
        self.lr = problem.learning_rate.astype(np.float32)

    def _grad(self, w, b, x, y, c):
        """Cost [M] and gradient of rows x [r, d] with coefficients c [r, 1]."""
        z = x @ w.T
        z += b
        s = np.empty_like(z)
        with np.errstate(over="ignore"):
            np.exp(np.negative(z, out=s), out=s)
        s += 1.0
        np.reciprocal(s, out=s)  # σ(z)
        if self.problem.loss == "mse":
            e = s - y
            cost = c.T @ (e * e)
            s *= 1.0 - s  # σ'(z)
            e *= s
            e *= 2.0 * c  # δ
        else:
            cost = c.T @ (np.logaddexp(0.0, z, dtype=np.float32) - y * z)
            e = s
            e -= y
            e *= c
        return cost[0], e.T @ x, e.sum(axis=0)

    def run(self, epochs: int) -> np.ndarray:
        w, b = self.w0.copy(), self.b0.copy()
        n = self.x.shape[0]
        full_c = np.full((n, 1), 1.0 / n, np.float32)
        step = self.lr[:, None]
        if self.problem.batch_size is None:
            for _ in range(epochs):
                _, gw, gb = self._grad(w, b, self.x, self.y, full_c)
                w -= step * gw
                b -= self.lr * gb
        else:
            xp = np.vstack([self.x, np.zeros((1, self.x.shape[1]), np.float32)])
            yp = np.vstack([self.y, np.zeros((1, 1), np.float32)])
            for batches in batch_order(self.problem, epochs):
                for idx in batches:
                    c = (idx < n).astype(np.float32)[:, None]
                    c /= c.sum()
                    _, gw, gb = self._grad(w, b, xp[idx], yp[idx], c)
                    w -= step * gw
                    b -= self.lr * gb
        return self._grad(w, b, self.x, self.y, full_c)[0].astype(np.float64)


# ----------------------------------------------------------------------- PyTorch


def torch_cuda_available() -> bool:
    if not torch_available():
        return False
    import torch

    return bool(torch.cuda.is_available())


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class TorchBatched:
    """PyTorch, in one of three forms.

    ``"eager"``: batched matrix products; ``"compile"``: the same epoch step
    through ``torch.compile``; ``"vmap"``: one model's step mapped over the models
    with ``torch.func.vmap``. Mini-batches are supported in eager mode only.
    """

    MODES = ("eager", "compile", "vmap")

    def __init__(self, problem: Problem, mode: str = "eager", device: str = "cpu"):
        import torch

        self.torch, self.problem, self.mode = torch, problem, mode
        self.device = torch.device(device)
        w0, b0 = initial_params(problem)

        def put(a):
            return torch.from_numpy(np.array(a, np.float32)).to(self.device)

        self.w0, self.b0, self.x = put(w0), put(b0), put(problem.x)
        self.y, self.lr = put(problem.y), put(problem.learning_rate)
        if mode == "eager":
            self.step = self._batched_step
        elif mode == "compile":
            self.step = torch.compile(self._batched_step, dynamic=False)
        elif mode == "vmap":
            self.step = torch.func.vmap(self._one_step, in_dims=(0, 0, 0, None, None))
        else:
            raise ValueError(f"mode={mode!r}; use one of {self.MODES}")

    def _terms(self, z, y):
        """Per-sample loss and ∂l/∂z from z [r, ...] and y broadcastable to it."""
        torch = self.torch
        s = torch.sigmoid(z)
        if self.problem.loss == "mse":
            e = s - y
            return e * e, 2.0 * e * s * (1.0 - s)
        return torch.nn.functional.softplus(z) - y * z, s - y

    def _batched_step(self, w, b, lr, x, y):
        z = torch_addmm(self.torch, b, x, w)  # [r, M]
        loss, dz = self._terms(z, y[:, None])
        dz = dz / x.shape[0]
        w = w - lr[:, None] * (dz.T @ x)
        return w, b - lr * dz.sum(0), loss.mean(0)

    def _one_step(self, w, b, lr, x, y):
        loss, dz = self._terms(x @ w + b, y)
        dz = dz / x.shape[0]
        return w - lr * (x.T @ dz), b - lr * dz.sum(), loss.mean()

    def _sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def run(self, epochs: int) -> np.ndarray:
        torch = self.torch
        # XLA flushes subnormal numbers to zero on a CPU; do the same here, or
        # saturated sigmoids make PyTorch many times slower.
        torch.set_flush_denormal(True)
        try:
            return self._run(epochs)
        finally:
            torch.set_flush_denormal(False)

    def _run(self, epochs: int) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            w, b = self.w0.clone(), self.b0.clone()
            if self.problem.batch_size is None:
                for _ in range(epochs):
                    w, b, _ = self.step(w, b, self.lr, self.x, self.y)
            else:
                w, b = self._minibatch(w, b, epochs)
            final = self._batched_step(w, b, self.lr, self.x, self.y)[2]
            self._sync()
            return final.double().cpu().numpy()

    def _minibatch(self, w, b, epochs):
        torch = self.torch
        n = self.x.shape[0]
        xp = torch.cat([self.x, self.x.new_zeros((1, self.x.shape[1]))])
        yp = torch.cat([self.y, self.y.new_zeros((1,))])
        order = torch.from_numpy(np.array(batch_order(self.problem, epochs)))
        order = order.to(self.device)
        for batches in order:
            for idx in batches:
                valid = (idx < n).to(xp.dtype)[:, None]
                z = torch_addmm(torch, b, xp[idx], w)
                _, dz = self._terms(z, yp[idx][:, None])
                dz = dz * (valid / valid.sum())
                w = w - self.lr[:, None] * (dz.T @ xp[idx])
                b = b - self.lr * dz.sum(0)
        return w, b


def torch_addmm(torch, b, x, w):
    """z = x wᵀ + b as one fused call.  x [r, d], w [M, d], b [M] → [r, M]."""
    return torch.addmm(b, x, w.T)


# ------------------------------------------------------------------ scikit-learn


def sklearn_available() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def sklearn_fits(problem: Problem, kind: str, ids, epochs: int) -> dict:
    """Fit scikit-learn's ``kind`` once per model in ``ids``; time and accuracy.

    ``"sgd"``: ``SGDClassifier(loss="log_loss")`` for ``epochs`` passes with its
    default step schedule (``tol=None`` so it runs them all). ``"logreg"``:
    ``LogisticRegression`` (L-BFGS, C=1) to its own tolerance; an "epoch" is then
    one of its iterations. Both differ from jaxperc's gradient descent, so only
    their time and training accuracy are compared.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    x, y = problem.x, problem.y.astype(int)
    seconds, accuracy, iterations = [], [], []
    for m in np.asarray(ids):
        if kind == "sgd":
            model = SGDClassifier(
                loss="log_loss", max_iter=epochs, tol=None, random_state=int(m)
            )
        else:
            model = LogisticRegression(C=1.0, max_iter=10_000)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)
        seconds.append(time.perf_counter() - start)
        accuracy.append(model.score(x, y))
        iterations.append(int(np.max(model.n_iter_)))
    return {
        "seconds_per_model": float(np.median(seconds)),
        "epochs_per_model": float(np.median(iterations)),
        "accuracy": float(np.mean(accuracy)),
        "models_fitted": len(seconds),
    }


# ------------------------------------------------------------------ the machine


def _median_seconds(fn, repeats: int) -> float:
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def matmul_seconds(n, d, m, *, device=None, repeats=5, inner=4) -> dict:
    """Seconds for the two products of an epoch at its own shapes.

    Forward ``[n, d] × [d, M]`` and gradient ``[M, n] × [n, d]``, each run
    ``inner`` times inside one compiled loop (a loop-dependent shift keeps XLA from
    hoisting it; summing the forward product reads it once more).
    """
    put = (lambda a: a) if device is None else (lambda a: jax.device_put(a, device))
    rng = np.random.default_rng(0)
    x = put(jnp.asarray(rng.normal(size=(n, d)), jnp.float32))
    w = put(jnp.asarray(rng.normal(size=(d, m)), jnp.float32))
    delta = put(jnp.asarray(rng.normal(size=(n, m)), jnp.float32))

    @jax.jit
    def forward(x, w):
        body = lambda i, acc: acc + jnp.sum(x @ (w + i.astype(w.dtype)))  # noqa: E731
        return jax.lax.fori_loop(0, inner, body, jnp.float32(0))

    @jax.jit
    def backward(delta, x):
        def body(i, acc):
            return acc + delta.T @ (x + i.astype(x.dtype))

        return jax.lax.fori_loop(0, inner, body, jnp.zeros((m, d), x.dtype))

    fwd = _median_seconds(lambda: forward(x, w), repeats) / inner
    bwd = _median_seconds(lambda: backward(delta, x), repeats) / inner
    return {"forward_s": fwd, "gradient_s": bwd, "flops_each": 2.0 * n * d * m}


def peak_matmul_flops(*, device=None, size=2048, repeats=5) -> float:
    """Sustained fp32 FLOP/s of a square jitted matrix product (size³)."""
    put = (lambda a: a) if device is None else (lambda a: jax.device_put(a, device))
    a = put(jnp.asarray(np.random.default_rng(0).normal(size=(size, size)), "f4"))

    @jax.jit
    def prod(a):
        body = lambda i, acc: acc + a @ (acc * 1e-9 + a)  # noqa: E731
        return jax.lax.fori_loop(0, 4, body, jnp.zeros_like(a))

    return 4 * 2.0 * size**3 / _median_seconds(lambda: prod(a), repeats)


def stream_bandwidth(*, device=None, mib=256, repeats=5) -> dict:
    """Streaming memory bandwidth, bytes/s: a jitted sum (read) and a copy."""
    n = mib * 2**20 // 4
    host = np.ones(n, np.float32)
    big = jnp.asarray(host) if device is None else jax.device_put(host, device)
    total = jax.jit(jnp.sum)
    read = host.nbytes / _median_seconds(lambda: total(big), repeats)
    out = {"jax_sum_read": read}
    if device is None or device.platform == "cpu":
        dest = np.empty_like(host)
        copy = _median_seconds(lambda: np.copyto(dest, host), repeats)
        out["numpy_copy_read_write"] = 2 * host.nbytes / copy
    return out


# ---------------------------------------------------------------- memory probes


def stable_malloc(threshold: int = 1 << 20) -> bool:
    """Make glibc hand large blocks straight back to the system, so RSS shows them.

    By default glibc raises its mmap threshold after a large free and then keeps
    freed blocks in the heap, which hides a second run's working memory.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    ok = libc.mallopt(m_mmap_threshold, threshold) == 1
    ok &= libc.mallopt(m_trim_threshold, threshold) == 1
    libc.malloc_trim(0)
    return bool(ok)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_delta(fn, interval: float = 2e-4) -> int | None:
    """Peak resident memory while ``fn()`` runs, above the level before it (bytes).

    A thread samples /proc/self/statm; Linux only (None elsewhere).
    """
    if not os.path.exists("/proc/self/statm"):
        return None
    base = _rss_bytes()
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    return max(peak[0], _rss_bytes()) - base
