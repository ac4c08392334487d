"""Errors jaxperc raises at its edges (arguments, data, configs).

Every error is a ``ValueError`` subclass whose message is one line that names the
offending value and says how to fix it, so the CLI can print it without a traceback.
"""


class JaxpercError(ValueError):
    """Base class: a bad argument, data file or config, reported in one line."""


class DataError(JaxpercError):
    """Data that cannot be used: missing or malformed file, bad values, bad split."""


class ConfigError(JaxpercError):
    """An experiment config that cannot be run: unknown key, wrong type or value."""


class CheckpointError(JaxpercError):
    """A checkpoint or run folder that is corrupt or does not match the run."""
