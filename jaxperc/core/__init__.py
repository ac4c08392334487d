"""One perceptron, pure JAX: the model, activations, losses and hand-derived gradients.

The bottom layer. It imports only JAX and :mod:`jaxperc.errors`; everything else in
jaxperc builds on it.
"""

from jaxperc.core.activations import ACTIVATIONS, Activation, get_activation
from jaxperc.core.gradcheck import GradCheckReport, gradient_check, random_problem
from jaxperc.core.grads import GRADS, autodiff_grad, delta, manual_grad, published_grad
from jaxperc.core.losses import LOSSES, Loss, cost, get_loss
from jaxperc.core.model import Params, forward, init_params, predict

__all__ = [
    "ACTIVATIONS",
    "GRADS",
    "LOSSES",
    "Activation",
    "GradCheckReport",
    "Loss",
    "Params",
    "autodiff_grad",
    "cost",
    "delta",
    "forward",
    "get_activation",
    "get_loss",
    "gradient_check",
    "init_params",
    "manual_grad",
    "predict",
    "published_grad",
    "random_problem",
]
