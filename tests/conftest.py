"""Strict settings for the whole test session.

* ``jax_numpy_rank_promotion = "raise"``: an operation that would silently broadcast
  arrays of different ranks (``[n]`` against ``[n, 1]``, ``[B, M]`` against ``[M]``)
  fails instead. Write the broadcast out (``a[None, :]``) where it is meant.
* Warnings are errors (``filterwarnings`` in pyproject.toml).
* Hypothesis: no per-example deadline (the first call of a shape compiles), and a
  modest default number of examples so the suite stays fast on two cores.
"""

import jax
from hypothesis import HealthCheck, settings

jax.config.update("jax_numpy_rank_promotion", "raise")

settings.register_profile(
    "jaxperc",
    deadline=None,
    max_examples=20,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("jaxperc")
