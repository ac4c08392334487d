"""Who runs a workload: each contender as ``run(epochs)`` → final costs [M].

jaxperc is called through its public API with ``tol=0`` (every model runs the
stated epochs) and ``init=jaxperc.Params(w0, b0)``, the starting point every
other contender uses too.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

import jaxperc as jp

from . import peers
from .baselines import BLOCK_VALUES, PlainJax
from .workloads import Problem, Workload

BASELINES = ("plain_jax", "blocked_jax")  # jaxperc's targets are against these
# the hand-blocked program recording each epoch's cost, as jaxperc does: shown
# beside the baselines, like for like, and not a target
LIKE_FOR_LIKE = "blocked_jax_costs"


@dataclass
class Entry:
    """A timed contender: ``run(epochs)`` → final costs of its models."""

    name: str
    run: object
    epochs: int
    models: int  # models the run trains
    scale: float = 1.0  # × to extrapolate to all of the workload's models
    program: object = None  # a PlainJax, for memory_analysis
    note: str = ""


def _resident(x, device):
    """x on the device once, as the JAX baselines hold theirs: every JAX
    contender then starts each call from the same device-resident data."""
    return jax.device_put(jnp.asarray(x), device)


def jaxperc_trainer(problem: Problem, device, **options):
    """``train(epochs)`` → the ``train_many`` result for all the problem's models."""
    w0, b0 = problem.init
    x = _resident(problem.x, device)

    def train(epochs):
        return jp.train_many(
            x,
            problem.y,
            seed=problem.seeds,
            learning_rate=problem.learning_rate,
            loss=problem.loss,
            batch_size=problem.batch_size,
            data_seed=problem.data_seed,
            max_epochs=epochs,
            tol=0,
            init=jp.Params(w0, b0),
            device=device,
            **options,
        )

    return train


def jaxperc_many(problem: Problem, device, **options):
    """One ``train_many`` call for all the problem's models → final costs."""
    train = jaxperc_trainer(problem, device, **options)
    return lambda epochs: np.asarray(train(epochs).cost, np.float64)


def jaxperc_loop(problem: Problem, device):
    """``jaxperc.train`` for a single model (S1) or a Python loop of them."""
    w0, b0 = problem.init
    x = _resident(problem.x, device)

    def run(epochs):
        costs = []
        for i, rate in enumerate(problem.learning_rate):
            result = jp.train(
                x,
                problem.y,
                learning_rate=float(rate),
                loss=problem.loss,
                max_epochs=epochs,
                tol=0,
                init=jp.Params(w0[i], b0[i]),
                device=device,
            )
            costs.append(float(result.cost))
        return np.asarray(costs)

    return run


def _jaxperc_entry(name, wl: Workload, device) -> Entry:
    p, m, ep = wl.problem, wl.problem.n_models, wl.timed_epochs
    if name == "jaxperc" and m == 1:
        return Entry(name, jaxperc_loop(p, device), ep, m, note="train")
    if name == "jaxperc":
        return Entry(
            name, jaxperc_many(p, device, **wl.options), ep, m, note="train_many"
        )
    if name == "jaxperc_unblocked":
        run = jaxperc_many(p, device, block_rows=None, **wl.options)
        return Entry(name, run, ep, m, note="block_rows=None")
    run = jaxperc_many(p, device, **{**wl.options, "grad": "manual"})
    return Entry(name, run, ep, m, note='grad="manual"')


def _loop_entry(wl: Workload, device) -> Entry:
    m = wl.problem.n_models
    k = min(wl.loop_models, m)
    ids = subset_ids(m, k)
    run = jaxperc_loop(wl.problem.subset(ids), device)
    note = f"{k} of {m} models timed, extrapolated"
    return Entry("loop", run, wl.timed_epochs, k, scale=m / k, note=note)


def subset_ids(m: int, k: int) -> np.ndarray:
    return np.linspace(0, m - 1, k).astype(int)


def make_entry(name: str, wl: Workload, jax_device, torch_device: str) -> Entry:
    p, m = wl.problem, wl.problem.n_models
    if name.startswith("jaxperc"):
        return _jaxperc_entry(name, wl, jax_device)
    if name in BASELINES:
        block = BLOCK_VALUES if name == "blocked_jax" else None
        grad = wl.options.get("grad", "manual")
        prog = PlainJax(p, block_values=block, grad=grad, device=jax_device)
        note = f"{prog.rows or p.x.shape[0]} rows per block" if block else ""
        return Entry(name, prog.run, wl.timed_epochs, m, program=prog, note=note)
    if name == LIKE_FOR_LIKE:
        prog = PlainJax(
            p, block_values=BLOCK_VALUES, record_costs=True, device=jax_device
        )
        note = f"{prog.rows} rows per block, each epoch's cost recorded"
        return Entry(name, prog.run, wl.timed_epochs, m, program=prog, note=note)
    if name == "loop":
        return _loop_entry(wl, jax_device)
    if name == "numpy":
        return Entry(name, peers.NumpyBatched(p).run, wl.peer_epochs, m)
    if name.startswith("torch"):
        mode = {"torch": "eager", "torch_compile": "compile"}.get(name, "vmap")
        t = peers.TorchBatched(p, mode, torch_device)
        return Entry(name, t.run, wl.peer_epochs, m, note=mode)
    raise ValueError(f"unknown contender {name!r}")


def make_entries(wl: Workload, jax_device, torch_device: str = "cpu") -> list[Entry]:
    return [make_entry(name, wl, jax_device, torch_device) for name in wl.contenders]
