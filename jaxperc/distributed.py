"""Multi-process runs: the documented import path ``jaxperc.distributed``.

The implementation lives in :mod:`jaxperc.training.distributed`.
"""

from jaxperc.training.distributed import initialize, is_writer

__all__ = ["initialize", "is_writer"]
