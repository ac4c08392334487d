"""The estimator's tests leave the user's persistent compilation cache alone.

``PerceptronClassifier`` turns JAX's persistent cache on when nobody configured
one; ``JAXPERC_CACHE_DIR=off`` is the documented way to keep it off, so the tests
compile in memory only (``test_compilation_cache_is_on_by_default`` checks the
default in a subprocess).
"""

import os

os.environ.setdefault("JAXPERC_CACHE_DIR", "off")
