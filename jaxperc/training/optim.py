"""Optimizers by name: the derivation's plain gradient descent, and optax's.

An :class:`Optimizer` works on one model's :class:`~jaxperc.model.Params`; the
training engine maps it over many models with ``jax.vmap``. Its ``update`` returns a
*direction*; the engine applies ``params + α_t · direction`` with each model's own
learning rate ``α`` (a traced value, so it may differ per model) times the
schedule's factor at step t. Optax optimizers are built with ``learning_rate=1``
for that reason, which leaves their math unchanged: each ends in a scaling by the
learning rate. L-BFGS picks its own step by line search and ignores ``α``.

Float keyword arguments (``momentum``, ``b1``, ``weight_decay`` …) go through
``optax.inject_hyperparams`` so that they, too, can differ per model.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxperc.core.model import Params
from jaxperc.errors import JaxpercError, unknown_choice

OPTAX_FACTORIES: dict[str, Callable[..., optax.GradientTransformation]] = {
    "sgd": optax.sgd,
    "momentum": lambda learning_rate, momentum=0.9, nesterov=False: optax.sgd(
        learning_rate, momentum=momentum, nesterov=nesterov
    ),
    "nesterov": lambda learning_rate, momentum=0.9: optax.sgd(
        learning_rate, momentum=momentum, nesterov=True
    ),
    "adam": optax.adam,
    "adamw": optax.adamw,
    "nadam": optax.nadam,
    "rmsprop": optax.rmsprop,
    "adagrad": optax.adagrad,
}
OPTIMIZERS = ("gd", *OPTAX_FACTORIES, "lbfgs")
SCHEDULES = ("constant", "cosine", "exponential", "warmup_cosine", "linear")


class Optimizer(NamedTuple):
    """One model's optimizer: ``init(params, hp)`` and ``update(...)``.

    ``hp`` maps the names in ``float_hparams`` to scalars (one model's values).
    ``update(grads, state, params, hp, value, value_fn) -> (direction, state)``.
    """

    name: str
    init: Callable[[Params, dict[str, jax.Array]], Any]
    update: Callable[..., tuple[Params, Any]]
    uses_learning_rate: bool
    float_hparams: tuple[str, ...]


def _is_float(value: Any) -> bool:
    return isinstance(value, float) or (
        hasattr(value, "dtype") and jnp.issubdtype(value.dtype, jnp.floating)
    )


def _gd() -> Optimizer:
    def init(params, hp):
        return ()

    def update(grads, state, params, hp, value, value_fn):
        return jax.tree.map(jnp.negative, grads), state

    return Optimizer("gd", init, update, True, ())


def _optax(name: str, kwargs: dict[str, Any]) -> Optimizer:
    factory = OPTAX_FACTORIES[name]
    floats = tuple(k for k, v in kwargs.items() if _is_float(v))
    static = {k: v for k, v in kwargs.items() if k not in floats}
    injected = optax.inject_hyperparams(factory, static_args=tuple(static))

    def build(hp):
        return injected(learning_rate=1.0, **static, **hp)

    try:  # fail at the edge on bad keyword arguments, not inside jit
        build({k: kwargs[k] for k in floats})
    except TypeError as err:
        raise JaxpercError(
            f"optimizer {name!r} does not accept these arguments {sorted(kwargs)}: "
            f"{err}; see optax.{name if name in dir(optax) else 'sgd'} for its options"
        ) from None

    def init(params, hp):
        return build(hp).init(params)

    def update(grads, state, params, hp, value, value_fn):
        return build(hp).update(grads, state, params)

    return Optimizer(name, init, update, True, floats)


def _lbfgs(kwargs: dict[str, Any]) -> Optimizer:
    if "learning_rate" in kwargs:
        raise JaxpercError(
            "optimizer 'lbfgs' chooses its step by line search; remove learning_rate "
            "from its arguments"
        )
    try:
        opt = optax.lbfgs(**kwargs)
    except TypeError as err:
        raise JaxpercError(
            f"optimizer 'lbfgs' rejects {sorted(kwargs)}: {err}"
        ) from None

    def init(params, hp):
        return opt.init(params)

    def update(grads, state, params, hp, value, value_fn):
        return opt.update(
            grads, state, params, value=value, grad=grads, value_fn=value_fn
        )

    return Optimizer("lbfgs", init, update, False, ())


def make_optimizer(name: str = "gd", kwargs: dict[str, Any] | None = None) -> Optimizer:
    """Build an optimizer from its name and keyword arguments.

    Args:
      name: ``"gd"`` (plain gradient descent, the default), ``"sgd"``,
        ``"momentum"``, ``"nesterov"``, ``"adam"``, ``"adamw"``, ``"nadam"``,
        ``"rmsprop"``, ``"adagrad"`` or ``"lbfgs"``.
      kwargs: the optax optimizer's keyword arguments other than the learning
        rate, e.g. ``{"momentum": 0.9, "nesterov": True}`` for ``"sgd"``.

    Returns:
      An :class:`Optimizer`.
    """
    kwargs = dict(kwargs or {})
    if name == "gd":
        if kwargs:
            raise JaxpercError(
                f"optimizer 'gd' takes no arguments, got {sorted(kwargs)}; "
                "use optimizer='sgd' for momentum"
            )
        return _gd()
    if name == "lbfgs":
        return _lbfgs(kwargs)
    if name in OPTAX_FACTORIES:
        if "learning_rate" in kwargs:
            raise JaxpercError(
                "give the learning rate as learning_rate=..., not in optimizer_kwargs"
            )
        return _optax(name, kwargs)
    raise JaxpercError(unknown_choice("optimizer", name, OPTIMIZERS))


def check_learning_rate(opt: Optimizer, learning_rate) -> None:
    """The one rule for L-BFGS and the learning rate: it picks its own step."""
    if not opt.uses_learning_rate and np.ndim(learning_rate) > 0:
        raise JaxpercError(
            f"optimizer {opt.name!r} chooses its own step by line search; "
            "do not sweep learning_rate"
        )


def make_schedule(
    name: str | None, kwargs: dict[str, Any] | None, total_steps: int
) -> Callable[[jax.Array], jax.Array]:
    """The learning-rate factor at step t (1 at t = 0 unless warming up).

    Args:
      name: ``None``/``"constant"``; ``"cosine"`` (``alpha``: final fraction,
        default 0); ``"exponential"`` (``decay_rate``, default 0.5, per
        ``transition_steps``, default total/10); ``"warmup_cosine"``
        (``warmup_steps``, default total/10; ``alpha``); ``"linear"``
        (``end_value``, default 0).
      kwargs: the schedule's options above.
      total_steps: the number of updates the run may make.

    Returns:
      ``factor(step) -> scalar``, an optax schedule with peak value 1.
    """
    kwargs = dict(kwargs or {})
    total = max(int(total_steps), 1)
    try:
        if name in (None, "constant"):
            if kwargs:
                raise JaxpercError(f"schedule 'constant' takes no options: {kwargs}")
            return optax.constant_schedule(1.0)
        if name == "cosine":
            return optax.cosine_decay_schedule(1.0, total, **kwargs)
        if name == "exponential":
            kwargs.setdefault("transition_steps", max(total // 10, 1))
            kwargs.setdefault("decay_rate", 0.5)
            return optax.exponential_decay(1.0, **kwargs)
        if name == "warmup_cosine":
            kwargs.setdefault("warmup_steps", max(total // 10, 1))
            alpha = kwargs.pop("alpha", 0.0)
            return optax.warmup_cosine_decay_schedule(
                0.0, 1.0, decay_steps=total, end_value=alpha, **kwargs
            )
        if name == "linear":
            end = kwargs.pop("end_value", 0.0)
            return optax.linear_schedule(1.0, end, total, **kwargs)
    except TypeError as err:
        raise JaxpercError(
            f"schedule {name!r} rejects {sorted(kwargs)}: {err}"
        ) from None
    raise JaxpercError(unknown_choice("schedule", name, SCHEDULES))
