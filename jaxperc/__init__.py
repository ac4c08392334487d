"""jaxperc: the single-neuron perceptron in JAX.

Hand-derived chain-rule gradients checked against ``jax.grad``, whole training loops
compiled with ``jax.jit``, and many perceptrons trained at once with ``jax.vmap``.
"""

from jaxperc.activations import ACTIVATIONS, get_activation
from jaxperc.cache import enable_compilation_cache
from jaxperc.checkpoint import RunState, load_run_state, save_run_state
from jaxperc.engine import STOP_REASONS
from jaxperc.errors import CheckpointError, ConfigError, DataError, JaxpercError
from jaxperc.gradcheck import GradCheckReport, gradient_check, random_problem
from jaxperc.grads import autodiff_grad, delta, manual_grad, published_grad
from jaxperc.grid import Grid, make_grid
from jaxperc.losses import LOSSES, cost
from jaxperc.model import Params, forward, init_params, predict
from jaxperc.optim import OPTIMIZERS, SCHEDULES, make_optimizer
from jaxperc.runner import Progress, TrainResult
from jaxperc.sharding import model_mesh
from jaxperc.train import train, train_many

__version__ = "0.1.0"

# the experiment layer sits on top of the names above, so it is imported last
from jaxperc.config import Config, load_config
from jaxperc.experiment import RunResult, run_experiment

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "STOP_REASONS",
    "CheckpointError",
    "Config",
    "ConfigError",
    "DataError",
    "GradCheckReport",
    "Grid",
    "JaxpercError",
    "Params",
    "Progress",
    "RunResult",
    "RunState",
    "TrainResult",
    "__version__",
    "autodiff_grad",
    "cost",
    "delta",
    "enable_compilation_cache",
    "forward",
    "get_activation",
    "gradient_check",
    "init_params",
    "load_config",
    "load_run_state",
    "make_grid",
    "make_optimizer",
    "manual_grad",
    "model_mesh",
    "predict",
    "published_grad",
    "random_problem",
    "run_experiment",
    "save_run_state",
    "train",
    "train_many",
]
