"""Errors and warnings jaxperc raises at its edges (arguments, data, configs).

Every error is a ``ValueError`` subclass whose message is one line that names the
offending value and says how to fix it, so the CLI can print it without a traceback.
The CLI's form is ``<file>: <key or row/column>: <what is wrong>; <how to fix>``.
"""

import difflib
from collections.abc import Callable, Iterable


class JaxpercError(ValueError):
    """Base class: a bad argument, data file or config, reported in one line.

    ``argument`` names the function argument at fault when the raiser knows it
    (``"n_samples"``, ``"target"``), so a caller can point at its own setting.
    """

    def __init__(self, message: str = "", *, argument: str | None = None):
        super().__init__(message)
        self.argument = argument


class DataError(JaxpercError):
    """Data that cannot be used: missing or malformed file, bad values, bad split."""


class ConfigError(JaxpercError):
    """An experiment config that cannot be run: unknown key, wrong type or value."""


class CheckpointError(JaxpercError):
    """A checkpoint or run folder that is corrupt or does not match the run."""


class JaxpercWarning(UserWarning):
    """Something worth knowing that does not stop a run (one line, like errors).

    ``python -W error`` (or ``warnings.simplefilter("error", JaxpercWarning)``)
    turns every one of them into an exception.
    """


class NotConvergedWarning(JaxpercWarning):
    """Some models stopped at ``max_epochs`` before their stopping rule, or diverged."""


def unknown_choice(
    name: str,
    value: object,
    choices: Iterable[object],
    *,
    subject: str | None = None,
    quote: Callable[[str], str] = repr,
    listing: str = "choose from",
    limit: int = 30,
) -> str:
    """The one message for a value outside its allowed choices.

    ``unknown_choice("loss", "mes", ["mse", "bce"])`` gives
    ``loss='mes' is not known; did you mean 'mse'? choose from 'mse', 'bce'``.
    Every "unknown X" error in jaxperc is built here, so they all read alike.

    Args:
      name, value: what was asked for, e.g. ``"loss"`` and ``"mes"``.
      choices: the allowed values.
      subject: replaces the opening ``name=value is not known``, e.g.
        ``'no column named "lable"'``.
      quote: how values and choices are quoted (``repr``, or double quotes).
      listing: the words before the list of choices.
      limit: at most this many choices are listed.
    """
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
    hint = f"did you mean {quote(close[0])}? " if close else ""
    listed = ", ".join(quote(o) for o in options[:limit])
    if len(options) > limit:
        listed += f", ... ({len(options) - limit} more)"
    opening = subject if subject is not None else f"{name}={value!r} is not known"
    return f"{opening}; {hint}{listing} {listed}"
