"""When running out of epochs is a failure to converge, and the one warning it gets.

The rule itself is :attr:`TrainOptions.has_stopping_rule`
(:mod:`jaxperc.training.options`); the experiment layer's summary and table read
the same rule, so the Python warning, the summary's note and the CLI's ``!`` mark
always agree.
"""

import os
import sys
import warnings

import numpy as np

from jaxperc.errors import NotConvergedWarning
from jaxperc.training.driver import TrainResult
from jaxperc.training.options import TrainOptions


def warn_unconverged(result: TrainResult, o: TrainOptions) -> None:
    """One :class:`NotConvergedWarning` line when models diverged or ran out of epochs.

    Running out of epochs counts only when a stopping rule could have fired
    (tol or gtol > 0, or the step activation's zero errors): with ``tol=0`` and
    ``gtol=0`` a fixed number of epochs is what was asked for.
    """
    m = len(result.stop_reason)
    parts = []
    n_div = int(np.sum(result.diverged))
    if n_div:
        parts.append(f"{n_div} of {m} models diverged (lower learning_rate)")
    n_max = (
        int(np.sum(result.stop_reason == "max_epochs")) if o.has_stopping_rule else 0
    )
    if n_max:
        parts.append(
            f"{n_max} of {m} models stopped at max_epochs={o.max_epochs} before "
            "converging (raise max_epochs or loosen tol)"
        )
    if parts:
        warnings.warn("; ".join(parts), NotConvergedWarning, stacklevel=_outside())


def _outside() -> int:
    """The stack level of the first caller outside the jaxperc package: the warning
    points at the user's line, whichever public function they called."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        package + os.sep
    ):
        frame, level = frame.f_back, level + 1
    return level
