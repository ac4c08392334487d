"""Errors jaxperc raises at its edges (arguments, data, configs).

Every error is a ``ValueError`` subclass whose message is one line that names the
offending value and says how to fix it, so the CLI can print it without a traceback.
"""

import difflib
from collections.abc import Iterable


class JaxpercError(ValueError):
    """Base class: a bad argument, data file or config, reported in one line."""


class DataError(JaxpercError):
    """Data that cannot be used: missing or malformed file, bad values, bad split."""


class ConfigError(JaxpercError):
    """An experiment config that cannot be run: unknown key, wrong type or value."""


class CheckpointError(JaxpercError):
    """A checkpoint or run folder that is corrupt or does not match the run."""


class JaxpercWarning(UserWarning):
    """Base class of jaxperc's warnings: one line each; ``-W error`` raises them."""


class NotConvergedWarning(JaxpercWarning):
    """Some models stopped at ``max_epochs`` before their stopping rule, or diverged."""


def unknown_choice(name: str, value: object, choices: Iterable[object]) -> str:
    """The one message for a value outside its allowed choices.

    ``unknown_choice("loss", "mes", ["mse", "bce"])`` gives
    ``loss='mes' is not known; did you mean 'mse'? choose from 'mse', 'bce'``.
    Every "unknown X" error in jaxperc is built here, so they all read alike.
    """
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(repr(o) for o in options)
    return f"{name}={value!r} is not known; {hint}choose from {listed}"
