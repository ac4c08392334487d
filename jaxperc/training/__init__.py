"""Many perceptrons, compiled: ``train`` / ``train_many`` and what they run on.

May import :mod:`jaxperc.core` and :mod:`jaxperc.errors`, never the experiment layer
or the data layer. Files are named by the side of ``jit`` they live on:

- host side, before compiling: ``api`` (the public functions), ``checks`` (argument
  validation), ``sparse`` (the compressed layout of a sparse x and its two
  products), ``state (the records the loop carries and their initial values),
  ``passes`` (memory-sized passes over the model axis);
- compiled: ``objective`` (cost and gradient of M models in row blocks), ``loop``
  (one epoch, the stopping rules, a chunk of epochs, the final evaluation);
- host side, between chunks: ``driver`` (chunks, compaction, checkpoints),
  ``minibatch_orders`` (the rows of each mini-batch);
- around them: ``optim``, ``grid``, ``checkpoint``, ``sharding``, ``distributed``,
  ``cache``.
"""

from jaxperc.training.api import train, train_many
from jaxperc.training.cache import enable_compilation_cache
from jaxperc.training.checkpoint import RunState, load_run_state, save_run_state
from jaxperc.training.driver import Progress, TrainResult
from jaxperc.training.grid import Grid, make_grid
from jaxperc.training.optim import OPTIMIZERS, SCHEDULES, make_optimizer
from jaxperc.training.sharding import model_mesh
from jaxperc.training.state import STOP_REASONS

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "STOP_REASONS",
    "Grid",
    "Progress",
    "RunState",
    "TrainResult",
    "enable_compilation_cache",
    "load_run_state",
    "make_grid",
    "make_optimizer",
    "model_mesh",
    "save_run_state",
    "train",
    "train_many",
]
