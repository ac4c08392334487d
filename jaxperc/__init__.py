"""jaxperc: the single-neuron perceptron in JAX.

Hand-derived chain-rule gradients checked against ``jax.grad``, whole training loops
compiled with ``jax.jit``, and many perceptrons trained at once with ``jax.vmap``.

This module is the facade: it re-exports the public names of the layers below
(:mod:`jaxperc.core`, :mod:`jaxperc.training`, :mod:`jaxperc.experiment`); nothing
inside the package imports it.
"""

import gc as _gc

from jaxperc import core, experiment, training
from jaxperc._version import __version__
from jaxperc.core import *  # noqa: F403
from jaxperc.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    JaxpercError,
    JaxpercWarning,
)
from jaxperc.experiment import *  # noqa: F403
from jaxperc.training import *  # noqa: F403

__all__ = [
    *core.__all__,
    *training.__all__,
    *experiment.__all__,
    "CheckpointError",
    "ConfigError",
    "DataError",
    "JaxpercError",
    "JaxpercWarning",
    "__version__",
]

# Importing JAX, NumPy, optax and SciPy leaves about 150,000 long-lived objects,
# and Python's full (generation 2) collection scans every one of them: about 85 ms
# on a 2-core machine, and the first one lands in the first train call, while it
# traces the loop. Frozen now, they are skipped by every later collection
# (reference counting still frees them); gc.unfreeze() undoes it.
_gc.freeze()
