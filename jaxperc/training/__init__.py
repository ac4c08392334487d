"""Many perceptrons, compiled: ``train`` / ``train_many`` and what they run on.

May import :mod:`jaxperc.core` and :mod:`jaxperc.errors`, never the experiment layer
or the data layer. Files are named by the side of ``jit`` they live on:

- host side, before compiling: ``api`` (the public functions), ``options`` (the
  typed request), ``plan`` (the Spec, Models and shared Data of a run), ``checks``
  (argument validation), ``sparse`` (the compressed layout of a sparse x and its
  two products), ``state`` (the records the loop carries and their initial
  values), ``passes`` (memory-sized passes);
- compiled: ``objective`` (cost and gradient of M models in row blocks), ``loop``
  (one epoch, the stopping rules, a chunk of epochs, the final evaluation);
- host side, between chunks: ``driver`` (chunks, compaction, checkpoints),
  ``minibatch_orders`` (the rows of each mini-batch);
- after training: ``convergence`` (the one not-converged warning);
- around them: ``optim``, ``grid``, ``checkpoint``, ``sharding``, ``distributed``,
  ``cache``.
"""

from jaxperc.training.api import train, train_many, train_models
from jaxperc.training.cache import enable_compilation_cache
from jaxperc.training.checkpoint import RunState, load_run_state, save_run_state
from jaxperc.training.driver import Progress, TrainResult
from jaxperc.training.grid import Grid, make_grid
from jaxperc.training.optim import (
    OPTIMIZERS,
    SCHEDULES,
    make_optimizer,
    make_schedule,
    optimizer_options,
    schedule_options,
)
from jaxperc.training.options import PerModel, TrainOptions
from jaxperc.training.sharding import model_mesh
from jaxperc.training.state import STOP_REASONS

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "STOP_REASONS",
    "Grid",
    "PerModel",
    "Progress",
    "RunState",
    "TrainOptions",
    "TrainResult",
    "enable_compilation_cache",
    "load_run_state",
    "make_grid",
    "make_optimizer",
    "make_schedule",
    "model_mesh",
    "optimizer_options",
    "save_run_state",
    "schedule_options",
    "train",
    "train_many",
    "train_models",
]
