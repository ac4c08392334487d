"""Optimizers by name: the derivation's plain gradient descent, and optax's.

An :class:`Optimizer` works on one model's :class:`~jaxperc.model.Params`; the
training engine maps it over many models with ``jax.vmap``. Its ``update`` returns a
*direction*; the engine applies ``params + α_t · direction`` with each model's own
learning rate ``α`` (a traced value, so it may differ per model) times the
schedule's factor at step t. Optax optimizers are built with ``learning_rate=1``
for that reason, which leaves their math unchanged: each ends in a scaling by the
learning rate. L-BFGS picks its own step by line search and ignores ``α``;
so does ``"newton"``, whose step solves with the Hessian that the training pass
computes beside the gradient (:mod:`jaxperc.training.newton`).

Float keyword arguments (``momentum``, ``b1``, ``weight_decay`` …) go through
``optax.inject_hyperparams`` so that they, too, can differ per model.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxperc.core.model import Params
from jaxperc.errors import JaxpercError, unknown_choice
from jaxperc.training.newton import newton_init

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
OPTIMIZERS = ("gd", *OPTAX_FACTORIES, "lbfgs", "newton")
INT32_MAX = 2**31 - 1  # step and epoch counters are int32 inside the compiled loop
# schedule name → (optax factory, its argument fixed at 1: the peak factor)
SCHEDULE_FACTORIES: dict[str, tuple[Callable[..., Any], str | None]] = {
    "constant": (optax.constant_schedule, "value"),
    "cosine": (optax.cosine_decay_schedule, "init_value"),
    "exponential": (optax.exponential_decay, "init_value"),
    "warmup_cosine": (optax.warmup_cosine_decay_schedule, "peak_value"),
    "linear": (optax.linear_schedule, "init_value"),
}
SCHEDULES = tuple(SCHEDULE_FACTORIES)
# options whose optax annotation does not say how to read a config value
_UNTYPED = {"momentum": float, "nesterov": bool}


def _option_kinds(factory, fixed: tuple[str, ...]) -> dict[str, type]:
    """name → float, int or bool for each option of an optax factory a config may
    set, read from its signature (dtypes, masks and line searches are left out)."""
    return dict(_signature_kinds(factory, fixed))  # a copy: callers may add to it


@functools.cache  # reading a signature costs about 0.1 ms, on every fit
def _signature_kinds(factory, fixed: tuple[str, ...]) -> tuple[tuple[str, type], ...]:
    kinds = {}
    for p in inspect.signature(factory).parameters.values():
        if p.name in fixed or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        hint = p.annotation
        text = "" if hint is inspect.Parameter.empty else str(hint)
        if hint is bool or hint is int or hint is float:
            kinds[p.name] = hint
        elif text.startswith("typing.Union[typing.Any"):
            continue  # a mask or a dtype: not a config value
        elif "numpy.number" in text or text.startswith("typing.Union[float"):
            kinds[p.name] = float
        elif not text and p.name in _UNTYPED:
            kinds[p.name] = _UNTYPED[p.name]
    return tuple(kinds.items())


def optimizer_options(name: str) -> dict[str, type]:
    """The options ``optimizer_kwargs`` may hold for an optimizer, with their types."""
    if name == "lbfgs":
        return _option_kinds(optax.lbfgs, ("learning_rate",))
    if name in OPTAX_FACTORIES:
        return _option_kinds(OPTAX_FACTORIES[name], ("learning_rate",))
    return {}


def schedule_options(name: str | None) -> dict[str, type]:
    """The options ``schedule_kwargs`` may hold for a schedule, with their types."""
    factory, peak = SCHEDULE_FACTORIES.get(name or "constant", (None, None))
    if factory is None:
        return {}
    kinds = _option_kinds(factory, (peak,))
    if name == "warmup_cosine":
        kinds["alpha"] = float  # the final fraction, as for "cosine"
    return kinds


def check_options(what: str, options: dict[str, type], kwargs: dict) -> dict:
    """``kwargs`` checked by name and type against ``options`` (name → type).

    Whole numbers given for float options become floats (so ``b1 = 1`` is a
    number like ``b1 = 1.0``). ``what`` names the owner, e.g. ``"optimizer 'adam'"``.

    Returns:
      The checked keyword arguments.
    """
    out = {}
    for key, value in kwargs.items():
        if key not in options:
            if not options:
                raise JaxpercError(f"{what} takes no options, got {key!r}")
            raise JaxpercError(
                unknown_choice(
                    "option",
                    key,
                    sorted(options),
                    subject=f"{what} has no option {key!r}",
                    listing="its options are",
                )
            )
        kind = options[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is float and number:
            value = float(value)
        elif kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
        if ok and kind is float:
            ok = bool(np.isfinite(value))
        elif ok and kind is int:
            ok = 0 <= value <= INT32_MAX
        if not ok:
            shown = {
                float: "a finite number",
                int: f"an integer in 0..{INT32_MAX}",
                bool: "true or false",
            }
            raise JaxpercError(
                f"option {key!r} of {what} must be {shown[kind]}, got {value!r}"
            )
        out[key] = value
    return out


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
    floats = tuple(
        k for k, v in kwargs.items() if _is_float(v) or isinstance(v, np.ndarray)
    )
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


def _newton() -> Optimizer:
    def init(params, hp):
        return newton_init(params)

    def update(grads, state, params, hp, value, value_fn):
        raise JaxpercError(
            "optimizer 'newton' needs the Hessian: train_many computes it in the "
            "same pass (jaxperc.training.newton), a stand-alone update cannot"
        )

    return Optimizer("newton", init, update, False, ())


def make_optimizer(name: str = "gd", kwargs: dict[str, Any] | None = None) -> Optimizer:
    """Build an optimizer from its name and keyword arguments.

    Args:
      name: ``"gd"`` (plain gradient descent, the default), ``"sgd"``,
        ``"momentum"``, ``"nesterov"``, ``"adam"``, ``"adamw"``, ``"nadam"``,
        ``"rmsprop"``, ``"adagrad"``, ``"lbfgs"`` or ``"newton"`` (no options;
        cross-entropy only).
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
    if name not in OPTIMIZERS:
        raise JaxpercError(unknown_choice("optimizer", name, OPTIMIZERS))
    if name == "lbfgs":
        return _lbfgs(_checked_kwargs(name, kwargs))
    if name == "newton":
        if kwargs:
            raise JaxpercError(
                f"optimizer 'newton' takes no arguments, got {sorted(kwargs)}; its "
                "step is the Newton step, damped only where the cost would rise"
            )
        return _newton()
    if "learning_rate" in kwargs:
        raise JaxpercError(
            "give the learning rate as learning_rate=..., not in optimizer_kwargs"
        )
    checked = _checked_kwargs(name, kwargs)
    try:  # scalar options: build once per distinct setting (fits repeat them)
        return _cached_optax(name, tuple(sorted(checked.items())))
    except TypeError:  # unhashable (per-model arrays): build afresh
        return _optax(name, checked)


@functools.cache
def _cached_optax(name: str, items: tuple) -> Optimizer:
    return _optax(name, dict(items))


def _checked_kwargs(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Options checked against the optax signature before anything compiles;
    per-model arrays (swept values) are checked by name only."""
    if name == "lbfgs" and "learning_rate" in kwargs:
        raise JaxpercError(
            "optimizer 'lbfgs' chooses its step by line search; remove "
            "learning_rate from its arguments"
        )
    options, what = optimizer_options(name), f"optimizer {name!r}"
    scalars = {k: v for k, v in kwargs.items() if not hasattr(v, "dtype")}
    out = {**kwargs, **check_options(what, options, scalars)}
    check_options(what, options, {k: 1.0 for k in kwargs if k not in scalars})
    return out


def check_learning_rate(opt: Optimizer, learning_rate) -> None:
    """The one rule for L-BFGS and the learning rate: it picks its own step."""
    if not opt.uses_learning_rate and np.ndim(learning_rate) > 0:
        raise JaxpercError(
            f"optimizer {opt.name!r} chooses its own step (a line search, or "
            "Newton's step); do not sweep learning_rate"
        )


def make_schedule(
    name: str | None, kwargs: dict[str, Any] | None, total_steps: int
) -> Callable[[jax.Array], jax.Array]:
    """The learning-rate factor at step t (1 at t = 0 unless warming up).

    Every option of the optax schedule may be set except its peak value, which is
    1 (the learning rate gives the scale). Defaults that depend on the run:

    * ``"cosine"``: ``decay_steps`` = total steps; ``alpha`` (final fraction) 0.
    * ``"exponential"``: ``transition_steps`` = total/10, ``decay_rate`` = 0.5.
    * ``"warmup_cosine"``: ``warmup_steps`` = total/10, ``decay_steps`` = total,
      ``init_value`` = 0; ``alpha`` is another name for ``end_value``.
    * ``"linear"``: ``transition_steps`` = total, ``end_value`` = 0.

    Args:
      name: ``None``/``"constant"``, ``"cosine"``, ``"exponential"``,
        ``"warmup_cosine"`` or ``"linear"``.
      kwargs: the schedule's options (see :func:`schedule_options`).
      total_steps: the number of updates the run may make.

    Returns:
      ``factor(step) -> scalar``, an optax schedule with peak value 1.
    """
    if name is not None and name not in SCHEDULE_FACTORIES:
        raise JaxpercError(unknown_choice("schedule", name, SCHEDULES))
    name = name or "constant"
    kwargs = check_options(
        f"schedule {name!r}", schedule_options(name), dict(kwargs or {})
    )
    total = max(int(total_steps), 1)
    tenth = max(total // 10, 1)
    defaults = {
        "constant": {},
        "cosine": {"decay_steps": total},
        "exponential": {"transition_steps": tenth, "decay_rate": 0.5},
        "warmup_cosine": {"warmup_steps": tenth, "decay_steps": total},
        "linear": {"transition_steps": total, "end_value": 0.0},
    }[name]
    if name == "warmup_cosine":
        defaults["init_value"] = 0.0
        if "alpha" in kwargs:
            kwargs["end_value"] = kwargs.pop("alpha")
    factory, peak = SCHEDULE_FACTORIES[name]
    try:
        return factory(**{peak: 1.0, **defaults, **kwargs})
    except (TypeError, ValueError) as err:
        raise JaxpercError(f"schedule {name!r} rejects {kwargs}: {err}") from None
