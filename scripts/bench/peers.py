"""NumPy, PyTorch and scikit-learn contenders.

Each trains the same M perceptrons on the same data from the same starting
parameters (``Problem.init``) and returns every model's final cost, so the
results can be checked before anything is timed:

- :class:`NumpyBatched`: the same algebra as [n, M] NumPy matrix products;
- :class:`TorchBatched`: PyTorch eager, ``torch.compile`` and ``torch.func.vmap``
  (only when PyTorch is installed; it is never a dependency of jaxperc);
- :func:`sklearn_fits`: ``SGDClassifier`` and ``LogisticRegression`` fitted model
  by model (a different algorithm: compared by accuracy and time per
  model-epoch, not by cost).

Shapes: x [n, d] float32, y [n] in {0, 1}, parameters w [M, d], b [M].
"""

from __future__ import annotations

import time

import numpy as np

from .workloads import Problem, batch_order

# ------------------------------------------------------------------------- NumPy


class NumpyBatched:
    """All M models as [n, M] NumPy matrix products, in place where possible."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.w0, self.b0 = problem.init
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
        w0, b0 = problem.init

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
