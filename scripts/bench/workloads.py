"""The problems every contender trains, and which contenders run each workload.

- S1: one model, breast cancer (569 × 30, standardised), 2000 epochs;
- S2: 256 models (16 seeds × 16 learning rates 1e-3…3), same data, 1000 epochs,
  with variants: cross-entropy, ``grad="autodiff"``, mini-batches of 64;
- S3: 1024 models, synthetic n = 20 000, d = 64, 100 epochs (compute-bound);
- S4: 64 models, synthetic n = 100 000, d = 16, 200 epochs (memory-bound);
- S5 (on a GPU, or when asked for): 16,384 models, synthetic n = 100 000,
  d = 64, 50 epochs: the large sweep, 4·10¹¹ flops an epoch.

Float32, full-batch gradient descent on sigmoid + MSE with the hand-derived
gradient unless stated. Every model starts from
``jaxperc.init_params(jax.random.key(seed), d)``, computed once here and handed
to every contender (jaxperc gets it as ``init=jaxperc.Params(w0, b0)``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

import jaxperc as jp
import jaxperc.data


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

    @functools.cached_property
    def init(self) -> tuple[np.ndarray, np.ndarray]:
        """Every model's starting point.  → w0 [M, d], b0 [M] float32."""
        d = self.x.shape[1]
        keys = jax.vmap(jax.random.key)(jnp.asarray(self.seeds))
        p = jax.vmap(lambda k: jp.init_params(k, d))(keys)
        return np.asarray(p.w, np.float32), np.asarray(p.b, np.float32)


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


@dataclass
class Workload:
    """One job: a problem, its stated epochs and what each contender runs."""

    name: str
    title: str
    problem: Problem
    epochs: int  # the stated job (run once for jaxperc and the baselines)
    timed_epochs: int  # epochs per timed repeat for jaxperc and the JAX baselines
    peer_epochs: int  # epochs per timed repeat for NumPy / PyTorch
    contenders: tuple[str, ...]
    loop_models: int = 0  # Python loop over train(): models timed (extrapolated)
    sklearn_models: int = 0  # scikit-learn: models fitted (extrapolated)
    options: dict = field(default_factory=dict)  # extra train_many keywords


def raw_breast_cancer(dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Breast cancer unscaled, for tasks that fit their scalers per fold."""
    data = jaxperc.data.load_dataset("breast_cancer")
    return data.x.astype(dtype), data.targets()[:, 0].astype(np.float32)


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """Breast cancer standardised on all its rows (training-only workloads)."""
    x, y = raw_breast_cancer(np.float64)
    std = jaxperc.data.fit_standardizer(x)
    return jaxperc.data.apply_standardizer(std, x).astype(np.float32), y


def synthetic(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = jaxperc.data.make_blobs(n, d, margin=0.1, noise=1.0, seed=seed)
    std = jaxperc.data.fit_standardizer(data.x)
    x = jaxperc.data.apply_standardizer(std, data.x).astype(np.float32)
    return x, data.y.astype(np.float32)


def sweep(n_seeds: int, n_rates: int, low=1e-3, high=3.0):
    """Seeds × log-spaced learning rates, flattened (rates fastest)."""
    seeds = np.repeat(np.arange(n_seeds), n_rates)
    rates = np.tile(np.geomspace(low, high, n_rates), n_seeds).astype(np.float32)
    return seeds, rates


FULL = {
    "S1": 2000,
    "S2": (16, 16, 1000),
    "S3": (32, 32, 100),
    "S4": (8, 8, 200),
    "S5": (128, 128, 50),
}
QUICK = {
    "S1": 50,
    "S2": (4, 4, 40),
    "S3": (4, 8, 10),
    "S4": (2, 4, 10),
    "S5": (4, 8, 10),
}
BASE = ("jaxperc", "plain_jax")


def build_workloads(
    quick: bool,
    have_torch: bool,
    have_sklearn: bool,
    *,
    gpu: bool = False,
    large_sweep: bool = False,
):
    """S1, S2 and its variants, S3 and S4 at full (or ``quick``: toy) sizes, and
    S5 on a GPU or with ``large_sweep``.

    On a GPU torch.compile is left out: its compile time there (tens of seconds a
    shape) buys nothing the eager and vmap forms do not show.
    """
    torch_modes = ("torch", "torch_compile", "torch_vmap") if have_torch else ()
    if gpu:
        torch_modes = tuple(t for t in torch_modes if t != "torch_compile")
    peer = ("numpy", *torch_modes)
    sizes = QUICK if quick else FULL
    bc = breast_cancer()
    e1 = sizes["S1"]
    one = Problem(*bc, np.array([0]), np.array([0.5], np.float32))
    title = "one model, breast cancer 569×30"
    out = [Workload("S1", title, one, e1, e1, e1, (*BASE, *peer))]
    out += _s2_family(bc, sizes["S2"], quick, torch_modes, peer, have_sklearn)
    big = {"S3": synthetic(512, 8, 1), "S4": synthetic(2048, 4, 2)}
    if not quick:
        big = {"S3": synthetic(20_000, 64, 1), "S4": synthetic(100_000, 16, 2)}
    blocked = ("blocked_jax", "blocked_jax_costs", "jaxperc_unblocked")
    contenders = (*BASE, *blocked, *peer)
    for name, timed, peer_epochs in (("S3", 20, 5), ("S4", 50, 10)):
        ns, nr, epochs = sizes[name]
        x, y = big[name]
        out.append(
            Workload(
                name,
                f"{ns * nr} models, synthetic {x.shape[0]}×{x.shape[1]}",
                Problem(x, y, *sweep(ns, nr, 1e-2, 3.0)),
                epochs,
                epochs if quick else timed,
                epochs if quick else peer_epochs,
                contenders,
                sklearn_models=2 if have_sklearn else 0,
            )
        )
    if gpu or large_sweep:
        out.append(_large_sweep(sizes["S5"], quick, torch_modes))
    return out


def _large_sweep(size, quick: bool, torch_modes) -> Workload:
    """S5: NumPy is left out (minutes an epoch), so is the hand-blocked program
    (blocks buy nothing where no cache holds x)."""
    ns, nr, epochs = size
    x, y = synthetic(2048, 16, 3) if quick else synthetic(100_000, 64, 3)
    return Workload(
        "S5",
        f"{ns * nr:,} models, synthetic {x.shape[0]:,}×{x.shape[1]}",
        Problem(x, y, *sweep(ns, nr, 1e-2, 3.0)),
        epochs,
        epochs if quick else 20,
        epochs if quick else 5,
        (*BASE, *torch_modes[:1]),
    )


def _s2_family(bc, size, quick, torch_modes, peer, have_sklearn):
    ns, nr, e2 = size
    s2 = Problem(*bc, *sweep(ns, nr))
    title = f"{ns * nr} models, breast cancer"
    out = [
        Workload(
            "S2",
            title,
            s2,
            e2,
            e2,
            e2 if quick else 100,
            (*BASE, "loop", *peer),
            loop_models=4 if quick else 16,
            sklearn_models=(2 if quick else 4) if have_sklearn else 0,
        )
    ]
    for name, loss, grad in (("S2-bce", "bce", "manual"), ("S2-ad", "mse", "autodiff")):
        p = Problem(*bc, s2.seeds, s2.learning_rate, loss=loss)
        extra = ("jaxperc_manual",) if grad == "autodiff" else ()
        out.append(
            Workload(
                name,
                f"{title}, {loss}, {grad} gradient",
                p,
                e2,
                e2,
                e2,
                (*BASE, *extra),
                options={"grad": grad},
            )
        )
    mb = Problem(*bc, s2.seeds, s2.learning_rate, batch_size=64)
    e_mb = 20 if quick else 200
    out.append(
        Workload(
            "S2-mb",
            f"{title}, mini-batches of 64",
            mb,
            e_mb,
            e_mb,
            e_mb // 10,
            (*BASE, "numpy", *torch_modes[:1]),
        )
    )
    return out
